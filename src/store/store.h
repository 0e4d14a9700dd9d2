/*
 * store.h - the only code that speaks SQL.
 *
 * Records are plain structs (core/records.h, for the layers that may not
 * see this header); their strings are owned by the record and freed by
 * its *_release().  Every function returns 0 (or a documented
 * positive value) on success and a negative ERR_* with `err` filled on
 * failure.  Functions that write do not open transactions of their own
 * unless they say so: the caller brackets a unit of work with
 * store_begin() and store_commit() (or store_rollback()).
 */
#ifndef ORCHESTRA_STORE_H
#define ORCHESTRA_STORE_H

#ifndef ORCHESTRA_SEES_STORE
#error "this module may not see store/ (tests/lint/layers.txt)"
#endif

#include "core/core.h"
#include "core/records.h"
#include "util/util.h"
#include "util/vec.h"

struct store;

/*
 * Open the database at `url`: "sqlite:PATH", a plain PATH (SQLite), or
 * "postgresql://…".  With `create`, a missing SQLite file is created, and
 * so is the schema of a database that has none; without it, a missing
 * file or a database with no schema (an empty file) is ERR_NOTFOUND and
 * nothing is written.  Migrations run when the schema is older than the
 * code (all in one transaction); a current schema is not written to.  Caller
 * frees with store_close().
 */
int store_open(struct store **out, const char *url, bool create,
    struct buf *err);
void store_close(struct store *st);

int store_begin(struct store *st, struct buf *err);
int store_commit(struct store *st, struct buf *err);
/* Never fails in a way the caller can act on; safe outside a transaction. */
void store_rollback(struct store *st);
/*
 * End the unit of work: commit when `ret` is 0 (and return what the
 * commit did), else roll back and return `ret`, `err` as the caller
 * filled it.  Safe after a store_begin() that failed.
 */
int store_end(struct store *st, int ret, struct buf *err);

/*
 * The file an SQLite `url` names (caller frees), or NULL when `url` is
 * served by another driver (a PostgreSQL server).
 */
char *store_url_file(const char *url);

/* Take the one-pilot lock (held until store_close); ERR_CONFLICT if taken. */
int store_pilot_lock(struct store *st, struct buf *err);
/* Is the lock still ours (see db.h)?  0, or ERR_CONFLICT / ERR_UNAVAILABLE. */
int store_pilot_check(struct store *st, struct buf *err);
/* Does a second pilot wait for the lock (true) or give up (false)? */
bool store_pilot_standby(struct store *st);
/* Wake a waiting pilot when the transaction commits. */
int store_notify(struct store *st, struct buf *err);
/* See db.h: change_fd() and changed(). */
int store_change_fd(struct store *st);
bool store_changed(struct store *st);
/*
 * See db.h: check() reads the whole database for damage (a malformed
 * page), 0 or ERR_UNAVAILABLE; damaged() is true once a statement was
 * refused because the database is malformed.
 */
int store_check(struct store *st, struct buf *err);
bool store_damaged(struct store *st);
/* See db.h: did the last transaction fail for want of space? */
bool store_full(struct store *st);
/*
 * The database's committed state, as text (db.h's version_sql), replacing
 * `out`.  Read on a connection that only ever reads it, two equal answers
 * mean that nothing was committed in between, by any connection.
 */
int store_data_version(struct store *st, struct buf *out, struct buf *err);

/* The schema version the database is at. */
int store_schema_version(struct store *st, int64_t *version, struct buf *err);

/*
 * Test-only fault injection: when ORCHESTRA_TEST_STORE_FAIL_AFTER=N is set
 * in the environment at store_open(), every statement step after the N-th
 * fails with ERR_UNAVAILABLE ("injected store fault").
 */

/* ---- accounts (store-account.c) -------------------------------------- */

/* Insert; sets a->id.  ERR_CONFLICT when the username is taken. */
int store_account_insert(struct store *st, struct account *a, struct buf *err);
/* ERR_NOTFOUND ("no user 'x'") when there is none. */
int store_account_get(struct store *st, const char *username,
    struct account *out, struct buf *err);
/*
 * Accounts by username: those after `after` (keyset; NULL from the first),
 * the first `limit` of them (0: all).  The username's UNIQUE index serves
 * both the order and the seek.
 */
int store_account_list(struct store *st, const char *after, int64_t limit,
    account_vec *out, struct buf *err);
/* Write email, max_priority, role and mail of the row with a->id. */
int store_account_update(struct store *st, const struct account *a,
    struct buf *err);

/* The accounts whose jobs the pilot cannot run now (hold IS NOT NULL). */
int store_account_held(struct store *st, account_vec *out, struct buf *err);
/* The account `id`: ERR_NOTFOUND when there is none. */
int store_account_get_id(struct store *st, int64_t id, struct account *out,
    struct buf *err);
/*
 * Set (why != NULL) or clear the pilot's hold on account `id`, with an
 * event when it changes; `*changed` says whether it did.
 */
int store_account_set_hold(struct store *st, int64_t id, const char *why,
    bool *changed, struct buf *err);
/* Store argon2id `hash` (NULL: none) as the password of account `id`. */
int store_account_set_password(struct store *st, int64_t id, const char *hash,
    struct buf *err);
/* *out: the stored hash (caller frees), NULL when none is set. */
int store_account_password(struct store *st, int64_t id, char **out,
    struct buf *err);

/* ---- API tokens (store-token.c) ------------------------------------- */

/* Insert account_id, hash, created_ms and expires_ms; sets t->id. */
int store_token_insert(struct store *st, struct token *t, struct buf *err);
/*
 * The account's tokens by id: those with id > after_id (keyset; 0 from
 * the first), the first `limit` of them (0: all).
 */
int store_token_list(struct store *st, int64_t account_id, int64_t after_id,
    int64_t limit, token_vec *out, struct buf *err);
/*
 * By id, or by hash (`hash` non-NULL); ERR_NOTFOUND when there is none.
 * `owner`, unless NULL, gets its account, read in the same statement
 * (serve checks a token at each request).
 */
int store_token_get(struct store *st, int64_t id, const char *hash,
    struct token *out, struct account *owner, struct buf *err);
/*
 * Revoke at `now_ms` every token of account `account_id` not revoked
 * yet; *n (may be NULL) gets how many.
 */
int store_token_revoke_all(struct store *st, int64_t account_id, int64_t now_ms,
    int64_t *n, struct buf *err);
/* Set revoked_ms or last_used_ms of token `id`. */
int store_token_revoke(struct store *st, int64_t id, int64_t now_ms,
    struct buf *err);
int store_token_touch(struct store *st, int64_t id, int64_t now_ms,
    struct buf *err);

/* ---- nodes (store-node.c) -------------------------------------------- */

/* Insert; sets n->id.  ERR_CONFLICT when the name is taken. */
int store_node_insert(struct store *st, struct node *n, struct buf *err);
/* With usage.  ERR_NOTFOUND ("no node 'x'") when there is none. */
int store_node_get(struct store *st, const char *name, struct node *out,
    struct buf *err);
/*
 * Fill nodes[i].jobs with the jobs holding their slots, by job id, at most
 * max_cpu_slots + max_gpu_slots a node: one query for all of them.
 */
int store_node_add_jobs(struct store *st, struct node *nodes, size_t nnodes,
    struct buf *err);
/*
 * Nodes by name, with usage: those after `after` (keyset; NULL from the
 * first), the first `limit` of them (0: all).  The name's UNIQUE index
 * serves both the order and the seek.
 */
int store_node_list(struct store *st, const char *after, int64_t limit,
    node_vec *out, struct buf *err);
/*
 * Write queue, slots, bounds and enabled of the row with n->id.  The
 * database's CHECK refuses slots above their bounds: ERR_INVALID.
 */
int store_node_update(struct store *st, const struct node *n, struct buf *err);
/* 1 when some node serves `queue`, else 0. */
int store_queue_exists(struct store *st, const char *queue, struct buf *err);
/* 1 when some node of `queue` has max_gpu_slots > 0, else 0. */
int store_queue_has_gpu(struct store *st, const char *queue, struct buf *err);
/*
 * The most memory (bytes) a node of the queue with slots of the kind has,
 * into *memory; 0 when one's memory is not known (then nothing is too
 * big) or none has such slots.
 */
int store_queue_memory(struct store *st, const char *queue, bool gpu,
    int64_t *memory, struct buf *err);

/* ---- tasks and jobs (store-task.c) ----------------------------------- */

/* Insert with its status registered; sets t->id. ERR_CONFLICT: name taken. */
int store_task_insert(struct store *st, struct task *t, struct buf *err);
/* ERR_NOTFOUND when the user has no such task. */
int store_task_get(struct store *st, int64_t account_id, const char *name,
    struct task *out, struct buf *err);

struct task_filter {
	int64_t account_id; /* 0: every user */
	int status;         /* -1: any, else an enum task_status */
	int64_t after_id;   /* keyset: tasks with id > after_id */
	int64_t limit;      /* 0: no limit */
};
/* Tasks by id. */
int store_task_list(struct store *st, const struct task_filter *f,
    task_vec *out, struct buf *err);
/*
 * For the page `tasks` (by id, as store_task_list() gave them under `f`):
 * each one's job counts and the highest priority of its jobs holding a
 * slot, in one grouped query over the page's tasks alone.
 */
int store_task_list_counts(struct store *st, const struct task_filter *f,
    task_vec *tasks, struct buf *err);
/* How many of the task's jobs are in each state. */
int store_task_count_jobs(struct store *st, int64_t task_id,
    int64_t counts[JOB_NSTATUS], struct buf *err);
/* By id; ERR_NOTFOUND when there is none. */
int store_task_get_id(struct store *st, int64_t id, struct task *out,
    struct buf *err);
/* Ask that the task's output directory go with it when it is removed. */
int store_task_set_remove_files(struct store *st, int64_t task_id,
    struct buf *err);
/* A task the state machine must look at, with what it knows of it. */
struct task_state_row {
	int64_t id;
	int64_t marks; /* how often it was marked dirty (migration 0025) */
	struct task_view view;
};
typedef VEC(struct task_state_row) task_state_vec;
/*
 * The tasks marked dirty (a signal left, a job's state changed, retention
 * expired: store_retention_mark()), with their job counts, test job, and
 * whether their retention period is over (the task's own, else the
 * default given to store_mail_enable(); 0 keeps forever).
 */
int store_task_dirty(struct store *st, task_state_vec *out, struct buf *err);
/* Leave a signal on the task (marks it for the scheduler). */
int store_task_set_signal(struct store *st, int64_t task_id,
    enum task_signal sig, struct buf *err);

/*
 * Insert the jobs of one task, by chunks: store_job_insert_begin(),
 * store_job_insert_add() per job (a job may be written only at a later
 * add or at finish), store_job_insert_finish() to write the rest, then
 * store_job_insert_end() (also after a failure).  The task's account,
 * queue, gpu flag and submit time are copied into each job; `t` is
 * borrowed until the end.
 */
struct store_job_inserter;
int store_job_insert_begin(struct store *st, const struct task *t,
    struct store_job_inserter **out, struct buf *err);
int store_job_insert_add(struct store_job_inserter *ins, int64_t idx,
    const char *input, const char *command, struct buf *err);
int store_job_insert_finish(struct store_job_inserter *ins, struct buf *err);
void store_job_insert_end(struct store_job_inserter *ins);

/*
 * The task's jobs by index: those with idx > after_idx (keyset; -1 from
 * the first), the first `limit` of them (0: all), of status `status` only
 * (an enum job_status; -1: any).
 */
int store_job_list(struct store *st, int64_t task_id, int64_t after_idx,
    int64_t limit, int status, job_vec *out, struct buf *err);

/* ---- the scheduler's reads (store-sched.c) ---------------------------- */

/* Nodes as placement sees them: every node, by name, with its usage. */
int store_sched_nodes(struct store *st, node_vec *nodes, struct buf *err);

/*
 * The streams of one pool (queue, gpu): one per user with assigned jobs
 * there (and one more per user with an assigned test job), with the user's
 * max_priority, R (the user's jobs holding a slot, in any pool) and, for
 * a stream of jobs not tests, the user's running tasks of other pools
 * with their assigned jobs, kept in `before` (the streams point into it:
 * keep it while they are used).  The cookie of each stream is unused.
 * Replaces what `out` and `before` held.
 */
typedef VEC(struct sched_stream) sched_stream_vec;
int store_sched_streams(struct store *st, const char *queue, bool gpu,
    sched_stream_vec *out, sched_before_vec *before, struct buf *err);

/*
 * A sched_source reading a pool's assigned jobs from the store in each
 * stream's order with keyset pagination.  `ctx` points at a
 * struct store_sched_ctx that the caller fills and keeps alive.
 */
struct store_sched_ctx {
	struct store *st;
	const char *queue;
	bool gpu;
};
int store_sched_fetch(void *ctx, const struct sched_stream *s,
    const struct sched_job *after, size_t limit, sched_job_vec *out,
    struct buf *err);

/* A job as `orchestra queue` shows it. */
struct job_brief {
	int64_t id, task_id, account_id, idx;
	char *username, *task, *queue, *node;
	bool gpu, is_test;
	int64_t gpu_index; /* -1 if none */
	enum job_status status;
	double priority;
	int64_t started_ms;
};
typedef VEC(struct job_brief) job_brief_vec;
void job_brief_vec_release(job_brief_vec *v);

/* Jobs that hold a slot (pending, running, kill), highest priority first. */
int store_sched_holding(struct store *st, job_brief_vec *out, struct buf *err);

/* Per task, the jobs not queued yet (registered, or a retry's failed ones). */
struct task_group {
	int64_t task_id, account_id;
	char *username, *task, *queue;
	bool gpu;
	enum task_status task_status;
	/* registered, or failed: its retry queues them again (requeue_from) */
	enum job_status status;
	int64_t njobs;
};
typedef VEC(struct task_group) task_group_vec;
void task_group_vec_release(task_group_vec *v);
int store_sched_registered(struct store *st, task_group_vec *out,
    struct buf *err);

/* Queues that nodes serve or unfinished tasks use, sorted; caller frees. */
typedef VEC(char *) store_str_vec;
int store_queue_names(struct store *st, store_str_vec *out, struct buf *err);
/* ---- tasks that wait for tasks (migration 0015) ---- */
/* Task `task_id` runs after `after_id` (--after-any: `any_end`). */
int store_task_after_add(struct store *st, int64_t task_id, int64_t after_id,
    bool any_end, struct buf *err);
/* One task a task runs after, as core/after.c reads it. */
struct store_after {
	char *name;           /* full: user.alice.prep */
	struct after_dep dep; /* dep.name is `name` */
};
typedef VEC(struct store_after) store_after_vec;
void store_after_vec_release(store_after_vec *v);
/* The tasks that task `task_id` runs after, in the order given. */
int store_task_afters(struct store *st, int64_t task_id, store_after_vec *out,
    struct buf *err);
/*
 * The output directory of the task whose outputs are task `task_id`'s
 * inputs (--inputs-of) into `*dir` (caller frees).
 */
int store_task_inputs_dir(struct store *st, int64_t task_id, char **dir,
    struct buf *err);
/* The jobs of an --inputs-of task are written: it has `njobs`. */
int store_task_set_njobs(struct store *st, int64_t task_id, int64_t njobs,
    struct buf *err);
/* The full names of the registered tasks that run after `after_id`. */
int store_task_waiters(struct store *st, int64_t after_id, store_str_vec *out,
    struct buf *err);

/* ---- what the pilot writes (store-pilot.c) --------------------------- */

/*
 * Record the health the backend reports for node `name` (unknown nodes
 * are ignored).  *changed tells whether ready or a pressure flag moved;
 * an event is written then.  A node whose memory is not known (0) takes
 * `memory` (bytes; 0: the backend does not know it either); one known is
 * left as it is, an admin's to change.
 */
int store_node_set_health(struct store *st, const char *name, bool ready,
    bool memory_pressure, bool disk_pressure, int64_t memory, bool *changed,
    struct buf *err);
/*
 * Node `name` is not one the backend can run jobs on (it reported every
 * node it can, and not this one): not ready and unreachable, so it gets
 * no job; last_seen_ms stays.  *changed, and an event, as above.
 */
int store_node_set_unreachable(struct store *st, const char *name,
    bool *changed, struct buf *err);
/* The names of the nodes not marked unreachable, sorted; appends to `out`
 * (caller frees each and the array). */
int store_node_reachable(struct store *st, store_str_vec *out, struct buf *err);

/* A removed task's jobs, for the backend to forget. */
struct job_ref {
	int64_t job_id;
	int64_t attempt; /* the last attempt, 0 if never launched */
};
typedef VEC(struct job_ref) job_ref_vec;

/*
 * Carry out one step of the state machine for task `task`, as
 * store_task_dirty() read it when the plan was made: the job moves, the
 * task's new state, the signal consumed, events.  Nothing is written
 * when the task's status or signal changed meanwhile (returns
 * ERR_CONFLICT).  A plan that changes nothing clears the task's dirty
 * mark, unless the task was marked again since it was read.  For a
 * removal, the task's jobs are appended to `removed` and the output
 * directory to remove (when asked) is returned in *remove_dir (caller
 * frees; NULL if none).
 */
int store_task_apply(struct store *st, const struct task_state_row *task,
    const struct task_plan *plan, job_ref_vec *removed, char **remove_dir,
    struct buf *err);
/*
 * Did the last store_task_apply() queue a whole chunk (a move with a
 * limit that left jobs past it)?  A task's last chunk is not whole: its
 * time says nothing of a whole one's (the pilot sizes chunks by it).
 */
bool store_task_chunk_whole(const struct store *st);

/* What a backend needs to start a job. */
struct job_launch {
	int64_t job_id;
	int64_t attempt;
	char *task; /* "user.<username>.<task>" */
	char *username;
	char *command;
	char *image;
	char *out_dir;
	char *node;
	int64_t gpu_index; /* -1 for a CPU job */
	int64_t timeout_ms;
	int64_t account_id; /* the owner */
	char *unix_user;    /* the login the owner's jobs run as */
	int64_t lost;       /* attempts the infrastructure failed in this run */
	int64_t memory;     /* bytes it was placed with; 0: none asked */
};
void job_launch_release(struct job_launch *l);

/*
 * Place an assigned job: it becomes pending on `node_id` (and device),
 * with its priority, the memory it holds there and a new attempt.  Fills
 * `out`.  ERR_CONFLICT when the job is no longer assigned.
 */
int store_job_place(struct store *st, int64_t job_id, int64_t node_id,
    int64_t gpu_index, double priority, int64_t memory, struct job_launch *out,
    struct buf *err);
/* Where a job goes (store_job_place_all). */
struct job_place {
	int64_t job_id, node_id, gpu_index;
	double priority;
	int64_t memory;
};
/*
 * The same for `n` jobs (in one round trip on PostgreSQL), `out[i]` for
 * `places[i]`; the first error stops it (the caller rolls back).
 */
int store_job_place_all(struct store *st, const struct job_place *places,
    size_t n, struct job_launch *out, struct buf *err);
/* Read what start() needs for a job that is already placed. */
int store_job_launch_get(struct store *st, int64_t job_id,
    struct job_launch *out, struct buf *err);
/* pending -> running for this attempt; nothing if it moved on. */
int store_job_started(struct store *st, int64_t job_id, int64_t attempt,
    int64_t started_ms, struct buf *err);
/* The same for `n` attempts (in one round trip on PostgreSQL). */
int store_job_started_all(struct store *st, const int64_t *job_ids,
    const int64_t *attempts, size_t n, int64_t started_ms, struct buf *err);
/*
 * In a transaction, read the current state of `n` attempts together (in
 * one round trip on PostgreSQL; nothing on SQLite, where a read costs
 * none), for the store_job_ended() and store_job_requeue() of each that
 * follow in it.  Each row is used once; any other job's is read then.
 */
int store_job_now_read_ahead(struct store *st, const int64_t *job_ids,
    const int64_t *attempts, size_t n, struct buf *err);

/* A job that holds a slot, as the pilot polls it. */
struct job_held {
	int64_t job_id;
	int64_t attempt;
	enum job_status status;
	int64_t lost; /* attempts the infrastructure failed in this run */
};
typedef VEC(struct job_held) job_held_vec;
int store_job_held(struct store *st, job_held_vec *out, struct buf *err);

/*
 * Record a job's end as job_step() decided it (`to`: done, failed or
 * killed): its exit code (-1: none), times (`started_ms` 0: the one
 * recorded), the tail of its log, why it ended and what it used (`usage`
 * borrowed; NULL or -1: not known), on the job and its run in
 * job_history.  Counts a done or
 * failed job on its node and marks its task.  Nothing when that attempt
 * is no longer the job's current one.
 */
int store_job_ended(struct store *st, int64_t job_id, int64_t attempt,
    enum job_status to, int64_t exit_code, int64_t started_ms, int64_t ended_ms,
    const char *log_tail, const char *reason, const struct job_usage *usage,
    struct buf *err);
/*
 * The tail of the log of an ended attempt whose end was recorded without
 * it (read later, where a log costs an API request): set only where that
 * attempt is the job's current one, ended, and has no tail yet (NULL or
 * '').
 */
int store_job_set_tail(struct store *st, int64_t job_id, int64_t attempt,
    const char *log_tail, struct buf *err);

/*
 * Queue the job again as job_step() decided (the infrastructure failed
 * this attempt): assigned, lost + 1, no node, GPU or start time,
 * end_reason `reason`; marks its task.  Nothing when that attempt is no
 * longer the job's current one.
 */
int store_job_requeue(struct store *st, int64_t job_id, int64_t attempt,
    const char *reason, struct buf *err);

/* ---- events (store-event.c) ------------------------------------------- */

struct event {
	int64_t time_ms;  /* 0: now */
	const char *kind; /* "task", "job", "node", "account" */
	int64_t account_id, task_id, job_id, node_id; /* 0: none */
	const char *old_status, *new_status;          /* NULL: none */
	const char *detail;                           /* NULL: "" */
};
int store_event_add(struct store *st, const struct event *e, struct buf *err);
/* How many events there are (for tests and the dashboard). */
int store_event_count(struct store *st, int64_t *n, struct buf *err);

/* The events after id `after`, oldest first, at most `limit`. */
int store_event_since(struct store *st, int64_t after, int64_t limit,
    event_row_vec *out, struct buf *err);
/* The id of the latest event (0 when there is none). */
int store_event_last(struct store *st, int64_t *id, struct buf *err);

/* ---- sessions (store-session.c) --------------------------------------- */

/*
 * The dashboard's sign-in sessions (the session table): only a hash of
 * each cookie's secret is kept.  Times are epoch ms.
 */
struct session {
	int64_t id;
	int64_t account_id;
	char *username; /* the owner's */
	int64_t created_ms;
	int64_t last_used_ms;
	/* The token it was made from (0: a password's), and that token's
	 * revoked_ms and expires_ms as they are now (0: not revoked, never
	 * expires). */
	int64_t token_id;
	int64_t token_revoked_ms;
	int64_t token_expires_ms;
};
void session_release(struct session *s);

/*
 * A new session of `account_id` under `hash`, used now, made from token
 * `token_id` (0: from a password).
 */
int store_session_insert(struct store *st, int64_t account_id, int64_t token_id,
    const char *hash, int64_t now_ms, struct buf *err);
/* The session under `hash`; ERR_NOTFOUND when there is none. */
int store_session_get(struct store *st, const char *hash, struct session *out,
    struct buf *err);
/* Note that session `id` was used at `now_ms`. */
int store_session_touch(struct store *st, int64_t id, int64_t now_ms,
    struct buf *err);
/* Delete the session under `hash` (none: nothing happens). */
int store_session_delete(struct store *st, const char *hash, struct buf *err);
/* Delete every session last used before `before_ms`. */
int store_session_expire(struct store *st, int64_t before_ms, struct buf *err);
/* Delete the sessions made from token `token_id`; *n (may be NULL) gets
 * how many. */
int store_session_end_token(struct store *st, int64_t token_id, int64_t *n,
    struct buf *err);
/*
 * Delete the sessions of account `account_id`, or only those made from
 * a password when `passwords_only`; *n (may be NULL) gets how many.
 */
int store_session_end_account(struct store *st, int64_t account_id,
    bool passwords_only, int64_t *n, struct buf *err);

/* ---- metrics (store-stats.c) ------------------------------------------ */

/*
 * Cumulative measures (table `stat`, migration 0004): counters and
 * histograms that only grow, added to by whoever observes something, in
 * the transaction that records it.  A histogram row holds the
 * observations of one bucket alone; the reader cumulates.
 */
enum stat_hist {
	STAT_JOB_WAIT,    /* queued -> started, at the start */
	STAT_JOB_RUN,     /* started -> ended, at the end */
	STAT_PILOT_CYCLE, /* one successful pilot cycle */
	STAT_NHIST
};
/* At most this many finite bounds in a histogram. */
#define STAT_MAX_BOUNDS 16
struct stat_hist_def {
	const char *name;         /* the row's name in `stat` */
	const int64_t *bounds_us; /* finite upper bounds, ascending */
	size_t nbounds;
};
extern const struct stat_hist_def stat_hists[STAT_NHIST];
/* The bucket (its upper bound in µs, -1 for +Inf) of `value_us`. */
int64_t stat_hist_le(enum stat_hist h, int64_t value_us);

/* Names of the plain counters (le_us 0). */
#define STAT_BACKEND_ERRORS "backend_errors" /* label: the operation */
#define STAT_CYCLE_FAILURES "cycle_failures"

/* Add `count` observations summing `sum_us` to one row (made if absent). */
int store_stat_add(struct store *st, const char *name, const char *label,
    int64_t le_us, int64_t count, int64_t sum_us, struct buf *err);
/*
 * The pilot's heartbeat (table pilot_beat, one row): the pilot holding the
 * lock writes `b` (its host, pid, start, last cycle and period) and clears
 * any stop, or records its stop at `now_ms` (only if the row is still
 * its own); anyone reads it (b->known false: no pilot ever wrote it).
 */
int store_pilot_beat_set(struct store *st, const struct pilot_beat *b,
    struct buf *err);
int store_pilot_beat_stop(struct store *st, const struct pilot_beat *b,
    int64_t now_ms, struct buf *err);
int store_pilot_beat_get(struct store *st, struct pilot_beat *b,
    struct buf *err);

/* One observation of histogram `h`. */
int store_stat_observe(struct store *st, enum stat_hist h, int64_t value_us,
    struct buf *err);

struct stat_row {
	char *name;
	char *label;
	int64_t le_us, count, sum_us;
};
typedef VEC(struct stat_row) stat_row_vec;
void stat_row_vec_release(stat_row_vec *v);
/* Every row, by name, label and bound (-1, +Inf, last). */
int store_stat_list(struct store *st, stat_row_vec *out, struct buf *err);

/* A count by one or two keys (key2 NULL when there is one). */
struct metric_count {
	char *key1, *key2;
	int64_t n;
};
typedef VEC(struct metric_count) metric_count_vec;
void metric_count_vec_release(metric_count_vec *v);
/* Jobs by status (key1) and queue (key2). */
int store_metrics_jobs(struct store *st, metric_count_vec *out,
    struct buf *err);
/* Tasks by status (key1). */
int store_metrics_tasks(struct store *st, metric_count_vec *out,
    struct buf *err);
/*
 * Unfinished jobs (registered, assigned, pending, running, kill) by owner
 * (key1) and status (key2).
 */
int store_metrics_user_jobs(struct store *st, metric_count_vec *out,
    struct buf *err);
/* The earliest queued_ms of the queue's assigned jobs; 0 when none. */
int store_metrics_oldest_queued(struct store *st, const char *queue,
    int64_t *queued_ms, struct buf *err);

/* ---- usage history (store-stats.c, table `usage`) -------------------- */

/*
 * Record one sample at `now_ms`: a row per user with unfinished jobs,
 * and a row of zeros for each user who had some at the latest sample and
 * has none now (idle users write nothing after that); then delete the
 * samples older than `keep_ms`.  Call inside a transaction; *nrows gets
 * the rows written.
 */
int store_usage_sample(struct store *st, int64_t now_ms, int64_t keep_ms,
    int64_t *nrows, struct buf *err);
/*
 * At most `limit` samples from `since_ms` on, by time then user;
 * `username` NULL for everyone.  Appends to `out` (caller releases with
 * usage_row_vec_release).
 */
int store_usage_list(struct store *st, int64_t since_ms, const char *username,
    int64_t limit, usage_row_vec *out, struct buf *err);

/* ---- accounting (store-history.c, table job_history) ----------------- */

/*
 * Copy the run (job_id, attempt) into job_history, inside the pilot's
 * transaction that recorded its end; nothing for a run that never
 * started or has no node, or is there already.
 */
int store_history_record(struct store *st, int64_t job_id, int64_t attempt,
    struct buf *err);
/* Delete the runs that ended before `before_ms`; *nrows gets how many. */
int store_history_prune(struct store *st, int64_t before_ms, int64_t *nrows,
    struct buf *err);
/* The totals `f` asks for, by group; appends to `out` (caller releases
 * with history_total_vec_release). */
int store_history_totals(struct store *st, const struct history_filter *f,
    history_total_vec *out, struct buf *err);
/* The runs of `f` whose id is above `after`, at most `limit`, by id;
 * appends to `out` (caller releases with history_run_vec_release). */
int store_history_list(struct store *st, const struct history_filter *f,
    int64_t after, int64_t limit, history_run_vec *out, struct buf *err);

/* ---- retention (store-mail.c) ----------------------------------------- */

/*
 * Mark dirty the ended tasks whose retention period is over at `now`, so
 * that the state machine removes them; *n gets how many.
 */
int store_retention_mark(struct store *st, int64_t now, int64_t *n,
    struct buf *err);

/* An ended task a retention warning may be due for. */
struct retention_due {
	int64_t task_id;
	int64_t ended_ms;
	int64_t period_ms;
	int64_t warned; /* 0 none yet, 1 the half-period one, 2 both */
};
typedef VEC(struct retention_due) retention_due_vec;

/* Ended tasks past half their period and not warned of both times. */
int store_retention_due(struct store *st, int64_t now, retention_due_vec *out,
    struct buf *err);
/*
 * Queue the warning `kind` ("retention-half", "retention-day") for the
 * task and move its mark from `from` to `to`; nothing (and *done false)
 * when the mark moved meanwhile.
 */
int store_retention_warn(struct store *st, int64_t task_id, int64_t from,
    int64_t to, const char *kind, int64_t now, bool *done, struct buf *err);

/* ---- the outbox of mails (store-mail.c) ------------------------------ */

/*
 * Queue mails from now on (`on`), or not (the default: no SMTP server is
 * configured, and the events that would cause a mail queue nothing).
 * `retention_ms` is the configured default retention, for the removal
 * time a task's mail states (and for retention itself).
 */
void store_mail_enable(struct store *st, bool on, int64_t retention_ms);

/*
 * Whether a mail row was written since the last call (in a transaction
 * that may still be open or may have been rolled back): the pilot hands
 * it to its mail thread once the step that wrote it has committed.
 */
bool store_mail_queued(struct store *st);

/* One queued mail; the strings are owned (mail_row_release). */
struct mail_row {
	int64_t id;
	int64_t created_ms;
	char *kind; /* "task-end", "retention-half", "retention-day",
	               "node-unhealthy", "node-recovered" */
	int64_t account_id, task_id, node_id; /* 0: none */
	char *rcpt;
	char *subject;
	char *body;
	int64_t attempts; /* sendings tried so far */
};
typedef VEC(struct mail_row) mail_row_vec;
void mail_row_release(struct mail_row *m);
void mail_row_vec_release(mail_row_vec *v);

/* Up to `limit` unsent mails whose next attempt has come, oldest first. */
int store_mail_due(struct store *st, int64_t now, int64_t limit,
    mail_row_vec *out, struct buf *err);
/* Mark a mail sent (nothing if it was already). */
int store_mail_sent(struct store *st, int64_t id, int64_t now, struct buf *err);
/*
 * A sending failed: one more attempt counted, the next at `next_ms`;
 * nothing if the mail waits until `next_ms` or later already (this
 * failure was counted), was sent or was given up.
 */
int store_mail_failed(struct store *st, int64_t id, int64_t next_ms,
    const char *why, struct buf *err);
/* Stop trying, with an event ("mail-given-up") saying so. */
int store_mail_give_up(struct store *st, const struct mail_row *m, int64_t now,
    const char *why, struct buf *err);
/* The addresses of the admins who get mail (caller frees each string). */
int store_mail_admins(struct store *st, store_str_vec *out, struct buf *err);
/* Delete the mails sent or given up before `before_ms`; *n: how many. */
int store_mail_prune(struct store *st, int64_t before_ms, int64_t *n,
    struct buf *err);
/* How many mails wait to be sent, and the earliest next attempt (0: none). */
int store_mail_pending(struct store *st, int64_t *n, int64_t *next_ms,
    struct buf *err);

#endif
