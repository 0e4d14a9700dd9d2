/* libs: orch_core */
/*
 * test-task-state.c - the task state machine: one row per line of
 * SPEC.md's task table, the signals each state refuses or accepts, the
 * job state changes, and the state names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/core.h"

/* clang-format off: the tables read better as written */
#define MV(f, t)                                                               \
	{                                                                      \
		JOB_##f, JOB_##t, false, false, 0, false                       \
	}
#define MV_TEST(f, t)                                                          \
	{                                                                      \
		JOB_##f, JOB_##t, true, true, 0, false                         \
	}
/* A chunk queued: at most n jobs, lowest index first. */
#define MV_CHUNK(n)                                                            \
	{                                                                      \
		JOB_REGISTERED, JOB_ASSIGNED, false, false, n, false           \
	}
/* A chunk of a retry's failed jobs queued again, from the task's cursor. */
#define MV_REQUEUE(n)                                                          \
	{                                                                      \
		JOB_FAILED, JOB_ASSIGNED, false, false, n, true                \
	}
#define NMOVES(...)                                                            \
	(sizeof((struct job_move[]){ __VA_ARGS__ }) / sizeof(struct job_move))
#define MOVES(...) .moves = { __VA_ARGS__ }, .nmoves = NMOVES(__VA_ARGS__)

struct step_row {
	const char *what;
	struct task_view v;
	enum task_status next;
	bool consume;
	bool remove;
	bool reset;
	struct job_move moves[TASK_PLAN_MAXMOVES];
	size_t nmoves;
};

/* The kill moves: queued jobs killed at once, placed ones asked to stop. */
#define KILL_MOVES                                                             \
	MOVES(MV(REGISTERED, KILLED), MV(ASSIGNED, KILLED), MV(PENDING, KILL), \
	    MV(RUNNING, KILL))

static const struct step_row step_rows[] = {
	/* registered -> testing: job 0 queued alone, as a test job. */
	{ "registered->testing",
	    { .status = TASK_REGISTERED,
	        .njobs = { [JOB_REGISTERED] = 5 },
	        .test_status = JOB_REGISTERED },
	    TASK_TESTING, false, false, false,
	    MOVES(MV_TEST(REGISTERED, ASSIGNED)) },
	/* registered -> running: skip the test job, the first chunk queued. */
	{ "registered->running (skip test)",
	    { .status = TASK_REGISTERED,
	        .skip_test = true,
	        .njobs = { [JOB_REGISTERED] = 5 },
	        .test_status = JOB_REGISTERED },
	    TASK_RUNNING, false, false, false,
	    MOVES(MV_CHUNK(TASK_QUEUE_CHUNK)) },
	/* testing -> running: test done with exit 0, the first chunk of the
	 * others queued. */
	{ "testing->running",
	    { .status = TASK_TESTING,
	        .njobs = { [JOB_REGISTERED] = 4, [JOB_DONE] = 1 },
	        .test_status = JOB_DONE,
	        .test_exit_code = 0 },
	    TASK_RUNNING, false, false, false,
	    MOVES(MV_CHUNK(TASK_QUEUE_CHUNK)) },
	{ "testing->running (chunk of 3)",
	    { .status = TASK_TESTING,
	        .njobs = { [JOB_REGISTERED] = 9, [JOB_DONE] = 1 },
	        .test_status = JOB_DONE,
	        .test_exit_code = 0,
	        .queue_chunk = 3 },
	    TASK_RUNNING, false, false, false, MOVES(MV_CHUNK(3)) },
	/* A single-job task: nothing else to queue, still running. */
	{ "testing->running (single job)",
	    { .status = TASK_TESTING,
	        .njobs = { [JOB_DONE] = 1 },
	        .test_status = JOB_DONE,
	        .test_exit_code = 0 },
	    TASK_RUNNING, false, false, false,
	    MOVES(MV_CHUNK(TASK_QUEUE_CHUNK)) },
	/* running with jobs left to queue: the next chunk, still running. */
	{ "running, next chunk",
	    { .status = TASK_RUNNING,
	        .njobs = { [JOB_REGISTERED] = 4,
	            [JOB_ASSIGNED] = 3,
	            [JOB_DONE] = 1 },
	        .test_status = JOB_DONE },
	    TASK_RUNNING, false, false, false,
	    MOVES(MV_CHUNK(TASK_QUEUE_CHUNK)) },
	{ "running, next chunk of 3",
	    { .status = TASK_RUNNING,
	        .njobs = { [JOB_REGISTERED] = 4, [JOB_DONE] = 1 },
	        .test_status = JOB_DONE,
	        .queue_chunk = 3 },
	    TASK_RUNNING, false, false, false, MOVES(MV_CHUNK(3)) },
	/* Jobs left to queue: neither done nor finalized, whatever ended. */
	{ "running, others ended, jobs left to queue",
	    { .status = TASK_RUNNING,
	        .njobs = { [JOB_REGISTERED] = 2,
	            [JOB_DONE] = 2,
	            [JOB_FAILED] = 1 },
	        .test_status = JOB_DONE },
	    TASK_RUNNING, false, false, false,
	    MOVES(MV_CHUNK(TASK_QUEUE_CHUNK)) },
	/* A kill takes every job left to queue, not a chunk. */
	{ "running, jobs left to queue, kill",
	    { .status = TASK_RUNNING,
	        .signal = SIGNAL_KILL,
	        .njobs = { [JOB_REGISTERED] = 4,
	            [JOB_ASSIGNED] = 3,
	            [JOB_DONE] = 1 },
	        .test_status = JOB_DONE,
	        .queue_chunk = 3 },
	    TASK_KILLING, true, false, false, KILL_MOVES },
	/* testing -> broken: the test job failed or could not start. */
	{ "testing->broken (test failed)",
	    { .status = TASK_TESTING,
	        .njobs = { [JOB_REGISTERED] = 4, [JOB_FAILED] = 1 },
	        .test_status = JOB_FAILED,
	        .test_exit_code = 2 },
	    TASK_BROKEN, false, false, false, MOVES(MV(REGISTERED, BROKEN)) },
	{ "testing->broken (test killed)",
	    { .status = TASK_TESTING,
	        .njobs = { [JOB_REGISTERED] = 4, [JOB_KILLED] = 1 },
	        .test_status = JOB_KILLED,
	        .test_exit_code = -1 },
	    TASK_BROKEN, false, false, false, MOVES(MV(REGISTERED, BROKEN)) },
	{ "testing->broken (test could not start)",
	    { .status = TASK_TESTING,
	        .njobs = { [JOB_BROKEN] = 5 },
	        .test_status = JOB_BROKEN },
	    TASK_BROKEN, false, false, false, MOVES(MV(REGISTERED, BROKEN)) },
	{ "testing->broken (done but non-zero exit)",
	    { .status = TASK_TESTING,
	        .njobs = { [JOB_REGISTERED] = 4, [JOB_DONE] = 1 },
	        .test_status = JOB_DONE,
	        .test_exit_code = 1 },
	    TASK_BROKEN, false, false, false, MOVES(MV(REGISTERED, BROKEN)) },
	/* running -> done / finalized. */
	{ "running->done",
	    { .status = TASK_RUNNING,
	        .njobs = { [JOB_DONE] = 5 },
	        .test_status = JOB_DONE },
	    TASK_DONE, false, false, false, .nmoves = 0 },
	{ "running->finalized",
	    { .status = TASK_RUNNING,
	        .njobs = { [JOB_DONE] = 3, [JOB_FAILED] = 2 },
	        .test_status = JOB_DONE },
	    TASK_FINALIZED, false, false, false, .nmoves = 0 },
	{ "running->finalized (all failed)",
	    { .status = TASK_RUNNING,
	        .njobs = { [JOB_FAILED] = 5 },
	        .test_status = JOB_FAILED },
	    TASK_FINALIZED, false, false, false, .nmoves = 0 },
	/* Ended, not all done, none failed (a job lost): finalized too. */
	{ "running->finalized (one killed)",
	    { .status = TASK_RUNNING,
	        .njobs = { [JOB_DONE] = 4, [JOB_KILLED] = 1 },
	        .test_status = JOB_DONE },
	    TASK_FINALIZED, false, false, false, .nmoves = 0 },
	/* registered, testing, running -> killing on kill. */
	{ "registered->killing",
	    { .status = TASK_REGISTERED,
	        .signal = SIGNAL_KILL,
	        .njobs = { [JOB_REGISTERED] = 5 } },
	    TASK_KILLING, true, false, false, KILL_MOVES },
	{ "testing->killing",
	    { .status = TASK_TESTING,
	        .signal = SIGNAL_KILL,
	        .njobs = { [JOB_REGISTERED] = 4, [JOB_RUNNING] = 1 },
	        .test_status = JOB_RUNNING },
	    TASK_KILLING, true, false, false, KILL_MOVES },
	{ "running->killing",
	    { .status = TASK_RUNNING,
	        .signal = SIGNAL_KILL,
	        .njobs = { [JOB_ASSIGNED] = 2,
	            [JOB_PENDING] = 1,
	            [JOB_RUNNING] = 1,
	            [JOB_DONE] = 1 },
	        .test_status = JOB_DONE },
	    TASK_KILLING, true, false, false, KILL_MOVES },
	/* killing -> killed once no job holds a slot. */
	{ "killing->killed",
	    { .status = TASK_KILLING,
	        .njobs = { [JOB_KILLED] = 3,
	            [JOB_DONE] = 1,
	            [JOB_FAILED] = 1 } },
	    TASK_KILLED, false, false, false, .nmoves = 0 },
	/* A job queued again meanwhile (launch refused) dies with it. */
	{ "killing->killed (a job queued again)",
	    { .status = TASK_KILLING,
	        .njobs = { [JOB_KILLED] = 3, [JOB_ASSIGNED] = 1 } },
	    TASK_KILLED, false, false, false, MOVES(MV(ASSIGNED, KILLED)) },
	/* broken, killed -> registered on retry; finalized -> running. */
	{ "broken->registered",
	    { .status = TASK_BROKEN,
	        .signal = SIGNAL_RETRY,
	        .njobs = { [JOB_FAILED] = 1, [JOB_BROKEN] = 4 },
	        .test_status = JOB_FAILED },
	    TASK_REGISTERED, true, false, true,
	    MOVES(MV(FAILED, REGISTERED), MV(KILLED, REGISTERED),
	        MV(BROKEN, REGISTERED)) },
	{ "killed->registered",
	    { .status = TASK_KILLED,
	        .signal = SIGNAL_RETRY,
	        .njobs = { [JOB_DONE] = 2, [JOB_KILLED] = 3 },
	        .test_status = JOB_DONE },
	    TASK_REGISTERED, true, false, true,
	    MOVES(MV(FAILED, REGISTERED), MV(KILLED, REGISTERED),
	        MV(BROKEN, REGISTERED)) },
	{ "finalized->running",
	    { .status = TASK_FINALIZED,
	        .signal = SIGNAL_RETRY,
	        .njobs = { [JOB_DONE] = 3, [JOB_FAILED] = 2 },
	        .test_status = JOB_DONE },
	    TASK_RUNNING, true, false, true,
	    MOVES(MV_REQUEUE(TASK_QUEUE_CHUNK)) },
	{ "finalized->running (chunk of 3)",
	    { .status = TASK_FINALIZED,
	        .signal = SIGNAL_RETRY,
	        .njobs = { [JOB_DONE] = 1, [JOB_FAILED] = 9 },
	        .test_status = JOB_DONE,
	        .queue_chunk = 3 },
	    TASK_RUNNING, true, false, true, MOVES(MV_REQUEUE(3)) },
	/* A retry with failed jobs left to queue again: the next chunk; the
	 * task is neither done nor finalized, whatever ended. */
	{ "running, retry's next chunk",
	    { .status = TASK_RUNNING,
	        .njobs = { [JOB_DONE] = 3, [JOB_FAILED] = 2 },
	        .test_status = JOB_DONE,
	        .queue_chunk = 3,
	        .requeue = true },
	    TASK_RUNNING, false, false, false, MOVES(MV_REQUEUE(3)) },
	/* Its last chunk queued: jobs that failed again end it finalized. */
	{ "running->finalized (a retry's jobs failed again)",
	    { .status = TASK_RUNNING,
	        .njobs = { [JOB_DONE] = 3, [JOB_FAILED] = 2 },
	        .test_status = JOB_DONE },
	    TASK_FINALIZED, false, false, false, .nmoves = 0 },
	/* A kill: the failed jobs left stay failed (no new attempt to kill,
	 * their end recorded once); failed -> killed is no SPEC change. */
	{ "running, retry's jobs left, kill",
	    { .status = TASK_RUNNING,
	        .signal = SIGNAL_KILL,
	        .njobs = { [JOB_ASSIGNED] = 3,
	            [JOB_DONE] = 1,
	            [JOB_FAILED] = 6 },
	        .test_status = JOB_DONE,
	        .queue_chunk = 3,
	        .requeue = true },
	    TASK_KILLING, true, false, false, KILL_MOVES },
	/* done, finalized, broken, killed -> removed: delete... */
	{ "done->removed (delete)",
	    { .status = TASK_DONE,
	        .signal = SIGNAL_DELETE,
	        .njobs = { [JOB_DONE] = 5 } },
	    TASK_REMOVED, true, true, false, .nmoves = 0 },
	{ "finalized->removed (delete)",
	    { .status = TASK_FINALIZED,
	        .signal = SIGNAL_DELETE,
	        .njobs = { [JOB_FAILED] = 5 } },
	    TASK_REMOVED, true, true, false, .nmoves = 0 },
	{ "broken->removed (delete)",
	    { .status = TASK_BROKEN,
	        .signal = SIGNAL_DELETE,
	        .njobs = { [JOB_BROKEN] = 5 } },
	    TASK_REMOVED, true, true, false, .nmoves = 0 },
	{ "killed->removed (delete)",
	    { .status = TASK_KILLED,
	        .signal = SIGNAL_DELETE,
	        .njobs = { [JOB_KILLED] = 5 } },
	    TASK_REMOVED, true, true, false, .nmoves = 0 },
	/* ...or retention expired. */
	{ "done->removed (retention)",
	    { .status = TASK_DONE,
	        .retention_expired = true,
	        .njobs = { [JOB_DONE] = 5 } },
	    TASK_REMOVED, false, true, false, .nmoves = 0 },
	{ "finalized->removed (retention)",
	    { .status = TASK_FINALIZED,
	        .retention_expired = true,
	        .njobs = { [JOB_FAILED] = 5 } },
	    TASK_REMOVED, false, true, false, .nmoves = 0 },
	{ "broken->removed (retention)",
	    { .status = TASK_BROKEN,
	        .retention_expired = true,
	        .njobs = { [JOB_BROKEN] = 5 } },
	    TASK_REMOVED, false, true, false, .nmoves = 0 },
	{ "killed->removed (retention)",
	    { .status = TASK_KILLED,
	        .retention_expired = true,
	        .njobs = { [JOB_KILLED] = 5 } },
	    TASK_REMOVED, false, true, false, .nmoves = 0 },
	/* A retry wins over retention (signals come first). */
	{ "killed->registered (retry, retention expired)",
	    { .status = TASK_KILLED,
	        .signal = SIGNAL_RETRY,
	        .retention_expired = true,
	        .njobs = { [JOB_KILLED] = 5 } },
	    TASK_REGISTERED, true, false, true,
	    MOVES(MV(FAILED, REGISTERED), MV(KILLED, REGISTERED),
	        MV(BROKEN, REGISTERED)) },

	/* Nothing changes. */
	{ "testing, test job waiting",
	    { .status = TASK_TESTING,
	        .njobs = { [JOB_REGISTERED] = 4, [JOB_ASSIGNED] = 1 },
	        .test_status = JOB_ASSIGNED },
	    TASK_TESTING, false, false, false, .nmoves = 0 },
	{ "testing, test job pending",
	    { .status = TASK_TESTING,
	        .njobs = { [JOB_REGISTERED] = 4, [JOB_PENDING] = 1 },
	        .test_status = JOB_PENDING },
	    TASK_TESTING, false, false, false, .nmoves = 0 },
	{ "testing, test job running",
	    { .status = TASK_TESTING,
	        .njobs = { [JOB_REGISTERED] = 4, [JOB_RUNNING] = 1 },
	        .test_status = JOB_RUNNING },
	    TASK_TESTING, false, false, false, .nmoves = 0 },
	{ "running, one job left",
	    { .status = TASK_RUNNING,
	        .njobs = { [JOB_DONE] = 4, [JOB_RUNNING] = 1 } },
	    TASK_RUNNING, false, false, false, .nmoves = 0 },
	{ "running, one job queued again",
	    { .status = TASK_RUNNING,
	        .njobs = { [JOB_DONE] = 4, [JOB_ASSIGNED] = 1 } },
	    TASK_RUNNING, false, false, false, .nmoves = 0 },
	{ "killing, one job pending",
	    { .status = TASK_KILLING,
	        .njobs = { [JOB_KILLED] = 4, [JOB_PENDING] = 1 } },
	    TASK_KILLING, false, false, false, .nmoves = 0 },
	{ "killing, one job running",
	    { .status = TASK_KILLING,
	        .njobs = { [JOB_KILLED] = 4, [JOB_RUNNING] = 1 } },
	    TASK_KILLING, false, false, false, .nmoves = 0 },
	{ "killing, one job stopping",
	    { .status = TASK_KILLING,
	        .njobs = { [JOB_KILLED] = 4, [JOB_KILL] = 1 } },
	    TASK_KILLING, false, false, false, .nmoves = 0 },
	{ "done, retention not expired",
	    { .status = TASK_DONE, .njobs = { [JOB_DONE] = 5 } }, TASK_DONE,
	    false, false, false, .nmoves = 0 },
	{ "removed", { .status = TASK_REMOVED, .retention_expired = true },
	    TASK_REMOVED, false, false, false, .nmoves = 0 },

	/* Signals that do not apply: consumed and ignored. */
	{ "running, retry ignored",
	    { .status = TASK_RUNNING,
	        .signal = SIGNAL_RETRY,
	        .njobs = { [JOB_DONE] = 5 } },
	    TASK_RUNNING, true, false, false, .nmoves = 0 },
	{ "running, delete ignored",
	    { .status = TASK_RUNNING,
	        .signal = SIGNAL_DELETE,
	        .njobs = { [JOB_RUNNING] = 5 } },
	    TASK_RUNNING, true, false, false, .nmoves = 0 },
	{ "registered, retry ignored",
	    { .status = TASK_REGISTERED,
	        .signal = SIGNAL_RETRY,
	        .njobs = { [JOB_REGISTERED] = 5 } },
	    TASK_REGISTERED, true, false, false, .nmoves = 0 },
	{ "done, kill ignored",
	    { .status = TASK_DONE,
	        .signal = SIGNAL_KILL,
	        .njobs = { [JOB_DONE] = 5 } },
	    TASK_DONE, true, false, false, .nmoves = 0 },
	{ "done, retry ignored",
	    { .status = TASK_DONE,
	        .signal = SIGNAL_RETRY,
	        .njobs = { [JOB_DONE] = 5 } },
	    TASK_DONE, true, false, false, .nmoves = 0 },
	{ "killing, kill ignored",
	    { .status = TASK_KILLING,
	        .signal = SIGNAL_KILL,
	        .njobs = { [JOB_KILL] = 5 } },
	    TASK_KILLING, true, false, false, .nmoves = 0 },
	{ "killing, retry ignored",
	    { .status = TASK_KILLING,
	        .signal = SIGNAL_RETRY,
	        .njobs = { [JOB_KILL] = 5 } },
	    TASK_KILLING, true, false, false, .nmoves = 0 },
	{ "killing, delete ignored",
	    { .status = TASK_KILLING,
	        .signal = SIGNAL_DELETE,
	        .njobs = { [JOB_KILLED] = 5 } },
	    TASK_KILLING, true, false, false, .nmoves = 0 },
	{ "removed, delete ignored",
	    { .status = TASK_REMOVED, .signal = SIGNAL_DELETE }, TASK_REMOVED,
	    true, false, false, .nmoves = 0 },
};

/* clang-format on */

static void
test_step_table(void **state)
{
	const struct step_row *row;
	struct task_plan plan;
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(step_rows) / sizeof(step_rows[0]); i++) {
		row = &step_rows[i];
		print_message("row: %s\n", row->what);
		memset(&plan, 0xa5, sizeof(plan));
		task_step(&row->v, &plan);
		assert_int_equal(plan.next, row->next);
		assert_int_equal(plan.consume_signal, row->consume);
		assert_int_equal(plan.remove, row->remove);
		assert_int_equal(plan.reset_retention, row->reset);
		assert_non_null(plan.reason);
		assert_int_equal(plan.nmoves, row->nmoves);
		for (j = 0; j < row->nmoves; j++) {
			assert_int_equal(plan.moves[j].from,
			    row->moves[j].from);
			assert_int_equal(plan.moves[j].to, row->moves[j].to);
			assert_int_equal(plan.moves[j].test_only,
			    row->moves[j].test_only);
			assert_int_equal(plan.moves[j].mark_test,
			    row->moves[j].mark_test);
			assert_int_equal(plan.moves[j].limit,
			    row->moves[j].limit);
			assert_int_equal(plan.moves[j].requeue,
			    row->moves[j].requeue);
		}
		if (row->v.signal != SIGNAL_NONE && row->next == row->v.status)
			assert_non_null(strstr(plan.reason, "ignored"));
		if (row->next == row->v.status && !row->consume &&
		    row->nmoves == 0)
			assert_string_equal(plan.reason, "no change");
	}
}

/*
 * A small task of njobs jobs, stepped and applied the way the pilot does,
 * until nothing changes.
 */
#define SIM_JOBS 4

struct sim_task {
	struct task_view v;
	enum job_status job[SIM_JOBS];
	bool is_test[SIM_JOBS];
	int njobs;
	int nconsumed; /* signals consumed */
	int cursor;    /* the store's task.requeue_from + 1; 0: NULL */
};

static void
sim_count(struct sim_task *t)
{
	int i;

	memset(t->v.njobs, 0, sizeof(t->v.njobs));
	t->v.requeue = false;
	for (i = 0; i < t->njobs; i++) {
		t->v.njobs[t->job[i]]++;
		/* As store_task_dirty(): failed jobs from the cursor on. */
		if (t->cursor > 0 && i >= t->cursor - 1 &&
		    t->job[i] == JOB_FAILED)
			t->v.requeue = true;
	}
	t->v.test_status = t->job[0];
}

/* Apply one step; returns whether anything changed. */
static bool
sim_step(struct sim_task *t)
{
	struct task_plan plan;
	size_t m;
	int i, nmoved;
	bool changed;

	sim_count(t);
	task_step(&t->v, &plan);
	changed =
	    plan.next != t->v.status || plan.consume_signal || plan.nmoves > 0;
	for (m = 0; m < plan.nmoves; m++) {
		nmoved = 0;
		/* A retry's chunk: from the cursor on (none: 0). */
		i = plan.moves[m].requeue && t->cursor > 0 ? t->cursor - 1 : 0;
		if (plan.moves[m].requeue)
			t->cursor = 0; /* past the last, unless below */
		for (; i < t->njobs; i++) {
			if (plan.moves[m].test_only && i != 0)
				continue;
			if (t->job[i] != plan.moves[m].from)
				continue;
			/* A chunk: the lowest indexes first, as the store. */
			if (plan.moves[m].limit > 0 &&
			    nmoved == plan.moves[m].limit) {
				if (plan.moves[m].requeue)
					t->cursor = i + 1;
				break;
			}
			nmoved++;
			assert_true(job_transition_allowed(t->job[i],
			    plan.moves[m].to));
			t->job[i] = plan.moves[m].to;
			if (plan.moves[m].mark_test)
				t->is_test[i] = true;
		}
	}
	if (plan.consume_signal) {
		assert_int_not_equal(t->v.signal, SIGNAL_NONE);
		t->v.signal = SIGNAL_NONE;
		t->nconsumed++;
	}
	if (plan.reset_retention)
		t->v.retention_expired = false;
	t->v.status = plan.next;
	/* As store_task_apply(): any status but running clears it. */
	if (t->v.status != TASK_RUNNING)
		t->cursor = 0;
	sim_count(t);
	return changed;
}

static void
sim_settle(struct sim_task *t)
{
	int guard = 0;

	while (sim_step(t))
		assert_true(++guard < 20);
}

static void
sim_set_all(struct sim_task *t, enum job_status from, enum job_status to)
{
	int i;

	for (i = 0; i < t->njobs; i++)
		if (t->job[i] == from)
			t->job[i] = to;
}

static void
test_single_job_task(void **state)
{
	struct sim_task t = { .v = { .status = TASK_REGISTERED }, .njobs = 1 };

	(void)state;
	t.job[0] = JOB_REGISTERED;
	sim_settle(&t);
	assert_int_equal(t.v.status, TASK_TESTING);
	assert_int_equal(t.job[0], JOB_ASSIGNED);
	assert_true(t.is_test[0]);
	t.job[0] = JOB_DONE;
	t.v.test_exit_code = 0;
	assert_true(sim_step(&t));
	assert_int_equal(t.v.status, TASK_RUNNING);
	assert_true(sim_step(&t));
	assert_int_equal(t.v.status, TASK_DONE);
	assert_false(sim_step(&t));
}

static void
test_whole_life(void **state)
{
	struct sim_task t = { .v = { .status = TASK_REGISTERED },
		.njobs = SIM_JOBS };
	int i;

	(void)state;
	for (i = 0; i < SIM_JOBS; i++)
		t.job[i] = JOB_REGISTERED;
	sim_settle(&t);
	assert_int_equal(t.v.status, TASK_TESTING);
	assert_int_equal(t.v.njobs[JOB_ASSIGNED], 1);
	assert_int_equal(t.v.njobs[JOB_REGISTERED], SIM_JOBS - 1);
	assert_false(t.is_test[1]);

	/* Placed, refused by the infrastructure, queued again: no change. */
	t.job[0] = JOB_PENDING;
	sim_settle(&t);
	t.job[0] = JOB_ASSIGNED;
	sim_settle(&t);
	assert_int_equal(t.v.status, TASK_TESTING);
	assert_int_equal(t.v.njobs[JOB_REGISTERED], SIM_JOBS - 1);

	t.job[0] = JOB_DONE;
	sim_settle(&t);
	assert_int_equal(t.v.status, TASK_RUNNING);
	assert_int_equal(t.v.njobs[JOB_ASSIGNED], SIM_JOBS - 1);

	/* One fails: finalized; retry queues the failed one again. */
	t.job[1] = JOB_FAILED;
	t.job[2] = JOB_DONE;
	t.job[3] = JOB_DONE;
	sim_settle(&t);
	assert_int_equal(t.v.status, TASK_FINALIZED);
	t.v.signal = SIGNAL_RETRY;
	t.v.retention_expired = true;
	sim_settle(&t);
	assert_int_equal(t.nconsumed, 1);
	assert_int_equal(t.v.status, TASK_RUNNING);
	assert_int_equal(t.job[1], JOB_ASSIGNED);
	assert_false(t.v.retention_expired);

	/* Kill while it runs: killing until the job stops, then killed. */
	t.job[1] = JOB_RUNNING;
	t.v.signal = SIGNAL_KILL;
	sim_settle(&t);
	assert_int_equal(t.nconsumed, 2);
	assert_int_equal(t.v.status, TASK_KILLING);
	assert_int_equal(t.job[1], JOB_KILL);
	/* A second kill on a killing task is consumed once and ignored. */
	t.v.signal = SIGNAL_KILL;
	sim_settle(&t);
	assert_int_equal(t.nconsumed, 3);
	assert_int_equal(t.v.status, TASK_KILLING);
	t.job[1] = JOB_KILLED;
	sim_settle(&t);
	assert_int_equal(t.v.status, TASK_KILLED);

	/* Retry: every job not done is made again and tested again. */
	t.v.signal = SIGNAL_RETRY;
	assert_true(sim_step(&t));
	assert_int_equal(t.v.status, TASK_REGISTERED);
	assert_int_equal(t.job[0], JOB_DONE);
	assert_int_equal(t.job[1], JOB_REGISTERED);
	sim_settle(&t);
	/* The test job passed before: testing moves straight on. */
	assert_int_equal(t.v.status, TASK_RUNNING);
	assert_int_equal(t.job[1], JOB_ASSIGNED);
	assert_int_equal(t.nconsumed, 4);

	/* Everything done; delete removes it. */
	sim_set_all(&t, JOB_ASSIGNED, JOB_DONE);
	sim_settle(&t);
	assert_int_equal(t.v.status, TASK_DONE);
	t.v.signal = SIGNAL_DELETE;
	sim_settle(&t);
	assert_int_equal(t.v.status, TASK_REMOVED);
	assert_int_equal(t.nconsumed, 5);
}

/*
 * Chunks of one: a step queues one job, lowest index first; a task with
 * jobs left to queue is not done though every queued job is; a kill
 * takes the jobs left.
 */
static void
test_queue_chunks(void **state)
{
	struct sim_task t = { .v = { .status = TASK_REGISTERED,
		                  .queue_chunk = 1 },
		.njobs = SIM_JOBS };
	int i;

	(void)state;
	for (i = 0; i < SIM_JOBS; i++)
		t.job[i] = JOB_REGISTERED;
	sim_settle(&t);
	assert_int_equal(t.v.status, TASK_TESTING);
	t.job[0] = JOB_DONE;
	assert_true(sim_step(&t));
	assert_int_equal(t.v.status, TASK_RUNNING);
	assert_int_equal(t.job[1], JOB_ASSIGNED);
	assert_int_equal(t.job[2], JOB_REGISTERED);
	assert_int_equal(t.job[3], JOB_REGISTERED);
	/* Job 1 ends before the next step: running, job 2 queued. */
	t.job[1] = JOB_DONE;
	assert_true(sim_step(&t));
	assert_int_equal(t.v.status, TASK_RUNNING);
	assert_int_equal(t.job[2], JOB_ASSIGNED);
	assert_int_equal(t.job[3], JOB_REGISTERED);
	t.job[2] = JOB_DONE;
	assert_true(sim_step(&t));
	assert_int_equal(t.v.status, TASK_RUNNING);
	assert_int_equal(t.job[3], JOB_ASSIGNED);
	assert_false(sim_step(&t));
	t.job[3] = JOB_DONE;
	sim_settle(&t);
	assert_int_equal(t.v.status, TASK_DONE);

	/* Killed with jobs left to queue: every one of them killed. */
	memset(&t, 0, sizeof(t));
	t.v.status = TASK_REGISTERED;
	t.v.skip_test = true;
	t.v.queue_chunk = 1;
	t.njobs = SIM_JOBS;
	for (i = 0; i < SIM_JOBS; i++)
		t.job[i] = JOB_REGISTERED;
	assert_true(sim_step(&t));
	assert_int_equal(t.v.status, TASK_RUNNING);
	assert_int_equal(t.job[0], JOB_ASSIGNED);
	assert_int_equal(t.v.njobs[JOB_REGISTERED], SIM_JOBS - 1);
	t.v.signal = SIGNAL_KILL;
	sim_settle(&t);
	assert_int_equal(t.v.status, TASK_KILLED);
	assert_int_equal(t.v.njobs[JOB_KILLED], SIM_JOBS);
}

/*
 * A finalized task's retry queues its failed jobs again in chunks of one,
 * lowest index first: a job that fails again in the run is not queued a
 * second time; the task is running until the last chunk is queued and
 * every job ended; a kill leaves the failed jobs not queued yet failed.
 */
static void
test_retry_chunks(void **state)
{
	struct sim_task t = { .v = { .status = TASK_FINALIZED,
		                  .queue_chunk = 1 },
		.njobs = SIM_JOBS };
	int i;

	(void)state;
	t.job[0] = JOB_DONE;
	for (i = 1; i < SIM_JOBS; i++)
		t.job[i] = JOB_FAILED;
	t.v.signal = SIGNAL_RETRY;
	assert_true(sim_step(&t));
	assert_int_equal(t.v.status, TASK_RUNNING);
	assert_int_equal(t.nconsumed, 1);
	assert_int_equal(t.job[1], JOB_ASSIGNED);
	assert_int_equal(t.job[2], JOB_FAILED);
	assert_int_equal(t.job[3], JOB_FAILED);
	assert_int_equal(t.cursor, 2 + 1);
	/* Job 1 fails again before the next step: job 2 is queued, not 1. */
	t.job[1] = JOB_FAILED;
	assert_true(sim_step(&t));
	assert_int_equal(t.v.status, TASK_RUNNING);
	assert_int_equal(t.job[1], JOB_FAILED);
	assert_int_equal(t.job[2], JOB_ASSIGNED);
	assert_int_equal(t.job[3], JOB_FAILED);
	t.job[2] = JOB_DONE;
	assert_true(sim_step(&t));
	assert_int_equal(t.v.status, TASK_RUNNING);
	assert_int_equal(t.job[3], JOB_ASSIGNED);
	assert_int_equal(t.cursor, 0);
	assert_false(sim_step(&t));
	t.job[3] = JOB_DONE;
	sim_settle(&t);
	assert_int_equal(t.v.status, TASK_FINALIZED);
	assert_int_equal(t.job[1], JOB_FAILED);

	/* Retried again: job 1 alone, the task is done. */
	t.v.signal = SIGNAL_RETRY;
	assert_true(sim_step(&t));
	assert_int_equal(t.job[1], JOB_ASSIGNED);
	assert_int_equal(t.cursor, 0);
	t.job[1] = JOB_DONE;
	sim_settle(&t);
	assert_int_equal(t.v.status, TASK_DONE);

	/* Killed with failed jobs left: they stay failed, the task killed. */
	t.v.status = TASK_FINALIZED;
	for (i = 1; i < SIM_JOBS; i++)
		t.job[i] = JOB_FAILED;
	t.v.signal = SIGNAL_RETRY;
	assert_true(sim_step(&t));
	assert_int_equal(t.job[1], JOB_ASSIGNED);
	t.v.signal = SIGNAL_KILL;
	sim_settle(&t);
	assert_int_equal(t.v.status, TASK_KILLED);
	assert_int_equal(t.job[1], JOB_KILLED);
	assert_int_equal(t.job[2], JOB_FAILED);
	assert_int_equal(t.job[3], JOB_FAILED);
	assert_int_equal(t.cursor, 0);
}

static void
test_broken_and_retry(void **state)
{
	struct sim_task t = { .v = { .status = TASK_REGISTERED },
		.njobs = SIM_JOBS };
	int i;

	(void)state;
	for (i = 0; i < SIM_JOBS; i++)
		t.job[i] = JOB_REGISTERED;
	sim_settle(&t);
	t.job[0] = JOB_FAILED;
	t.v.test_exit_code = 1;
	sim_settle(&t);
	assert_int_equal(t.v.status, TASK_BROKEN);
	assert_int_equal(t.v.njobs[JOB_BROKEN], SIM_JOBS - 1);
	t.v.signal = SIGNAL_RETRY;
	sim_settle(&t);
	assert_int_equal(t.nconsumed, 1);
	assert_int_equal(t.v.status, TASK_TESTING);
	assert_int_equal(t.job[0], JOB_ASSIGNED);
	assert_int_equal(t.v.njobs[JOB_REGISTERED], SIM_JOBS - 1);
}

/* Every signal, in every state, is consumed exactly once. */
static void
test_signals_consumed_once(void **state)
{
	struct task_plan plan;
	struct task_view v;
	int st, sig;

	(void)state;
	for (st = 0; st < TASK_NSTATUS; st++) {
		for (sig = SIGNAL_RETRY; sig <= SIGNAL_DELETE; sig++) {
			memset(&v, 0, sizeof(v));
			v.status = (enum task_status)st;
			v.signal = (enum task_signal)sig;
			v.njobs[JOB_DONE] = 1;
			v.test_status = JOB_DONE;
			task_step(&v, &plan);
			assert_true(plan.consume_signal);
			assert_non_null(plan.reason);
			assert_int_equal(plan.remove,
			    plan.next == TASK_REMOVED &&
			        v.status != TASK_REMOVED);
		}
	}
}

/* clang-format off */
/* allowed[state][signal]: may a user leave the signal. */
static const bool signal_allowed[TASK_NSTATUS][SIGNAL_DELETE + 1] = {
	[TASK_REGISTERED] = { [SIGNAL_KILL] = true },
	[TASK_TESTING] = { [SIGNAL_KILL] = true },
	[TASK_RUNNING] = { [SIGNAL_KILL] = true },
	[TASK_DONE] = { [SIGNAL_DELETE] = true },
	[TASK_FINALIZED] = { [SIGNAL_RETRY] = true, [SIGNAL_DELETE] = true },
	[TASK_BROKEN] = { [SIGNAL_RETRY] = true, [SIGNAL_DELETE] = true },
	[TASK_KILLING] = { false },
	[TASK_KILLED] = { [SIGNAL_RETRY] = true, [SIGNAL_DELETE] = true },
	[TASK_REMOVED] = { false },
};

/* clang-format on */

static void
test_signal_check(void **state)
{
	struct buf err = BUF_INIT, want = BUF_INIT;
	struct task_plan plan;
	struct task_view v;
	int st, sig, r;

	(void)state;
	for (st = 0; st < TASK_NSTATUS; st++) {
		for (sig = SIGNAL_RETRY; sig <= SIGNAL_DELETE; sig++) {
			buf_reset(&err);
			r = task_signal_check((enum task_status)st,
			    (enum task_signal)sig, "x", &err);
			print_message("%s %s: %d %s\n",
			    task_status_name((enum task_status)st),
			    task_signal_name((enum task_signal)sig), r,
			    err.data);
			if (signal_allowed[st][sig]) {
				assert_int_equal(r, 0);
			} else {
				assert_int_equal(r, ERR_CONFLICT);
				buf_reset(&want);
				buf_addf(&want, "task 'x' is %s",
				    task_status_name((enum task_status)st));
				assert_memory_equal(err.data, want.data,
				    want.len);
				assert_null(strchr(err.data, '\n'));
				assert_int_not_equal(err.data[err.len - 1],
				    '.');
			}
			/* The step agrees: accepted signals act. */
			memset(&v, 0, sizeof(v));
			v.status = (enum task_status)st;
			v.signal = (enum task_signal)sig;
			v.njobs[JOB_FAILED] = 1;
			v.test_status = JOB_FAILED;
			task_step(&v, &plan);
			assert_int_equal(plan.next != v.status,
			    signal_allowed[st][sig]);
		}
		assert_int_equal(task_signal_check((enum task_status)st,
		                     SIGNAL_NONE, "x", &err),
		    ERR_INVALID);
	}

	task_signal_check(TASK_RUNNING, SIGNAL_RETRY, "x", &err);
	assert_string_equal(err.data,
	    "task 'x' is running: only a broken, killed or finalized task can be retried");
	task_signal_check(TASK_RUNNING, SIGNAL_DELETE, "x", &err);
	assert_string_equal(err.data,
	    "task 'x' is running: only an ended task can be deleted (kill it first)");
	task_signal_check(TASK_DONE, SIGNAL_KILL, "x", &err);
	assert_string_equal(err.data,
	    "task 'x' is done: only a registered, testing or running task can be killed");
	buf_release(&err);
	buf_release(&want);
}

/* clang-format off */
/* from -> the states it may go to (SPEC.md's job states). */
static const bool job_moves[JOB_NSTATUS][JOB_NSTATUS] = {
	[JOB_REGISTERED] = { [JOB_REGISTERED] = true, [JOB_ASSIGNED] = true,
	    [JOB_KILLED] = true, [JOB_BROKEN] = true },
	[JOB_ASSIGNED] = { [JOB_REGISTERED] = true, [JOB_PENDING] = true,
	    [JOB_KILLED] = true, [JOB_BROKEN] = true },
	[JOB_PENDING] = { [JOB_ASSIGNED] = true, [JOB_RUNNING] = true,
	    [JOB_DONE] = true, [JOB_FAILED] = true, [JOB_KILL] = true,
	    [JOB_KILLED] = true },
	[JOB_RUNNING] = { [JOB_ASSIGNED] = true, [JOB_DONE] = true,
	    [JOB_FAILED] = true, [JOB_KILL] = true, [JOB_KILLED] = true },
	[JOB_DONE] = { false },
	[JOB_FAILED] = { [JOB_REGISTERED] = true, [JOB_ASSIGNED] = true },
	[JOB_KILL] = { [JOB_DONE] = true, [JOB_FAILED] = true,
	    [JOB_KILLED] = true },
	[JOB_KILLED] = { [JOB_REGISTERED] = true },
	[JOB_BROKEN] = { [JOB_REGISTERED] = true },
};

/* clang-format on */

static void
test_job_transitions(void **state)
{
	int from, to;

	(void)state;
	for (from = 0; from < JOB_NSTATUS; from++)
		for (to = 0; to < JOB_NSTATUS; to++) {
			print_message("%s -> %s\n",
			    job_status_name((enum job_status)from),
			    job_status_name((enum job_status)to));
			assert_int_equal(
			    job_transition_allowed((enum job_status)from,
			        (enum job_status)to),
			    job_moves[from][to]);
		}
}

static void
test_state_names(void **state)
{
	struct buf err = BUF_INIT;
	enum task_status ts;
	enum task_signal sg;
	enum job_status js;
	int i;

	(void)state;
	for (i = 0; i < TASK_NSTATUS; i++) {
		assert_int_equal(
		    task_status_parse(task_status_name((enum task_status)i),
		        &ts, &err),
		    0);
		assert_int_equal(ts, i);
	}
	for (i = 0; i <= SIGNAL_DELETE; i++) {
		assert_int_equal(
		    task_signal_parse(task_signal_name((enum task_signal)i),
		        &sg, &err),
		    0);
		assert_int_equal(sg, i);
	}
	for (i = 0; i < JOB_NSTATUS; i++) {
		assert_int_equal(
		    job_status_parse(job_status_name((enum job_status)i), &js,
		        &err),
		    0);
		assert_int_equal(js, i);
	}
	assert_string_equal(task_status_name(TASK_FINALIZED), "finalized");
	assert_string_equal(job_status_name(JOB_KILL), "kill");
	assert_int_equal(task_status_parse("Running", &ts, &err), ERR_INVALID);
	assert_string_equal(err.data, "unknown task status 'Running'");
	assert_int_equal(task_signal_parse("stop", &sg, &err), ERR_INVALID);
	assert_int_equal(job_status_parse("", &js, &err), ERR_INVALID);
	buf_release(&err);
}

/* The chunk sized by the time the last took (task_chunk_next). */
static void
test_chunk_sizing(void **state)
{
	const int64_t b = TASK_QUEUE_CHUNK_BUDGET_US;

	(void)state;
	/* On budget: the same; twice as long: half. */
	assert_int_equal(task_chunk_next(1000, b), 1000);
	assert_int_equal(task_chunk_next(2000, 2 * b), 1000);
	/* Fast: at most doubled a time, up to TASK_QUEUE_CHUNK. */
	assert_int_equal(task_chunk_next(1000, b / 10), 2000);
	assert_int_equal(task_chunk_next(1000, 0), 2000);
	assert_int_equal(task_chunk_next(4000, 1), TASK_QUEUE_CHUNK);
	assert_int_equal(task_chunk_next(TASK_QUEUE_CHUNK, b / 2),
	    TASK_QUEUE_CHUNK);
	/* Slow: never below TASK_QUEUE_CHUNK_MIN, however slow. */
	assert_int_equal(task_chunk_next(1000, 100 * b), TASK_QUEUE_CHUNK_MIN);
	assert_int_equal(task_chunk_next(1000, INT64_MAX), TASK_QUEUE_CHUNK_MIN);
	/* No chunk yet: the first one's. */
	assert_int_equal(task_chunk_next(0, b), TASK_QUEUE_CHUNK_FIRST);
	/* Between: proportional (1,000 in 60 ms -> 666 in 40). */
	assert_int_equal(task_chunk_next(1000, b * 3 / 2), 666);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_step_table),
		cmocka_unit_test(test_single_job_task),
		cmocka_unit_test(test_whole_life),
		cmocka_unit_test(test_broken_and_retry),
		cmocka_unit_test(test_queue_chunks),
		cmocka_unit_test(test_retry_chunks),
		cmocka_unit_test(test_chunk_sizing),
		cmocka_unit_test(test_signals_consumed_once),
		cmocka_unit_test(test_signal_check),
		cmocka_unit_test(test_job_transitions),
		cmocka_unit_test(test_state_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
