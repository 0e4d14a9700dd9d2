/*
 * store-pilot.c - what the pilot writes: node health, steps of the task
 * state machine, launches, ends and requeues, as core decided them
 * (task_step(), job_step()).  Each function is a part of one transaction
 * the pilot opens; each guards on the state it expects, so a cycle
 * repeated after a crash changes nothing twice.
 */
#include "store/store-int.h"

static const char sql_node_health_get[] =
    "SELECT id, ready, memory_pressure, disk_pressure, reachable, memory"
    " FROM node WHERE name = $1";
static const char sql_node_health_set[] =
    "UPDATE node SET ready = $2, memory_pressure = $3, disk_pressure = $4,"
    " last_seen_ms = $5, reachable = 1 WHERE id = $1";
/* Not seen: last_seen_ms stays when the backend last saw it. */
static const char sql_node_unreachable_set[] =
    "UPDATE node SET ready = 0, reachable = 0 WHERE id = $1";
static const char sql_node_reachable[] =
    "SELECT name FROM node WHERE reachable = 1 ORDER BY name";
/* Apart, and only when needed: it wakes the pilot (migration 0018). */
static const char sql_node_memory_fill[] =
    "UPDATE node SET memory = $2 WHERE id = $1 AND memory = 0";

static const char sql_task_state[] =
    "SELECT status, coalesce(signal, ''), remove_files, out_dir, account_id,"
    " coalesce(requeue_from, -1), coalesce(queue_from, 0) FROM task"
    " WHERE id = $1";
static const char sql_task_jobs_refs[] =
    "SELECT id, attempts FROM job WHERE task_id = $1 ORDER BY id";
static const char sql_task_delete[] = "DELETE FROM task WHERE id = $1";
/*
 * The moves: $1 the task, $2 the state moved from, $3: 1 = only the test
 * job (index 0); their last parameter: only jobs below this index (a
 * chunk, store_task_move_bound), INT64_MAX for all.  A chunk of $3 jobs
 * from index $4 on ends below the index of the one after it.  The events
 * and the move to assigned also take a lowest index (0 but for a chunk,
 * which starts at the task's queue_from, or a retry's requeue_from).
 */
static const char sql_move_bound[] =
    "SELECT idx FROM job WHERE task_id = $1 AND status = $2 AND idx >= $4"
    " ORDER BY idx LIMIT 1 OFFSET $3";
static const char sql_move_events[] =
    "INSERT INTO event (time_ms, kind, account_id, task_id, job_id,"
    " old_status, new_status, detail)"
    " SELECT $4, 'job', account_id, task_id, id, status, $5, $6 FROM job"
    " WHERE task_id = $1 AND status = $2 AND ($3 = 0 OR idx = 0)"
    " AND idx < $7 AND idx >= $8";
static const char sql_move_registered[] =
    "UPDATE job SET status = 'registered', exit_code = NULL,"
    " peak_memory = NULL, cpu_ms = NULL,"
    " node_id = NULL, gpu_index = NULL, handle = NULL, queued_ms = NULL,"
    " started_ms = NULL, ended_ms = NULL, is_test = 0, lost = 0,"
    " log_tail = NULL, end_reason = NULL, priority = 0"
    " WHERE task_id = $1 AND status = $2 AND ($3 = 0 OR idx = 0)"
    " AND idx < $4";
static const char sql_move_assigned[] =
    "UPDATE job SET status = 'assigned', queued_ms = $4,"
    " is_test = CASE WHEN $5 = 1 THEN 1 ELSE is_test END, lost = 0,"
    " node_id = NULL, gpu_index = NULL, exit_code = NULL,"
    " peak_memory = NULL, cpu_ms = NULL,"
    " started_ms = NULL, ended_ms = NULL, log_tail = NULL,"
    " end_reason = NULL"
    " WHERE task_id = $1 AND status = $2 AND ($3 = 0 OR idx = 0)"
    " AND idx < $6 AND idx >= $7";
/* Past the chunk of a retry just moved; NULL after its last. */
static const char sql_task_requeue_set[] =
    "UPDATE task SET requeue_from = $2 WHERE id = $1";
/*
 * Past the chunk of registered jobs just moved; NULL after the last, or
 * when jobs move back to registered (migration 0023).
 */
static const char sql_task_queue_from_set[] =
    "UPDATE task SET queue_from = $2 WHERE id = $1";
static const char sql_move_ended[] =
    "UPDATE job SET status = $5, ended_ms = $4, end_reason = $6"
    " WHERE task_id = $1 AND status = $2 AND ($3 = 0 OR idx = 0)"
    " AND idx < $7";
static const char sql_move_kill[] =
    "UPDATE job SET status = 'kill'"
    " WHERE task_id = $1 AND status = $2 AND ($3 = 0 OR idx = 0)"
    " AND idx < $4";
static const char sql_task_step[] =
    "UPDATE task SET status = $2,"
    " signal = CASE WHEN $3 = 1 THEN NULL ELSE signal END,"
    " dirty = CASE WHEN $4 = 1 OR marks <> $7 THEN 1 ELSE 0 END,"
    " updated_ms = $5,"
    " ended_ms = CASE WHEN $6 = 1 THEN coalesce(ended_ms, $5) ELSE NULL END,"
    " warned = CASE WHEN $6 = 1 THEN warned ELSE 0 END,"
    " requeue_from = CASE WHEN $2 = 'running' THEN requeue_from ELSE NULL"
    " END"
    " WHERE id = $1";

/*
 * A row when it was waiting, with what start() needs: the columns of
 * sql_job_launch_get (store_job_launch_read), each of another table a
 * subquery, as RETURNING takes no join.
 */
#define STORE_JOB_TASK(col) \
	" (SELECT t." col " FROM task t WHERE t.id = job.task_id)"
#define STORE_JOB_ACCOUNT(col) \
	" (SELECT a." col " FROM task t JOIN account a"                  \
	" ON a.id = t.account_id WHERE t.id = job.task_id)"
static const char sql_job_place[] =
    "UPDATE job SET status = 'pending', node_id = $2, gpu_index = $3,"
    " priority = $4, memory = $5, attempts = attempts + 1,"
    " handle = CAST(id AS TEXT) || '-' || CAST(attempts + 1 AS TEXT)"
    " WHERE id = $1 AND status = 'assigned'"
    " RETURNING id, attempts," STORE_JOB_ACCOUNT("username") ","
    STORE_JOB_TASK("name") ", command," STORE_JOB_TASK("image") ","
    STORE_JOB_TASK("out_dir") ","
    " (SELECT n.name FROM node n WHERE n.id = job.node_id), gpu_index,"
    STORE_JOB_TASK("timeout_ms") "," STORE_JOB_TASK("account_id") ","
    STORE_JOB_ACCOUNT("unix_user") ", lost, memory";
static const char sql_job_launch_get[] =
    "SELECT j.id, j.attempts, a.username, t.name, j.command, t.image,"
    " t.out_dir, n.name, j.gpu_index, t.timeout_ms, a.id, a.unix_user,"
    " j.lost, j.memory FROM job j"
    " JOIN task t ON t.id = j.task_id JOIN account a ON a.id = t.account_id"
    " LEFT JOIN node n ON n.id = j.node_id WHERE j.id = $1";
/*
 * A row when it started (it was pending): the time it was queued.  The
 * status is compared through coalesce() (never NULL: the same test) so
 * that it cannot drive an index: PostgreSQL, its statistics saying few
 * jobs are pending, found job_queued (then (status, queue, queued_ms))
 * as cheap as the key, took it and walked the "pending" entries, live
 * and dead, at each start (with 300 jobs pending, 0.21 ms a start
 * against 0.17 on the key); job_wait leads with the status too.
 */
static const char sql_job_started[] =
    "UPDATE job SET status = 'running', started_ms = $3"
    " WHERE id = $1 AND attempts = $2 AND coalesce(status, '') = 'pending'"
    " RETURNING queued_ms";
static const char sql_job_held[] =
    "SELECT id, attempts, status, lost FROM job"
    " WHERE status IN ('pending', 'running', 'kill') ORDER BY id";
static const char sql_job_current[] =
    "SELECT status, task_id, node_id, queued_ms, started_ms FROM job"
    " WHERE id = $1 AND attempts = $2"
    " AND status IN ('pending', 'running', 'kill')";
static const char sql_job_end[] =
    "UPDATE job SET status = $3, exit_code = $4,"
    " started_ms = coalesce(started_ms, $5), ended_ms = $6, log_tail = $7,"
    " end_reason = $8, peak_memory = $9, cpu_ms = $10"
    " WHERE id = $1 AND attempts = $2";
static const char sql_job_tail[] =
    "UPDATE job SET log_tail = $3 WHERE id = $1 AND attempts = $2"
    " AND ended_ms IS NOT NULL AND (log_tail IS NULL OR log_tail = '')";
static const char sql_job_requeue[] =
    "UPDATE job SET status = 'assigned', lost = lost + 1, node_id = NULL,"
    " gpu_index = NULL, started_ms = NULL, end_reason = $3"
    " WHERE id = $1 AND attempts = $2";
/*
 * Its status changed: the tasks that run after it look again.  Marked
 * even when dirty already: one of them may have been read before this
 * change, in the same round, and its step must not clear the mark
 * (migration 0025).
 */
static const char sql_task_wake_after[] =
    "UPDATE task SET dirty = 1, marks = marks + 1 WHERE id IN"
    " (SELECT task_id FROM task_dep WHERE after_id = $1)";
static const char sql_task_mark[] =
    "UPDATE task SET dirty = 1, marks = marks + 1, updated_ms = $2"
    " WHERE id = $1";

/*
 * Node `name` as the backend reports it (reachable) or as it cannot
 * (not reachable: not ready, its pressure flags as last reported).
 */
static int
store_node_health(struct store *st, const char *name, bool reachable,
    bool ready, bool memory_pressure, bool disk_pressure, int64_t memory,
    bool *changed,
    struct buf *err)
{
	struct db_stmt *stmt = NULL;
	struct event ev = { .kind = "node" };
	struct buf detail = BUF_INIT;
	int64_t id, known;
	bool was_ready, was_mem, was_disk, was_reach, was_healthy, healthy;
	int ret;

	*changed = false;
	ret = store_query(st, &stmt, sql_node_health_get, err, "s", name);
	if (ret < 0)
		return ret;
	ret = store_step(st, stmt, err);
	if (ret != DB_ROW) {
		st->drv->finalize(stmt);
		return ret < 0 ? ret : 0;
	}
	id = st->drv->col_int64(stmt, 0);
	was_ready = st->drv->col_int64(stmt, 1) != 0;
	was_mem = st->drv->col_int64(stmt, 2) != 0;
	was_disk = st->drv->col_int64(stmt, 3) != 0;
	was_reach = st->drv->col_int64(stmt, 4) != 0;
	known = st->drv->col_int64(stmt, 5);
	st->drv->finalize(stmt);
	if (reachable)
		ret = store_exec(st, sql_node_health_set, err, NULL,
		    "iiiii", id, (int64_t)ready, (int64_t)memory_pressure,
		    (int64_t)disk_pressure, time_now_ms());
	else
		ret = store_exec(st, sql_node_unreachable_set, err, NULL,
		    "i", id);
	if (ret == 0 && reachable && known == 0 && memory > 0)
		ret = store_exec(st, sql_node_memory_fill, err, NULL, "ii", id,
		    memory);
	if (ret < 0)
		return ret;
	if (!reachable) {
		ready = false;
		memory_pressure = was_mem;
		disk_pressure = was_disk;
	}
	if (was_ready == ready && was_mem == memory_pressure &&
	    was_disk == disk_pressure && was_reach == reachable)
		return 0;
	*changed = true;
	if (reachable)
		buf_addf(&detail,
		    "ready=%d memory_pressure=%d disk_pressure=%d", ready,
		    memory_pressure, disk_pressure);
	else
		buf_adds(&detail,
		    "unreachable: the backend does not run jobs on it");
	was_healthy = place_healthy(was_ready, was_mem, was_disk);
	healthy = place_healthy(ready, memory_pressure, disk_pressure);
	ev.node_id = id;
	ev.old_status = place_health_name(was_healthy);
	ev.new_status = place_health_name(healthy);
	ev.detail = detail.data;
	ret = store_event_add(st, &ev, err);
	/* The admins hear of a turn, not of each flag (SPEC: once). */
	if (ret == 0 && was_healthy != healthy)
		ret = store_mail_node(st, id, name, healthy, detail.data,
		    time_now_ms(), err);
	buf_release(&detail);
	return ret;
}

int
store_node_set_health(struct store *st, const char *name, bool ready,
    bool memory_pressure, bool disk_pressure, int64_t memory, bool *changed,
    struct buf *err)
{
	return store_node_health(st, name, true, ready, memory_pressure,
	    disk_pressure, memory, changed, err);
}

int
store_node_set_unreachable(struct store *st, const char *name, bool *changed,
    struct buf *err)
{
	return store_node_health(st, name, false, false, false, false, 0,
	    changed, err);
}

int
store_node_reachable(struct store *st, store_str_vec *out, struct buf *err)
{
	return store_names(st, sql_node_reachable, out, err);
}

/* The rows of a task to be removed, and its directory if asked. */
static int
store_task_remove(struct store *st, int64_t task_id, bool remove_files,
    const char *out_dir, job_ref_vec *removed, char **remove_dir,
    struct buf *err)
{
	struct db_stmt *stmt = NULL;
	struct job_ref *r;
	int ret;

	ret = store_query(st, &stmt, sql_task_jobs_refs, err, "i", task_id);
	if (ret < 0)
		return ret;
	while ((ret = store_step(st, stmt, err)) == DB_ROW) {
		r = VEC_ADD(removed);
		r->job_id = st->drv->col_int64(stmt, 0);
		r->attempt = st->drv->col_int64(stmt, 1);
	}
	st->drv->finalize(stmt);
	if (ret < 0)
		return ret;
	ret = store_exec(st, sql_task_delete, err, NULL, "i", task_id);
	if (ret == 0 && remove_files)
		*remove_dir = xstrdup(out_dir);
	return ret;
}

/*
 * The index below which `m` moves, from index `lowest` on: with a limit,
 * that of the first job past it (the events and the update then take the
 * same jobs); else, or when fewer jobs are left, past every index.
 */
static int
store_task_move_bound(struct store *st, int64_t task_id, const char *from,
    int64_t limit, int64_t lowest, int64_t *bound, struct buf *err)
{
	struct db_stmt *stmt = NULL;
	int ret;

	*bound = INT64_MAX;
	if (limit <= 0)
		return 0;
	ret = store_query(st, &stmt, sql_move_bound, err, "isii", task_id, from,
	    limit, lowest);
	return store_number(st, ret, stmt, INT64_MAX, bound, err);
}

/* The task's cursors: where its chunks of each kind start. */
struct store_task_cursors {
	int64_t requeue_from; /* a retry's failed jobs; -1: none left */
	int64_t queue_from;   /* its registered jobs; 0 when NULL */
};

/*
 * Move the jobs of `m`.  A chunk of a retry (m->requeue) takes the failed
 * jobs from index `requeue_from` on (-1: none left, it moves nothing), and
 * moves the task's cursor past them (NULL after the last), in the same
 * transaction.  A chunk of registered jobs does the same from queue_from,
 * which any move back to registered clears (migration 0023).
 */
static int
store_task_move(struct store *st, int64_t task_id, const struct job_move *m,
    struct store_task_cursors *c, const char *reason, int64_t now,
    struct buf *err)
{
	const char *from = job_status_name(m->from);
	const char *to = job_status_name(m->to);
	int64_t test = m->test_only ? 1 : 0, bound, lowest = 0;
	bool chunk = m->limit > 0 && !m->requeue;
	int ret;

	if (m->requeue &&
	    (m->from != JOB_FAILED || m->to != JOB_ASSIGNED || m->limit <= 0))
		BUG("a retry's chunk moves %s -> %s", from, to);
	if (chunk && (m->from != JOB_REGISTERED || m->to != JOB_ASSIGNED))
		BUG("a chunk moves %s -> %s", from, to);
	if (m->requeue)
		lowest = c->requeue_from;
	else if (chunk)
		lowest = c->queue_from;
	if (lowest < 0)
		return 0;
	ret = store_task_move_bound(st, task_id, from, m->limit, lowest, &bound,
	    err);
	if (ret < 0)
		return ret;
	if (m->limit > 0 && bound != INT64_MAX)
		st->chunk_whole = true;
	ret = store_exec(st, sql_move_events, err, NULL, "isiissii", task_id,
	    from, test, now, to, reason, bound, lowest);
	if (ret < 0)
		return ret;
	switch (m->to) {
	case JOB_REGISTERED:
		ret = store_exec(st, sql_move_registered, err, NULL, "isii",
		    task_id, from, test, bound);
		/* At most once a plan: a retry moves several states back. */
		if (ret == 0 && c->queue_from > 0) {
			ret = store_exec(st, sql_task_queue_from_set, err, NULL,
			    "in", task_id, (int64_t)-1);
			c->queue_from = 0;
		}
		return ret;
	case JOB_ASSIGNED:
		ret = store_exec(st, sql_move_assigned, err, NULL, "isiiiii",
		    task_id, from, test, now, (int64_t)(m->mark_test ? 1 : 0),
		    bound, lowest);
		if (ret == 0 && (m->requeue || chunk))
			ret = store_exec(st,
			    m->requeue ? sql_task_requeue_set
			               : sql_task_queue_from_set,
			    err, NULL, "in", task_id,
			    bound == INT64_MAX ? (int64_t)-1 : bound);
		return ret;
	case JOB_KILL:
		return store_exec(st, sql_move_kill, err, NULL, "isii", task_id,
		    from, test, bound);
	case JOB_KILLED:
	case JOB_BROKEN:
		return store_exec(st, sql_move_ended, err, NULL, "isiissi",
		    task_id, from, test, now, to, reason, bound);
	default:
		BUG("job move to %s", to);
	}
}

bool
store_task_chunk_whole(const struct store *st)
{
	return st->chunk_whole;
}

int
store_task_apply(struct store *st, const struct task_state_row *task,
    const struct task_plan *plan, job_ref_vec *removed, char **remove_dir,
    struct buf *err)
{
	int64_t task_id = task->id;
	enum task_status from = task->view.status;
	enum task_signal sig = task->view.signal;
	struct db_stmt *stmt = NULL;
	struct event ev = { .kind = "task" };
	int64_t now = time_now_ms(), account_id;
	struct store_task_cursors cursors;
	bool remove_files, changed, event;
	char *out_dir = NULL;
	size_t i;
	int ret;

	*remove_dir = NULL;
	st->chunk_whole = false;
	ret = store_query(st, &stmt, sql_task_state, err, "i", task_id);
	if (ret < 0)
		goto out;
	ret = store_step(st, stmt, err);
	if (ret == DB_DONE)
		ret = err_set(err, ERR_CONFLICT, "task %lld is gone",
		    (long long)task_id);
	if (ret < 0)
		goto out;
	if (strcmp(st->drv->col_text(stmt, 0), task_status_name(from)) != 0 ||
	    strcmp(st->drv->col_text(stmt, 1), task_signal_name(sig)) != 0) {
		ret = err_set(err, ERR_CONFLICT, "task %lld changed meanwhile",
		    (long long)task_id);
		goto out;
	}
	remove_files = st->drv->col_int64(stmt, 2) != 0;
	out_dir = store_col_strdup(st, stmt, 3);
	account_id = st->drv->col_int64(stmt, 4);
	/*
	 * Where a retry's chunk starts: the cursor, as the `from` state,
	 * guards it; the retry itself (from finalized) starts at 0.  A
	 * running task with no cursor has no failed job left to queue again.
	 */
	cursors.requeue_from = st->drv->col_int64(stmt, 5);
	if (from == TASK_FINALIZED)
		cursors.requeue_from = 0;
	cursors.queue_from = st->drv->col_int64(stmt, 6);
	st->drv->finalize(stmt);
	stmt = NULL;

	/*
	 * A chunk queued by a running task (moves, the same status) is no
	 * task event: its jobs' events say it.  It stays dirty all the same,
	 * for its next chunk.
	 */
	event = plan->next != from || plan->consume_signal || plan->remove;
	changed = event || plan->nmoves > 0;
	ev.time_ms = now; /* the same instant as its job events */
	ev.account_id = account_id;
	ev.task_id = task_id;
	ev.old_status = task_status_name(from);
	ev.new_status = task_status_name(plan->next);
	ev.detail = plan->reason;
	if (event) {
		ret = store_event_add(st, &ev, err);
		if (ret < 0)
			goto out;
	}
	if (plan->remove) {
		ret = store_task_remove(st, task_id, remove_files, out_dir,
		    removed, remove_dir, err);
		goto out;
	}
	for (i = 0; i < plan->nmoves; i++) {
		ret = store_task_move(st, task_id, &plan->moves[i], &cursors,
		    plan->reason, now, err);
		if (ret < 0)
			goto out;
	}
	if (st->tx_marked == task_id)
		st->tx_marked = 0; /* its dirty flag is set anew */
	ret = store_exec(st, sql_task_step, err, NULL, "isiiiii", task_id,
	    task_status_name(plan->next), (int64_t)plan->consume_signal,
	    (int64_t)changed, now,
	    (int64_t)(task_status_is_end(plan->next) && !plan->reset_retention),
	    task->marks);
	if (ret == 0 && plan->next != from)
		ret = store_exec(st, sql_task_wake_after, err, NULL, "i",
		    task_id);
	/* Its end's mail, in the transaction that records the end. */
	if (ret == 0 && task_status_is_end(plan->next) && plan->next != from)
		ret = store_mail_task(st, task_id, "task-end", now, err);
out:
	st->drv->finalize(stmt);
	free(out_dir);
	return ret;
}

void
job_launch_release(struct job_launch *l)
{
	free(l->task);
	free(l->username);
	free(l->command);
	free(l->image);
	free(l->out_dir);
	free(l->node);
	free(l->unix_user);
	memset(l, 0, sizeof(*l));
}

/* The row of sql_job_launch_get or sql_job_place, into `out`. */
static void
store_job_launch_read(struct store *st, struct db_stmt *stmt,
    struct job_launch *out)
{
	struct buf task = BUF_INIT;

	out->job_id = st->drv->col_int64(stmt, 0);
	out->attempt = st->drv->col_int64(stmt, 1);
	out->username = store_col_strdup(st, stmt, 2);
	names_task_full(&task, st->drv->col_text(stmt, 2),
	    st->drv->col_text(stmt, 3));
	out->task = buf_detach(&task);
	out->command = store_col_strdup(st, stmt, 4);
	out->image = store_col_strdup(st, stmt, 5);
	out->out_dir = store_col_strdup(st, stmt, 6);
	out->node = store_col_strdup(st, stmt, 7);
	out->gpu_index = store_col_int64_or(st, stmt, 8, -1);
	out->timeout_ms = st->drv->col_int64(stmt, 9);
	out->account_id = st->drv->col_int64(stmt, 10);
	out->unix_user = store_col_strdup(st, stmt, 11);
	out->lost = st->drv->col_int64(stmt, 12);
	out->memory = st->drv->col_int64(stmt, 13);
}

int
store_job_launch_get(struct store *st, int64_t job_id, struct job_launch *out,
    struct buf *err)
{
	struct db_stmt *stmt = NULL;
	int ret;

	ret = store_query(st, &stmt, sql_job_launch_get, err, "i", job_id);
	if (ret == 0)
		ret = store_step(st, stmt, err);
	if (ret == DB_DONE)
		ret = err_set(err, ERR_NOTFOUND, "no job %lld",
		    (long long)job_id);
	if (ret == DB_ROW)
		store_job_launch_read(st, stmt, out);
	st->drv->finalize(stmt);
	return ret < 0 ? ret : 0;
}

/*
 * A job of the task changed: the pilot is to look at the task again.
 * Once a transaction is enough (a cycle records dozens of ends of one
 * task), unless the task's step set the flag anew since.
 */
static int
store_task_mark(struct store *st, int64_t task_id, struct buf *err)
{
	if (st->in_tx && st->tx_marked == task_id)
		return 0;
	if (st->in_tx)
		st->tx_marked = task_id;
	return store_later(st, sql_task_mark, err, "ii", task_id,
	    time_now_ms());
}

/* One job event; `detail` may be NULL. */
static int
store_job_event(struct store *st, int64_t job_id, const char *from,
    const char *to, const char *detail, struct buf *err)
{
	static const char sql[] =
	    "INSERT INTO event (time_ms, kind, account_id, task_id, job_id,"
	    " node_id, old_status, new_status, detail)"
	    " SELECT $2, 'job', account_id, task_id, id, node_id, $3, $4, $5"
	    " FROM job WHERE id = $1";

	return store_later(st, sql, err, "iisss", job_id, time_now_ms(),
	    from, to, detail ? detail : "");
}

int
store_job_place(struct store *st, int64_t job_id, int64_t node_id,
    int64_t gpu_index, double priority, int64_t memory, struct job_launch *out,
    struct buf *err)
{
	struct job_place p = { job_id, node_id, gpu_index, priority, memory };

	return store_job_place_all(st, &p, 1, out, err);
}

int
store_job_place_all(struct store *st, const struct job_place *places,
    size_t n, struct job_launch *out, struct buf *err)
{
	struct db_stmt **stmts = xcalloc(n + 1, sizeof(*stmts));
	const struct job_place *p;
	size_t i;
	int ret = 0;

	for (i = 0; i < n && ret == 0; i++) {
		p = &places[i];
		ret = store_query(st, &stmts[i], sql_job_place, err, "iindi",
		    p->job_id, p->node_id, p->gpu_index, p->priority,
		    p->memory);
	}
	if (ret == 0)
		ret = store_step_all(st, stmts, n, err);
	for (i = 0; i < n && ret == 0; i++) {
		ret = store_step(st, stmts[i], err);
		if (ret == DB_DONE)
			ret = err_set(err, ERR_CONFLICT,
			    "job %lld is not waiting",
			    (long long)places[i].job_id);
		if (ret == DB_ROW) {
			store_job_launch_read(st, stmts[i], &out[i]);
			ret = store_job_event(st, places[i].job_id,
			    "assigned", "pending", NULL, err);
		}
	}
	for (i = 0; i < n; i++)
		st->drv->finalize(stmts[i]);
	free(stmts);
	return ret;
}

/* The row of sql_job_current, if any (ret DB_ROW), into `now`. */
static int
store_job_now_read(struct store *st, struct db_stmt *stmt, int ret,
    struct store_job_now *now, struct buf *err)
{
	if (ret != DB_ROW)
		return ret < 0 ? ret : 0;
	now->found = true;
	now->task_id = st->drv->col_int64(stmt, 1);
	now->node_id = store_col_int64_or(st, stmt, 2, 0);
	now->queued_ms = store_col_int64_or(st, stmt, 3, 0);
	now->started_ms = store_col_int64_or(st, stmt, 4, 0);
	return job_status_parse(st->drv->col_text(stmt, 0), &now->status,
	    err);
}

int
store_job_now_read_ahead(struct store *st, const int64_t *job_ids,
    const int64_t *attempts, size_t n, struct buf *err)
{
	struct db_stmt **stmts;
	struct store_job_now *now;
	size_t i;
	int ret = 0;

	/* Where a statement costs no round trip, reading ahead saves none. */
	if (!st->in_tx || st->drv->step_all == NULL || n == 0)
		return 0;
	stmts = xcalloc(n, sizeof(*stmts));
	for (i = 0; i < n && ret == 0; i++)
		ret = store_query(st, &stmts[i], sql_job_current, err, "ii",
		    job_ids[i], attempts[i]);
	if (ret == 0)
		ret = store_step_all(st, stmts, n, err);
	for (i = 0; i < n && ret == 0; i++) {
		now = VEC_ADD(&st->ahead);
		now->job_id = job_ids[i];
		now->attempt = attempts[i];
		ret = store_job_now_read(st, stmts[i],
		    store_step(st, stmts[i], err), now, err);
	}
	for (i = 0; i < n; i++)
		st->drv->finalize(stmts[i]);
	free(stmts);
	if (ret < 0)
		st->ahead.n = 0;
	return ret;
}

/*
 * The job's current state: read ahead in this transaction (each row used
 * once: the caller changes the job next), else read now.
 */
static int
store_job_now(struct store *st, int64_t job_id, int64_t attempt,
    struct store_job_now *now, struct buf *err)
{
	struct db_stmt *stmt = NULL;
	size_t i;
	int ret;

	for (i = 0; i < st->ahead.n; i++) {
		if (st->ahead.v[i].job_id == job_id &&
		    st->ahead.v[i].attempt == attempt) {
			*now = st->ahead.v[i];
			st->ahead.v[i] = st->ahead.v[--st->ahead.n];
			return 0;
		}
	}
	memset(now, 0, sizeof(*now));
	ret =
	    store_query(st, &stmt, sql_job_current, err, "ii", job_id, attempt);
	if (ret == 0)
		ret = store_step(st, stmt, err);
	ret = store_job_now_read(st, stmt, ret, now, err);
	st->drv->finalize(stmt);
	return ret;
}

int
store_job_started(struct store *st, int64_t job_id, int64_t attempt,
    int64_t started_ms, struct buf *err)
{
	return store_job_started_all(st, &job_id, &attempt, 1, started_ms,
	    err);
}

int
store_job_started_all(struct store *st, const int64_t *job_ids,
    const int64_t *attempts, size_t n, int64_t started_ms, struct buf *err)
{
	struct db_stmt **stmts = xcalloc(n + 1, sizeof(*stmts));
	int64_t queued_ms;
	size_t i;
	int ret = 0;

	for (i = 0; i < n && ret == 0; i++)
		ret = store_query(st, &stmts[i], sql_job_started, err, "iii",
		    job_ids[i], attempts[i], started_ms);
	if (ret == 0)
		ret = store_step_all(st, stmts, n, err);
	for (i = 0; i < n && ret == 0; i++) {
		ret = store_step(st, stmts[i], err);
		if (ret != DB_ROW)
			continue; /* not pending: nothing to do */
		queued_ms = store_col_int64_or(st, stmts[i], 0, 0);
		ret = 0;
		if (queued_ms > 0)
			ret = store_stat_observe(st, STAT_JOB_WAIT,
			    (started_ms - queued_ms) * 1000, err);
		if (ret == 0)
			ret = store_job_event(st, job_ids[i], "pending",
			    "running", NULL, err);
	}
	for (i = 0; i < n; i++)
		st->drv->finalize(stmts[i]);
	free(stmts);
	return ret < 0 ? ret : 0;
}

int
store_job_held(struct store *st, job_held_vec *out, struct buf *err)
{
	struct db_stmt *stmt = NULL;
	struct job_held *h;
	int ret;

	ret = store_prepare(st, &stmt, sql_job_held, err);
	if (ret < 0)
		return ret;
	while ((ret = store_step(st, stmt, err)) == DB_ROW) {
		h = VEC_ADD(out);
		h->job_id = st->drv->col_int64(stmt, 0);
		h->attempt = st->drv->col_int64(stmt, 1);
		ret = job_status_parse(st->drv->col_text(stmt, 2), &h->status,
		    err);
		if (ret < 0)
			break;
		h->lost = st->drv->col_int64(stmt, 3);
	}
	st->drv->finalize(stmt);
	return ret;
}

/*
 * The run time of a job that started (the time recorded, else the one the
 * backend gives now), and the wait of one whose start is learnt only now.
 */
static int
store_job_end_stats(struct store *st, const struct store_job_now *now,
    int64_t started_ms, int64_t ended_ms, struct buf *err)
{
	int64_t start = now->started_ms > 0 ? now->started_ms : started_ms;
	int ret;

	if (start <= 0)
		return 0;
	if (now->status == JOB_PENDING && now->queued_ms > 0) {
		ret = store_stat_observe(st, STAT_JOB_WAIT,
		    (start - now->queued_ms) * 1000, err);
		if (ret < 0)
			return ret;
	}
	return store_stat_observe(st, STAT_JOB_RUN, (ended_ms - start) * 1000,
	    err);
}

int
store_job_ended(struct store *st, int64_t job_id, int64_t attempt,
    enum job_status to, int64_t exit_code, int64_t started_ms, int64_t ended_ms,
    const char *log_tail, const char *reason, const struct job_usage *usage,
    struct buf *err)
{
	struct store_job_now now;
	int ret;

	ret = store_job_now(st, job_id, attempt, &now, err);
	if (ret < 0 || !now.found)
		return ret;
	ret = store_job_event(st, job_id, job_status_name(now.status),
	    job_status_name(to), reason, err);
	if (ret < 0)
		return ret;
	ret = store_job_end_stats(st, &now, started_ms, ended_ms, err);
	if (ret < 0)
		return ret;
	ret = store_later(st, sql_job_end, err, "iisnIissnn", job_id,
	    attempt, job_status_name(to), exit_code,
	    started_ms > 0 ? started_ms : 0, ended_ms, log_tail, reason,
	    usage != NULL ? usage->peak_memory : -1,
	    usage != NULL ? usage->cpu_ms : -1);
	if (ret < 0)
		return ret;
	ret = store_history_record(st, job_id, attempt, err);
	if (ret < 0)
		return ret;
	if (now.node_id != 0 && (to == JOB_DONE || to == JOB_FAILED)) {
		ret =
		    store_node_ends(st, now.node_id, (int64_t)(to == JOB_DONE),
		        (int64_t)(to == JOB_FAILED), err);
		if (ret < 0)
			return ret;
	}
	return store_task_mark(st, now.task_id, err);
}

int
store_job_set_tail(struct store *st, int64_t job_id, int64_t attempt,
    const char *log_tail, struct buf *err)
{
	return store_exec(st, sql_job_tail, err, NULL, "iis", job_id, attempt,
	    log_tail);
}

int
store_job_requeue(struct store *st, int64_t job_id, int64_t attempt,
    const char *reason, struct buf *err)
{
	struct store_job_now now;
	int ret;

	ret = store_job_now(st, job_id, attempt, &now, err);
	if (ret < 0 || !now.found)
		return ret;
	ret = store_job_event(st, job_id, job_status_name(now.status),
	    "assigned", reason, err);
	if (ret < 0)
		return ret;
	ret = store_later(st, sql_job_requeue, err, "iis", job_id, attempt,
	    reason);
	if (ret < 0)
		return ret;
	return store_task_mark(st, now.task_id, err);
}

static const char sql_pilot_beat_set[] =
    "INSERT INTO pilot_beat (id, host, pid, started_ms, last_cycle_ms,"
    " interval_ms, stopped_ms) VALUES (1, $1, $2, $3, $4, $5, NULL)"
    " ON CONFLICT (id) DO UPDATE SET host = excluded.host,"
    " pid = excluded.pid, started_ms = excluded.started_ms,"
    " last_cycle_ms = excluded.last_cycle_ms,"
    " interval_ms = excluded.interval_ms, stopped_ms = NULL";
static const char sql_pilot_beat_stop[] =
    "UPDATE pilot_beat SET stopped_ms = $1 WHERE id = 1 AND pid = $2"
    " AND host = $3";
static const char sql_pilot_beat_get[] =
    "SELECT host, pid, started_ms, last_cycle_ms, interval_ms, stopped_ms"
    " FROM pilot_beat WHERE id = 1";

int
store_pilot_beat_set(struct store *st, const struct pilot_beat *b,
    struct buf *err)
{
	return store_exec(st, sql_pilot_beat_set, err, NULL, "siiii", b->host,
	    b->pid, b->started_ms, b->last_cycle_ms, b->interval_ms);
}

int
store_pilot_beat_stop(struct store *st, const struct pilot_beat *b,
    int64_t now_ms, struct buf *err)
{
	return store_exec(st, sql_pilot_beat_stop, err, NULL, "iis", now_ms,
	    b->pid, b->host);
}

int
store_pilot_beat_get(struct store *st, struct pilot_beat *b, struct buf *err)
{
	struct db_stmt *stmt = NULL;
	char *host;
	int ret;

	memset(b, 0, sizeof(*b));
	ret = store_prepare(st, &stmt, sql_pilot_beat_get, err);
	if (ret < 0)
		goto out;
	ret = store_step(st, stmt, err);
	if (ret == DB_ROW) {
		b->known = true;
		host = store_col_strdup(st, stmt, 0);
		snprintf(b->host, sizeof(b->host), "%s", host ? host : "");
		free(host);
		b->pid = store_col_int64_or(st, stmt, 1, 0);
		b->started_ms = store_col_int64_or(st, stmt, 2, 0);
		b->last_cycle_ms = store_col_int64_or(st, stmt, 3, 0);
		b->interval_ms = store_col_int64_or(st, stmt, 4, 0);
		b->stopped_ms = store_col_int64_or(st, stmt, 5, 0);
	}
	if (ret >= 0)
		ret = 0;
out:
	st->drv->finalize(stmt);
	return ret;
}
