/*
 * store-task.c - tasks and their jobs.
 */
#include "store/store-int.h"

#define TASK_COLUMNS                                                           \
	"t.id, t.account_id, a.username, t.name, t.queue, t.image,"            \
	" t.command, t.inputs, t.data_path, t.out_dir, t.gpu, t.skip_test,"    \
	" t.timeout_ms, t.retention_ms, t.status, t.signal, t.njobs,"          \
	" t.submitted_ms, t.updated_ms, t.ended_ms, t.after_tasks,"            \
	" t.after_any_tasks, t.inputs_of_task, t.memory, t.requeue_from"

static const char sql_task_insert[] =
    "INSERT INTO task (account_id, name, queue, image, command, inputs,"
    " data_path, out_dir, gpu, skip_test, timeout_ms, retention_ms, njobs,"
    " submitted_ms, updated_ms, after_tasks, after_any_tasks, inputs_of,"
    " inputs_of_task, memory)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,"
    " $14, $15, $16, $17, $18, $19) RETURNING id";
static const char sql_task_get[] =
    "SELECT " TASK_COLUMNS " FROM task t JOIN account a"
    " ON a.id = t.account_id WHERE t.account_id = $1 AND t.name = $2";
/* $2 = -1 and $3 = '' select every user and every status. */
static const char sql_task_list[] =
    "SELECT " TASK_COLUMNS " FROM task t JOIN account a"
    " ON a.id = t.account_id"
    " WHERE ($1 = 0 OR t.account_id = $1) AND ($2 = '' OR t.status = $2)"
    " AND t.id > $3 ORDER BY t.id LIMIT $4";
/*
 * The tasks of the page ($3, $4]: their rows of task_count (kept by
 * triggers, migration 0011), and for the statuses that hold a slot the
 * highest priority, one seek each on job_task (task_id, status, priority).
 */
static const char sql_task_list_counts[] =
    "SELECT c.task_id, c.status, c.n,"
    " CASE WHEN c.status IN ('pending', 'running', 'kill') THEN"
    " (SELECT max(j.priority) FROM job j WHERE j.task_id = c.task_id"
    " AND j.status = c.status) END"
    " FROM task_count c WHERE c.n > 0 AND c.task_id IN"
    " (SELECT t.id FROM task t WHERE ($1 = 0 OR t.account_id = $1)"
    " AND ($2 = '' OR t.status = $2) AND t.id > $3 AND t.id <= $4)";
static const char sql_task_count_jobs[] =
    "SELECT status, n FROM task_count WHERE task_id = $1 AND n > 0";
static const char sql_task_set_signal[] =
    "UPDATE task SET signal = $2, dirty = 1, marks = marks + 1,"
    " updated_ms = $3 WHERE id = $1";

static const char sql_job_list[] =
    "SELECT j.id, j.task_id, j.idx, j.input, j.command, j.status,"
    " j.is_test, j.priority, n.name, j.gpu_index, j.handle, j.attempts,"
    " j.exit_code, j.queued_ms, j.started_ms, j.ended_ms, j.end_reason,"
    " j.log_tail, j.memory, j.peak_memory, j.cpu_ms"
    " FROM job j LEFT JOIN node n ON n.id = j.node_id"
    " WHERE j.task_id = $1 AND j.idx > $3 AND ($4 = '' OR j.status = $4)"
    " ORDER BY j.idx LIMIT $2";

static int
store_task_read(struct store *st, struct db_stmt *stmt, struct task *t,
    struct buf *err)
{
	const char *sig;
	int ret;

	t->id = st->drv->col_int64(stmt, 0);
	t->account_id = st->drv->col_int64(stmt, 1);
	t->username = store_col_strdup(st, stmt, 2);
	t->name = store_col_strdup(st, stmt, 3);
	t->queue = store_col_strdup(st, stmt, 4);
	t->image = store_col_strdup(st, stmt, 5);
	t->command = store_col_strdup(st, stmt, 6);
	t->inputs = store_col_strdup(st, stmt, 7);
	t->data_path = store_col_strdup(st, stmt, 8);
	t->out_dir = store_col_strdup(st, stmt, 9);
	t->gpu = st->drv->col_int64(stmt, 10) != 0;
	t->skip_test = st->drv->col_int64(stmt, 11) != 0;
	t->timeout_ms = st->drv->col_int64(stmt, 12);
	t->retention_ms = store_col_int64_or(st, stmt, 13, -1);
	ret = task_status_parse(st->drv->col_text(stmt, 14), &t->status, err);
	if (ret < 0)
		return ret;
	sig = st->drv->col_text(stmt, 15);
	t->signal = SIGNAL_NONE;
	if (sig != NULL) {
		ret = task_signal_parse(sig, &t->signal, err);
		if (ret < 0)
			return ret;
	}
	t->njobs = st->drv->col_int64(stmt, 16);
	t->submitted_ms = st->drv->col_int64(stmt, 17);
	t->updated_ms = st->drv->col_int64(stmt, 18);
	t->ended_ms = store_col_int64_or(st, stmt, 19, 0);
	t->after = store_col_strdup(st, stmt, 20);
	t->after_any = store_col_strdup(st, stmt, 21);
	t->inputs_of = store_col_strdup(st, stmt, 22);
	t->memory = st->drv->col_int64(stmt, 23);
	t->requeue_from = store_col_int64_or(st, stmt, 24, -1);
	t->requeue = t->requeue_from >= 0 && t->status == TASK_RUNNING;
	return 0;
}

int
store_task_insert(struct store *st, struct task *t, struct buf *err)
{
	struct db_stmt *stmt = NULL;
	int ret;

	ret = store_query(st, &stmt, sql_task_insert, err,
	    "isssssssiiiniissIsi", t->account_id, t->name, t->queue,
	    t->image ? t->image : "", t->command, t->inputs ? t->inputs : "",
	    t->data_path, t->out_dir, (int64_t)t->gpu, (int64_t)t->skip_test,
	    t->timeout_ms, t->retention_ms, t->njobs, t->submitted_ms,
	    t->after ? t->after : "", t->after_any ? t->after_any : "",
	    t->inputs_of_id > 0 ? t->inputs_of_id : 0,
	    t->inputs_of ? t->inputs_of : "", t->memory);
	if (ret < 0)
		goto out;
	ret = store_step(st, stmt, err);
	if (ret == ERR_CONFLICT) {
		err_set(err, ret, "task '%s' already exists", t->name);
		goto out;
	}
	if (ret != DB_ROW)
		goto out;
	t->id = st->drv->col_int64(stmt, 0);
	t->status = TASK_REGISTERED;
	t->signal = SIGNAL_NONE;
	ret = store_step_done(st, stmt, err);
out:
	st->drv->finalize(stmt);
	return ret;
}

int
store_task_get(struct store *st, int64_t account_id, const char *name,
    struct task *out, struct buf *err)
{
	struct db_stmt *stmt = NULL;
	int ret;

	ret = store_query(st, &stmt, sql_task_get, err, "is", account_id, name);
	if (ret < 0)
		goto out;
	ret = store_step(st, stmt, err);
	if (ret == DB_DONE)
		ret = err_set(err, ERR_NOTFOUND, "no task '%s'", name);
	if (ret != DB_ROW)
		goto out;
	ret = store_task_read(st, stmt, out, err);
	if (ret < 0)
		task_release(out);
out:
	st->drv->finalize(stmt);
	return ret;
}

int
store_task_list(struct store *st, const struct task_filter *f, task_vec *out,
    struct buf *err)
{
	struct db_stmt *stmt = NULL;
	int ret;

	ret = store_query(st, &stmt, sql_task_list, err, "isii", f->account_id,
	    f->status < 0 ? "" : task_status_name((enum task_status)f->status),
	    f->after_id, f->limit > 0 ? f->limit : INT64_MAX);
	if (ret < 0)
		goto out;
	while ((ret = store_step(st, stmt, err)) == DB_ROW) {
		ret = store_task_read(st, stmt, VEC_ADD(out), err);
		if (ret < 0)
			break;
	}
out:
	st->drv->finalize(stmt);
	return ret;
}

int
store_task_list_counts(struct store *st, const struct task_filter *f,
    task_vec *tasks, struct buf *err)
{
	struct db_stmt *stmt = NULL;
	enum job_status s;
	struct task *t;
	size_t lo, hi, mid;
	int64_t id;
	int ret;

	VEC_FOREACH (t, tasks)
		t->has_summary = true;
	if (tasks->n == 0)
		return 0;
	ret = store_query(st, &stmt, sql_task_list_counts, err, "isii",
	    f->account_id,
	    f->status < 0 ? "" : task_status_name((enum task_status)f->status),
	    f->after_id, tasks->v[tasks->n - 1].id);
	if (ret < 0)
		goto out;
	while ((ret = store_step(st, stmt, err)) == DB_ROW) {
		id = st->drv->col_int64(stmt, 0);
		/* The page is by id: find the task by bisection. */
		lo = 0;
		hi = tasks->n;
		while (lo < hi) {
			mid = lo + (hi - lo) / 2;
			if (tasks->v[mid].id < id)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == tasks->n || tasks->v[lo].id != id)
			continue; /* submitted since the page was read */
		t = &tasks->v[lo];
		ret = job_status_parse(st->drv->col_text(stmt, 1), &s, err);
		if (ret < 0)
			break;
		t->counts[s] = st->drv->col_int64(stmt, 2);
		if (!st->drv->col_is_null(stmt, 3) &&
		    (!t->has_priority ||
		        st->drv->col_double(stmt, 3) > t->priority)) {
			t->has_priority = true;
			t->priority = st->drv->col_double(stmt, 3);
		}
	}
	if (ret == DB_DONE)
		ret = 0;
out:
	st->drv->finalize(stmt);
	return ret;
}

int
store_task_count_jobs(struct store *st, int64_t task_id,
    int64_t counts[JOB_NSTATUS], struct buf *err)
{
	struct db_stmt *stmt = NULL;
	enum job_status s;
	int ret;

	memset(counts, 0, sizeof(int64_t) * JOB_NSTATUS);
	ret = store_query(st, &stmt, sql_task_count_jobs, err, "i", task_id);
	if (ret < 0)
		goto out;
	while ((ret = store_step(st, stmt, err)) == DB_ROW) {
		ret = job_status_parse(st->drv->col_text(stmt, 0), &s, err);
		if (ret < 0)
			break;
		counts[s] = st->drv->col_int64(stmt, 1);
	}
out:
	st->drv->finalize(stmt);
	return ret;
}

int
store_task_set_signal(struct store *st, int64_t task_id, enum task_signal sig,
    struct buf *err)
{
	return store_exec(st, sql_task_set_signal, err, NULL, "isi", task_id,
	    sig == SIGNAL_NONE ? NULL : task_signal_name(sig), time_now_ms());
}

/*
 * Jobs go in by chunks of STORE_JOB_CHUNK rows per INSERT: one statement
 * (and, on PostgreSQL, one round trip) per chunk instead of per job.  The
 * task's columns are the parameters $1..$5 of every row.
 */
#define STORE_JOB_CHUNK 256

struct store_job_row {
	int64_t idx;
	char *input;
	char *command;
};

struct store_job_inserter {
	struct store *st;
	const struct task *t;
	struct store_job_row rows[STORE_JOB_CHUNK];
	size_t nrows;
	bool counted;  /* task_count is ours to keep (db.h, jobs_counted) */
	int64_t added; /* jobs inserted so far */
};

/* The jobs one transaction added to a task, counted (migration 0022). */
static const char sql_task_count_add[] =
    "INSERT INTO task_count (task_id, status, n)"
    " VALUES ($1, 'registered', $2) ON CONFLICT (task_id, status)"
    " DO UPDATE SET n = task_count.n + EXCLUDED.n";

int
store_job_insert_begin(struct store *st, const struct task *t,
    struct store_job_inserter **out, struct buf *err)
{
	(void)err;
	*out = xcalloc(1, sizeof(**out));
	(*out)->st = st;
	(*out)->t = t;
	(*out)->counted =
	    st->drv->jobs_counted != NULL && st->drv->jobs_counted(st->db);
	return 0;
}

static void
store_job_clear_rows(struct store_job_inserter *ins)
{
	size_t i;

	for (i = 0; i < ins->nrows; i++) {
		free(ins->rows[i].input);
		free(ins->rows[i].command);
	}
	ins->nrows = 0;
}

static int
store_job_flush(struct store_job_inserter *ins, struct buf *err)
{
	struct store *st = ins->st;
	struct db_stmt *stmt = NULL;
	struct buf sql = BUF_INIT;
	size_t i;
	int ret, p;

	if (ins->nrows == 0)
		return 0;
	buf_adds(&sql,
	    "INSERT INTO job (task_id, idx, account_id, queue, gpu,"
	    " submitted_ms, input, command) VALUES ");
	for (i = 0, p = 6; i < ins->nrows; i++, p += 3)
		buf_addf(&sql, "%s($1, $%d, $2, $3, $4, $5, $%d, $%d)",
		    i ? ", " : "", p, p + 1, p + 2);
	ret = store_prepare(st, &stmt, sql.data, err);
	if (ret < 0)
		goto out;
	st->drv->bind_int64(stmt, 1, ins->t->id);
	st->drv->bind_int64(stmt, 2, ins->t->account_id);
	st->drv->bind_text(stmt, 3, ins->t->queue);
	st->drv->bind_int64(stmt, 4, ins->t->gpu ? 1 : 0);
	st->drv->bind_int64(stmt, 5, ins->t->submitted_ms);
	for (i = 0, p = 6; i < ins->nrows; i++, p += 3) {
		st->drv->bind_int64(stmt, p, ins->rows[i].idx);
		st->drv->bind_text(stmt, p + 1, ins->rows[i].input);
		st->drv->bind_text(stmt, p + 2, ins->rows[i].command);
	}
	/* Its failure fails the transaction (store_later). */
	ret = store_step_later(st, stmt, err);
	if (ret == 0)
		ins->added += (int64_t)ins->nrows;
out:
	st->drv->finalize(stmt);
	store_job_clear_rows(ins);
	buf_release(&sql);
	return ret;
}

int
store_job_insert_add(struct store_job_inserter *ins, int64_t idx,
    const char *input, const char *command, struct buf *err)
{
	struct store_job_row *r = &ins->rows[ins->nrows++];

	r->idx = idx;
	r->input = input ? xstrdup(input) : NULL;
	r->command = xstrdup(command);
	if (ins->nrows < STORE_JOB_CHUNK)
		return 0;
	return store_job_flush(ins, err);
}

int
store_job_insert_finish(struct store_job_inserter *ins, struct buf *err)
{
	int ret;

	ret = store_job_flush(ins, err);
	if (ret == 0 && ins->counted && ins->added > 0)
		ret = store_later(ins->st, sql_task_count_add, err, "ii",
		    ins->t->id, ins->added);
	ins->added = 0;
	return ret;
}

void
store_job_insert_end(struct store_job_inserter *ins)
{
	if (ins == NULL)
		return;
	store_job_clear_rows(ins);
	free(ins);
}

int
store_job_list(struct store *st, int64_t task_id, int64_t after_idx,
    int64_t limit, int status, job_vec *out, struct buf *err)
{
	struct db_stmt *stmt = NULL;
	struct job *j;
	int ret;

	ret = store_query(st, &stmt, sql_job_list, err, "iiis", task_id,
	    limit > 0 ? limit : INT64_MAX, after_idx,
	    status < 0 ? "" : job_status_name((enum job_status)status));
	if (ret < 0)
		goto out;
	while ((ret = store_step(st, stmt, err)) == DB_ROW) {
		j = VEC_ADD(out);
		j->id = st->drv->col_int64(stmt, 0);
		j->task_id = st->drv->col_int64(stmt, 1);
		j->idx = st->drv->col_int64(stmt, 2);
		j->input = store_col_strdup(st, stmt, 3);
		j->command = store_col_strdup(st, stmt, 4);
		ret = job_status_parse(st->drv->col_text(stmt, 5), &j->status,
		    err);
		if (ret < 0)
			break;
		j->is_test = st->drv->col_int64(stmt, 6) != 0;
		j->priority = st->drv->col_double(stmt, 7);
		j->node = store_col_strdup(st, stmt, 8);
		j->gpu_index = store_col_int64_or(st, stmt, 9, -1);
		j->handle = store_col_strdup(st, stmt, 10);
		j->attempts = st->drv->col_int64(stmt, 11);
		j->exit_code = store_col_int64_or(st, stmt, 12, -1);
		j->queued_ms = store_col_int64_or(st, stmt, 13, 0);
		j->started_ms = store_col_int64_or(st, stmt, 14, 0);
		j->ended_ms = store_col_int64_or(st, stmt, 15, 0);
		j->end_reason = store_col_strdup(st, stmt, 16);
		j->log_tail = store_col_strdup(st, stmt, 17);
		j->memory = st->drv->col_int64(stmt, 18);
		j->peak_memory = store_col_int64_or(st, stmt, 19, -1);
		j->cpu_ms = store_col_int64_or(st, stmt, 20, -1);
	}
out:
	st->drv->finalize(stmt);
	return ret;
}

static const char sql_task_get_id[] =
    "SELECT " TASK_COLUMNS " FROM task t JOIN account a"
    " ON a.id = t.account_id WHERE t.id = $1";
static const char sql_task_set_remove_files[] =
    "UPDATE task SET remove_files = 1 WHERE id = $1";

int
store_task_get_id(struct store *st, int64_t id, struct task *out,
    struct buf *err)
{
	struct db_stmt *stmt = NULL;
	int ret;

	ret = store_query(st, &stmt, sql_task_get_id, err, "i", id);
	if (ret < 0)
		goto out;
	ret = store_step(st, stmt, err);
	if (ret == DB_DONE)
		ret = err_set(err, ERR_NOTFOUND, "no task with id %lld",
		    (long long)id);
	if (ret != DB_ROW)
		goto out;
	ret = store_task_read(st, stmt, out, err);
	if (ret < 0)
		task_release(out);
out:
	st->drv->finalize(stmt);
	return ret;
}

int
store_task_set_remove_files(struct store *st, int64_t task_id, struct buf *err)
{
	return store_exec(st, sql_task_set_remove_files, err, NULL, "i",
	    task_id);
}

/*
 * The dirty tasks with, per job state, whether any of their jobs is in
 * it (1 or 0: the state machine only asks whether a state has jobs and
 * whether all jobs are in given states), and their test job.  Each EXISTS
 * is one seek on job_task (task_id, status, priority): the cost follows
 * the tasks, not their jobs.
 */
/*
 * A registered task waits for a task it runs after that has not ended as
 * it asks (core/after.c's after_dep_met(), in SQL); a registered task
 * waits for this one.  One seek each, on task_dep's keys.
 */
#define STORE_WAITS                                                             \
	"CASE WHEN t.status = 'registered' AND EXISTS (SELECT 1"                \
	" FROM task_dep d JOIN task a ON a.id = d.after_id"                     \
	" WHERE d.task_id = t.id AND a.status <> 'done' AND NOT (d.any_end = 1" \
	" AND a.status IN ('finalized', 'broken', 'killed')))"                  \
	" THEN 1 ELSE 0 END"
#define STORE_WAITED_FOR                                                       \
	" CASE WHEN EXISTS (SELECT 1 FROM task_dep d JOIN task b"              \
	" ON b.id = d.task_id WHERE d.after_id = t.id"                         \
	" AND b.status = 'registered') THEN 1 ELSE 0 END"
/*
 * A running task's retry has failed jobs left to queue again, from its
 * cursor on (migration 0020): one seek on job's (task_id, idx).
 */
#define STORE_REQUEUE                                                          \
	" CASE WHEN t.requeue_from IS NOT NULL AND EXISTS (SELECT 1"           \
	" FROM job j WHERE j.task_id = t.id AND j.status = 'failed'"           \
	" AND j.idx >= t.requeue_from) THEN 1 ELSE 0 END"
/*
 * Has the task a job in state s?  One seek on job_task (task_id, status,
 * priority), the order it gives asked for: with EXISTS, PostgreSQL's
 * statistics of a moment after 100,000 jobs changed state (before its
 * autovacuum analyzed them: still "registered") chose a scan of the
 * whole table, 27 ms a cycle; LIMIT 1 in the index's order keeps the
 * seek whatever they say.
 */
#define STORE_HAS(s)                                                           \
	" (SELECT 1 FROM job j WHERE j.task_id = t.id AND j.status = '" s "'"  \
	" ORDER BY j.task_id, j.status, j.priority LIMIT 1) IS NOT NULL,"
static const char sql_task_dirty[] =
    "SELECT t.id, t.status, t.signal, t.skip_test," STORE_HAS("registered") STORE_HAS(
        "assigned") STORE_HAS("pending") STORE_HAS("running") STORE_HAS("done")
        STORE_HAS("failed") STORE_HAS("kill") STORE_HAS("killed") STORE_HAS(
            "broken") " (SELECT j.status FROM job j WHERE j.task_id = t.id AND j.idx = 0),"
                      " (SELECT j.exit_code FROM job j WHERE j.task_id = t.id AND j.idx = 0),"
                      " CASE WHEN t.status IN ('done', 'finalized', 'broken', 'killed')"
                      " AND t.ended_ms IS NOT NULL AND coalesce(t.retention_ms, $1) > 0"
                      " AND t.ended_ms + coalesce(t.retention_ms, $1) <= $2 THEN 1 ELSE 0 END,"
                      " " STORE_WAITS "," STORE_WAITED_FOR ","
                      " CASE WHEN t.inputs_of IS NOT NULL AND t.njobs = 0 THEN 1 ELSE 0 END,"
                      " " STORE_REQUEUE ", t.marks"
                      " FROM task t WHERE t.dirty = 1 ORDER BY t.id";

int
store_task_dirty(struct store *st, task_state_vec *out, struct buf *err)
{
	struct db_stmt *stmt = NULL;
	struct task_state_row *r;
	const char *sig, *test;
	int ret, i;

	ret = store_query(st, &stmt, sql_task_dirty, err, "ii",
	    st->retention_ms, time_now_ms());
	if (ret < 0)
		goto out;
	while ((ret = store_step(st, stmt, err)) == DB_ROW) {
		r = VEC_ADD(out);
		r->id = st->drv->col_int64(stmt, 0);
		ret = task_status_parse(st->drv->col_text(stmt, 1),
		    &r->view.status, err);
		if (ret < 0)
			goto out;
		sig = st->drv->col_text(stmt, 2);
		r->view.signal = SIGNAL_NONE;
		if (sig != NULL) {
			ret = task_signal_parse(sig, &r->view.signal, err);
			if (ret < 0)
				goto out;
		}
		r->view.skip_test = st->drv->col_int64(stmt, 3) != 0;
		for (i = 0; i < JOB_NSTATUS; i++)
			r->view.njobs[i] = st->drv->col_int64(stmt, 4 + i) != 0;
		test = st->drv->col_text(stmt, 4 + JOB_NSTATUS);
		r->view.test_status = JOB_REGISTERED;
		if (test != NULL) {
			ret = job_status_parse(test, &r->view.test_status, err);
			if (ret < 0)
				goto out;
		}
		r->view.test_exit_code =
		    (int)store_col_int64_or(st, stmt, 5 + JOB_NSTATUS, -1);
		r->view.retention_expired =
		    st->drv->col_int64(stmt, 6 + JOB_NSTATUS) != 0;
		r->view.waits = st->drv->col_int64(stmt, 7 + JOB_NSTATUS) != 0;
		r->view.waited_for =
		    st->drv->col_int64(stmt, 8 + JOB_NSTATUS) != 0;
		r->view.inputs_pending =
		    st->drv->col_int64(stmt, 9 + JOB_NSTATUS) != 0;
		r->view.requeue =
		    st->drv->col_int64(stmt, 10 + JOB_NSTATUS) != 0;
		r->marks = st->drv->col_int64(stmt, 11 + JOB_NSTATUS);
	}
out:
	st->drv->finalize(stmt);
	return ret < 0 ? ret : 0;
}

/* ---- tasks that wait for tasks ---------------------------------------- */

static const char sql_task_after_add[] =
    "INSERT INTO task_dep (task_id, after_id, any_end) VALUES ($1, $2, $3)"
    " ON CONFLICT (task_id, after_id) DO UPDATE SET"
    " any_end = CASE WHEN task_dep.any_end = 0 THEN 0 ELSE EXCLUDED.any_end"
    " END";
/* Its jobs done from task_count (migration 0011): one seek. */
static const char sql_task_afters[] =
    "SELECT a.username, t.name, d.any_end, t.status, t.njobs,"
    " coalesce((SELECT c.n FROM task_count c WHERE c.task_id = t.id"
    " AND c.status = 'done'), 0)"
    " FROM task_dep d JOIN task t ON t.id = d.after_id"
    " JOIN account a ON a.id = t.account_id"
    " WHERE d.task_id = $1 ORDER BY d.after_id";
static const char sql_task_waiters[] =
    "SELECT a.username, t.name FROM task_dep d JOIN task t"
    " ON t.id = d.task_id JOIN account a ON a.id = t.account_id"
    " WHERE d.after_id = $1 AND t.status = 'registered' ORDER BY t.id";

int
store_task_after_add(struct store *st, int64_t task_id, int64_t after_id,
    bool any_end, struct buf *err)
{
	return store_exec(st, sql_task_after_add, err, NULL, "iii", task_id,
	    after_id, (int64_t)any_end);
}

void
store_after_vec_release(store_after_vec *v)
{
	struct store_after *a;

	VEC_FOREACH (a, v)
		free(a->name);
	VEC_RELEASE(v);
}

int
store_task_afters(struct store *st, int64_t task_id, store_after_vec *out,
    struct buf *err)
{
	struct db_stmt *stmt = NULL;
	struct store_after *a;
	struct buf b = BUF_INIT;
	int ret;

	ret = store_query(st, &stmt, sql_task_afters, err, "i", task_id);
	if (ret < 0)
		goto out;
	while ((ret = store_step(st, stmt, err)) == DB_ROW) {
		buf_reset(&b);
		names_task_full(&b, st->drv->col_text(stmt, 0),
		    st->drv->col_text(stmt, 1));
		a = VEC_ADD(out);
		memset(a, 0, sizeof(*a));
		a->name = xstrdup(b.data);
		a->dep.name = a->name;
		a->dep.any_end = st->drv->col_int64(stmt, 2) != 0;
		ret = task_status_parse(st->drv->col_text(stmt, 3),
		    &a->dep.status, err);
		if (ret < 0)
			goto out;
		a->dep.njobs = st->drv->col_int64(stmt, 4);
		a->dep.ndone = st->drv->col_int64(stmt, 5);
	}
out:
	st->drv->finalize(stmt);
	buf_release(&b);
	return ret < 0 ? ret : 0;
}

int
store_task_waiters(struct store *st, int64_t after_id, store_str_vec *out,
    struct buf *err)
{
	struct db_stmt *stmt = NULL;
	struct buf b = BUF_INIT;
	int ret;

	ret = store_query(st, &stmt, sql_task_waiters, err, "i", after_id);
	if (ret < 0)
		goto out;
	while ((ret = store_step(st, stmt, err)) == DB_ROW) {
		buf_reset(&b);
		names_task_full(&b, st->drv->col_text(stmt, 0),
		    st->drv->col_text(stmt, 1));
		VEC_PUSH(out, xstrdup(b.data));
	}
out:
	st->drv->finalize(stmt);
	buf_release(&b);
	return ret < 0 ? ret : 0;
}

static const char sql_task_inputs_dir[] =
    "SELECT a.out_dir FROM task t JOIN task a ON a.id = t.inputs_of"
    " WHERE t.id = $1";
static const char sql_task_set_njobs[] =
    "UPDATE task SET njobs = $2 WHERE id = $1 AND njobs = 0";

int
store_task_inputs_dir(struct store *st, int64_t task_id, char **dir,
    struct buf *err)
{
	struct db_stmt *stmt = NULL;
	int ret;

	*dir = NULL;
	ret = store_query(st, &stmt, sql_task_inputs_dir, err, "i", task_id);
	if (ret < 0)
		goto out;
	ret = store_step(st, stmt, err);
	if (ret == DB_DONE)
		ret = err_set(err, ERR_NOTFOUND,
		    "task %lld takes its inputs from no task",
		    (long long)task_id);
	if (ret < 0)
		goto out;
	*dir = store_col_strdup(st, stmt, 0);
	ret = 0;
out:
	st->drv->finalize(stmt);
	return ret;
}

int
store_task_set_njobs(struct store *st, int64_t task_id, int64_t njobs,
    struct buf *err)
{
	return store_exec(st, sql_task_set_njobs, err, NULL, "ii", task_id,
	    njobs);
}
