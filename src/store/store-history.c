/*
 * store-history.c - accounting (table job_history, migration 0014): a
 * row per run of a job that ended on a node, written with its end; the
 * runs of a filter a page at a time, and their totals per user, queue or
 * node.
 */
#include "store/store-int.h"

/* The run $1/$2 as it stands after store_job_ended() wrote its end. */
static const char sql_history_record[] =
    "INSERT INTO job_history (job_id, attempt, username, task, queue, node,"
    " gpu, status, exit_code, end_reason, started_ms, ended_ms, idx,"
    " gpu_index, memory, peak_memory, cpu_ms)"
    " SELECT j.id, j.attempts, a.username, t.name, j.queue, n.name, j.gpu,"
    " j.status, j.exit_code, j.end_reason, j.started_ms, j.ended_ms, j.idx,"
    " j.gpu_index, j.memory, j.peak_memory, j.cpu_ms"
    " FROM job j JOIN task t ON t.id = j.task_id"
    " JOIN account a ON a.id = t.account_id JOIN node n ON n.id = j.node_id"
    " WHERE j.id = $1 AND j.attempts = $2 AND j.started_ms IS NOT NULL"
    " AND j.ended_ms IS NOT NULL"
    " ON CONFLICT (job_id, attempt) DO NOTHING";
static const char sql_history_prune[] =
    "DELETE FROM job_history WHERE ended_ms < $1";
/*
 * The runs of a history_filter: ended in [$1, $2), of user $3, of the
 * task $5 of user $4, ended in status $6 ('' for any);
 * store_history_bind() binds them.
 */
#define STORE_HISTORY_FROM                                                     \
	" FROM job_history WHERE ended_ms >= $1 AND ended_ms < $2"             \
	" AND ($3 = '' OR username = $3) AND ($4 = '' OR username = $4)"       \
	" AND ($5 = '' OR task = $5) AND ($6 = '' OR status = $6)"
/* Grouped by the column $7 names.  A run's slot time counts whole where
 * it ended. */
static const char sql_history_totals[] =
    "SELECT g, count(*),"
    " CAST(sum(CASE WHEN gpu = 0 THEN ended_ms - started_ms ELSE 0 END)"
    " AS BIGINT),"
    " CAST(sum(CASE WHEN gpu = 1 THEN ended_ms - started_ms ELSE 0 END)"
    " AS BIGINT)"
    " FROM (SELECT CASE $7 WHEN 'queue' THEN queue WHEN 'node' THEN node"
    " ELSE username END AS g, gpu, started_ms, ended_ms" STORE_HISTORY_FROM
    ") h GROUP BY g ORDER BY g";
/* A page: the runs after id $7, at most $8. */
static const char sql_history_list[] =
    "SELECT id, username, task, queue, node, idx, attempt, gpu, gpu_index,"
    " status, exit_code, end_reason, started_ms, ended_ms, memory,"
    " peak_memory, cpu_ms" STORE_HISTORY_FROM
    " AND id > $7 ORDER BY id LIMIT $8";

int
store_history_record(struct store *st, int64_t job_id, int64_t attempt,
    struct buf *err)
{
	return store_later(st, sql_history_record, err, "ii", job_id,
	    attempt);
}

int
store_history_prune(struct store *st, int64_t before_ms, int64_t *nrows,
    struct buf *err)
{
	return store_exec(st, sql_history_prune, err, nrows, "i", before_ms);
}

/* $1 to $6 of STORE_HISTORY_FROM: the letters, then the parameters. */
#define STORE_HISTORY_FMT "iissss"
#define STORE_HISTORY_ARGS(f) \
	(f)->since_ms, (f)->until_ms, (f)->user != NULL ? (f)->user : "", \
	    (f)->task_user != NULL ? (f)->task_user : "", \
	    (f)->task_name != NULL ? (f)->task_name : "", \
	    (f)->has_status ? job_status_name((f)->status) : ""

int
store_history_totals(struct store *st, const struct history_filter *f,
    history_total_vec *out, struct buf *err)
{
	struct db_stmt *stmt = NULL;
	struct history_total *h;
	int ret;

	ret = store_query(st, &stmt, sql_history_totals, err,
	    STORE_HISTORY_FMT "s", STORE_HISTORY_ARGS(f),
	    history_by_name(f->by));
	if (ret < 0)
		goto out;
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

int
store_history_list(struct store *st, const struct history_filter *f,
    int64_t after, int64_t limit, history_run_vec *out, struct buf *err)
{
	struct db_stmt *stmt = NULL;
	struct history_run *h;
	int ret;

	ret = store_query(st, &stmt, sql_history_list, err,
	    STORE_HISTORY_FMT "ii", STORE_HISTORY_ARGS(f), after, limit);
	if (ret < 0)
		goto out;
	while ((ret = store_step(st, stmt, err)) == DB_ROW) {
		h = VEC_ADD(out);
		memset(h, 0, sizeof(*h));
		h->id = st->drv->col_int64(stmt, 0);
		h->username = store_col_strdup(st, stmt, 1);
		h->task = store_col_strdup(st, stmt, 2);
		h->queue = store_col_strdup(st, stmt, 3);
		h->node = store_col_strdup(st, stmt, 4);
		h->idx = store_col_int64_or(st, stmt, 5, -1);
		h->attempt = st->drv->col_int64(stmt, 6);
		h->gpu = st->drv->col_int64(stmt, 7) != 0;
		h->gpu_index = store_col_int64_or(st, stmt, 8, -1);
		ret = job_status_parse(st->drv->col_text(stmt, 9), &h->status,
		    err);
		if (ret < 0)
			break;
		h->exit_code = store_col_int64_or(st, stmt, 10, -1);
		h->end_reason = store_col_strdup(st, stmt, 11);
		h->started_ms = st->drv->col_int64(stmt, 12);
		h->ended_ms = st->drv->col_int64(stmt, 13);
		h->run_ms = h->ended_ms - h->started_ms;
		h->memory = store_col_int64_or(st, stmt, 14, 0);
		h->peak_memory = store_col_int64_or(st, stmt, 15, -1);
		h->cpu_ms = store_col_int64_or(st, stmt, 16, -1);
	}
	if (ret == DB_DONE)
		ret = 0;
out:
	st->drv->finalize(stmt);
	return ret;
}
