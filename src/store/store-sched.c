/*
 * store-sched.c - what the scheduler reads: nodes with their usage, the
 * streams of waiting jobs of each pool, and those jobs in order, a batch at
 * a time.  Each read is an index seek or a short range on job_wait, so the
 * cost follows the slots being filled, not the jobs waiting.
 */
#include "store/store-int.h"

/*
 * Per user, does the pool hold an assigned job of this kind (test or
 * not)?  A scalar subquery with LIMIT, not EXISTS: PostgreSQL would turn
 * EXISTS into a semi-join over every waiting job; this stays one index
 * seek per user and kind, on SQLite too.  The ORDER BY is job_wait's
 * next column: without it PostgreSQL, its statistics saying that most
 * jobs are assigned, chose a sequential scan that stops at the first
 * match, and read the whole table for a kind with none (no test job
 * waiting): 13 ms a cycle with 68,000 of 100,000 jobs queued, 0.05 ms
 * with the seek.  Before the table's first ANALYZE (autovacuum's,
 * within a minute of a large submit), PostgreSQL took job_queued's
 * (status, queue) and sorted every queued job of the pool, 7.8 ms a
 * cycle while 100,000 were queued; job_queued holds the queued jobs
 * only now, in an order that offers no seek by queue (migration 0024).
 */
static const char sql_sched_streams[] =
    "SELECT a.id, a.max_priority, k.is_test FROM account a"
    " CROSS JOIN (SELECT 0 AS is_test UNION ALL SELECT 1) k"
    " WHERE (SELECT 1 FROM job j WHERE j.status = 'assigned'"
    " AND j.queue = $1 AND j.gpu = $2 AND j.account_id = a.id"
    " AND j.is_test = k.is_test ORDER BY j.submitted_ms LIMIT 1) = 1"
    " ORDER BY a.id, k.is_test";
/* R: each user's jobs holding a slot, in any pool (SPEC.md, "Priority"). */
static const char sql_sched_running[] =
    "SELECT account_id, count(*) FROM job"
    " WHERE status IN ('pending', 'running', 'kill') GROUP BY account_id";
/*
 * The running tasks of other pools with assigned jobs, by user and in
 * each user's order: their jobs are ahead of a later task's in the user's
 * n.  A running task's assigned jobs are none of them test jobs (the test
 * job is done before the others are queued); a killing task's are those
 * queued again while it stops, which its own pool's stream counts too.  The
 * tasks running are few; each count is one seek on task_count, not a count of
 * its jobs.
 */
static const char sql_sched_before[] =
    "SELECT t.account_id, t.submitted_ms, t.id, c.n FROM task t"
    " JOIN task_count c ON c.task_id = t.id AND c.status = 'assigned'"
    " WHERE t.status IN ('running', 'killing') AND c.n > 0"
    " AND (t.queue <> $1 OR t.gpu <> $2)"
    " ORDER BY t.account_id, t.submitted_ms, t.id";
/* The task's memory by a seek on its key: the plan on job_wait stays. */
static const char sql_sched_fetch[] =
    "SELECT id, task_id, submitted_ms, idx,"
    " (SELECT t.memory FROM task t WHERE t.id = job.task_id) FROM job"
    " WHERE status = 'assigned' AND queue = $1 AND gpu = $2"
    " AND account_id = $3 AND is_test = $4"
    " AND (submitted_ms, task_id, idx) > ($5, $6, $7)"
    " ORDER BY submitted_ms, task_id, idx LIMIT $8";

int
store_sched_nodes(struct store *st, node_vec *nodes, struct buf *err)
{
	return store_node_list(st, NULL, 0, nodes, err);
}

/* Point each stream (not of test jobs) at its user's run in `before`. */
static void
store_sched_point_before(sched_stream_vec *streams,
    const sched_before_vec *before, const int64_t *owner)
{
	struct sched_stream *s;
	size_t i = 0;

	VEC_FOREACH (s, streams) {
		/* Both in account order. */
		while (i < before->n && owner[i] < s->account_id)
			i++;
		s->before = before->n > 0 ? before->v + i : NULL;
		s->nbefore = 0;
		if (s->is_test)
			continue;
		while (i + s->nbefore < before->n &&
		    owner[i + s->nbefore] == s->account_id)
			s->nbefore++;
	}
}

static int
store_sched_read_before(struct store *st, const char *queue, bool gpu,
    sched_stream_vec *streams, sched_before_vec *before, struct buf *err)
{
	VEC(int64_t) owner = VEC_INIT;
	struct db_stmt *stmt = NULL;
	struct sched_before *b;
	int ret;

	ret = store_query(st, &stmt, sql_sched_before, err, "si", queue,
	    (int64_t)gpu);
	if (ret < 0)
		goto out;
	while ((ret = store_step(st, stmt, err)) == DB_ROW) {
		VEC_PUSH(&owner, st->drv->col_int64(stmt, 0));
		b = VEC_ADD(before);
		b->submitted_ms = st->drv->col_int64(stmt, 1);
		b->task_id = st->drv->col_int64(stmt, 2);
		b->njobs = st->drv->col_int64(stmt, 3);
	}
	if (ret < 0)
		goto out;
	store_sched_point_before(streams, before, owner.v);
out:
	st->drv->finalize(stmt);
	VEC_RELEASE(&owner);
	return ret;
}

int
store_sched_streams(struct store *st, const char *queue, bool gpu,
    sched_stream_vec *out, sched_before_vec *before, struct buf *err)
{
	struct db_stmt *stmt = NULL;
	struct sched_stream *s;
	int64_t id, n;
	int ret;

	out->n = 0;
	before->n = 0;
	ret = store_query(st, &stmt, sql_sched_streams, err, "si", queue,
	    (int64_t)gpu);
	if (ret < 0)
		goto out;
	while ((ret = store_step(st, stmt, err)) == DB_ROW) {
		s = VEC_ADD(out);
		s->account_id = st->drv->col_int64(stmt, 0);
		s->user.max_priority = st->drv->col_int64(stmt, 1);
		s->is_test = st->drv->col_int64(stmt, 2) != 0;
	}
	if (ret < 0)
		goto out;
	st->drv->finalize(stmt);
	stmt = NULL;
	if (out->n == 0)
		goto out;
	ret = store_prepare(st, &stmt, sql_sched_running, err);
	if (ret < 0)
		goto out;
	while ((ret = store_step(st, stmt, err)) == DB_ROW) {
		id = st->drv->col_int64(stmt, 0);
		n = st->drv->col_int64(stmt, 1);
		VEC_FOREACH (s, out)
			if (s->account_id == id)
				s->user.running = n;
	}
	if (ret < 0)
		goto out;
	st->drv->finalize(stmt);
	stmt = NULL;
	ret = store_sched_read_before(st, queue, gpu, out, before, err);
out:
	st->drv->finalize(stmt);
	return ret;
}

int
store_sched_fetch(void *ctx, const struct sched_stream *s,
    const struct sched_job *after, size_t limit, sched_job_vec *out,
    struct buf *err)
{
	struct store_sched_ctx *c = ctx;
	struct store *st = c->st;
	struct db_stmt *stmt = NULL;
	struct sched_job *j;
	int ret;

	ret = store_query(st, &stmt, sql_sched_fetch, err, "siiiiiii", c->queue,
	    (int64_t)c->gpu, s->account_id, (int64_t)s->is_test,
	    after ? after->submitted_ms : INT64_MIN,
	    after ? after->task_id : INT64_MIN, after ? after->idx : INT64_MIN,
	    (int64_t)limit);
	if (ret < 0)
		goto out;
	while ((ret = store_step(st, stmt, err)) == DB_ROW) {
		j = VEC_ADD(out);
		j->id = st->drv->col_int64(stmt, 0);
		j->task_id = st->drv->col_int64(stmt, 1);
		j->account_id = s->account_id;
		j->submitted_ms = st->drv->col_int64(stmt, 2);
		j->idx = (int32_t)st->drv->col_int64(stmt, 3);
		j->is_test = s->is_test;
		j->memory = store_col_int64_or(st, stmt, 4, 0);
	}
out:
	st->drv->finalize(stmt);
	return ret;
}

static const char sql_sched_holding[] =
    "SELECT j.id, j.task_id, j.account_id, j.idx, a.username, t.name,"
    " j.queue, n.name, j.gpu, j.is_test, j.gpu_index, j.status, j.priority,"
    " j.started_ms FROM job j JOIN task t ON t.id = j.task_id"
    " JOIN account a ON a.id = j.account_id"
    " LEFT JOIN node n ON n.id = j.node_id"
    " WHERE j.status IN ('pending', 'running', 'kill')"
    " ORDER BY j.priority DESC, j.id";
/*
 * Per task, its registered jobs, and the failed jobs its retry has not
 * queued again yet (from its cursor requeue_from on, migration 0020).
 */
static const char sql_sched_registered[] =
    "SELECT t.id, t.account_id, a.username, t.name, t.queue, t.gpu,"
    " t.status, 'registered', count(*), t.submitted_ms"
    " FROM job j JOIN task t ON t.id = j.task_id"
    " JOIN account a ON a.id = t.account_id"
    " WHERE j.status = 'registered' GROUP BY t.id, t.account_id,"
    " a.username, t.name, t.queue, t.gpu, t.status, t.submitted_ms"
    " UNION ALL"
    " SELECT t.id, t.account_id, a.username, t.name, t.queue, t.gpu,"
    " t.status, 'failed', count(*), t.submitted_ms"
    " FROM task t JOIN job j ON j.task_id = t.id"
    " JOIN account a ON a.id = t.account_id"
    " WHERE t.requeue_from IS NOT NULL AND t.status = 'running'"
    " AND j.status = 'failed' AND j.idx >= t.requeue_from"
    " GROUP BY t.id, t.account_id, a.username, t.name, t.queue, t.gpu,"
    " t.status, t.submitted_ms"
    " ORDER BY 10, 1, 8 DESC";
static const char sql_queue_names[] =
    "SELECT queue FROM node UNION SELECT queue FROM task"
    " WHERE status IN ('registered', 'testing', 'running', 'killing')"
    " ORDER BY 1";

void
job_brief_vec_release(job_brief_vec *v)
{
	struct job_brief *j;

	VEC_FOREACH (j, v) {
		free(j->username);
		free(j->task);
		free(j->queue);
		free(j->node);
	}
	VEC_RELEASE(v);
}

void
task_group_vec_release(task_group_vec *v)
{
	struct task_group *g;

	VEC_FOREACH (g, v) {
		free(g->username);
		free(g->task);
		free(g->queue);
	}
	VEC_RELEASE(v);
}

int
store_sched_holding(struct store *st, job_brief_vec *out, struct buf *err)
{
	struct db_stmt *stmt = NULL;
	struct job_brief *j;
	int ret;

	ret = store_prepare(st, &stmt, sql_sched_holding, err);
	if (ret < 0)
		goto out;
	while ((ret = store_step(st, stmt, err)) == DB_ROW) {
		j = VEC_ADD(out);
		j->id = st->drv->col_int64(stmt, 0);
		j->task_id = st->drv->col_int64(stmt, 1);
		j->account_id = st->drv->col_int64(stmt, 2);
		j->idx = st->drv->col_int64(stmt, 3);
		j->username = store_col_strdup(st, stmt, 4);
		j->task = store_col_strdup(st, stmt, 5);
		j->queue = store_col_strdup(st, stmt, 6);
		j->node = store_col_strdup(st, stmt, 7);
		j->gpu = st->drv->col_int64(stmt, 8) != 0;
		j->is_test = st->drv->col_int64(stmt, 9) != 0;
		j->gpu_index = store_col_int64_or(st, stmt, 10, -1);
		ret = job_status_parse(st->drv->col_text(stmt, 11), &j->status,
		    err);
		if (ret < 0)
			break;
		j->priority = st->drv->col_double(stmt, 12);
		j->started_ms = store_col_int64_or(st, stmt, 13, 0);
	}
out:
	st->drv->finalize(stmt);
	return ret;
}

int
store_sched_registered(struct store *st, task_group_vec *out, struct buf *err)
{
	struct db_stmt *stmt = NULL;
	struct task_group *g;
	int ret;

	ret = store_prepare(st, &stmt, sql_sched_registered, err);
	if (ret < 0)
		goto out;
	while ((ret = store_step(st, stmt, err)) == DB_ROW) {
		g = VEC_ADD(out);
		g->task_id = st->drv->col_int64(stmt, 0);
		g->account_id = st->drv->col_int64(stmt, 1);
		g->username = store_col_strdup(st, stmt, 2);
		g->task = store_col_strdup(st, stmt, 3);
		g->queue = store_col_strdup(st, stmt, 4);
		g->gpu = st->drv->col_int64(stmt, 5) != 0;
		ret = task_status_parse(st->drv->col_text(stmt, 6),
		    &g->task_status, err);
		if (ret == 0)
			ret = job_status_parse(st->drv->col_text(stmt, 7),
			    &g->status, err);
		if (ret < 0)
			break;
		g->njobs = st->drv->col_int64(stmt, 8);
	}
out:
	st->drv->finalize(stmt);
	return ret;
}

int
store_names(struct store *st, const char *sql, store_str_vec *out,
    struct buf *err)
{
	struct db_stmt *stmt = NULL;
	int ret;

	ret = store_prepare(st, &stmt, sql, err);
	if (ret < 0)
		goto out;
	while ((ret = store_step(st, stmt, err)) == DB_ROW)
		VEC_PUSH(out, store_col_strdup(st, stmt, 0));
out:
	st->drv->finalize(stmt);
	return ret;
}

int
store_queue_names(struct store *st, store_str_vec *out, struct buf *err)
{
	return store_names(st, sql_queue_names, out, err);
}
