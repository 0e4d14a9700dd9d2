/*
 * db.c - what the drivers share: walking SQL text outside its quotes.
 */
#include "store/db.h"

void
db_replace_marker(const char *sql, const char *marker, const char *with,
    struct buf *out)
{
	size_t n = strlen(marker);
	const char *p = sql, *m;

	while ((m = strstr(p, marker)) != NULL) {
		buf_add(out, p, (size_t)(m - p));
		buf_adds(out, with);
		p = m + n;
	}
	buf_adds(out, p);
}

const char *
db_next_param(const char *sql, char *quote)
{
	const char *p;

	for (p = sql; *p != '\0'; p++) {
		if (*quote != 0) {
			if (*p == *quote)
				*quote = 0;
		} else if (*p == '\'' || *p == '"') {
			*quote = *p;
		} else if (*p == '$' && p[1] >= '0' && p[1] <= '9') {
			return p;
		}
	}
	return NULL;
}
