/*
 * http.c - a small HTTP/1.1 client for plain http:// (http.h).
 *
 * The remote command line makes one to a few requests to `orchestra
 * serve` and exits; loading libcurl and the thirty libraries it needs
 * cost more than the requests themselves (bench/README.md, issue 18).
 * This is what those requests need and no more: one connection, kept
 * between the requests of a command (and opened again once when the
 * server closed it meanwhile, as libcurl does), a request written whole,
 * a reply read by its Content-Length, its chunks or to the connection's
 * end, a deadline on all of it.  No redirects, as libcurl's default.
 *
 * The reply's reader, http_reply_feed(), is a function of the bytes
 * received alone (fuzz/fuzz-http.c): every length it reads is checked
 * against what was received, the head and a chunk's size line are
 * bounded, and a body goes into a capped buffer.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/http.h"

enum {
	HTTP_HEAD,        /* the status line and headers */
	HTTP_BODY_LENGTH, /* `left` bytes of a Content-Length */
	HTTP_BODY_CLOSE,  /* up to the connection's end */
	HTTP_CHUNK_SIZE,  /* a chunk's size line */
	HTTP_CHUNK_DATA,  /* `left` bytes of a chunk */
	HTTP_CHUNK_END,   /* the CRLF after a chunk's data */
	HTTP_TRAILER,     /* trailer lines, up to an empty one */
	HTTP_DONE,
};

/* The bytes read at once. */
#define HTTP_READ 65536

void
http_reply_release(struct http_reply *r)
{
	buf_release(&r->head);
}

/* The end of the line at `from` in [from, len) (the '\n'), or NULL. */
static const char *
http_line_end(const char *data, size_t from, size_t len)
{
	return memchr(data + from, '\n', len - from);
}

/*
 * Find the end of the head from r->scan: the byte after the empty line
 * ("\n\r\n" or "\n\n").  0 when not received yet.
 */
static size_t
http_head_end(struct http_reply *r, const char *data, size_t len)
{
	size_t i;

	for (i = r->scan; i < len; i++) {
		if (data[i] != '\n')
			continue;
		if (i + 1 >= len || (data[i + 1] == '\r' && i + 2 >= len)) {
			r->scan = i; /* look at this '\n' again with more */
			return 0;
		}
		if (data[i + 1] == '\n')
			return i + 2;
		if (data[i + 1] == '\r' && data[i + 2] == '\n')
			return i + 3;
	}
	r->scan = len;
	return 0;
}

static bool
http_is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c));
}

/* [*s, *e) without blanks at either end. */
static void
http_trim(const char **s, const char **e)
{
	while (*s < *e && (**s == ' ' || **s == '\t'))
		(*s)++;
	while (*e > *s &&
	    ((*e)[-1] == ' ' || (*e)[-1] == '\t' || (*e)[-1] == '\r'))
		(*e)--;
}

/* Whether the comma-separated list [s, e) holds `token` (any case). */
static bool
http_list_has(const char *s, const char *e, const char *token)
{
	size_t n = strlen(token);
	const char *a, *b;

	while (s < e) {
		a = s;
		b = memchr(s, ',', (size_t)(e - s));
		if (b == NULL)
			b = e;
		s = b + 1;
		http_trim(&a, &b);
		if ((size_t)(b - a) == n && strncasecmp(a, token, n) == 0)
			return true;
	}
	return false;
}

/* Whether the last coding of the list [s, e) is "chunked". */
static bool
http_last_is_chunked(const char *s, const char *e)
{
	const char *a = s, *b = e, *c;

	for (c = s; c < e; c++)
		if (*c == ',')
			a = c + 1;
	http_trim(&a, &b);
	return b - a == 7 && strncasecmp(a, "chunked", 7) == 0;
}

/* Read a whole decimal number of [s, e) into *v: 0, or -1. */
static int
http_parse_length(const char *s, const char *e, uint64_t *v)
{
	*v = 0;
	if (s == e)
		return -1;
	for (; s < e; s++) {
		if (*s < '0' || *s > '9' || *v > (UINT64_MAX - 9) / 10)
			return -1;
		*v = *v * 10 + (uint64_t)(*s - '0');
	}
	return 0;
}

/*
 * Read the head [data, data + n): the status, how the body is framed,
 * whether the connection stays.  0, or ERR_UNAVAILABLE.
 */
static int
http_head_read(struct http_reply *r, const char *data, size_t n,
    struct buf *err)
{
	const char *p = data, *end = data + n, *nl, *e, *colon, *v, *ve;
	bool chunked = false, has_length = false, closes = false, v11;
	uint64_t length = 0, l;
	int i;

	nl = memchr(p, '\n', n);
	e = nl;
	if (e > p && e[-1] == '\r')
		e--;
	/* "HTTP/1.x NNN" and, after a blank, a reason or nothing. */
	if (e - p < 12 || memcmp(p, "HTTP/1.", 7) != 0 ||
	    (p[7] != '0' && p[7] != '1') || p[8] != ' ' ||
	    (e - p > 12 && p[12] != ' '))
		return err_set(err, ERR_UNAVAILABLE,
		    "malformed reply: no HTTP/1 status line");
	v11 = p[7] == '1';
	r->status = 0;
	for (i = 9; i < 12; i++) {
		if (p[i] < '0' || p[i] > '9')
			return err_set(err, ERR_UNAVAILABLE,
			    "malformed reply: no HTTP/1 status line");
		r->status = r->status * 10 + (p[i] - '0');
	}
	if (r->status < 100)
		return err_set(err, ERR_UNAVAILABLE,
		    "malformed reply: status %d", r->status);
	for (p = nl + 1; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		e = nl;
		if (e > p && e[-1] == '\r')
			e--;
		if (e == p)
			break; /* the empty line that ends the head */
		colon = memchr(p, ':', (size_t)(e - p));
		if (colon == NULL || colon == p)
			return err_set(err, ERR_UNAVAILABLE,
			    "malformed reply: a header line without a name");
		for (v = p; v < colon; v++)
			if (!http_is_tchar((unsigned char)*v))
				return err_set(err, ERR_UNAVAILABLE,
				    "malformed reply: a header's name");
		v = colon + 1;
		ve = e;
		http_trim(&v, &ve);
		if (colon - p == 14 &&
		    strncasecmp(p, "Content-Length", 14) == 0) {
			if (http_parse_length(v, ve, &l) < 0 ||
			    (has_length && l != length))
				return err_set(err, ERR_UNAVAILABLE,
				    "malformed reply: its Content-Length");
			has_length = true;
			length = l;
		} else if (colon - p == 17 &&
		    strncasecmp(p, "Transfer-Encoding", 17) == 0) {
			chunked = http_last_is_chunked(v, ve);
			if (!chunked)
				closes =
				    true; /* framed by the connection's end */
		} else if (colon - p == 10 &&
		    strncasecmp(p, "Connection", 10) == 0) {
			if (http_list_has(v, ve, "close"))
				closes = true;
		}
	}
	r->keep_alive = v11 && !closes;
	if (r->status == 204 || r->status == 304 ||
	    (r->status >= 100 && r->status < 200)) {
		r->state = HTTP_DONE;
	} else if (chunked) {
		r->state = HTTP_CHUNK_SIZE;
	} else if (has_length && !closes) {
		r->left = length;
		r->state = length == 0 ? HTTP_DONE : HTTP_BODY_LENGTH;
	} else {
		r->keep_alive = false;
		r->state = HTTP_BODY_CLOSE;
	}
	return 0;
}

/* The chunk size line [p, e) (CR kept off): its size into r->left. */
static int
http_chunk_size(struct http_reply *r, const char *p, const char *e,
    struct buf *err)
{
	uint64_t v = 0;
	const char *s = p;
	int d;

	for (; s < e; s++) {
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			break;
		if (v > (UINT64_MAX >> 4))
			return err_set(err, ERR_UNAVAILABLE,
			    "malformed reply: a chunk's size");
		v = (v << 4) | (uint64_t)d;
	}
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	/* Digits, then nothing or an extension (";name=value"), ignored. */
	if (s == p || (s < e && *s != ';'))
		return err_set(err, ERR_UNAVAILABLE,
		    "malformed reply: a chunk's size");
	r->left = v;
	return 0;
}

int
http_reply_feed(struct http_reply *r, const char *data, size_t len, bool eof,
    struct buf *err)
{
	const char *nl, *e;
	size_t end, n;

	if (r->scan < r->pos)
		r->scan = r->pos;
	while (r->state != HTTP_DONE && !r->body->truncated) {
		n = len - r->pos;
		switch (r->state) {
		case HTTP_HEAD:
			end = http_head_end(r, data, len);
			if (end == 0) {
				if (len - r->pos > HTTP_HEAD_MAX)
					return err_set(err, ERR_UNAVAILABLE,
					    "malformed reply: its head is "
					    "longer than %d bytes",
					    HTTP_HEAD_MAX);
				goto more;
			}
			if (end - r->pos > HTTP_HEAD_MAX)
				return err_set(err, ERR_UNAVAILABLE,
				    "malformed reply: its head is longer "
				    "than %d bytes",
				    HTTP_HEAD_MAX);
			if (http_head_read(r, data + r->pos, end - r->pos,
			        err) < 0)
				return ERR_UNAVAILABLE;
			buf_reset(&r->head);
			buf_add(&r->head, data + r->pos, end - r->pos);
			r->pos = end;
			r->scan = end;
			/* An interim reply (100 Continue): the real one
			 * follows. */
			if (r->status < 200) {
				if (r->status == 101)
					return err_set(err, ERR_UNAVAILABLE,
					    "malformed reply: status 101");
				r->state = HTTP_HEAD;
			}
			break;
		case HTTP_BODY_LENGTH:
		case HTTP_CHUNK_DATA:
			if (n == 0)
				goto more;
			if ((uint64_t)n > r->left)
				n = (size_t)r->left;
			buf_add(r->body, data + r->pos, n);
			r->pos += n;
			r->left -= n;
			if (r->left == 0)
				r->state = r->state == HTTP_CHUNK_DATA
				    ? HTTP_CHUNK_END
				    : HTTP_DONE;
			break;
		case HTTP_BODY_CLOSE:
			buf_add(r->body, data + r->pos, n);
			r->pos = len;
			if (!eof)
				goto more;
			r->state = HTTP_DONE;
			break;
		case HTTP_CHUNK_SIZE:
		case HTTP_TRAILER:
			nl = http_line_end(data, r->pos, len);
			if (nl == NULL) {
				if (n > HTTP_HEAD_MAX)
					return err_set(err, ERR_UNAVAILABLE,
					    "malformed reply: a chunk's line "
					    "is longer than %d bytes",
					    HTTP_HEAD_MAX);
				goto more;
			}
			e = nl;
			if (e > data + r->pos && e[-1] == '\r')
				e--;
			if (r->state == HTTP_TRAILER) {
				/* Trailer fields are not read: the empty
				 * line ends the reply. */
				if (e == data + r->pos)
					r->state = HTTP_DONE;
			} else if (http_chunk_size(r, data + r->pos, e, err) <
			    0) {
				return ERR_UNAVAILABLE;
			} else {
				r->state = r->left == 0 ? HTTP_TRAILER
				                        : HTTP_CHUNK_DATA;
			}
			r->pos = (size_t)(nl + 1 - data);
			break;
		case HTTP_CHUNK_END:
			if (n == 0 || (data[r->pos] == '\r' && n == 1))
				goto more;
			if (data[r->pos] == '\n') {
				r->pos += 1;
			} else if (data[r->pos] == '\r' &&
			    data[r->pos + 1] == '\n') {
				r->pos += 2;
			} else {
				return err_set(err, ERR_UNAVAILABLE,
				    "malformed reply: no line end after a "
				    "chunk");
			}
			r->state = HTTP_CHUNK_SIZE;
			break;
		default:
			BUG("http reply state %d", r->state);
		}
	}
	r->done = r->state == HTTP_DONE;
	return r->done ? 1 : 0;
more:
	if (eof)
		return err_set(err, ERR_UNAVAILABLE,
		    "the server closed the connection before the reply's end");
	return 0;
}

int
http_head_get(const char *head, const char *name, struct buf *out)
{
	size_t n = strlen(name);
	const char *p, *nl, *e, *v;

	buf_reset(out);
	/* The first line is the status line. */
	p = strchr(head, '\n');
	for (; p != NULL && p[1] != '\0'; p = nl) {
		p++;
		nl = strchr(p, '\n');
		e = nl != NULL ? nl : p + strlen(p);
		if ((size_t)(e - p) > n && p[n] == ':' &&
		    strncasecmp(p, name, n) == 0) {
			v = p + n + 1;
			http_trim(&v, &e);
			buf_add(out, v, (size_t)(e - v));
			return 1;
		}
	}
	return 0;
}

/* ---- the client -------------------------------------------------------- */

bool
http_client_takes(const char *url)
{
	static const char *const proxies[] = { "http_proxy", "all_proxy",
		"ALL_PROXY" };
	const char *v;
	size_t i, n;

	if (strncmp(url, "http://", 7) != 0)
		return false;
	url += 7;
	n = strcspn(url, "/?#");
	if (n == 0 || memchr(url, '@', n) != NULL)
		return false;
	for (i = 0; i < sizeof(proxies) / sizeof(proxies[0]); i++) {
		v = getenv(proxies[i]);
		if (v != NULL && *v != '\0')
			return false;
	}
	return true;
}

int
http_client_init(struct http_client *c, const char *url, long connect_ms,
    long timeout_ms, struct buf *err)
{
	const char *a = url + 7, *host, *host_end, *port = NULL, *p;
	size_t n = strcspn(a, "/?#");
	int64_t num;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->connect_ms = connect_ms;
	c->timeout_ms = timeout_ms;
	buf_init(&c->head);
	for (p = a; p < a + n; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return err_set(err, ERR_INVALID,
			    "the URL's host holds a blank or control "
			    "character");
	host = a;
	if (*a == '[') {
		host = a + 1;
		host_end = memchr(a, ']', n);
		if (host_end == NULL)
			return err_set(err, ERR_INVALID,
			    "the URL's host has '[' without ']'");
		p = host_end + 1;
	} else {
		host_end = memchr(a, ':', n);
		if (host_end == NULL)
			host_end = a + n;
		p = host_end;
	}
	if (p < a + n) {
		if (*p != ':')
			return err_set(err, ERR_INVALID,
			    "the URL's host is followed by '%c'", *p);
		port = p + 1;
	}
	if (host_end == host)
		return err_set(err, ERR_INVALID, "the URL has no host");
	c->authority = xstrndup(a, n);
	c->host = xstrndup(host, (size_t)(host_end - host));
	c->port = port != NULL ? xstrndup(port, (size_t)(a + n - port))
	                       : xstrdup("80");
	if (util_parse_int64(c->port, 1, 65535, &num) < 0) {
		err_set(err, ERR_INVALID,
		    "the URL's port '%s' is not 1 to 65535", c->port);
		http_client_release(c);
		return ERR_INVALID;
	}
	return 0;
}

static void
http_client_disconnect(struct http_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

void
http_client_release(struct http_client *c)
{
	http_client_disconnect(c);
	free(c->authority);
	free(c->host);
	free(c->port);
	c->authority = c->host = c->port = NULL;
	buf_release(&c->head);
}

/* Milliseconds left until `deadline` (time_mono_ns()), at least 0. */
static int
http_left_ms(int64_t deadline)
{
	int64_t left = (deadline - time_mono_ns()) / 1000000;

	if (left < 0)
		return 0;
	return left > INT32_MAX ? INT32_MAX : (int)left;
}

/* Wait until `fd` is ready for `events` or `deadline`: 1, 0 on the
 * deadline, -1 with errno. */
static int
http_wait(int fd, short events, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r;

	for (;;) {
		r = poll(&p, 1, http_left_ms(deadline));
		if (r >= 0 || errno != EINTR)
			return r > 0 ? 1 : r;
	}
}

/* Connect to one of the host's addresses by `deadline`. */
static int
http_client_connect(struct http_client *c, int64_t deadline, struct buf *err)
{
	struct addrinfo hints = { 0 }, *list = NULL, *ai;
	int fd = -1, r, soerr = 0, one = 1;
	socklen_t len;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	r = getaddrinfo(c->host, c->port, &hints, &list);
	if (r != 0)
		return err_set(err, ERR_UNAVAILABLE,
		    "could not resolve host '%s': %s", c->host,
		    gai_strerror(r));
	for (ai = list; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family,
		    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd < 0) {
			soerr = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		soerr = errno;
		if (soerr == EINPROGRESS) {
			r = http_wait(fd, POLLOUT, deadline);
			if (r == 0) {
				close(fd);
				freeaddrinfo(list);
				return err_set(err, ERR_UNAVAILABLE,
				    "connecting to %s port %s timed out",
				    c->host, c->port);
			}
			len = sizeof(soerr);
			if (r > 0 &&
			    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr,
			        &len) == 0 &&
			    soerr == 0)
				break;
			if (r < 0)
				soerr = errno;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(list);
	if (fd < 0)
		return err_set(err, ERR_UNAVAILABLE,
		    "failed to connect to %s port %s: %s", c->host, c->port,
		    strerror(soerr));
	/* A request is written whole: nothing to gain from Nagle. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->fd = fd;
	return 0;
}

/* Write all of `b` by `deadline`: 0, or -1 with *sys the errno (0: the
 * deadline). */
static int
http_client_send(struct http_client *c, const struct buf *b, int64_t deadline,
    int *sys)
{
	size_t off = 0;
	ssize_t n;
	int r;

	while (off < b->len) {
		n = send(c->fd, b->data + off, b->len - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			*sys = errno;
			return -1;
		}
		r = http_wait(c->fd, POLLOUT, deadline);
		if (r <= 0) {
			*sys = r < 0 ? errno : 0;
			return -1;
		}
	}
	return 0;
}

/*
 * Read the reply to the request just sent into `r`.  0 when whole (or
 * its body truncated), 1 when the connection ended before its first byte
 * or was reset then (a kept connection the server had closed), else
 * ERR_UNAVAILABLE.
 */
static int
http_client_receive(struct http_client *c, struct http_reply *r,
    int64_t deadline, struct buf *err)
{
	struct buf in = BUF_INIT;
	size_t got = 0;
	ssize_t n;
	bool eof = false;
	int ret = ERR_UNAVAILABLE, w;

	for (;;) {
		w = http_reply_feed(r, in.data, in.len, eof, err);
		if (w < 0 || w == 1 || r->body->truncated) {
			ret = w < 0 ? ERR_UNAVAILABLE : 0;
			/* Bytes past the reply: nothing to keep the
			 * connection for. */
			if (w == 1 && r->pos != in.len)
				r->keep_alive = false;
			break;
		}
		/* What is read is kept only up to the reader's place. */
		if (r->pos > 0) {
			memmove(in.data, in.data + r->pos, in.len - r->pos);
			in.len -= r->pos;
			in.data[in.len] = '\0';
			r->scan = r->scan > r->pos ? r->scan - r->pos : 0;
			r->pos = 0;
		}
		w = http_wait(c->fd, POLLIN, deadline);
		if (w == 0) {
			err_set(err, ERR_UNAVAILABLE, "no reply within %ld ms",
			    c->timeout_ms);
			break;
		}
		if (w < 0) {
			err_set(err, ERR_UNAVAILABLE, "poll: %s",
			    strerror(errno));
			break;
		}
		buf_grow(&in, HTTP_READ);
		n = recv(c->fd, in.data + in.len, HTTP_READ, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0 && errno == ECONNRESET && got == 0) {
			ret = 1;
			break;
		}
		if (n < 0) {
			err_set(err, ERR_UNAVAILABLE, "receive failure: %s",
			    strerror(errno));
			break;
		}
		if (n == 0 && got == 0) {
			ret = 1;
			break;
		}
		eof = n == 0;
		in.len += (size_t)n;
		in.data[in.len] = '\0';
		got += (size_t)n;
	}
	buf_release(&in);
	return ret;
}

int
http_client_request(struct http_client *c, const char *method,
    const char *target, const char *headers, const char *body, size_t body_len,
    long *status, struct buf *out, struct buf *err)
{
	int64_t start = time_mono_ns();
	int64_t deadline = start + (int64_t)c->timeout_ms * 1000000;
	int64_t connect_by = start + (int64_t)c->connect_ms * 1000000;
	struct http_reply r;
	struct buf req = BUF_INIT;
	const char *p;
	bool reused;
	int attempt, ret = ERR_UNAVAILABLE, sys = 0;

	*status = 0;
	for (p = target; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return err_set(err, ERR_INVALID,
			    "the request's path holds a blank or control "
			    "character");
	if (connect_by > deadline)
		connect_by = deadline;
	/* Room for all of it at once: no copy of the headers' secret is
	 * left behind in memory a growth gave back. */
	buf_grow(&req,
	    strlen(method) + strlen(target) + strlen(c->authority) +
	        strlen(headers) + body_len + 96);
	buf_addf(&req, "%s %s HTTP/1.1\r\nHost: %s\r\n%s", method, target,
	    c->authority, headers);
	if (body != NULL)
		buf_addf(&req, "Content-Length: %zu\r\n", body_len);
	buf_adds(&req, "\r\n");
	if (body != NULL)
		buf_add(&req, body, body_len);
	buf_reset(out);
	memset(&r, 0, sizeof(r));
	buf_init(&r.head);
	r.body = out;
	for (attempt = 0; attempt < 2; attempt++) {
		reused = c->fd >= 0;
		if (!reused && http_client_connect(c, connect_by, err) < 0)
			break;
		if (http_client_send(c, &req, deadline, &sys) < 0) {
			http_client_disconnect(c);
			if (reused && sys != 0)
				continue;
			if (sys == 0)
				err_set(err, ERR_UNAVAILABLE,
				    "no reply within %ld ms", c->timeout_ms);
			else
				err_set(err, ERR_UNAVAILABLE,
				    "send failure: %s", strerror(sys));
			break;
		}
		ret = http_client_receive(c, &r, deadline, err);
		if (ret == 1) {
			http_client_disconnect(c);
			if (reused)
				continue;
			ret = err_set(err, ERR_UNAVAILABLE,
			    "empty reply from server");
		}
		break;
	}
	if (ret == 1)
		ret = err_set(err, ERR_UNAVAILABLE, "empty reply from server");
	if (ret == 0) {
		*status = r.status;
		buf_reset(&c->head);
		buf_add(&c->head, r.head.data, r.head.len);
	}
	if (ret < 0 || !r.keep_alive || out->truncated)
		http_client_disconnect(c);
	http_reply_release(&r);
	buf_release_secret(&req);
	return ret;
}
