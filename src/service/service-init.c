/*
 * service-init.c - `orchestra init`: the database, its first admin, and
 * this machine as a node.
 */
#include <errno.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "service/service-int.h"
#include "util/proc.h"

/*
 * mkdir -p: what it creates gets mode 0755, the last directory `mode`,
 * whatever the umask.
 */
static int
service_init_mkdirs(const char *path, mode_t mode, struct buf *err)
{
	char *p = xstrdup(path), *s, c;
	mode_t m;
	int ret = 0;

	for (s = p + 1; ret == 0; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		c = *s;
		*s = '\0';
		m = c == '\0' ? mode : 0755;
		if (mkdir(p, m) == 0 ? chmod(p, m) < 0 : errno != EEXIST)
			ret = err_set(err, ERR_UNAVAILABLE,
			    "cannot create directory '%s': %s", p,
			    strerror(errno));
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	return ret;
}

/* The login of the account running this (its uid when it has none). */
static char *
service_init_login(void)
{
	struct passwd *pw = getpwuid(geteuid());
	struct buf b = BUF_INIT;

	if (pw != NULL)
		return xstrdup(pw->pw_name);
	buf_addf(&b, "%ld", (long)geteuid());
	return buf_detach(&b);
}

/* GPUs listed by `nvidia-smi -L` ("GPU 0: …" lines); 0 without it. */
static int64_t
service_init_count_gpus(void)
{
	static const char *const argv[] = { "nvidia-smi", "-L", NULL };
	struct buf out = BUF_INIT, err = BUF_INIT;
	int64_t n = 0;
	const char *p;
	int status;

	if (proc_capture(argv, 1 << 16, &out, &status, &err) == 0 &&
	    status == 0) {
		for (p = out.data; p != NULL && *p != '\0';) {
			if (strncmp(p, "GPU ", 4) == 0)
				n++;
			p = strchr(p, '\n');
			if (p != NULL)
				p++;
		}
	}
	buf_release(&out);
	buf_release(&err);
	return n > PLACE_MAX_GPUS ? PLACE_MAX_GPUS : n;
}

int
service_init(struct service *svc, const struct config *cfg, const char *login,
    struct init_result *res, struct buf *err)
{
	struct account a = { 0 };
	struct node n = { 0 };
	struct store *st = NULL;
	struct event ev = { 0 };
	struct stat sb;
	char *file, *slash;
	long ncpu;
	int64_t avail;
	int ret;

	memset(res, 0, sizeof(*res));
	memset(svc, 0, sizeof(*svc));
	ret = service_check_username(login, err);
	if (ret < 0)
		return ret;
	/* Users reach their outputs below it, but list nothing. */
	ret = service_init_mkdirs(cfg->home, 0711, err);
	if (ret < 0)
		return ret;
	/* An SQLite file is made here, its directory too; a server's
	 * database is made by its admin (docs/postgresql.md). */
	file = store_url_file(cfg->db_url);
	if (file != NULL) {
		/* An empty file is no database yet: init makes it. */
		res->created_db = stat(file, &sb) < 0 || sb.st_size == 0;
		slash = strrchr(file, '/');
		if (slash != NULL && slash != file) {
			*slash = '\0';
			ret = service_init_mkdirs(file, 0700, err);
		}
		free(file);
		if (ret < 0)
			return ret;
	}
	ret = store_open(&st, cfg->db_url, true, err);
	if (ret < 0)
		return ret;
	ret = store_begin(st, err);
	if (ret < 0)
		goto out;
	ret = store_account_get(st, login, &a, err);
	if (ret == ERR_NOTFOUND) {
		account_release(&a);
		a.username = xstrdup(login);
		a.email = xstrdup("");
		a.max_priority = 1000;
		a.role = xstrdup("admin");
		/* Its jobs run as the account that made the install. */
		a.unix_user = service_init_login();
		a.created_ms = time_now_ms();
		ret = store_account_insert(st, &a, err);
		ev.new_status = "added";
		res->created_user = true;
	} else if (ret == 0 && strcmp(a.role, "admin") != 0) {
		/* SPEC: init makes the user an admin, whatever it was. */
		free(a.role);
		a.role = xstrdup("admin");
		ret = store_account_update(st, &a, err);
		ev.new_status = "changed";
		ev.detail = "made an admin by orchestra init";
		res->made_admin = true;
	}
	/* The account added or changed: its event. */
	if (ret == 0 && ev.new_status != NULL) {
		ev.kind = "account";
		ev.account_id = a.id;
		ret = store_event_add(st, &ev, err);
	}
	if (ret < 0)
		goto out;
	res->node_name = proc_node_name();
	ret = store_node_get(st, res->node_name, &n, err);
	if (ret == ERR_NOTFOUND) {
		node_release(&n);
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		n.name = xstrdup(res->node_name);
		n.queue = xstrdup("default");
		n.max_cpu_slots = 30;
		n.cpu_slots = ncpu < 1 ? 1 : ncpu > 30 ? 30 : ncpu;
		n.max_gpu_slots = service_init_count_gpus();
		n.gpu_slots = n.max_gpu_slots;
		n.enabled = true;
		n.ready = true;
		n.reachable = true;
		proc_meminfo(&n.memory, &avail);
		if (n.memory < 0)
			n.memory = 0;
		n.created_ms = time_now_ms();
		ret = store_node_insert(st, &n, err);
		if (ret < 0)
			goto out;
		memset(&ev, 0, sizeof(ev));
		ev.kind = "node";
		ev.node_id = n.id;
		ev.new_status = "added";
		ret = store_event_add(st, &ev, err);
		res->created_node = true;
	}
	if (ret < 0)
		goto out;
	res->cpu_slots = n.cpu_slots;
	res->gpus = n.max_gpu_slots;
	ret = store_commit(st, err);
out:
	account_release(&a);
	node_release(&n);
	if (ret < 0) {
		store_close(st);
		return ret;
	}
	svc->st = st;
	svc->cfg = cfg;
	svc->actor = login;
	svc->trusted = true;
	return 0;
}
