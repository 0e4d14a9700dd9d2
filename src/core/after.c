/*
 * after.c - tasks that wait for tasks (issue 19): `task submit B --after A`
 * waits until A is done, `--after-any A` until A has ended in any state.
 * A that ended otherwise than B asks (finalized, broken or killed, for
 * --after) keeps B waiting: a retry of A to done releases it, and why
 * says so.  The pilot's state machine keeps a waiting task registered
 * (task_step(), task_view.waits); these say when it waits and why.
 */
#include "core/core.h"

bool
after_dep_met(const struct after_dep *d)
{
	if (d->status == TASK_DONE)
		return true;
	return d->any_end && task_status_is_end(d->status);
}

bool
after_dep_stuck(const struct after_dep *d)
{
	return !after_dep_met(d) && task_status_is_end(d->status);
}

int
after_why(const struct after_dep *deps, size_t ndeps, struct buf *why)
{
	const struct after_dep *d = NULL;
	size_t i;

	for (i = 0; i < ndeps && d == NULL; i++)
		if (after_dep_stuck(&deps[i]))
			d = &deps[i];
	for (i = 0; i < ndeps && d == NULL; i++)
		if (!after_dep_met(&deps[i]))
			d = &deps[i];
	if (d == NULL)
		return 0;
	if (after_dep_stuck(d))
		buf_addf(why,
		    "waits for %s, which ended %s: retry it, or delete this task",
		    d->name, task_status_name(d->status));
	else
		buf_addf(why, "waits for %s: %s, %lld of %lld done", d->name,
		    task_status_name(d->status), (long long)d->ndone,
		    (long long)d->njobs);
	return 1;
}
