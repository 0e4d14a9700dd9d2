/*
 * mailer.c - the pilot's mail thread: the outbox drained beside the
 * cycles, on a store connection of its own, so that neither a backlog nor
 * a slow server holds up a cycle (docs/internals/mail.md).
 *
 * The pilot kicks it when a step of a cycle has committed mail rows, and
 * at the end of every cycle; it drains whatever is due, then sleeps until
 * the next kick, the next mail's due time, or a stop.  It sends only
 * while the pilot says it holds its lock.  Its commits move no
 * notify_seq and send no NOTIFY, so they never wake the pilot.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "notify/notify.h"

/* The thread's niceness: where CPU is short, the cycles come first. */
#define MAILER_NICE 10
/* After a failed drain (the database away), the wait before the next. */
#define MAILER_BACKOFF_MIN_MS 250
#define MAILER_BACKOFF_MAX_MS 8000

struct mailer {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	/* Under mu. */
	bool stop;
	bool kicked; /* kicked since the last drain began */
	bool active; /* the pilot holds its lock: sending is allowed */
	/* The thread's own. */
	struct store *st;
	struct outbox *ob;
};

static int64_t
mailer_mono_ms(void)
{
	return time_mono_ns() / 1000000;
}

/* Stop the drain between two mails: asked to stop, or the lock lost. */
static bool
mailer_cut(void *arg)
{
	struct mailer *m = arg;
	bool cut;

	pthread_mutex_lock(&m->mu);
	cut = m->stop || !m->active;
	pthread_mutex_unlock(&m->mu);
	return cut;
}

/*
 * Wait for a reason to drain: a kick, or `due_ms` (monotonic; -1: none)
 * passed, while active.  False when asked to stop.
 */
static bool
mailer_wait(struct mailer *m, int64_t due_ms)
{
	struct timespec ts;
	bool go;

	pthread_mutex_lock(&m->mu);
	for (;;) {
		if (m->stop)
			break;
		if (m->active &&
		    (m->kicked || (due_ms >= 0 && mailer_mono_ms() >= due_ms)))
			break;
		if (!m->active || due_ms < 0) {
			pthread_cond_wait(&m->cond, &m->mu);
			continue;
		}
		ts.tv_sec = due_ms / 1000;
		ts.tv_nsec = due_ms % 1000 * 1000000;
		pthread_cond_timedwait(&m->cond, &m->mu, &ts);
	}
	go = !m->stop;
	m->kicked = false;
	pthread_mutex_unlock(&m->mu);
	return go;
}

static void *
mailer_main(void *arg)
{
	struct mailer *m = arg;
	struct outbox_limits lim = { INT64_MAX, mailer_cut, m };
	struct outbox_stats stats;
	struct buf err = BUF_INIT;
	int64_t due_ms = -1, backoff = 0, start;
	int ret;

	/* Linux: a thread's own niceness (a failure costs nothing). */
	(void)setpriority(PRIO_PROCESS, (id_t)gettid(), MAILER_NICE);
	while (mailer_wait(m, due_ms)) {
		start = time_mono_ns();
		buf_reset(&err);
		ret = outbox_drain(m->ob, m->st, &lim, &stats, &err);
		if (ret < 0) {
			if (backoff == 0)
				log_warn("mail: %s (trying again)", err.data);
			backoff =
			    backoff == 0 ? MAILER_BACKOFF_MIN_MS : backoff * 2;
			if (backoff > MAILER_BACKOFF_MAX_MS)
				backoff = MAILER_BACKOFF_MAX_MS;
			due_ms = mailer_mono_ms() + backoff;
			continue;
		}
		if (backoff > 0)
			log_info("mail: the database is back");
		backoff = 0;
		due_ms =
		    stats.wait_ms < 0 ? -1 : mailer_mono_ms() + stats.wait_ms;
		if (stats.sent || stats.retried || stats.given_up)
			log_debug(
			    "mail: %lld sent, %lld retried, %lld given up "
			    "in %.1f ms; %lld waiting",
			    (long long)stats.sent, (long long)stats.retried,
			    (long long)stats.given_up,
			    (double)(time_mono_ns() - start) / 1e6,
			    (long long)stats.pending);
	}
	buf_release(&err);
	return NULL;
}

int
mailer_start(struct mailer **out, const struct config *cfg, struct buf *err)
{
	struct mailer *m;
	pthread_condattr_t ca;
	sigset_t all, old;
	int ret, rc;

	*out = NULL;
	m = xcalloc(1, sizeof(*m));
	m->ob = outbox_new(cfg);
	if (m->ob == NULL) {
		free(m);
		return 0; /* mail is off */
	}
	ret = store_open(&m->st, cfg->db_url, false, err);
	if (ret < 0) {
		outbox_free(m->ob);
		free(m);
		return ret;
	}
	pthread_mutex_init(&m->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&m->cond, &ca);
	pthread_condattr_destroy(&ca);
	/* Signals are the pilot's: the thread starts with them all blocked. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&m->thread, NULL, mailer_main, m);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		pthread_cond_destroy(&m->cond);
		pthread_mutex_destroy(&m->mu);
		store_close(m->st);
		outbox_free(m->ob);
		free(m);
		return err_set(err, ERR_UNAVAILABLE,
		    "cannot start the mail thread: %s", strerror(rc));
	}
	*out = m;
	return 0;
}

void
mailer_kick(struct mailer *m, bool active)
{
	if (m == NULL)
		return;
	pthread_mutex_lock(&m->mu);
	m->active = active;
	m->kicked = true;
	pthread_cond_signal(&m->cond);
	pthread_mutex_unlock(&m->mu);
}

void
mailer_stop(struct mailer *m)
{
	if (m == NULL)
		return;
	pthread_mutex_lock(&m->mu);
	m->stop = true;
	pthread_cond_signal(&m->cond);
	pthread_mutex_unlock(&m->mu);
	pthread_join(m->thread, NULL);
	pthread_cond_destroy(&m->cond);
	pthread_mutex_destroy(&m->mu);
	store_close(m->st);
	outbox_free(m->ob);
	free(m);
}
