/*
 * store-node.c - nodes, with the slots their jobs hold.
 */
#include "store/store-int.h"

#define NODE_COLUMNS                                                           \
	"n.id, n.name, n.queue, n.cpu_slots, n.gpu_slots, n.max_cpu_slots,"    \
	" n.max_gpu_slots, n.enabled, n.ready, n.memory_pressure,"             \
	" n.disk_pressure, n.last_seen_ms, n.completed, n.failed,"             \
	" n.created_ms, n.reachable, n.memory"

static const char sql_node_insert[] =
    "INSERT INTO node (name, queue, cpu_slots, gpu_slots, max_cpu_slots,"
    " max_gpu_slots, enabled, created_ms, memory)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id";
static const char sql_node_get[] =
    "SELECT " NODE_COLUMNS " FROM node n WHERE n.name = $1";
static const char sql_node_list[] =
    "SELECT " NODE_COLUMNS " FROM node n WHERE n.name > $1"
    " ORDER BY n.name LIMIT $2";
static const char sql_node_update[] =
    "UPDATE node SET queue = $2, cpu_slots = $3, gpu_slots = $4,"
    " max_cpu_slots = $5, max_gpu_slots = $6, enabled = $7, memory = $8"
    " WHERE id = $1";
/* Jobs holding a slot: pending, running, kill. */
static const char sql_node_usage[] =
    "SELECT node_id, gpu, gpu_index, count(*), sum(memory) FROM job"
    " WHERE status IN ('pending', 'running', 'kill')"
    " AND node_id IS NOT NULL GROUP BY node_id, gpu, gpu_index";
/* The same jobs, one a row; job_wait (status first) or job_node. */
static const char sql_node_jobs[] =
    "SELECT j.node_id, a.username, t.name, j.idx, j.status, j.gpu_index,"
    " j.started_ms FROM job j JOIN task t ON t.id = j.task_id"
    " JOIN account a ON a.id = j.account_id"
    " WHERE j.status IN ('pending', 'running', 'kill')"
    " AND j.node_id IS NOT NULL ORDER BY j.id";
static const char sql_queue_exists[] =
    "SELECT count(*) FROM node WHERE queue = $1";
static const char sql_queue_has_gpu[] =
    "SELECT count(*) FROM node WHERE queue = $1 AND max_gpu_slots > 0";
/* The most memory a node of the queue has; 0 when one's is not known. */
static const char sql_queue_memory[] =
    "SELECT CASE WHEN min(memory) = 0 THEN 0 ELSE max(memory) END"
    " FROM node WHERE queue = $1 AND (cpu_slots > 0 OR $2 = 1)"
    " AND (gpu_slots > 0 OR $2 = 0)";

static void
store_node_read(struct store *st, struct db_stmt *stmt, struct node *n)
{
	n->id = st->drv->col_int64(stmt, 0);
	n->name = store_col_strdup(st, stmt, 1);
	n->queue = store_col_strdup(st, stmt, 2);
	n->cpu_slots = st->drv->col_int64(stmt, 3);
	n->gpu_slots = st->drv->col_int64(stmt, 4);
	n->max_cpu_slots = st->drv->col_int64(stmt, 5);
	n->max_gpu_slots = st->drv->col_int64(stmt, 6);
	n->enabled = st->drv->col_int64(stmt, 7) != 0;
	n->ready = st->drv->col_int64(stmt, 8) != 0;
	n->memory_pressure = st->drv->col_int64(stmt, 9) != 0;
	n->disk_pressure = st->drv->col_int64(stmt, 10) != 0;
	n->last_seen_ms = store_col_int64_or(st, stmt, 11, 0);
	n->completed = st->drv->col_int64(stmt, 12);
	n->failed = st->drv->col_int64(stmt, 13);
	n->created_ms = st->drv->col_int64(stmt, 14);
	n->reachable = st->drv->col_int64(stmt, 15) != 0;
	n->memory = st->drv->col_int64(stmt, 16);
}

/* Add the slots held by jobs to the nodes in `v`. */
static int
store_node_add_usage(struct store *st, node_vec *v, struct buf *err)
{
	struct db_stmt *stmt = NULL;
	struct node *n;
	int64_t id, dev;
	int ret;

	ret = store_prepare(st, &stmt, sql_node_usage, err);
	if (ret < 0)
		goto out;
	while ((ret = store_step(st, stmt, err)) == DB_ROW) {
		id = st->drv->col_int64(stmt, 0);
		VEC_FOREACH (n, v) {
			if (n->id != id)
				continue;
			n->memory_used += store_col_int64_or(st, stmt, 4, 0);
			if (st->drv->col_int64(stmt, 1) == 0) {
				n->cpu_used += st->drv->col_int64(stmt, 3);
				break;
			}
			dev = store_col_int64_or(st, stmt, 2, -1);
			if (dev >= 0 && dev < PLACE_MAX_GPUS)
				n->gpu_used |= (uint64_t)1 << dev;
			break;
		}
	}
out:
	st->drv->finalize(stmt);
	return ret;
}

int
store_node_add_jobs(struct store *st, struct node *nodes, size_t nnodes,
    struct buf *err)
{
	struct db_stmt *stmt = NULL;
	struct node_job *j;
	struct node *n;
	size_t i;
	int64_t id;
	int ret;

	ret = store_prepare(st, &stmt, sql_node_jobs, err);
	if (ret < 0)
		goto out;
	while ((ret = store_step(st, stmt, err)) == DB_ROW) {
		id = st->drv->col_int64(stmt, 0);
		n = NULL;
		for (i = 0; i < nnodes && n == NULL; i++)
			if (nodes[i].id == id)
				n = &nodes[i];
		if (n == NULL ||
		    (int64_t)n->jobs.n >= n->max_cpu_slots + n->max_gpu_slots)
			continue;
		j = VEC_ADD(&n->jobs);
		j->username = store_col_strdup(st, stmt, 1);
		j->task = store_col_strdup(st, stmt, 2);
		j->idx = st->drv->col_int64(stmt, 3);
		ret = job_status_parse(st->drv->col_text(stmt, 4), &j->status,
		    err);
		if (ret < 0)
			break;
		j->gpu_index = store_col_int64_or(st, stmt, 5, -1);
		j->started_ms = store_col_int64_or(st, stmt, 6, 0);
	}
	if (ret == DB_DONE)
		ret = 0;
out:
	st->drv->finalize(stmt);
	return ret;
}

int
store_node_insert(struct store *st, struct node *n, struct buf *err)
{
	struct db_stmt *stmt = NULL;
	int ret;

	ret = store_query(st, &stmt, sql_node_insert, err, "ssiiiiiii", n->name,
	    n->queue, n->cpu_slots, n->gpu_slots, n->max_cpu_slots,
	    n->max_gpu_slots, (int64_t)n->enabled, n->created_ms, n->memory);
	if (ret < 0)
		goto out;
	ret = store_step(st, stmt, err);
	if (ret == ERR_CONFLICT) {
		err_set(err, ret, "node '%s' already exists", n->name);
		goto out;
	}
	if (ret != DB_ROW)
		goto out;
	n->id = st->drv->col_int64(stmt, 0);
	ret = store_step_done(st, stmt, err);
out:
	st->drv->finalize(stmt);
	return ret;
}

int
store_node_get(struct store *st, const char *name, struct node *out,
    struct buf *err)
{
	struct db_stmt *stmt = NULL;
	node_vec one = VEC_INIT;
	int ret;

	ret = store_query(st, &stmt, sql_node_get, err, "s", name);
	if (ret < 0)
		goto out;
	ret = store_step(st, stmt, err);
	if (ret == DB_DONE)
		ret = err_set(err, ERR_NOTFOUND, "no node '%s'", name);
	if (ret != DB_ROW)
		goto out;
	store_node_read(st, stmt, VEC_ADD(&one));
	ret = store_node_add_usage(st, &one, err);
	if (ret < 0)
		goto out;
	*out = one.v[0];
	one.n = 0;
out:
	st->drv->finalize(stmt);
	node_vec_release(&one);
	return ret;
}

int
store_node_list(struct store *st, const char *after, int64_t limit,
    node_vec *out, struct buf *err)
{
	struct db_stmt *stmt = NULL;
	int ret;

	/* Every name sorts after "": the first page. */
	ret = store_query(st, &stmt, sql_node_list, err, "si",
	    after != NULL ? after : "", limit > 0 ? limit : INT64_MAX);
	if (ret < 0)
		goto out;
	while ((ret = store_step(st, stmt, err)) == DB_ROW)
		store_node_read(st, stmt, VEC_ADD(out));
	if (ret < 0)
		goto out;
	ret = store_node_add_usage(st, out, err);
out:
	st->drv->finalize(stmt);
	return ret;
}

int
store_node_update(struct store *st, const struct node *n, struct buf *err)
{
	struct db_stmt *stmt = NULL;
	int ret;

	ret = store_query(st, &stmt, sql_node_update, err, "isiiiiii", n->id,
	    n->queue, n->cpu_slots, n->gpu_slots, n->max_cpu_slots,
	    n->max_gpu_slots, (int64_t)n->enabled, n->memory);
	if (ret < 0)
		goto out;
	ret = store_step_done(st, stmt, err);
	if (ret == ERR_INVALID)
		err_set(err, ret,
		    "node '%s': slots must lie between 0 and their maximum "
		    "(cpu %lld/%lld, gpu %lld/%lld)",
		    n->name, (long long)n->cpu_slots,
		    (long long)n->max_cpu_slots, (long long)n->gpu_slots,
		    (long long)n->max_gpu_slots);
out:
	st->drv->finalize(stmt);
	return ret;
}

static int
store_node_count(struct store *st, const char *sql, const char *queue,
    struct buf *err)
{
	struct db_stmt *stmt = NULL;
	int64_t n;
	int ret;

	ret = store_query(st, &stmt, sql, err, "s", queue);
	ret = store_number(st, ret, stmt, 0, &n, err);
	return ret < 0 ? ret : n > 0;
}

int
store_queue_exists(struct store *st, const char *queue, struct buf *err)
{
	return store_node_count(st, sql_queue_exists, queue, err);
}

int
store_queue_has_gpu(struct store *st, const char *queue, struct buf *err)
{
	return store_node_count(st, sql_queue_has_gpu, queue, err);
}

int
store_queue_memory(struct store *st, const char *queue, bool gpu,
    int64_t *memory, struct buf *err)
{
	struct db_stmt *stmt = NULL;
	int ret;

	ret = store_query(st, &stmt, sql_queue_memory, err, "si", queue,
	    (int64_t)gpu);
	return store_number(st, ret, stmt, 0, memory, err);
}
