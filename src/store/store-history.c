/*
 * store-history.c - accounting (table job_history, migration 0014): a
 * row per run of a job that ended on a node, written with its end, and
 * the totals per user, queue or node over a time range.
 */
#include "store/store-int.h"

/* The run $1/$2 as it stands after store_job_ended() wrote its end. */
static const char sql_history_record[] =
    "INSERT INTO job_history (job_id, attempt, username, task, queue, node,"
    " gpu, status, exit_code, end_reason, started_ms, ended_ms)"
    " SELECT j.id, j.attempts, a.username, t.name, j.queue, n.name, j.gpu,"
    " j.status, j.exit_code, j.end_reason, j.started_ms, j.ended_ms"
    " FROM job j JOIN task t ON t.id = j.task_id"
    " JOIN account a ON a.id = t.account_id JOIN node n ON n.id = j.node_id"
    " WHERE j.id = $1 AND j.attempts = $2 AND j.started_ms IS NOT NULL"
    " AND j.ended_ms IS NOT NULL"
    " ON CONFLICT (job_id, attempt) DO NOTHING";
static const char sql_history_prune[] =
    "DELETE FROM job_history WHERE ended_ms < $1";
/*
 * Runs that ended in [$1, $2), of user $3 ('' for all), grouped by the
 * column $4 names.  A run's slot time counts whole where it ended.
 */
static const char sql_history_totals[] =
    "SELECT g, count(*),"
    " CAST(sum(CASE WHEN gpu = 0 THEN ended_ms - started_ms ELSE 0 END)"
    " AS BIGINT),"
    " CAST(sum(CASE WHEN gpu = 1 THEN ended_ms - started_ms ELSE 0 END)"
    " AS BIGINT)"
    " FROM (SELECT CASE $4 WHEN 'queue' THEN queue WHEN 'node' THEN node"
    " ELSE username END AS g, gpu, started_ms, ended_ms FROM job_history"
    " WHERE ended_ms >= $1 AND ended_ms < $2"
    " AND ($3 = '' OR username = $3)) h"
    " GROUP BY g ORDER BY g";

int
store_history_record(struct store *st, int64_t job_id, int64_t attempt,
    struct buf *err)
{
	return store_exec(st, sql_history_record, err, NULL, "ii", job_id,
	    attempt);
}

int
store_history_prune(struct store *st, int64_t before_ms, int64_t *nrows,
    struct buf *err)
{
	return store_exec(st, sql_history_prune, err, nrows, "i", before_ms);
}

int
store_history_totals(struct store *st, const struct history_filter *f,
    history_total_vec *out, struct buf *err)
{
	struct db_stmt *stmt = NULL;
	struct history_total *h;
	int ret;

	ret = store_prepare(st, &stmt, sql_history_totals, err);
	if (ret < 0)
		goto out;
	st->drv->bind_int64(stmt, 1, f->since_ms);
	st->drv->bind_int64(stmt, 2, f->until_ms);
	st->drv->bind_text(stmt, 3, f->user != NULL ? f->user : "");
	st->drv->bind_text(stmt, 4, history_by_name(f->by));
	while ((ret = store_step(st, stmt, err)) == DB_ROW) {
		h = VEC_ADD(out);
		h->group = store_col_strdup(st, stmt, 0);
		if (h->group == NULL)
			h->group = xstrdup("");
		h->jobs = st->drv->col_int64(stmt, 1);
		h->cpu_s = (store_col_int64_or(st, stmt, 2, 0) + 500) / 1000;
		h->gpu_s = (store_col_int64_or(st, stmt, 3, 0) + 500) / 1000;
	}
	if (ret == DB_DONE)
		ret = 0;
out:
	st->drv->finalize(stmt);
	return ret;
}
