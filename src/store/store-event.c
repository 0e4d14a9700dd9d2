/*
 * store-event.c - the append-only history of state changes.
 */
#include "store/store-int.h"

static const char sql_event_add[] =
    "INSERT INTO event (time_ms, kind, account_id, task_id, job_id, node_id,"
    " old_status, new_status, detail)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
static const char sql_event_count[] = "SELECT count(*) FROM event";
static const char sql_event_since[] =
    "SELECT id, kind, task_id, job_id, node_id FROM event"
    " WHERE id > $1 ORDER BY id LIMIT $2";
static const char sql_event_last[] = "SELECT max(id) FROM event";

int
store_event_add(struct store *st, const struct event *e, struct buf *err)
{
	return store_later(st, sql_event_add, err, "isIIIIsss",
	    e->time_ms ? e->time_ms : time_now_ms(), e->kind, e->account_id,
	    e->task_id, e->job_id, e->node_id, e->old_status, e->new_status,
	    e->detail ? e->detail : "");
}

/* The one number `sql` answers (NULL: 0). */
static int
store_event_number(struct store *st, const char *sql, int64_t *n,
    struct buf *err)
{
	struct db_stmt *stmt = NULL;
	int ret;

	ret = store_prepare(st, &stmt, sql, err);
	return store_number(st, ret, stmt, 0, n, err);
}

int
store_event_count(struct store *st, int64_t *n, struct buf *err)
{
	return store_event_number(st, sql_event_count, n, err);
}

int
store_event_since(struct store *st, int64_t after, int64_t limit,
    event_row_vec *out, struct buf *err)
{
	struct db_stmt *stmt = NULL;
	struct event_row *e;
	const char *kind;
	int ret;

	ret = store_query(st, &stmt, sql_event_since, err, "ii", after, limit);
	if (ret < 0)
		goto out;
	while ((ret = store_step(st, stmt, err)) == DB_ROW) {
		e = VEC_ADD(out);
		e->id = st->drv->col_int64(stmt, 0);
		kind = st->drv->col_text(stmt, 1);
		snprintf(e->kind, sizeof(e->kind), "%s", kind ? kind : "");
		e->task_id = store_col_int64_or(st, stmt, 2, 0);
		e->job_id = store_col_int64_or(st, stmt, 3, 0);
		e->node_id = store_col_int64_or(st, stmt, 4, 0);
	}
	if (ret == DB_DONE)
		ret = 0;
out:
	st->drv->finalize(stmt);
	return ret;
}

int
store_event_last(struct store *st, int64_t *id, struct buf *err)
{
	return store_event_number(st, sql_event_last, id, err);
}
