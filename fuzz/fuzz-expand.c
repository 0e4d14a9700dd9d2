/* libs: orch_core */
/*
 * fuzz-expand.c - expand_check() and expand_job() on any template and
 * values, against a second, plain reading of the rules of core.h.
 *
 * The input is lines: the template first, then any of
 *
 *	in VALUE	inputs were given; this job's input is VALUE
 *	out VALUE	%OUT
 *	data VALUE	%DATA
 *	job N		the job index (%JOB)
 *	sec KEY=PATH	a secondary input, read by expand_parse_secondary()
 *
 * Other lines are ignored.  A "sec" line the parser refuses still goes in,
 * split at its '=', and expand_check() must refuse it too.  When the check
 * passes, expand_job()'s output must equal the template with each
 * placeholder replaced by its value quoted by buf_add_shell_quoted() (whose
 * own target checks the quoting), so no value ever comes out unquoted.
 */
#include "core/core.h"
#include "fuzz.h"

#define FUZZ_EXPAND_MAXSEC 8

struct fuzz_expand {
	struct expand_values v;
	struct expand_secondary sec[FUZZ_EXPAND_MAXSEC];
	bool sec_owned[FUZZ_EXPAND_MAXSEC]; /* from expand_parse_secondary */
	bool sec_refused;                   /* a "sec" line was refused */
	const char *input;                  /* NULL when no "in" line */
	int64_t index;
};

static bool
fuzz_expand_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

static bool
fuzz_expand_key_char(char c)
{
	return fuzz_expand_upper(c) || (c >= '0' && c <= '9') || c == '_';
}

static bool
fuzz_expand_key_ok(const char *key)
{
	const char *p;

	if (!fuzz_expand_upper(key[0]))
		return false;
	for (p = key + 1; *p != '\0'; p++)
		if (!fuzz_expand_key_char(*p))
			return false;
	return strcmp(key, "IN") != 0 && strcmp(key, "OUT") != 0 &&
	    strcmp(key, "DATA") != 0 && strcmp(key, "JOB") != 0;
}

/* Read one line of the input into `fx`; `line` lives as long as `fx`. */
static void
fuzz_expand_line(struct fuzz_expand *fx, char *line)
{
	struct buf err = BUF_INIT;
	struct expand_secondary *s;
	char *eq;
	size_t i = fx->v.nsecondary;

	if (strncmp(line, "in ", 3) == 0) {
		fx->v.has_inputs = true;
		fx->input = line + 3;
	} else if (strncmp(line, "out ", 4) == 0) {
		fx->v.out = line + 4;
	} else if (strncmp(line, "data ", 5) == 0) {
		fx->v.data = line + 5;
	} else if (strncmp(line, "job ", 4) == 0) {
		if (util_parse_int64(line + 4, 0, INT64_MAX, &fx->index) < 0)
			fx->index = 0;
	} else if (strncmp(line, "sec ", 4) == 0 && i < FUZZ_EXPAND_MAXSEC) {
		s = &fx->sec[i];
		if (expand_parse_secondary(line + 4, s, &err) == 0) {
			FUZZ_CHECK(
			    fuzz_expand_key_ok(s->key) && s->path[0] != '\0');
			fx->sec_owned[i] = true;
			fx->v.nsecondary++;
		} else {
			FUZZ_CHECK(err.len > 0);
			FUZZ_CHECK(s->key == NULL && s->path == NULL);
			eq = strchr(line + 4, '=');
			if (eq != NULL) {
				*eq = '\0';
				s->key = line + 4;
				s->path = eq + 1;
				fx->sec_refused = true;
				fx->v.nsecondary++;
			}
		}
	}
	buf_release(&err);
}

static const struct expand_secondary *
fuzz_expand_find(const struct fuzz_expand *fx, const char *key, size_t len)
{
	size_t i;

	for (i = 0; i < fx->v.nsecondary; i++)
		if (strlen(fx->sec[i].key) == len &&
		    memcmp(fx->sec[i].key, key, len) == 0)
			return &fx->sec[i];
	return NULL;
}

static bool
fuzz_expand_is(const char *key, size_t len, const char *want)
{
	return strlen(want) == len && memcmp(key, want, len) == 0;
}

/*
 * Expand `tmpl` into `out` by the rules of core.h; returns whether the
 * template and values pass them (what expand_check() must say).
 */
static bool
fuzz_expand_reference(const struct fuzz_expand *fx, const char *tmpl,
    struct buf *out)
{
	const struct expand_values *v = &fx->v;
	const struct expand_secondary *s;
	bool ok = true, used_in = false, used_data = false;
	bool used_sec[FUZZ_EXPAND_MAXSEC] = { false };
	const char *p = tmpl, *key;
	size_t i, j, len;

	for (i = 0; i < v->nsecondary; i++) {
		if (!fuzz_expand_key_ok(fx->sec[i].key) ||
		    fx->sec[i].path[0] == '\0')
			ok = false;
		for (j = 0; j < i; j++)
			if (strcmp(fx->sec[i].key, fx->sec[j].key) == 0)
				ok = false;
	}
	while (*p != '\0') {
		if (p[0] == '%' && p[1] == '%') {
			buf_addch(out, '%');
			p += 2;
			continue;
		}
		if (p[0] != '%' || !fuzz_expand_upper(p[1])) {
			buf_addch(out, *p++);
			continue;
		}
		key = ++p;
		while (fuzz_expand_key_char(*p))
			p++;
		len = (size_t)(p - key);
		if (fuzz_expand_is(key, len, "IN")) {
			used_in = true;
			buf_add_shell_quoted(out,
			    fx->input != NULL ? fx->input : "");
		} else if (fuzz_expand_is(key, len, "OUT")) {
			buf_add_shell_quoted(out, v->out != NULL ? v->out : "");
		} else if (fuzz_expand_is(key, len, "DATA")) {
			used_data = true;
			buf_add_shell_quoted(out,
			    v->data != NULL ? v->data : "");
		} else if (fuzz_expand_is(key, len, "JOB")) {
			buf_addf(out, "%lld", (long long)fx->index);
		} else {
			s = fuzz_expand_find(fx, key, len);
			if (s == NULL) {
				ok = false;
				continue;
			}
			used_sec[s - fx->sec] = true;
			buf_add_shell_quoted(out, s->path);
		}
	}
	if (used_in != v->has_inputs || used_data != (v->data != NULL))
		ok = false;
	for (i = 0; i < v->nsecondary; i++)
		if (!used_sec[i])
			ok = false;
	return ok;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_expand fx = { .v = { .out = "/out" } };
	struct buf err = BUF_INIT, got = BUF_INIT, want = BUF_INIT;
	char *text = fuzz_cstr(data, size), *tmpl = text, *line, *nl;
	size_t i;
	bool ok;
	int r;

	fx.v.secondary = fx.sec;
	nl = strchr(text, '\n');
	if (nl != NULL) {
		*nl = '\0';
		for (line = nl + 1; line != NULL; line = nl) {
			nl = strchr(line, '\n');
			if (nl != NULL)
				*nl++ = '\0';
			fuzz_expand_line(&fx, line);
		}
	}

	ok = fuzz_expand_reference(&fx, tmpl, &want);
	r = expand_check(tmpl, &fx.v, &err);
	if (r < 0) {
		FUZZ_CHECK(r == ERR_INVALID && err.len > 0);
		FUZZ_CHECK(strlen(err.data) == err.len);
	}
	if ((r == 0) != ok)
		fprintf(stderr, "expand_check '%s': %d, expected %s (%s)\n",
		    tmpl, r, ok ? "pass" : "refusal", err.data);
	FUZZ_CHECK((r == 0) == ok);
	FUZZ_CHECK(r < 0 || !fx.sec_refused);
	if (r == 0) {
		/* Appending keeps what was there. */
		buf_adds(&got, "$ ");
		expand_job(tmpl, &fx.v, fx.input, fx.index, &got);
		FUZZ_CHECK(strlen(got.data) == got.len);
		FUZZ_CHECK(strncmp(got.data, "$ ", 2) == 0);
		if (strcmp(got.data + 2, want.data) != 0)
			fprintf(stderr,
			    "expand_job '%s':\n got '%s'\nwant '%s'\n", tmpl,
			    got.data + 2, want.data);
		FUZZ_CHECK(strcmp(got.data + 2, want.data) == 0);
	}
	for (i = 0; i < fx.v.nsecondary; i++) {
		if (!fx.sec_owned[i])
			continue;
		free((char *)fx.sec[i].key);
		free((char *)fx.sec[i].path);
	}
	buf_release(&want);
	buf_release(&got);
	buf_release(&err);
	free(text);
	return 0;
}
