/*
 * job-state.c - what the backend's word on one attempt of a job does to
 * the job: its start recorded, its end (done, failed or killed), or, when
 * the infrastructure failed the attempt, the job queued again or given up
 * (docs/internals/pilot.md).  The pilot decides here and the store
 * applies the plan.
 */
#include "core/core.h"

const char *
job_end_name(enum job_end end)
{
	switch (end) {
	case JOB_END_EXIT:
		return "exit";
	case JOB_END_SIGNAL:
		return "signal";
	case JOB_END_STOPPED:
		return "stopped";
	case JOB_END_TIMEOUT:
		return "timeout";
	case JOB_END_START:
		return "could not start";
	case JOB_END_OOM:
		return JOB_REASON_OOM;
	}
	return "exit";
}

void
job_end_why(const char *end_reason, int64_t memory, struct buf *out)
{
	if (end_reason == NULL || strcmp(end_reason, JOB_REASON_OOM) != 0)
		return;
	buf_adds(out, "killed: " JOB_REASON_OOM);
	if (memory > 0) {
		buf_adds(out, " (limit ");
		size_format(out, memory);
		buf_addch(out, ')');
	}
}

/*
 * The infrastructure failed the attempt (refused, lost): a job being
 * stopped anyway is killed; else it is queued again, up to `max_lost`
 * such failures in this run, after which it fails.
 */
static void
job_step_lost(const struct job_news *n, const char *reason,
    struct job_plan *plan)
{
	plan->lost = true;
	plan->reason = reason;
	if (n->status == JOB_KILL) {
		plan->action = JOB_ACT_END;
		plan->to = JOB_KILLED;
	} else if (n->lost + 1 >= n->max_lost) {
		plan->action = JOB_ACT_END;
		plan->to = JOB_FAILED;
	} else {
		plan->action = JOB_ACT_REQUEUE;
		plan->to = JOB_ASSIGNED;
	}
}

void
job_step(const struct job_news *n, struct job_plan *plan)
{
	memset(plan, 0, sizeof(*plan));
	plan->action = JOB_ACT_NONE;
	plan->to = n->status;
	switch (n->seen) {
	case JOB_SEEN_ENDED:
		/*
		 * Stopped, not asked: its supervisor had a SIGTERM the pilot
		 * did not send (the pilot writes `kill` before it stops a
		 * job), as at a shutdown of the machine.  The infrastructure
		 * failed the attempt: queued again, as for a lost one, not
		 * killed (a killed job is never run again, retry or not).
		 */
		if (n->end == JOB_END_STOPPED && n->status != JOB_KILL) {
			job_step_lost(n, JOB_REASON_STOPPED, plan);
			break;
		}
		plan->action = JOB_ACT_END;
		plan->ended = true;
		plan->reason = job_end_name(n->end);
		if (n->status == JOB_KILL || n->end == JOB_END_STOPPED)
			plan->to = JOB_KILLED;
		else if (n->end == JOB_END_EXIT && n->exit_code == 0)
			plan->to = JOB_DONE;
		else
			plan->to = JOB_FAILED;
		break;
	case JOB_SEEN_RUNNING:
		/* Started, and the pilot stopped before recording it. */
		if (n->status == JOB_PENDING) {
			plan->action = JOB_ACT_START;
			plan->to = JOB_RUNNING;
		}
		break;
	case JOB_SEEN_UNKNOWN:
		if (n->status != JOB_PENDING) {
			job_step_lost(n, JOB_REASON_LOST, plan);
			break;
		}
		/* Placed: what start() said of it this cycle. */
		switch (n->start) {
		case JOB_START_OK:
			plan->action = JOB_ACT_START;
			plan->to = JOB_RUNNING;
			plan->launched = true;
			break;
		case JOB_START_REFUSED:
			job_step_lost(n, JOB_REASON_REFUSED, plan);
			break;
		case JOB_START_NONE:
		case JOB_START_UNAVAILABLE:
			/* Placed still: a later poll starts it. */
			break;
		}
		break;
	case JOB_SEEN_LOST:
		job_step_lost(n, JOB_REASON_LOST, plan);
		break;
	}
}
