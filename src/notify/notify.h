/*
 * notify.h - mail: the sender over SMTP (smtp.c), the drain of the outbox
 * (outbox.c) and the pilot's mail thread that runs it (mailer.c).  The
 * rows themselves are written by the store in the transactions of the
 * events that cause them (store-mail.c).
 */
#ifndef ORCHESTRA_NOTIFY_H
#define ORCHESTRA_NOTIFY_H

#include "store/store.h"
#include "util/config.h"

/* ---- SMTP through libcurl (smtp.c) ----------------------------------- */

/*
 * A sender for one server, keeping its connection between mails.  `url`
 * is smtp://[user:password@]host[:port] (STARTTLS: required when a login
 * is given, else used when the server offers it) or smtps://… (TLS from
 * the start).  `ca` (NULL: the system's) is the CA file that checks the
 * server's certificate.  The strings are copied.  Caller frees with
 * smtp_free().
 */
struct smtp;
struct smtp *smtp_new(const char *url, const char *from, const char *ca);
void smtp_free(struct smtp *s);

/*
 * Send one whole message (headers and body, CRLF lines) to `rcpt`.
 * Returns 0 when the server took it; ERR_UNAVAILABLE when the server
 * could not be reached, answered nothing, or refused the connection's
 * TLS or login, or MAIL FROM (every mail waits: retry later);
 * ERR_CONFLICT when it refused this mail for now (4xx); ERR_INVALID when
 * it refused it for good (5xx).  `err` says what happened, with no
 * password in it.
 */
int smtp_send(struct smtp *s, const char *rcpt, const char *msg,
    struct buf *err);
/*
 * Check that the server of `s` takes mail from us, sending none: on a
 * connection of its own (a few seconds at most), the greeting, EHLO,
 * STARTTLS (required with a login, else used when offered), the login,
 * then NOOP.  0, or ERR_UNAVAILABLE with what failed in `err`, with no
 * password in it.  (`orchestra doctor`.)
 */
int smtp_check(struct smtp *s, struct buf *err);

/* ---- the outbox drain (outbox.c) ------------------------------------- */

/*
 * Bounds of one drain: how much of a cycle mail may take.  A cycle that
 * moved jobs or tasks gives the drain as long as its own work took (at
 * least OUTBOX_MIN_MS), so a backlog of mail at most halves the pilot's
 * pace; an idle cycle gives it OUTBOX_IDLE_MS.  Past OUTBOX_MIN_MS the
 * drain also stops as soon as the pilot has something to do (a job ended,
 * a submit): the pilot goes on at once while mail is due, so the next
 * cycle comes without a wait.
 */
#define OUTBOX_BATCH 100 /* rows read at a time */
#define OUTBOX_MIN_MS 20
#define OUTBOX_IDLE_MS 250
/* Sent and given-up mails are kept this long (their events stay). */
#define OUTBOX_KEEP_MS (30 * 86400000LL)
#define OUTBOX_PRUNE_EVERY_MS 3600000

struct outbox_limits {
	int64_t budget_ms;      /* no new sending after this (one at least) */
	bool (*cut)(void *arg); /* past OUTBOX_MIN_MS: stop now? */
	void *arg;
};
#define OUTBOX_HOLD_MIN_MS 1000   /* first wait after the server was away */
#define OUTBOX_HOLD_MAX_MS 300000 /* the longest such wait */
#define OUTBOX_RETRY_MIN_MS 2000  /* first wait after a 4xx for one mail */
#define OUTBOX_RETRY_MAX_MS 3600000

struct outbox;

/* NULL when no SMTP server is configured (mail is off).  `cfg` borrowed. */
struct outbox *outbox_new(const struct config *cfg);
void outbox_free(struct outbox *ob);

struct outbox_stats {
	int64_t sent;
	int64_t retried; /* failed this time, tried again later */
	int64_t given_up;
	int64_t pending; /* still to send after this drain */
	int64_t wait_ms; /* when the next sending is due: 0 now, -1 never */
};

/*
 * Send the mails that are due, within the limits (`lim->cut` may be NULL)
 * (and, once an hour, delete the rows of mails done with for 30 days):
 * each one marked sent in its own transaction as soon as the server took
 * it; a mail older than the give-up time is given up (with an event)
 * instead.  Returns 0 or the store's ERR_* (an SMTP failure is no error:
 * the mail waits).
 */
int outbox_drain(struct outbox *ob, struct store *st,
    const struct outbox_limits *lim, struct outbox_stats *stats,
    struct buf *err);

/*
 * Send one mail now, straight to each of `rcpts`, without the outbox (the
 * database may be what fails: the pilot's alarm).  Returns how many took
 * it; failures are logged.
 */
int outbox_send_now(struct outbox *ob, const store_str_vec *rcpts,
    const char *subject, const char *body);

/* ---- the pilot's mail thread (mailer.c) ------------------------------ */

/*
 * The outbox drained by a thread of the pilot's, on a store connection
 * of its own: a backlog or a slow server never holds up a cycle.  It
 * drains after each kick and when a waiting mail comes due, without a
 * budget, and stops between two mails when asked to or when no longer
 * active.  `cfg` is borrowed.  *out is NULL when mail is off (0
 * returned); ERR_* when the database or the thread could not be had.
 */
struct mailer;
int mailer_start(struct mailer **out, const struct config *cfg,
    struct buf *err);

/*
 * Drain what is due (mail rows were committed, or a cycle ended).
 * `active`: the pilot holds its lock, so this process may send (false:
 * the thread stops sending until a kick says true again).  NULL is
 * ignored.
 */
void mailer_kick(struct mailer *m, bool active);

/* Finish the mail in flight, stop the thread, free it.  NULL is ignored. */
void mailer_stop(struct mailer *m);

#endif
