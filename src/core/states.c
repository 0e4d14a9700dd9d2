/*
 * states.c - the names of task and job states and signals, their classes,
 * and the job state changes SPEC.md allows.
 */
#include "core/core.h"

static const char *const task_status_names[TASK_NSTATUS] = {
	"registered",
	"testing",
	"running",
	"done",
	"finalized",
	"broken",
	"killing",
	"killed",
	"removed",
};

static const char *const task_signal_names[] = { "", "retry", "kill",
	"delete" };

static const char *const job_status_names[JOB_NSTATUS] = {
	"registered",
	"assigned",
	"pending",
	"running",
	"done",
	"failed",
	"kill",
	"killed",
	"broken",
};

const char *
task_status_name(enum task_status s)
{
	if ((unsigned)s >= TASK_NSTATUS)
		BUG("task status %d", (int)s);
	return task_status_names[s];
}

const char *
task_signal_name(enum task_signal s)
{
	if ((unsigned)s > SIGNAL_DELETE)
		BUG("task signal %d", (int)s);
	return task_signal_names[s];
}

const char *
job_status_name(enum job_status s)
{
	if ((unsigned)s >= JOB_NSTATUS)
		BUG("job status %d", (int)s);
	return job_status_names[s];
}

static int
states_lookup(const char *const *names, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

int
task_status_parse(const char *s, enum task_status *out, struct buf *err)
{
	int i = states_lookup(task_status_names, TASK_NSTATUS, s);

	if (i < 0)
		return err_set(err, ERR_INVALID, "unknown task status '%s'", s);
	*out = (enum task_status)i;
	return 0;
}

int
task_signal_parse(const char *s, enum task_signal *out, struct buf *err)
{
	int i = states_lookup(task_signal_names, 4, s);

	if (i < 0)
		return err_set(err, ERR_INVALID, "unknown task signal '%s'", s);
	*out = (enum task_signal)i;
	return 0;
}

int
job_status_parse(const char *s, enum job_status *out, struct buf *err)
{
	int i = states_lookup(job_status_names, JOB_NSTATUS, s);

	if (i < 0)
		return err_set(err, ERR_INVALID, "unknown job status '%s'", s);
	*out = (enum job_status)i;
	return 0;
}

bool
task_status_is_end(enum task_status s)
{
	return s == TASK_DONE || s == TASK_FINALIZED || s == TASK_BROKEN ||
	    s == TASK_KILLED;
}

bool
job_status_is_end(enum job_status s)
{
	return s == JOB_DONE || s == JOB_FAILED || s == JOB_KILLED ||
	    s == JOB_BROKEN;
}

bool
job_status_holds_slot(enum job_status s)
{
	return s == JOB_PENDING || s == JOB_RUNNING || s == JOB_KILL;
}

bool
job_status_is_waiting(enum job_status s)
{
	return s == JOB_REGISTERED || s == JOB_ASSIGNED;
}

/*
 * SPEC.md's job states: registered -> assigned -> pending -> running ->
 * done | failed; kill (stop requested while holding a slot) -> killed;
 * broken.  A launch the infrastructure refused goes back to assigned; a
 * retry takes an ended job back to registered (test again) or a failed
 * one straight to assigned.
 */
bool
job_transition_allowed(enum job_status from, enum job_status to)
{
	switch (to) {
	case JOB_REGISTERED:
		return from == JOB_FAILED || from == JOB_KILLED ||
		    from == JOB_BROKEN || from == JOB_REGISTERED ||
		    from == JOB_ASSIGNED;
	case JOB_ASSIGNED:
		return from == JOB_REGISTERED || from == JOB_PENDING ||
		    from == JOB_RUNNING || from == JOB_FAILED;
	case JOB_PENDING:
		return from == JOB_ASSIGNED;
	case JOB_RUNNING:
		return from == JOB_PENDING;
	case JOB_DONE:
	case JOB_FAILED:
		return from == JOB_PENDING || from == JOB_RUNNING ||
		    from == JOB_KILL;
	case JOB_KILL:
		return from == JOB_PENDING || from == JOB_RUNNING;
	case JOB_KILLED:
		return from == JOB_REGISTERED || from == JOB_ASSIGNED ||
		    from == JOB_KILL || from == JOB_PENDING ||
		    from == JOB_RUNNING;
	case JOB_BROKEN:
		return from == JOB_REGISTERED || from == JOB_ASSIGNED;
	case JOB_NSTATUS:
		break;
	}
	return false;
}
