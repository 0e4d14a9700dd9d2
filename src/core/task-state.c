/*
 * task-state.c - the task state machine of SPEC.md ("Task states and
 * signals"): which signals a user may leave on a task, and one step of the
 * table at a time, as a plan of bulk job moves the caller applies.
 *
 * Signals are looked at first.  A signal that does not apply in the
 * current state is consumed and ignored, so each one is consumed exactly
 * once.  A killing task refuses every new signal: it is on its way to
 * killed, from where it can be retried or deleted.
 */
#include "core/core.h"

int
task_signal_check(enum task_status st, enum task_signal sig, const char *name,
    struct buf *err)
{
	const char *sname;

	if ((unsigned)st >= TASK_NSTATUS)
		BUG("task status %d", (int)st);
	sname = task_status_name(st);
	if (sig == SIGNAL_NONE)
		return err_set(err, ERR_INVALID,
		    "no signal given for task '%s'", name);
	if (st == TASK_REMOVED)
		return err_set(err, ERR_CONFLICT, "task '%s' is removed", name);
	switch (sig) {
	case SIGNAL_NONE:
		break;
	case SIGNAL_RETRY:
		if (st == TASK_BROKEN || st == TASK_KILLED ||
		    st == TASK_FINALIZED)
			return 0;
		if (st == TASK_KILLING)
			return err_set(err, ERR_CONFLICT,
			    "task '%s' is killing: only a broken, killed or finalized task can be retried (wait until it is killed)",
			    name);
		return err_set(err, ERR_CONFLICT,
		    "task '%s' is %s: only a broken, killed or finalized task can be retried",
		    name, sname);
	case SIGNAL_KILL:
		if (st == TASK_REGISTERED || st == TASK_TESTING ||
		    st == TASK_RUNNING)
			return 0;
		if (st == TASK_KILLING)
			return err_set(err, ERR_CONFLICT,
			    "task '%s' is killing: it is being killed already",
			    name);
		return err_set(err, ERR_CONFLICT,
		    "task '%s' is %s: only a registered, testing or running task can be killed",
		    name, sname);
	case SIGNAL_DELETE:
		if (task_status_is_end(st))
			return 0;
		if (st == TASK_KILLING)
			return err_set(err, ERR_CONFLICT,
			    "task '%s' is killing: only an ended task can be deleted (wait until it is killed)",
			    name);
		return err_set(err, ERR_CONFLICT,
		    "task '%s' is %s: only an ended task can be deleted (kill it first)",
		    name, sname);
	}
	BUG("task signal %d", (int)sig);
}

static void
task_state_move(struct task_plan *plan, enum job_status from,
    enum job_status to, bool test_only, bool mark_test)
{
	struct job_move *mv;

	if (plan->nmoves >= TASK_PLAN_MAXMOVES)
		BUG("too many job moves in one task plan");
	if (!job_transition_allowed(from, to))
		BUG("job move %s -> %s", job_status_name(from),
		    job_status_name(to));
	mv = &plan->moves[plan->nmoves++];
	mv->from = from;
	mv->to = to;
	mv->test_only = test_only;
	mv->mark_test = mark_test;
	mv->limit = 0;
	mv->requeue = false;
}

int64_t
task_chunk_next(int64_t chunk, int64_t took_us)
{
	int64_t next;

	if (chunk < 1)
		chunk = TASK_QUEUE_CHUNK_FIRST;
	if (took_us < 1)
		took_us = 1;
	/* chunk * budget / took, without overflow for any took_us. */
	if (took_us <= TASK_QUEUE_CHUNK_BUDGET_US / 2)
		next = chunk * 2;
	else
		next = (int64_t)((double)chunk * TASK_QUEUE_CHUNK_BUDGET_US /
		    (double)took_us);
	if (next > TASK_QUEUE_CHUNK)
		next = TASK_QUEUE_CHUNK;
	if (next < TASK_QUEUE_CHUNK_MIN)
		next = TASK_QUEUE_CHUNK_MIN;
	return next;
}

/*
 * Queue the task's next chunk of registered jobs (registered -> assigned,
 * lowest index first): never all of a large task in one step, so that
 * one cycle writes at most a chunk's rows and events.
 */
static void
task_state_queue(const struct task_view *v, struct task_plan *plan)
{
	task_state_move(plan, JOB_REGISTERED, JOB_ASSIGNED, false, false);
	plan->moves[plan->nmoves - 1].limit =
	    v->queue_chunk > 0 ? v->queue_chunk : TASK_QUEUE_CHUNK;
}

/*
 * Queue the next chunk of the failed jobs a finalized task's retry queues
 * again (failed -> assigned, lowest index first, from the store's cursor
 * on): the same chunks as a first queueing.  The jobs left wait as they
 * are, failed, their end recorded once; no second state is needed.
 */
static void
task_state_requeue(const struct task_view *v, struct task_plan *plan)
{
	struct job_move *mv;

	task_state_move(plan, JOB_FAILED, JOB_ASSIGNED, false, false);
	mv = &plan->moves[plan->nmoves - 1];
	mv->limit = v->queue_chunk > 0 ? v->queue_chunk : TASK_QUEUE_CHUNK;
	mv->requeue = true;
}

static void
task_state_go(struct task_plan *plan, enum task_status next, const char *reason)
{
	plan->next = next;
	plan->reason = reason;
}

static int64_t
task_state_total(const struct task_view *v)
{
	int64_t total = 0;
	int i;

	for (i = 0; i < JOB_NSTATUS; i++)
		total += v->njobs[i];
	return total;
}

/* Signal kill: registered, testing or running -> killing. */
static void
task_state_kill(const struct task_view *v, struct task_plan *plan)
{
	plan->consume_signal = true;
	switch (v->status) {
	case TASK_REGISTERED:
	case TASK_TESTING:
	case TASK_RUNNING:
		task_state_go(plan, TASK_KILLING, "kill requested");
		task_state_move(plan, JOB_REGISTERED, JOB_KILLED, false, false);
		task_state_move(plan, JOB_ASSIGNED, JOB_KILLED, false, false);
		task_state_move(plan, JOB_PENDING, JOB_KILL, false, false);
		task_state_move(plan, JOB_RUNNING, JOB_KILL, false, false);
		break;
	case TASK_KILLING:
		plan->reason = "kill ignored: the task is being killed already";
		break;
	default:
		plan->reason = "kill ignored: the task has ended";
		break;
	}
}

/*
 * Signal retry: broken or killed -> registered (every job not done is made
 * again, and the task is tested again); finalized -> running (the failed
 * jobs are queued again, in chunks as a first queueing: the first one now,
 * the next ones at the next steps of the running task).
 */
static void
task_state_retry(const struct task_view *v, struct task_plan *plan)
{
	plan->consume_signal = true;
	switch (v->status) {
	case TASK_BROKEN:
	case TASK_KILLED:
		/*
		 * NEEDSWORK: every job not done moves at once, a row and an
		 * event each, in one cycle.  In chunks, the jobs past the
		 * chunk would wait in their end states while the test job
		 * runs, and a failed test would have to break them from
		 * there, which SPEC's job states do not allow.
		 */
		task_state_go(plan, TASK_REGISTERED, "retry requested");
		plan->reset_retention = true;
		task_state_move(plan, JOB_FAILED, JOB_REGISTERED, false, false);
		task_state_move(plan, JOB_KILLED, JOB_REGISTERED, false, false);
		task_state_move(plan, JOB_BROKEN, JOB_REGISTERED, false, false);
		if (v->njobs[JOB_ASSIGNED] > 0)
			task_state_move(plan, JOB_ASSIGNED, JOB_REGISTERED,
			    false, false);
		break;
	case TASK_FINALIZED:
		task_state_go(plan, TASK_RUNNING, "retry requested");
		plan->reset_retention = true;
		task_state_requeue(v, plan);
		break;
	case TASK_KILLING:
		plan->reason = "retry ignored: the task is being killed";
		break;
	default:
		plan->reason =
		    "retry ignored: the task is not broken, killed or finalized";
		break;
	}
}

/* Signal delete: an ended task is removed. */
static void
task_state_delete(const struct task_view *v, struct task_plan *plan)
{
	plan->consume_signal = true;
	if (v->waited_for) {
		plan->reason = "delete ignored: a task runs after it";
		return;
	}
	if (task_status_is_end(v->status)) {
		task_state_go(plan, TASK_REMOVED, "delete requested");
		plan->remove = true;
		return;
	}
	plan->reason = "delete ignored: the task has not ended";
}

/* The test job is done (exit 0), failed, or could not start. */
static void
task_state_testing(const struct task_view *v, struct task_plan *plan)
{
	switch (v->test_status) {
	case JOB_DONE:
		if (v->test_exit_code == 0) {
			task_state_go(plan, TASK_RUNNING, "test job done");
			task_state_queue(v, plan);
			return;
		}
		/* A done job with a non-zero exit code: take it as failed. */
		task_state_go(plan, TASK_BROKEN, "test job failed");
		break;
	case JOB_FAILED:
		task_state_go(plan, TASK_BROKEN, "test job failed");
		break;
	case JOB_KILLED:
	case JOB_BROKEN:
		task_state_go(plan, TASK_BROKEN, "test job could not run");
		break;
	default:
		/* Still waiting, placed, running, or queued again. */
		return;
	}
	task_state_move(plan, JOB_REGISTERED, JOB_BROKEN, false, false);
	if (v->njobs[JOB_ASSIGNED] > 0)
		task_state_move(plan, JOB_ASSIGNED, JOB_BROKEN, false, false);
}

/*
 * Jobs still registered, or failed jobs its retry has still to queue
 * again: queue the next chunk, the task stays running.  Every job ended
 * (and none left to queue again): done when all are done, else finalized.
 */
static void
task_state_running(const struct task_view *v, struct task_plan *plan)
{
	int64_t total = task_state_total(v);
	int64_t ended = v->njobs[JOB_DONE] + v->njobs[JOB_FAILED] +
	    v->njobs[JOB_KILLED] + v->njobs[JOB_BROKEN];

	if (v->njobs[JOB_REGISTERED] > 0) {
		plan->reason = "next jobs queued";
		task_state_queue(v, plan);
		return;
	}
	if (v->requeue) {
		plan->reason = "next failed jobs queued again";
		task_state_requeue(v, plan);
		return;
	}
	if (ended != total)
		return;
	if (v->njobs[JOB_DONE] == total)
		task_state_go(plan, TASK_DONE, "every job done");
	else
		task_state_go(plan, TASK_FINALIZED,
		    "every job ended, some failed");
}

/*
 * No job holds a slot any more.  A job queued again meanwhile (a launch
 * the infrastructure refused) is killed with the task.
 */
static void
task_state_killing(const struct task_view *v, struct task_plan *plan)
{
	if (v->njobs[JOB_PENDING] + v->njobs[JOB_RUNNING] + v->njobs[JOB_KILL] >
	    0)
		return;
	task_state_go(plan, TASK_KILLED, "every job stopped");
	if (v->njobs[JOB_REGISTERED] > 0)
		task_state_move(plan, JOB_REGISTERED, JOB_KILLED, false, false);
	if (v->njobs[JOB_ASSIGNED] > 0)
		task_state_move(plan, JOB_ASSIGNED, JOB_KILLED, false, false);
}

void
task_step(const struct task_view *v, struct task_plan *plan)
{
	memset(plan, 0, sizeof(*plan));
	plan->next = v->status;
	plan->reason = "no change";

	if (v->status == TASK_REMOVED) {
		if (v->signal != SIGNAL_NONE) {
			plan->consume_signal = true;
			plan->reason = "signal ignored: the task is removed";
		}
		return;
	}
	switch (v->signal) {
	case SIGNAL_NONE:
		break;
	case SIGNAL_KILL:
		task_state_kill(v, plan);
		return;
	case SIGNAL_RETRY:
		task_state_retry(v, plan);
		return;
	case SIGNAL_DELETE:
		task_state_delete(v, plan);
		return;
	}

	switch (v->status) {
	case TASK_REGISTERED:
		if (v->waits) {
			plan->reason = "waits for a task it runs after";
			break;
		}
		if (task_state_total(v) == 0) {
			/* --inputs-of a task whose output has no file. */
			task_state_go(plan, TASK_BROKEN,
			    "no inputs: the task it takes them from wrote none");
			break;
		}
		if (v->skip_test) {
			task_state_go(plan, TASK_RUNNING,
			    "queued without a test job");
			task_state_queue(v, plan);
		} else {
			task_state_go(plan, TASK_TESTING, "test job queued");
			task_state_move(plan, JOB_REGISTERED, JOB_ASSIGNED,
			    true, true);
		}
		break;
	case TASK_TESTING:
		task_state_testing(v, plan);
		break;
	case TASK_RUNNING:
		task_state_running(v, plan);
		break;
	case TASK_KILLING:
		task_state_killing(v, plan);
		break;
	case TASK_DONE:
	case TASK_FINALIZED:
	case TASK_BROKEN:
	case TASK_KILLED:
		if (v->retention_expired && !v->waited_for) {
			task_state_go(plan, TASK_REMOVED, "retention expired");
			plan->remove = true;
		}
		break;
	case TASK_REMOVED:
	case TASK_NSTATUS:
		BUG("task status %d", (int)v->status);
	}
}
