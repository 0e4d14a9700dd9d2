/*
 * store-mail.c - the outbox: mails queued in the transaction of the event
 * that causes them, and what the pilot's drain reads and writes.
 */
#include "store/store-int.h"

static const char sql_mail_task[] =
    "SELECT t.account_id, a.username, t.name, t.status, a.email, a.mail,"
    " coalesce(t.ended_ms, 0), coalesce(t.retention_ms, $2)"
    " FROM task t JOIN account a ON a.id = t.account_id WHERE t.id = $1";
static const char sql_mail_admins[] =
    "SELECT id, email FROM account"
    " WHERE role = 'admin' AND mail = 1 AND email <> '' ORDER BY id";
static const char sql_mail_insert[] =
    "INSERT INTO mail (created_ms, kind, account_id, task_id, node_id, rcpt,"
    " subject, body, next_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $1)";
static const char sql_mail_due[] =
    "SELECT id, created_ms, kind, account_id, task_id, node_id, rcpt,"
    " subject, body, attempts FROM mail"
    " WHERE sent_ms IS NULL AND gave_up_ms IS NULL AND next_ms <= $1"
    " ORDER BY next_ms, id LIMIT $2";
static const char sql_mail_sent[] =
    "UPDATE mail SET sent_ms = $2, attempts = attempts + 1,"
    " last_error = NULL WHERE id = $1 AND sent_ms IS NULL";
/*
 * A failed sending always moves the next attempt later (the mail was due):
 * a row already waiting until `next_ms` or later has this failure counted.
 */
static const char sql_mail_failed[] =
    "UPDATE mail SET attempts = attempts + 1, next_ms = $2,"
    " last_error = $3 WHERE id = $1 AND sent_ms IS NULL"
    " AND gave_up_ms IS NULL AND next_ms < $2";
static const char sql_mail_give_up[] =
    "UPDATE mail SET gave_up_ms = $2, last_error = $3"
    " WHERE id = $1 AND sent_ms IS NULL AND gave_up_ms IS NULL";
static const char sql_retention_mark[] =
    "UPDATE task SET dirty = 1, marks = marks + 1"
    " WHERE status IN ('done', 'finalized', 'broken', 'killed')"
    " AND dirty = 0 AND ended_ms IS NOT NULL"
    " AND coalesce(retention_ms, $1) > 0"
    " AND ended_ms + coalesce(retention_ms, $1) <= $2";
static const char sql_retention_due[] =
    "SELECT id, ended_ms, coalesce(retention_ms, $1), warned FROM task"
    " WHERE status IN ('done', 'finalized', 'broken', 'killed')"
    " AND ended_ms IS NOT NULL AND warned < 2"
    " AND coalesce(retention_ms, $1) > 0"
    " AND ended_ms + coalesce(retention_ms, $1) / 2 <= $2 ORDER BY id";
static const char sql_retention_warned[] =
    "UPDATE task SET warned = $3 WHERE id = $1 AND warned = $2"
    " AND status IN ('done', 'finalized', 'broken', 'killed')";
static const char sql_mail_prune[] =
    "DELETE FROM mail WHERE sent_ms < $1 OR gave_up_ms < $1";
static const char sql_mail_next[] =
    "SELECT count(*), coalesce(min(next_ms), 0) FROM mail"
    " WHERE sent_ms IS NULL AND gave_up_ms IS NULL";

void
store_mail_enable(struct store *st, bool on, int64_t retention_ms)
{
	st->mail_on = on;
	st->retention_ms = retention_ms;
}

static int
store_mail_insert(struct store *st, int64_t now, const char *kind,
    int64_t account_id, int64_t task_id, int64_t node_id, const char *rcpt,
    const char *subject, const char *body, struct buf *err)
{
	int ret;

	/* Ids are positive; 0 (none) is NULL. */
	ret = store_exec(st, sql_mail_insert, err, NULL, "isIIIsss", now, kind,
	    account_id, task_id, node_id, rcpt, subject, body);
	if (ret == 0)
		st->mail_queued = true;
	return ret;
}

bool
store_mail_queued(struct store *st)
{
	bool queued = st->mail_queued;

	st->mail_queued = false;
	return queued;
}

int
store_mail_task(struct store *st, int64_t task_id, const char *kind,
    int64_t now, struct buf *err)
{
	struct db_stmt *stmt = NULL;
	struct buf name = BUF_INIT, subject = BUF_INIT, body = BUF_INIT;
	int64_t counts[JOB_NSTATUS], account_id, ended, period, remove_at;
	enum task_status status;
	char *rcpt = NULL;
	bool wants;
	int ret;

	if (!st->mail_on)
		return 0;
	ret = store_query(st, &stmt, sql_mail_task, err, "ii", task_id,
	    st->retention_ms);
	if (ret < 0)
		goto out;
	ret = store_step(st, stmt, err);
	if (ret == DB_DONE)
		ret = err_set(err, ERR_NOTFOUND, "no task %lld",
		    (long long)task_id);
	if (ret < 0)
		goto out;
	account_id = st->drv->col_int64(stmt, 0);
	names_task_full(&name, st->drv->col_text(stmt, 1),
	    st->drv->col_text(stmt, 2));
	ret = task_status_parse(st->drv->col_text(stmt, 3), &status, err);
	if (ret < 0)
		goto out;
	rcpt = store_col_strdup(st, stmt, 4);
	wants =
	    st->drv->col_int64(stmt, 5) != 0 && rcpt != NULL && *rcpt != '\0';
	ended = st->drv->col_int64(stmt, 6);
	period = st->drv->col_int64(stmt, 7);
	st->drv->finalize(stmt);
	stmt = NULL;
	ret = 0;
	if (!wants)
		goto out;
	ret = store_task_count_jobs(st, task_id, counts, err);
	if (ret < 0)
		goto out;
	remove_at = period > 0 ? (ended > 0 ? ended : now) + period : 0;
	if (strcmp(kind, "task-end") == 0)
		mail_task_end(name.data, status, counts, remove_at, &subject,
		    &body);
	else
		mail_retention_warning(name.data, status, counts, remove_at,
		    &subject, &body);
	ret = store_mail_insert(st, now, kind, account_id, task_id, 0, rcpt,
	    subject.data, body.data, err);
out:
	st->drv->finalize(stmt);
	free(rcpt);
	buf_release(&name);
	buf_release(&subject);
	buf_release(&body);
	return ret;
}

int
store_mail_node(struct store *st, int64_t node_id, const char *name,
    bool healthy, const char *detail, int64_t now, struct buf *err)
{
	struct db_stmt *stmt = NULL;
	struct buf subject = BUF_INIT, body = BUF_INIT;
	VEC(struct account) admins = VEC_INIT;
	struct account *a;
	int ret;

	if (!st->mail_on)
		return 0;
	ret = store_prepare(st, &stmt, sql_mail_admins, err);
	if (ret < 0)
		return ret;
	while ((ret = store_step(st, stmt, err)) == DB_ROW) {
		a = VEC_ADD(&admins);
		memset(a, 0, sizeof(*a));
		a->id = st->drv->col_int64(stmt, 0);
		a->email = store_col_strdup(st, stmt, 1);
	}
	st->drv->finalize(stmt);
	mail_node_health(name, healthy, detail, &subject, &body);
	VEC_FOREACH (a, &admins) {
		if (ret == 0)
			ret = store_mail_insert(st, now,
			    healthy ? "node-recovered" : "node-unhealthy",
			    a->id, 0, node_id, a->email, subject.data,
			    body.data, err);
		free(a->email);
	}
	VEC_RELEASE(&admins);
	buf_release(&subject);
	buf_release(&body);
	return ret;
}

int
store_retention_mark(struct store *st, int64_t now, int64_t *n, struct buf *err)
{
	return store_exec(st, sql_retention_mark, err, n, "ii",
	    st->retention_ms, now);
}

int
store_retention_due(struct store *st, int64_t now, retention_due_vec *out,
    struct buf *err)
{
	struct db_stmt *stmt = NULL;
	struct retention_due *r;
	int ret;

	ret = store_query(st, &stmt, sql_retention_due, err, "ii",
	    st->retention_ms, now);
	if (ret < 0)
		return ret;
	while ((ret = store_step(st, stmt, err)) == DB_ROW) {
		r = VEC_ADD(out);
		r->task_id = st->drv->col_int64(stmt, 0);
		r->ended_ms = st->drv->col_int64(stmt, 1);
		r->period_ms = st->drv->col_int64(stmt, 2);
		r->warned = st->drv->col_int64(stmt, 3);
	}
	st->drv->finalize(stmt);
	return ret;
}

int
store_retention_warn(struct store *st, int64_t task_id, int64_t from,
    int64_t to, const char *kind, int64_t now, bool *done, struct buf *err)
{
	int64_t changes = 0;
	int ret;

	*done = false;
	ret = store_exec(st, sql_retention_warned, err, &changes, "iii",
	    task_id, from, to);
	if (ret < 0 || changes == 0)
		return ret;
	*done = true;
	return store_mail_task(st, task_id, kind, now, err);
}

void
mail_row_release(struct mail_row *m)
{
	free(m->kind);
	free(m->rcpt);
	free(m->subject);
	free(m->body);
	memset(m, 0, sizeof(*m));
}

void
mail_row_vec_release(mail_row_vec *v)
{
	struct mail_row *m;

	VEC_FOREACH (m, v)
		mail_row_release(m);
	VEC_RELEASE(v);
}

int
store_mail_due(struct store *st, int64_t now, int64_t limit, mail_row_vec *out,
    struct buf *err)
{
	struct db_stmt *stmt = NULL;
	struct mail_row *m;
	int ret;

	ret = store_query(st, &stmt, sql_mail_due, err, "ii", now, limit);
	if (ret < 0)
		return ret;
	while ((ret = store_step(st, stmt, err)) == DB_ROW) {
		m = VEC_ADD(out);
		m->id = st->drv->col_int64(stmt, 0);
		m->created_ms = st->drv->col_int64(stmt, 1);
		m->kind = store_col_strdup(st, stmt, 2);
		m->account_id = store_col_int64_or(st, stmt, 3, 0);
		m->task_id = store_col_int64_or(st, stmt, 4, 0);
		m->node_id = store_col_int64_or(st, stmt, 5, 0);
		m->rcpt = store_col_strdup(st, stmt, 6);
		m->subject = store_col_strdup(st, stmt, 7);
		m->body = store_col_strdup(st, stmt, 8);
		m->attempts = st->drv->col_int64(stmt, 9);
	}
	st->drv->finalize(stmt);
	return ret;
}

int
store_mail_sent(struct store *st, int64_t id, int64_t now, struct buf *err)
{
	return store_exec(st, sql_mail_sent, err, NULL, "ii", id, now);
}

int
store_mail_failed(struct store *st, int64_t id, int64_t next_ms,
    const char *why, struct buf *err)
{
	return store_exec(st, sql_mail_failed, err, NULL, "iis", id, next_ms,
	    why);
}

int
store_mail_give_up(struct store *st, const struct mail_row *m, int64_t now,
    const char *why, struct buf *err)
{
	struct event ev = { .time_ms = now };
	struct buf detail = BUF_INIT;
	int64_t changes = 0;
	int ret;

	ret = store_exec(st, sql_mail_give_up, err, &changes, "iis", m->id, now,
	    why);
	if (ret < 0 || changes == 0)
		return ret;
	buf_addf(&detail,
	    "mail %lld (%s) to %s given up after %lld attempts: %s",
	    (long long)m->id, m->kind, m->rcpt, (long long)m->attempts, why);
	ev.kind = m->node_id > 0 ? "node" : m->task_id > 0 ? "task" : "account";
	ev.account_id = m->account_id;
	ev.task_id = m->task_id;
	ev.node_id = m->node_id;
	ev.new_status = "mail-given-up";
	ev.detail = detail.data;
	ret = store_event_add(st, &ev, err);
	buf_release(&detail);
	return ret;
}

int
store_mail_admins(struct store *st, store_str_vec *out, struct buf *err)
{
	struct db_stmt *stmt = NULL;
	int ret;

	ret = store_prepare(st, &stmt, sql_mail_admins, err);
	if (ret < 0)
		return ret;
	while ((ret = store_step(st, stmt, err)) == DB_ROW)
		*VEC_ADD(out) = store_col_strdup(st, stmt, 1);
	st->drv->finalize(stmt);
	return ret;
}

int
store_mail_prune(struct store *st, int64_t before_ms, int64_t *n,
    struct buf *err)
{
	return store_exec(st, sql_mail_prune, err, n, "i", before_ms);
}

int
store_mail_pending(struct store *st, int64_t *n, int64_t *next_ms,
    struct buf *err)
{
	struct db_stmt *stmt = NULL;
	int ret;

	ret = store_prepare(st, &stmt, sql_mail_next, err);
	if (ret < 0)
		return ret;
	ret = store_step(st, stmt, err);
	if (ret == DB_ROW) {
		*n = st->drv->col_int64(stmt, 0);
		*next_ms = st->drv->col_int64(stmt, 1);
		ret = 0;
	} else if (ret == DB_DONE) {
		ret = err_set(err, ERR_UNAVAILABLE, "no answer to a count");
	}
	st->drv->finalize(stmt);
	return ret;
}
