/*
 * size.c - sizes of memory as text: what a user writes (`--memory 4G`),
 * what Kubernetes writes (a quantity, "16310784Ki"), and how we print them
 * ("12 GiB").  The one place that reads and writes sizes.
 *
 * A user's K, M, G and T are binary (1024), as Slurm's --mem reads them:
 * 4G, 4Gi and 4GiB are all 4 GiB.  Kubernetes' k, M, G, T are decimal
 * (1000) and Ki, Mi, Gi, Ti binary, as its quantities say.
 */
#include "util/util.h"

struct size_unit {
	const char *suffix;
	long double mult;
};

#define SIZE_KI 1024.0L
#define SIZE_MI (SIZE_KI * 1024.0L)
#define SIZE_GI (SIZE_MI * 1024.0L)
#define SIZE_TI (SIZE_GI * 1024.0L)
#define SIZE_PI (SIZE_TI * 1024.0L)
#define SIZE_EI (SIZE_PI * 1024.0L)

static const struct size_unit size_user_units[] = {
	{ "", 1.0L },
	{ "K", SIZE_KI },
	{ "Ki", SIZE_KI },
	{ "KiB", SIZE_KI },
	{ "k", SIZE_KI },
	{ "M", SIZE_MI },
	{ "Mi", SIZE_MI },
	{ "MiB", SIZE_MI },
	{ "G", SIZE_GI },
	{ "Gi", SIZE_GI },
	{ "GiB", SIZE_GI },
	{ "T", SIZE_TI },
	{ "Ti", SIZE_TI },
	{ "TiB", SIZE_TI },
};

static const struct size_unit size_kube_units[] = {
	{ "", 1.0L },
	{ "Ki", SIZE_KI },
	{ "Mi", SIZE_MI },
	{ "Gi", SIZE_GI },
	{ "Ti", SIZE_TI },
	{ "Pi", SIZE_PI },
	{ "Ei", SIZE_EI },
	{ "n", 1e-9L },
	{ "u", 1e-6L },
	{ "m", 1e-3L },
	{ "k", 1e3L },
	{ "M", 1e6L },
	{ "G", 1e9L },
	{ "T", 1e12L },
	{ "P", 1e15L },
	{ "E", 1e18L },
};

/*
 * Read "digits[.digits]" (or ".digits") at *s: its value, *s moved past
 * it; -1 when no digit is there.  At most 30 digits are read.
 */
static int
size_scan_number(const char **s, long double *out)
{
	const char *p = *s;
	long double v = 0, scale = 1;
	int ndigits = 0;

	while (*p >= '0' && *p <= '9' && ndigits < 30) {
		v = v * 10 + (*p++ - '0');
		ndigits++;
	}
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9' && ndigits < 30) {
			scale /= 10;
			v += (*p++ - '0') * scale;
			ndigits++;
		}
	}
	if (ndigits == 0 || (*p >= '0' && *p <= '9'))
		return -1;
	*s = p;
	*out = v;
	return 0;
}

/* Bytes, rounded up, or -1 when `v` is out of int64_t's range. */
static int64_t
size_bytes(long double v)
{
	int64_t b;

	if (!(v >= 0) || v >= 9.2233720368547758e18L)
		return -1;
	b = (int64_t)v;
	if ((long double)b < v)
		b++; /* rounded up: a part of a byte is a byte */
	return b;
}

static const struct size_unit *
size_find_unit(const struct size_unit *units, size_t nunits, const char *s)
{
	size_t i;

	for (i = 0; i < nunits; i++)
		if (strcmp(units[i].suffix, s) == 0)
			return &units[i];
	return NULL;
}

int
size_parse(const char *s, int64_t *bytes, struct buf *err)
{
	const struct size_unit *u;
	const char *p = s;
	long double v;
	int64_t b;

	if (size_scan_number(&p, &v) < 0)
		goto bad;
	u = size_find_unit(size_user_units,
	    sizeof(size_user_units) / sizeof(size_user_units[0]), p);
	if (u == NULL)
		goto bad;
	b = size_bytes(v * u->mult);
	if (b < 0)
		goto bad;
	*bytes = b;
	return 0;
bad:
	return err_set(err, ERR_INVALID,
	    "invalid size '%s': a number with an optional unit K, M, G, T "
	    "(binary: 1G = 1 GiB), e.g. 512M, 4G, 1.5GiB",
	    s);
}

int
size_parse_kube(const char *s, int64_t *bytes)
{
	const struct size_unit *u;
	const char *p = s, *q;
	long double v, mult = 1;
	int64_t e = 0;
	bool neg = false;

	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if (size_scan_number(&p, &v) < 0)
		return -1;
	if ((*p == 'e' || *p == 'E') && p[1] != '\0') {
		q = p + 1;
		if (*q == '+')
			q++;
		if (util_parse_int64(q, -30, 30, &e) < 0)
			return -1;
		for (; e > 0; e--)
			mult *= 10;
		for (; e < 0; e++)
			mult /= 10;
	} else {
		u = size_find_unit(size_kube_units,
		    sizeof(size_kube_units) / sizeof(size_kube_units[0]), p);
		if (u == NULL)
			return -1;
		mult = u->mult;
	}
	if (neg && v != 0)
		return -1;
	*bytes = size_bytes(v * mult);
	return *bytes < 0 ? -1 : 0;
}

void
size_format(struct buf *b, int64_t bytes)
{
	static const char *const units[] = { "bytes", "KiB", "MiB", "GiB",
		"TiB", "PiB", "EiB" };
	int64_t div = 1, tenths;
	size_t i = 0;

	if (bytes < 0)
		bytes = 0;
	while (
	    i + 1 < sizeof(units) / sizeof(units[0]) && bytes / div >= 1024) {
		div *= 1024;
		i++;
	}
	/* Tenths, rounded down: "the largest has 12.7 GiB" never flatters. */
	tenths = (int64_t)((long double)bytes * 10 / (long double)div);
	if (i == 0 || tenths % 10 == 0)
		buf_addf(b, "%lld %s", (long long)(tenths / 10), units[i]);
	else
		buf_addf(b, "%lld.%lld %s", (long long)(tenths / 10),
		    (long long)(tenths % 10), units[i]);
}
