/*
 * server.c - the libmicrohttpd daemon: listening, TLS, limits, reading a
 * request's body, and the per-address counters.
 *
 * Threading: libmicrohttpd's thread pool (MHD_USE_POLL_INTERNAL_THREAD
 * with MHD_OPTION_THREAD_POOL_SIZE), web_workers() threads.  Each polls
 * its own share of the connections and runs their callbacks: a
 * connection stays with the thread that accepted it, resumed ones too.
 * poll(), not epoll: with epoll a worker accepts up to ten connections
 * in one turn, so a burst of requests lands on one worker and waits for
 * the first; poll() takes one a turn and leaves the rest to the others.
 * The store handle is not thread-safe, so every worker has a store
 * connection of its own (struct web_worker), taken on its first request
 * and used by no other thread; a slow query holds one worker, not the
 * server.  What the workers share is locked: the per-address table
 * (web_addrs_lock, here), the connections waiting for a head
 * (web_heads.lock, here) and the counters for /metrics (count_lock).
 * Event streams are long, so they are fed by a thread of their own
 * with its own store connection (sse.c); a worker only copies out what
 * that one made ready, and suspends a stream with nothing to send.
 * Work that may take long and needs no store (reading a submit's inputs
 * as the submitter, checking a password) is deferred: the connection is
 * suspended, a thread of its own does the work, and the connection is
 * resumed to answer (web_defer), on the worker it belongs to.
 * One more thread closes the connections whose request head is late
 * (web_head_sweep).
 * NEEDSWORK: a connection still waits for a slow request of its worker
 * when it was accepted just before that one began, or is kept alive
 * after an earlier request there; handlers on a pool of their own, apart
 * from the threads that poll, would end that.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "web/web-int.h"

/*
 * Connections in all: libmicrohttpd divides them among the workers
 * (1,024 each on a small machine, 256 with the most workers).  Event
 * streams stay open: they may take half of them (WEB_SSE_MAX);
 * connections waiting for a request head a quarter
 * (WEB_HEAD_WAITING_MAX); so a quarter at least is left for requests.
 * Fewer when the descriptors allowed (RLIMIT_NOFILE, raised up to its
 * hard limit at start) cannot hold them and WEB_FD_SPARE more (store
 * connections, the workers' pipes, a submit's child): web_conn_limit().
 */
#define WEB_CONN_LIMIT 4096
#define WEB_FD_SPARE 256
#define WEB_SSE_MAX(conns) ((conns) / 2)
/*
 * Per client (web_addr_key): past WEB_REQ_PER_IP requests at once (event
 * streams apart) its requests get 429; past WEB_SSE_PER_IP event streams
 * a new one gets 429; past WEB_CONN_PER_IP_HARD connections in all
 * libmicrohttpd drops them.  Generous, because a lab's reverse proxy,
 * or a NAT in front of many dashboards, is one address for many users,
 * each with a stream or two open; what keeps one address from abusing
 * them is the failed-authentication limiter, which counts before any
 * token is looked at, and not the number of connections.  Requests,
 * not connections, count: a burst of new connections (every dashboard
 * behind a proxy reconnecting after a restart) waits for its heads a
 * moment, and an idle kept-alive one costs nothing.  Each user behind
 * the address is limited on its own too: WEB_REQ_PER_CRED requests at
 * once per token or session (web_cred_begin).
 */
#define WEB_REQ_PER_IP 256
#define WEB_SSE_PER_IP 256
#define WEB_CONN_PER_IP_HARD (WEB_SSE_PER_IP + 2 * WEB_REQ_PER_IP)
/*
 * The memory libmicrohttpd gives a connection for its request head and
 * its buffers (its default).  It touches about half of it for good (it
 * zeroes what it shrinks), so this is most of what an open event
 * stream costs: 128 KiB made 1,000 streams 87 MB resident, 32 KiB 39 MB.
 * A head of more than about 31 KiB is refused (431); bodies are read
 * in chunks, whatever their size.
 */
#define WEB_CONN_MEMORY (32 * 1024)
/* A connection idle this long is closed (libmicrohttpd's timeout). */
#define WEB_CONN_TIMEOUT_S 30
/*
 * A request's head (request line and headers) must be in this long
 * after its connection opened, or after the connection's last request
 * ended: the idle timeout alone lets a client that sends a header line
 * now and then hold a connection for ever (web_head_sweep).
 */
#define WEB_HEAD_DEADLINE_MS 10000
/*
 * At most this many connections wait for a head at once; past it the
 * one waiting longest is closed before its deadline.  So slow clients,
 * however many, hold at most a quarter of the connections, and a new
 * client (which waits for its head a moment, the newest) finds one
 * free.  Not much fewer: a burst of honest clients waits for its heads
 * a moment too (1,000 streams opened at once had over 700 waiting).
 */
#define WEB_HEAD_WAITING_MAX(conns) ((conns) / 4)
/* Failed authentications: a burst of this many, then 429 ... */
#define WEB_FAIL_BURST 10
/* ... until they decay, one per this many ms. */
#define WEB_FAIL_DECAY_MS 6000
#define WEB_NADDR 1024
/* A dashboard session ends when idle this long, unless told otherwise. */
#define WEB_SESSION_IDLE_MS (12 * 3600 * 1000LL)
/* Request workers: two per processor, within these bounds. */
#define WEB_WORKERS_MIN 4
#define WEB_WORKERS_MAX 16

/*
 * What we know of one client: open connections and failed
 * authentications.  A slot is taken again once its address has no
 * connection and its failures have decayed to nothing.
 */
struct web_addr {
	char key[WEB_ADDR_KEY_MAX];
	int nconn;
	int nreq;     /* requests (web_access to web_completed) */
	int nstream;  /* of nreq, event streams */
	double fails; /* decays; see web_limit_decay() */
	int64_t fails_ms;
};
static struct web_addr web_addrs[WEB_NADDR];
/*
 * When every slot is held (a flood from many addresses), the failures of
 * the addresses without one count here, together: they are limited as
 * one client rather than not at all.  Their connections are not counted
 * (libmicrohttpd's own per-address limit still holds).
 */
static struct web_addr web_addr_overflow;
/* Every worker counts in them: the table and the overflow, under this. */
static pthread_mutex_t web_addrs_lock = PTHREAD_MUTEX_INITIALIZER;
/* Event streams open, and how many may be (web_serve); under the lock. */
static int web_nstream;
static int web_nstream_max;

/*
 * A connection while it waits for a request's head: from its accept, or
 * from the end of its last request (keep-alive), until libmicrohttpd has
 * read a whole head and calls web_access().  Its socket context
 * (MHD_OPTION_NOTIFY_CONNECTION), freed when it closes.
 */
struct web_conn {
	MHD_socket fd;
	char ip[INET6_ADDRSTRLEN];
	int64_t since_ns; /* time_mono_ns() */
	bool waiting;     /* in the list of web_heads */
	struct web_conn *prev, *next;
};

/*
 * The connections waiting for a head, the oldest first (each joins at
 * the end with the time it joins), and the thread that closes those
 * past WEB_HEAD_DEADLINE_MS, or the oldest past WEB_HEAD_WAITING_MAX.
 * libmicrohttpd calls the connection's close notice (which takes it off the
 * list, under the lock) before it closes the socket, so the sweep never touches
 * a socket number used again.
 */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t wake; /* CLOCK_MONOTONIC; signalled to stop */
	struct web_conn *head, *tail;
	int nwaiting; /* on the list */
	int max;      /* WEB_HEAD_WAITING_MAX of the connections */
	bool stop;
	pthread_t thread;
} web_heads = { .lock = PTHREAD_MUTEX_INITIALIZER };

/*
 * The key `ip` is counted under.  An IPv6 client usually holds a whole
 * /64 (SLAAC, privacy addresses) and can change address at will within
 * it, so the /64 is one client; an IPv4-mapped IPv6 address is its IPv4
 * address.  Anything else (IPv4, "?") is itself.
 */
void
web_addr_key(const char *ip, char *key, size_t n)
{
	struct in6_addr a6;

	if (strchr(ip, ':') == NULL || inet_pton(AF_INET6, ip, &a6) != 1) {
		snprintf(key, n, "%s", ip);
		return;
	}
	if (IN6_IS_ADDR_V4MAPPED(&a6)) {
		inet_ntop(AF_INET, &a6.s6_addr[12], key, (socklen_t)n);
		return;
	}
	memset(&a6.s6_addr[8], 0, 8);
	inet_ntop(AF_INET6, &a6, key, (socklen_t)n);
	snprintf(key + strlen(key), n - strlen(key), "/64");
}

static void
web_limit_decay(struct web_addr *a, int64_t now)
{
	a->fails -= (double)(now - a->fails_ms) / WEB_FAIL_DECAY_MS;
	if (a->fails < 0)
		a->fails = 0;
	a->fails_ms = now;
}

/* Is slot `a` free to take: unused, or left with nothing to remember? */
static bool
web_addr_free(struct web_addr *a, int64_t now)
{
	if (a->key[0] == '\0')
		return true;
	if (a->nconn > 0 || a->nreq > 0 || a->nstream > 0)
		return false;
	web_limit_decay(a, now);
	return a->fails <= 0;
}

/*
 * The slot of `ip` (a new one when `add`); NULL when it has none and
 * either none was asked for, or none is free (then *full, when not NULL,
 * is set).
 */
static struct web_addr *
web_addr_find(const char *ip, bool add, bool *full)
{
	char key[WEB_ADDR_KEY_MAX];
	size_t h = 5381, i, k;
	const char *p;
	struct web_addr *a, *spare = NULL;
	int64_t now = time_now_ms();

	web_addr_key(ip, key, sizeof(key));
	for (p = key; *p != '\0'; p++)
		h = h * 33 + (unsigned char)*p;
	for (k = 0; k < WEB_NADDR; k++) {
		i = (h + k) % WEB_NADDR;
		a = &web_addrs[i];
		if (strcmp(a->key, key) == 0)
			return a;
		if (spare == NULL && web_addr_free(a, now))
			spare = a;
		/* Never used: nothing was put further along, `key` neither. */
		if (a->key[0] == '\0')
			break;
	}
	if (full != NULL)
		*full = spare == NULL;
	if (!add || spare == NULL)
		return NULL;
	memset(spare, 0, sizeof(*spare));
	snprintf(spare->key, sizeof(spare->key), "%s", key);
	spare->fails_ms = now;
	return spare;
}

/* The failures `ip` counts under: its slot's, or the overflow's. */
static struct web_addr *
web_limit_find(const char *ip, bool add)
{
	bool full = false;
	struct web_addr *a = web_addr_find(ip, add, &full);

	return a == NULL && full ? &web_addr_overflow : a;
}

/*
 * An attempt while blocked counts as a failure too, so that retrying
 * keeps the block; the count is capped, so a block ends at most
 * 2 * WEB_FAIL_BURST decay periods after the last attempt.
 */
bool
web_limit_blocked(const char *ip)
{
	struct web_addr *a;
	bool blocked = false;

	pthread_mutex_lock(&web_addrs_lock);
	a = web_limit_find(ip, false);
	if (a != NULL) {
		web_limit_decay(a, time_now_ms());
		/* Past the burst's last failure: it decays from the ms it
		 * was counted, so ">= BURST" would hold only within it. */
		blocked = a->fails > WEB_FAIL_BURST - 1;
	}
	if (blocked && a->fails < 2 * WEB_FAIL_BURST)
		a->fails += 1;
	pthread_mutex_unlock(&web_addrs_lock);
	return blocked;
}

void
web_limit_failed(const char *ip)
{
	struct web_addr *a;

	pthread_mutex_lock(&web_addrs_lock);
	a = web_limit_find(ip, true);
	web_limit_decay(a, time_now_ms());
	if (a->fails < 2 * WEB_FAIL_BURST)
		a->fails += 1;
	pthread_mutex_unlock(&web_addrs_lock);
}

static void
web_client_ip(struct MHD_Connection *c, char *out, size_t n)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	snprintf(out, n, "?");
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
		    out, (socklen_t)n);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)sa)->sin6_addr, out,
		    (socklen_t)n);
}

/* Take `wc` off the list of web_heads, if on it (under its lock). */
static void
web_head_unlink(struct web_conn *wc)
{
	if (!wc->waiting)
		return;
	if (wc->prev != NULL)
		wc->prev->next = wc->next;
	else
		web_heads.head = wc->next;
	if (wc->next != NULL)
		wc->next->prev = wc->prev;
	else
		web_heads.tail = wc->prev;
	wc->prev = NULL;
	wc->next = NULL;
	wc->waiting = false;
	web_heads.nwaiting--;
}

/* `wc` waits for a request's head from now on. */
static void
web_head_wait(struct web_conn *wc)
{
	pthread_mutex_lock(&web_heads.lock);
	web_head_unlink(wc);
	wc->since_ns = time_mono_ns();
	wc->prev = web_heads.tail;
	if (web_heads.tail != NULL)
		web_heads.tail->next = wc;
	else
		web_heads.head = wc;
	web_heads.tail = wc;
	wc->waiting = true;
	if (++web_heads.nwaiting > web_heads.max)
		pthread_cond_signal(&web_heads.wake);
	pthread_mutex_unlock(&web_heads.lock);
}

/* `wc`'s head is in, or it closes. */
static void
web_head_done(struct web_conn *wc)
{
	pthread_mutex_lock(&web_heads.lock);
	web_head_unlink(wc);
	pthread_mutex_unlock(&web_heads.lock);
}

/* The socket context of `c`: its struct web_conn. */
static struct web_conn *
web_conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci != NULL ? ci->socket_context : NULL;
}

/*
 * The sweep: sleep until the oldest waiting connection's deadline, or
 * until too many wait, then shut the oldest's socket down.  The connection's
 * worker, polling it, then reads its end and closes it as it does any
 * connection its client closed.  Shutting down is all another thread may do to
 * a connection of libmicrohttpd's.
 */
static void *
web_head_sweep(void *arg)
{
	const int64_t deadline_ns = WEB_HEAD_DEADLINE_MS * 1000000LL;
	struct web_conn *wc;
	struct timespec ts;
	int64_t now, until;
	bool late;

	(void)arg;
	pthread_mutex_lock(&web_heads.lock);
	while (!web_heads.stop) {
		now = time_mono_ns();
		while (web_heads.head != NULL) {
			wc = web_heads.head;
			late = now - wc->since_ns >= deadline_ns;
			if (!late && web_heads.nwaiting <= web_heads.max)
				break;
			web_head_unlink(wc);
			shutdown(wc->fd, SHUT_RDWR);
			if (late)
				log_info(
				    "closing a connection: no request head "
				    "in %d ms ip=%s",
				    WEB_HEAD_DEADLINE_MS, wc->ip);
			else
				log_info("closing a connection: over %d wait "
				         "for a request head, this one longest "
				         "ip=%s",
				    web_heads.max, wc->ip);
		}
		if (web_heads.head != NULL)
			until = web_heads.head->since_ns + deadline_ns;
		else
			until = now + deadline_ns;
		ts.tv_sec = (time_t)(until / 1000000000);
		ts.tv_nsec = (long)(until % 1000000000);
		pthread_cond_timedwait(&web_heads.wake, &web_heads.lock, &ts);
	}
	pthread_mutex_unlock(&web_heads.lock);
	return NULL;
}

static int
web_head_sweep_start(unsigned int conn_limit, struct buf *err)
{
	pthread_condattr_t attr;
	int rc;

	web_heads.max = (int)WEB_HEAD_WAITING_MAX(conn_limit);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&web_heads.wake, &attr);
	pthread_condattr_destroy(&attr);
	web_heads.stop = false;
	rc = pthread_create(&web_heads.thread, NULL, web_head_sweep, NULL);
	if (rc != 0) {
		pthread_cond_destroy(&web_heads.wake);
		return err_set(err, ERR_UNAVAILABLE,
		    "cannot start a thread: %s", strerror(rc));
	}
	return 0;
}

static void
web_head_sweep_stop(void)
{
	pthread_mutex_lock(&web_heads.lock);
	web_heads.stop = true;
	pthread_cond_signal(&web_heads.wake);
	pthread_mutex_unlock(&web_heads.lock);
	pthread_join(web_heads.thread, NULL);
	pthread_cond_destroy(&web_heads.wake);
}

/*
 * A connection opens or closes (MHD_OPTION_NOTIFY_CONNECTION): count it
 * for its address, and keep its struct web_conn in *socket_ctx.
 */
static void
web_notify(void *cls, struct MHD_Connection *c, void **socket_ctx,
    enum MHD_ConnectionNotificationCode code)
{
	char ip[INET6_ADDRSTRLEN];
	struct web_addr *a;
	struct web_conn *wc = *socket_ctx;
	const union MHD_ConnectionInfo *ci;

	(void)cls;
	web_client_ip(c, ip, sizeof(ip));
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		wc = xcalloc(1, sizeof(*wc));
		ci = MHD_get_connection_info(c,
		    MHD_CONNECTION_INFO_CONNECTION_FD);
		wc->fd = ci != NULL ? ci->connect_fd : MHD_INVALID_SOCKET;
		snprintf(wc->ip, sizeof(wc->ip), "%s", ip);
		*socket_ctx = wc;
		if (wc->fd != MHD_INVALID_SOCKET)
			web_head_wait(wc);
	} else if (wc != NULL) {
		web_head_done(wc);
		free(wc);
		*socket_ctx = NULL;
	}
	pthread_mutex_lock(&web_addrs_lock);
	a = web_addr_find(ip, code == MHD_CONNECTION_NOTIFY_STARTED, NULL);
	if (a != NULL && code == MHD_CONNECTION_NOTIFY_STARTED)
		a->nconn++;
	else if (a != NULL && a->nconn > 0)
		a->nconn--;
	pthread_mutex_unlock(&web_addrs_lock);
}

/*
 * A request of `ip` begins (`add` 1, r->counted set when it has a slot)
 * or ends (-1): the requests of `ip` under way, event streams apart.
 */
static int
web_reqs_add(struct web_req *r, int add)
{
	struct web_addr *a;
	int n = 0;

	pthread_mutex_lock(&web_addrs_lock);
	a = web_addr_find(r->ip, false, NULL);
	if (a != NULL && (add > 0 || r->counted)) {
		a->nreq += add;
		r->counted = add > 0;
		n = a->nreq - a->nstream;
	}
	pthread_mutex_unlock(&web_addrs_lock);
	return n;
}

/* Credentials with requests under way (web_cred_begin): web_addrs_lock. */
#define WEB_NCRED 1024
static struct {
	uint64_t key; /* FNV-1a of the credential; 0: free */
	int n;
} web_creds[WEB_NCRED];

uint64_t
web_cred_begin(const char *cred, bool by_session)
{
	uint64_t key = 14695981039346656037ULL;
	const unsigned char *p;
	size_t i, free_slot = WEB_NCRED;

	/* A hash, never the secret, is kept. */
	key = (key ^ (by_session ? 's' : 't')) * 1099511628211ULL;
	for (p = (const unsigned char *)cred; *p != '\0'; p++)
		key = (key ^ *p) * 1099511628211ULL;
	if (key <= 1)
		key = 2; /* 0 and 1 say "refused" and "not counted" */
	pthread_mutex_lock(&web_addrs_lock);
	for (i = 0; i < WEB_NCRED; i++) {
		if (web_creds[i].key == key)
			break;
		if (web_creds[i].key == 0 && free_slot == WEB_NCRED)
			free_slot = i;
	}
	if (i == WEB_NCRED && free_slot < WEB_NCRED) {
		i = free_slot;
		web_creds[i].key = key;
	}
	if (i == WEB_NCRED)
		key = 1; /* the table is full: not counted, and not refused */
	else if (web_creds[i].n >= WEB_REQ_PER_CRED)
		key = 0;
	else
		web_creds[i].n++;
	pthread_mutex_unlock(&web_addrs_lock);
	return key;
}

void
web_cred_end(uint64_t key)
{
	size_t i;

	if (key <= 1)
		return;
	pthread_mutex_lock(&web_addrs_lock);
	for (i = 0; i < WEB_NCRED; i++) {
		if (web_creds[i].key != key)
			continue;
		if (--web_creds[i].n == 0)
			web_creds[i].key = 0;
		break;
	}
	pthread_mutex_unlock(&web_addrs_lock);
}

unsigned int
web_limit_stream_open(const char *ip, struct buf *err)
{
	struct web_addr *a;
	unsigned int ret = 0;

	pthread_mutex_lock(&web_addrs_lock);
	/* Its connection is open: it has a slot, unless the table is full. */
	a = web_addr_find(ip, false, NULL);
	if (a != NULL && a->nstream >= WEB_SSE_PER_IP) {
		buf_addf(err, "too many event streams from %s (at most %d)", ip,
		    WEB_SSE_PER_IP);
		ret = MHD_HTTP_TOO_MANY_REQUESTS;
	} else if (web_nstream >= web_nstream_max) {
		buf_addf(err, "too many event streams open (at most %d)",
		    web_nstream_max);
		ret = MHD_HTTP_SERVICE_UNAVAILABLE;
	}
	if (ret == 0) {
		web_nstream++;
		if (a != NULL)
			a->nstream++;
	}
	pthread_mutex_unlock(&web_addrs_lock);
	return ret;
}

void
web_limit_stream_close(const char *ip)
{
	struct web_addr *a;

	pthread_mutex_lock(&web_addrs_lock);
	/* Its slot is kept while it counts a stream (web_addr_free). */
	a = web_addr_find(ip, false, NULL);
	if (a != NULL && a->nstream > 0)
		a->nstream--;
	if (web_nstream > 0)
		web_nstream--;
	pthread_mutex_unlock(&web_addrs_lock);
}

/*
 * Leave the URL as it came: the path is split and each segment decoded
 * by us (web_path_split), so that "%2F" or "%00" inside a segment cannot
 * pass for a separator or an end.  Query arguments are decoded by
 * web_query().
 */
static size_t
web_unescape_none(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

/* Split "/a/b/c" into decoded segments (path.c). */
static void
web_path_split(struct web_req *r, const char *url)
{
	r->bad_path = web_path_parse(url, r->seg, WEB_SEG_MAX, &r->nseg) < 0;
}

static void
web_req_free(struct web_req *r)
{
	size_t i;

	for (i = 0; i < r->nseg; i++)
		free(r->seg[i]);
	free((char *)r->ip);
	buf_release(&r->body);
	buf_release(&r->text);
	if (r->ws != NULL)
		web_cache_done(r->ws->cache, r);
	web_cred_end(r->cred_key);
	buf_release(&r->cache_key);
	buf_release(&r->cache_version);
	json_decref(r->json);
	json_decref(r->resp);
	account_release(&r->who);
	buf_release_secret(&r->cred);
	buf_release_secret(&r->csrf);
	buf_release_secret(&r->set_cookie);
	if (r->own != NULL)
		MHD_destroy_response(r->own);
	if (r->defer_free != NULL)
		r->defer_free(r->defer);
	free(r);
}

void
web_defer(struct web_req *r, void (*work)(struct web_req *),
    void (*done)(struct web_req *), void *defer, void (*defer_free)(void *))
{
	r->work = work;
	r->done = done;
	r->defer = defer;
	r->defer_free = defer_free;
}

static void *
web_defer_run(void *arg)
{
	struct web_req *r = arg;
	struct web_server *ws = r->ws;

	r->work(r);
	/* Not before web_defer_start() suspended it: the lock. */
	pthread_mutex_lock(&ws->defer_lock);
	MHD_resume_connection(r->conn); /* r is its worker's again */
	ws->ndefer--;
	pthread_cond_broadcast(&ws->defer_idle);
	pthread_mutex_unlock(&ws->defer_lock);
	return NULL;
}

/* Suspend the connection and run r->work on a thread of its own. */
static int
web_defer_start(struct web_server *ws, struct web_req *r)
{
	pthread_attr_t attr;
	pthread_t thread;
	int rc;

	r->ws = ws;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_mutex_lock(&ws->defer_lock);
	rc = ws->stopping ? ESHUTDOWN
	                  : pthread_create(&thread, &attr, web_defer_run, r);
	if (rc == 0) {
		ws->ndefer++;
		MHD_suspend_connection(r->conn);
	}
	pthread_mutex_unlock(&ws->defer_lock);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		r->work = NULL;
		r->done = NULL;
		if (rc == ESHUTDOWN)
			web_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
			    "the server is stopping");
		else
			web_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
			    "cannot start a thread: %s", strerror(rc));
		return -1;
	}
	return 0;
}

/* Start no more deferred work, and wait for what runs to end. */
static void
web_defer_wait(struct web_server *ws)
{
	pthread_mutex_lock(&ws->defer_lock);
	ws->stopping = true;
	while (ws->ndefer > 0)
		pthread_cond_wait(&ws->defer_idle, &ws->defer_lock);
	pthread_mutex_unlock(&ws->defer_lock);
}

/*
 * How many request workers (and store connections) to run: two per
 * processor, so that one waiting on the store leaves the processor to
 * another, and at least a few on a small machine, where one slow request
 * would otherwise be all of them.
 */
static size_t
web_workers(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		n = 1;
	n *= 2;
	if (n < WEB_WORKERS_MIN)
		n = WEB_WORKERS_MIN;
	if (n > WEB_WORKERS_MAX)
		n = WEB_WORKERS_MAX;
	return (size_t)n;
}

/* The calling thread's worker: a free one, taken on its first request. */
static _Thread_local struct web_worker *web_self;

static struct web_worker *
web_worker_self(struct web_server *ws)
{
	size_t i;

	if (web_self != NULL)
		return web_self;
	pthread_mutex_lock(&ws->workers_lock);
	for (i = 0; i < ws->nworker && ws->workers[i].taken; i++)
		;
	/* libmicrohttpd runs exactly the pool's threads (web_start). */
	if (i == ws->nworker)
		BUG("more request threads than store connections");
	ws->workers[i].taken = true;
	web_self = &ws->workers[i];
	pthread_mutex_unlock(&ws->workers_lock);
	return web_self;
}

void
web_headers(struct MHD_Response *resp)
{
	MHD_add_response_header(resp, "Content-Security-Policy",
	    "default-src 'self'; script-src 'self'; style-src 'self'; "
	    "img-src 'self' data:; connect-src 'self'; "
	    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
}

static enum MHD_Result
web_send(struct web_req *r)
{
	struct MHD_Response *resp;
	char *body;
	enum MHD_Result ret;

	if (r->own != NULL) {
		/* An event stream: its headers are set already. */
		ret = MHD_queue_response(r->conn, r->status, r->own);
		MHD_destroy_response(r->own);
		r->own = NULL;
		return ret;
	}
	if (r->is_text) {
		resp = MHD_create_response_from_buffer(r->text.len,
		    r->text.data, MHD_RESPMEM_MUST_COPY);
		MHD_add_response_header(resp, "Content-Type",
		    r->content_type ? r->content_type
		                    : "text/plain; charset=utf-8");
	} else {
		body = json_dumps(r->resp ? r->resp : json_null(),
		    JSON_COMPACT | JSON_ENSURE_ASCII | SERVICE_JSON_DUMP_REAL);
		if (body == NULL)
			BUG("json_dumps failed");
		resp = MHD_create_response_from_buffer(strlen(body), body,
		    MHD_RESPMEM_MUST_FREE);
		MHD_add_response_header(resp, "Content-Type",
		    "application/json");
	}
	web_headers(resp);
	if (r->set_cookie.len > 0)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE,
		    r->set_cookie.data);
	if (r->etag != NULL) {
		/* A static file: kept, but asked after each time. */
		MHD_del_response_header(resp, "Cache-Control", "no-store");
		MHD_add_response_header(resp, "Cache-Control", "no-cache");
		MHD_add_response_header(resp, "ETag", r->etag);
	}
	if (r->status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(resp, "WWW-Authenticate",
		    "Bearer realm=\"orchestra\"");
	if (r->status == MHD_HTTP_TOO_MANY_REQUESTS)
		MHD_add_response_header(resp, "Retry-After", "10");
	ret = MHD_queue_response(r->conn, r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* The first call for a request: what can be judged from its head. */
static struct web_req *
web_req_new(struct MHD_Connection *c, const char *url, const char *method)
{
	struct web_req *r = xcalloc(1, sizeof(*r));
	char ip[INET6_ADDRSTRLEN];
	const char *cl;

	r->conn = c;
	r->method = method;
	r->body.cap_limit = WEB_BODY_MAX;
	web_client_ip(c, ip, sizeof(ip));
	r->ip = xstrdup(ip);
	web_path_split(r, url);
	cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl != NULL && strtoull(cl, NULL, 10) > WEB_BODY_MAX)
		r->too_large = true;
	return r;
}

static enum MHD_Result
web_access(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct web_server *ws = cls;
	struct web_req *r = *con_cls;
	struct web_conn *wc;
	void (*done)(struct web_req *);

	(void)version;
	/*
	 * A body announced too large is refused at once, unread:
	 * libmicrohttpd takes a response before the upload only now, and
	 * closes the connection after it.
	 */
	if (r == NULL) {
		wc = web_conn_of(c);
		if (wc != NULL)
			web_head_done(wc);
		r = web_req_new(c, url, method);
		r->svc = web_worker_self(ws)->svc;
		*con_cls = r;
		r->too_many = web_reqs_add(r, 1) > WEB_REQ_PER_IP;
		if (!r->too_large)
			return MHD_YES;
	} else if (*upload_size > 0) {
		/* One that grows too large (chunked): read to its end. */
		if (!r->too_large) {
			buf_add(&r->body, upload, *upload_size);
			r->too_large = r->body.truncated;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (r->done != NULL) {
		/* Resumed: the deferred work ran; answer. */
		done = r->done;
		r->work = NULL;
		r->done = NULL;
		done(r);
	} else if (r->too_large)
		web_error(r, MHD_HTTP_CONTENT_TOO_LARGE,
		    "request body too large (at most %d bytes)", WEB_BODY_MAX);
	else if (r->too_many)
		web_error(r, MHD_HTTP_TOO_MANY_REQUESTS,
		    "too many requests at once from %s (at most %d)", r->ip,
		    WEB_REQ_PER_IP);
	else
		web_api_handle(ws, r);
	if (r->work != NULL && web_defer_start(ws, r) == 0)
		return MHD_YES; /* resumed, and called again, when done */
	/* The path and query name no secret; headers are never logged. */
	log_info("request method=%s path=%s status=%u ip=%s", method, url,
	    r->status, r->ip);
	web_count(ws, r);
	return web_send(r);
}

/*
 * A request ends.  When it was answered, its connection may be kept
 * for another: that one's head is due by the deadline too.
 */
static void
web_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct web_conn *wc;

	(void)cls;
	if (*con_cls != NULL) {
		web_reqs_add(*con_cls, -1);
		web_req_free(*con_cls);
	}
	*con_cls = NULL;
	if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
		return;
	wc = web_conn_of(c);
	if (wc != NULL && wc->fd != MHD_INVALID_SOCKET)
		web_head_wait(wc);
}

/* libmicrohttpd's own messages: its format, its arguments. */
__attribute__((format(printf, 2, 0))) static void
web_mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct buf msg = BUF_INIT;

	(void)cls;
	buf_vaddf(&msg, fmt, ap);
	while (msg.len > 0 && msg.data[msg.len - 1] == '\n')
		msg.data[--msg.len] = '\0';
	log_warn("libmicrohttpd: %s", msg.data);
	buf_release(&msg);
}

/* "ADDR:PORT" or "[ADDR]:PORT" to a socket address. */
static int
web_parse_listen(const char *listen, struct sockaddr_storage *ss, bool *v6,
    struct buf *err)
{
	struct addrinfo hints = { 0 }, *res = NULL;
	char *host = NULL;
	const char *colon = strrchr(listen, ':');
	int64_t port;
	int ret = ERR_INVALID;

	if (colon == NULL || util_parse_int64(colon + 1, 0, 65535, &port) < 0)
		return err_set(err, ERR_INVALID,
		    "invalid listen address '%s': expected ADDR:PORT", listen);
	if (listen[0] == '[' && colon > listen && colon[-1] == ']')
		host = xstrndup(listen + 1, (size_t)(colon - listen - 2));
	else
		host = xstrndup(listen, (size_t)(colon - listen));
	hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, NULL, &hints, &res) != 0 || res == NULL) {
		err_set(err, ERR_INVALID,
		    "invalid listen address '%s': '%s' is no IP address",
		    listen, host);
		goto out;
	}
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*v6 = res->ai_family == AF_INET6;
	if (*v6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
	else
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	ret = 0;
out:
	if (res != NULL)
		freeaddrinfo(res);
	free(host);
	return ret;
}

static int
web_read_file(const char *path, struct buf *out, struct buf *err)
{
	char chunk[4096];
	size_t n;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return err_set(err, ERR_INVALID, "cannot read '%s': %s", path,
		    strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(out, chunk, n);
	fclose(f);
	return 0;
}

/*
 * How many connections to allow: WEB_CONN_LIMIT, when the descriptors
 * allowed hold them and WEB_FD_SPARE more (the soft limit is raised for
 * it, as far as the hard limit goes); else what they hold.
 */
static unsigned int
web_conn_limit(void)
{
	struct rlimit rl;
	rlim_t need = WEB_CONN_LIMIT + WEB_FD_SPARE;
	unsigned int n;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return WEB_CONN_LIMIT;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need
		    ? need
		    : rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
		return WEB_CONN_LIMIT;
	n = rl.rlim_cur > 2 * WEB_FD_SPARE
	    ? (unsigned int)(rl.rlim_cur - WEB_FD_SPARE)
	    : (unsigned int)(rl.rlim_cur / 2);
	log_warn("fewer connections: %u descriptors allowed (ulimit -n), "
	         "%u wanted connections=%u",
	    (unsigned int)rl.rlim_cur, (unsigned int)need, n);
	return n;
}

static struct MHD_Daemon *
web_start(struct web_server *ws, const struct web_opts *o,
    const struct sockaddr_storage *ss, bool v6, const struct buf *cert,
    const struct buf *key, unsigned int conn_limit)
{
	unsigned int flags = MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG |
	    MHD_ALLOW_SUSPEND_RESUME;

	if (v6)
		flags |= MHD_USE_IPv6;
	if (o->tls_cert != NULL)
		flags |= MHD_USE_TLS;
	/* The logger first, or libmicrohttpd logs the rest on its own. */
	return MHD_start_daemon(flags, 0, NULL, NULL, web_access, ws,
	    MHD_OPTION_EXTERNAL_LOGGER, web_mhd_log, NULL, MHD_OPTION_SOCK_ADDR,
	    ss, MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)ws->nworker,
	    MHD_OPTION_CONNECTION_LIMIT, conn_limit,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    (unsigned int)WEB_CONN_PER_IP_HARD, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned int)WEB_CONN_TIMEOUT_S,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)WEB_CONN_MEMORY,
	    MHD_OPTION_NOTIFY_COMPLETED, web_completed, NULL,
	    MHD_OPTION_NOTIFY_CONNECTION, web_notify, NULL,
	    MHD_OPTION_UNESCAPE_CALLBACK, web_unescape_none, NULL,
	    o->tls_cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END,
	    cert->data, MHD_OPTION_HTTPS_MEM_KEY, key->data, MHD_OPTION_END);
}

/* Log where we listen: the port the system picked when asked for 0. */
static void
web_log_bound(const char *listen, struct MHD_Daemon *d)
{
	const union MHD_DaemonInfo *di =
	    MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	const char *colon = strrchr(listen, ':');

	log_info("listening address=%.*s:%u", (int)(colon - listen), listen,
	    di ? (unsigned int)di->port : 0);
}

int
web_serve(const struct config *cfg, const struct web_opts *o, struct buf *err)
{
	struct web_server ws = { 0 };
	struct sockaddr_storage ss;
	struct buf cert = BUF_INIT, key = BUF_INIT;
	sigset_t set;
	bool v6 = false;
	unsigned int conn_limit;
	size_t i;
	int sig, ret;

	if ((o->tls_cert == NULL) != (o->tls_key == NULL))
		return err_set(err, ERR_INVALID,
		    "--tls-cert and --tls-key go together");
	pthread_mutex_init(&ws.defer_lock, NULL);
	pthread_cond_init(&ws.defer_idle, NULL);
	pthread_mutex_init(&ws.workers_lock, NULL);
	pthread_mutex_init(&ws.count_lock, NULL);
	sem_init(&ws.hash_slots, 0, WEB_HASH_MAX);
	/* Forked now, while serve is one thread with nothing open. */
	ret = web_hash_start(&ws, err);
	if (ret == 0)
		ret = web_parse_listen(o->listen, &ss, &v6, err);
	if (ret == 0 && o->tls_cert != NULL)
		ret = web_read_file(o->tls_cert, &cert, err);
	if (ret == 0 && o->tls_key != NULL)
		ret = web_read_file(o->tls_key, &key, err);
	if (ret < 0)
		goto out;
	ws.nworker = web_workers();
	ws.workers = xcalloc(ws.nworker, sizeof(*ws.workers));
	for (i = 0; i < ws.nworker; i++) {
		ret = service_open(&ws.workers[i].svc, cfg, "", err);
		if (ret < 0)
			goto out;
		ws.workers[i].svc.trusted = false;
	}
	ws.tls = o->tls_cert != NULL;
	ws.session_idle_ms =
	    o->session_idle_ms > 0 ? o->session_idle_ms : WEB_SESSION_IDLE_MS;
	ws.sse = web_sse_start(cfg, ws.session_idle_ms, err);
	if (ws.sse == NULL) {
		ret = ERR_UNAVAILABLE;
		goto out;
	}
	ws.cache = web_cache_start(cfg, err);
	if (ws.cache == NULL) {
		ret = ERR_UNAVAILABLE;
		goto out;
	}
	ws.requests = json_object();
	ws.hold_route = getenv("ORCHESTRA_TEST_HOLD_ROUTE");
	ws.hold_file = getenv("ORCHESTRA_TEST_HOLD_FILE");
	if (ws.hold_route == NULL || ws.hold_file == NULL)
		ws.hold_route = NULL;
	conn_limit = web_conn_limit();
	ret = web_head_sweep_start(conn_limit, err);
	if (ret < 0)
		goto out;
	pthread_mutex_lock(&web_addrs_lock);
	web_nstream_max = (int)WEB_SSE_MAX(conn_limit);
	pthread_mutex_unlock(&web_addrs_lock);
	ws.daemon = web_start(&ws, o, &ss, v6, &cert, &key, conn_limit);
	if (ws.daemon == NULL) {
		web_head_sweep_stop();
		ret = err_set(err, ERR_UNAVAILABLE,
		    "cannot listen on '%s' (in use, or a bad TLS key or "
		    "certificate)",
		    o->listen);
		goto out;
	}
	web_log_bound(o->listen, ws.daemon);
	log_info("serving threads=%zu connections=%u streams=%d", ws.nworker,
	    conn_limit, (int)WEB_SSE_MAX(conn_limit));
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigwait(&set, &sig);
	log_info("stopping signal=%d", sig);
	/* No connection may be left suspended when the daemon stops. */
	web_defer_wait(&ws);
	web_sse_stop(ws.sse);
	MHD_stop_daemon(ws.daemon);
	web_head_sweep_stop();
	ret = 0;
out:
	web_sse_free(ws.sse); /* stops it first, if it still runs */
	web_cache_free(ws.cache);
	pthread_mutex_destroy(&ws.defer_lock);
	pthread_cond_destroy(&ws.defer_idle);
	json_decref(ws.requests);
	for (i = 0; ws.workers != NULL && i < ws.nworker; i++)
		service_close(&ws.workers[i].svc);
	free(ws.workers);
	pthread_mutex_destroy(&ws.workers_lock);
	pthread_mutex_destroy(&ws.count_lock);
	web_hash_stop(&ws);
	sem_destroy(&ws.hash_slots);
	buf_release_secret(&key);
	buf_release(&cert);
	return ret;
}
