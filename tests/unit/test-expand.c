/* libs: orch_core */
/*
 * test-expand.c - placeholders: what expand_check refuses and why, what a
 * job's command becomes, and parsing KEY=PATH.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/core.h"

static const struct expand_secondary two_secondary[] = {
	{ "REF", "/data/ref genome.fa" },
	{ "DB2", "/db/x" },
};

static void
test_check_good(void **state)
{
	struct expand_values v = { .has_inputs = true, .out = "/out" };
	struct buf err = BUF_INIT;

	(void)state;
	assert_int_equal(expand_check("proc %IN %OUT/%JOB", &v, &err), 0);
	/* %OUT and %JOB need nothing given; a lone % stays. */
	v.has_inputs = false;
	assert_int_equal(expand_check("date +%s > %OUT/t; echo 100%", &v, &err),
	    0);
	assert_int_equal(expand_check("echo %%IN %% %a %1 %", &v, &err), 0);
	v.has_inputs = true;
	v.data = "/shared";
	v.secondary = two_secondary;
	v.nsecondary = 2;
	assert_int_equal(
	    expand_check("x %IN --ref %REF --db %DB2 -d %DATA", &v, &err), 0);
	buf_release(&err);
}

static void
test_check_bad(void **state)
{
	static const struct expand_secondary dup[] = { { "REF", "/a" },
		{ "REF", "/b" } };
	static const struct expand_secondary reserved[] = { { "OUT", "/a" } };
	static const struct expand_secondary badkey[] = { { "ref", "/a" } };
	static const struct expand_secondary empty[] = { { "REF", "" } };
	struct expand_values v = { .out = "/out" };
	struct buf err = BUF_INIT;

	(void)state;
	assert_int_equal(expand_check("x %IN", &v, &err), ERR_INVALID);
	assert_string_equal(err.data,
	    "'%IN' is used but no inputs were given (--inputs)");
	v.has_inputs = true;
	assert_int_equal(expand_check("x %OUT", &v, &err), ERR_INVALID);
	assert_string_equal(err.data,
	    "inputs were given but the command does not use '%IN'");
	/* %%IN is a literal, not a use. */
	assert_int_equal(expand_check("x %%IN", &v, &err), ERR_INVALID);
	assert_string_equal(err.data,
	    "inputs were given but the command does not use '%IN'");
	assert_int_equal(expand_check("x %IN %DATA", &v, &err), ERR_INVALID);
	assert_string_equal(err.data,
	    "'%DATA' is used but no --data was given");
	v.data = "/d";
	assert_int_equal(expand_check("x %IN", &v, &err), ERR_INVALID);
	assert_string_equal(err.data,
	    "--data was given but the command does not use '%DATA'");
	v.data = NULL;
	assert_int_equal(expand_check("x %IN %FOO", &v, &err), ERR_INVALID);
	assert_string_equal(err.data,
	    "'%FOO' is used but no secondary input FOO was given (--secondary FOO=PATH; write %%FOO for a literal)");
	/* The longest run is the key: %INPUT is not %IN. */
	assert_int_equal(expand_check("x %INPUT", &v, &err), ERR_INVALID);
	assert_string_equal(err.data,
	    "'%INPUT' is used but no secondary input INPUT was given (--secondary INPUT=PATH; write %%INPUT for a literal)");

	v.secondary = two_secondary;
	v.nsecondary = 2;
	assert_int_equal(expand_check("x %IN %REF", &v, &err), ERR_INVALID);
	assert_string_equal(err.data,
	    "secondary input 'DB2' is given but the command does not use '%DB2'");
	/* %REFX is not %REF. */
	v.nsecondary = 1;
	assert_int_equal(expand_check("x %IN %REFX", &v, &err), ERR_INVALID);
	assert_non_null(strstr(err.data, "'%REFX' is used"));
	assert_int_equal(expand_check("x %IN %%REF", &v, &err), ERR_INVALID);
	assert_string_equal(err.data,
	    "secondary input 'REF' is given but the command does not use '%REF'");

	v.secondary = dup;
	v.nsecondary = 2;
	assert_int_equal(expand_check("x %IN %REF", &v, &err), ERR_INVALID);
	assert_string_equal(err.data, "secondary input 'REF' is given twice");
	v.secondary = reserved;
	v.nsecondary = 1;
	assert_int_equal(expand_check("x %IN %OUT", &v, &err), ERR_INVALID);
	assert_string_equal(err.data,
	    "secondary input key 'OUT' is reserved (IN, OUT, DATA and JOB are placeholders already)");
	v.secondary = badkey;
	assert_int_equal(expand_check("x %IN", &v, &err), ERR_INVALID);
	assert_non_null(strstr(err.data, "invalid secondary input key 'ref'"));
	v.secondary = empty;
	assert_int_equal(expand_check("x %IN %REF", &v, &err), ERR_INVALID);
	assert_string_equal(err.data,
	    "secondary input 'REF' has an empty path");
	buf_release(&err);
}

static void
test_expand_job(void **state)
{
	struct expand_values v = { .has_inputs = true,
		.out = "/vol/alice/my task",
		.data = "/shared/d",
		.secondary = two_secondary,
		.nsecondary = 2 };
	struct buf out = BUF_INIT, err = BUF_INIT;
	const char *tmpl = "run %IN -o %OUT/%JOB.txt -d %DATA -r %REF -b %DB2";

	(void)state;
	assert_int_equal(expand_check(tmpl, &v, &err), 0);
	expand_job(tmpl, &v, "/in/it's a \"file\".txt", 12, &out);
	assert_string_equal(out.data,
	    "run '/in/it'\\''s a \"file\".txt' -o '/vol/alice/my task'/12.txt"
	    " -d /shared/d -r '/data/ref genome.fa' -b /db/x");
	buf_reset(&out);

	/* %% is a literal, a lone % and `date +%s` are left alone. */
	v.data = NULL;
	v.nsecondary = 0;
	v.out = "/o";
	expand_job("echo %%IN 100% $(date +%s) %%%JOB %IN%OUT", &v, "/a.txt", 0,
	    &out);
	assert_string_equal(out.data, "echo %IN 100% $(date +%s) %0 /a.txt/o");
	buf_reset(&out);

	/* Shell metacharacters in a path cannot escape. */
	expand_job("cat %IN", &v, "x; rm -rf $HOME `id`", 3, &out);
	assert_string_equal(out.data, "cat 'x; rm -rf $HOME `id`'");
	buf_reset(&out);
	v.has_inputs = false;
	expand_job("train --seed %JOB --out %OUT", &v, NULL, 4096, &out);
	assert_string_equal(out.data, "train --seed 4096 --out /o");
	buf_release(&out);
	buf_release(&err);
}

static void
test_parse_secondary(void **state)
{
	static const struct {
		const char *arg, *msg;
	} bad[] = {
		{ "REF", "invalid secondary input 'REF': expected KEY=PATH" },
		{ "ref=/a",
		    "invalid secondary input key 'ref': it must be an upper-case letter followed by upper-case letters, digits or '_'" },
		{ "=/a",
		    "invalid secondary input key '': it must be an upper-case letter followed by upper-case letters, digits or '_'" },
		{ "1REF=/a",
		    "invalid secondary input key '1REF': it must be an upper-case letter followed by upper-case letters, digits or '_'" },
		{ "RE-F=/a",
		    "invalid secondary input key 'RE-F': it must be an upper-case letter followed by upper-case letters, digits or '_'" },
		{ "IN=/a",
		    "secondary input key 'IN' is reserved (IN, OUT, DATA and JOB are placeholders already)" },
		{ "OUT=/a",
		    "secondary input key 'OUT' is reserved (IN, OUT, DATA and JOB are placeholders already)" },
		{ "DATA=/a",
		    "secondary input key 'DATA' is reserved (IN, OUT, DATA and JOB are placeholders already)" },
		{ "JOB=/a",
		    "secondary input key 'JOB' is reserved (IN, OUT, DATA and JOB are placeholders already)" },
		{ "REF=", "secondary input 'REF' has an empty path" },
	};
	struct expand_secondary s;
	struct buf err = BUF_INIT;
	size_t i;

	(void)state;
	assert_int_equal(expand_parse_secondary("REF_2=/a=b c", &s, &err), 0);
	assert_string_equal(s.key, "REF_2");
	assert_string_equal(s.path, "/a=b c");
	free((char *)s.key);
	free((char *)s.path);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(expand_parse_secondary(bad[i].arg, &s, &err),
		    ERR_INVALID);
		assert_string_equal(err.data, bad[i].msg);
		assert_null(s.key);
		assert_null(s.path);
	}
	buf_release(&err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_good),
		cmocka_unit_test(test_check_bad),
		cmocka_unit_test(test_expand_job),
		cmocka_unit_test(test_parse_secondary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
