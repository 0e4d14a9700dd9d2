/* libs: orch_util */
/*
 * fuzz-redact.c - util_redact_url() on any text: no password survives.
 *
 * Two rules of util.h are checked.  A "password=" value (after blanks, up
 * to a blank, '&', ';' or '#') never comes out as it went in; and for a URL of
 * the form scheme://user:pass@host…, the output starts "scheme://user:***@"
 * (unless the user name itself holds a password= keyword, which is
 * redacted too).
 * Redaction only replaces text with "***", so a value that could be read
 * as stars is not looked for.
 */
#include "fuzz.h"

#define FUZZ_REDACT_KEY "password="

/*
 * Every "password=" value of `in` (after blanks, up to a blank, '&', ';'
 * or '#', as util.h's rule reads it) is gone from `out`.
 */
static void
fuzz_redact_keywords(const char *in, const char *out)
{
	struct buf kv = BUF_INIT;
	const char *p, *v;
	size_t n, blanks;

	for (p = in; (p = strstr(p, FUZZ_REDACT_KEY)) != NULL; p++) {
		v = p + strlen(FUZZ_REDACT_KEY);
		blanks = strspn(v, " \t");
		n = strcspn(v + blanks, " \t&;#");
		if (n == 0 || v[blanks] == '*' || v[blanks] == '\'' ||
		    v[blanks] == '"')
			continue;
		buf_reset(&kv);
		buf_add(&kv, p, (size_t)(v - p) + blanks + n);
		if (strstr(out, kv.data) != NULL)
			fprintf(stderr, "redact: '%s' -> '%s' shows '%s'\n", in,
			    out, kv.data);
		FUZZ_CHECK(strstr(out, kv.data) == NULL);
	}
	buf_release(&kv);
}

/*
 * For "scheme://user:pass@…" (scheme [A-Za-z][A-Za-z0-9+.-]*, user
 * without ":@/?#", pass not empty and without "@/?#"), the output starts
 * with "scheme://user:***@".
 */
static void
fuzz_redact_userinfo(const char *in, const char *out)
{
	struct buf want = BUF_INIT;
	const char *p = in, *user, *pass;

	if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
		return;
	p += strspn(p,
	    "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");
	if (strncmp(p, "://", 3) != 0)
		return;
	user = p + 3;
	p = user + strcspn(user, ":@/?#");
	if (*p != ':')
		return;
	pass = p + 1;
	p = pass + strcspn(pass, "@/?#");
	if (*p != '@' || p == pass)
		return;
	/* A user name holding "password=" is redacted as a keyword too. */
	if (strcasestr(user, "password") != NULL &&
	    strcasestr(user, "password") < pass)
		return;
	buf_add(&want, in, (size_t)(pass - in));
	buf_adds(&want, "***@");
	if (strncmp(out, want.data, want.len) != 0)
		fprintf(stderr, "redact: '%s' -> '%s', not '%s…'\n", in, out,
		    want.data);
	FUZZ_CHECK(strncmp(out, want.data, want.len) == 0);
	buf_release(&want);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf out = BUF_INIT;
	char *s = fuzz_cstr(data, size);

	/* Appending keeps what was there. */
	buf_adds(&out, "db=");
	util_redact_url(&out, s);
	FUZZ_CHECK(strncmp(out.data, "db=", 3) == 0);
	FUZZ_CHECK(strlen(out.data) == out.len);
	fuzz_redact_keywords(s, out.data + 3);
	fuzz_redact_userinfo(s, out.data + 3);
	buf_release(&out);
	free(s);
	return 0;
}
