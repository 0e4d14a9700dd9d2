/*
 * cache.c - answers kept while the database is unchanged.
 *
 * A list (the tasks, a task's jobs, the queue, the nodes) costs the same
 * store reads each time it is asked for, and dashboards ask for the same
 * few lists again and again between two changes.  So a route marked
 * `cache` has its 200 answers kept, keyed by who asked (name and role:
 * what the answer may show) and the whole request (path and query), with
 * the database's committed state when the reading began
 * (service_data_version).  A request whose key and state match is
 * answered with the kept bytes and reads nothing else, for at most
 * WEB_CACHE_AGE_MS: what a page says of the clock (whether a pilot that
 * went silent is down, core/pilot-beat.c) is at most that old.
 *
 * The state is read on a store connection of the cache's own, used for
 * nothing else and under the cache's lock: on SQLite its data_version
 * moves with every commit of any other connection (every worker's, the
 * pilot's), on PostgreSQL the snapshot names what a read would see.  It
 * is read before the handler reads, so an answer kept under a state holds
 * at least what that state holds, and a commit since changes the state:
 * nothing is answered older than the database.  A handler whose answer
 * depends on the clock more finely than WEB_CACHE_AGE_MS (token expiry,
 * usage since a time) must not be marked.
 *
 * When a key's answer is being read for the state a request finds, the
 * request waits for it (up to WEB_CACHE_WAIT_MS) rather than read the
 * same again: after a change, the many dashboards that ask for the same
 * list cost one read, not one each (a fill, below).
 *
 * Bounded: WEB_CACHE_ENTRIES answers and WEB_CACHE_BYTES in all, the
 * least recently used going first; an answer over WEB_CACHE_ENTRY_MAX is
 * not kept.
 */
#include <errno.h>
#include <time.h>

#include "web/web-int.h"

#define WEB_CACHE_ENTRIES 256
#define WEB_CACHE_BYTES (32u << 20)
#define WEB_CACHE_ENTRY_MAX (4u << 20)
/* How long an answer is kept at most, the database unchanged. */
#define WEB_CACHE_AGE_MS 10000
/* Reads of answers under way, and how long a request waits for one. */
#define WEB_CACHE_FILLS 64
#define WEB_CACHE_WAIT_MS 10000

struct web_cache_entry {
	char *key; /* NULL: a free slot */
	char *version;
	char *body;
	size_t len;
	int64_t made_ns; /* time_mono_ns() when its reading began */
	uint64_t used;   /* the cache's tick when last used */
};

/* An answer being read: its key and the state it is read at. */
struct web_cache_fill {
	char *key; /* NULL: a free slot */
	char *version;
};

struct web_cache {
	pthread_mutex_t lock;  /* everything below, and svc */
	pthread_cond_t filled; /* a fill ended (CLOCK_MONOTONIC) */
	struct web_cache_fill fills[WEB_CACHE_FILLS];
	struct service svc; /* reads the version, nothing else */
	bool failing;       /* the last read of the version failed */
	struct web_cache_entry e[WEB_CACHE_ENTRIES];
	size_t bytes;
	uint64_t tick;
	int64_t hits, misses;
};

struct web_cache *
web_cache_start(const struct config *cfg, struct buf *err)
{
	struct web_cache *c = xcalloc(1, sizeof(*c));
	pthread_condattr_t attr;

	if (service_open(&c->svc, cfg, "", err) < 0) {
		free(c);
		return NULL;
	}
	c->svc.trusted = false;
	pthread_mutex_init(&c->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&c->filled, &attr);
	pthread_condattr_destroy(&attr);
	return c;
}

static void
web_cache_drop(struct web_cache *c, struct web_cache_entry *e)
{
	c->bytes -= e->len;
	free(e->key);
	free(e->version);
	free(e->body);
	memset(e, 0, sizeof(*e));
}

void
web_cache_free(struct web_cache *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < WEB_CACHE_ENTRIES; i++)
		web_cache_drop(c, &c->e[i]);
	for (i = 0; i < WEB_CACHE_FILLS; i++) {
		free(c->fills[i].key);
		free(c->fills[i].version);
	}
	service_close(&c->svc);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->filled);
	free(c);
}

static enum MHD_Result
web_cache_arg(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct buf *b = cls;

	(void)kind;
	/* Unit separators: no argument can make another's key. */
	buf_addf(b, "\x1f%s\x1e%s", key, value != NULL ? value : "\x1d");
	return MHD_YES;
}

/* Who asks and what: the answer of a marked route depends on these only. */
static void
web_cache_key(struct web_req *r, struct buf *key)
{
	size_t i;

	buf_reset(key);
	buf_addf(key, "%s\x1f%s\x1f%s", r->who.username ? r->who.username : "",
	    r->who.role ? r->who.role : "", r->method);
	for (i = 0; i < r->nseg; i++)
		buf_addf(key, "/%s", r->seg[i]);
	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, web_cache_arg,
	    key);
}

static struct web_cache_entry *
web_cache_find(struct web_cache *c, const char *key)
{
	size_t i;

	for (i = 0; i < WEB_CACHE_ENTRIES; i++)
		if (c->e[i].key != NULL && strcmp(c->e[i].key, key) == 0)
			return &c->e[i];
	return NULL;
}

static struct web_cache_fill *
web_cache_fill_find(struct web_cache *c, const char *key, const char *version)
{
	size_t i;

	for (i = 0; i < WEB_CACHE_FILLS; i++)
		if (c->fills[i].key != NULL &&
		    strcmp(c->fills[i].key, key) == 0 &&
		    strcmp(c->fills[i].version, version) == 0)
			return &c->fills[i];
	return NULL;
}

/* Answer `r` from a kept entry of its key and version, if any. */
static bool
web_cache_answer(struct web_cache *c, struct web_req *r)
{
	struct web_cache_entry *e = web_cache_find(c, r->cache_key.data);

	if (e == NULL || strcmp(e->version, r->cache_version.data) != 0 ||
	    time_mono_ns() - e->made_ns >= WEB_CACHE_AGE_MS * 1000000LL)
		return false;
	e->used = ++c->tick;
	buf_reset(&r->text);
	buf_add(&r->text, e->body, e->len);
	r->is_text = true;
	r->content_type = "application/json";
	r->status = MHD_HTTP_OK;
	c->hits++;
	return true;
}

bool
web_cache_get(struct web_cache *c, struct web_req *r)
{
	struct buf err = BUF_INIT;
	struct web_cache_fill *f;
	struct timespec until;
	bool hit = false;
	size_t i;

	if (c == NULL)
		return false;
	web_cache_key(r, &r->cache_key);
	pthread_mutex_lock(&c->lock);
	if (service_data_version(&c->svc, &r->cache_version, &err) < 0) {
		/* Not kept, not answered: the handler reads as without. */
		if (!c->failing)
			log_error("answers are not kept: %s", err.data);
		c->failing = true;
		buf_reset(&r->cache_key);
		goto out;
	}
	c->failing = false;
	r->cache_made_ns = time_mono_ns();
	time_deadline(&until, CLOCK_MONOTONIC, WEB_CACHE_WAIT_MS);
	while (!(hit = web_cache_answer(c, r)) &&
	    web_cache_fill_find(c, r->cache_key.data, r->cache_version.data) !=
	        NULL)
		if (pthread_cond_timedwait(&c->filled, &c->lock, &until) ==
		    ETIMEDOUT)
			break;
	if (hit)
		goto out;
	c->misses++;
	/* This request reads it; others of its key and version wait. */
	for (i = 0; i < WEB_CACHE_FILLS && c->fills[i].key != NULL; i++)
		;
	if (i < WEB_CACHE_FILLS &&
	    web_cache_fill_find(c, r->cache_key.data, r->cache_version.data) ==
	        NULL) {
		f = &c->fills[i];
		f->key = xstrdup(r->cache_key.data);
		f->version = xstrdup(r->cache_version.data);
		r->cache_fill = true;
	}
out:
	pthread_mutex_unlock(&c->lock);
	buf_release(&err);
	return hit;
}

void
web_cache_done(struct web_cache *c, struct web_req *r)
{
	struct web_cache_fill *f;

	if (c == NULL || !r->cache_fill)
		return;
	pthread_mutex_lock(&c->lock);
	f = web_cache_fill_find(c, r->cache_key.data, r->cache_version.data);
	if (f != NULL) {
		free(f->key);
		free(f->version);
		f->key = f->version = NULL;
	}
	r->cache_fill = false;
	pthread_cond_broadcast(&c->filled);
	pthread_mutex_unlock(&c->lock);
}

/* The least recently used entry other than `keep`, or NULL. */
static struct web_cache_entry *
web_cache_oldest(struct web_cache *c, const struct web_cache_entry *keep)
{
	struct web_cache_entry *best = NULL;
	size_t i;

	for (i = 0; i < WEB_CACHE_ENTRIES; i++) {
		if (c->e[i].key == NULL || &c->e[i] == keep)
			continue;
		if (best == NULL || c->e[i].used < best->used)
			best = &c->e[i];
	}
	return best;
}

void
web_cache_put(struct web_cache *c, struct web_req *r)
{
	struct web_cache_entry *e, *old;
	char *body;
	size_t len, i;

	if (c == NULL || r->cache_key.len == 0 || r->status != MHD_HTTP_OK ||
	    r->is_text || r->own != NULL || r->work != NULL ||
	    r->resp == NULL) {
		web_cache_done(c, r);
		return;
	}
	body = json_dumps(r->resp,
	    JSON_COMPACT | JSON_ENSURE_ASCII | SERVICE_JSON_DUMP_REAL);
	if (body == NULL)
		BUG("json_dumps failed");
	len = strlen(body);
	/* Sent as text from here on: the same bytes web_send would make. */
	buf_reset(&r->text);
	buf_add(&r->text, body, len);
	r->is_text = true;
	r->content_type = "application/json";
	if (len > WEB_CACHE_ENTRY_MAX) {
		free(body);
		web_cache_done(c, r);
		return;
	}
	pthread_mutex_lock(&c->lock);
	e = web_cache_find(c, r->cache_key.data);
	if (e == NULL) {
		for (i = 0; i < WEB_CACHE_ENTRIES && e == NULL; i++)
			if (c->e[i].key == NULL)
				e = &c->e[i];
		if (e == NULL)
			e = web_cache_oldest(c, NULL);
	}
	web_cache_drop(c, e);
	e->key = xstrdup(r->cache_key.data);
	e->version = xstrdup(r->cache_version.data);
	e->made_ns = r->cache_made_ns;
	e->body = body;
	e->len = len;
	e->used = ++c->tick;
	c->bytes += len;
	while (c->bytes > WEB_CACHE_BYTES &&
	    (old = web_cache_oldest(c, e)) != NULL)
		web_cache_drop(c, old);
	pthread_mutex_unlock(&c->lock);
	web_cache_done(c, r);
}

void
web_cache_counts(struct web_cache *c, int64_t *hits, int64_t *misses)
{
	*hits = *misses = 0;
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	*hits = c->hits;
	*misses = c->misses;
	pthread_mutex_unlock(&c->lock);
}
