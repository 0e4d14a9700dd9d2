/*
 * core.h - Orchestra's rules, with no I/O: states and signals, the task
 * state machine, what the backend's word does to a job, priority rules,
 * the merge of users' queues, placement into slots, name rules and
 * placeholder expansion.
 *
 * Input is plain structs; output is a plan that the caller (the service or
 * the pilot) carries out through the store and a backend.  Nothing here
 * prints, allocates beyond what its functions document, or reads a clock.
 */
#ifndef ORCHESTRA_CORE_H
#define ORCHESTRA_CORE_H

#include "util/util.h"
#include "util/vec.h"

/* ---- states (core/states.c) ------------------------------------------ */

enum task_status {
	TASK_REGISTERED,
	TASK_TESTING,
	TASK_RUNNING,
	TASK_DONE,
	TASK_FINALIZED,
	TASK_BROKEN,
	TASK_KILLING,
	TASK_KILLED,
	TASK_REMOVED,
	TASK_NSTATUS
};

enum task_signal { SIGNAL_NONE, SIGNAL_RETRY, SIGNAL_KILL, SIGNAL_DELETE };

enum job_status {
	JOB_REGISTERED, /* created; waits for its task to queue it */
	JOB_ASSIGNED,   /* queued: has a priority, waits for a slot */
	JOB_PENDING,    /* placed in a slot, being launched */
	JOB_RUNNING,
	JOB_DONE,
	JOB_FAILED,
	JOB_KILL, /* stop requested while it holds a slot */
	JOB_KILLED,
	JOB_BROKEN, /* its task's test job failed */
	JOB_NSTATUS
};

/* Names as stored in the database and printed: "registered", "testing" … */
const char *task_status_name(enum task_status s);
const char *task_signal_name(enum task_signal s); /* SIGNAL_NONE: "" */
const char *job_status_name(enum job_status s);
/* Parse a name; 0, or ERR_INVALID (err names the bad value). */
int task_status_parse(const char *s, enum task_status *out, struct buf *err);
int task_signal_parse(const char *s, enum task_signal *out, struct buf *err);
int job_status_parse(const char *s, enum job_status *out, struct buf *err);

/* done, finalized, broken, killed: where retention counts. */
bool task_status_is_end(enum task_status s);
/* done, failed, killed, broken. */
bool job_status_is_end(enum job_status s);
/* pending, running, kill: the job occupies a slot. */
bool job_status_holds_slot(enum job_status s);
/* registered, assigned. */
bool job_status_is_waiting(enum job_status s);
/*
 * Is `from` -> `to` one of the job state changes of SPEC.md?  The store
 * and the pilot assert it before writing.
 */
bool job_transition_allowed(enum job_status from, enum job_status to);

/* ---- the task state machine (core/task-state.c) ---------------------- */

/*
 * Whether a user may leave `sig` on a task in state `st` now (the command
 * line and API refuse it otherwise, and change nothing).  `name` is the
 * task's displayed name, for the message.  Returns 0 or ERR_CONFLICT.
 */
int task_signal_check(enum task_status st, enum task_signal sig,
    const char *name, struct buf *err);

/* What the state machine knows of one task. */
struct task_view {
	enum task_status status;
	enum task_signal signal; /* pending signal, SIGNAL_NONE if none */
	bool skip_test;
	/*
	 * How many of its jobs are in each state.  The rules only ask whether
	 * a state has jobs and whether all jobs are in given states, so a
	 * caller may give 1 for "some" (the pilot does: one index seek per
	 * state instead of counting).
	 */
	int64_t njobs[JOB_NSTATUS];
	/* The test job (index 0): its state, and its exit code once ended. */
	enum job_status test_status;
	int test_exit_code;
	bool retention_expired; /* in an end state for the retention period */
	/*
	 * It runs --after a task that has not ended as it asks (core/after.c):
	 * a registered task stays registered, none of its jobs queued.
	 */
	bool waits;
	/*
	 * A registered task runs --after it: it is not removed, by a signal
	 * (the service refuses one already) or by retention.
	 */
	bool waited_for;
	/*
	 * Its inputs are another task's outputs (--inputs-of), not listed
	 * yet: the pilot lists them (and writes the jobs) once it no longer
	 * waits.  A registered task with no job then has no input.
	 */
	bool inputs_pending;
	/* Jobs queued a step (registered -> assigned); 0: TASK_QUEUE_CHUNK.
	 * Only tests make it smaller (ORCHESTRA_TEST_QUEUE_CHUNK). */
	int64_t queue_chunk;
	/*
	 * A running task's retry has failed jobs left to queue again (a
	 * finalized task retried: its failed jobs are queued in chunks, the
	 * store's cursor task.requeue_from says which are left).
	 */
	bool requeue;
};

/*
 * One bulk change of the task's jobs: every job in state `from` (only the
 * test job, index 0, when `test_only`) goes to `to`.  Moving to
 * JOB_REGISTERED clears attempts, exit code, node and times; moving to
 * JOB_ASSIGNED stamps the queue time; `mark_test` sets the job's test flag
 * (it gets the test priority).
 */
struct job_move {
	enum job_status from;
	enum job_status to;
	bool test_only;
	bool mark_test;
	/*
	 * At most this many jobs, lowest job index first; 0: all of them.
	 * A task's jobs are queued (registered -> assigned) in chunks of
	 * TASK_QUEUE_CHUNK, so that no cycle writes 100,000 rows at once.
	 */
	int64_t limit;
	/*
	 * A chunk of a finalized task's retry (failed -> assigned, with a
	 * limit): only the failed jobs the retry has not queued yet, from the
	 * task's cursor (task.requeue_from, none before the retry) on; the
	 * store moves the cursor past them, or clears it after the last.
	 */
	bool requeue;
};

/*
 * How many jobs of a task one step queues (registered -> assigned), with
 * their events: a running task with registered jobs left queues the next
 * chunk at its next step, one step a cycle.  5,000 at most (about 50 ms on
 * SQLite, 10 us a job and its event; five times that on PostgreSQL); the
 * pilot sizes each chunk by the time the last one took (task_chunk_next),
 * so that the cycle that queues it stays well under 200 ms on either
 * database (bench/README.md, issue 18).
 */
#define TASK_QUEUE_CHUNK 5000
/* The first chunk a pilot queues, before it has timed one, and the least. */
#define TASK_QUEUE_CHUNK_FIRST 1000
#define TASK_QUEUE_CHUNK_MIN 250
/* What one chunk's transaction should take. */
#define TASK_QUEUE_CHUNK_BUDGET_US 40000

/*
 * The next chunk after one of `chunk` jobs whose transaction took
 * `took_us`: scaled to take TASK_QUEUE_CHUNK_BUDGET_US, within
 * [TASK_QUEUE_CHUNK_MIN, TASK_QUEUE_CHUNK], and at most doubled at a time.
 */
int64_t task_chunk_next(int64_t chunk, int64_t took_us);

#define TASK_PLAN_MAXMOVES 8

/* The result of one step: at most one task transition. */
struct task_plan {
	enum task_status next; /* == current status when nothing changes */
	bool consume_signal;   /* clear the pending signal */
	bool remove;           /* delete the task (next == TASK_REMOVED) */
	bool reset_retention;  /* a retry: the retention clock starts again */
	struct job_move moves[TASK_PLAN_MAXMOVES];
	size_t nmoves;
	const char *reason; /* short text for the event, never NULL */
};

/*
 * Decide one step of SPEC.md's task table for `v`.  Signals are looked at
 * first; a signal that does not apply in the current state is consumed and
 * ignored (reason says so), so each signal is consumed exactly once.  The
 * caller applies the plan, recounts, and calls again until nothing changes,
 * but for a plan with a limited move (a chunk of jobs queued): that one is
 * applied once a cycle, and the task's next step queues the next chunk.
 */
void task_step(const struct task_view *v, struct task_plan *plan);

/* ---- tasks that wait for tasks (core/after.c) ----------------------- */

/* One task that a task runs after (--after, or --after-any: any_end). */
struct after_dep {
	const char *name; /* its full name, user.alice.prep (borrowed) */
	bool any_end;
	enum task_status status;
	int64_t ndone; /* its jobs done, and all its jobs */
	int64_t njobs;
};

/* Has `d` ended as the waiting task asks: done, or any end for any_end. */
bool after_dep_met(const struct after_dep *d);
/* Has `d` ended in a way that cannot release the waiting task? */
bool after_dep_stuck(const struct after_dep *d);
/*
 * Why a task waits for the first of `deps` not met, into `why`, and 1;
 * 0 (why untouched) when every one is met:
 * "waits for user.alice.prep: running, 40 of 100 done", or for one that
 * ended otherwise "waits for user.alice.prep, which ended finalized:
 * retry it, or delete this task".  One that cannot release it is named
 * first, whatever the order.
 */
int after_why(const struct after_dep *deps, size_t ndeps, struct buf *why);

/* ---- one attempt of a job: the backend's word (core/job-state.c) ----- */

/* What the backend says of an attempt that holds a slot. */
enum job_seen {
	JOB_SEEN_UNKNOWN, /* no such attempt: never started (or forgotten) */
	JOB_SEEN_RUNNING, /* started, not ended */
	JOB_SEEN_ENDED,   /* ended: `end` and `exit_code` say how */
	JOB_SEEN_LOST,    /* started once, gone without an exit status */
};

/* Why an attempt ended, beside its exit code (job.end_reason). */
enum job_end {
	JOB_END_EXIT,    /* the command exited by itself */
	JOB_END_SIGNAL,  /* a signal ended it (not ours) */
	JOB_END_STOPPED, /* stop() ended it */
	JOB_END_TIMEOUT, /* its time limit ended it */
	JOB_END_START,   /* it could not start (exec failed …) */
	JOB_END_OOM,     /* killed at its memory limit */
};

/* What start() said this cycle of a placed attempt. */
enum job_start {
	JOB_START_NONE,        /* not asked */
	JOB_START_OK,          /* started */
	JOB_START_REFUSED,     /* the backend refused the job */
	JOB_START_UNAVAILABLE, /* the backend could not be asked now */
};

/* Why the infrastructure failed an attempt: the event's detail. */
#define JOB_REASON_REFUSED "the backend refused to start it"
#define JOB_REASON_LOST "the backend lost it"
/* Its supervisor was stopped, not by the pilot (a machine shutting down). */
#define JOB_REASON_STOPPED "stopped from outside Orchestra"
/* The end_reason of a job killed at its memory limit (JOB_END_OOM). */
#define JOB_REASON_OOM "out of memory"

/* All the pilot knows of one attempt that holds a slot. */
struct job_news {
	enum job_status status; /* pending, running or kill */
	int64_t lost;     /* attempts the infrastructure failed in this run */
	int64_t max_lost; /* the failure that makes `lost` this fails it */
	enum job_seen seen;
	enum job_start start; /* JOB_SEEN_UNKNOWN and pending */
	enum job_end end;     /* JOB_SEEN_ENDED */
	int64_t exit_code;    /* JOB_SEEN_ENDED; -1: none */
};

enum job_action {
	JOB_ACT_NONE,    /* nothing to record */
	JOB_ACT_START,   /* pending -> running */
	JOB_ACT_END,     /* -> done, failed or killed */
	JOB_ACT_REQUEUE, /* -> assigned, lost + 1, no node */
};

/* What to record of one attempt, in the poll's transaction. */
struct job_plan {
	enum job_action action;
	enum job_status to; /* the new status; the current one for NONE */
	/* The event's detail and the end_reason; NULL for NONE and START. */
	const char *reason;
	bool launched; /* start() took it this cycle */
	bool ended;    /* the backend ended it: its exit code, times, tail */
	/*
	 * The infrastructure failed the attempt: it is queued again, or
	 * ended now with no exit code, start time or log tail.
	 */
	bool lost;
};

/*
 * Decide what the backend's word does to one attempt (SPEC.md's job
 * table; docs/internals/pilot.md "5. Poll" and "requeue bounded").
 */
void job_step(const struct job_news *n, struct job_plan *plan);
/*
 * "exit", "signal", "stopped", "timeout", "could not start", "out of
 * memory" (JOB_REASON_OOM).
 */
const char *job_end_name(enum job_end end);
/*
 * Why an ended job failed, as `task show` says it beside its exit code,
 * appended to `out`: for one killed at its memory limit (end_reason
 * JOB_REASON_OOM) "killed: out of memory (limit 4 GiB)", `memory` being
 * the bytes it was placed with (0: not known, no limit said); nothing
 * for any other end.
 */
void job_end_why(const char *end_reason, int64_t memory, struct buf *out);

/* ---- priority rules (core/priority.c) -------------------------------- */

/* One user's standing, over all pools (SPEC.md, "Priority"). */
struct prio_user {
	int64_t max_priority;
	int64_t running; /* R: the user's jobs holding a slot, in any pool */
};

struct prio_rule {
	const char *name;
	/* Priority of the user's n-th waiting job (n = 0, 1, …); higher first.
	 */
	double (*priority)(const struct prio_user *u, int64_t n);
	/* Priority of a test job. */
	double (*test_priority)(const struct prio_user *u);
};

extern const struct prio_rule prio_lcg;  /* max_priority - (R + n) / 5 */
extern const struct prio_rule prio_fifo; /* 0: submit order alone */
/* Look a rule up by name; NULL if none. */
const struct prio_rule *prio_rule_find(const char *name);

/* ---- merging users' queues in priority order (core/sched.c) ---------- */

/* A waiting job, as the scheduler orders it. */
struct sched_job {
	int64_t id;
	int64_t task_id;
	int64_t account_id;
	int64_t submitted_ms; /* its task's submit time */
	int32_t idx;          /* index in its task */
	bool is_test;
	int64_t memory;  /* its task's --memory in bytes; 0: the default */
	double priority; /* filled by the merge */
};

/*
 * One of a user's tasks of another pool, with its waiting jobs: SPEC.md
 * numbers a user's waiting jobs across pools, so a job of a later task
 * has these ahead of it in its n.
 */
struct sched_before {
	int64_t submitted_ms;
	int64_t task_id;
	int64_t njobs;
};

typedef VEC(struct sched_before) sched_before_vec;

/*
 * One stream: a user's waiting jobs in one pool, in (submitted_ms,
 * task_id, idx) order; test jobs form a stream of their own.  A stream's
 * k-th job has n = k + the njobs of the `before` that come before its task
 * in (submitted_ms, task_id) order (none for a stream of test jobs).
 */
struct sched_stream {
	int64_t account_id;
	struct prio_user user;
	bool is_test;
	void *cookie; /* for the source */
	/* The user's tasks of other pools, in (submitted_ms, task_id) order;
	 * borrowed. */
	const struct sched_before *before;
	size_t nbefore;
};

typedef VEC(struct sched_job) sched_job_vec;

/*
 * Where the merge reads jobs from, lazily, in batches: append to `out` at
 * most `limit` jobs of stream `s` that come after `after` (NULL: from the
 * start) in the stream's order.  Appending fewer than `limit` means the
 * stream has no more.  Returns 0 or a negative ERR_* with `err` filled.
 */
struct sched_source {
	int (*fetch)(void *ctx, const struct sched_stream *s,
	    const struct sched_job *after, size_t limit, sched_job_vec *out,
	    struct buf *err);
	void *ctx;
};

struct sched_merge;

/*
 * An iterator over the waiting jobs of the given streams in priority order
 * (higher first; ties by submitted_ms, task_id, idx).  Streams are copied.
 * Caller frees with sched_merge_free().
 */
struct sched_merge *sched_merge_new(const struct prio_rule *rule,
    const struct sched_stream *streams, size_t nstreams,
    const struct sched_source *src);
/* 1 and the next job in `out`; 0 when all streams are exhausted; <0 error. */
int sched_merge_next(struct sched_merge *m, struct sched_job *out,
    struct buf *err);
void sched_merge_free(struct sched_merge *m);

/* ---- placement (core/place.c) ---------------------------------------- */

#define PLACE_MAX_GPUS 64

struct place_node {
	int64_t id;
	const char *name;  /* borrowed */
	const char *queue; /* borrowed */
	int64_t cpu_slots;
	int64_t gpu_slots;
	int64_t cpu_used;
	uint64_t gpu_used; /* bit i: device i is held by a job */
	int64_t memory;    /* bytes; 0: not known, and it limits nothing */
	int64_t memory_used; /* the memory of the jobs holding its slots */
	bool enabled;
	bool healthy; /* place_healthy() */
};

/* What a job asks of a node. */
struct place_ask {
	bool gpu;
	int64_t memory;         /* its task's --memory, bytes; 0: default */
	int64_t default_memory; /* the site's default_memory; 0: none */
};

/*
 * Is a node healthy (it may get new jobs): ready and under no memory or
 * disk pressure, as the backend last reported?
 */
bool place_healthy(bool ready, bool memory_pressure, bool disk_pressure);
/* "healthy" or "unhealthy": a node's health in events and logs. */
const char *place_health_name(bool healthy);

/* Free slots of a node now: never negative, 0 when not usable. */
int64_t place_free_cpu(const struct place_node *n);
int64_t place_free_gpu(const struct place_node *n);

/*
 * The memory a job asks on node `n`: its task's --memory, else the site's
 * default_memory, else the node's memory divided by its slots (CPU and
 * GPU: a node full of jobs is then full of memory, whatever their kind);
 * 0 when none is known (it asks nothing).
 */
int64_t place_job_memory(const struct place_node *n,
    const struct place_ask *ask);
/* Free memory of a node: its memory less what its jobs hold, never
 * negative; INT64_MAX when its memory is not known. */
int64_t place_free_memory(const struct place_node *n);

/*
 * Place one job of `queue` on a node with a free slot of its kind and the
 * memory it asks free: a GPU job on the node with the most free GPU
 * devices (ties by name) at its lowest free device index; a CPU job on the
 * node with the most free CPU slots (ties by name).  Marks the slot and
 * the memory used and returns the node's index in `nodes`, the device (-1
 * for a CPU job) and the memory it was placed with (0: none asked) or,
 * when no node has both free, -1.
 */
int place_pick(struct place_node *nodes, size_t nnodes, const char *queue,
    const struct place_ask *ask, int *gpu_index, int64_t *memory);

/* Total free CPU or GPU slots in a queue. */
int64_t place_free_in_queue(const struct place_node *nodes, size_t nnodes,
    const char *queue, bool gpu);

/*
 * Does a job wait for memory: some node of `queue` has a free slot of its
 * kind, and none of those has the memory it asks free?  Then 1 and
 * "waits for 16 GiB free on a node of queue 'default'; the largest has
 * 12 GiB" appended to `why` (the largest free memory of those nodes);
 * else 0.
 */
int place_memory_why(const struct place_node *nodes, size_t nnodes,
    const char *queue, const struct place_ask *ask, struct buf *why);

/* ---- one cycle's decision (core/sched.c) ----------------------------- */

/* A pool is one queue's CPU or GPU slots, with the streams waiting for it. */
struct sched_pool {
	const char *queue; /* borrowed */
	bool gpu;
	const struct sched_stream *streams; /* borrowed */
	size_t nstreams;
	int64_t default_memory; /* the site's default_memory; 0: none */
};

struct sched_launch {
	int64_t job_id;
	int64_t task_id;
	int64_t account_id;
	size_t node;   /* index into the nodes given */
	int gpu_index; /* -1 for a CPU job */
	int64_t memory; /* placed with, bytes (place_pick()); 0: none */
	double priority;
};

typedef VEC(struct sched_launch) sched_launch_vec;

/*
 * Fill the free slots of `nodes` from the pools: for each pool, take the
 * highest-priority jobs while a slot of its kind is free in its queue, and
 * place each on a node with a free slot and the memory it asks.  A job
 * that no node has the memory for now is passed over (it keeps its place
 * for the next cycle) and the next one tried, up to SCHED_SKIP_MAX of them
 * a pool: a cycle's cost stays bounded however many wait for memory.
 * `nodes` is updated as slots are taken.  Appends to `out`.
 */
#define SCHED_SKIP_MAX 256
int sched_decide(const struct prio_rule *rule, struct place_node *nodes,
    size_t nnodes, const struct sched_pool *pools, size_t npools,
    const struct sched_source *src, sched_launch_vec *out, struct buf *err);

/* ---- names (core/names.c) -------------------------------------------- */

#define NAME_MAX_LEN 128

/*
 * A user, node, task or queue name: [A-Za-z0-9._-], 1-128 characters, not
 * "." or "..".  `what` names the kind in the message ("task name").
 */
int names_check(const char *what, const char *name, struct buf *err);
/* A Unix login name as `user --unix-user` takes it (names_check's
 * characters, at most 32, not starting with '-'). */
int names_check_login(const char *login, struct buf *err);

/* Append a task's full name, "user.<username>.<name>", to `out`. */
void names_task_full(struct buf *out, const char *username, const char *name);

/*
 * Split "user.<username>.<name>" into its parts (caller frees both);
 * returns 0, or ERR_NOTFOUND when `full` is not of that form (then the
 * task name is `full` itself, owned by the acting user).
 */
int names_split_task(const char *full, char **username, char **name);

/* ---- paths under mounts (core/paths.c) ------------------------------ */

/*
 * `path` normalised by its names alone (no file system is asked, links are
 * not followed): made absolute against `base` when relative (against the
 * root when `base` is NULL or relative), "." and empty components dropped, ".."
 * taking back the component before it (never above the root), no '/' at
 * the end.  `out` is reset first.
 */
void paths_normalise(const char *path, const char *base, struct buf *out);

/*
 * Is the normalised `path` the normalised directory `dir` or below it,
 * component by component ("/data2" is not under "/data")?
 */
bool paths_is_under(const char *path, const char *dir);

/*
 * Check that `path` (relative to `base`, a job's working directory) lies
 * under one of the normalised directories `dirs`: 0, or ERR_INVALID with
 * "<what> <path> is not under a path the jobs mount: <dir>, <dir>".
 */
int paths_check_under(const char *what, const char *path, const char *base,
    const char *const *dirs, size_t ndirs, struct buf *err);

/* ---- placeholder expansion (core/expand.c) --------------------------- */

/* A secondary input KEY=PATH; KEY is [A-Z][A-Z0-9_]*. */
struct expand_secondary {
	const char *key;
	const char *path;
};

/* What a task's command is expanded with; strings borrowed. */
struct expand_values {
	bool has_inputs;  /* inputs were given */
	const char *out;  /* %OUT */
	const char *data; /* %DATA, NULL if none */
	const struct expand_secondary *secondary;
	size_t nsecondary;
};

/*
 * Check a command template against what was given, before any job is
 * made: every placeholder used has its value (%IN needs inputs, %DATA
 * --data, %KEY a secondary KEY), and every value given is used.  A
 * placeholder is '%' followed by an upper-case letter and then upper-case
 * letters, digits or '_'; "%%" is a literal '%'; any other '%' stays as it
 * is (so `date +%s` works).  Returns 0 or ERR_INVALID.
 */
int expand_check(const char *tmpl, const struct expand_values *v,
    struct buf *err);

/*
 * Append the command of job `index` with input `input` (NULL when the task
 * has no inputs) to `out`.  Substituted paths are quoted for /bin/sh.
 * The template must have passed expand_check().
 */
void expand_job(const char *tmpl, const struct expand_values *v,
    const char *input, int64_t index, struct buf *out);

/*
 * Parse "KEY=PATH" (the key rule above; KEY not IN, OUT, DATA or JOB, PATH
 * not empty).  On success out->key and out->path are allocated and the
 * caller frees both.  Returns 0 or ERR_INVALID.
 */
int expand_parse_secondary(const char *arg, struct expand_secondary *out,
    struct buf *err);

/* ---- file modes (core/access.c) ------------------------------------ */

/* A Unix account: its uid, primary gid and other groups (borrowed). */
struct access_ident {
	uint32_t uid;
	uint32_t gid;
	const uint32_t *groups;
	size_t ngroups;
};

/* Bits of `want` (ACCESS_READ, ACCESS_SEARCH: those of R_OK and X_OK). */
#define ACCESS_READ 4u
#define ACCESS_SEARCH 1u

/*
 * May `id` have `want` of a file with mode `mode` (st_mode; only its
 * permission bits count) owned by `owner` and `group`?  The owner's bits
 * when it is the owner, else the group's when one of its groups is
 * `group`, else the others'; uid 0 may do anything.  ACLs are not seen.
 */
bool access_mode_allows(const struct access_ident *id, unsigned int mode,
    uint32_t owner, uint32_t group, unsigned int want);

/* ---- mails (core/mail.c) --------------------------------------------- */

/*
 * The subject and body of each mail, appended to `subject` and `body`.
 * `task` is the displayed name ("user.<username>.<name>"); counts are the
 * task's jobs per state; `remove_at_ms` is when retention removes the
 * task (0: never).  Times are formatted in UTC.
 */
void mail_task_end(const char *task, enum task_status status,
    const int64_t counts[JOB_NSTATUS], int64_t remove_at_ms,
    struct buf *subject, struct buf *body);
void mail_retention_warning(const char *task, enum task_status status,
    const int64_t counts[JOB_NSTATUS], int64_t remove_at_ms,
    struct buf *subject, struct buf *body);
void mail_node_health(const char *node, bool healthy, const char *detail,
    struct buf *subject, struct buf *body);
/*
 * The pilot on `host` has failed every cycle since `since_ms` (`failing`,
 * with the last error), or works again (`!failing`).
 */
void mail_pilot_alarm(const char *host, bool failing, int64_t since_ms,
    const char *error, struct buf *subject, struct buf *body);

/*
 * Which retention warning is due now for a task that ended at `ended_ms`
 * with a retention period of `period_ms` (> 0), when `warned` of them
 * were queued (0 none, 1 the one at half the period, 2 both): none (0)
 * once the period is over (it is removed then), else 1 with *kind
 * "retention-day" from one day before the end (only for a period above 2
 * days, where that comes after the half) or "retention-half" from half
 * the period, and *to the new mark.  A pilot that was away past both
 * times sends the later one only.
 */
int retention_warning(int64_t ended_ms, int64_t period_ms, int64_t warned,
    int64_t now, const char **kind, int64_t *to);

/*
 * Append `subject` as a header value: as it is when it is printable ASCII
 * (and short, and holds no "=?"), else as RFC 2047 UTF-8 base64 encoded
 * words folded with CRLF SP.  Control characters become blanks first.
 */
void mail_encode_subject(struct buf *out, const char *subject);

/* What mail_format() puts in the headers; the strings are borrowed. */
struct mail_header {
	int64_t id; /* the outbox row: Message-ID <orchestra.ID@host> */
	const char *from;
	const char *to;
	const char *subject;
	int64_t date_ms;
};

/*
 * Append the whole message: From, To, Subject, Date, Message-ID and MIME
 * headers, a blank line, the body with CRLF line ends.  Both addresses go
 * through address_check() again (a row may have been edited by hand):
 * ERR_INVALID, and nothing worth sending, when one fails.
 */
int mail_format(struct buf *out, const struct mail_header *h, const char *body,
    struct buf *err);

/* ---- the pilot's heartbeat (core/pilot-beat.c) ------------------------ */

/* The pilot_beat row: what the last pilot said of itself. */
struct pilot_beat {
	bool known;     /* a pilot has run a cycle on this database */
	char host[256]; /* where it runs */
	int64_t pid;
	int64_t started_ms;
	int64_t last_cycle_ms; /* when its last cycle ran */
	int64_t interval_ms;   /* its period (--interval) */
	int64_t stopped_ms;    /* when it stopped; 0: it did not say */
};

/* A pilot is down when it was silent this many periods (and this long). */
#define PILOT_BEAT_PERIODS 3
#define PILOT_BEAT_MIN_MS 60000

/*
 * Is no pilot running at `now_ms`: none ever ran a cycle, the last said it
 * stopped, or its last cycle is older than PILOT_BEAT_PERIODS periods (at
 * least PILOT_BEAT_MIN_MS)?  When down, `why` (when not NULL) gets the
 * reason: "no pilot is running (last cycle 5m ago)", or with `at`, which
 * reads the same until the next cycle, "no pilot is running (last cycle
 * 2026-12-03 07:58:09 UTC)".
 */
bool pilot_beat_down(const struct pilot_beat *b, int64_t now_ms, bool at,
    struct buf *why);

#endif
