/* libs: orch_web */
/*
 * fuzz-path.c - web_path_parse() on any text: a path it accepts splits
 * into non-empty segments with no '/', no control character and no "."
 * or "..", and each segment, escaped again, rebuilds a path that parses
 * to the same segments.
 */
#include "web/web-int.h"
#include "fuzz.h"

#define FUZZ_SEG_MAX 10

static void
fuzz_path_free(char **seg, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(seg[i]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	char *seg[FUZZ_SEG_MAX], *again[FUZZ_SEG_MAX];
	struct buf path = BUF_INIT;
	size_t n = 0, m = 0, i;
	const char *p;
	int r;

	r = web_path_parse(s, seg, FUZZ_SEG_MAX, &n);
	FUZZ_CHECK(r == 0 || r == -1);
	FUZZ_CHECK(n <= FUZZ_SEG_MAX);
	if (r == 0) {
		FUZZ_CHECK(s[0] == '/');
		for (i = 0; i < n; i++) {
			FUZZ_CHECK(seg[i][0] != '\0');
			FUZZ_CHECK(strcmp(seg[i], ".") != 0);
			FUZZ_CHECK(strcmp(seg[i], "..") != 0);
			for (p = seg[i]; *p != '\0'; p++) {
				FUZZ_CHECK(*p != '/');
				FUZZ_CHECK(
				    (unsigned char)*p >= 0x20 && *p != 0x7f);
				buf_addf(&path, "%s%%%02X",
				    p == seg[i] ? "/" : "", (unsigned char)*p);
			}
		}
		if (n == 0)
			buf_adds(&path, "/");
		FUZZ_CHECK(
		    web_path_parse(path.data, again, FUZZ_SEG_MAX, &m) == 0);
		FUZZ_CHECK(m == n);
		for (i = 0; i < n; i++)
			FUZZ_CHECK(strcmp(again[i], seg[i]) == 0);
	}
	fuzz_path_free(seg, n);
	fuzz_path_free(again, m);
	buf_release(&path);
	free(s);
	return 0;
}
