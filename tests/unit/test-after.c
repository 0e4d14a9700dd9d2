/* libs: orch_core */
/*
 * test-after.c - tasks that wait for tasks (core/after.c, and the state
 * machine's part): when a task it runs after releases a task, why it
 * waits, and that a waiting task stays registered and a task waited for
 * is not removed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/core.h"

static void
test_met(void **state)
{
	static const struct {
		enum task_status status;
		bool after, any; /* met for --after, for --after-any */
	} rows[] = {
		{ TASK_REGISTERED, false, false },
		{ TASK_TESTING, false, false },
		{ TASK_RUNNING, false, false },
		{ TASK_DONE, true, true },
		{ TASK_FINALIZED, false, true },
		{ TASK_BROKEN, false, true },
		{ TASK_KILLING, false, false },
		{ TASK_KILLED, false, true },
	};
	struct after_dep d = { .name = "user.alice.prep" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		d.status = rows[i].status;
		d.any_end = false;
		assert_int_equal(after_dep_met(&d), rows[i].after);
		/* Stuck: ended, and not as asked. */
		assert_int_equal(after_dep_stuck(&d),
		    !rows[i].after && task_status_is_end(rows[i].status));
		d.any_end = true;
		assert_int_equal(after_dep_met(&d), rows[i].any);
		assert_false(after_dep_stuck(&d));
	}
}

static void
test_why(void **state)
{
	struct after_dep deps[] = {
		{ "user.alice.prep", false, TASK_RUNNING, 40, 100 },
		{ "user.alice.calib", true, TASK_FINALIZED, 3, 4 },
		{ "user.bob.data", false, TASK_FINALIZED, 1, 2 },
	};
	struct buf why = BUF_INIT;

	(void)state;
	assert_int_equal(after_why(deps, 2, &why), 1);
	assert_string_equal(why.data,
	    "waits for user.alice.prep: running, 40 of 100 done");
	/* One that cannot release it comes first. */
	buf_reset(&why);
	assert_int_equal(after_why(deps, 3, &why), 1);
	assert_string_equal(why.data,
	    "waits for user.bob.data, which ended finalized: retry it, or "
	    "delete this task");
	/* All met: nothing said. */
	deps[0].status = TASK_DONE;
	buf_reset(&why);
	assert_int_equal(after_why(deps, 2, &why), 0);
	assert_string_equal(why.data, "");
	assert_int_equal(after_why(NULL, 0, &why), 0);
	buf_release(&why);
}

static void
test_step(void **state)
{
	struct task_view v = { .status = TASK_REGISTERED };
	struct task_plan plan;

	(void)state;
	v.njobs[JOB_REGISTERED] = 1;
	v.waits = true;
	task_step(&v, &plan);
	assert_int_equal(plan.next, TASK_REGISTERED);
	assert_int_equal(plan.nmoves, 0);
	/* A kill is not held up by the wait. */
	v.signal = SIGNAL_KILL;
	task_step(&v, &plan);
	assert_int_equal(plan.next, TASK_KILLING);
	v.signal = SIGNAL_NONE;
	v.waits = false;
	task_step(&v, &plan);
	assert_int_equal(plan.next, TASK_TESTING);
	/* --inputs-of a task that wrote no file: no job, nothing to run. */
	v.njobs[JOB_REGISTERED] = 0;
	task_step(&v, &plan);
	assert_int_equal(plan.next, TASK_BROKEN);
	assert_int_equal(plan.nmoves, 0);

	/* Waited for: neither a delete nor retention removes it. */
	memset(&v, 0, sizeof(v));
	v.status = TASK_FINALIZED;
	v.njobs[JOB_FAILED] = 1;
	v.waited_for = true;
	v.signal = SIGNAL_DELETE;
	task_step(&v, &plan);
	assert_true(plan.consume_signal);
	assert_false(plan.remove);
	assert_int_equal(plan.next, TASK_FINALIZED);
	v.signal = SIGNAL_NONE;
	v.retention_expired = true;
	task_step(&v, &plan);
	assert_false(plan.remove);
	v.waited_for = false;
	task_step(&v, &plan);
	assert_true(plan.remove);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_met),
		cmocka_unit_test(test_why),
		cmocka_unit_test(test_step),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
