/*
 * service.h - what a user or an admin can do, with the check of who may.
 *
 * The command line and the HTTP API both call these functions; neither
 * holds a business rule of its own.  Each function that changes state is
 * one transaction: it either does everything or changes nothing and says
 * why in `err` (one line: lowercase, subject quoted, failure first).
 */
#ifndef ORCHESTRA_SERVICE_H
#define ORCHESTRA_SERVICE_H

#include "core/core.h"
#include "core/records.h"
#include "util/config.h"

/*
 * The database, which only the service's own files (and the pilot, and
 * the outbox) see: cmd/ and web/ cannot include store/store.h (the
 * ORCHESTRA_SEES_STORE guard, tests/lint/layers.txt).
 */
struct store;

struct service {
	struct store *st;
	const struct config *cfg;
	const char *actor; /* the acting username, borrowed */
	/*
	 * Whoever can open the database directly is trusted as an admin
	 * (SPEC: command line).  Across the network only a token is trusted.
	 */
	bool trusted;
	/*
	 * Set by service_open_remote(): no database (st is NULL); the user
	 * commands' functions call the HTTP API of ORCHESTRA_URL instead,
	 * acting as the token's owner (service-remote.c).
	 */
	struct service_remote *remote;
};

/*
 * Open the database of `cfg` for `actor` (borrowed, like cfg); trusted as
 * an admin: direct database access.  Release with service_close().
 */
int service_open(struct service *svc, const struct config *cfg,
    const char *actor, struct buf *err);
/*
 * Open no database but the HTTP API at ORCHESTRA_URL, else the config's
 * url (one of them set), with the token of ORCHESTRA_TOKEN, else the file
 * ORCHESTRA_TOKEN_FILE, else the config's token, else its token_file,
 * else ~/.config/orchestra/token (a file refused, ERR_DENIED, when the
 * group or others have any permission on it); ORCHESTRA_CA_FILE (ca_file)
 * names a private CA.  Asks
 * the API who the token is: that user is the actor (svc->actor, owned
 * by the service), not trusted.  Functions with no endpoint refuse with
 * ERR_INVALID.  Release with service_close().
 */
int service_open_remote(struct service *svc, const struct config *cfg,
    struct buf *err);
/* Close what service_open() opened; harmless on a zeroed service. */
void service_close(struct service *svc);
/* Is `svc` open (service_open, service_open_remote or service_init)? */
bool service_is_open(const struct service *svc);

/* 0 when the actor is an admin (or trusted), else ERR_DENIED. */
int service_require_admin(struct service *svc, struct buf *err);

/* ---- init (service-init.c) -------------------------------------------- */

struct init_result {
	bool created_db;
	bool created_user;
	bool made_admin; /* the user was there, not an admin: it is now */
	bool created_node;
	char *node_name; /* this machine's node; caller frees */
	int64_t cpu_slots;
	int64_t gpus;
};

/*
 * Create the database (and ORCHESTRA_HOME) if missing, make `login` an
 * admin, and register this machine as a node of queue "default" with
 * cpu_slots = number of CPUs (at most its max of 30) and max_gpu_slots =
 * the GPUs `nvidia-smi -L` lists (0 without it).  Repeating it adds
 * nothing.  On success `svc` is open on the database as service_open()
 * opens it, for `login` (borrowed, like cfg; release with
 * service_close()); on failure it is zeroed.
 */
int service_init(struct service *svc, const struct config *cfg,
    const char *login, struct init_result *res, struct buf *err);

/* ---- users (service-user.c) ------------------------------------------- */

/* A number option that was not given. */
#define OPT_UNSET INT64_MIN

struct user_opts {
	const char *email;     /* NULL: unchanged / "" */
	int64_t max_priority;  /* OPT_UNSET: unchanged / 1000 */
	const char *role;      /* NULL: unchanged / "user" */
	const char *mail;      /* "on", "off"; NULL: unchanged / "on" */
	const char *unix_user; /* NULL: unchanged / the username */
	/* add only: make the user's namespace (and NFS volume) on the
	 * backend; repeating it for an existing user only does that */
	bool kubernetes;
	const char *nfs_server, *nfs_path;
};

/*
 * 0 when added; with `kubernetes`, 1 when the user existed and only the
 * backend's part was made (out is the existing user).
 */
int service_user_add(struct service *svc, const char *name,
    const struct user_opts *o, struct account *out, struct buf *err);
/*
 * Users by name (admins only): those after `after` (NULL from the first),
 * at most `limit` (0: all; through ORCHESTRA_URL, all pages are read).
 */
int service_user_list(struct service *svc, const char *after, int64_t limit,
    account_vec *out, struct buf *err);
int service_user_show(struct service *svc, const char *name,
    struct account *out, struct buf *err);
/* Refused (ERR_INVALID) as service_user_check_set() says, first. */
int service_user_set(struct service *svc, const char *name,
    const struct user_opts *o, struct account *out, struct buf *err);
/*
 * 0 when `o` changes something, else ERR_INVALID: "nothing to set: give
 * email, mail, max_priority, role or unix_user", every field a change
 * takes (service/service-json.c's table), by its name in the API or, with
 * `options`, as the command line's option (--priority).  The command line
 * asks before it opens anything: to it, this is a usage error.
 */
int service_user_check_set(const struct user_opts *o, bool options,
    struct buf *err);
/*
 * 0 when `o`'s words (mail: on or off; role: user or admin) are words
 * it takes, else ERR_INVALID naming the one that is not.  The command
 * line asks first: to it, that is a usage error.
 */
int service_user_check_words(const struct user_opts *o, struct buf *err);

/* ---- tokens and passwords (service-auth.c) ---------------------------- */

/*
 * Issue an API token for `user` (the actor, or an admin for anyone),
 * valid for `expires_in_ms` (0: no expiry).  The secret is appended to
 * `secret`, the only place it ever is: show it once, then wipe it with
 * buf_release_secret().  `out` gets the stored row (caller releases).
 */
int service_token_issue(struct service *svc, const char *user,
    int64_t expires_in_ms, struct token *out, struct buf *secret,
    struct buf *err);
/*
 * The user's tokens by id, without secrets (the actor's own, or an admin):
 * those with id > after_id, at most `limit` (0: all; through
 * ORCHESTRA_URL, all pages are read).
 */
int service_token_list(struct service *svc, const char *user, int64_t after_id,
    int64_t limit, token_vec *out, struct buf *err);
/*
 * Revoke token `id` of `user`, effective at the next request: ERR_NOTFOUND
 * when the user has no such token, ERR_CONFLICT when it is revoked already.
 */
int service_token_revoke(struct service *svc, const char *user, int64_t id,
    struct token *out, struct buf *err);
/*
 * Revoke every token of `user` (the actor, or an admin for anyone) and
 * end every session of theirs, password ones too: *ntokens gets how many
 * tokens were revoked now (those revoked before are left as they were),
 * *nsessions how many sessions ended.  Nothing to revoke is no error.
 */
int service_token_revoke_all(struct service *svc, const char *user,
    int64_t *ntokens, int64_t *nsessions, struct buf *err);
/*
 * Set the user's password (8 to 1024 bytes), stored as argon2id; the
 * user's sessions signed in with a password end (those made from a
 * token stay: they end with their token).
 */
int service_user_passwd(struct service *svc, const char *user,
    const char *password, struct buf *err);
/*
 * Who presents the token `secret`: fills `out` (caller releases) and,
 * when not NULL, *token_id with the token's id; or ERR_DENIED when it is
 * malformed, unknown, revoked or expired.  Notes the time of use (at
 * most once a minute).
 */
int service_auth_token(struct service *svc, const char *secret,
    struct account *out, int64_t *token_id, struct buf *err);
/*
 * Check a user's password, in two steps so that the slow one may run on
 * another thread.  service_auth_password_load() reads the account into
 * `out` (caller releases) and its password's hash into *hash (caller
 * frees): *hash is NULL, and `out` empty, when the user is unknown or has
 * no password, which is no error here, so that the answer takes as long.
 * service_auth_password_verify() verifies `password` against `hash`
 * (argon2id, ~80 ms; no store, any thread; a NULL hash is checked against
 * a dummy one): 0, or ERR_DENIED (ERR_UNAVAILABLE when libsodium cannot
 * start).
 */
int service_auth_password_load(struct service *svc, const char *user,
    struct account *out, char **hash, struct buf *err);
int service_auth_password_verify(const char *hash, const char *password,
    struct buf *err);
/*
 * Sign `who` in for the dashboard: a new session, whose secret (256
 * random bits, base64url; for an HttpOnly cookie, never stored: only its
 * hash is) is appended to `secret`, and its CSRF token to `csrf`.  Wipe
 * `secret` with buf_release_secret().  `token_id` is the token `who`
 * signed in with (0: a password): the session ends when it is revoked or
 * expires.  Sessions idle `idle_ms` or longer are deleted meanwhile.
 */
int service_session_open(struct service *svc, const struct account *who,
    int64_t token_id, int64_t idle_ms, struct buf *secret, struct buf *csrf,
    struct buf *err);
/*
 * Who holds the session `secret`: fills `out` (caller releases) and, when
 * not NULL, `csrf` with its CSRF token; ERR_DENIED when it is malformed,
 * unknown (signed out, or ended by a password change or `revoke --all`),
 * idle `idle_ms` or longer, or made from a token since revoked or expired.
 * With `touch`, notes the use (at most once a minute, or a quarter of
 * `idle_ms`).
 */
int service_auth_session(struct service *svc, const char *secret,
    int64_t idle_ms, bool touch, struct account *out, struct buf *csrf,
    struct buf *err);
/* Sign out: delete the session `secret` (gone already: no error). */
int service_session_close(struct service *svc, const char *secret,
    struct buf *err);
/*
 * Changes for the dashboard's event stream: the events after id `after`
 * (at most `limit`), and the latest event's id.  Anyone signed in may
 * read them, as anyone may read the queue: they hold only ids.
 */
int service_events_since(struct service *svc, int64_t after, int64_t limit,
    event_row_vec *out, struct buf *err);
int service_events_last(struct service *svc, int64_t *id, struct buf *err);
/* 0 when the database answers (for /readyz). */
int service_ready(struct service *svc, struct buf *err);
/*
 * The database's committed state as text, into `out` (store_data_version):
 * for a cache of answers, on a connection used for nothing else.
 */
int service_data_version(struct service *svc, struct buf *out, struct buf *err);

/* ---- nodes (service-node.c) ------------------------------------------- */

struct node_opts {
	const char *queue; /* NULL: unchanged / "default" */
	int64_t cpu_slots; /* OPT_UNSET: unchanged / default */
	int64_t gpu_slots;
	int64_t max_cpu_slots;
	int64_t max_gpu_slots;
	int64_t memory; /* bytes; 0: not known */
};
#define NODE_OPTS_INIT                                                         \
	{                                                                      \
		NULL, OPT_UNSET, OPT_UNSET, OPT_UNSET, OPT_UNSET, OPT_UNSET    \
	}

int service_node_add(struct service *svc, const char *name,
    const struct node_opts *o, struct node *out, struct buf *err);
/*
 * Nodes by name, with their jobs: those after `after` (NULL from the
 * first), at most `limit` (0: all; through ORCHESTRA_URL, all pages are
 * read).
 */
int service_node_list(struct service *svc, const char *after, int64_t limit,
    node_vec *out, struct buf *err);
/* Refused (ERR_INVALID) as service_node_check_set() says, first. */
int service_node_set(struct service *svc, const char *name,
    const struct node_opts *o, struct node *out, struct buf *err);
/* As service_user_check_set(), for a node's queue and slots. */
int service_node_check_set(const struct node_opts *o, bool options,
    struct buf *err);
/* What `node sync` did to one node. */
struct node_sync {
	struct node node; /* as it is now */
	bool added;
	bool changed;
};
typedef VEC(struct node_sync) node_sync_vec;
void node_sync_vec_release(node_sync_vec *v);

/*
 * Import the backend's nodes (admins): a node not known yet is added to
 * queue "default" with max_gpu_slots = the GPUs the backend reports,
 * max_cpu_slots 30 and both slots at the CPUs (at most 30) and GPUs it
 * has; a known node gets max_gpu_slots from the backend (its gpu_slots
 * lowered to fit).  One transaction.
 */
int service_node_sync(struct service *svc, node_sync_vec *out, struct buf *err);

/* Drain (enabled = false) or resume (enabled = true). */
int service_node_enable(struct service *svc, const char *name, bool enabled,
    struct node *out, struct buf *err);

/* ---- a submit's inputs (service-read.c) ------------------------------- */

/* Bounds of reading a submit's inputs. */
#define SERVICE_READ_TIME_MS 10000
#define SERVICE_READ_INPUTS_MAX 1000000
#define SERVICE_READ_ENTRIES_MAX (4 * SERVICE_READ_INPUTS_MAX)
#define SERVICE_READ_BYTES_MAX (64 * 1024 * 1024)

/* Input paths; each string and the array owned (input_vec_release). */
typedef VEC(char *) input_vec;
void input_vec_release(input_vec *v);

/*
 * Read the inputs `spec` names (a directory's regular files sorted by
 * name, a glob's sorted, @LISTFILE's lines in order with a relative one
 * taken relative to the list file's directory, or one file) into `out`,
 * within the bounds above; a list file that is a FIFO, a device or a
 * socket is refused.  With `login` NULL, in this process with its rights
 * (the command line: the person at the terminal reads).  Otherwise with
 * the rights of the Unix account `login`, in a child process (see
 * service-read.c), killed when the time is up: this blocks for up to
 * SERVICE_READ_TIME_MS and a second, so the web server calls it off its
 * polling thread.  Touches no store.  0, or ERR_INVALID (ERR_UNAVAILABLE
 * when no process could be made) with one message in `err`; `out` is
 * empty after a failure.
 */
int service_read_inputs(const char *spec, const char *login, input_vec *out,
    struct buf *err);

/* ---- tasks (service-task.c) ------------------------------------------- */

struct submit_req {
	const char *name;
	const char *command;
	const char *inputs; /* a directory, a glob or @LISTFILE; NULL: none */
	const char *data;   /* NULL: none */
	const char *const *secondary; /* "KEY=PATH" strings */
	size_t nsecondary;
	const char *image; /* NULL: "" */
	const char *queue; /* NULL: "default" */
	bool gpu;
	bool skip_test;
	const char *timeout;   /* a duration; NULL: none */
	const char *retention; /* a duration; NULL: the configured default */
	/* What each job asks, a size (size_parse(): "4G"); NULL: the
	 * default (default_memory, else its node's memory / its slots). */
	const char *memory;
	/*
	 * The tasks it runs after, names joined by ',' (a bare name is the
	 * new task's owner's), or NULL: until each is done (`after`), until
	 * each has ended (`after_any`).  Only the submitter's own tasks,
	 * unless an admin submits.
	 */
	const char *after;
	const char *after_any;
	/*
	 * A task whose output files, listed once it is done, are the inputs
	 * (it is waited for as with `after`); NULL: none.  Not with
	 * `inputs` or `secondary`.
	 */
	const char *inputs_of;
	/*
	 * The inputs read already, by service_read_inputs() (borrowed), or
	 * NULL: service_task_submit() reads them, in this process.
	 */
	const input_vec *read;
};

/* Create the task and all its jobs in one transaction. Fills `out`. */
int service_task_submit(struct service *svc, const struct submit_req *req,
    struct task *out, struct buf *err);
/*
 * The checks of a submit that need no inputs read (the names, the owner
 * and the actor's right, the command's placeholders): what the API asks
 * before it reads the inputs as the submitter.  0, or the refusal
 * service_task_submit() would give for them.
 */
int service_task_submit_check(struct service *svc, const struct submit_req *req,
    struct buf *err);

struct task_list_req {
	const char *user;   /* NULL: the actor's tasks; "*": everyone's */
	const char *status; /* NULL: any */
	int64_t after_id;
	int64_t limit;
	/*
	 * Fill each task's summary (struct task: counts, priority, why)
	 * too: one grouped query over the page's tasks, and the nodes when
	 * one of them has a job waiting for a slot.
	 */
	bool summary;
};
int service_task_list(struct service *svc, const struct task_list_req *req,
    task_vec *out, struct buf *err);

/* Why a waiting job of the task waits, and its place in its pool. */
struct job_wait {
	int64_t job_id; /* 0: every registered job of the task */
	int64_t place;  /* 1, 2, … among the pool's waiting jobs; 0 none */
	/*
	 * With a place: the priority the scheduler gives the job now (the
	 * merge's, as `orchestra queue` shows it); service_task_show()
	 * writes it into the job's own priority, which is 0 until it starts.
	 */
	double priority;
	char *why;
};

/*
 * A task with its job counts, its jobs (the first `job_limit`, 0 all) and,
 * for those that wait, why (from the scheduler's own order, as `orchestra
 * queue` shows it).
 */
struct task_detail {
	struct task task;
	int64_t counts[JOB_NSTATUS];
	job_vec jobs;
	VEC(struct job_wait) waits;
};
void task_detail_release(struct task_detail *d);
/*
 * `name` is the task's name (the actor's task) or "user.<username>.<name>".
 * Anyone may read any task (the queue is public).  Jobs come by index
 * from after `after_idx` (-1: from the first), at most `job_limit` (0:
 * all; negative: none): a keyset page; with `status` (a job status's
 * name; NULL: any) only the jobs in it (ERR_INVALID for no such status).
 * A waiting job's priority is the one the scheduler gives it now.
 */
int service_task_show(struct service *svc, const char *name, const char *status,
    int64_t after_idx, int64_t job_limit, struct task_detail *out,
    struct buf *err);
/*
 * Which part of a job's log to read: the part from byte `from` of the log
 * on, less what the tails leave out: of what remains, only the last
 * `tail_bytes` bytes and the last `tail_lines` lines (0: no such bound; a
 * last line with no newline yet counts as a line); then of that, the first
 * `max_bytes` bytes (0: all).
 */
struct job_log_req {
	int64_t index; /* the job's index in its task */
	int64_t from;
	int64_t tail_bytes;
	int64_t tail_lines;
	int64_t max_bytes;
};
/*
 * A job's log: `length` bytes from `offset` of the open file `fd`, to be
 * read in pieces (the local backend), or, when `fd` is -1, held whole in
 * `text` (a remote server's reply, the Kubernetes API's, the tail the
 * store kept).  Release with job_log_release, which closes `fd`.
 *
 * To read on: `end` is the byte of the log the part ends at (the next
 * read's `from`) and `size` the log's size when it was read; `attempt` is
 * the attempt whose log it is (a job started again writes a new log), and
 * `ended` says the job had ended before the log was read, so that nothing
 * more will come after `size`.
 */
struct job_log {
	int fd;
	int64_t offset;
	int64_t length;
	struct buf text;
	int64_t end;
	int64_t size;
	int64_t attempt;
	bool ended;
};
#define JOB_LOG_INIT                                                           \
	{                                                                      \
		-1, 0, 0, BUF_INIT, 0, 0, 0, false                             \
	}
void job_log_release(struct job_log *l);
/*
 * The owner or an admin only: open the part `req` says of the log of a
 * job of the task (its latest attempt), through the configured backend.
 * `out` starts as JOB_LOG_INIT.
 */
int service_task_log_open(struct service *svc, const char *name,
    const struct job_log_req *req, struct job_log *out, struct buf *err);
/*
 * Would service_task_signal() leave `sig` on task `t` (as read) for the
 * actor now: the owner or an admin, no signal pending, and a state that
 * takes it (task_signal_check()).  What the dashboard offers.
 */
bool service_task_may_signal(struct service *svc, const struct task *t,
    enum task_signal sig);
/* Leave a signal on the task, if its state allows it now. */
int service_task_signal(struct service *svc, const char *name,
    enum task_signal sig, bool remove_files, struct task *out, struct buf *err);

/* ---- the queue (service-queue.c) -------------------------------------- */

struct queue_row {
	int64_t place; /* 1, 2, … among waiting jobs of its pool; 0 running */
	double priority;
	char *username;
	char *task; /* the task's name */
	int64_t task_id;
	int64_t job_id; /* 0 for a row that stands for many jobs */
	int64_t idx;
	int64_t njobs; /* jobs this row stands for (1, or a group) */
	char *queue;
	bool gpu;
	enum job_status status;
	char *node; /* NULL while waiting */
	int64_t gpu_index;
	char *why; /* why it waits; NULL when it holds a slot */
};
typedef VEC(struct queue_row) queue_row_vec;
void queue_row_vec_release(queue_row_vec *v);

/*
 * Jobs that hold a slot, then waiting jobs of each pool in priority order
 * with their place and why they wait, then jobs that wait on their task
 * (test job running, scheduler not yet run, task being killed), one row per
 * task.  `queue` and `user` filter (NULL: all).
 */
int service_queue(struct service *svc, const char *queue, const char *user,
    queue_row_vec *out, struct buf *err);
/*
 * Its first `max_rows` rows (0: all), computing no more of the merge than
 * they take: a page of the queue.  Through the API (ORCHESTRA_URL) it
 * reads as many pages as they take.
 */
int service_queue_head(struct service *svc, const char *queue, const char *user,
    int64_t max_rows, queue_row_vec *out, struct buf *err);

/* ---- usage history (service-usage.c) ---------------------------------- */

/* How far back, and how many samples one answer may hold. */
#define SERVICE_USAGE_MAX_MS (8 * 86400000LL)
#define SERVICE_USAGE_MAX_ROWS 20000

/*
 * The pilot's samples of running and waiting jobs per user from
 * `since_ms` on (at most 8 days ago), by time then user; `user` NULL for
 * everyone.  ERR_INVALID when `since_ms` is older or more than
 * SERVICE_USAGE_MAX_ROWS samples match, ERR_NOTFOUND for an unknown user.
 * Appends to `out` (caller releases with usage_row_vec_release).
 */
int service_usage(struct service *svc, int64_t since_ms, const char *user,
    usage_row_vec *out, struct buf *err);

/* ---- accounting (service-history.c) ---------------------------------- */

/* Without --since: the 30 days before --until. */
#define SERVICE_HISTORY_DEFAULT_MS (30 * 86400000LL)

/*
 * A --since or --until: epoch ms, UTC "YYYY-MM-DDTHH:MM:SS[Z]"
 * (time_parse_when()), or a day "YYYY-MM-DD" (its midnight, UTC).
 * ERR_INVALID with why.
 */
int service_history_when(const char *s, int64_t *ms, struct buf *err);
/*
 * Jobs, CPU and GPU slot seconds of the runs of `f` (f->task_user and
 * f->task_name unused: from f->task), per user, queue or node (f->by),
 * by group name; they outlive the removal of their tasks (one year).
 * A user who is not an admin sees only their own runs: with no f->user
 * theirs, with another's ERR_DENIED.  ERR_INVALID for an empty range,
 * ERR_NOTFOUND for an unknown user.  Appends to `out` (caller releases
 * with history_total_vec_release).
 */
int service_history(struct service *svc, const struct history_filter *f,
    history_total_vec *out, struct buf *err);
/*
 * The runs of `f`, as service_history() counts them, one by one in the
 * order their ends were recorded (by id): those after id `after` (0 from
 * the first), at most `max_rows` (0: all).  Appends to `out` (caller
 * releases with history_run_vec_release).
 */
int service_history_runs(struct service *svc, const struct history_filter *f,
    int64_t after, int64_t max_rows, history_run_vec *out, struct buf *err);

/* ---- metrics (service-metrics.c) ------------------------------------- */

/*
 * Append the state of the database to `out` in the Prometheus text
 * exposition format, version 0.0.4 (content type "text/plain;
 * version=0.0.4"): jobs, tasks, slots and health of nodes, users' jobs,
 * and the cumulative histograms and counters the pilot records (see
 * docs/internals/metrics.md).  Reads only; nothing is appended on
 * failure.  Like `orchestra queue`, open to everyone who may read the
 * queue.  The serving process adds what only it knows after this.
 */
int service_metrics(struct service *svc, struct buf *out, struct buf *err);

/* The pilot's heartbeat (service-pilot.c; GET /api/v1/pilot remotely). */
int service_pilot_beat(struct service *svc, struct pilot_beat *out,
    struct buf *err);
/*
 * True when it is known that no pilot is running (pilot_beat_down()), with
 * why ("no pilot is running (last cycle 2026-12-03 07:58:09 UTC)", the
 * same text until the next cycle) added to `why` (may be
 * NULL); false when one is, or when it cannot be told (the database or the
 * server does not answer).
 */
bool service_pilot_down(struct service *svc, struct buf *why);
/* The same, why saying how long ago ("last cycle 5m ago"): for a warning. */
bool service_pilot_down_ago(struct service *svc, struct buf *why);

/* ---- orchestra doctor (service-doctor.c) ------------------------------ */

enum doctor_state {
	DOCTOR_OK,
	DOCTOR_FAIL,
	DOCTOR_SKIP, /* not checked: off, or what it needs failed */
};

/* One check's line: its name ("database"), OK or not, and what to fix. */
struct doctor_result {
	const char *check; /* static */
	enum doctor_state state;
	char *text; /* one line, owned; never a password */
};
typedef VEC(struct doctor_result) doctor_result_vec;
void service_doctor_release(doctor_result_vec *v);
const char *service_doctor_state_name(enum doctor_state s); /* "ok" ... */

/*
 * Check this machine's set-up, each check for real and within a few
 * seconds, and append one result per check to `out` (caller releases), in
 * order: the config file, the database (reachable, migrated), its files'
 * modes, the pilot's heartbeat, the backend (opened: the kubeconfig),
 * the users' Unix accounts as the backend maps them, the nodes the
 * backend sees against the node table (health, nvidia.com/gpu), `serve`
 * (GET /healthz of ORCHESTRA_URL, else of `listen`), and SMTP (greeting,
 * STARTTLS and login, no mail sent).  `cfg_err` is why the settings could
 * not be read (NULL: `cfg` holds them): then only that is checked.  A
 * check whose prerequisite failed is DOCTOR_SKIP.  Returns how many
 * failed.  The database and the backend are opened here, and closed.
 */
int service_doctor(const struct config *cfg, const char *cfg_err,
    doctor_result_vec *out);

#endif
