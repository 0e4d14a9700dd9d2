/*
 * expand.c - placeholders in a task's command template: %IN, %OUT, %DATA,
 * %JOB and secondary inputs %KEY.
 *
 * A placeholder is '%' followed by an upper-case letter and then
 * upper-case letters, digits or '_' (the longest such run: %INPUT is the
 * placeholder INPUT, not %IN followed by "PUT").  "%%" is a literal '%';
 * any other '%' stays as it is, so `date +%s` works.  Substituted values
 * are quoted for /bin/sh; %JOB is the decimal job index.
 */
#include "core/core.h"

/* How much of an unknown placeholder a message shows. */
#define EXPAND_SHOW_MAX 64

enum expand_tok_kind {
	EXPAND_TEXT,    /* text to copy as it is */
	EXPAND_PERCENT, /* "%%": one '%' */
	EXPAND_KEY,     /* a placeholder; s and len name its key */
};

struct expand_tok {
	enum expand_tok_kind kind;
	const char *s;
	size_t len;
};

static const char *const expand_reserved[] = { "IN", "OUT", "DATA", "JOB" };

static bool
expand_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

static bool
expand_key_char(char c)
{
	return expand_upper(c) || (c >= '0' && c <= '9') || c == '_';
}

/* Is [s, s+len) a key: [A-Z][A-Z0-9_]*? */
static bool
expand_key_valid(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || !expand_upper(s[0]))
		return false;
	for (i = 1; i < len; i++)
		if (!expand_key_char(s[i]))
			return false;
	return true;
}

static bool
expand_key_is(const struct expand_tok *t, const char *key)
{
	return t->len == strlen(key) && memcmp(t->s, key, t->len) == 0;
}

static bool
expand_key_reserved(const char *key)
{
	size_t i;

	for (i = 0; i < sizeof(expand_reserved) / sizeof(expand_reserved[0]);
	     i++)
		if (strcmp(key, expand_reserved[i]) == 0)
			return true;
	return false;
}

/* Read the token at `p` into `t`; returns where the next one starts. */
static const char *
expand_next(const char *p, struct expand_tok *t)
{
	const char *q;

	if (p[0] == '%' && p[1] == '%') {
		t->kind = EXPAND_PERCENT;
		t->s = p;
		t->len = 2;
		return p + 2;
	}
	if (p[0] == '%' && expand_upper(p[1])) {
		q = p + 2;
		while (expand_key_char(*q))
			q++;
		t->kind = EXPAND_KEY;
		t->s = p + 1;
		t->len = (size_t)(q - t->s);
		return q;
	}
	/* Text up to the next '%' (a lone '%' is text). */
	q = p + 1;
	while (*q != '\0' && *q != '%')
		q++;
	t->kind = EXPAND_TEXT;
	t->s = p;
	t->len = (size_t)(q - p);
	return q;
}

static const struct expand_secondary *
expand_find_secondary(const struct expand_values *v, const struct expand_tok *t)
{
	size_t i;

	for (i = 0; i < v->nsecondary; i++)
		if (expand_key_is(t, v->secondary[i].key))
			return &v->secondary[i];
	return NULL;
}

/* Does the template use placeholder `key`? */
static bool
expand_uses(const char *tmpl, const char *key)
{
	struct expand_tok t;
	const char *p = tmpl;

	while (*p != '\0') {
		p = expand_next(p, &t);
		if (t.kind == EXPAND_KEY && expand_key_is(&t, key))
			return true;
	}
	return false;
}

static int
expand_check_secondary(const struct expand_values *v, struct buf *err)
{
	const char *key;
	size_t i, j;

	for (i = 0; i < v->nsecondary; i++) {
		key = v->secondary[i].key;
		if (!expand_key_valid(key, strlen(key)))
			return err_set(err, ERR_INVALID,
			    "invalid secondary input key '%.*s': it must be an upper-case letter followed by upper-case letters, digits or '_'",
			    EXPAND_SHOW_MAX, key);
		if (expand_key_reserved(key))
			return err_set(err, ERR_INVALID,
			    "secondary input key '%s' is reserved (IN, OUT, DATA and JOB are placeholders already)",
			    key);
		for (j = 0; j < i; j++)
			if (strcmp(v->secondary[j].key, key) == 0)
				return err_set(err, ERR_INVALID,
				    "secondary input '%s' is given twice", key);
		if (v->secondary[i].path == NULL ||
		    v->secondary[i].path[0] == '\0')
			return err_set(err, ERR_INVALID,
			    "secondary input '%s' has an empty path", key);
	}
	return 0;
}

int
expand_check(const char *tmpl, const struct expand_values *v, struct buf *err)
{
	struct expand_tok t;
	const char *p = tmpl;
	bool used_in = false, used_data = false;
	size_t i;
	int r;

	r = expand_check_secondary(v, err);
	if (r < 0)
		return r;
	while (*p != '\0') {
		p = expand_next(p, &t);
		if (t.kind != EXPAND_KEY)
			continue;
		if (expand_key_is(&t, "IN"))
			used_in = true;
		else if (expand_key_is(&t, "DATA"))
			used_data = true;
		else if (expand_key_is(&t, "OUT") || expand_key_is(&t, "JOB"))
			continue;
		else if (expand_find_secondary(v, &t) == NULL) {
			int n = t.len > EXPAND_SHOW_MAX ? EXPAND_SHOW_MAX
			                                : (int)t.len;

			return err_set(err, ERR_INVALID,
			    "'%%%.*s' is used but no secondary input %.*s was given (--secondary %.*s=PATH; write %%%%%.*s for a literal)",
			    n, t.s, n, t.s, n, t.s, n, t.s);
		}
	}
	if (used_in && !v->has_inputs)
		return err_set(err, ERR_INVALID,
		    "'%%IN' is used but no inputs were given (--inputs)");
	if (!used_in && v->has_inputs)
		return err_set(err, ERR_INVALID,
		    "inputs were given but the command does not use '%%IN'");
	if (used_data && v->data == NULL)
		return err_set(err, ERR_INVALID,
		    "'%%DATA' is used but no --data was given");
	if (!used_data && v->data != NULL)
		return err_set(err, ERR_INVALID,
		    "--data was given but the command does not use '%%DATA'");
	for (i = 0; i < v->nsecondary; i++)
		if (!expand_uses(tmpl, v->secondary[i].key))
			return err_set(err, ERR_INVALID,
			    "secondary input '%s' is given but the command does not use '%%%s'",
			    v->secondary[i].key, v->secondary[i].key);
	return 0;
}

void
expand_job(const char *tmpl, const struct expand_values *v, const char *input,
    int64_t index, struct buf *out)
{
	const struct expand_secondary *sec;
	struct expand_tok t;
	const char *p = tmpl;

	while (*p != '\0') {
		p = expand_next(p, &t);
		switch (t.kind) {
		case EXPAND_TEXT:
			buf_add(out, t.s, t.len);
			break;
		case EXPAND_PERCENT:
			buf_addch(out, '%');
			break;
		case EXPAND_KEY:
			if (expand_key_is(&t, "IN")) {
				buf_add_shell_quoted(out,
				    input != NULL ? input : "");
			} else if (expand_key_is(&t, "OUT")) {
				buf_add_shell_quoted(out,
				    v->out != NULL ? v->out : "");
			} else if (expand_key_is(&t, "DATA")) {
				buf_add_shell_quoted(out,
				    v->data != NULL ? v->data : "");
			} else if (expand_key_is(&t, "JOB")) {
				buf_addf(out, "%lld", (long long)index);
			} else {
				sec = expand_find_secondary(v, &t);
				if (sec == NULL)
					BUG("placeholder '%%%.*s' not checked",
					    (int)t.len, t.s);
				buf_add_shell_quoted(out, sec->path);
			}
			break;
		}
	}
}

int
expand_parse_secondary(const char *arg, struct expand_secondary *out,
    struct buf *err)
{
	const char *eq = strchr(arg, '=');
	size_t klen;
	char *key;

	out->key = NULL;
	out->path = NULL;
	if (eq == NULL)
		return err_set(err, ERR_INVALID,
		    "invalid secondary input '%.*s': expected KEY=PATH",
		    EXPAND_SHOW_MAX, arg);
	klen = (size_t)(eq - arg);
	if (!expand_key_valid(arg, klen))
		return err_set(err, ERR_INVALID,
		    "invalid secondary input key '%.*s': it must be an upper-case letter followed by upper-case letters, digits or '_'",
		    (int)(klen > EXPAND_SHOW_MAX ? EXPAND_SHOW_MAX : klen),
		    arg);
	key = xstrndup(arg, klen);
	if (expand_key_reserved(key)) {
		err_set(err, ERR_INVALID,
		    "secondary input key '%s' is reserved (IN, OUT, DATA and JOB are placeholders already)",
		    key);
		free(key);
		return ERR_INVALID;
	}
	if (eq[1] == '\0') {
		err_set(err, ERR_INVALID,
		    "secondary input '%s' has an empty path", key);
		free(key);
		return ERR_INVALID;
	}
	out->key = key;
	out->path = xstrdup(eq + 1);
	return 0;
}
