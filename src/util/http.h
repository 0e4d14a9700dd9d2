/*
 * http.h - a small HTTP/1.1 client for plain http:// (http.c): the remote
 * command line's requests to `orchestra serve`, without loading libcurl
 * and its thirty libraries for every command (docs/internals/remote.md).
 * https://, a user part in the URL and proxies stay with libcurl.
 */
#ifndef ORCHESTRA_HTTP_H
#define ORCHESTRA_HTTP_H

#include "util/util.h"

/* The longest status line and headers of a reply, and chunk size line. */
#define HTTP_HEAD_MAX (64 * 1024)

/*
 * A reply being read (http_reply_feed()).  Zeroed, then `body` set to the
 * buffer the body goes to (its cap_limit bounds it: past it the body is
 * `truncated`).  After the reply, `status` and `head` (the status line and
 * headers, CRLF kept) describe it and `keep_alive` says whether the
 * connection may carry another request.
 */
struct http_reply {
	int status;
	bool keep_alive;
	bool done;
	struct buf head;  /* the final (not 1xx) reply's head */
	struct buf *body; /* borrowed */
	/* the reader's state */
	int state;
	uint64_t left; /* of the Content-Length, or of the chunk */
	size_t pos;    /* bytes of the input consumed */
	size_t scan;   /* where the search for the head's end goes on */
};
void http_reply_release(struct http_reply *r);
/*
 * Read on in `data`, the reply's bytes received so far (`len` of them; the
 * same bytes as the last call's and maybe more), `eof` once the peer has
 * closed.  1 when the reply is whole (`done`), 0 when more is needed,
 * ERR_UNAVAILABLE with why in `err` when it is malformed or ended early.
 * Consumes at most `len` bytes (`pos`); whatever follows a whole reply
 * is not read.
 */
int http_reply_feed(struct http_reply *r, const char *data, size_t len,
    bool eof, struct buf *err);
/*
 * The value of header `name` (any case; blanks around it trimmed) of a
 * head, the first such line, into `out` (reset first): 1, or 0 when there
 * is none.
 */
int http_head_get(const char *head, const char *name, struct buf *out);

/* A connection to one http:// server, kept between requests. */
struct http_client {
	char *authority; /* "host[:port]", as the URL gives it: Host */
	char *host;      /* the name or address, without [] */
	char *port;      /* "80" unless the URL names one */
	int fd;          /* -1: not connected */
	long connect_ms; /* to connect */
	long timeout_ms; /* a whole request, the connection included */
	struct buf head; /* the last reply's head (http_head_get()) */
};
/*
 * Whether `url` is one this client takes: "http://" and an authority with
 * no user part, and no proxy in the environment (http_proxy, all_proxy,
 * ALL_PROXY: those are libcurl's).
 */
bool http_client_takes(const char *url);
/*
 * Fill `c` for `url` (http_client_takes() true; its path, if any, is the
 * caller's).  No connection yet.  ERR_INVALID when the authority cannot
 * be read.
 */
int http_client_init(struct http_client *c, const char *url, long connect_ms,
    long timeout_ms, struct buf *err);
/*
 * One request: METHOD `target` (a path, escaped already), `headers` (each
 * line ending "\r\n"; borrowed, may hold a secret: the request's copy is
 * wiped), `body` of `body_len` bytes (NULL: none).  The reply's status in
 * *status and its body in `out` (reset first; its cap_limit is kept: a
 * body past it stops the reading, `out->truncated` set and the connection
 * closed, for the caller to refuse).  A kept connection the
 * server closed meanwhile is opened again once, as libcurl does.  0, or
 * ERR_UNAVAILABLE with why (cannot resolve, connect, send, receive, time
 * out, a malformed reply).
 */
int http_client_request(struct http_client *c, const char *method,
    const char *target, const char *headers, const char *body, size_t body_len,
    long *status, struct buf *out, struct buf *err);
/* Close the connection and free what `c` holds. */
void http_client_release(struct http_client *c);

#endif
