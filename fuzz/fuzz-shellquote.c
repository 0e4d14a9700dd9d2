/* libs: orch_util */
/*
 * fuzz-shellquote.c - buf_add_shell_quoted() on any bytes, checked with no
 * shell: the output is either the input itself, made only of characters
 * /bin/sh gives no meaning to, or one single-quoted word in which every
 * inner quote is written '\'' and which /bin/sh would read back as the
 * input.
 */
#include "fuzz.h"

/* Characters with no meaning to /bin/sh anywhere in a word. */
static bool
fuzz_shellquote_safe(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '/' ||
	    c == ',' || c == ':' || c == '@' || c == '%' || c == '+' ||
	    c == '=' || c == '-';
}

static bool
fuzz_shellquote_all_safe(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!fuzz_shellquote_safe(*s))
			return false;
	return true;
}

/*
 * Read `q` as /bin/sh reads a word made of '...' runs joined by \' (the
 * form '\'' leaves): append the text to `out`; false if `q` is not of that
 * form, or starts or ends otherwise than with a quote.
 */
static bool
fuzz_shellquote_unquote(const char *q, struct buf *out)
{
	const char *p = q;

	if (*p != '\'')
		return false;
	while (*p != '\0') {
		if (*p != '\'')
			return false;
		p++; /* the opening quote of a run */
		while (*p != '\0' && *p != '\'')
			buf_addch(out, *p++);
		if (*p != '\'')
			return false; /* unterminated */
		p++;
		if (*p == '\0')
			break;
		/* Between two runs only an escaped quote: \' */
		if (p[0] != '\\' || p[1] != '\'')
			return false;
		buf_addch(out, '\'');
		p += 2;
		if (*p != '\'')
			return false; /* the word must end with a quote */
	}
	return p[-1] == '\'';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf q = BUF_INIT, back = BUF_INIT;
	char *s = fuzz_cstr(data, size);
	const char *p;
	size_t nquote = 0;

	/* Appending keeps what was there. */
	buf_adds(&q, "cmd ");
	buf_add_shell_quoted(&q, s);
	FUZZ_CHECK(strncmp(q.data, "cmd ", 4) == 0);
	FUZZ_CHECK(strlen(q.data) == q.len);
	p = q.data + 4;
	if (fuzz_shellquote_all_safe(s)) {
		FUZZ_CHECK(strcmp(p, s) == 0);
		goto out;
	}
	/* Quoted: '...' with each inner quote as '\'', and nothing else. */
	FUZZ_CHECK(strlen(p) >= 2 && p[0] == '\'' && p[strlen(p) - 1] == '\'');
	FUZZ_CHECK(fuzz_shellquote_unquote(p, &back));
	FUZZ_CHECK(strcmp(back.data, s) == 0);
	/* Length: two quotes, plus three more bytes per inner quote. */
	for (p = s; *p != '\0'; p++)
		if (*p == '\'')
			nquote++;
	FUZZ_CHECK(q.len == 4 + strlen(s) + 2 + 3 * nquote);
out:
	buf_release(&back);
	buf_release(&q);
	free(s);
	return 0;
}
