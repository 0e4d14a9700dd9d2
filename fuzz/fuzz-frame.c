/* libs: orch_util */
/*
 * fuzz-frame.c - buf_next_frame() on any bytes (what the child that read
 * a submit's inputs as the submitter wrote back): it reads whole records
 * inside the data only, never moves backwards, and the records read,
 * framed again with buf_add_frame(), give back exactly the bytes they
 * came from.
 */
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *d = (const char *)data, *rec;
	struct buf again = BUF_INIT;
	size_t pos = 0, last, len;
	int r;

	for (;;) {
		last = pos;
		r = buf_next_frame(d, size, &pos, &rec, &len);
		if (r != 1) {
			FUZZ_CHECK(pos == last);
			FUZZ_CHECK(r == 0 ? pos == size : pos < size);
			break;
		}
		FUZZ_CHECK(pos == last + 4 + len && pos <= size);
		FUZZ_CHECK(rec == d + last + 4);
		buf_add_frame(&again, rec, len);
	}
	FUZZ_CHECK(again.len == pos);
	FUZZ_CHECK(pos == 0 || memcmp(again.data, d, pos) == 0);
	buf_release(&again);
	return 0;
}
