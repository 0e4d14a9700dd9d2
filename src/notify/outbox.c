/*
 * outbox.c - the pilot's drain of the mail outbox, at the end of every
 * cycle (docs/internals/mail.md).
 *
 * Bounded: no new sending after the cycle's budget (notify.h) has passed
 * (the one sending in flight is itself bounded by curl's timeouts), so a
 * slow or absent server or a backlog delays placement by no more than
 * that.  A server that
 * cannot be reached holds every mail back, with a wait that doubles up to
 * OUTBOX_HOLD_MAX_MS, kept in memory; a mail the server refuses for now
 * (4xx) waits on its own row (next_ms).  A mail not sent within the
 * give-up time, or refused for good (5xx), or whose address no longer
 * passes the check, is given up with an event.
 *
 * Each mail is marked sent in its own transaction right after the server
 * took it: a pilot killed between the two sends that one mail again when
 * it restarts (with the same Message-ID), and no other.
 */
#include "notify/notify.h"

struct outbox {
	struct smtp *smtp;
	const struct config *cfg;
	int64_t hold_until_ms; /* the server was away: no sending before */
	int64_t hold_ms;       /* the current wait; 0 after a success */
	int64_t pruned_ms;     /* when old rows were last deleted */
};

struct outbox *
outbox_new(const struct config *cfg)
{
	struct outbox *ob;

	if (cfg->smtp_url == NULL || *cfg->smtp_url == '\0')
		return NULL;
	ob = xcalloc(1, sizeof(*ob));
	ob->cfg = cfg;
	ob->smtp = smtp_new(cfg->smtp_url, cfg->mail_from, cfg->smtp_ca);
	return ob;
}

void
outbox_free(struct outbox *ob)
{
	if (ob == NULL)
		return;
	smtp_free(ob->smtp);
	free(ob);
}

static int
outbox_give_up(struct store *st, const struct mail_row *m, int64_t now,
    const char *why, struct outbox_stats *stats, struct buf *err)
{
	int ret;

	log_warn("mail %lld to %s: given up: %s", (long long)m->id, m->rcpt,
	    why);
	ret = store_begin(st, err);
	if (ret == 0)
		ret = store_mail_give_up(st, m, now, why, err);
	ret = store_end(st, ret, err);
	if (ret == 0)
		stats->given_up++;
	return ret;
}

static int64_t
outbox_retry_ms(int64_t attempts)
{
	int64_t ms = OUTBOX_RETRY_MIN_MS;

	while (attempts-- > 0 && ms < OUTBOX_RETRY_MAX_MS)
		ms *= 2;
	return ms < OUTBOX_RETRY_MAX_MS ? ms : OUTBOX_RETRY_MAX_MS;
}

/*
 * One due mail: give it up, send it, or let it wait.  Sets *held when the
 * server could not be reached (no more sending this drain).
 */
static int
outbox_one(struct outbox *ob, struct store *st, const struct mail_row *m,
    bool *held, struct outbox_stats *stats, struct buf *err)
{
	struct mail_header h = { m->id, ob->cfg->mail_from, m->rcpt, m->subject,
		m->created_ms };
	struct buf msg = BUF_INIT, why = BUF_INIT, give = BUF_INIT;
	int64_t now = time_now_ms();
	int rc, ret = 0;

	/*
	 * Too old: given up once it was tried, or while the server is away;
	 * a mail queued before a long stop of the pilot is tried once.
	 */
	if (now - m->created_ms >= ob->cfg->mail_give_up_ms &&
	    (m->attempts > 0 || *held)) {
		buf_adds(&give, "not sent within ");
		time_format_duration(&give, ob->cfg->mail_give_up_ms);
		ret = outbox_give_up(st, m, now, give.data, stats, err);
		goto out;
	}
	if (*held)
		goto out;
	if (mail_format(&msg, &h, m->body, &why) < 0) {
		ret = outbox_give_up(st, m, now, why.data, stats, err);
		goto out;
	}
	rc = smtp_send(ob->smtp, m->rcpt, msg.data, &why);
	now = time_now_ms();
	if (rc == 0) {
		ob->hold_ms = 0;
		ret = store_begin(st, err);
		if (ret == 0)
			ret = store_mail_sent(st, m->id, now, err);
		ret = store_end(st, ret, err);
		if (ret == 0) {
			stats->sent++;
			log_debug("mail %lld sent to %s: %s", (long long)m->id,
			    m->rcpt, m->subject);
		}
		goto out;
	}
	if (rc == ERR_INVALID) {
		ret = outbox_give_up(st, m, now, why.data, stats, err);
		goto out;
	}
	if (rc == ERR_UNAVAILABLE) {
		*held = true;
		ob->hold_ms =
		    ob->hold_ms == 0 ? OUTBOX_HOLD_MIN_MS : ob->hold_ms * 2;
		if (ob->hold_ms > OUTBOX_HOLD_MAX_MS)
			ob->hold_ms = OUTBOX_HOLD_MAX_MS;
		ob->hold_until_ms = now + ob->hold_ms;
		log_warn("mail: %s (trying again in %lld ms)", why.data,
		    (long long)ob->hold_ms);
	} else {
		log_warn("mail %lld to %s: %s (trying again later)",
		    (long long)m->id, m->rcpt, why.data);
	}
	/* Counted on the row, with the error a give-up will name. */
	ret = store_begin(st, err);
	if (ret == 0)
		ret = store_mail_failed(st, m->id,
		    rc == ERR_UNAVAILABLE ? ob->hold_until_ms
		                          : now + outbox_retry_ms(m->attempts),
		    why.data, err);
	ret = store_end(st, ret, err);
	if (ret == 0)
		stats->retried++;
out:
	buf_release(&msg);
	buf_release(&why);
	buf_release(&give);
	return ret;
}

static int
outbox_prune(struct outbox *ob, struct store *st, int64_t now, struct buf *err)
{
	int64_t n = 0;
	int ret;

	ret = store_begin(st, err);
	if (ret == 0)
		ret = store_mail_prune(st, now - OUTBOX_KEEP_MS, &n, err);
	ret = store_end(st, ret, err);
	if (ret < 0)
		return ret;
	ob->pruned_ms = now;
	if (n > 0)
		log_info("mail: %lld old rows deleted", (long long)n);
	return 0;
}

int
outbox_send_now(struct outbox *ob, const store_str_vec *rcpts,
    const char *subject, const char *body)
{
	struct mail_header h = { time_now_ms(), ob->cfg->mail_from, NULL,
		subject, time_now_ms() };
	struct buf msg = BUF_INIT, why = BUF_INIT;
	char *const *r;
	int n = 0;

	VEC_FOREACH (r, rcpts) {
		h.to = *r;
		buf_reset(&msg);
		buf_reset(&why);
		if (mail_format(&msg, &h, body, &why) == 0 &&
		    smtp_send(ob->smtp, *r, msg.data, &why) == 0)
			n++;
		else
			log_warn("mail to %s: %s: %s", *r, subject, why.data);
	}
	buf_release(&msg);
	buf_release(&why);
	return n;
}

/* Out of time, or (past the minimum) wanted elsewhere. */
static bool
outbox_over(const struct outbox_limits *lim, int64_t start)
{
	int64_t ms = (time_mono_ns() - start) / 1000000;

	if (ms >= lim->budget_ms)
		return true;
	return ms >= OUTBOX_MIN_MS && lim->cut != NULL && lim->cut(lim->arg);
}

int
outbox_drain(struct outbox *ob, struct store *st,
    const struct outbox_limits *lim, struct outbox_stats *stats,
    struct buf *err)
{
	mail_row_vec rows = VEC_INIT;
	int64_t start, now, next_ms = 0, tried = 0;
	struct mail_row *m;
	bool held, over = false;
	size_t i;
	int ret = 0;

	memset(stats, 0, sizeof(*stats));
	now = time_now_ms();
	if (now - ob->pruned_ms >= OUTBOX_PRUNE_EVERY_MS) {
		ret = outbox_prune(ob, st, now, err);
		if (ret < 0)
			return ret;
	}
	/* The budget is the sending's: a slow prune must not eat it. */
	start = time_mono_ns();
	held = now < ob->hold_until_ms;
	for (;;) {
		mail_row_vec_release(&rows);
		ret = store_mail_due(st, now, OUTBOX_BATCH, &rows, err);
		if (ret < 0 || rows.n == 0)
			break;
		for (i = 0; i < rows.n && ret == 0; i++) {
			/* One mail at least a drain, however busy: progress. */
			if (tried > 0 && outbox_over(lim, start)) {
				over = true;
				break;
			}
			ret = outbox_one(ob, st, &rows.v[i], &held, stats, err);
			tried++;
		}
		/* Held, every row left is waiting or was given up. */
		if (ret < 0 || over || held || rows.n < OUTBOX_BATCH)
			break;
	}
	if (ret == 0)
		ret = store_mail_pending(st, &stats->pending, &next_ms, err);
	if (ret == 0) {
		now = time_now_ms();
		if (next_ms < ob->hold_until_ms)
			next_ms = ob->hold_until_ms;
		if (stats->pending == 0)
			stats->wait_ms = -1;
		else
			stats->wait_ms = next_ms > now ? next_ms - now : 0;
	}
	VEC_FOREACH (m, &rows)
		mail_row_release(m);
	VEC_RELEASE(&rows);
	return ret;
}
