/*
 * sse.c - GET /api/v1/events: the dashboard's live updates, as
 * server-sent events.
 *
 * Every change of a task, job or node is a row of the event table
 * (store-event.c), with an increasing id.  A stream sends
 *
 *	id: N
 *	event: change
 *	data: {"tasks": [ID...], "jobs": [ID...], "nodes": [ID...]}
 *
 * where N is the last row it covers; a client that reconnects with
 * Last-Event-ID: N gets every row after N, so nothing is lost.
 *
 * Threads.  libmicrohttpd's request workers (server.c) must not wait
 * on a stream, so the streams are fed by a thread of their own (the
 * hub), with a store connection of its own (not shared, so it needs no
 * lock).  Every WEB_SSE_TICK_MS the hub reads the latest
 * event id, and for each stream behind it the rows after its cursor
 * (one query for all the streams at the same cursor), which it writes
 * into the stream's buffer as one event: a burst of changes is one
 * event per tick, and resumes the streams it wrote to.  Then, every
 * WEB_SSE_CHECK_MS, it checks each stream's token or session again (two
 * indexed reads, once for all the streams that share one), and ends the
 * stream when it was revoked, expired or signed out, or when the token a
 * session was made from was: so a stream ends at most CHECK + TICK ms
 * (under a second) after its credential, as long as a tick's
 * WEB_SSE_CHECK_BUDGET_MS can check them all (some 1,000 credentials on
 * SQLite; the rest wait for the next tick); a stream silent for
 * WEB_SSE_PING_MS gets a comment, so that proxies and clients know it is
 * alive.
 *
 * The stream's worker calls web_sse_read() when the client can take
 * more: it copies out what the buffer holds, or, when empty, suspends
 * the connection (MHD_suspend_connection, from the reader, as
 * libmicrohttpd allows); the hub resumes it once there is something.
 * The hub's lock guards each stream's buffer, flags and the list.  A
 * stream is freed when both libmicrohttpd (the response's free
 * callback) and the hub (while it works on it, outside the lock) are
 * done with it: `refs`.
 */
#include <pthread.h>

#include "web/web-int.h"

#define WEB_SSE_TICK_MS 250
#define WEB_SSE_CHECK_MS 500
#define WEB_SSE_PING_MS 15000
/*
 * At most this long of a tick goes to checking credentials again; the
 * streams left are checked at the next tick.  So a tick takes at most
 * its reads of events and this, whatever the streams.
 */
#define WEB_SSE_CHECK_BUDGET_MS 100
/* Rows read for one stream in one tick; the rest comes next tick. */
#define WEB_SSE_ROWS 500
/*
 * A gap in the ids after a stream's cursor may be a transaction not yet
 * committed (on PostgreSQL ids are taken at insert, rows seen at commit,
 * so a later id can be seen first): the stream waits for it this long,
 * then takes it for a rolled-back insert and goes on.
 */
#define WEB_SSE_GAP_MS 2000
/* A client this far behind is dropped; it resumes by Last-Event-ID. */
#define WEB_SSE_BUF_MAX (1024 * 1024)

struct web_stream {
	struct web_stream *next;
	struct web_sse *hub; /* outlives the stream: web_sse_stop() */
	struct MHD_Connection *conn;
	char *ip; /* counted by web_limit_stream_open() */
	int refs;
	bool by_session;
	struct buf cred;    /* the token or session secret, wiped when freed */
	int64_t cursor;     /* the last event id written (hub only) */
	int64_t checked_ms; /* (hub only) */
	int64_t gap_ms;     /* since when a gap follows the cursor, or 0 */
	/* Under the hub's lock: */
	struct buf out;
	size_t sent;
	int64_t wrote_ms;
	bool suspended;
	bool ended;
	bool gone; /* libmicrohttpd freed its response */
};

struct web_sse {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	bool running;
	bool stop;
	struct service svc; /* the hub's own store connection */
	int64_t idle_ms;
	struct web_stream *streams;
};

static void
web_sse_unref(struct web_stream *s)
{
	if (--s->refs > 0)
		return;
	buf_release_secret(&s->cred);
	buf_release(&s->out);
	free(s->ip);
	free(s);
}

/* Resume a suspended stream that has something to do (under the lock). */
static void
web_sse_kick(struct web_stream *s)
{
	if (s->gone || !s->suspended)
		return;
	if (s->sent < s->out.len || s->ended) {
		s->suspended = false;
		MHD_resume_connection(s->conn);
	}
}

static ssize_t
web_sse_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct web_stream *s = cls;
	struct web_sse *hub;
	size_t n;
	ssize_t ret;

	(void)pos;
	hub = s->hub;
	pthread_mutex_lock(&hub->lock);
	if (s->ended || hub->stop) {
		ret = MHD_CONTENT_READER_END_OF_STREAM;
	} else if (s->sent < s->out.len) {
		n = s->out.len - s->sent;
		if (n > max)
			n = max;
		memcpy(out, s->out.data + s->sent, n);
		s->sent += n;
		if (s->sent == s->out.len) {
			buf_reset(&s->out);
			s->sent = 0;
		}
		s->wrote_ms = time_now_ms();
		ret = (ssize_t)n;
	} else {
		s->suspended = true;
		MHD_suspend_connection(s->conn);
		ret = 0;
	}
	pthread_mutex_unlock(&hub->lock);
	return ret;
}

static void
web_sse_free_cb(void *cls)
{
	struct web_stream *s = cls, **p;
	struct web_sse *hub = s->hub;

	pthread_mutex_lock(&hub->lock);
	for (p = &hub->streams; *p != NULL; p = &(*p)->next)
		if (*p == s) {
			*p = s->next;
			break;
		}
	s->gone = true;
	web_limit_stream_close(s->ip);
	web_sse_unref(s);
	pthread_mutex_unlock(&hub->lock);
}

/*
 * The ids of one kind ("task", "job", "node") that `rows` touch, each
 * once: a job's row touches its task (whose counts changed) and its
 * node (whose slots did) too.  An account's rows (tokens, passwords)
 * are no business of the dashboard.
 */
static json_t *
web_sse_ids(const event_row_vec *rows, const char *kind)
{
	json_t *ids = json_array(), *seen = json_object();
	const struct event_row *e;
	char key[24];
	int64_t id;

	VEC_FOREACH (e, rows) {
		if (strcmp(e->kind, "account") == 0)
			continue;
		if (strcmp(kind, "task") == 0)
			id = e->task_id;
		else if (strcmp(kind, "job") == 0)
			id = e->job_id;
		else
			id = e->node_id;
		snprintf(key, sizeof(key), "%lld", (long long)id);
		if (id == 0 || json_object_get(seen, key) != NULL)
			continue;
		json_object_set_new(seen, key, json_true());
		json_array_append_new(ids, json_integer(id));
	}
	json_decref(seen);
	return ids;
}

/*
 * How many of `rows` (ids after the stream's cursor, in order) may be
 * sent now: up to the first gap in the ids, unless that gap, right after
 * the cursor, has been there WEB_SSE_GAP_MS already.  Without this a
 * reader would move past a row still being committed and lose it.
 */
static size_t
web_sse_ready(struct web_stream *s, const event_row_vec *rows, int64_t now)
{
	int64_t next = s->cursor + 1;
	size_t i;

	for (i = 0; i < rows->n; i++) {
		if (rows->v[i].id != next) {
			/* A gap after rows sent now is a new one. */
			if (i > 0 || s->gap_ms == 0)
				s->gap_ms = now;
			if (now - s->gap_ms < WEB_SSE_GAP_MS)
				return i;
		}
		next = rows->v[i].id + 1;
	}
	s->gap_ms = 0;
	return rows->n;
}

/*
 * The rows after one id, read once a tick however many streams wait at
 * that id (most follow the latest row, so they share one query).
 */
struct web_sse_page {
	int64_t after;
	event_row_vec rows;
	int ret;
};
typedef VEC(struct web_sse_page) web_sse_page_vec;

/* Valid until the next call (the vector may move). */
static const struct web_sse_page *
web_sse_page(struct web_sse *hub, web_sse_page_vec *pages, int64_t after)
{
	struct web_sse_page *p;
	struct buf err = BUF_INIT;

	VEC_FOREACH (p, pages)
		if (p->after == after)
			return p;
	p = VEC_ADD(pages);
	p->after = after;
	p->ret = service_events_since(&hub->svc, after, WEB_SSE_ROWS, &p->rows,
	    &err);
	if (p->ret < 0)
		log_warn("event stream: cannot read events: %s", err.data);
	buf_release(&err);
	return p;
}

static void
web_sse_pages_release(web_sse_page_vec *pages)
{
	struct web_sse_page *p;

	VEC_FOREACH (p, pages)
		VEC_RELEASE(&p->rows);
	VEC_RELEASE(pages);
}

/*
 * The rows after the stream's cursor that are ready, as one event
 * appended to `ev`; the cursor moves past them.  Rows that touch no
 * task, job or node (an account's) move the cursor but send nothing.
 */
static void
web_sse_collect(struct web_stream *s, const struct web_sse_page *page,
    int64_t now, struct buf *ev)
{
	event_row_vec ready = { page->rows.v, 0, 0 };
	json_t *data;
	char *text;

	if (page->ret < 0)
		return;
	ready.n = web_sse_ready(s, &page->rows, now);
	if (ready.n == 0)
		return;
	s->cursor = ready.v[ready.n - 1].id;
	data = json_pack("{s:o, s:o, s:o}", "tasks",
	    web_sse_ids(&ready, "task"), "jobs", web_sse_ids(&ready, "job"),
	    "nodes", web_sse_ids(&ready, "node"));
	if (json_array_size(json_object_get(data, "tasks")) +
	        json_array_size(json_object_get(data, "jobs")) +
	        json_array_size(json_object_get(data, "nodes")) >
	    0) {
		text = json_dumps(data,
		    JSON_COMPACT | JSON_ENSURE_ASCII | SERVICE_JSON_DUMP_REAL);
		if (text == NULL)
			BUG("json_dumps failed");
		buf_addf(ev, "id: %lld\nevent: change\ndata: %s\n\n",
		    (long long)s->cursor, text);
		free(text);
	}
	json_decref(data);
}

/* Is the stream's token or session still good?  (Not noted as a use.) */
static bool
web_sse_still_valid(struct web_sse *hub, struct web_stream *s)
{
	struct account who = { 0 };
	struct buf err = BUF_INIT;
	int ret;

	if (s->by_session)
		ret = service_auth_session(&hub->svc, s->cred.data,
		    hub->idle_ms, false, &who, NULL, &err);
	else
		ret = service_auth_token(&hub->svc, s->cred.data, &who, NULL,
		    &err);
	/* Only a refusal ends it: the database away is no reason. */
	if (ret < 0 && ret != ERR_DENIED)
		log_warn("event stream: cannot check the session: %s",
		    err.data);
	account_release(&who);
	buf_release(&err);
	return ret != ERR_DENIED;
}

/* Order streams by credential, so that those sharing one are neighbours. */
static int
web_sse_cred_cmp(const void *a, const void *b)
{
	const struct web_stream *x = *(struct web_stream *const *)a;
	const struct web_stream *y = *(struct web_stream *const *)b;

	if (x->by_session != y->by_session)
		return x->by_session ? 1 : -1;
	return strcmp(x->cred.data, y->cred.data);
}

/*
 * Check the credentials of the streams in `due` (sorted by credential;
 * each held by a reference) again, each credential once however many
 * streams share it, until WEB_SSE_CHECK_BUDGET_MS are spent: those left
 * stay due, and are checked first at the next tick.  End the refused.
 */
static void
web_sse_check(struct web_sse *hub, struct web_stream **due, size_t n)
{
	int64_t start = time_mono_ns(), now;
	size_t i = 0, k;
	bool valid;

	while (i < n) {
		now = time_now_ms();
		if (time_mono_ns() - start >=
		    WEB_SSE_CHECK_BUDGET_MS * 1000000LL)
			break;
		valid = web_sse_still_valid(hub, due[i]);
		for (k = i; k < n && web_sse_cred_cmp(&due[i], &due[k]) == 0;
		     k++) {
			due[k]->checked_ms = now;
			if (valid)
				continue;
			pthread_mutex_lock(&hub->lock);
			due[k]->ended = true;
			web_sse_kick(due[k]);
			pthread_mutex_unlock(&hub->lock);
		}
		i = k;
	}
}

/*
 * One tick: feed every stream and wake who has news first, then check
 * the due ones' credentials, so that their reads never delay news.
 */
static void
web_sse_tick(struct web_sse *hub)
{
	VEC(struct web_stream *) work = VEC_INIT, due = VEC_INIT;
	web_sse_page_vec pages = VEC_INIT;
	struct web_stream *s, **sp;
	struct buf err = BUF_INIT, ev = BUF_INIT;
	int64_t last = 0, now;
	bool have_last;

	have_last = service_events_last(&hub->svc, &last, &err) == 0;
	if (!have_last)
		log_warn("event stream: cannot read events: %s", err.data);
	pthread_mutex_lock(&hub->lock);
	for (s = hub->streams; s != NULL; s = s->next) {
		if (s->ended)
			continue;
		s->refs++;
		*VEC_ADD(&work) = s;
	}
	pthread_mutex_unlock(&hub->lock);
	now = time_now_ms();
	VEC_FOREACH (sp, &work) {
		s = *sp;
		buf_reset(&ev);
		if (have_last && s->cursor < last)
			web_sse_collect(s, web_sse_page(hub, &pages, s->cursor),
			    now, &ev);
		pthread_mutex_lock(&hub->lock);
		buf_add(&s->out, ev.data, ev.len);
		if (s->out.len == 0 && now - s->wrote_ms >= WEB_SSE_PING_MS)
			buf_adds(&s->out, ": ping\n\n");
		if (s->out.len > WEB_SSE_BUF_MAX)
			s->ended = true;
		web_sse_kick(s);
		pthread_mutex_unlock(&hub->lock);
		if (now - s->checked_ms >= WEB_SSE_CHECK_MS)
			*VEC_ADD(&due) = s;
	}
	if (due.n > 0) {
		qsort(due.v, due.n, sizeof(*due.v), web_sse_cred_cmp);
		web_sse_check(hub, due.v, due.n);
	}
	pthread_mutex_lock(&hub->lock);
	VEC_FOREACH (sp, &work)
		web_sse_unref(*sp);
	pthread_mutex_unlock(&hub->lock);
	VEC_RELEASE(&work);
	VEC_RELEASE(&due);
	web_sse_pages_release(&pages);
	buf_release(&ev);
	buf_release(&err);
}

static void *
web_sse_main(void *arg)
{
	struct web_sse *hub = arg;
	struct timespec until;

	pthread_mutex_lock(&hub->lock);
	while (!hub->stop) {
		time_deadline(&until, CLOCK_REALTIME, WEB_SSE_TICK_MS);
		pthread_cond_timedwait(&hub->wake, &hub->lock, &until);
		if (hub->stop)
			break;
		/* Nothing to do without streams: no query either. */
		if (hub->streams == NULL)
			continue;
		pthread_mutex_unlock(&hub->lock);
		web_sse_tick(hub);
		pthread_mutex_lock(&hub->lock);
	}
	pthread_mutex_unlock(&hub->lock);
	return NULL;
}

struct web_sse *
web_sse_start(const struct config *cfg, int64_t idle_ms, struct buf *err)
{
	struct web_sse *hub = xcalloc(1, sizeof(*hub));

	pthread_mutex_init(&hub->lock, NULL);
	pthread_cond_init(&hub->wake, NULL);
	hub->idle_ms = idle_ms;
	if (service_open(&hub->svc, cfg, "", err) < 0) {
		web_sse_free(hub);
		return NULL;
	}
	hub->svc.trusted = false;
	if (pthread_create(&hub->thread, NULL, web_sse_main, hub) != 0) {
		err_set(err, ERR_UNAVAILABLE,
		    "cannot start the event streams' thread");
		web_sse_free(hub);
		return NULL;
	}
	hub->running = true;
	return hub;
}

void
web_sse_stop(struct web_sse *hub)
{
	struct web_stream *s;

	if (hub == NULL)
		return;
	pthread_mutex_lock(&hub->lock);
	hub->stop = true;
	for (s = hub->streams; s != NULL; s = s->next) {
		s->ended = true;
		web_sse_kick(s);
	}
	pthread_cond_signal(&hub->wake);
	pthread_mutex_unlock(&hub->lock);
	if (hub->running)
		pthread_join(hub->thread, NULL);
	hub->running = false;
}

void
web_sse_free(struct web_sse *hub)
{
	if (hub == NULL)
		return;
	web_sse_stop(hub);
	service_close(&hub->svc);
	pthread_cond_destroy(&hub->wake);
	pthread_mutex_destroy(&hub->lock);
	free(hub);
}

void
web_api_events(struct web_req *r)
{
	struct web_sse *hub = r->ws->sse;
	const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	    "Last-Event-ID");
	struct web_stream *s;
	struct buf err = BUF_INIT;
	int64_t from = 0;
	unsigned int full;
	int ret;

	if (h != NULL && util_parse_int64(h, 0, INT64_MAX, &from) < 0) {
		web_error(r, MHD_HTTP_BAD_REQUEST,
		    "Last-Event-ID must be a whole number, the id of an event");
		return;
	}
	/* A new stream starts from now; a resumed one after what it saw. */
	if (h == NULL) {
		ret = service_events_last(&r->svc, &from, &err);
		if (ret < 0) {
			web_fail(r, ret, &err);
			buf_release(&err);
			return;
		}
	}
	full = web_limit_stream_open(r->ip, &err);
	if (full != 0) {
		web_error(r, full, "%s", err.data);
		buf_release(&err);
		return;
	}
	s = xcalloc(1, sizeof(*s));
	s->hub = hub;
	s->ip = xstrdup(r->ip);
	s->conn = r->conn;
	s->refs = 1; /* the response's */
	s->by_session = r->by_session;
	buf_adds(&s->cred, r->cred.data);
	s->cursor = from;
	s->checked_ms = time_now_ms();
	s->wrote_ms = s->checked_ms;
	/* Reconnect after 2 s; and something at once, so headers go out. */
	buf_adds(&s->out, "retry: 2000\n\n");
	r->own = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096,
	    web_sse_read, s, web_sse_free_cb);
	if (r->own == NULL)
		BUG("MHD_create_response_from_callback failed");
	web_headers(r->own);
	MHD_add_response_header(r->own, "Content-Type",
	    "text/event-stream; charset=utf-8");
	pthread_mutex_lock(&hub->lock);
	s->next = hub->streams;
	hub->streams = s;
	pthread_mutex_unlock(&hub->lock);
	r->status = MHD_HTTP_OK;
	buf_release(&err);
}

int
web_sse_count(struct web_sse *hub)
{
	struct web_stream *s;
	int n = 0;

	pthread_mutex_lock(&hub->lock);
	for (s = hub->streams; s != NULL; s = s->next)
		n += !s->ended;
	pthread_mutex_unlock(&hub->lock);
	return n;
}
