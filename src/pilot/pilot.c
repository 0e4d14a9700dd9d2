/*
 * pilot.c - the pilot's loop: take the lock, run a cycle, sleep until a
 * change in the database, a job's end, the period, or a signal to stop.
 *
 * A cycle that did something is followed at once by another, so slots
 * freed by ending jobs are refilled without waiting for the period.  A
 * failed cycle (database busy or gone, backend down) is logged and tried
 * again with backoff: the pilot never dies of an outside failure.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include "pilot/pilot-int.h"

/* How often the database is asked whether it changed, when it cannot
 * tell us: well inside the 100 ms a submit may wait. */
#define PILOT_CHANGE_POLL_MS 20
/*
 * When it can (a watch on SQLite's log, PostgreSQL's NOTIFY), a wake-up
 * that finds no change is looked at again after 1, 2, 4 ... ms up to
 * this (an SQLite commit is written to the log a moment before it is
 * visible), and the database is asked at least this often anyway.
 */
#define PILOT_CHANGE_RECHECK_MAX_MS 128
#define PILOT_CHANGE_FALLBACK_MS 1000
/*
 * A failed cycle is retried after 250 ms, doubled up to this: short, so
 * that the first job after an outage starts within about a second of the
 * database's return; a retry is one cheap failed connection attempt.
 */
#define PILOT_BACKOFF_MIN_MS 250
#define PILOT_BACKOFF_MAX_MS 1000
/*
 * When the database's disk is full, nothing comes back by itself within
 * a second: cycles back off further, and say so once (issue 17).
 */
#define PILOT_BACKOFF_FULL_MAX_MS 4000
/* How often a standby pilot tries the lock. */
#define PILOT_STANDBY_MS 500
/* While cycles follow each other, how often their measures are written. */
#define PILOT_STATS_FLUSH_MS 5000

const char *const pilot_be_op_names[PILOT_BE_NOPS] = {
	[PILOT_BE_NODES] = "nodes",
	[PILOT_BE_START] = "start",
	[PILOT_BE_POLL] = "poll",
	[PILOT_BE_LOGS] = "logs",
};

static volatile sig_atomic_t pilot_stop_requested;

static void
pilot_on_signal(int sig)
{
	(void)sig;
	pilot_stop_requested = 1;
}

/* Sleep `ms`, or less when a signal arrives. */
static void
pilot_wait_plain(int64_t ms)
{
	poll(NULL, 0, (int)ms);
}

void
pilot_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = pilot_on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: poll() returns at once. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/*
 * Sleep until the period ends, the database changes, a job ends or a stop
 * is asked for.
 */
static void
pilot_wait(struct pilot *p, int64_t period_ms, bool on_change)
{
	int64_t deadline = time_mono_ns() / 1000000 + period_ms, now, left;
	struct pollfd fds[2] = { { -1, POLLIN, 0 }, { -1, POLLIN, 0 } };
	int cfd, timeout, rc, recheck = 0;
	bool woke;

	/* poll() skips negative descriptors. */
	fds[0].fd = p->be->ops->event_fd(p->be);
	cfd = on_change ? store_change_fd(p->st) : -1;
	fds[1].fd = cfd;
	while (!pilot_stop_requested) {
		now = time_mono_ns() / 1000000;
		left = deadline - now;
		if (left <= 0)
			return;
		timeout = on_change ? (cfd >= 0 ? PILOT_CHANGE_FALLBACK_MS
		                                : PILOT_CHANGE_POLL_MS)
		                    : (int)left;
		if (recheck > 0 && recheck < timeout)
			timeout = recheck;
		if (left < timeout)
			timeout = (int)left;
		rc = poll(fds, 2, timeout);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc > 0 && (fds[0].revents & POLLIN) &&
		    p->be->ops->drain_events(p->be))
			return;
		woke = rc > 0 && (fds[1].revents & POLLIN);
		if (on_change && store_changed(p->st))
			return;
		/* Woken for nothing (yet): look again shortly. */
		if (woke)
			recheck = 1;
		else if (recheck > 0)
			recheck = recheck * 2 > PILOT_CHANGE_RECHECK_MAX_MS
			    ? 0
			    : recheck * 2;
	}
}

bool
pilot_has_work(void *arg)
{
	struct pilot *p = arg;
	struct pollfd fd = { -1, POLLIN, 0 };

	if (pilot_stop_requested)
		return true;
	fd.fd = p->be->ops->event_fd(p->be);
	if (fd.fd >= 0 && poll(&fd, 1, 0) > 0 && (fd.revents & POLLIN) &&
	    p->be->ops->drain_events(p->be))
		return true;
	return store_changed(p->st);
}

#define PILOT_ADMINS_EVERY_MS 60000

static void
pilot_admins_release(struct pilot *p)
{
	char **a;

	VEC_FOREACH (a, &p->admins)
		free(*a);
	VEC_RELEASE(&p->admins);
}

/*
 * The alarm: when every cycle has failed for ORCHESTRA_MAIL_ALARM, mail
 * the admins once, straight (the database may be what fails, so not
 * through the outbox), to the addresses read while cycles worked; once a
 * cycle works again, mail them that it recovered.  `ok` tells how the
 * cycle went, `error` why it failed.
 */
static void
pilot_alarm(struct pilot *p, bool ok, const char *error)
{
	struct buf subject = BUF_INIT, body = BUF_INIT, ignored = BUF_INIT;
	int64_t now = time_now_ms();
	char host[256] = "";

	if (p->outbox == NULL)
		return;
	if (ok && now - p->admins_ms >= PILOT_ADMINS_EVERY_MS) {
		pilot_admins_release(p);
		if (store_mail_admins(p->st, &p->admins, &ignored) == 0)
			p->admins_ms = now;
	}
	if (ok && p->failing_ms == 0)
		goto out;
	if (!ok && p->failing_ms == 0)
		p->failing_ms = now;
	if (!ok && (p->alarmed || now - p->failing_ms < p->cfg->mail_alarm_ms))
		goto out;
	if (gethostname(host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "%s", "?");
	host[sizeof(host) - 1] = '\0';
	if (ok && p->alarmed) {
		mail_pilot_alarm(host, false, p->failing_ms, NULL, &subject,
		    &body);
		log_info("pilot recovered: told %d admin(s)",
		    outbox_send_now(p->outbox, &p->admins, subject.data,
		        body.data));
	} else if (!ok) {
		mail_pilot_alarm(host, true, p->failing_ms, error, &subject,
		    &body);
		log_error("cycles failing since %lld ms ago: told %d admin(s)",
		    (long long)(now - p->failing_ms),
		    outbox_send_now(p->outbox, &p->admins, subject.data,
		        body.data));
	}
	p->alarmed = !ok;
	if (ok)
		p->failing_ms = 0;
out:
	buf_release(&subject);
	buf_release(&body);
	buf_release(&ignored);
}

/*
 * Take the one-pilot lock.  Where the database lets a second pilot wait
 * (PostgreSQL), wait as a standby until the active one is gone; else (an
 * SQLite file) give up at once.  0, or ERR_* (a stop asked for while
 * waiting is ERR_UNAVAILABLE).
 */
static int
pilot_take_lock(struct pilot *p, bool standby, struct buf *err)
{
	bool said = false;
	int ret;

	for (;;) {
		ret = store_pilot_lock(p->st, err);
		if (ret == 0) {
			if (said)
				log_info("the other pilot is gone: this one is "
				         "active now");
			return 0;
		}
		if (!standby || !store_pilot_standby(p->st) ||
		    (ret != ERR_CONFLICT && ret != ERR_UNAVAILABLE))
			return ret;
		if (!said)
			log_info("standby: %s; waiting to take over",
			    err->data);
		said = true;
		pilot_wait_plain(PILOT_STANDBY_MS);
		if (pilot_stop_requested)
			return err_set(err, ERR_UNAVAILABLE,
			    "stopped while standing by");
	}
}

static int
pilot_cmp_held(const void *a, const void *b)
{
	const struct job_held *x = a, *y = b;

	if (x->job_id != y->job_id)
		return x->job_id < y->job_id ? -1 : 1;
	return x->attempt < y->attempt ? -1 : x->attempt > y->attempt;
}

/*
 * At start-up, forget what the backend keeps of jobs whose end is
 * recorded already: a pilot that died between recording an end and
 * release() left it behind.  Jobs holding a slot are left to the cycle.
 */
static void
pilot_sweep(struct pilot *p)
{
	backend_ref_vec refs = VEC_INIT, stale = VEC_INIT;
	backend_status_vec sts = VEC_INIT;
	job_held_vec held = VEC_INIT;
	struct buf err = BUF_INIT;
	struct job_held key;
	struct backend_ref *r;
	size_t i;

	if (p->be->ops->handles(p->be, &refs, &err) < 0 ||
	    store_job_held(p->st, &held, &err) < 0) {
		log_warn("start-up sweep skipped: %s", err.data);
		goto out;
	}
	if (held.n > 0)
		qsort(held.v, held.n, sizeof(*held.v), pilot_cmp_held);
	VEC_FOREACH (r, &refs) {
		key.job_id = r->job_id;
		key.attempt = r->attempt;
		if (held.n == 0 ||
		    bsearch(&key, held.v, held.n, sizeof(*held.v),
		        pilot_cmp_held) == NULL)
			VEC_PUSH(&stale, *r);
	}
	if (stale.n == 0 ||
	    p->be->ops->poll(p->be, stale.v, stale.n, &sts, &err) < 0)
		goto out;
	for (i = 0; i < sts.n; i++) {
		if (sts.v[i].state == BACKEND_RUNNING) {
			log_warn("job %lld attempt %lld runs, but the database "
			         "does not know it running: left alone",
			    (long long)sts.v[i].ref.job_id,
			    (long long)sts.v[i].ref.attempt);
			continue;
		}
		/* Its tail may not be kept yet: read it before the release. */
		if (sts.v[i].state == BACKEND_ENDED &&
		    p->be->ops->spare != NULL)
			VEC_PUSH(&p->owed, sts.v[i].ref);
		else
			p->be->ops->release(p->be, &sts.v[i].ref, &err);
	}
out:
	VEC_RELEASE(&refs);
	VEC_RELEASE(&stale);
	VEC_RELEASE(&sts);
	VEC_RELEASE(&held);
	buf_release(&err);
}

/* Count one cycle: its duration when it succeeded, else a failure. */
static void
pilot_stats_cycle(struct pilot *p, int ret, int64_t took_ns)
{
	const struct stat_hist_def *d = &stat_hists[STAT_PILOT_CYCLE];
	int64_t us = took_ns / 1000, le;
	size_t i;

	p->stats.pending = true;
	if (ret < 0) {
		p->stats.cycle_failures++;
		return;
	}
	p->beat.last_cycle_ms = time_now_ms();
	le = stat_hist_le(STAT_PILOT_CYCLE, us);
	for (i = 0; i < d->nbounds; i++)
		if (d->bounds_us[i] == le)
			break;
	p->stats.cycle_count[i]++;
	p->stats.cycle_sum_us[i] += us;
}

/*
 * Write the measures kept since the last write to the store, in a
 * transaction of their own: when `force`, or when the last write is
 * PILOT_STATS_FLUSH_MS old.  A failure keeps them for the next try.
 */
static void
pilot_stats_flush(struct pilot *p, bool force)
{
	const struct stat_hist_def *d = &stat_hists[STAT_PILOT_CYCLE];
	struct pilot_stats *ps = &p->stats;
	int64_t now = time_mono_ns() / 1000000;
	struct buf err = BUF_INIT;
	size_t i;
	int ret;

	if (!ps->pending ||
	    (!force && now - ps->flushed_ms < PILOT_STATS_FLUSH_MS))
		return;
	ret = store_begin(p->st, &err);
	for (i = 0; i <= d->nbounds && ret == 0; i++)
		if (ps->cycle_count[i] > 0)
			ret = store_stat_add(p->st, d->name, "",
			    i < d->nbounds ? d->bounds_us[i] : -1,
			    ps->cycle_count[i], ps->cycle_sum_us[i], &err);
	for (i = 0; i < PILOT_BE_NOPS && ret == 0; i++)
		if (ps->backend_errors[i] > 0)
			ret = store_stat_add(p->st, STAT_BACKEND_ERRORS,
			    pilot_be_op_names[i], 0, ps->backend_errors[i], 0,
			    &err);
	if (ret == 0 && ps->cycle_failures > 0)
		ret = store_stat_add(p->st, STAT_CYCLE_FAILURES, "", 0,
		    ps->cycle_failures, 0, &err);
	if (ret == 0 && p->beat.last_cycle_ms > 0)
		ret = store_pilot_beat_set(p->st, &p->beat, &err);
	ret = store_end(p->st, ret, &err);
	if (ret < 0) {
		log_debug("measures kept for later: %s", err.data);
	} else {
		memset(ps, 0, sizeof(*ps));
		ps->flushed_ms = now;
	}
	buf_release(&err);
}

/* Who this pilot is, for its heartbeat (written by pilot_stats_flush). */
static void
pilot_beat_init(struct pilot *p, const struct pilot_opts *o)
{
	memset(&p->beat, 0, sizeof(p->beat));
	p->beat.known = true;
	if (gethostname(p->beat.host, sizeof(p->beat.host)) < 0)
		snprintf(p->beat.host, sizeof(p->beat.host), "%s", "?");
	p->beat.host[sizeof(p->beat.host) - 1] = '\0';
	p->beat.pid = (int64_t)getpid();
	p->beat.started_ms = time_now_ms();
	p->beat.interval_ms = o->interval_ms;
}

/*
 * Say that this pilot stopped, so that no one waits three periods to know
 * (a pilot that dies says nothing: its beat goes stale).  Best effort.
 */
static void
pilot_beat_stop(struct pilot *p)
{
	struct buf err = BUF_INIT;

	if (p->beat.last_cycle_ms > 0 &&
	    store_pilot_beat_stop(p->st, &p->beat, time_now_ms(), &err) < 0)
		log_warn("could not record the pilot's stop: %s", err.data);
	buf_release(&err);
}

/*
 * Every cycle, for bench/bench-kube.sh and bench-mail.sh: what it did,
 * when it began (epoch ms), how long it took, and its drain when it
 * drained (no mail thread).
 */
static void
pilot_log_cycle(const struct pilot *p, const struct cycle_stats *stats,
    int64_t began_ms, int64_t began_ns)
{
	struct buf mail = BUF_INIT;

	if (p->outbox != NULL && p->mailer == NULL)
		buf_addf(&mail,
		    " (mail %.1f ms: %lld sent, %lld retried, %lld given up, "
		    "%lld waiting)",
		    stats->mail_ns / 1e6, (long long)stats->mail.sent,
		    (long long)stats->mail.retried,
		    (long long)stats->mail.given_up,
		    (long long)stats->mail.pending);
	log_debug("cycle: %lld launched, %lld ended, %lld requeued, %lld "
	          "tasks changed, %lld stopped; began %lld, took %.1f ms "
	          "(tasks %.1f, launches %.1f, news %.1f)%s",
	    (long long)stats->launched, (long long)stats->ended,
	    (long long)stats->requeued, (long long)stats->tasks_changed,
	    (long long)stats->stopped,
	    (long long)began_ms, (double)(time_mono_ns() - began_ns) / 1e6,
	    stats->tasks_ns / 1e6, stats->launch_ns / 1e6,
	    stats->poll_ns / 1e6, mail.data);
	buf_release(&mail);
}

int
pilot_run(struct pilot *p, const struct pilot_opts *o, struct buf *err)
{
	struct cycle_stats stats;
	struct buf cerr = BUF_INIT;
	int64_t backoff = 0, began_ms = 0, began_ns = 0, wait_ms, usage_ms;
	bool damaged = false, full;
	int ret;

	pilot_signals(); /* again: harmless, and callers may forget */
	/* One cycle (--once) is no reason to stand by. */
	ret = pilot_take_lock(p, !o->once, err);
	if (ret < 0)
		return pilot_stop_requested ? 0 : ret;
	/*
	 * A malformed database is no outage to ride out: a cycle would
	 * write the node's health and its own failure on it, and fail
	 * again forever.  Look before writing anything, and stop.
	 */
	ret = store_check(p->st, &cerr);
	if (ret < 0) {
		err_set(err, ret, "%s: the pilot does not run on it",
		    cerr.data);
		buf_release(&cerr);
		return ret;
	}
	/* Arm the change check and the end events before the first cycle. */
	store_changed(p->st);
	p->be->ops->event_fd(p->be);
	pilot_sweep(p);
	p->outbox = outbox_new(p->cfg);
	store_mail_enable(p->st, p->outbox != NULL, p->cfg->retention_ms);
	if (p->outbox == NULL)
		log_info("mail off: ORCHESTRA_SMTP_URL is not set, no mail is "
		         "queued");
	/* One cycle (--once) drains in the cycle, bounded. */
	if (p->outbox != NULL && !o->once &&
	    mailer_start(&p->mailer, p->cfg, &cerr) < 0)
		log_warn("no mail thread: %s; the cycles drain the outbox",
		    cerr.data);
	pilot_beat_init(p, o);
	buf_reset(&cerr);
	util_redact_url(&cerr, p->cfg->db_url);
	log_info(
	    "pilot started: database %s, backend %s, rule %s, period %llds",
	    cerr.data, p->be->ops->name, p->rule->name,
	    (long long)(o->interval_ms / 1000));
	while (!pilot_stop_requested) {
		buf_reset(&cerr);
		ret = store_pilot_check(p->st, &cerr);
		if (ret == ERR_CONFLICT) {
			/* Our connection was lost, and another took over:
			 * no sending until the lock is ours again. */
			mailer_kick(p->mailer, false);
			log_warn("lost the pilot lock: %s", cerr.data);
			ret = pilot_take_lock(p, !o->once, err);
			if (ret < 0)
				break;
			continue;
		}
		if (ret == 0) {
			began_ms = time_now_ms();
			began_ns = time_mono_ns();
			ret = cycle_run(p, &stats, &cerr);
			pilot_stats_cycle(p, ret, time_mono_ns() - began_ns);
			/* The cycle's mails, and any written by others. */
			mailer_kick(p->mailer, true);
		}
		if (ret < 0 && store_damaged(p->st)) {
			/* Write nothing more on it: no measures, no beat. */
			log_error("the database is malformed, the pilot stops: "
			          "%s",
			    cerr.data);
			err_set(err, ret, "%s: the pilot stopped", cerr.data);
			damaged = true;
			break;
		}
		if (!o->once)
			pilot_alarm(p, ret == 0, cerr.data);
		if (ret < 0) {
			if (o->once) {
				err_set(err, ret, "%s", cerr.data);
				break;
			}
			if (pilot_stop_requested) {
				ret = 0;
				break;
			}
			backoff =
			    backoff == 0 ? PILOT_BACKOFF_MIN_MS : backoff * 2;
			full = store_full(p->st);
			if (backoff > (full ? PILOT_BACKOFF_FULL_MAX_MS
			                    : PILOT_BACKOFF_MAX_MS))
				backoff = full ? PILOT_BACKOFF_FULL_MAX_MS
				               : PILOT_BACKOFF_MAX_MS;
			if (full && !p->full)
				log_error(
				    "cycle failed: %s; retrying every "
				    "%lld ms at most until the database's "
				    "disk has space",
				    cerr.data,
				    (long long)PILOT_BACKOFF_FULL_MAX_MS);
			else if (full)
				log_debug("cycle failed: %s (retrying in %lld "
				          "ms)",
				    cerr.data, (long long)backoff);
			else
				log_error("cycle failed: %s (retrying in %lld "
				          "ms)",
				    cerr.data, (long long)backoff);
			p->full = full;
			/* The database may be the thing that is down: do not
			 * let it wake us. */
			pilot_wait(p, backoff, false);
			continue;
		}
		backoff = 0;
		if (p->full)
			log_info("the database has space again: cycles go on");
		p->full = false;
		pilot_log_cycle(p, &stats, began_ms, began_ns);
		if (o->once)
			break;
		/*
		 * Go on at once after progress; a requeue alone waits for the
		 * next wake-up, so a failing infrastructure is not hammered.
		 */
		if (stats.launched || stats.ended || stats.tasks_changed ||
		    p->stops_cut || stats.mail.wait_ms == 0) {
			pilot_stats_flush(p, false);
			continue;
		}
		pilot_stats_flush(p, true);
		/* A mail to retry comes due before the period ends. */
		wait_ms = o->interval_ms;
		if (stats.mail.wait_ms > 0 && stats.mail.wait_ms < wait_ms)
			wait_ms = stats.mail.wait_ms;
		/* So does the next usage sample, when sampled more often. */
		usage_ms = cycle_usage_due_ms(p);
		if (usage_ms < wait_ms)
			wait_ms = usage_ms;
		/* Tails owed are read as the backend's rate allows. */
		if (p->owed.n > 0 && PILOT_OWED_AGAIN_MS < wait_ms)
			wait_ms = PILOT_OWED_AGAIN_MS;
		pilot_wait(p, wait_ms, true);
	}
	if (!damaged) {
		pilot_stats_flush(p, true);
		pilot_beat_stop(p);
	}
	if (pilot_stop_requested && !damaged)
		ret = 0; /* asked to stop: not a failure, whatever came last */
	if (!o->once)
		log_info("pilot stopped; running jobs go on");
	mailer_stop(p->mailer);
	p->mailer = NULL;
	outbox_free(p->outbox);
	p->outbox = NULL;
	pilot_admins_release(p);
	pilot_account_vec_release(&p->accounts);
	VEC_RELEASE(&p->owed);
	backend_node_vec_release(&p->health);
	buf_release(&cerr);
	return ret;
}

/*
 * Open the database.  A database server that cannot be reached at
 * start-up is waited for, like an outage while running: one line, then
 * retries with the cycles' backoff until it answers or a stop is asked
 * for (an SQLite file, and --once, fail at once).
 */
static int
pilot_open_store(struct pilot *p, const struct pilot_opts *o, struct buf *err)
{
	char *file = store_url_file(p->cfg->db_url);
	bool server = file == NULL;
	struct buf url = BUF_INIT;
	int64_t backoff = PILOT_BACKOFF_MIN_MS;
	int ret;

	free(file);
	for (;;) {
		buf_reset(err);
		ret = store_open(&p->st, p->cfg->db_url, false, err);
		if (ret != ERR_UNAVAILABLE || !server || o->once)
			break;
		if (url.len == 0) {
			util_redact_url(&url, p->cfg->db_url);
			log_error("database %s unreachable at start-up: %s "
			          "(retrying every %lld ms at most)",
			    url.data, err->data,
			    (long long)PILOT_BACKOFF_MAX_MS);
		}
		pilot_wait_plain(backoff);
		if (pilot_stop_requested) {
			ret = err_set(err, ERR_UNAVAILABLE,
			    "stopped while waiting for the database");
			break;
		}
		backoff *= 2;
		if (backoff > PILOT_BACKOFF_MAX_MS)
			backoff = PILOT_BACKOFF_MAX_MS;
	}
	if (ret == 0 && url.len > 0)
		log_info("the database answers: starting");
	buf_release(&url);
	return ret;
}

int
pilot_main(const struct config *cfg, const struct pilot_opts *o,
    struct buf *err)
{
	struct pilot p = { 0 };
	struct buf where = BUF_INIT;
	const char *env;
	int ret;

	p.cfg = cfg;
	env = config_env(cfg, CONFIG_USAGE_EVERY);
	if (env != NULL &&
	    (time_parse_duration(env, &p.usage_every_ms, err) < 0 ||
	        p.usage_every_ms < 1000)) {
		config_env_where(cfg, CONFIG_USAGE_EVERY, &where);
		ret = err_set(err, ERR_INVALID,
		    "invalid %s '%s': a duration of 1s or more", where.data,
		    env);
		buf_release(&where);
		return ret;
	}
	p.chunk = TASK_QUEUE_CHUNK_FIRST;
	/* A test knob: tiny chunks, to see a task queued over cycles. */
	env = getenv("ORCHESTRA_TEST_QUEUE_CHUNK");
	if (env != NULL &&
	    util_parse_int64(env, 1, INT64_MAX, &p.queue_chunk) < 0)
		return err_set(err, ERR_INVALID,
		    "invalid ORCHESTRA_TEST_QUEUE_CHUNK '%s': a number of 1 or more",
		    env);
	p.rule = prio_rule_find(cfg->priority_rule);
	if (p.rule == NULL)
		return err_set(err, ERR_INVALID, "unknown priority rule '%s'",
		    cfg->priority_rule);
	/* Our own connection: the pilot and the service never meet. */
	pilot_signals();
	ret = pilot_open_store(&p, o, err);
	if (ret < 0) {
		if (pilot_stop_requested)
			ret = 0; /* asked to stop while waiting */
		goto out;
	}
	ret = backend_open(&p.be, cfg, err);
	if (ret < 0)
		goto out;
	ret = pilot_run(&p, o, err);
out:
	backend_close(p.be);
	store_close(p.st);
	return ret;
}
