/*
 * service-doctor.c - `orchestra doctor`: this machine's set-up, one check
 * a line, each done for real (the database opened, the backend asked,
 * `serve` and the SMTP server spoken to) and within a few seconds, each
 * saying OK or what to fix.  The checks are one table, in the order an
 * admin would fix them; a check whose prerequisite failed is skipped.
 */
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/backend.h"
#include "notify/notify.h"
#include "util/cgroup.h"
#include "service/service-int.h"

/* How long `serve` may take to answer /healthz. */
#define DOCTOR_SERVE_TIMEOUT_MS 3000L
/* The most names one line lists. */
#define DOCTOR_MAX_NAMES 8

/* One run: what the checks before found, for those after. */
struct doctor {
	const struct config *cfg;
	struct service svc; /* open once "database" passed */
	bool db_open;
	struct backend *be; /* open once "backend" passed */
	pid_t pilot_pid;    /* the pilot's, where it runs here; else 0 */
};

/* 0 for OK or a negative for FAIL, one line in `text`; SKIP is 1. */
#define DOCTOR_SKIPPED 1

struct doctor_check {
	const char *name;
	bool needs_db;
	bool needs_backend;
	int (*run)(struct doctor *d, struct buf *text);
};

const char *
service_doctor_state_name(enum doctor_state s)
{
	switch (s) {
	case DOCTOR_OK:
		return "ok";
	case DOCTOR_FAIL:
		return "fail";
	case DOCTOR_SKIP:
		return "skip";
	}
	BUG("doctor state %d", (int)s);
}

void
service_doctor_release(doctor_result_vec *v)
{
	struct doctor_result *r;

	VEC_FOREACH (r, v)
		free(r->text);
	VEC_RELEASE(v);
}

static int
service_doctor_database(struct doctor *d, struct buf *text)
{
	char *file = store_url_file(d->cfg->db_url);
	int64_t version = 0;
	int ret;

	ret = service_open(&d->svc, d->cfg, NULL, text);
	if (ret == 0)
		ret = store_schema_version(d->svc.st, &version, text);
	if (ret < 0) {
		if (ret != ERR_NOTFOUND)
			buf_adds(text, ": check ORCHESTRA_DB (key db)");
		goto out;
	}
	d->db_open = true;
	if (file != NULL)
		buf_addf(text, "sqlite %s", file);
	else
		buf_adds(text, "postgresql");
	buf_addf(text, ", reachable, schema %lld (migrated)",
	    (long long)version);
out:
	free(file);
	return ret;
}

/* 0 when `path` has none of the `bad` mode bits, 1 when it does not
 * exist, else a FAIL text saying to `fix` it. */
static int
service_doctor_mode(const char *path, mode_t bad, const char *fix,
    struct buf *text)
{
	struct stat sb;

	if (stat(path, &sb) < 0)
		return errno == ENOENT
		    ? 1
		    : err_set(text, ERR_UNAVAILABLE, "cannot stat '%s': %s",
		          path, strerror(errno));
	if ((sb.st_mode & bad) == 0)
		return 0;
	return err_set(text, ERR_DENIED, "'%s' is mode %04o: %s", path,
	    (unsigned)(sb.st_mode & 07777), fix);
}

/*
 * The database, its WAL and shared memory are the service's alone
 * (0600), in a directory nobody else may write to.
 */
static int
service_doctor_files(struct doctor *d, struct buf *text)
{
	static const char *const exts[] = { "", "-wal", "-shm" };
	char *file = store_url_file(d->cfg->db_url), *slash;
	struct buf path = BUF_INIT;
	size_t i;
	int ret = 0;

	if (file == NULL) {
		buf_adds(text, "the PostgreSQL server keeps them");
		return DOCTOR_SKIPPED;
	}
	for (i = 0; i < sizeof(exts) / sizeof(exts[0]) && ret == 0; i++) {
		buf_reset(&path);
		buf_addf(&path, "%s%s", file, exts[i]);
		ret = service_doctor_mode(path.data, 077,
		    "others may read the database: chmod 600 it", text);
		if (ret == 1 && i == 0) {
			buf_addf(text, "no file '%s'", file);
			ret = DOCTOR_SKIPPED;
			goto out;
		}
		if (ret == 1)
			ret = 0; /* no -wal or -shm now */
	}
	slash = strrchr(file, '/');
	if (ret == 0 && slash != NULL && slash != file) {
		*slash = '\0';
		ret = service_doctor_mode(file, 022,
		    "others may replace the database: chmod go-w it", text);
		*slash = '/';
	}
	if (ret == 0)
		buf_addf(text,
		    "'%s' and its -wal, -shm are the service's alone", file);
out:
	buf_release(&path);
	free(file);
	return ret;
}

static int
service_doctor_pilot(struct doctor *d, struct buf *text)
{
	struct pilot_beat b;
	int64_t now = time_now_ms();
	char *here;
	int ret;

	ret = store_pilot_beat_get(d->svc.st, &b, text);
	if (ret < 0)
		return ret;
	if (pilot_beat_down(&b, now, false, text)) {
		buf_adds(text,
		    ": start it (orchestra pilot, or systemctl "
		    "start orchestra-pilot)");
		return ERR_UNAVAILABLE;
	}
	buf_addf(text, "running on %s, pid %lld, last cycle %llds ago", b.host,
	    (long long)b.pid, (long long)((now - b.last_cycle_ms) / 1000));
	here = proc_node_name();
	if (strcmp(here, b.host) == 0 && b.pid > 1)
		d->pilot_pid = (pid_t)b.pid;
	free(here);
	return 0;
}

static int
service_doctor_backend(struct doctor *d, struct buf *text)
{
	int ret;

	ret = backend_open(&d->be, d->cfg, text);
	if (ret < 0) {
		buf_addf(text, " (backend %s)", d->cfg->backend);
		return ret;
	}
	buf_addf(text, "%s, opened (its settings read)", d->be->ops->name);
	return 0;
}

/* Can the backend run each user's jobs as the user's Unix account? */
static int
service_doctor_accounts(struct doctor *d, struct buf *text)
{
	account_vec users = VEC_INIT;
	struct proc_account pa;
	struct buf why = BUF_INIT, first = BUF_INIT;
	struct account *a;
	size_t nbad = 0;
	int ret;

	ret = store_account_list(d->svc.st, NULL, 0, &users, text);
	if (ret < 0)
		goto out;
	VEC_FOREACH (a, &users) {
		memset(&pa, 0, sizeof(pa));
		buf_reset(&why);
		if (d->be->ops->account != NULL)
			ret = d->be->ops->account(d->be, a->username,
			    a->unix_user, &pa, &why);
		else
			ret = proc_account_get(a->unix_user, &pa, &why);
		proc_account_release(&pa);
		if (ret == 0)
			continue;
		if (nbad++ == 0)
			buf_adds(&first, why.data);
	}
	if (nbad == 0) {
		buf_addf(text,
		    "%zu user%s, each with a Unix account its jobs "
		    "run as",
		    users.n, users.n == 1 ? "" : "s");
		ret = 0;
		goto out;
	}
	ret = err_set(text, ERR_DENIED, "%s", first.data);
	if (nbad > 1)
		buf_addf(text, " (and %zu more)", nbad - 1);
	buf_adds(text,
	    ": make the account, or orchestra user set NAME "
	    "--unix-user LOGIN");
out:
	account_vec_release(&users);
	buf_release(&why);
	buf_release(&first);
	return ret;
}

static const struct backend_node *
service_doctor_find(const backend_node_vec *v, const char *name)
{
	const struct backend_node *b;

	VEC_FOREACH (b, v)
		if (strcmp(b->name, name) == 0)
			return b;
	return NULL;
}

/* What is wrong with node `n` as the backend sees it (`b`), or NULL. */
static const char *
service_doctor_node_problem(const struct node *n, const struct backend_node *b)
{
	if (b == NULL)
		return "is not one the backend runs on";
	if (!b->ready)
		return "is not ready";
	if (b->memory_pressure)
		return "is under memory pressure";
	if (b->disk_pressure)
		return "is under disk pressure";
	if (b->gpus >= 0 && n->max_gpu_slots > b->gpus)
		return "has more GPU slots than the backend sees GPUs "
		       "(nvidia.com/gpu capacity: is the NVIDIA device plugin "
		       "running there?)";
	return NULL;
}

/*
 * The nodes the backend sees (on Kubernetes, the API's node list) against
 * the node table: each enabled node there, ready, with the GPUs its slots
 * count on.  Drained nodes are the admin's choice, not a fault.
 */
static int
service_doctor_nodes(struct doctor *d, struct buf *text)
{
	backend_node_vec seen = VEC_INIT;
	node_vec nodes = VEC_INIT;
	const struct backend_node *b;
	struct buf names = BUF_INIT;
	const char *problem;
	int64_t gpus = 0;
	bool gpus_known = false;
	size_t nready = 0;
	struct node *n;
	int ret;

	ret = d->be->ops->nodes(d->be, &seen, &names);
	if (ret < 0) {
		buf_addf(text, "the %s backend cannot list its nodes: %s",
		    d->be->ops->name, names.data);
		goto out;
	}
	buf_reset(&names);
	ret = store_node_list(d->svc.st, NULL, 0, &nodes, text);
	if (ret < 0)
		goto out;
	VEC_FOREACH (n, &nodes) {
		if (!n->enabled)
			continue;
		b = service_doctor_find(&seen, n->name);
		problem = service_doctor_node_problem(n, b);
		if (problem != NULL) {
			ret = err_set(text, ERR_UNAVAILABLE, "node '%s' %s",
			    n->name, problem);
			goto out;
		}
		if (nready++ >= DOCTOR_MAX_NAMES)
			continue;
		buf_addf(&names, "%s%s", nready > 1 ? ", " : "", n->name);
		if (b->gpus > 0)
			buf_addf(&names, " (%lld GPUs)", (long long)b->gpus);
	}
	if (nready == 0) {
		ret = err_set(text, ERR_UNAVAILABLE,
		    "no enabled node: orchestra node add, or node resume");
		goto out;
	}
	buf_addf(text, "%zu ready: %s%s; the backend sees %zu node%s", nready,
	    names.data, nready > DOCTOR_MAX_NAMES ? ", ..." : "", seen.n,
	    seen.n == 1 ? "" : "s");
	/* The local backend does not count GPUs (-1): nothing to say. */
	VEC_FOREACH (b, &seen) {
		if (b->gpus >= 0)
			gpus_known = true;
		if (b->gpus > 0)
			gpus += b->gpus;
	}
	if (gpus > 0)
		buf_addf(text, ", %lld GPUs", (long long)gpus);
	else if (gpus_known)
		buf_adds(text, ", no GPU (no nvidia.com/gpu capacity)");
	ret = 0;
out:
	backend_node_vec_release(&seen);
	node_vec_release(&nodes);
	buf_release(&names);
	return ret;
}

/* `serve` at ORCHESTRA_URL, else at `listen` (0.0.0.0 asked on loopback). */
static int
service_doctor_serve(struct doctor *d, struct buf *text)
{
	const char *remote = config_env(d->cfg, CONFIG_URL);
	const char *listen = d->cfg->listen;
	struct buf url = BUF_INIT;
	long status;
	int ret;

	if (remote != NULL && *remote != '\0') {
		buf_adds(&url, remote);
		while (url.len > 0 && url.data[url.len - 1] == '/')
			url.data[--url.len] = '\0';
	} else if (strncmp(listen, "0.0.0.0:", 8) == 0) {
		buf_addf(&url, "http://127.0.0.1%s", listen + 7);
	} else if (strncmp(listen, "[::]:", 5) == 0) {
		buf_addf(&url, "http://[::1]%s", listen + 4);
	} else {
		buf_addf(&url, "http://%s", listen);
	}
	buf_adds(&url, "/healthz");
	ret = service_remote_probe(url.data, config_env(d->cfg, CONFIG_CA_FILE),
	    DOCTOR_SERVE_TIMEOUT_MS, &status, text);
	if (ret == 0 && status != 200)
		ret = err_set(text, ERR_UNAVAILABLE,
		    "GET /healthz answered HTTP status %ld", status);
	buf_reset(&url);
	if (ret < 0)
		buf_adds(text,
		    ": start it (orchestra serve, or systemctl "
		    "start orchestra-serve), or set ORCHESTRA_URL (url) "
		    "or listen to where it runs");
	else
		buf_adds(text, "answers GET /healthz");
	buf_release(&url);
	return ret;
}

static int
service_doctor_mail(struct doctor *d, struct buf *text)
{
	struct buf shown = BUF_INIT;
	struct smtp *s;
	int ret;

	if (d->cfg->smtp_url == NULL) {
		buf_adds(text,
		    "off: no smtp_url (ORCHESTRA_SMTP_URL), nobody "
		    "is mailed");
		return DOCTOR_SKIPPED;
	}
	s = smtp_new(d->cfg->smtp_url, d->cfg->mail_from, d->cfg->smtp_ca);
	ret = smtp_check(s, text);
	smtp_free(s);
	if (ret < 0) {
		buf_adds(text,
		    ": check smtp_url (ORCHESTRA_SMTP_URL) and "
		    "smtp_ca");
		return ret;
	}
	util_redact_url(&shown, d->cfg->smtp_url);
	buf_addf(text,
	    "%s answers: greeting, EHLO, then TLS and login as "
	    "its URL asks, NOOP (no mail sent)",
	    shown.data);
	buf_release(&shown);
	return 0;
}

/*
 * Whether a job is held to the memory it was placed with (issue 19).  On
 * Kubernetes its container asks it as request and limit (kube-manifest.c),
 * and the kubelet enforces it.  On the local backend, where the pilot
 * finds a memory cgroup to put each job in (util/cgroup.h): the pilot's,
 * where it runs on this machine, else ours, which a pilot started from
 * here shares.  Where there is none, its memory places a job and nothing
 * more, and a job's peak is recorded all the same: not a failure, skipped
 * ("--"), saying why, so that doctor still exits 0.
 */
static int
service_doctor_memory(struct doctor *d, struct buf *text)
{
	struct buf why = BUF_INIT;
	struct cgroup cg;
	int ret;

	if (strcmp(d->be->ops->name, "local") != 0) {
		buf_addf(text,
		    "enforced by %s: each job's container asks the memory it "
		    "was placed with as its request and limit",
		    d->be->ops->name);
		return 0;
	}
	ret = cgroup_find(d->pilot_pid, &cg, &why);
	if (ret < 0 && d->pilot_pid > 0)
		ret = cgroup_find(0, &cg, &why);
	if (ret == 0) {
		buf_addf(text, "enforced (cgroup %s memory at %s)",
		    cgroup_kind_name(cg.kind), cg.dir);
		cgroup_release(&cg);
	} else {
		buf_addf(text,
		    "not enforced: %s; on the local backend a job's memory "
		    "places it, nothing more; its peak memory is recorded",
		    why.data);
		ret = DOCTOR_SKIPPED;
	}
	buf_release(&why);
	return ret;
}

/* In the order an admin fixes them: each needs the ones it names. */
static const struct doctor_check service_doctor_checks[] = {
	{ "database", false, false, service_doctor_database },
	{ "files", false, false, service_doctor_files },
	{ "pilot", true, false, service_doctor_pilot },
	{ "backend", false, false, service_doctor_backend },
	{ "accounts", true, true, service_doctor_accounts },
	{ "nodes", true, true, service_doctor_nodes },
	{ "memory", false, true, service_doctor_memory },
	{ "serve", false, false, service_doctor_serve },
	{ "mail", false, false, service_doctor_mail },
};

static void
service_doctor_add(doctor_result_vec *out, const char *check,
    enum doctor_state state, struct buf *text)
{
	struct doctor_result *r = VEC_ADD(out);
	char *nl;

	r->check = check;
	r->state = state;
	/* One line, whatever a library said. */
	while ((nl = strchr(text->data, '\n')) != NULL)
		*nl = ' ';
	r->text = buf_detach(text);
}

int
service_doctor(const struct config *cfg, const char *cfg_err,
    doctor_result_vec *out)
{
	const struct doctor_check *c;
	struct doctor d = { 0 };
	struct buf text = BUF_INIT;
	enum doctor_state state;
	int nfailed = 0, ret;
	size_t i;

	if (cfg_err != NULL) {
		buf_adds(&text, cfg_err);
		service_doctor_add(out, "config", DOCTOR_FAIL, &text);
		return 1;
	}
	if (cfg->conf_path != NULL)
		buf_addf(&text, "%s read", cfg->conf_path);
	else
		buf_adds(&text,
		    "no file (ORCHESTRA_CONF, else "
		    "/etc/orchestra/orchestra.conf): defaults and "
		    "the environment");
	service_doctor_add(out, "config", DOCTOR_OK, &text);
	d.cfg = cfg;
	for (i = 0; i <
	     sizeof(service_doctor_checks) / sizeof(service_doctor_checks[0]);
	     i++) {
		c = &service_doctor_checks[i];
		if ((c->needs_db && !d.db_open) ||
		    (c->needs_backend && d.be == NULL)) {
			buf_adds(&text,
			    c->needs_db && !d.db_open ? "needs the database"
			                              : "needs the backend");
			service_doctor_add(out, c->name, DOCTOR_SKIP, &text);
			continue;
		}
		ret = c->run(&d, &text);
		state = ret == DOCTOR_SKIPPED ? DOCTOR_SKIP
		    : ret < 0                 ? DOCTOR_FAIL
		                              : DOCTOR_OK;
		if (state == DOCTOR_FAIL)
			nfailed++;
		service_doctor_add(out, c->name, state, &text);
	}
	backend_close(d.be);
	service_close(&d.svc);
	buf_release(&text);
	return nfailed;
}
