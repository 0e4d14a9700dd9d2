/* libs: orch_core */
/*
 * test-job-state.c - what the backend's word does to one attempt of a
 * job: one row per case of docs/internals/pilot.md's poll table and of
 * the bounded requeue, and every plan is a job change SPEC.md allows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/core.h"

struct step_row {
	const char *what;
	/* in */
	enum job_status status;
	enum job_seen seen;
	enum job_start start;
	enum job_end end;
	int64_t exit_code;
	int64_t lost;
	/* out */
	enum job_action action;
	enum job_status to;
	const char *reason;
	bool launched;
	bool ended;
	bool is_lost;
};

#define REFUSED JOB_REASON_REFUSED
#define LOST JOB_REASON_LOST

/* The table reads better as written. */
/* clang-format off */
static const struct step_row step_rows[] = {
	/* The backend ended it: how decides done, failed or killed. */
	{ "exit 0", JOB_RUNNING, JOB_SEEN_ENDED, JOB_START_NONE,
	    JOB_END_EXIT, 0, 0,
	    JOB_ACT_END, JOB_DONE, "exit", false, true, false },
	{ "exit 3", JOB_RUNNING, JOB_SEEN_ENDED, JOB_START_NONE,
	    JOB_END_EXIT, 3, 0,
	    JOB_ACT_END, JOB_FAILED, "exit", false, true, false },
	{ "signal", JOB_RUNNING, JOB_SEEN_ENDED, JOB_START_NONE,
	    JOB_END_SIGNAL, 137, 0,
	    JOB_ACT_END, JOB_FAILED, "signal", false, true, false },
	{ "signal, exit code 0", JOB_RUNNING, JOB_SEEN_ENDED,
	    JOB_START_NONE, JOB_END_SIGNAL, 0, 0,
	    JOB_ACT_END, JOB_FAILED, "signal", false, true, false },
	{ "timeout", JOB_RUNNING, JOB_SEEN_ENDED, JOB_START_NONE,
	    JOB_END_TIMEOUT, 143, 0,
	    JOB_ACT_END, JOB_FAILED, "timeout", false, true, false },
	{ "could not start", JOB_PENDING, JOB_SEEN_ENDED, JOB_START_NONE,
	    JOB_END_START, 127, 0,
	    JOB_ACT_END, JOB_FAILED, "could not start", false, true, false },
	/*
	 * Stopped, not asked (a shutdown's SIGTERM to its supervisor): the
	 * infrastructure's failure, queued again up to max_lost, then
	 * failed; never killed, which no retry would run again.
	 */
	{ "stopped, not asked", JOB_RUNNING, JOB_SEEN_ENDED,
	    JOB_START_NONE, JOB_END_STOPPED, 143, 0,
	    JOB_ACT_REQUEUE, JOB_ASSIGNED, JOB_REASON_STOPPED, false, false,
	    true },
	{ "stopped, not asked, the last time", JOB_RUNNING, JOB_SEEN_ENDED,
	    JOB_START_NONE, JOB_END_STOPPED, 143, 2,
	    JOB_ACT_END, JOB_FAILED, JOB_REASON_STOPPED, false, false, true },
	{ "stopped, asked", JOB_KILL, JOB_SEEN_ENDED, JOB_START_NONE,
	    JOB_END_STOPPED, 143, 0,
	    JOB_ACT_END, JOB_KILLED, "stopped", false, true, false },
	{ "asked, exit 0 first", JOB_KILL, JOB_SEEN_ENDED, JOB_START_NONE,
	    JOB_END_EXIT, 0, 0,
	    JOB_ACT_END, JOB_KILLED, "exit", false, true, false },
	{ "ended while pending", JOB_PENDING, JOB_SEEN_ENDED,
	    JOB_START_NONE, JOB_END_EXIT, 0, 0,
	    JOB_ACT_END, JOB_DONE, "exit", false, true, false },
	/* Running: a start the pilot did not record is recorded now. */
	{ "running, pending", JOB_PENDING, JOB_SEEN_RUNNING, JOB_START_NONE,
	    JOB_END_EXIT, -1, 0,
	    JOB_ACT_START, JOB_RUNNING, NULL, false, false, false },
	{ "running, running", JOB_RUNNING, JOB_SEEN_RUNNING,
	    JOB_START_NONE, JOB_END_EXIT, -1, 0,
	    JOB_ACT_NONE, JOB_RUNNING, NULL, false, false, false },
	{ "running, kill", JOB_KILL, JOB_SEEN_RUNNING, JOB_START_NONE,
	    JOB_END_EXIT, -1, 0,
	    JOB_ACT_NONE, JOB_KILL, NULL, false, false, false },
	/* Unknown and placed: what start() said this cycle. */
	{ "placed, started", JOB_PENDING, JOB_SEEN_UNKNOWN, JOB_START_OK,
	    JOB_END_EXIT, -1, 0,
	    JOB_ACT_START, JOB_RUNNING, NULL, true, false, false },
	{ "placed, unavailable", JOB_PENDING, JOB_SEEN_UNKNOWN,
	    JOB_START_UNAVAILABLE, JOB_END_EXIT, -1, 2,
	    JOB_ACT_NONE, JOB_PENDING, NULL, false, false, false },
	{ "placed, not asked", JOB_PENDING, JOB_SEEN_UNKNOWN,
	    JOB_START_NONE, JOB_END_EXIT, -1, 0,
	    JOB_ACT_NONE, JOB_PENDING, NULL, false, false, false },
	{ "placed, refused", JOB_PENDING, JOB_SEEN_UNKNOWN,
	    JOB_START_REFUSED, JOB_END_EXIT, -1, 0,
	    JOB_ACT_REQUEUE, JOB_ASSIGNED, REFUSED, false, false, true },
	{ "placed, refused, 2nd", JOB_PENDING, JOB_SEEN_UNKNOWN,
	    JOB_START_REFUSED, JOB_END_EXIT, -1, 1,
	    JOB_ACT_REQUEUE, JOB_ASSIGNED, REFUSED, false, false, true },
	{ "placed, refused, 3rd", JOB_PENDING, JOB_SEEN_UNKNOWN,
	    JOB_START_REFUSED, JOB_END_EXIT, -1, 2,
	    JOB_ACT_END, JOB_FAILED, REFUSED, false, false, true },
	/* Unknown once started: lost. */
	{ "unknown, running", JOB_RUNNING, JOB_SEEN_UNKNOWN,
	    JOB_START_NONE, JOB_END_EXIT, -1, 0,
	    JOB_ACT_REQUEUE, JOB_ASSIGNED, LOST, false, false, true },
	{ "unknown, running, 3rd", JOB_RUNNING, JOB_SEEN_UNKNOWN,
	    JOB_START_NONE, JOB_END_EXIT, -1, 2,
	    JOB_ACT_END, JOB_FAILED, LOST, false, false, true },
	{ "unknown, kill", JOB_KILL, JOB_SEEN_UNKNOWN, JOB_START_NONE,
	    JOB_END_EXIT, -1, 0,
	    JOB_ACT_END, JOB_KILLED, LOST, false, false, true },
	/* Lost: requeued twice, then failed; a job being stopped is killed. */
	{ "lost, 1st", JOB_RUNNING, JOB_SEEN_LOST, JOB_START_NONE,
	    JOB_END_EXIT, -1, 0,
	    JOB_ACT_REQUEUE, JOB_ASSIGNED, LOST, false, false, true },
	{ "lost, 2nd", JOB_RUNNING, JOB_SEEN_LOST, JOB_START_NONE,
	    JOB_END_EXIT, -1, 1,
	    JOB_ACT_REQUEUE, JOB_ASSIGNED, LOST, false, false, true },
	{ "lost, 3rd", JOB_RUNNING, JOB_SEEN_LOST, JOB_START_NONE,
	    JOB_END_EXIT, -1, 2,
	    JOB_ACT_END, JOB_FAILED, LOST, false, false, true },
	{ "lost, past the bound", JOB_RUNNING, JOB_SEEN_LOST,
	    JOB_START_NONE, JOB_END_EXIT, -1, 7,
	    JOB_ACT_END, JOB_FAILED, LOST, false, false, true },
	{ "lost, pending", JOB_PENDING, JOB_SEEN_LOST, JOB_START_NONE,
	    JOB_END_EXIT, -1, 0,
	    JOB_ACT_REQUEUE, JOB_ASSIGNED, LOST, false, false, true },
	{ "lost, kill", JOB_KILL, JOB_SEEN_LOST, JOB_START_NONE,
	    JOB_END_EXIT, -1, 0,
	    JOB_ACT_END, JOB_KILLED, LOST, false, false, true },
	{ "lost, kill, 3rd", JOB_KILL, JOB_SEEN_LOST, JOB_START_NONE,
	    JOB_END_EXIT, -1, 2,
	    JOB_ACT_END, JOB_KILLED, LOST, false, false, true },
};
/* clang-format on */

#define MAX_LOST 3

static void
test_step_table(void **state)
{
	const struct step_row *r;
	struct job_news n;
	struct job_plan plan;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(step_rows) / sizeof(step_rows[0]); i++) {
		r = &step_rows[i];
		print_message("%s\n", r->what);
		memset(&n, 0, sizeof(n));
		n.status = r->status;
		n.lost = r->lost;
		n.max_lost = MAX_LOST;
		n.seen = r->seen;
		n.start = r->start;
		n.end = r->end;
		n.exit_code = r->exit_code;
		job_step(&n, &plan);
		assert_int_equal(plan.action, r->action);
		assert_int_equal(plan.to, r->to);
		if (r->reason == NULL)
			assert_null(plan.reason);
		else
			assert_string_equal(plan.reason, r->reason);
		assert_int_equal(plan.launched, r->launched);
		assert_int_equal(plan.ended, r->ended);
		assert_int_equal(plan.lost, r->is_lost);
		/* Every change planned is one that SPEC.md allows. */
		if (plan.action != JOB_ACT_NONE)
			assert_true(job_transition_allowed(r->status, plan.to));
		else
			assert_int_equal(plan.to, r->status);
	}
}

/* The plan for one input: the action and the new status agree. */
static void
check_plan(enum job_status status, enum job_seen seen, enum job_start start,
    enum job_end end)
{
	struct job_news n = { .status = status,
		.max_lost = MAX_LOST,
		.seen = seen,
		.start = start,
		.end = end };
	struct job_plan plan;

	job_step(&n, &plan);
	switch (plan.action) {
	case JOB_ACT_NONE:
		assert_int_equal(plan.to, status);
		break;
	case JOB_ACT_START:
		assert_int_equal(plan.to, JOB_RUNNING);
		break;
	case JOB_ACT_END:
		assert_true(job_status_is_end(plan.to));
		break;
	case JOB_ACT_REQUEUE:
		assert_int_equal(plan.to, JOB_ASSIGNED);
		break;
	}
}

/* Every input, not only the table's, gives a plan that agrees. */
static void
test_step_total(void **state)
{
	static const enum job_status held[] = { JOB_PENDING, JOB_RUNNING,
		JOB_KILL };
	int i, seen, start, end;

	(void)state;
	for (i = 0; i < 3 * 4 * 4 * 5; i++) {
		seen = i / 3 % 4;
		start = i / 12 % 4;
		end = i / 48;
		check_plan(held[i % 3], (enum job_seen)seen,
		    (enum job_start)start, (enum job_end)end);
	}
}

static void
test_end_names(void **state)
{
	(void)state;
	assert_string_equal(job_end_name(JOB_END_EXIT), "exit");
	assert_string_equal(job_end_name(JOB_END_SIGNAL), "signal");
	assert_string_equal(job_end_name(JOB_END_STOPPED), "stopped");
	assert_string_equal(job_end_name(JOB_END_TIMEOUT), "timeout");
	assert_string_equal(job_end_name(JOB_END_START), "could not start");
	assert_string_equal(job_end_name(JOB_END_OOM), "out of memory");
}

/* What task show says of a job killed at its memory limit; of no other. */
static void
test_end_why(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	job_end_why(JOB_REASON_OOM, 4LL << 30, &b);
	assert_string_equal(b.data, "killed: out of memory (limit 4 GiB)");
	buf_reset(&b);
	job_end_why("out of memory", 64LL << 20, &b);
	assert_string_equal(b.data, "killed: out of memory (limit 64 MiB)");
	buf_reset(&b);
	job_end_why("out of memory", 0, &b);
	assert_string_equal(b.data, "killed: out of memory");
	buf_reset(&b);
	job_end_why("exit", 64LL << 20, &b);
	job_end_why("signal", 64LL << 20, &b);
	job_end_why("timeout", 64LL << 20, &b);
	job_end_why(NULL, 64LL << 20, &b);
	assert_string_equal(b.data, "");
	buf_release(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_step_table),
		cmocka_unit_test(test_step_total),
		cmocka_unit_test(test_end_names),
		cmocka_unit_test(test_end_why),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
