/*
 * web-int.h - what the web module's own files share: one request, the
 * route table, JSON helpers, and the per-address limits.
 */
#ifndef ORCHESTRA_WEB_INT_H
#define ORCHESTRA_WEB_INT_H

#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <semaphore.h>

#include "service/service-json.h"
#include "service/service.h"
#include "web/web.h"

/* Password checks (argon2id, ~80 ms each) that may run at once: the
 * processes that run them (hash.c). */
#define WEB_HASH_MAX 2
/* Largest request body read; a larger one is refused with 413. */
#define WEB_BODY_MAX (64 * 1024)
/* The dashboard's session cookie. */
#define WEB_SESSION_COOKIE "orchestra_session"
/* Path segments kept; a longer path matches no route (404). */
#define WEB_SEG_MAX 10

/* One request, from its first callback to its response. */
struct web_req {
	struct MHD_Connection *conn;
	const char *method;
	char *seg[WEB_SEG_MAX]; /* the path's segments, percent-decoded */
	size_t nseg;
	bool bad_path;   /* a segment was malformed or too many */
	const char *ip;  /* the client's address, borrowed */
	struct buf body; /* capped at WEB_BODY_MAX */
	bool too_large;
	bool counted;       /* among its address's requests (server.c) */
	bool too_many;      /* its address has too many under way */
	uint64_t cred_key;  /* counted under this credential; 0 none */
	json_t *json;       /* the body parsed, when a route wants one */
	struct account who; /* who presented the token */
	struct service svc; /* acting as `who`, not trusted */
	/* The response: a JSON value, or text when `is_text`. */
	unsigned int status;
	json_t *resp;
	struct buf text;
	bool is_text;
	const char *content_type; /* of a text response; NULL: plain UTF-8 */
	const char *etag;         /* a static file's: sent, and no-cache */
	const struct web_route *route; /* matched, or NULL */
	struct web_server *ws;
	/*
	 * How the request authenticated: the token's text or, when
	 * `by_session`, the session cookie's secret (wiped when freed), and
	 * then the session's CSRF token.
	 */
	bool by_session;
	struct buf cred;
	struct buf csrf;
	struct buf set_cookie; /* a Set-Cookie header to send, when not empty */
	/* A response the handler made itself (an event stream), or NULL. */
	struct MHD_Response *own;
	/* Work left to do off the request workers: see web_defer(). */
	void (*work)(struct web_req *r);
	void (*done)(struct web_req *r);
	void *defer;
	void (*defer_free)(void *defer);
	/* A route marked `cache`: its key and the state read (cache.c). */
	struct buf cache_key; /* empty: not kept */
	struct buf cache_version;
	bool cache_fill;       /* others wait for this one's answer */
	int64_t cache_made_ns; /* when the state was read */
};

/* A route: method and pattern ("*" matches one segment). */
struct web_route {
	const char *method;
	const char *pattern;
	bool public; /* no token needed (/healthz, /readyz) */
	void (*fn)(struct web_req *r);
	/*
	 * Its 200 answers are kept while the database is unchanged
	 * (cache.c): they depend on who asks, the path, the query and the
	 * database only, never on the clock.
	 */
	bool cache;
};
extern const struct web_route web_routes[];

/*
 * A file of the dashboard, built into the binary from web/static by
 * cmake/embed-static.cmake; web_assets[] ends with a NULL path.
 */
struct web_asset {
	const char *path; /* "/static/app.js" */
	const char *type; /* Content-Type */
	const unsigned char *data;
	size_t len;
	const char *etag; /* quoted, from the content's hash */
};
extern const struct web_asset web_assets[];

/* GET / (the page) and GET /static/NAME: public, with an ETag. */
void web_static_index(struct web_req *r);
void web_static_file(struct web_req *r);

/*
 * A request worker: one of libmicrohttpd's pool threads (server.c), and
 * the store connection only it uses.  A request's r->svc is a copy of
 * its worker's, made as the request is first handled.
 */
struct web_worker {
	struct service svc;
	bool taken; /* by a thread, for good (under workers_lock) */
};

/*
 * The server.  Its callbacks run on web_workers() threads at once: each
 * has a store connection of its own (`workers`); what they share is
 * under a lock (the counters here, the per-address table in server.c).
 */
struct web_server {
	struct web_worker *workers;
	size_t nworker;
	pthread_mutex_t workers_lock;
	struct MHD_Daemon *daemon;
	/* For /metrics, under count_lock: */
	pthread_mutex_t count_lock;
	json_t *requests; /* requests answered, "METHOD route code" -> count */
	int64_t auth_failures;
	int64_t db_errors;       /* answers 503 for the store's failure */
	bool tls;                /* served over TLS: cookies are Secure */
	int64_t session_idle_ms; /* a session idle this long has ended */
	struct web_sse *sse;     /* the event streams (sse.c) */
	struct web_cache *cache; /* answers kept (cache.c) */
	/* Requests whose work runs on a thread of its own (web_defer). */
	pthread_mutex_t defer_lock;
	pthread_cond_t defer_idle;
	int ndefer;
	bool stopping; /* no more: the daemon stops */
	/* Password checks that may run at once (api-session.c), and the
	 * processes that run them (hash.c). */
	sem_t hash_slots;
	pthread_mutex_t hash_lock;
	int hash_fd[WEB_HASH_MAX]; /* -1: that checker is gone */
	pid_t hash_pid[WEB_HASH_MAX];
	bool hash_busy[WEB_HASH_MAX];
	/* Test-only: ORCHESTRA_TEST_HOLD_ROUTE and _FILE (api.c), or NULL. */
	const char *hold_route;
	const char *hold_file;
};

/*
 * Leave the rest of a request to other threads (server.c), for work that
 * may take long (reading a submit's inputs as the submitter): once the
 * handler returns, the connection is suspended and `work` runs on a
 * thread of its own, which may use `defer` (the handler's state) and
 * nothing else of `r` the worker would touch, and no store; then the
 * connection is resumed and `done` runs on the connection's worker,
 * as a handler does, and answers.  `defer_free` frees `defer` with the
 * request (also when `done` never ran: the daemon stopped).  Meanwhile
 * the worker serves its other requests.
 */
void web_defer(struct web_req *r, void (*work)(struct web_req *),
    void (*done)(struct web_req *), void *defer, void (*defer_free)(void *));

/*
 * Test-only: hold the request while ORCHESTRA_TEST_HOLD_FILE exists, when
 * its route is ORCHESTRA_TEST_HOLD_ROUTE (api.c).  A route with a token
 * is held once authenticated; a sign-in while it holds a password
 * check's slot.
 */
void web_api_hold(struct web_req *r);

/* The security headers every response carries (server.c). */
void web_headers(struct MHD_Response *resp);

/*
 * Event streams (sse.c).  A thread of their own, with its own store
 * connection, reads the event table for every open stream and re-checks
 * its token or session; the request workers only copy out what is
 * ready, and a stream with nothing to send is suspended.
 * web_sse_start() opens the store of `cfg`; web_sse_stop() ends every
 * stream (call it before MHD_stop_daemon: no connection may stay
 * suspended) and joins the thread; web_sse_free() frees what is left,
 * after the daemon stopped.
 */
struct web_sse *web_sse_start(const struct config *cfg, int64_t idle_ms,
    struct buf *err);
void web_sse_stop(struct web_sse *sse);
void web_sse_free(struct web_sse *sse);
/* How many streams are open (for /metrics). */
int web_sse_count(struct web_sse *sse);

/*
 * Answers kept while the database is unchanged (cache.c).  Start opens a
 * store connection of the cache's own (NULL and err on failure).
 * web_cache_get() answers a request of a marked route from the cache, or
 * readies it to be kept; web_cache_put(), after its handler, keeps its
 * answer when it is a 200.  The counts are for /metrics.
 */
struct web_cache *web_cache_start(const struct config *cfg, struct buf *err);
void web_cache_free(struct web_cache *c);
bool web_cache_get(struct web_cache *c, struct web_req *r);
void web_cache_put(struct web_cache *c, struct web_req *r);
/* The request ends without an answer kept: let those waiting read. */
void web_cache_done(struct web_cache *c, struct web_req *r);
void web_cache_counts(struct web_cache *c, int64_t *hits, int64_t *misses);

/* Count an answered request (for /metrics). */
void web_count(struct web_server *ws, const struct web_req *r);
/* Add one to `counter`, one of ws's (under its lock). */
void web_count_add(struct web_server *ws, int64_t *counter);

/* Answer the request: route, authenticate, run the handler. */
void web_api_handle(struct web_server *ws, struct web_req *r);

/* Set the response: JSON `v` (takes the reference) with `status`. */
void web_reply(struct web_req *r, unsigned int status, json_t *v);
/*
 * 200 with one page of a list: {key: items, "next_after": next}, where
 * `next` (stolen) is where the next page starts, NULL on the last page.
 */
void web_reply_page(struct web_req *r, const char *key, json_t *items,
    json_t *next);
/* {"error": msg} with `status`. */
void web_error(struct web_req *r, unsigned int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Map a service's ERR_* (and its message) to a status. */
void web_fail(struct web_req *r, int code, const struct buf *err);

/*
 * Check the parsed body against `fields` (name and jansson type;
 * JSON_TRUE stands for a boolean, JSON_ARRAY for an array of strings):
 * an object with no other key and no key of another type.  -1 after
 * replying 400.
 */
struct web_field {
	const char *name;
	json_type type;
};
int web_body_check(struct web_req *r, const struct web_field *fields);
/* The same against the rows of a record's table with one of `flags`. */
int web_body_check_fields(struct web_req *r, const struct service_field *table,
    unsigned flags);
/* A string member of the body, or NULL when absent. */
const char *web_body_str(struct web_req *r, const char *name);
/* An integer member, or `dflt`. */
int64_t web_body_int(struct web_req *r, const char *name, int64_t dflt);
bool web_body_bool(struct web_req *r, const char *name);

/*
 * A query argument, percent-decoded into `out` (reset first): 1 when
 * present, 0 when absent, -1 after replying 400.
 */
int web_query(struct web_req *r, const char *name, struct buf *out);
/* An integer query argument within [min, max]; -1 after replying 400. */
int web_query_int(struct web_req *r, const char *name, int64_t min, int64_t max,
    int64_t dflt, int64_t *out);
/*
 * ?after=&limit= of a list: after from `after_min` (its default), limit
 * from 1 to WEB_PAGE_MAX (default WEB_PAGE_DEFAULT); -1 after replying 400.
 */
#define WEB_PAGE_DEFAULT 100
#define WEB_PAGE_MAX 1000
int web_query_page(struct web_req *r, int64_t after_min, int64_t *after,
    int64_t *limit);
/*
 * The same for a list keyed by name: `after` gets ?after= (reset first;
 * empty when absent, which the service takes as the first page; a bad
 * name is its 400).
 */
int web_query_name_page(struct web_req *r, struct buf *after, int64_t *limit);

/*
 * Append `len` bytes of `s` percent-decoded to `out`; -1 when an escape
 * is malformed or the text holds a NUL or another control character,
 * raw or escaped (path.c).
 */
int web_percent_decode(const char *s, size_t len, struct buf *out);
/*
 * Split the path `url` ("/a/b%2Ec") into at most `max` percent-decoded
 * segments in seg[0..*nseg) (caller frees each, also after a failure).
 * -1 when it does not start with '/', has more segments, an empty one
 * ("a//b"), one that decodes to "." or ".." or holds a '/' (from "%2F"),
 * or a bad escape or control character.  A trailing '/' is ignored.
 */
int web_path_parse(const char *url, char **seg, size_t max, size_t *nseg);

/*
 * The password checkers (hash.c): started before any thread, stopped
 * last.  web_hash_check() verifies `password` against `hash` (NULL: the
 * unknown user's dummy) on a free checker: 0, ERR_DENIED, or
 * ERR_UNAVAILABLE when none is left alive; the caller holds a slot of
 * hash_slots, so one is free.
 */
int web_hash_start(struct web_server *ws, struct buf *err);
void web_hash_stop(struct web_server *ws);
int web_hash_check(struct web_server *ws, const char *hash,
    const char *password, struct buf *err);

/* The handlers, by area (api-*.c). */
void web_api_healthz(struct web_req *r);
void web_api_metrics(struct web_server *ws, struct web_req *r);
void web_api_readyz(struct web_req *r);
void web_api_me(struct web_req *r);
void web_api_pilot(struct web_req *r);
void web_api_status(struct web_req *r);
void web_api_session_open(struct web_req *r);
void web_api_session_show(struct web_req *r);
void web_api_session_close(struct web_req *r);
void web_api_events(struct web_req *r);
/*
 * A request that changes something and comes from a browser: its
 * `Origin`, when present, must be ours (scheme and Host).  -1 after
 * replying 403.
 */
int web_api_origin_check(struct web_req *r);
void web_api_me_tokens(struct web_req *r);
void web_api_me_token_add(struct web_req *r);
void web_api_me_token_revoke(struct web_req *r);
void web_api_users(struct web_req *r);
void web_api_user_add(struct web_req *r);
void web_api_user_show(struct web_req *r);
void web_api_user_set(struct web_req *r);
void web_api_user_revoke_all(struct web_req *r);
void web_api_tasks(struct web_req *r);
void web_api_task_submit(struct web_req *r);
void web_api_task_show(struct web_req *r);
void web_api_task_delete(struct web_req *r);
void web_api_task_kill(struct web_req *r);
void web_api_task_retry(struct web_req *r);
void web_api_task_jobs(struct web_req *r);
void web_api_job_show(struct web_req *r);
void web_api_job_log(struct web_req *r);
void web_api_queue(struct web_req *r);
void web_api_usage(struct web_req *r);
void web_api_history(struct web_req *r);
void web_api_history_totals(struct web_req *r);
void web_api_nodes(struct web_req *r);
void web_api_node_set(struct web_req *r);
void web_api_node_drain(struct web_req *r);
void web_api_node_resume(struct web_req *r);

/*
 * Per-address accounting (server.c; every worker uses it, under a lock
 * of its own).  Failed authentications decay with time;
 * web_limit_blocked() is true once there were too many recently (and
 * counts the blocked attempt as one more).  An IPv6 client is its /64.
 * When the table is full, the addresses without a slot share one
 * overflow count.
 */
bool web_limit_blocked(const char *ip);
void web_limit_failed(const char *ip);
/*
 * An event stream from `ip` opens: 0 when counted, else the status to
 * refuse it with, and why in `err`: 429 when `ip` has WEB_SSE_PER_IP
 * open already, 503 when the server has its most (server.c).  Each
 * stream counted is closed once, with web_limit_stream_close().  Streams
 * do not count against their address's WEB_CONN_PER_IP, which is for
 * requests.
 */
unsigned int web_limit_stream_open(const char *ip, struct buf *err);
void web_limit_stream_close(const char *ip);
/*
 * The key `ip` (as inet_ntop() writes it) is counted under, in `key` of
 * `n` bytes (WEB_ADDR_KEY_MAX hold any): IPv4 as it is, IPv6 as its /64
 * ("2001:db8:0:1::/64"), IPv4-mapped IPv6 as the IPv4 address.
 */
#define WEB_ADDR_KEY_MAX (INET6_ADDRSTRLEN + 4)
void web_addr_key(const char *ip, char *key, size_t n);

/*
 * Requests under way per credential (server.c): a token, or a session
 * (`by_session`), whatever the address it comes from, so that the users
 * behind one proxy are limited each on their own.  web_cred_begin() adds
 * one and gives the key to end it with, or 0 when the credential has
 * WEB_REQ_PER_CRED under way already (then nothing is added).  Only a
 * request that waits off the workers (a submit reading its inputs) can
 * make many at once; event streams are not counted.  When the table is
 * full, a credential without a slot is not counted.
 */
#define WEB_REQ_PER_CRED 16
uint64_t web_cred_begin(const char *cred, bool by_session);
void web_cred_end(uint64_t key);

#endif
