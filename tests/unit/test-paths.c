/* libs: orch_core */
/*
 * test-paths.c - paths normalised by their names and judged under a
 * directory component by component (core/paths.c): what a submit on
 * Kubernetes checks of every input, %DATA and secondary path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/core.h"

static void
test_normalise(void **state)
{
	static const struct {
		const char *path, *base, *want;
	} cases[] = {
		{ "/data/a.txt", NULL, "/data/a.txt" },
		{ "/data//a.txt/", NULL, "/data/a.txt" },
		{ "/data/./x/../a.txt", NULL, "/data/a.txt" },
		{ "/data/../../../etc", NULL, "/etc" },
		{ "/", NULL, "/" },
		{ "//", NULL, "/" },
		{ "/..", NULL, "/" },
		{ "/a/..", NULL, "/" },
		{ "in/a.txt", "/v/alice/t", "/v/alice/t/in/a.txt" },
		{ "../../../etc", "/v/alice/t", "/etc" },
		{ "..", "/v/alice/t", "/v/alice" },
		{ ".", "/v/alice/t/", "/v/alice/t" },
		{ "x", "/", "/x" },
		{ "x", NULL, "/x" },
		{ "x", "rel", "/x" },
		{ "/abs", "/v/alice/t", "/abs" },
	};
	struct buf out = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("%s on %s\n", cases[i].path,
		    cases[i].base ? cases[i].base : "(null)");
		paths_normalise(cases[i].path, cases[i].base, &out);
		assert_string_equal(out.data, cases[i].want);
	}
	buf_release(&out);
}

static void
test_is_under(void **state)
{
	(void)state;
	assert_true(paths_is_under("/data", "/data"));
	assert_true(paths_is_under("/data/a", "/data"));
	assert_false(paths_is_under("/data2", "/data"));
	assert_false(paths_is_under("/data2/a", "/data"));
	assert_false(paths_is_under("/dat", "/data"));
	assert_false(paths_is_under("/", "/data"));
	assert_true(paths_is_under("/anything", "/"));
	assert_true(paths_is_under("/", "/"));
}

static void
test_check_under(void **state)
{
	static const char *const dirs[] = { "/srv/orchestra/volume/alice",
		"/data" };
	struct buf err = BUF_INIT;

	(void)state;
	assert_int_equal(paths_check_under("input",
	                     "/srv/orchestra/volume/alice/in/a.txt", NULL, dirs,
	                     2, &err),
	    0);
	assert_int_equal(
	    paths_check_under("input", "/data/x/../y", NULL, dirs, 2, &err), 0);
	/* Relative: against the job's working directory. */
	assert_int_equal(paths_check_under("%DATA", "../shared",
	                     "/srv/orchestra/volume/alice/t", dirs, 2, &err),
	    0);
	assert_int_equal(paths_check_under("input", "/home/alice/a.txt", NULL,
	                     dirs, 2, &err),
	    ERR_INVALID);
	assert_string_equal(err.data,
	    "input /home/alice/a.txt is not under a path the jobs mount: "
	    "/srv/orchestra/volume/alice, /data");
	assert_int_equal(
	    paths_check_under("input", "/data2/a", NULL, dirs, 2, &err),
	    ERR_INVALID);
	/* ".." out of a mount is out of it. */
	assert_int_equal(paths_check_under("%DATA", "/data/../etc/passwd", NULL,
	                     dirs, 2, &err),
	    ERR_INVALID);
	assert_int_equal(paths_check_under("%DATA", "../../bob/x",
	                     "/srv/orchestra/volume/alice/t", dirs, 2, &err),
	    ERR_INVALID);
	/* Another user's directory is not this user's mount. */
	assert_int_equal(paths_check_under("input",
	                     "/srv/orchestra/volume/alice2/a", NULL, dirs, 2,
	                     &err),
	    ERR_INVALID);
	/* A message stays one line. */
	assert_int_equal(
	    paths_check_under("input", "/x\ny", NULL, dirs, 2, &err),
	    ERR_INVALID);
	assert_null(strchr(err.data, '\n'));
	assert_non_null(strstr(err.data, "input /x?y is not under"));
	buf_release(&err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalise),
		cmocka_unit_test(test_is_under),
		cmocka_unit_test(test_check_under),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
