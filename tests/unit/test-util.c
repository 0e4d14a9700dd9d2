/* libs: orch_util */
/*
 * test-util.c - struct buf and its frames, shell quoting, terminal
 * escaping, durations, times and integer parsing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/util.h"
#include "util/vec.h"

static void
test_buf_grows_and_detaches(void **state)
{
	struct buf b = BUF_INIT;
	char *s;
	int i;

	(void)state;
	assert_string_equal(b.data, "");
	for (i = 0; i < 1000; i++)
		buf_addf(&b, "%d,", i);
	assert_int_equal(b.len, strlen(b.data));
	assert_memory_equal(b.data, "0,1,2,", 6);
	s = buf_detach(&b);
	assert_string_equal(b.data, "");
	free(s);
	buf_release(&b);
}

static void
test_buf_percent_encoded(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	buf_add_percent_encoded(&b, "user.ann/t 1?a=b&c%~-_\xc3\xa9");
	assert_string_equal(b.data, "user.ann%2Ft%201%3Fa%3Db%26c%25~-_%C3%A9");
	buf_reset(&b);
	buf_add_percent_encoded(&b, "");
	assert_string_equal(b.data, "");
	buf_release(&b);
}

static void
test_buf_cap_truncates(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	b.cap_limit = 5;
	buf_adds(&b, "abc");
	assert_false(b.truncated);
	buf_addf(&b, "%s", "defgh");
	assert_true(b.truncated);
	assert_string_equal(b.data, "abcde");
	buf_release(&b);
}

static void
test_shell_quote(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "/data/a.txt", "/data/a.txt" },
		{ "a b", "'a b'" },
		{ "it's", "'it'\\''s'" },
		{ "$(rm -rf /)", "'$(rm -rf /)'" },
		{ "", "''" },
		{ "x;y", "'x;y'" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b = BUF_INIT;

		buf_add_shell_quoted(&b, cases[i].in);
		assert_string_equal(b.data, cases[i].out);
		buf_release(&b);
	}
}

static void
test_printable(void **state)
{
	static const struct {
		const char *in, *out, *out_nl;
	} cases[] = {
		{ "plain", "plain", "plain" },
		{ "\x1b[31mred", "\\x1b[31mred", "\\x1b[31mred" },
		{ "a\nb\tc\rd", "a\\x0ab\\x09c\\x0dd", "a\nb\\x09c\\x0dd" },
		{ "del\x7f", "del\\x7f", "del\\x7f" },
		/* UTF-8 text is kept; U+009B (CSI, a C1 control) is not. */
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
		    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
		    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" },
		{ "\xc2\x9b"
		  "2J",
		    "\\xc2\\x9b2J", "\\xc2\\x9b2J" },
		{ "\xc2\xa0", "\xc2\xa0", "\xc2\xa0" },
		/* Not UTF-8: a stray 0x9b, Latin-1, an overlong ESC, a cut
		 * sequence, a surrogate. */
		{ "\x9b"
		  "2J",
		    "\\x9b2J", "\\x9b2J" },
		{ "caf\xe9", "caf\\xe9", "caf\\xe9" },
		{ "\xc0\x9b", "\\xc0\\x9b", "\\xc0\\x9b" },
		{ "\xe2\x82", "\\xe2\\x82", "\\xe2\\x82" },
		{ "\xed\xa0\x80", "\\xed\\xa0\\x80", "\\xed\\xa0\\x80" },
		{ "back\\slash", "back\\slash", "back\\slash" },
		{ "", "", "" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b = BUF_INIT;

		buf_add_printable(&b, cases[i].in, false);
		assert_string_equal(b.data, cases[i].out);
		buf_reset(&b);
		buf_add_printable(&b, cases[i].in, true);
		assert_string_equal(b.data, cases[i].out_nl);
		buf_release(&b);
	}
}

static void
test_durations(void **state)
{
	struct buf err = BUF_INIT, b = BUF_INIT;
	int64_t ms;

	(void)state;
	assert_int_equal(time_parse_duration("10d", &ms, &err), 0);
	assert_int_equal(ms, 10LL * 86400000);
	assert_int_equal(time_parse_duration("90", &ms, &err), 0);
	assert_int_equal(ms, 90000);
	assert_int_equal(time_parse_duration("0", &ms, &err), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(time_parse_duration("5x", &ms, &err), ERR_INVALID);
	assert_non_null(strstr(err.data, "'5x'"));
	assert_int_equal(time_parse_duration("-5m", &ms, &err), ERR_INVALID);
	assert_int_equal(time_parse_duration("m", &ms, &err), ERR_INVALID);
	assert_int_equal(time_parse_duration("", &ms, &err), ERR_INVALID);
	time_format_duration(&b, 10LL * 86400000);
	assert_string_equal(b.data, "10d");
	buf_release(&b);
	buf_release(&err);
}

/* Times as text: read, written, and read back. */
static void
test_times(void **state)
{
	static const struct {
		const char *in;
		int64_t ms;
	} good[] = {
		{ "0", 0 },
		{ "1764093600000", 1764093600000 },
		{ "2025-11-25T18:00:00Z", 1764093600000 },
		{ "2025-11-25T18:00:00", 1764093600000 },
		{ "2025-11-25 18:00:00", 1764093600000 },
		{ "2025-11-25T18:00:00.250Z", 1764093600250 },
		{ "1970-01-01T00:00:00Z", 0 },
		{ "2000-02-29T12:00:00Z", 951825600000 },
	};
	static const char *const bad[] = { "", "yesterday", "2025-11-25",
		"2025-11-25T18:00", "2025-13-01T00:00:00Z",
		"1969-12-31T23:59:59Z", "2025-11-25T18:00:00ZZ",
		"2025-11-25T18:00:00+01:00", "2025-11-25T24:00:00Z",
		"2025-11-25T18:00:00.Z" };
	struct buf b = BUF_INIT, err = BUF_INIT;
	const char *end;
	int64_t ms;
	time_t t;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		print_message("good: %s\n", good[i].in);
		assert_int_equal(time_parse_when(good[i].in, &ms, &err), 0);
		assert_int_equal(ms, good[i].ms);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("bad: %s\n", bad[i]);
		assert_int_equal(time_parse_when(bad[i], &ms, &err),
		    ERR_INVALID);
	}
	/* Kubernetes' times: seconds, or a "nano" fraction cut to ms. */
	end = time_scan_iso("2025-11-25T18:00:00.123456789Z", &ms);
	assert_non_null(end);
	assert_string_equal(end, "Z");
	assert_int_equal(ms, 1764093600123);
	end = time_scan_iso("2025-11-25T18:00:00.5Z", &ms);
	assert_non_null(end);
	assert_int_equal(ms, 1764093600500);
	/* Written as the API writes it, and read back; every day to 2100. */
	for (t = 0; t < 4102444800; t += 86400 + 3661) {
		buf_reset(&b);
		time_format_iso(&b, (int64_t)t * 1000);
		assert_int_equal(b.len, 20);
		end = time_scan_iso(b.data, &ms);
		assert_non_null(end);
		assert_string_equal(end, "Z");
		assert_int_equal(ms, (int64_t)t * 1000);
	}
	buf_reset(&b);
	time_format_mail(&b, 1764093600000);
	assert_string_equal(b.data, "Tue, 25 Nov 2025 18:00:00 +0000");
	buf_reset(&b);
	time_format_ms(&b, 1764093600000);
	time_format_ms(&b, 0);
	assert_string_equal(b.data, "2025-11-25 18:00:00-");
	buf_release(&b);
	buf_release(&err);
}

static void
test_parse_int(void **state)
{
	int64_t v;

	(void)state;
	assert_int_equal(util_parse_int64("42", 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(util_parse_int64("-1", 0, 100, &v), ERR_INVALID);
	assert_int_equal(util_parse_int64("101", 0, 100, &v), ERR_INVALID);
	assert_int_equal(util_parse_int64("4x", 0, 100, &v), ERR_INVALID);
	assert_int_equal(util_parse_int64("", 0, 100, &v), ERR_INVALID);
	/* Found by fuzz/fuzz-duration.c: strtoll skips these. */
	assert_int_equal(util_parse_int64("\t5", 0, 100, &v), ERR_INVALID);
	assert_int_equal(util_parse_int64("\n151", 0, 1000, &v), ERR_INVALID);
	assert_int_equal(util_parse_int64("+5", 0, 100, &v), ERR_INVALID);
	assert_int_equal(
	    util_parse_int64("99999999999999999999", 0, INT64_MAX, &v),
	    ERR_INVALID);
}

static void
test_redact_url(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "postgresql://orch:s3cret@db.lab:5432/orchestra",
		    "postgresql://orch:***@db.lab:5432/orchestra" },
		{ "postgresql://orch@db.lab/orchestra",
		    "postgresql://orch@db.lab/orchestra" },
		{ "postgresql:host=db password=s3cret dbname=o",
		    "postgresql:host=db password=*** dbname=o" },
		{ "postgresql://db/o?sslmode=require&password=x",
		    "postgresql://db/o?sslmode=require&password=***" },
		{ "/var/lib/orchestra/orchestra.db",
		    "/var/lib/orchestra/orchestra.db" },
		/* Found by fuzz/fuzz-redact.c. */
		{ "postgresql://db/orch?password=s3cret&x=a:b@c",
		    "postgresql://db/orch?password=***&x=a:b@c" },
		{ "password=s3cret x://a:b@c", "password=*** x://a:***@c" },
		{ "postgresql:host=db PASSWORD = 'a b' dbname=o",
		    "postgresql:host=db PASSWORD = *** dbname=o" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b = BUF_INIT;

		util_redact_url(&b, cases[i].in);
		assert_string_equal(b.data, cases[i].out);
		buf_release(&b);
	}
}

#define KI ((int64_t)1 << 10)
#define MI ((int64_t)1 << 20)
#define GI ((int64_t)1 << 30)

/* A user's sizes: K M G T binary, as Slurm's --mem; no unit is bytes. */
static void
test_sizes(void **state)
{
	static const struct {
		const char *s;
		int64_t bytes;
	} good[] = {
		{ "512M", 512 * MI }, { "4G", 4 * GI }, { "4Gi", 4 * GI },
		{ "4GiB", 4 * GI }, { "1.5GiB", 3 * GI / 2 },
		{ "1.5G", 3 * GI / 2 }, { "64k", 64 * KI }, { "2T", 2048 * GI },
		{ "1048576", MI }, { "0", 0 }, { ".5K", 512 },
		{ "0.1K", 103 }, /* rounded up */
	};
	static const char *const bad[] = { "", "G", "4 G", "4GB", "4g", "-4G",
		"4X", "1.2.3G", "4GiBs", "1e3", "99999999999T",
		"1234567890123456789012345678901" };
	struct buf err = BUF_INIT;
	int64_t v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = -1;
		assert_int_equal(size_parse(good[i].s, &v, &err), 0);
		assert_int_equal(v, good[i].bytes);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf_reset(&err);
		v = -1;
		assert_int_equal(size_parse(bad[i], &v, &err), ERR_INVALID);
		assert_int_equal(v, -1);
		assert_non_null(strstr(err.data, "invalid size"));
	}
	buf_release(&err);
}

/* Kubernetes quantities: Ki.. binary, k M G.. decimal, e exponents. */
static void
test_kube_quantities(void **state)
{
	static const struct {
		const char *s;
		int64_t bytes;
	} good[] = {
		{ "16310784Ki", 16310784 * KI },
		{ "1Gi", GI },
		{ "128Mi", 128 * MI },
		{ "2Ti", 2048 * GI },
		{ "1Pi", 1024 * 1024 * GI },
		{ "8G", 8000000000LL },
		{ "1k", 1000 },
		{ "500M", 500000000 },
		{ "3T", 3000000000000LL },
		{ "129e6", 129000000 },
		{ "1E3", 1000 },
		{ "1e+3", 1000 },
		{ "15e-1", 2 }, /* up */
		{ "12345", 12345 },
		{ "1.5Gi", 3 * GI / 2 },
		{ "500m", 1 },
		{ "0", 0 },
		{ "+1Ki", KI },
		{ "1E", 1000000000000000000LL },
	};
	static const char *const bad[] = { "", "Gi", "1GB", "1gi", "-1Gi",
		"1 Gi", "1e", "1e3Gi", "10E", "1..5", "abc" };
	int64_t v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = -1;
		if (size_parse_kube(good[i].s, &v) != 0)
			fail_msg("'%s' not read", good[i].s);
		if (v != good[i].bytes)
			fail_msg("'%s' read as %lld", good[i].s, (long long)v);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (size_parse_kube(bad[i], &v) == 0)
			fail_msg("'%s' read as %lld", bad[i], (long long)v);
}

static void
test_size_format(void **state)
{
	static const struct {
		int64_t bytes;
		const char *s;
	} cases[] = {
		{ 0, "0 bytes" },
		{ 1023, "1023 bytes" },
		{ KI, "1 KiB" },
		{ 512 * MI, "512 MiB" },
		{ 3 * GI / 2, "1.5 GiB" },
		{ 12 * GI, "12 GiB" },
		{ 13 * GI - 1, "12.9 GiB" },
		{ 2048 * GI, "2 TiB" },
		{ INT64_MAX, "7.9 EiB" },
	};
	struct buf b = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_reset(&b);
		size_format(&b, cases[i].bytes);
		assert_string_equal(b.data, cases[i].s);
	}
	buf_release(&b);
}

static void
test_vec(void **state)
{
	VEC(int) v = VEC_INIT;
	int i, *it, sum = 0;

	(void)state;
	for (i = 0; i < 100; i++)
		VEC_PUSH(&v, i);
	VEC_FOREACH (it, &v)
		sum += *it;
	assert_int_equal(sum, 4950);
	VEC_RELEASE(&v);
	assert_int_equal(v.n, 0);
}

static void
test_frames(void **state)
{
	struct buf b = BUF_INIT;
	const char *rec;
	size_t pos = 0, n;

	(void)state;
	buf_add_frame(&b, "", 0);
	buf_add_frame(&b, "a\0b", 3);
	assert_int_equal(b.len, 4 + 4 + 3);
	assert_int_equal(buf_next_frame(b.data, b.len, &pos, &rec, &n), 1);
	assert_int_equal(n, 0);
	assert_int_equal(buf_next_frame(b.data, b.len, &pos, &rec, &n), 1);
	assert_int_equal(n, 3);
	assert_memory_equal(rec, "a\0b", 3);
	assert_int_equal(buf_next_frame(b.data, b.len, &pos, &rec, &n), 0);
	/* Cut anywhere inside a record: no whole record. */
	pos = 4;
	assert_int_equal(buf_next_frame(b.data, b.len - 1, &pos, &rec, &n), -1);
	pos = 4;
	assert_int_equal(buf_next_frame(b.data, 6, &pos, &rec, &n), -1);
	assert_int_equal(pos, 4);
	/* A length beyond the data (and near SIZE_MAX) is no record. */
	buf_reset(&b);
	buf_add(&b, "\xff\xff\xff\xff", 4);
	pos = 0;
	assert_int_equal(buf_next_frame(b.data, b.len, &pos, &rec, &n), -1);
	buf_release(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_grows_and_detaches),
		cmocka_unit_test(test_buf_cap_truncates),
		cmocka_unit_test(test_buf_percent_encoded),
		cmocka_unit_test(test_shell_quote),
		cmocka_unit_test(test_printable),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_parse_int),
		cmocka_unit_test(test_redact_url),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_kube_quantities),
		cmocka_unit_test(test_size_format),
		cmocka_unit_test(test_vec),
		cmocka_unit_test(test_frames),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
