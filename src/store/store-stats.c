/*
 * store-stats.c - what the metrics read: cumulative counters and histogram
 * buckets (table `stat`), and counts of jobs and tasks by state.
 *
 * The counts are grouped reads over the indexes the scheduler already
 * has (job_wait leads with status, queue), so a scrape costs a scan of
 * an index, not a load of every job.
 */
#include "store/store-int.h"

static const int64_t stat_job_bounds_us[] = {
	1000000LL,
	5000000LL,
	15000000LL,
	30000000LL,
	60000000LL,
	120000000LL,
	300000000LL,
	600000000LL,
	1800000000LL,
	3600000000LL,
	7200000000LL,
	14400000000LL,
	28800000000LL,
	86400000000LL,
	259200000000LL,
	604800000000LL,
};
static const int64_t stat_cycle_bounds_us[] = {
	1000,
	2500,
	5000,
	10000,
	25000,
	50000,
	100000,
	250000,
	500000,
	1000000,
	2500000,
	5000000,
	10000000,
	30000000,
	60000000,
};
#define STAT_NBOUNDS(a) (sizeof(a) / sizeof((a)[0]))

const struct stat_hist_def stat_hists[STAT_NHIST] = {
	[STAT_JOB_WAIT] = { "job_wait", stat_job_bounds_us,
	    STAT_NBOUNDS(stat_job_bounds_us) },
	[STAT_JOB_RUN] = { "job_run", stat_job_bounds_us,
	    STAT_NBOUNDS(stat_job_bounds_us) },
	[STAT_PILOT_CYCLE] = { "pilot_cycle", stat_cycle_bounds_us,
	    STAT_NBOUNDS(stat_cycle_bounds_us) },
};

static const char sql_node_count[] =
    "UPDATE node SET completed = completed + $2, failed = failed + $3"
    " WHERE id = $1";
static const char sql_stat_add[] =
    "INSERT INTO stat (name, label, le_us, count, sum_us)"
    " VALUES ($1, $2, $3, $4, $5)"
    " ON CONFLICT (name, label, le_us) DO UPDATE"
    " SET count = stat.count + excluded.count,"
    " sum_us = stat.sum_us + excluded.sum_us";
/* -1 (+Inf) sorts last within its name and label. */
static const char sql_stat_list[] =
    "SELECT name, label, le_us, count, sum_us FROM stat"
    " ORDER BY name, label, CASE WHEN le_us < 0 THEN 1 ELSE 0 END, le_us";
static const char sql_metrics_jobs[] =
    "SELECT status, queue, count(*) FROM job GROUP BY status, queue"
    " ORDER BY status, queue";
static const char sql_metrics_tasks[] =
    "SELECT status, NULL, count(*) FROM task GROUP BY status"
    " ORDER BY status";
static const char sql_metrics_user_jobs[] =
    "SELECT a.username, j.status, count(*) FROM job j"
    " JOIN account a ON a.id = j.account_id"
    " WHERE j.status IN ('registered', 'assigned', 'pending', 'running',"
    " 'kill') GROUP BY a.username, j.status ORDER BY a.username, j.status";
/* One queue at a time: the minimum is read from index job_queued. */
static const char sql_metrics_oldest_queued[] =
    "SELECT min(queued_ms) FROM job WHERE status = 'assigned'"
    " AND queue = $1";

int64_t
stat_hist_le(enum stat_hist h, int64_t value_us)
{
	const struct stat_hist_def *d = &stat_hists[h];
	size_t i;

	for (i = 0; i < d->nbounds; i++)
		if (value_us <= d->bounds_us[i])
			return d->bounds_us[i];
	return -1;
}

int
store_stat_add(struct store *st, const char *name, const char *label,
    int64_t le_us, int64_t count, int64_t sum_us, struct buf *err)
{
	struct stat_row *o;

	if (label == NULL)
		label = "";
	if (!st->in_tx)
		return store_later(st, sql_stat_add, err, "ssiii", name, label,
		    le_us, count, sum_us);
	VEC_FOREACH (o, &st->stat_owed) {
		if (o->le_us == le_us && strcmp(o->name, name) == 0 &&
		    strcmp(o->label, label) == 0) {
			o->count += count;
			o->sum_us += sum_us;
			return 0;
		}
	}
	o = VEC_ADD(&st->stat_owed);
	o->name = xstrdup(name);
	o->label = xstrdup(label);
	o->le_us = le_us;
	o->count = count;
	o->sum_us = sum_us;
	return 0;
}

int
store_node_ends(struct store *st, int64_t node_id, int64_t completed,
    int64_t failed, struct buf *err)
{
	struct store_node_owed *o;

	if (!st->in_tx)
		return store_later(st, sql_node_count, err, "iii", node_id,
		    completed, failed);
	VEC_FOREACH (o, &st->node_owed) {
		if (o->node_id == node_id) {
			o->completed += completed;
			o->failed += failed;
			return 0;
		}
	}
	o = VEC_ADD(&st->node_owed);
	o->node_id = node_id;
	o->completed = completed;
	o->failed = failed;
	return 0;
}

int
store_owed_flush(struct store *st, struct buf *err)
{
	struct stat_row *s;
	struct store_node_owed *n;
	int ret = 0;

	VEC_FOREACH (s, &st->stat_owed) {
		if (ret == 0)
			ret = store_later(st, sql_stat_add, err, "ssiii",
			    s->name, s->label, s->le_us, s->count, s->sum_us);
	}
	VEC_FOREACH (n, &st->node_owed) {
		if (ret == 0)
			ret = store_later(st, sql_node_count, err, "iii",
			    n->node_id, n->completed, n->failed);
	}
	store_owed_clear(st);
	return ret;
}

void
store_owed_clear(struct store *st)
{
	stat_row_vec_release(&st->stat_owed);
	st->node_owed.n = 0;
}

int
store_stat_observe(struct store *st, enum stat_hist h, int64_t value_us,
    struct buf *err)
{
	if (value_us < 0)
		value_us = 0; /* a clock that stepped back */
	return store_stat_add(st, stat_hists[h].name, "",
	    stat_hist_le(h, value_us), 1, value_us, err);
}

void
stat_row_vec_release(stat_row_vec *v)
{
	struct stat_row *r;

	VEC_FOREACH (r, v) {
		free(r->name);
		free(r->label);
	}
	VEC_RELEASE(v);
}

int
store_stat_list(struct store *st, stat_row_vec *out, struct buf *err)
{
	struct db_stmt *stmt = NULL;
	struct stat_row *r;
	int ret;

	ret = store_prepare(st, &stmt, sql_stat_list, err);
	if (ret < 0)
		goto out;
	while ((ret = store_step(st, stmt, err)) == DB_ROW) {
		r = VEC_ADD(out);
		r->name = store_col_strdup(st, stmt, 0);
		r->label = store_col_strdup(st, stmt, 1);
		r->le_us = st->drv->col_int64(stmt, 2);
		r->count = st->drv->col_int64(stmt, 3);
		r->sum_us = st->drv->col_int64(stmt, 4);
	}
	if (ret == DB_DONE)
		ret = 0;
out:
	st->drv->finalize(stmt);
	return ret;
}

void
metric_count_vec_release(metric_count_vec *v)
{
	struct metric_count *c;

	VEC_FOREACH (c, v) {
		free(c->key1);
		free(c->key2);
	}
	VEC_RELEASE(v);
}

/* Rows of (key1, key2 or NULL, count) from a statement without parameters. */
static int
store_metrics_counts(struct store *st, const char *sql, metric_count_vec *out,
    struct buf *err)
{
	struct db_stmt *stmt = NULL;
	struct metric_count *c;
	int ret;

	ret = store_prepare(st, &stmt, sql, err);
	if (ret < 0)
		goto out;
	while ((ret = store_step(st, stmt, err)) == DB_ROW) {
		c = VEC_ADD(out);
		c->key1 = store_col_strdup(st, stmt, 0);
		c->key2 = store_col_strdup(st, stmt, 1);
		c->n = store_col_int64_or(st, stmt, 2, 0);
		if (c->key1 == NULL)
			c->key1 = xstrdup("");
	}
	if (ret == DB_DONE)
		ret = 0;
out:
	st->drv->finalize(stmt);
	return ret;
}

int
store_metrics_jobs(struct store *st, metric_count_vec *out, struct buf *err)
{
	return store_metrics_counts(st, sql_metrics_jobs, out, err);
}

int
store_metrics_tasks(struct store *st, metric_count_vec *out, struct buf *err)
{
	return store_metrics_counts(st, sql_metrics_tasks, out, err);
}

int
store_metrics_user_jobs(struct store *st, metric_count_vec *out,
    struct buf *err)
{
	return store_metrics_counts(st, sql_metrics_user_jobs, out, err);
}

int
store_metrics_oldest_queued(struct store *st, const char *queue,
    int64_t *queued_ms, struct buf *err)
{
	struct db_stmt *stmt = NULL;
	int ret;

	ret =
	    store_query(st, &stmt, sql_metrics_oldest_queued, err, "s", queue);
	return store_number(st, ret, stmt, 0, queued_ms, err);
}

/* ---- usage history (table `usage`, migration 0007) -------------------- */

/* The latest sample's rows: who was counted with jobs last time. */
static const char sql_usage_last[] =
    "SELECT username, running, waiting FROM usage"
    " WHERE at_ms = (SELECT max(at_ms) FROM usage)";
static const char sql_usage_add[] =
    "INSERT INTO usage (at_ms, username, running, waiting)"
    " VALUES ($1, $2, $3, $4)";
static const char sql_usage_prune[] = "DELETE FROM usage WHERE at_ms < $1";
static const char sql_usage_list[] =
    "SELECT at_ms, username, running, waiting FROM usage"
    " WHERE at_ms >= $1 AND ($2 = '' OR username = $2)"
    " ORDER BY at_ms, username LIMIT $3";

static struct usage_row *
store_usage_find(usage_row_vec *v, const char *username)
{
	struct usage_row *u;

	VEC_FOREACH (u, v) {
		if (strcmp(u->username, username) == 0)
			return u;
	}
	return NULL;
}

/* Add one job status's count to its user's row of `v`. */
static void
store_usage_count(usage_row_vec *v, const struct metric_count *c)
{
	struct usage_row *u = store_usage_find(v, c->key1);

	if (u == NULL) {
		u = VEC_ADD(v);
		memset(u, 0, sizeof(*u));
		u->username = xstrdup(c->key1);
	}
	if (c->key2 == NULL)
		return;
	if (strcmp(c->key2, "registered") == 0 ||
	    strcmp(c->key2, "assigned") == 0)
		u->waiting += c->n;
	else
		u->running += c->n;
}

static int
store_usage_add(struct store *st, int64_t at_ms, const struct usage_row *u,
    struct buf *err)
{
	return store_exec(st, sql_usage_add, err, NULL, "isii", at_ms,
	    u->username, u->running, u->waiting);
}

int
store_usage_sample(struct store *st, int64_t now_ms, int64_t keep_ms,
    int64_t *nrows, struct buf *err)
{
	metric_count_vec counts = VEC_INIT;
	usage_row_vec now = VEC_INIT;
	struct db_stmt *stmt = NULL;
	struct metric_count *c;
	struct usage_row *u;
	char *name;
	int ret;

	*nrows = 0;
	ret = store_metrics_user_jobs(st, &counts, err);
	if (ret < 0)
		goto out;
	VEC_FOREACH (c, &counts)
		store_usage_count(&now, c);
	/* Users with jobs at the last sample and none now: one row of zeros. */
	ret = store_prepare(st, &stmt, sql_usage_last, err);
	if (ret < 0)
		goto out;
	while ((ret = store_step(st, stmt, err)) == DB_ROW) {
		if (store_col_int64_or(st, stmt, 1, 0) == 0 &&
		    store_col_int64_or(st, stmt, 2, 0) == 0)
			continue;
		name = store_col_strdup(st, stmt, 0);
		if (name == NULL)
			continue;
		if (store_usage_find(&now, name) == NULL) {
			u = VEC_ADD(&now);
			memset(u, 0, sizeof(*u));
			u->username = name;
		} else {
			free(name);
		}
	}
	if (ret != DB_DONE)
		goto out;
	st->drv->finalize(stmt);
	stmt = NULL;
	VEC_FOREACH (u, &now) {
		ret = store_usage_add(st, now_ms, u, err);
		if (ret < 0)
			goto out;
		(*nrows)++;
	}
	ret = store_exec(st, sql_usage_prune, err, NULL, "i", now_ms - keep_ms);
out:
	st->drv->finalize(stmt);
	usage_row_vec_release(&now);
	metric_count_vec_release(&counts);
	return ret;
}

int
store_usage_list(struct store *st, int64_t since_ms, const char *username,
    int64_t limit, usage_row_vec *out, struct buf *err)
{
	struct db_stmt *stmt = NULL;
	struct usage_row *u;
	int ret;

	ret = store_query(st, &stmt, sql_usage_list, err, "isi", since_ms,
	    username != NULL ? username : "", limit);
	if (ret < 0)
		goto out;
	while ((ret = store_step(st, stmt, err)) == DB_ROW) {
		u = VEC_ADD(out);
		u->at_ms = st->drv->col_int64(stmt, 0);
		u->username = store_col_strdup(st, stmt, 1);
		u->running = st->drv->col_int64(stmt, 2);
		u->waiting = st->drv->col_int64(stmt, 3);
		if (u->username == NULL)
			u->username = xstrdup("");
	}
	if (ret == DB_DONE)
		ret = 0;
out:
	st->drv->finalize(stmt);
	return ret;
}
