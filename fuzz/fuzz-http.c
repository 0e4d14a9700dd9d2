/* libs: orch_util */
/*
 * fuzz-http.c - http_reply_feed() on any bytes (what a server, or
 * whatever answers at ORCHESTRA_URL, sends back): read whole and read in
 * pieces (the first byte chooses their size) it gives the same outcome,
 * status, keep_alive, head and body; it never reads past what it was
 * given, and the body is never more than the bytes received.  The body's
 * cap is the input's second byte, so truncation is reached too.
 */
#include "fuzz.h"
#include "util/http.h"

/* Read `d` in pieces of `step`, then its end; the outcome. */
static int
fuzz_http_read(const char *d, size_t size, size_t step, struct http_reply *r,
    struct buf *body, struct buf *err)
{
	size_t got = 0;
	int ret = 0;

	memset(r, 0, sizeof(*r));
	buf_init(&r->head);
	r->body = body;
	while (ret == 0 && got < size && !body->truncated) {
		got = got + step < size ? got + step : size;
		ret = http_reply_feed(r, d, got, false, err);
		FUZZ_CHECK(r->pos <= got);
	}
	if (ret == 0 && !body->truncated)
		ret = http_reply_feed(r, d, size, true, err);
	FUZZ_CHECK(r->pos <= size);
	FUZZ_CHECK(ret == 1 || ret == 0 || ret == ERR_UNAVAILABLE);
	FUZZ_CHECK(ret != 0 || body->truncated);
	FUZZ_CHECK(ret >= 0 || err->len > 0);
	FUZZ_CHECK(body->len <= size);
	FUZZ_CHECK(ret != 1 || (r->status >= 200 && r->status <= 999));
	return ret;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_reply a, b;
	struct buf ba = BUF_INIT, bb = BUF_INIT, err = BUF_INIT;
	size_t step, cap;
	int ra, rb;

	if (size < 2)
		return 0;
	step = (size_t)data[0] % 17 + 1;
	cap = data[1] == 0 ? 0 : (size_t)data[1] * 4;
	ba.cap_limit = cap;
	bb.cap_limit = cap;
	ra = fuzz_http_read((const char *)data + 2, size - 2, size, &a, &ba,
	    &err);
	rb = fuzz_http_read((const char *)data + 2, size - 2, step, &b, &bb,
	    &err);
	/* Read in pieces, a body past its cap stops as soon as it is past
	 * it; read whole, at once: only a whole reading is compared then. */
	if (!ba.truncated && !bb.truncated) {
		FUZZ_CHECK(ra == rb);
		if (ra == 1) {
			FUZZ_CHECK(a.status == b.status);
			FUZZ_CHECK(a.keep_alive == b.keep_alive);
			FUZZ_CHECK(a.pos == b.pos);
			FUZZ_CHECK(strcmp(a.head.data, b.head.data) == 0);
			FUZZ_CHECK(ba.len == bb.len &&
			    memcmp(ba.data, bb.data, ba.len) == 0);
		}
	}
	http_reply_release(&a);
	http_reply_release(&b);
	buf_release(&ba);
	buf_release(&bb);
	buf_release(&err);
	return 0;
}
