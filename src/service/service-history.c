/*
 * service-history.c - accounting (Slurm's sacct): jobs, CPU and GPU slot
 * time per user, queue or node over a time range, from the runs the
 * pilot recorded as they ended (table job_history), whether or not their
 * tasks are still there; and those runs one by one.  A user sees their
 * own runs, an admin everyone's.
 */
#include "service/service-int.h"

int
service_history_when(const char *s, int64_t *ms, struct buf *err)
{
	struct buf day = BUF_INIT;
	int ret;

	/* A day alone is its midnight, UTC. */
	if (strlen(s) == 10 && s[4] == '-' && s[7] == '-') {
		buf_addf(&day, "%sT00:00:00", s);
		ret = time_parse_when(day.data, ms, err);
		buf_release(&day);
		return ret;
	}
	return time_parse_when(s, ms, err);
}

/* A filter as the store takes it, and the names it holds. */
struct service_history_scope {
	struct history_filter f;
	char *task_user, *task_name;
};

/*
 * Check `f` and make the store's copy of it in `sc`: a non-admin sees
 * only their own runs (no user: theirs; another's: refused), the task
 * named as the other commands name it.  Release with
 * service_history_scope_release(), whatever it returns.
 */
static int
service_history_scope(struct service *svc, const struct history_filter *f,
    struct service_history_scope *sc, struct buf *err)
{
	struct account owner = { 0 };
	int ret;

	sc->f = *f;
	sc->task_user = NULL;
	sc->task_name = NULL;
	if (f->until_ms <= f->since_ms)
		return err_set(err, ERR_INVALID,
		    "'until' is not after 'since': nothing ended in between");
	if (f->user != NULL) {
		ret = store_account_get(svc->st, f->user, &owner, err);
		account_release(&owner);
		if (ret < 0)
			return ret;
	}
	if (f->task != NULL &&
	    names_split_task(f->task, &sc->task_user, &sc->task_name) < 0) {
		sc->task_user = xstrdup(svc->actor);
		sc->task_name = xstrdup(f->task);
	}
	sc->f.task_user = sc->task_user;
	sc->f.task_name = sc->task_name;
	ret = service_require_admin(svc, err);
	if (ret != ERR_DENIED)
		return ret;
	buf_reset(err);
	if ((f->user != NULL && strcmp(f->user, svc->actor) != 0) ||
	    (sc->task_user != NULL && strcmp(sc->task_user, svc->actor) != 0))
		return err_set(err, ERR_DENIED,
		    "user '%s' sees only their own history: not an admin",
		    svc->actor);
	sc->f.user = svc->actor;
	return 0;
}

static void
service_history_scope_release(struct service_history_scope *sc)
{
	free(sc->task_user);
	free(sc->task_name);
	sc->task_user = NULL;
	sc->task_name = NULL;
}

int
service_history(struct service *svc, const struct history_filter *f,
    history_total_vec *out, struct buf *err)
{
	struct service_history_scope sc;
	int ret;

	if (svc->remote != NULL)
		return service_remote_history(svc, f, out, err);
	ret = service_history_scope(svc, f, &sc, err);
	if (ret == 0)
		ret = store_history_totals(svc->st, &sc.f, out, err);
	service_history_scope_release(&sc);
	return ret;
}

int
service_history_runs(struct service *svc, const struct history_filter *f,
    int64_t after, int64_t max_rows, history_run_vec *out, struct buf *err)
{
	struct service_history_scope sc;
	int ret;

	if (svc->remote != NULL)
		return service_remote_history_runs(svc, f, after, max_rows, out,
		    err);
	ret = service_history_scope(svc, f, &sc, err);
	if (ret == 0)
		ret = store_history_list(svc->st, &sc.f, after,
		    max_rows > 0 ? max_rows : INT64_MAX, out, err);
	service_history_scope_release(&sc);
	return ret;
}
