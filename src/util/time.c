/*
 * time.c - epoch milliseconds, durations, and whole-number parsing: the
 * one place that reads and writes times as text.
 */
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "util/util.h"

/*
 * Test-only: ORCHESTRA_TEST_NOW_OFFSET, a duration ("5d", "36h"), moves
 * this process's wall clock forward, so that a test can see what
 * retention does days later.  Read once (under pthread_once: serve asks
 * the time from several threads); a bad value is ignored.
 */
static int64_t time_offset_ms;
static pthread_once_t time_offset_once = PTHREAD_ONCE_INIT;

static void
time_offset_read(void)
{
	struct buf ignored = BUF_INIT;
	const char *off = getenv("ORCHESTRA_TEST_NOW_OFFSET");
	int64_t ms = 0;

	if (off != NULL && *off != '\0' &&
	    time_parse_duration(off, &ms, &ignored) < 0)
		ms = 0;
	buf_release(&ignored);
	time_offset_ms = ms;
}

int64_t
time_now_ms(void)
{
	struct timespec ts;

	pthread_once(&time_offset_once, time_offset_read);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 +
	    time_offset_ms;
}

int64_t
time_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void
time_deadline(struct timespec *ts, clockid_t clock, int64_t ms)
{
	int64_t ns;

	clock_gettime(clock, ts);
	ns = (int64_t)ts->tv_nsec + ms * 1000000LL;
	ts->tv_sec += (time_t)(ns / 1000000000LL);
	ts->tv_nsec = (long)(ns % 1000000000LL);
}

/* How a time is written: the command line's, RFC 3339, a mail's Date. */
enum time_style { TIME_PLAIN, TIME_ISO, TIME_MAIL };

/* Append epoch ms as UTC in `style` (strftime()'s formats, as literals). */
static void
time_format(struct buf *b, int64_t ms, enum time_style style)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char s[64];

	gmtime_r(&t, &tm);
	switch (style) {
	case TIME_PLAIN:
		strftime(s, sizeof(s), "%Y-%m-%d %H:%M:%S", &tm);
		break;
	case TIME_ISO:
		strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm);
		break;
	case TIME_MAIL:
		strftime(s, sizeof(s), "%a, %d %b %Y %H:%M:%S +0000", &tm);
		break;
	}
	buf_adds(b, s);
}

void
time_format_ms(struct buf *b, int64_t ms)
{
	if (ms <= 0)
		buf_adds(b, "-");
	else
		time_format(b, ms, TIME_PLAIN);
}

void
time_format_iso(struct buf *b, int64_t ms)
{
	time_format(b, ms, TIME_ISO);
}

void
time_format_mail(struct buf *b, int64_t ms)
{
	time_format(b, ms, TIME_MAIL);
}

static const struct {
	char unit;
	int64_t ms;
} time_units[] = {
	{ 'd', 86400000 },
	{ 'h', 3600000 },
	{ 'm', 60000 },
	{ 's', 1000 },
};

int
time_parse_duration(const char *s, int64_t *ms, struct buf *err)
{
	const char *end = s + strlen(s);
	int64_t unit = 1000, n;
	char num[32];
	size_t i, len;

	if (end > s && (end[-1] < '0' || end[-1] > '9')) {
		for (i = 0; i < sizeof(time_units) / sizeof(time_units[0]); i++)
			if (time_units[i].unit == end[-1])
				break;
		if (i == sizeof(time_units) / sizeof(time_units[0]))
			return err_set(err, ERR_INVALID,
			    "invalid duration '%s': unit must be s, m, h or d",
			    s);
		unit = time_units[i].ms;
		end--;
	}
	len = (size_t)(end - s);
	if (len == 0 || len >= sizeof(num))
		return err_set(err, ERR_INVALID, "invalid duration '%s'", s);
	memcpy(num, s, len);
	num[len] = '\0';
	if (util_parse_int64(num, 0, INT64_MAX / unit, &n) < 0)
		return err_set(err, ERR_INVALID, "invalid duration '%s'", s);
	*ms = n * unit;
	return 0;
}

/* Read exactly `n` digits at *s into *out; 0, or -1 when one is not. */
static int
time_digits(const char **s, int n, int *out)
{
	int v = 0;

	while (n-- > 0) {
		if (**s < '0' || **s > '9')
			return -1;
		v = v * 10 + (**s - '0');
		(*s)++;
	}
	*out = v;
	return 0;
}

/* Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm). */
static int64_t
time_days(int64_t y, int64_t m, int64_t d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

const char *
time_scan_iso(const char *s, int64_t *ms)
{
	const char *p = s;
	int y, mo, d, h, mi, sec, frac = 0, n;

	if (time_digits(&p, 4, &y) < 0 || *p++ != '-' ||
	    time_digits(&p, 2, &mo) < 0 || *p++ != '-' ||
	    time_digits(&p, 2, &d) < 0 || (*p != 'T' && *p != ' '))
		return NULL;
	p++;
	if (time_digits(&p, 2, &h) < 0 || *p++ != ':' ||
	    time_digits(&p, 2, &mi) < 0 || *p++ != ':' ||
	    time_digits(&p, 2, &sec) < 0)
		return NULL;
	/* A fraction: 1 to 9 digits (RFC 3339 "nano"), cut to ms. */
	if (*p == '.') {
		p++;
		for (n = 0; n < 9 && *p >= '0' && *p <= '9'; n++, p++)
			if (n < 3)
				frac = frac * 10 + (*p - '0');
		if (n == 0)
			return NULL;
		for (; n < 3; n++)
			frac *= 10;
	}
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || sec > 60)
		return NULL;
	*ms = (((time_days(y, mo, d) * 24 + h) * 60 + mi) * 60 + sec) * 1000 +
	    frac;
	return p;
}

int
time_parse_when(const char *s, int64_t *ms, struct buf *err)
{
	const char *p;

	if (util_parse_int64(s, 0, INT64_MAX / 2, ms) == 0)
		return 0;
	p = time_scan_iso(s, ms);
	if (p != NULL && *p == 'Z')
		p++;
	if (p != NULL && *p == '\0')
		return 0;
	return err_set(err, ERR_INVALID,
	    "invalid time '%s': epoch milliseconds or "
	    "YYYY-MM-DDTHH:MM:SS[.mmm]Z (UTC)",
	    s);
}

void
time_format_duration(struct buf *b, int64_t ms)
{
	size_t i;

	for (i = 0; i < sizeof(time_units) / sizeof(time_units[0]); i++) {
		if (ms != 0 && ms % time_units[i].ms == 0) {
			buf_addf(b, "%lld%c",
			    (long long)(ms / time_units[i].ms),
			    time_units[i].unit);
			return;
		}
	}
	if (ms == 0)
		buf_adds(b, "0");
	else
		buf_addf(b, "%lldms", (long long)ms);
}

int
util_parse_int64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	/* Digits, or '-' then digits: strtoll would skip blanks and '+'. */
	if (!(*s == '-' || (*s >= '0' && *s <= '9')))
		return ERR_INVALID;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return ERR_INVALID;
	*out = v;
	return 0;
}
