/* libs: orch_core */
/*
 * test-names.c - the name rule and the "user.<username>.<name>" form.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/core.h"

static void
test_good_names(void **state)
{
	static const char *const good[] = { "a", "Z", "0", "calib-7",
		"run_2024.v2", "...", ".hidden", "a..b", "-x", "_" };
	struct buf err = BUF_INIT;
	char max[NAME_MAX_LEN + 1];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		print_message("good: %s\n", good[i]);
		assert_int_equal(names_check("task name", good[i], &err), 0);
	}
	memset(max, 'x', NAME_MAX_LEN);
	max[NAME_MAX_LEN] = '\0';
	assert_int_equal(names_check("task name", max, &err), 0);
	buf_release(&err);
}

static void
test_bad_names(void **state)
{
	static const struct {
		const char *name, *msg;
	} bad[] = {
		{ "", "invalid task name: empty" },
		{ "a b",
		    "invalid task name 'a b': only letters, digits, '.', '_' and '-' are allowed" },
		{ "a/b",
		    "invalid task name 'a/b': only letters, digits, '.', '_' and '-' are allowed" },
		{ "caf\xc3\xa9",
		    "invalid task name 'caf?"
		    "?': only letters, digits, '.', '_' and '-' are allowed" },
		{ "a\nb",
		    "invalid task name 'a?b': only letters, digits, '.', '_' and '-' are allowed" },
		{ "x'y",
		    "invalid task name 'x'y': only letters, digits, '.', '_' and '-' are allowed" },
		{ ".", "invalid task name '.': '.' and '..' are not allowed" },
		{ "..",
		    "invalid task name '..': '.' and '..' are not allowed" },
	};
	struct buf err = BUF_INIT;
	char *huge;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(names_check("task name", bad[i].name, &err),
		    ERR_INVALID);
		assert_string_equal(err.data, bad[i].msg);
	}
	assert_int_equal(names_check("user name", "a b", &err), ERR_INVALID);
	assert_string_equal(err.data,
	    "invalid user name 'a b': only letters, digits, '.', '_' and '-' are allowed");

	/* One character too long, and a huge name: not echoed in full. */
	huge = xmalloc(100001);
	memset(huge, 'n', 100000);
	huge[NAME_MAX_LEN + 1] = '\0';
	assert_int_equal(names_check("task name", huge, &err), ERR_INVALID);
	assert_non_null(strstr(err.data, "longer than 128 characters"));
	huge[NAME_MAX_LEN + 1] = 'n';
	huge[100000] = '\0';
	assert_int_equal(names_check("task name", huge, &err), ERR_INVALID);
	assert_true(err.len < 200);
	assert_memory_equal(err.data, "invalid task name 'nnnn", 23);
	assert_non_null(strstr(err.data, "...': longer than 128 characters"));
	/* A long name with a bad character is reported as too long. */
	huge[5] = ' ';
	assert_int_equal(names_check("task name", huge, &err), ERR_INVALID);
	assert_non_null(strstr(err.data, "longer than 128 characters"));
	free(huge);
	/* NULL err is allowed. */
	assert_int_equal(names_check("task name", "a b", NULL), ERR_INVALID);
	buf_release(&err);
}

static void
test_split_task(void **state)
{
	static const struct {
		const char *full, *user, *name;
	} good[] = {
		{ "user.alice.calib-7", "alice", "calib-7" },
		{ "user.bob.a.b.c", "bob", "a.b.c" },
		{ "user.b_o-b2.x", "b_o-b2", "x" },
		{ "user.alice.user.bob.x", "alice", "user.bob.x" },
	};
	static const char *const bad[] = { "calib-7", "user.alice",
		"user.alice.", "user..x", "user.", "User.alice.x",
		"user.al ice.x", "user.alice.a b", "user.alice..", "users.a.b",
		"" };
	char *user, *name;
	size_t i;
	struct buf full = BUF_INIT;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(names_split_task(good[i].full, &user, &name),
		    0);
		assert_string_equal(user, good[i].user);
		assert_string_equal(name, good[i].name);
		/* The formatter gives back what was split. */
		buf_reset(&full);
		names_task_full(&full, user, name);
		assert_string_equal(full.data, good[i].full);
		free(user);
		free(name);
	}
	buf_release(&full);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("bad: '%s'\n", bad[i]);
		assert_int_equal(names_split_task(bad[i], &user, &name),
		    ERR_NOTFOUND);
		assert_null(user);
		assert_null(name);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_names),
		cmocka_unit_test(test_bad_names),
		cmocka_unit_test(test_split_task),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
