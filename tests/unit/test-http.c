/* libs: orch_util */
/*
 * test-http.c - util/http.c: replies read whole and a byte at a time
 * alike, malformed ones refused, the head's lookup, the URLs the client
 * takes, and the client against a server of the test's own on 127.0.0.1:
 * a kept connection, one the server closed opened again, a refused one
 * and one that never answers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/http.h"

/* Feed `reply` `step` bytes more at a time, then its end. */
static int
feed(const char *reply, size_t len, size_t step, struct http_reply *r,
    struct buf *body, struct buf *err)
{
	size_t got = 0;
	int ret = 0;

	memset(r, 0, sizeof(*r));
	buf_init(&r->head);
	r->body = body;
	while (ret == 0 && got < len && !body->truncated) {
		got = got + step < len ? got + step : len;
		ret = http_reply_feed(r, reply, got, false, err);
	}
	if (ret == 0 && !body->truncated)
		ret = http_reply_feed(r, reply, len, true, err);
	return ret;
}

/* `reply` read whole and a byte at a time: the same status, body and
 * keep_alive; returns the status. */
static int
read_both(const char *reply, const char *body, bool keep_alive)
{
	struct http_reply r1, r2;
	struct buf b1 = BUF_INIT, b2 = BUF_INIT, err = BUF_INIT;
	int status;

	assert_int_equal(
	    feed(reply, strlen(reply), strlen(reply), &r1, &b1, &err), 1);
	assert_int_equal(feed(reply, strlen(reply), 1, &r2, &b2, &err), 1);
	assert_string_equal(b1.data, body);
	assert_string_equal(b2.data, body);
	assert_int_equal(r1.status, r2.status);
	assert_int_equal(r1.keep_alive, keep_alive);
	assert_int_equal(r2.keep_alive, keep_alive);
	assert_string_equal(r1.head.data, r2.head.data);
	status = r1.status;
	http_reply_release(&r1);
	http_reply_release(&r2);
	buf_release(&b1);
	buf_release(&b2);
	buf_release(&err);
	return status;
}

static void
test_http_replies_read(void **state)
{
	(void)state;
	assert_int_equal(read_both("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
	                           "\r\nhello",
	                     "hello", true),
	    200);
	assert_int_equal(read_both("HTTP/1.1 201 Created\r\n"
	                           "Transfer-Encoding: chunked\r\n\r\n"
	                           "5;x=y\r\nhello\r\n6\r\n world\r\n"
	                           "0\r\nT: v\r\n\r\n",
	                     "hello world", true),
	    201);
	/* Framed by the connection's end: HTTP/1.0, or no length. */
	assert_int_equal(read_both("HTTP/1.0 200 OK\r\n\r\nabc", "abc", false),
	    200);
	assert_int_equal(read_both("HTTP/1.1 200 OK\r\n\r\nabc", "abc", false),
	    200);
	assert_int_equal(read_both("HTTP/1.1 100 Continue\r\n\r\n"
	                           "HTTP/1.1 404 Not Found\r\n"
	                           "Content-Length: 0\r\n"
	                           "Connection: keep-alive, Close\r\n\r\n",
	                     "", false),
	    404);
	assert_int_equal(read_both("HTTP/1.1 204 No Content\r\n\r\n", "", true),
	    204);
	/* Bare line feeds, as some servers write them. */
	assert_int_equal(
	    read_both("HTTP/1.1 200 OK\nContent-Length: 2\n\nok", "ok", true),
	    200);
	assert_int_equal(read_both("HTTP/1.1 200 OK\r\n"
	                           "Transfer-Encoding: chunked\r\n\r\n"
	                           "A\nabcdefghij\n0\n\n",
	                     "abcdefghij", true),
	    200);
}

static void
test_http_reply_stops_at_its_end(void **state)
{
	static const char two[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"
	                          "okHTTP/1.1 200 OK\r\n";
	struct http_reply r;
	struct buf body = BUF_INIT, err = BUF_INIT;

	(void)state;
	assert_int_equal(feed(two, strlen(two), 1000, &r, &body, &err), 1);
	assert_string_equal(body.data, "ok");
	assert_int_equal(r.pos, strlen(two) - strlen("HTTP/1.1 200 OK\r\n"));
	http_reply_release(&r);
	buf_release(&body);
	buf_release(&err);
}

static void
test_http_malformed_refused(void **state)
{
	static const char *const bad[] = {
		"HTTP/2 200 OK\r\n\r\n",
		"HTTP/1.1 20x OK\r\n\r\n",
		"HTTP/1.1 200OK\r\n\r\n",
		"HTTP/1.1 099 Low\r\n\r\n",
		"HTTP/1.1 101 Switching Protocols\r\n\r\n",
		"SMTP 220 hello\r\n\r\n",
		"HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n",
		"HTTP/1.1 200 OK\r\n: no name\r\n\r\n",
		"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n\r\nhello",
		"HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n"
		"\r\nab",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		"11111111111111111\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		"2\r\nabX\r\n0\r\n\r\n",
		/* Ended early: in the head, the body, a chunk, the trailer. */
		"HTTP/1.1 200 OK\r\nContent-Len",
		"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n",
	};
	struct http_reply r;
	struct buf body = BUF_INIT, err = BUF_INIT;
	size_t i, step;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		for (step = 1; step <= strlen(bad[i]);
		     step += strlen(bad[i]) - 1) {
			buf_reset(&body);
			buf_reset(&err);
			if (feed(bad[i], strlen(bad[i]), step, &r, &body,
			        &err) != ERR_UNAVAILABLE)
				fail_msg("read, not refused: %s", bad[i]);
			assert_true(err.len > 0);
			http_reply_release(&r);
		}
	}
	buf_release(&body);
	buf_release(&err);
}

static void
test_http_limits(void **state)
{
	struct http_reply r;
	struct buf body = BUF_INIT, err = BUF_INIT, big = BUF_INIT;
	static const char five[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
	                           "\r\nhello";

	(void)state;
	/* A body past the buffer's cap stops the reading. */
	body.cap_limit = 3;
	assert_int_equal(feed(five, strlen(five), 1, &r, &body, &err), 0);
	assert_true(body.truncated);
	assert_string_equal(body.data, "hel");
	http_reply_release(&r);
	buf_release(&body);
	/* A head that does not end within HTTP_HEAD_MAX. */
	buf_adds(&big, "HTTP/1.1 200 OK\r\n");
	while (big.len <= HTTP_HEAD_MAX)
		buf_adds(&big, "X-Filler: 0123456789abcdef\r\n");
	assert_int_equal(feed(big.data, big.len, 4096, &r, &body, &err),
	    ERR_UNAVAILABLE);
	assert_non_null(strstr(err.data, "longer than"));
	http_reply_release(&r);
	buf_release(&body);
	buf_release(&big);
	buf_release(&err);
}

static void
test_http_head_get(void **state)
{
	static const char head[] = "HTTP/1.1 200 OK\r\n"
	                           "X-Log-End:  42 \r\n"
	                           "x-log-end: 7\r\n"
	                           "X-Log-Endless: 9\r\n"
	                           "Empty:\r\n\r\n";
	struct buf v = BUF_INIT;

	(void)state;
	assert_int_equal(http_head_get(head, "x-LOG-end", &v), 1);
	assert_string_equal(v.data, "42");
	assert_int_equal(http_head_get(head, "Empty", &v), 1);
	assert_string_equal(v.data, "");
	assert_int_equal(http_head_get(head, "X-Log", &v), 0);
	assert_int_equal(http_head_get(head, "HTTP/1.1 200 OK", &v), 0);
	assert_int_equal(http_head_get("", "X", &v), 0);
	buf_release(&v);
}

static void
test_http_urls(void **state)
{
	struct http_client c;
	struct buf err = BUF_INIT;

	(void)state;
	unsetenv("http_proxy");
	unsetenv("all_proxy");
	unsetenv("ALL_PROXY");
	assert_true(http_client_takes("http://127.0.0.1:8080"));
	assert_true(http_client_takes("http://serve/prefix"));
	assert_false(http_client_takes("https://serve"));
	assert_false(http_client_takes("http://user:pw@serve"));
	assert_false(http_client_takes("http:///path"));
	setenv("http_proxy", "http://proxy:3128", 1);
	assert_false(http_client_takes("http://serve"));
	setenv("http_proxy", "", 1);
	assert_true(http_client_takes("http://serve"));
	setenv("ALL_PROXY", "socks5://proxy", 1);
	assert_false(http_client_takes("http://serve"));
	unsetenv("ALL_PROXY");
	unsetenv("http_proxy");

	assert_int_equal(
	    http_client_init(&c, "http://[::1]:8080/p", 1, 1, &err), 0);
	assert_string_equal(c.authority, "[::1]:8080");
	assert_string_equal(c.host, "::1");
	assert_string_equal(c.port, "8080");
	http_client_release(&c);
	assert_int_equal(http_client_init(&c, "http://serve?x", 1, 1, &err), 0);
	assert_string_equal(c.authority, "serve");
	assert_string_equal(c.port, "80");
	http_client_release(&c);
	assert_int_equal(http_client_init(&c, "http://serve:0", 1, 1, &err),
	    ERR_INVALID);
	assert_int_equal(http_client_init(&c, "http://serve:http", 1, 1, &err),
	    ERR_INVALID);
	assert_int_equal(http_client_init(&c, "http://[::1", 1, 1, &err),
	    ERR_INVALID);
	assert_int_equal(http_client_init(&c, "http://[::1]x", 1, 1, &err),
	    ERR_INVALID);
	assert_int_equal(http_client_init(&c, "http://:80", 1, 1, &err),
	    ERR_INVALID);
	assert_int_equal(http_client_init(&c, "http://a\r\nb", 1, 1, &err),
	    ERR_INVALID);
	http_client_release(&c);
	buf_release(&err);
}

/*
 * ---- a server of the test's own ---------------------------------------
 *
 * On 127.0.0.1, one thread: it answers the requests it reads with
 * `replies` in turn, closing each connection after `per_conn` of them
 * (0: never), or with `silent` reads one request, answers nothing and
 * waits for the client to go.  What it read is in `got`.
 */
struct srv {
	int lfd;
	int port;
	const char *const *replies;
	int nreplies;
	int per_conn;
	bool silent;
	int accepts;
	struct buf got;
	pthread_t thread;
};

/* Read one request (head, then Content-Length bytes) into s->got. */
static bool
srv_read_request(struct srv *s, int fd)
{
	char c;
	size_t start = s->got.len, head = 0;
	long length = 0;
	const char *cl;

	for (;;) {
		if (recv(fd, &c, 1, 0) != 1)
			return false;
		buf_addch(&s->got, c);
		if (head == 0 && s->got.len - start >= 4 &&
		    memcmp(s->got.data + s->got.len - 4, "\r\n\r\n", 4) == 0) {
			head = s->got.len;
			cl = strstr(s->got.data + start, "Content-Length: ");
			if (cl != NULL)
				length = strtol(cl + 16, NULL, 10);
		}
		if (head != 0 && (long)(s->got.len - head) >= length)
			return true;
	}
}

static void *
srv_run(void *arg)
{
	struct srv *s = arg;
	int fd = -1, done = 0, on_conn = 0;
	char c;

	while (done < s->nreplies || s->silent) {
		if (fd < 0) {
			fd = accept(s->lfd, NULL, NULL);
			if (fd < 0)
				break;
			s->accepts++;
			on_conn = 0;
		}
		if (!srv_read_request(s, fd)) {
			close(fd);
			fd = -1;
			continue;
		}
		if (s->silent) {
			while (recv(fd, &c, 1, 0) > 0)
				;
			break;
		}
		/* No cmocka assertion in this thread: the test checks what
		 * the client read. */
		if (send(fd, s->replies[done], strlen(s->replies[done]),
		        MSG_NOSIGNAL) != (ssize_t)strlen(s->replies[done]))
			break;
		done++;
		on_conn++;
		if (s->per_conn > 0 && on_conn == s->per_conn) {
			close(fd);
			fd = -1;
		}
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

static void
srv_start(struct srv *s)
{
	struct sockaddr_in a = { 0 };
	socklen_t len = sizeof(a);

	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s->lfd >= 0);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->lfd, 8), 0);
	assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&a, &len), 0);
	s->port = ntohs(a.sin_port);
	buf_init(&s->got);
	assert_int_equal(pthread_create(&s->thread, NULL, srv_run, s), 0);
}

static void
srv_stop(struct srv *s)
{
	shutdown(s->lfd, SHUT_RDWR);
	pthread_join(s->thread, NULL);
	close(s->lfd);
}

static void
client_open(struct http_client *c, const struct srv *s, long timeout_ms)
{
	struct buf url = BUF_INIT, err = BUF_INIT;

	buf_addf(&url, "http://127.0.0.1:%d", s->port);
	assert_int_equal(http_client_init(c, url.data, 2000, timeout_ms, &err),
	    0);
	buf_release(&url);
	buf_release(&err);
}

static void
test_http_client_keeps_the_connection(void **state)
{
	static const char *const replies[] = {
		"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-N: 1\r\n\r\none",
		"HTTP/1.1 409 Conflict\r\nTransfer-Encoding: chunked\r\n\r\n"
		"3\r\ntwo\r\n0\r\n\r\n",
	};
	struct srv s = { .replies = replies, .nreplies = 2 };
	struct http_client c;
	struct buf out = BUF_INIT, err = BUF_INIT, v = BUF_INIT,
	           want = BUF_INIT;
	long status;

	(void)state;
	srv_start(&s);
	client_open(&c, &s, 10000);
	assert_int_equal(http_client_request(&c, "GET", "/a%20b", "X: y\r\n",
	                     NULL, 0, &status, &out, &err),
	    0);
	assert_int_equal(status, 200);
	assert_string_equal(out.data, "one");
	assert_int_equal(http_head_get(c.head.data, "x-n", &v), 1);
	assert_string_equal(v.data, "1");
	assert_int_equal(http_client_request(&c, "POST", "/b", "", "{}", 2,
	                     &status, &out, &err),
	    0);
	assert_int_equal(status, 409);
	assert_string_equal(out.data, "two");
	assert_int_equal(http_head_get(c.head.data, "x-n", &v), 0);
	/* A path that could end the request line is not sent. */
	assert_int_equal(http_client_request(&c, "GET", "/a b", "", NULL, 0,
	                     &status, &out, &err),
	    ERR_INVALID);
	http_client_release(&c);
	srv_stop(&s);
	assert_int_equal(s.accepts, 1);
	buf_addf(&want,
	    "GET /a%%20b HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX: y\r\n\r\n"
	    "POST /b HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
	    "Content-Length: 2\r\n\r\n{}",
	    s.port, s.port);
	assert_string_equal(s.got.data, want.data);
	buf_release(&s.got);
	buf_release(&out);
	buf_release(&err);
	buf_release(&v);
	buf_release(&want);
}

static void
test_http_client_opens_again(void **state)
{
	static const char *const replies[] = {
		"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none",
		"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\ntwo",
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nthree",
	};
	struct srv s = { .replies = replies, .nreplies = 3, .per_conn = 1 };
	struct http_client c;
	struct buf out = BUF_INIT, err = BUF_INIT;
	long status;
	int i;

	(void)state;
	srv_start(&s);
	client_open(&c, &s, 10000);
	/* The server closes each connection after one reply, without
	 * saying so: each next request finds it closed and opens another. */
	for (i = 0; i < 3; i++) {
		assert_int_equal(http_client_request(&c, "GET", "/", "", NULL,
		                     0, &status, &out, &err),
		    0);
		assert_string_equal(out.data,
		    replies[i] + strlen(replies[i]) - (i == 2 ? 5 : 3));
	}
	http_client_release(&c);
	srv_stop(&s);
	assert_int_equal(s.accepts, 3);
	buf_release(&s.got);
	buf_release(&out);
	buf_release(&err);
}

static void
test_http_client_errors(void **state)
{
	struct srv s = { .silent = true };
	struct http_client c;
	struct buf out = BUF_INIT, err = BUF_INIT;
	long status;

	(void)state;
	srv_start(&s);
	client_open(&c, &s, 300);
	/* Answered by nobody: the deadline, not a hang. */
	assert_int_equal(http_client_request(&c, "GET", "/", "", NULL, 0,
	                     &status, &out, &err),
	    ERR_UNAVAILABLE);
	assert_string_equal(err.data, "no reply within 300 ms");
	assert_int_equal(c.fd, -1);
	http_client_release(&c);
	/* Nobody listens on the port now. */
	srv_stop(&s);
	buf_release(&s.got);
	client_open(&c, &s, 2000);
	assert_int_equal(http_client_request(&c, "GET", "/", "", NULL, 0,
	                     &status, &out, &err),
	    ERR_UNAVAILABLE);
	assert_non_null(
	    strstr(err.data, "failed to connect to 127.0.0.1 port"));
	assert_non_null(strstr(err.data, strerror(ECONNREFUSED)));
	http_client_release(&c);
	assert_int_equal(http_client_init(&c, "http://no-such-host.invalid",
	                     1000, 1000, &err),
	    0);
	assert_int_equal(http_client_request(&c, "GET", "/", "", NULL, 0,
	                     &status, &out, &err),
	    ERR_UNAVAILABLE);
	assert_non_null(strstr(err.data, "could not resolve host"));
	http_client_release(&c);
	buf_release(&out);
	buf_release(&err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http_replies_read),
		cmocka_unit_test(test_http_reply_stops_at_its_end),
		cmocka_unit_test(test_http_malformed_refused),
		cmocka_unit_test(test_http_limits),
		cmocka_unit_test(test_http_head_get),
		cmocka_unit_test(test_http_urls),
		cmocka_unit_test(test_http_client_keeps_the_connection),
		cmocka_unit_test(test_http_client_opens_again),
		cmocka_unit_test(test_http_client_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
