/* libs: orch_store */
/*
 * fuzz-sqlparams.c - db_next_param() over any SQL text, as the drivers
 * walk it: each call returns a "$N" inside the string at or after where it
 * started, so the walk ends; and the parameters it finds are exactly those
 * outside '…' and "…", counted here again from the rule of db.h.  The
 * migrations' marker rewrite, db_replace_marker(), is checked on the same
 * text: each "@ID@" becomes the replacement, and nothing else changes.
 */
#include "store/db.h"
#include "fuzz.h"

static bool
fuzz_sqlparams_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The "$N" outside quotes of `sql`, counted with the rule of db.h. */
static size_t
fuzz_sqlparams_count(const char *sql)
{
	char quote = 0;
	size_t n = 0;
	const char *p;

	for (p = sql; *p != '\0'; p++) {
		if (quote != 0) {
			if (*p == quote)
				quote = 0;
		} else if (*p == '\'' || *p == '"') {
			quote = *p;
		} else if (*p == '$' && fuzz_sqlparams_digit(p[1])) {
			n++;
		}
	}
	return n;
}

static void
fuzz_sqlparams_marker(const char *sql)
{
	static const char with[] = "BIGSERIAL PRIMARY KEY";
	struct buf out = BUF_INIT;
	const char *p;
	size_t n = 0;

	for (p = sql; (p = strstr(p, "@ID@")) != NULL; p += 4)
		n++;
	db_replace_marker(sql, "@ID@", with, &out);
	FUZZ_CHECK(strlen(out.data) == out.len);
	FUZZ_CHECK(out.len == strlen(sql) + n * (sizeof(with) - 1) - n * 4);
	buf_release(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *sql = fuzz_cstr(data, size);
	size_t len = strlen(sql), n = 0;
	const char *p = sql, *dollar;
	char quote = 0;

	while ((dollar = db_next_param(p, &quote)) != NULL) {
		FUZZ_CHECK(dollar >= p && dollar < sql + len);
		FUZZ_CHECK(dollar[0] == '$' && fuzz_sqlparams_digit(dollar[1]));
		FUZZ_CHECK(quote == 0);
		n++;
		FUZZ_CHECK(n <= len / 2);
		p = dollar + 1;
	}
	FUZZ_CHECK(n == fuzz_sqlparams_count(sql));
	fuzz_sqlparams_marker(sql);
	free(sql);
	return 0;
}
