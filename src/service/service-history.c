/*
 * service-history.c - accounting (Slurm's sacct): jobs, CPU and GPU slot
 * time per user, queue or node over a time range, from the runs the
 * pilot recorded as they ended (table job_history), whether or not their
 * tasks are still there.  Open to everyone who may read the queue.
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

int
service_history(struct service *svc, const struct history_filter *f,
    history_total_vec *out, struct buf *err)
{
	struct account owner = { 0 };
	int ret;

	if (f->until_ms <= f->since_ms)
		return err_set(err, ERR_INVALID,
		    "'until' is not after 'since': nothing ended in between");
	if (svc->remote != NULL)
		return service_remote_history(svc, f, out, err);
	if (f->user != NULL) {
		ret = store_account_get(svc->st, f->user, &owner, err);
		account_release(&owner);
		if (ret < 0)
			return ret;
	}
	return store_history_totals(svc->st, f, out, err);
}
