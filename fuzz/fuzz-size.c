/* libs: orch_util */
/*
 * fuzz-size.c - size_parse() and size_parse_kube() on any text: what they
 * accept is never negative, a refusal says why and stores nothing, and
 * size_format() writes any size as text.
 */
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf err = BUF_INIT, b = BUF_INIT;
	char *s = fuzz_cstr(data, size);
	int64_t v = -1;
	int r;

	r = size_parse(s, &v, &err);
	if (r < 0)
		FUZZ_CHECK(r == ERR_INVALID && err.len > 0 && v == -1);
	else
		FUZZ_CHECK(r == 0 && v >= 0);
	v = -1;
	if (size_parse_kube(s, &v) == 0)
		FUZZ_CHECK(v >= 0);
	if (size >= sizeof(v)) {
		memcpy(&v, data, sizeof(v));
		size_format(&b, v);
		FUZZ_CHECK(b.len > 0 && strlen(b.data) == b.len);
	}
	buf_release(&b);
	buf_release(&err);
	free(s);
	return 0;
}
