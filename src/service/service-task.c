/*
 * service-task.c - submitting tasks, listing and showing them, and the
 * signals users leave on them (kill, retry, delete).
 */
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/backend.h"
#include "service/service-int.h"
#include "service/service-json.h"

/*
 * Who owns the task `name` names: "user.<u>.<name>" names u's task,
 * anything else the actor's.  Fills the owner and the bare task name.
 */
static int
service_task_owner(struct service *svc, const char *name, struct account *owner,
    char **bare, struct buf *err)
{
	char *username = NULL;
	int ret;

	*bare = NULL;
	if (names_split_task(name, &username, bare) < 0) {
		username = xstrdup(svc->actor);
		*bare = xstrdup(name);
	}
	ret = store_account_get(svc->st, username, owner, err);
	free(username);
	return ret;
}

/*
 * Find a task: to read it (`write` false; the queue is everyone's to
 * read, as with squeue) or to act on it (its owner or an admin).
 */
static int
service_task_find(struct service *svc, const char *name, bool write,
    struct account *owner, struct task *t, struct buf *err)
{
	char *bare = NULL;
	int ret;

	ret = service_task_owner(svc, name, owner, &bare, err);
	if (ret < 0)
		goto out;
	if (write) {
		ret = service_may_touch(svc, owner, err);
		if (ret < 0)
			goto out;
	}
	ret = store_task_get(svc->st, owner->id, bare, t, err);
	if (ret == ERR_NOTFOUND)
		err_set(err, ret, "no task '%s' of user '%s'", bare,
		    owner->username);
out:
	free(bare);
	return ret;
}

struct service_submit {
	struct expand_secondary *sec;
	size_t nsec;
	input_vec inputs;
	char *out_dir;
	bool made_out_dir;
	char *made_top; /* the highest directory the submit created */
	/* What the backend's jobs see, normalised; `limited` false: all. */
	bool limited;
	backend_path_vec mounts;
};

static void
service_submit_release(struct service_submit *s)
{
	size_t i;

	for (i = 0; i < s->nsec; i++) {
		free((char *)s->sec[i].key);
		free((char *)s->sec[i].path);
	}
	free(s->sec);
	input_vec_release(&s->inputs);
	backend_path_vec_release(&s->mounts);
	free(s->out_dir);
	free(s->made_top);
}

/* A failed submit takes back the directories it made. */
static void
service_submit_unmake(struct service_submit *s)
{
	char *p, *slash;

	if (!s->made_out_dir && s->made_top == NULL)
		return;
	p = xstrdup(s->out_dir);
	for (;;) {
		if (rmdir(p) < 0 && errno != ENOENT)
			break;
		if (s->made_top == NULL || strcmp(p, s->made_top) == 0)
			break;
		slash = strrchr(p, '/');
		if (slash == NULL || slash == p)
			break;
		*slash = '\0';
	}
	free(p);
}

/*
 * Where the backend's jobs of the task's owner see files at the paths
 * this machine gives them (docs/kubernetes.md): read into s->mounts,
 * normalised; a set-up that would run them blind is refused here.
 */
static int
service_submit_mounts(struct service *svc, const struct task *t,
    struct service_submit *s, struct buf *err)
{
	backend_path_vec raw = VEC_INIT;
	struct buf norm = BUF_INIT;
	char **p;
	int ret;

	ret = backend_mounts(svc->cfg, t->username, &s->limited, &raw, err);
	VEC_FOREACH (p, &raw) {
		paths_normalise(*p, NULL, &norm);
		VEC_PUSH(&s->mounts, buf_detach(&norm));
	}
	backend_path_vec_release(&raw);
	buf_release(&norm);
	return ret;
}

/*
 * With a backend whose jobs see only some paths: is `path` (`what` in the
 * message) under one of them?  A relative path is taken from %OUT, the
 * job's working directory.
 */
static int
service_submit_path_check(const struct service_submit *s, const char *what,
    const char *path, struct buf *err)
{
	if (!s->limited)
		return 0;
	return paths_check_under(what, path, s->out_dir,
	    (const char *const *)s->mounts.v, s->mounts.n, err);
}

/* The paths given as values: %DATA, and each secondary input's. */
static int
service_submit_values_check(const struct submit_req *req,
    const struct service_submit *s, struct buf *err)
{
	struct buf what = BUF_INIT;
	size_t i;
	int ret = 0;

	if (req->data != NULL)
		ret = service_submit_path_check(s, "%DATA", req->data, err);
	for (i = 0; i < s->nsec && ret == 0; i++) {
		buf_reset(&what);
		buf_addf(&what, "%%%s", s->sec[i].key);
		ret = service_submit_path_check(s, what.data, s->sec[i].path,
		    err);
	}
	buf_release(&what);
	return ret;
}

/* The inputs, once read. */
static int
service_submit_inputs_check(const struct service_submit *s, struct buf *err)
{
	size_t i;
	int ret = 0;

	for (i = 0; i < s->inputs.n && ret == 0; i++)
		ret =
		    service_submit_path_check(s, "input", s->inputs.v[i], err);
	return ret;
}

/*
 * Everything that can be checked before the transaction; the inputs
 * too when `read` (else they are left alone).
 */
static int
service_submit_prepare(struct service *svc, const struct submit_req *req,
    struct task *t, struct service_submit *s, bool read, struct buf *err)
{
	struct expand_values v = { 0 };
	struct buf b = BUF_INIT;
	size_t i, j;
	int ret;

	ret = names_check("task name", t->name, err);
	if (ret < 0)
		return ret;
	ret = names_check("queue name", t->queue, err);
	if (ret < 0)
		return ret;
	if (req->command == NULL || req->command[0] == '\0')
		return err_set(err, ERR_INVALID, "no command: --exec is empty");
	if (strlen(req->command) > 65536)
		return err_set(err, ERR_INVALID,
		    "command longer than 65536 characters");
	if (req->timeout != NULL) {
		ret = time_parse_duration(req->timeout, &t->timeout_ms, err);
		if (ret < 0)
			return ret;
	}
	t->retention_ms = -1;
	if (req->retention != NULL) {
		ret =
		    time_parse_duration(req->retention, &t->retention_ms, err);
		if (ret < 0)
			return ret;
	}
	if (req->memory != NULL) {
		ret = size_parse(req->memory, &t->memory, err);
		if (ret == 0 && t->memory < CONFIG_MEMORY_MIN)
			ret = err_set(err, ERR_INVALID,
			    "invalid memory '%s': at least 1M (a bare number "
			    "is bytes; Slurm's --mem=4000 is 4000M here)",
			    req->memory);
		if (ret < 0)
			return ret;
	}
	s->sec = xcalloc(req->nsecondary + 1, sizeof(*s->sec));
	for (i = 0; i < req->nsecondary; i++) {
		ret =
		    expand_parse_secondary(req->secondary[i], &s->sec[i], err);
		if (ret < 0)
			return ret;
		s->nsec++;
		for (j = 0; j < i; j++)
			if (strcmp(s->sec[j].key, s->sec[i].key) == 0)
				return err_set(err, ERR_INVALID,
				    "secondary input '%s' given twice",
				    s->sec[i].key);
	}
	if (req->inputs_of != NULL && req->inputs != NULL)
		return err_set(err, ERR_INVALID,
		    "--inputs and --inputs-of: give one of them");
	/* NEEDSWORK: the pilot writes the jobs, and secondary values are
	 * not kept: keep them to allow these. */
	if (req->inputs_of != NULL && req->nsecondary > 0)
		return err_set(err, ERR_INVALID,
		    "--secondary cannot be given with --inputs-of");
	if (req->inputs_of != NULL && strchr(req->inputs_of, ',') != NULL)
		return err_set(err, ERR_INVALID,
		    "--inputs-of: one task, not '%s'", req->inputs_of);
	buf_addf(&b, "%s/%s/%s", svc->cfg->volume, t->username, t->name);
	s->out_dir = buf_detach(&b);
	v.has_inputs = req->inputs != NULL || req->inputs_of != NULL;
	v.out = s->out_dir;
	v.data = req->data;
	v.secondary = s->sec;
	v.nsecondary = s->nsec;
	ret = expand_check(req->command, &v, err);
	if (ret == 0)
		ret = service_submit_mounts(svc, t, s, err);
	if (ret == 0)
		ret = service_submit_values_check(req, s, err);
	if (ret < 0 || req->inputs == NULL || !read)
		return ret;
	if (req->read == NULL) {
		ret = service_read_inputs(req->inputs, NULL, &s->inputs, err);
	} else if (req->read->n == 0) {
		/* A reading that succeeds names some; never make a task of
		 * none. */
		ret = err_set(err, ERR_INVALID, "no inputs: '%s' names none",
		    req->inputs);
	} else {
		for (i = 0; i < req->read->n; i++)
			VEC_PUSH(&s->inputs, xstrdup(req->read->v[i]));
	}
	if (ret == 0)
		ret = service_submit_inputs_check(s, err);
	return ret;
}

/*
 * mkdir -p of the output directory; remember whether we made it.  What it
 * makes is 0700 (the user's directory and the task's) but for the
 * volume's root, 0711: users reach their own directory and list nothing.
 */
static int
service_submit_mkdirs(const char *volume, struct service_submit *s,
    struct buf *err)
{
	struct stat sb;
	mode_t mode;
	char *p, *slash;

	if (stat(s->out_dir, &sb) == 0)
		return S_ISDIR(sb.st_mode)
		    ? 0
		    : err_set(err, ERR_INVALID,
		          "output '%s' is not a directory", s->out_dir);
	p = xstrdup(s->out_dir);
	for (slash = strchr(p + 1, '/'); slash != NULL;
	     slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mode = strcmp(p, volume) == 0 ? 0711 : 0700;
		if (mkdir(p, mode) == 0 && chmod(p, mode) == 0) {
			if (s->made_top == NULL)
				s->made_top = xstrdup(p);
		} else if (errno != EEXIST) {
			err_set(err, ERR_UNAVAILABLE,
			    "cannot create directory '%s': %s", p,
			    strerror(errno));
			free(p);
			return ERR_UNAVAILABLE;
		}
		*slash = '/';
	}
	free(p);
	s->made_out_dir = true;
	if (mkdir(s->out_dir, 0700) < 0) {
		s->made_out_dir = false;
		return err_set(err, ERR_UNAVAILABLE,
		    "cannot create directory '%s': %s", s->out_dir,
		    strerror(errno));
	}
	return 0;
}

/*
 * As root, the output directory (made in the submit's transaction:
 * service_submit_mkdirs) given to the owner's Unix account when it exists
 * here, else the local backend gives it at the job's start.  After the
 * commit: the account's lookup (NSS: /etc/passwd, /etc/group, a module
 * loaded) is no part of what a pilot waits on to start the job, and the
 * backend's giving at the start is the same change.
 */
static void
service_submit_own_out_dir(struct service *svc,
    const struct service_submit *s, const struct account *owner)
{
	struct buf ignored = BUF_INIT;
	struct proc_account acct;

	if (geteuid() != 0)
		return;
	if (proc_account_get(owner->unix_user, &acct, &ignored) == 0) {
		proc_own_out_dir(svc->cfg->volume, s->out_dir, acct.uid,
		    acct.gid);
		proc_account_release(&acct);
	}
	buf_release(&ignored);
}

typedef VEC(int64_t) service_id_vec;

/*
 * The tasks of `list` (names joined by ','; a bare one is `owner`'s) that
 * a submit runs after: each must exist and be the actor's to touch (an
 * admin's: anyone's).  Adds their ids to `ids` and their full names,
 * joined by ',', to `full`.
 */
static int
service_submit_after(struct service *svc, const struct account *owner,
    const char *list, const char *opt, service_id_vec *ids, struct buf *full,
    struct buf *err)
{
	struct account a = { 0 };
	struct task t = { 0 };
	struct buf name = BUF_INIT;
	const char *p, *comma;
	char *user = NULL, *bare = NULL;
	int ret = 0;

	for (p = list; ret == 0; p = comma + 1) {
		comma = strchr(p, ',');
		if (comma == NULL)
			comma = p + strlen(p);
		buf_reset(&name);
		buf_add(&name, p, (size_t)(comma - p));
		if (name.len == 0) {
			ret = err_set(err, ERR_INVALID,
			    "%s: an empty task name in '%s'", opt, list);
			break;
		}
		if (names_split_task(name.data, &user, &bare) < 0) {
			bare = buf_detach(&name);
			names_task_full(&name, owner->username, bare);
		}
		free(user);
		free(bare);
		user = bare = NULL;
		ret = service_task_find(svc, name.data, true, &a, &t, err);
		if (ret == 0) {
			VEC_PUSH(ids, t.id);
			if (full->len > 0)
				buf_addch(full, ',');
			names_task_full(full, a.username, t.name);
		} else if (ret == ERR_NOTFOUND) {
			buf_reset(&name);
			buf_addf(&name, "%s: %s", opt, err->data);
			buf_reset(err);
			ret = err_set(err, ERR_NOTFOUND, "%s", name.data);
		} else if (ret == ERR_DENIED) {
			buf_reset(err);
			ret = err_set(err, ERR_DENIED,
			    "%s: task '%s' is not yours: only an admin may "
			    "wait for another user's task",
			    opt, name.data);
		}
		account_release(&a);
		task_release(&t);
		if (*comma == '\0')
			break;
	}
	buf_release(&name);
	return ret;
}

/*
 * A job asking more memory than any node of its queue has would wait
 * forever: refused, as a GPU task for a queue without GPUs.  A node whose
 * memory is not known may have it; the default that follows each node's
 * memory always fits.
 */
static int
service_submit_memory(struct service *svc, const struct task *t,
    struct buf *err)
{
	struct buf want = BUF_INIT, most = BUF_INIT;
	int64_t ask = t->memory, largest;
	int ret;

	if (ask == 0)
		ask = svc->cfg->default_memory;
	if (ask == 0)
		return 0;
	ret = store_queue_memory(svc->st, t->queue, t->gpu, &largest, err);
	if (ret < 0 || largest == 0 || ask <= largest)
		return ret;
	size_format(&want, ask);
	size_format(&most, largest);
	ret = err_set(err, ERR_INVALID,
	    "%s %s a job is more than any node of queue '%s' has: the "
	    "largest has %s",
	    t->memory > 0 ? "--memory" : "default_memory", want.data, t->queue,
	    most.data);
	buf_release(&want);
	buf_release(&most);
	return ret;
}

int
service_task_submit(struct service *svc, const struct submit_req *req,
    struct task *out, struct buf *err)
{
	struct service_submit s = { 0 };
	struct store_job_inserter *ins = NULL;
	struct expand_values v = { 0 };
	struct account owner = { 0 };
	struct buf cmd = BUF_INIT, detail = BUF_INIT;
	struct event ev = { .kind = "task", .new_status = "registered" };
	struct buf full = BUF_INIT;
	service_id_vec after = VEC_INIT;
	char *bare = NULL;
	int64_t i, njobs;
	size_t k, nafter;
	int ret;

	if (svc->remote != NULL)
		return service_remote_task_submit(svc, req, out, err);
	/*
	 * Read and check everything first (inputs may be a large directory),
	 * then write in one transaction.  The checks that depend on rows are
	 * repeated inside it.
	 */
	ret = service_task_owner(svc, req->name, &owner, &bare, err);
	if (ret < 0)
		goto out_early;
	out->account_id = owner.id;
	out->username = xstrdup(owner.username);
	out->name = bare;
	bare = NULL;
	out->queue = xstrdup(req->queue ? req->queue : "default");
	out->image = xstrdup(req->image ? req->image : "");
	out->command = xstrdup(req->command ? req->command : "");
	out->inputs = xstrdup(req->inputs ? req->inputs : "");
	out->data_path = req->data ? xstrdup(req->data) : NULL;
	out->gpu = req->gpu;
	out->skip_test = req->skip_test;
	ret = service_submit_prepare(svc, req, out, &s, true, err);
	if (ret < 0)
		goto out_early;
	ret = store_begin(svc->st, err);
	if (ret < 0)
		goto out_early;
	ret = service_may_touch(svc, &owner, err);
	if (ret < 0)
		goto out;
	ret = store_queue_exists(svc->st, out->queue, err);
	if (ret == 0)
		ret = err_set(err, ERR_NOTFOUND,
		    "no queue '%s': no node serves it", out->queue);
	if (ret < 0)
		goto out;
	if (out->gpu) {
		ret = store_queue_has_gpu(svc->st, out->queue, err);
		if (ret == 0)
			ret = err_set(err, ERR_INVALID,
			    "queue '%s' has no GPU: no node of it has "
			    "max_gpu_slots above 0",
			    out->queue);
		if (ret < 0)
			goto out;
	}
	ret = service_submit_memory(svc, out, err);
	if (ret < 0)
		goto out;
	if (req->after != NULL) {
		ret = service_submit_after(svc, &owner, req->after, "--after",
		    &after, &full, err);
		if (ret < 0)
			goto out;
		out->after = buf_detach(&full);
	}
	if (req->inputs_of != NULL) {
		ret = service_submit_after(svc, &owner, req->inputs_of,
		    "--inputs-of", &after, &full, err);
		if (ret < 0)
			goto out;
		out->inputs_of = buf_detach(&full);
		out->inputs_of_id = after.v[after.n - 1];
	}
	nafter = after.n;
	if (req->after_any != NULL) {
		ret = service_submit_after(svc, &owner, req->after_any,
		    "--after-any", &after, &full, err);
		if (ret < 0)
			goto out;
		out->after_any = buf_detach(&full);
	}
	if (out->after == NULL)
		out->after = xstrdup("");
	if (out->after_any == NULL)
		out->after_any = xstrdup("");
	if (out->inputs_of == NULL)
		out->inputs_of = xstrdup("");
	njobs = s.inputs.n > 0 ? (int64_t)s.inputs.n : 1;
	if (req->inputs_of != NULL)
		njobs = 0; /* the pilot writes them once it is done */
	out->out_dir = xstrdup(s.out_dir);
	out->njobs = njobs;
	out->submitted_ms = time_now_ms();
	out->updated_ms = out->submitted_ms;
	ret = store_task_insert(svc->st, out, err);
	if (ret == ERR_CONFLICT)
		err_set(err, ret, "task '%s' of user '%s' already exists",
		    out->name, out->username);
	if (ret < 0)
		goto out;
	for (k = 0; k < after.n; k++) {
		ret = store_task_after_add(svc->st, out->id, after.v[k],
		    k >= nafter, err);
		if (ret < 0)
			goto out;
	}
	ret = store_job_insert_begin(svc->st, out, &ins, err);
	if (ret < 0)
		goto out;
	v.has_inputs = s.inputs.n > 0;
	v.out = s.out_dir;
	v.data = req->data;
	v.secondary = s.sec;
	v.nsecondary = s.nsec;
	for (i = 0; i < njobs; i++) {
		const char *input = s.inputs.n > 0 ? s.inputs.v[i] : NULL;

		buf_reset(&cmd);
		expand_job(req->command, &v, input, i, &cmd);
		ret = store_job_insert_add(ins, i, input, cmd.data, err);
		if (ret < 0)
			goto out;
	}
	ret = store_job_insert_finish(ins, err);
	if (ret < 0)
		goto out;
	if (req->inputs_of != NULL)
		buf_addf(&detail,
		    "submitted with the outputs of %s as inputs, once it is "
		    "done",
		    out->inputs_of);
	else
		buf_addf(&detail, "submitted with %lld jobs", (long long)njobs);
	ev.account_id = owner.id;
	ev.task_id = out->id;
	ev.detail = detail.data;
	ret = store_event_add(svc->st, &ev, err);
	if (ret < 0)
		goto out;
	ret = service_submit_mkdirs(svc->cfg->volume, &s, err);
out:
	store_job_insert_end(ins);
	ret = service_end(svc, ret, err);
	if (ret == 0)
		service_submit_own_out_dir(svc, &s, &owner);
out_early:
	if (ret < 0)
		service_submit_unmake(&s);
	service_submit_release(&s);
	account_release(&owner);
	buf_release(&cmd);
	buf_release(&detail);
	buf_release(&full);
	VEC_RELEASE(&after);
	free(bare);
	return ret;
}

int
service_task_submit_check(struct service *svc, const struct submit_req *req,
    struct buf *err)
{
	struct service_submit s = { 0 };
	struct account owner = { 0 };
	struct task t = { 0 };
	int ret;

	if (svc->remote != NULL)
		return 0; /* the server checks */
	ret = service_task_owner(svc, req->name, &owner, &t.name, err);
	if (ret < 0)
		goto out;
	t.username = xstrdup(owner.username);
	t.queue = xstrdup(req->queue ? req->queue : "default");
	ret = service_submit_prepare(svc, req, &t, &s, false, err);
	if (ret < 0)
		goto out;
	ret = service_may_touch(svc, &owner, err);
out:
	service_submit_release(&s);
	account_release(&owner);
	task_release(&t);
	return ret;
}

int
service_task_list(struct service *svc, const struct task_list_req *req,
    task_vec *out, struct buf *err)
{
	struct task_filter f = { 0, -1, req->after_id, req->limit };
	struct account owner = { 0 };
	enum task_status status;
	const char *user = req->user ? req->user : svc->actor;
	node_vec nodes = VEC_INIT;
	task_vec page = VEC_INIT;
	account_vec held = VEC_INIT;
	bool have_nodes = false;
	const char *hold;
	struct account *a;
	struct task *t;
	size_t first;
	int ret;

	if (svc->remote != NULL)
		return service_remote_task_list(svc, req, out, err);
	if (req->status != NULL) {
		ret = task_status_parse(req->status, &status, err);
		if (ret < 0)
			return ret;
		f.status = (int)status;
	}
	if (strcmp(user, "*") != 0) {
		ret = store_account_get(svc->st, user, &owner, err);
		if (ret < 0)
			return ret;
		f.account_id = owner.id;
		account_release(&owner);
	}
	/* Everyone may read everyone's tasks, as with squeue. */
	first = out->n;
	ret = store_task_list(svc->st, &f, out, err);
	if (ret < 0 || !req->summary)
		return ret;
	page.v = out->v + first;
	page.n = out->n - first;
	ret = store_task_list_counts(svc->st, &f, &page, err);
	if (ret < 0)
		return ret;
	VEC_FOREACH (t, &page) {
		if (t->counts[JOB_ASSIGNED] > 0 && !have_nodes) {
			ret = store_node_list(svc->st, NULL, 0, &nodes, err);
			if (ret == 0)
				ret = store_account_held(svc->st, &held, err);
			if (ret < 0)
				goto out;
			have_nodes = true;
		}
		hold = NULL;
		VEC_FOREACH (a, &held)
			if (a->id == t->account_id)
				hold = a->hold;
		if (t->status == TASK_REGISTERED &&
		    t->counts[JOB_REGISTERED] > 0 &&
		    (*t->after != '\0' || *t->after_any != '\0')) {
			ret = service_queue_after_why(svc, t->id, &t->why, err);
			if (ret < 0)
				goto out;
			if (t->why != NULL)
				continue;
		}
		t->why = service_queue_task_why(t, &nodes, hold,
		    svc->cfg->default_memory);
	}
	ret = 0;
out:
	node_vec_release(&nodes);
	account_vec_release(&held);
	return ret;
}

void
task_detail_release(struct task_detail *d)
{
	struct job_wait *w;

	task_release(&d->task);
	job_vec_release(&d->jobs);
	VEC_FOREACH (w, &d->waits)
		free(w->why);
	VEC_RELEASE(&d->waits);
}

/* No pilot running: every waiting job says so first (service-queue.c). */
static void
service_task_pilot_why(struct service *svc, struct task_detail *d)
{
	struct buf why = BUF_INIT;
	struct job_wait *w;

	if (service_pilot_down(svc, &why)) {
		VEC_FOREACH (w, &d->waits)
			w->why = service_pilot_why(&why, w->why);
	}
	buf_release(&why);
}

/*
 * A waiting job's priority is the scheduler's, which no row holds until
 * the job starts: from its wait, so that every view shows the one the
 * queue does.
 */
static void
service_task_wait_priority(struct task_detail *d)
{
	const struct job_wait *w;
	struct job *j;

	VEC_FOREACH (j, &d->jobs) {
		w = service_job_wait_of(d, j);
		if (w != NULL && w->place > 0)
			j->priority = w->priority;
	}
}

int
service_task_show(struct service *svc, const char *name, const char *status,
    int64_t after_idx, int64_t job_limit, struct task_detail *out,
    struct buf *err)
{
	struct account owner = { 0 };
	enum job_status st = JOB_REGISTERED;
	int ret;

	if (status != NULL) {
		ret = job_status_parse(status, &st, err);
		if (ret < 0)
			return ret;
	}
	if (svc->remote != NULL)
		return service_remote_task_show(svc, name, status, after_idx,
		    job_limit, out, err);
	ret = service_task_find(svc, name, false, &owner, &out->task, err);
	if (ret < 0)
		goto out;
	ret = store_task_count_jobs(svc->st, out->task.id, out->counts, err);
	if (ret < 0)
		goto out;
	if (job_limit >= 0)
		ret = store_job_list(svc->st, out->task.id, after_idx,
		    job_limit, status != NULL ? (int)st : -1, &out->jobs, err);
	if (ret < 0)
		goto out;
	ret = service_queue_task_waits(svc, out, err);
	if (ret < 0)
		goto out;
	service_task_wait_priority(out);
	service_task_pilot_why(svc, out);
out:
	account_release(&owner);
	return ret;
}

void
job_log_release(struct job_log *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	l->offset = 0;
	l->length = 0;
	buf_release(&l->text);
	l->end = 0;
	l->size = 0;
	l->attempt = 0;
	l->ended = false;
}

/*
 * Where the last `n` lines of the `size` bytes at `base` of `fd` start
 * (a final newline ends the last line, it does not start another).
 */
static int
service_log_lines_fd(int fd, int64_t base, int64_t size, int64_t n,
    int64_t *start, struct buf *err)
{
	char chunk[65536];
	int64_t pos = size, at;
	ssize_t got;
	bool last = true;
	size_t want;

	*start = 0;
	while (pos > 0) {
		want =
		    pos < (int64_t)sizeof(chunk) ? (size_t)pos : sizeof(chunk);
		at = pos - (int64_t)want;
		got = pread(fd, chunk, want, (off_t)(base + at));
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return err_set(err, ERR_UNAVAILABLE,
			    "cannot read the log: %s", strerror(errno));
		if ((size_t)got < want)
			want = (size_t)got; /* cut short: scan what there is */
		while (want > 0) {
			want--;
			if (chunk[want] != '\n')
				continue;
			if (last && at + (int64_t)want == size - 1)
				continue; /* the last line's own newline */
			if (--n == 0) {
				*start = at + (int64_t)want + 1;
				return 0;
			}
		}
		last = false;
		pos = at;
	}
	return 0;
}

/* The same in a buffer. */
static int64_t
service_log_lines_text(const char *p, int64_t size, int64_t n)
{
	int64_t i = size - 1;

	if (i >= 0 && p[i] == '\n')
		i--;
	for (; i >= 0; i--)
		if (p[i] == '\n' && --n == 0)
			return i + 1;
	return 0;
}

/*
 * Where the part `req` asks for starts in a log of `size` bytes, the
 * last `tail_lines` starting at `lines`; sets out->end and out->size.
 */
static int64_t
service_log_part(const struct job_log_req *req, int64_t size, int64_t lines,
    struct job_log *out)
{
	int64_t start = req->from < size ? req->from : size;

	if (req->tail_bytes > 0 && size - req->tail_bytes > start)
		start = size - req->tail_bytes;
	if (req->tail_lines > 0 && lines > start)
		start = lines;
	out->end = size;
	if (req->max_bytes > 0 && size - start > req->max_bytes)
		out->end = start + req->max_bytes;
	out->size = size;
	return start;
}

/*
 * The part `req` asks for of the log `bl` (which `out` takes).  A log
 * cut short (log_max) reads as its head, a line saying what was cut, and
 * its tail, in parts: the head's part ends where the cut begins, the
 * line's is the cut (a reader that had read into what was cut since is
 * told how much it missed), and the rest is the tail's.
 *
 * NEEDSWORK: while the job runs, the supervisor punches its hole one
 * step (an eighth of log_max) behind the cut it announced; a reader
 * slower than that step between this open and its read of the tail
 * reads zeros where bytes were cut meanwhile.  The fix: for a running
 * job, read the part here (bounded) and look at the cut again after,
 * turning what was cut meanwhile into the line.
 */
static int
service_log_part_fd(struct backend_log *bl, const struct job_log_req *req,
    struct job_log *out, struct buf *err)
{
	bool cut = bl->cut_to > bl->cut_from;
	int64_t start, lines = 0, from = cut ? bl->cut_to : 0;
	char last = '\n';
	int ret;

	/* The last lines are the tail's; fewer there: the line and the tail. */
	if (req->tail_lines > 0) {
		ret = service_log_lines_fd(bl->fd, bl->offset + from,
		    bl->length - from, req->tail_lines, &lines, err);
		if (ret < 0) {
			close(bl->fd);
			return ret;
		}
		lines = lines > 0 ? lines + from : cut ? bl->cut_from : 0;
	}
	start = service_log_part(req, bl->length, lines, out);
	if (cut && start >= bl->cut_from && start < bl->cut_to) {
		/* On a line of its own (the reader may be mid-line). */
		if (start > 0 &&
		    pread(bl->fd, &last, 1, (off_t)(bl->offset + start - 1)) !=
		        1)
			last = '\n';
		close(bl->fd);
		if (last != '\n')
			buf_addch(&out->text, '\n');
		buf_addf(&out->text, BACKEND_CUT_LINE "\n",
		    (long long)(bl->cut_to - start));
		out->end = bl->cut_to;
		return 0;
	}
	if (cut && start < bl->cut_from && out->end > bl->cut_from)
		out->end = bl->cut_from;
	out->fd = bl->fd;
	out->offset = bl->offset + start;
	out->length = out->end - start;
	return 0;
}

int
service_task_log_open(struct service *svc, const char *name,
    const struct job_log_req *req, struct job_log *out, struct buf *err)
{
	struct task_detail d = { 0 };
	struct account owner = { 0 };
	struct backend *be = NULL;
	struct backend_ref ref;
	struct backend_log bl = { -1, 0, 0, 0, 0 };
	struct buf full = BUF_INIT;
	const struct job *j;
	int64_t index = req->index, start, lines;
	int ret;

	if (req->from < 0 || req->tail_bytes < 0 || req->tail_lines < 0)
		return err_set(err, ERR_INVALID,
		    "invalid part of a log: from, tail bytes and tail lines "
		    "are 0 or more");
	if (svc->remote != NULL)
		return service_remote_task_logs(svc, name, req, out, err);
	/* Logs are the owner's (or an admin's) to read: they may hold data. */
	ret = service_task_find(svc, name, true, &owner, &d.task, err);
	if (ret < 0)
		goto out;
	names_task_full(&full, d.task.username, d.task.name);
	if (index >= 0)
		ret = store_job_list(svc->st, d.task.id, index - 1, 1, -1,
		    &d.jobs, err);
	if (ret < 0)
		goto out;
	if (index < 0 || d.jobs.n == 0 || d.jobs.v[0].idx != index) {
		ret = err_set(err, ERR_NOTFOUND,
		    "task '%s' has no job %lld (it has %lld jobs)", full.data,
		    (long long)index, (long long)d.task.njobs);
		goto out;
	}
	j = &d.jobs.v[0];
	if (j->attempts == 0) {
		ret = err_set(err, ERR_NOTFOUND,
		    "job %lld of task '%s' has not run yet (it is %s)",
		    (long long)index, full.data, job_status_name(j->status));
		goto out;
	}
	/* Read before the log: an ended job's log is whole by then. */
	out->ended = job_status_is_end(j->status);
	out->attempt = j->attempts;
	ret = backend_open(&be, svc->cfg, err);
	if (ret < 0)
		goto out;
	ref.job_id = j->id;
	ref.attempt = j->attempts;
	if (be->ops->log_open != NULL) {
		ret = be->ops->log_open(be, &ref, 0, &bl, err);
		if (ret == 0 && bl.fd >= 0 && bl.length > 0) {
			ret = service_log_part_fd(&bl, req, out, err);
			goto out;
		}
		if (bl.fd >= 0)
			close(bl.fd);
	} else {
		/*
		 * NEEDSWORK: held whole, bounded only by the Kubernetes
		 * client's cap on a reply (64 MiB); the pod's log could be
		 * streamed from the API as the local file is.  Whole, so
		 * that positions in it (`from`, `end`) are the log's.
		 */
		ret = be->ops->logs(be, &ref, 0, &out->text, err);
	}
	/*
	 * The backend may keep no log once the job is over (a Kubernetes
	 * pod goes with its Job): then the tail kept at its end.
	 */
	if (ret == 0 && out->text.len == 0 && j->log_tail != NULL)
		buf_adds(&out->text, j->log_tail);
	if (ret == 0) {
		lines = req->tail_lines > 0
		    ? service_log_lines_text(out->text.data,
		          (int64_t)out->text.len, req->tail_lines)
		    : 0;
		start =
		    service_log_part(req, (int64_t)out->text.len, lines, out);
		if ((size_t)out->end < out->text.len) {
			out->text.len = (size_t)out->end;
			out->text.data[out->text.len] = '\0';
		}
		if (start > 0) {
			memmove(out->text.data, out->text.data + start,
			    out->text.len - (size_t)start + 1); /* its NUL */
			out->text.len -= (size_t)start;
		}
	}
out:
	backend_close(be);
	task_detail_release(&d);
	account_release(&owner);
	buf_release(&full);
	return ret;
}

bool
service_task_may_signal(struct service *svc, const struct task *t,
    enum task_signal sig)
{
	struct account owner = { 0 };
	struct buf why = BUF_INIT;
	bool may;

	owner.username = t->username; /* borrowed: only its name is read */
	may = t->signal == SIGNAL_NONE &&
	    task_signal_check(t->status, sig, t->name, &why) == 0 &&
	    service_may_touch(svc, &owner, &why) == 0;
	buf_release(&why);
	return may;
}

int
service_task_signal(struct service *svc, const char *name, enum task_signal sig,
    bool remove_files, struct task *out, struct buf *err)
{
	struct account owner = { 0 };
	struct event ev = { .kind = "task" };
	struct buf shown = BUF_INIT, detail = BUF_INIT;
	store_str_vec waiters = VEC_INIT;
	size_t i;
	int ret;

	if (svc->remote != NULL)
		return service_remote_task_signal(svc, name, sig, remove_files,
		    out, err);
	ret = store_begin(svc->st, err);
	if (ret < 0)
		return ret;
	ret = service_task_find(svc, name, true, &owner, out, err);
	if (ret < 0)
		goto out;
	names_task_full(&shown, owner.username, out->name);
	if (out->signal != SIGNAL_NONE) {
		ret = err_set(err, ERR_CONFLICT,
		    "task '%s' already has a pending signal '%s'", shown.data,
		    task_signal_name(out->signal));
		goto out;
	}
	ret = task_signal_check(out->status, sig, shown.data, err);
	if (ret < 0)
		goto out;
	if (sig == SIGNAL_DELETE) {
		ret = store_task_waiters(svc->st, out->id, &waiters, err);
		if (ret < 0)
			goto out;
		if (waiters.n > 0) {
			ret = err_set(err, ERR_CONFLICT,
			    "task '%s' cannot be deleted: task '%s' waits for "
			    "it (delete that one first, or wait until it starts)",
			    shown.data, waiters.v[0]);
			goto out;
		}
	}
	ret = store_task_set_signal(svc->st, out->id, sig, err);
	if (ret < 0)
		goto out;
	if (sig == SIGNAL_DELETE && remove_files) {
		ret = store_task_set_remove_files(svc->st, out->id, err);
		if (ret < 0)
			goto out;
	}
	out->signal = sig;
	buf_addf(&detail, "signal %s", task_signal_name(sig));
	ev.account_id = owner.id;
	ev.task_id = out->id;
	ev.old_status = task_status_name(out->status);
	ev.new_status = task_status_name(out->status);
	ev.detail = detail.data;
	ret = store_event_add(svc->st, &ev, err);
out:
	account_release(&owner);
	buf_release(&shown);
	buf_release(&detail);
	for (i = 0; i < waiters.n; i++)
		free(waiters.v[i]);
	VEC_RELEASE(&waiters);
	return service_end(svc, ret, err);
}
