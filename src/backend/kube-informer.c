/*
 * kube-informer.c - a cache of one kind of object, kept the way
 * Kubernetes' own controllers keep theirs (client-go's reflector): list
 * once, then watch from the list's resourceVersion, applying each event to
 * the cache.
 *
 * A watch that ends (its timeout, a dropped connection) is started again
 * from the last resourceVersion seen (events and bookmarks move it), so no
 * event is lost and none is applied twice; one that answers 410 Gone (the
 * history was compacted) marks the cache stale, and the next sync lists
 * again.  Watches that fail are started again after a growing wait, so a
 * sick API server is not hammered.
 */
#include <sys/epoll.h>

#include "backend/kube-int.h"

/* The server ends each watch after about this long; we start another. */
#define KUBE_WATCH_SECONDS 300
/* Waits before starting a watch again after a failed one. */
#define KUBE_WATCH_BACKOFF_MIN_MS 200
#define KUBE_WATCH_BACKOFF_MAX_MS 5000

struct kube_informer {
	const struct kube_kind *kind;
	int epfd;     /* the owner's epoll set, for the watch */
	json_t *objs; /* key -> object (slimmed) */
	char *rv;     /* resourceVersion to watch from */
	bool synced;  /* listed, and nothing lost since */
	struct kube_watch *watch;
	int64_t watch_started_ns;
	int64_t retry_at_ns; /* no new watch before this */
	int backoff_ms;
	bool wake; /* an event the pilot should act on */
	bool gone; /* the watch said 410 Gone */
};

struct kube_informer *
kube_informer_new(const struct kube_kind *kind, int epfd)
{
	struct kube_informer *inf = xcalloc(1, sizeof(*inf));

	inf->kind = kind;
	inf->epfd = epfd;
	inf->objs = json_object();
	inf->backoff_ms = KUBE_WATCH_BACKOFF_MIN_MS;
	return inf;
}

static void
kube_informer_unwatch(struct kube_informer *inf)
{
	if (inf->watch == NULL)
		return;
	epoll_ctl(inf->epfd, EPOLL_CTL_DEL, kube_watch_fd(inf->watch), NULL);
	kube_watch_free(inf->watch);
	inf->watch = NULL;
}

void
kube_informer_free(struct kube_informer *inf)
{
	if (inf == NULL)
		return;
	kube_informer_unwatch(inf);
	json_decref(inf->objs);
	free(inf->rv);
	free(inf);
}

static void
kube_informer_set_rv(struct kube_informer *inf, const char *rv)
{
	if (rv == NULL || *rv == '\0')
		return;
	free(inf->rv);
	inf->rv = xstrdup(rv);
}

static const char *
kube_informer_rv_of(json_t *obj)
{
	return json_string_value(json_object_get(
	    json_object_get(obj, "metadata"), "resourceVersion"));
}

/* Put one object (a new reference is taken), by its key. */
static void
kube_informer_store(struct kube_informer *inf, json_t *obj)
{
	const char *key = inf->kind->key(obj);

	if (key == NULL || *key == '\0')
		return;
	json_object_set_new(inf->objs, key, inf->kind->slim(obj));
}

/* One watch event. */
static void
kube_informer_event(void *ctx, json_t *ev)
{
	struct kube_informer *inf = ctx;
	const char *type = json_string_value(json_object_get(ev, "type"));
	json_t *obj = json_object_get(ev, "object");
	const char *key;

	if (type == NULL || !json_is_object(obj))
		return; /* a Status instead of an event: the status says */
	if (strcmp(type, "ERROR") == 0) {
		/* 410 Gone, or anything else the server could not do. */
		inf->gone = true;
		inf->wake = true;
		return;
	}
	kube_informer_set_rv(inf, kube_informer_rv_of(obj));
	if (strcmp(type, "BOOKMARK") == 0)
		return;
	if (inf->kind->wakes(type, obj))
		inf->wake = true;
	if (strcmp(type, "DELETED") == 0) {
		key = inf->kind->key(obj);
		if (key != NULL)
			json_object_del(inf->objs, key);
	} else if (strcmp(type, "ADDED") == 0 ||
	    strcmp(type, "MODIFIED") == 0) {
		kube_informer_store(inf, obj);
	}
}

int
kube_informer_list(struct kube_informer *inf, struct kube_client *c,
    struct buf *err)
{
	json_t *reply = NULL, *items, *o;
	struct buf what = BUF_INIT;
	long status;
	size_t i;

	if (kube_request(c, "GET", inf->kind->path, NULL, &status, &reply,
	        err) < 0)
		return ERR_UNAVAILABLE;
	items = json_object_get(reply, "items");
	if (status != 200 || !json_is_array(items)) {
		buf_addf(&what, "list %s", inf->kind->what);
		kube_status_error(c, err, what.data, status, reply);
		buf_release(&what);
		json_decref(reply);
		return ERR_UNAVAILABLE;
	}
	json_object_clear(inf->objs);
	json_array_foreach(items, i, o) kube_informer_store(inf, o);
	free(inf->rv);
	inf->rv = NULL;
	kube_informer_set_rv(inf, kube_informer_rv_of(reply));
	json_decref(reply);
	/* A watch from before the list would apply old news to new data. */
	kube_informer_unwatch(inf);
	inf->synced = true;
	inf->gone = false;
	return 0;
}

/* Start the watch from inf->rv, unless one runs or it is too soon. */
static void
kube_informer_watch(struct kube_informer *inf, struct kube_client *c)
{
	struct buf path = BUF_INIT, err = BUF_INIT;
	struct epoll_event ev = { .events = EPOLLIN };

	if (inf->watch != NULL || !inf->synced || inf->rv == NULL ||
	    time_mono_ns() < inf->retry_at_ns)
		return;
	buf_addf(&path,
	    "%s%cwatch=1&allowWatchBookmarks=true"
	    "&timeoutSeconds=%d&resourceVersion=",
	    inf->kind->path, strchr(inf->kind->path, '?') ? '&' : '?',
	    KUBE_WATCH_SECONDS);
	buf_add_percent_encoded(&path, inf->rv);
	if (kube_watch_start(c, path.data, &inf->watch, &err) < 0) {
		log_warn("%s", err.data);
		inf->retry_at_ns =
		    time_mono_ns() + (int64_t)inf->backoff_ms * 1000000;
	} else {
		inf->watch_started_ns = time_mono_ns();
		ev.data.ptr = inf;
		epoll_ctl(inf->epfd, EPOLL_CTL_ADD, kube_watch_fd(inf->watch),
		    &ev);
	}
	buf_release(&path);
	buf_release(&err);
}

bool
kube_informer_drain(struct kube_informer *inf, struct kube_client *c)
{
	bool wake;
	long status;

	if (inf->watch != NULL &&
	    kube_watch_drain(inf->watch, kube_informer_event, inf) == 0) {
		status = kube_watch_status(inf->watch);
		kube_informer_unwatch(inf);
		if (status == 410 || inf->gone) {
			/* Compacted: only a new list can say what we missed. */
			inf->synced = false;
			inf->wake = true;
		} else if (status == 200 &&
		    time_mono_ns() - inf->watch_started_ns > 1000000000LL) {
			/* Its time was up, or it was cut after a while: on. */
			inf->backoff_ms = KUBE_WATCH_BACKOFF_MIN_MS;
			inf->retry_at_ns = 0;
		} else {
			/* Refused, or cut at once: wait longer each time, and
			 * let a cycle see the Jobs meanwhile. */
			inf->retry_at_ns =
			    time_mono_ns() + (int64_t)inf->backoff_ms * 1000000;
			if (inf->backoff_ms < KUBE_WATCH_BACKOFF_MAX_MS)
				inf->backoff_ms *= 2;
			inf->wake = true;
		}
		kube_informer_watch(inf, c);
	}
	wake = inf->wake;
	inf->wake = false;
	return wake;
}

int
kube_informer_sync(struct kube_informer *inf, struct kube_client *c, bool watch,
    struct buf *err)
{
	int ret;

	kube_informer_drain(inf, c);
	/* Not watched, the cache is as old as its list: list again. */
	if (!inf->synced || inf->watch == NULL) {
		ret = kube_informer_list(inf, c, err);
		if (ret < 0)
			return ret;
	}
	if (watch) {
		inf->retry_at_ns = 0;
		kube_informer_watch(inf, c);
	} else {
		/* Nobody drains it: the next sync must list. */
		inf->synced = false;
	}
	return 0;
}

json_t *
kube_informer_get(struct kube_informer *inf, const char *key)
{
	return json_object_get(inf->objs, key);
}

json_t *
kube_informer_objects(struct kube_informer *inf)
{
	return inf->objs;
}

void
kube_informer_put(struct kube_informer *inf, json_t *obj)
{
	const char *key = inf->kind->key(obj);
	const char *rv = kube_informer_rv_of(obj);
	json_t *have = key ? json_object_get(inf->objs, key) : NULL;
	const char *have_rv = kube_informer_rv_of(have);

	/* Never older news over newer (a watch event may have come first). */
	if (have != NULL && rv != NULL && have_rv != NULL &&
	    strtoll(rv, NULL, 10) < strtoll(have_rv, NULL, 10))
		return;
	kube_informer_store(inf, obj);
}

void
kube_informer_forget(struct kube_informer *inf, const char *key)
{
	json_object_del(inf->objs, key);
}
