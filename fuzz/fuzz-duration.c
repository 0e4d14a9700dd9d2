/* libs: orch_util */
/*
 * fuzz-duration.c - time_parse_duration(), time_parse_when() and
 * util_parse_int64() on any text: what they accept is what util.h says,
 * and a parsed duration, formatted by time_format_duration(), or a parsed
 * point in time, formatted as the API prints it, parses back to the same
 * value.
 */
#include "fuzz.h"

/* Is `s` a whole decimal number: an optional '-', then digits only? */
static bool
fuzz_duration_decimal(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static void
fuzz_duration_int64(const char *s)
{
	struct buf b = BUF_INIT;
	int64_t v = 0, w = 0;

	if (util_parse_int64(s, INT64_MIN, INT64_MAX, &v) == 0) {
		FUZZ_CHECK(fuzz_duration_decimal(s));
		buf_addf(&b, "%lld", (long long)v);
		FUZZ_CHECK(
		    util_parse_int64(b.data, INT64_MIN, INT64_MAX, &w) == 0);
		FUZZ_CHECK(v == w);
	}
	/* Bounds hold, whatever the text. */
	if (util_parse_int64(s, -5, 1000, &v) == 0)
		FUZZ_CHECK(v >= -5 && v <= 1000);
	buf_release(&b);
}

static void
fuzz_duration_parse(const char *s)
{
	struct buf err = BUF_INIT, b = BUF_INIT;
	int64_t ms = -1, again = -1;
	int r;

	r = time_parse_duration(s, &ms, &err);
	if (r < 0) {
		FUZZ_CHECK(r == ERR_INVALID && err.len > 0);
		FUZZ_CHECK(ms == -1);
		goto out;
	}
	FUZZ_CHECK(r == 0);
	FUZZ_CHECK(ms >= 0 && ms % 1000 == 0);
	time_format_duration(&b, ms);
	FUZZ_CHECK(strlen(b.data) == b.len);
	r = time_parse_duration(b.data, &again, &err);
	if (r != 0)
		fprintf(stderr, "'%s' -> %lld ms -> '%s': %s\n", s,
		    (long long)ms, b.data, err.data);
	FUZZ_CHECK(r == 0);
	FUZZ_CHECK(again == ms);
out:
	buf_release(&b);
	buf_release(&err);
}

static void
fuzz_duration_when(const char *s)
{
	struct buf err = BUF_INIT, b = BUF_INIT;
	int64_t ms = -1, again = -1;
	int r;

	r = time_parse_when(s, &ms, &err);
	if (r < 0) {
		FUZZ_CHECK(r == ERR_INVALID && err.len > 0);
		goto out;
	}
	FUZZ_CHECK(r == 0 && ms >= 0);
	if (ms == 0 || ms > 253402300799999LL) /* "-", or past year 9999 */
		goto out;
	/* As service_json_time() prints it: whole seconds, 'T', 'Z'. */
	time_format_ms(&b, ms);
	FUZZ_CHECK(b.len == 19);
	b.data[10] = 'T';
	buf_addch(&b, 'Z');
	r = time_parse_when(b.data, &again, &err);
	FUZZ_CHECK(r == 0);
	FUZZ_CHECK(again == ms - ms % 1000);
out:
	buf_release(&b);
	buf_release(&err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf b = BUF_INIT;
	char *s = fuzz_cstr(data, size);
	int64_t ms;

	fuzz_duration_parse(s);
	fuzz_duration_when(s);
	fuzz_duration_int64(s);
	/* Any int64 formats as text, milliseconds and negatives included. */
	if (size >= sizeof(ms)) {
		memcpy(&ms, data, sizeof(ms));
		time_format_duration(&b, ms);
		FUZZ_CHECK(b.len > 0 && strlen(b.data) == b.len);
	}
	buf_release(&b);
	free(s);
	return 0;
}
