/*
 * records.h - the records Orchestra keeps (users, tokens, nodes, tasks,
 * jobs, events, usage samples) as plain structs, for every layer that
 * reads them: the store fills them, the service hands them out, the
 * command line and the API print them, the pilot reads them.  No I/O:
 * a record's strings are owned by it and freed by its *_release()
 * (records.c), which nulls what it frees.
 */
#ifndef ORCHESTRA_RECORDS_H
#define ORCHESTRA_RECORDS_H

#include "core/core.h"
#include "util/util.h"
#include "util/vec.h"

/* ---- users (table `account`: `user` is reserved in SQL) --------------- */

struct account {
	int64_t id;
	char *username;
	char *email;
	int64_t max_priority;
	char *role;    /* "user" or "admin" */
	bool mail_off; /* no mail to `email` (user set --mail off) */
	int64_t created_ms;
	char *unix_user; /* the login its jobs run as (NULL on insert: the
	                  * username) */
	char *hold;      /* why the pilot cannot run its jobs; NULL: it can
	                  * (written by store_account_set_hold() only) */
};
typedef VEC(struct account) account_vec;

void account_release(struct account *a);
void account_vec_release(account_vec *v);

/*
 * API tokens (the token table): only a hash of each secret is kept.
 * Times are epoch ms; 0 for none.
 */
struct token {
	int64_t id;
	int64_t account_id;
	char *username; /* the owner's, filled by reads */
	char *hash;     /* hex digest of the secret */
	int64_t created_ms;
	int64_t expires_ms;
	int64_t last_used_ms;
	int64_t revoked_ms;
};
typedef VEC(struct token) token_vec;

void token_release(struct token *t);
void token_vec_release(token_vec *v);

/* ---- nodes ------------------------------------------------------------ */

/* A job holding one of a node's slots (pending, running or kill). */
struct node_job {
	char *username;
	char *task; /* the task's name, without "user.<username>." */
	int64_t idx;
	enum job_status status;
	int64_t gpu_index;  /* -1: a CPU slot */
	int64_t started_ms; /* 0: not started yet */
};
typedef VEC(struct node_job) node_job_vec;

struct node {
	int64_t id;
	char *name;
	char *queue;
	int64_t cpu_slots;
	int64_t gpu_slots;
	int64_t max_cpu_slots;
	int64_t max_gpu_slots;
	bool enabled;
	bool ready;
	bool memory_pressure;
	bool disk_pressure;
	/* False: the backend cannot run jobs on it (ready is false too). */
	bool reachable;
	int64_t last_seen_ms; /* 0: never */
	int64_t completed;
	int64_t failed;
	int64_t created_ms;
	int64_t memory; /* bytes; 0: not known */
	/* Computed from the jobs holding a slot on it. */
	int64_t cpu_used;
	uint64_t gpu_used;   /* bit i: device i is held */
	int64_t memory_used; /* the memory they were placed with */
	/* Filled by store_node_add_jobs() only, else empty. */
	node_job_vec jobs;
};
typedef VEC(struct node) node_vec;

void node_release(struct node *n);
void node_vec_release(node_vec *v);
/*
 * The nodes as placement sees them: fills out[0 .. v->n - 1], whose
 * strings are borrowed from `v`.
 */
void node_vec_place(const node_vec *v, struct place_node *out);

/* ---- tasks and jobs --------------------------------------------------- */

struct task {
	int64_t id;
	int64_t account_id;
	char *username; /* the owner's, filled by reads */
	char *name;
	char *queue;
	char *image;
	char *command;
	char *inputs;    /* what was given: a directory, a glob or @FILE */
	char *data_path; /* NULL if none */
	char *out_dir;
	bool gpu;
	bool skip_test;
	int64_t timeout_ms;
	int64_t retention_ms; /* -1: the configured default */
	int64_t memory;       /* each job's --memory, bytes; 0: the default */
	enum task_status status;
	enum task_signal signal;
	int64_t njobs;
	int64_t submitted_ms;
	int64_t updated_ms;
	int64_t ended_ms; /* 0 while not ended */
	/*
	 * A running task whose retry (of a finalized task) has failed jobs
	 * left to queue again: those of index requeue_from and up, queued in
	 * chunks at the pilot's next cycles (task.requeue_from, migration
	 * 0020).  Read from the database only (false elsewhere).
	 */
	bool requeue;
	int64_t requeue_from;
	/*
	 * The tasks it runs after (--after: done; --after-any: ended), their
	 * full names joined by ',' ("" none; never NULL once read).
	 */
	char *after;
	char *after_any;
	/* --inputs-of: that task's full name ("" none), and its id (0). */
	char *inputs_of;
	int64_t inputs_of_id;
	/*
	 * Filled by service_task_list() when asked (has_summary): its jobs
	 * per state, the highest priority its slot-holding jobs were
	 * launched at (has_priority), why its first waiting job waits.
	 */
	bool has_summary;
	int64_t counts[JOB_NSTATUS];
	bool has_priority;
	double priority;
	char *why; /* NULL: none waits */
};
typedef VEC(struct task) task_vec;

void task_release(struct task *t);
void task_vec_release(task_vec *v);

struct job {
	int64_t id;
	int64_t task_id;
	int64_t idx;
	char *input; /* NULL when the task has no inputs */
	char *command;
	enum job_status status;
	bool is_test;
	double priority;
	char *node;        /* node name, NULL if none */
	int64_t gpu_index; /* -1 if none */
	int64_t memory;    /* placed with, bytes; 0: none (not placed yet) */
	char *handle;
	int64_t attempts;
	int64_t exit_code;                       /* -1 if none */
	int64_t queued_ms, started_ms, ended_ms; /* 0 if not yet */
	char *end_reason; /* why it ended ("exit", "timeout" …); NULL */
	char *log_tail;   /* the end of its log, kept when it ended; NULL */
	/* What its last run used (struct job_usage); -1: not known. */
	int64_t peak_memory, cpu_ms;
};
typedef VEC(struct job) job_vec;

/*
 * What a run of a job used, as its backend accounted it (migration 0019):
 * its peak memory in bytes and its CPU time in milliseconds; -1: not
 * known.
 */
struct job_usage {
	int64_t peak_memory;
	int64_t cpu_ms;
};

void job_release(struct job *j);
void job_vec_release(job_vec *v);

/* ---- events and usage samples ------------------------------------------ */

/* An event as the dashboard's stream reads it back. */
struct event_row {
	int64_t id;
	char kind[8];                     /* "task", "job", "node", "account" */
	int64_t task_id, job_id, node_id; /* 0: none */
};
typedef VEC(struct event_row) event_row_vec;

/* Jobs of one user at one time: running holds a slot (pending, running,
 * kill), waiting does not yet (registered, assigned). */
struct usage_row {
	int64_t at_ms;
	char *username;
	int64_t running, waiting;
};
typedef VEC(struct usage_row) usage_row_vec;
void usage_row_vec_release(usage_row_vec *v);

/* ---- accounting (table job_history) ------------------------------------ */

/* What the totals are grouped by. */
enum history_by {
	HISTORY_BY_USER,
	HISTORY_BY_QUEUE,
	HISTORY_BY_NODE,
};
/* "user", "queue", "node". */
const char *history_by_name(enum history_by by);
/* ERR_INVALID, "invalid --by 'x': expected user, queue or node". */
int history_by_parse(const char *s, enum history_by *out, struct buf *err);

/*
 * Runs that ended in [since_ms, until_ms), of `user` (NULL: all), of the
 * task `task` names as the other commands take it ("user.<u>.<name>", or
 * a name of the acting user's; NULL: all), that ended in `status` if
 * has_status.  The service fills task_user and task_name from `task`, for the
 * store.  The strings are borrowed.
 */
struct history_filter {
	int64_t since_ms, until_ms;
	const char *user;
	const char *task;
	bool has_status;
	enum job_status status;
	enum history_by by;
	const char *task_user, *task_name;
};

/* The runs of one group: how many, and their CPU and GPU slot time in
 * seconds (the sum of their milliseconds, rounded). */
struct history_total {
	char *group; /* the user, queue or node */
	int64_t jobs;
	int64_t cpu_s, gpu_s;
};
typedef VEC(struct history_total) history_total_vec;
void history_total_vec_release(history_total_vec *v);

/* One run of a job that ended on a node (a row of job_history). */
struct history_run {
	int64_t id; /* the page's key: the order the ends were recorded */
	char *username, *task, *queue, *node;
	int64_t idx;       /* the job's index in its task; -1 unknown */
	int64_t attempt;   /* 1, 2 ... */
	bool gpu;          /* held a GPU slot */
	int64_t gpu_index; /* its device; -1 for none or unknown */
	enum job_status status;
	int64_t exit_code; /* -1 for none */
	char *end_reason;  /* NULL for none */
	int64_t started_ms, ended_ms;
	int64_t run_ms; /* ended_ms - started_ms */
	int64_t memory; /* the memory it was placed with, bytes; 0: none */
	int64_t peak_memory, cpu_ms; /* struct job_usage; -1: not known */
};
typedef VEC(struct history_run) history_run_vec;
void history_run_vec_release(history_run_vec *v);

#endif
