/*
 * store-int.h - what the store's own files share: the open store, the
 * migrations table, and the prepare and step wrappers that count
 * statements for fault injection and for the tests that bound them.
 */
#ifndef ORCHESTRA_STORE_INT_H
#define ORCHESTRA_STORE_INT_H

#ifndef ORCHESTRA_SEES_STORE
#error "this module may not see store/ (tests/lint/layers.txt)"
#endif

#include "store/db.h"
#include "store/store.h"

/* A job's current state if an attempt is its current, slot-holding one. */
struct store_job_now {
	int64_t job_id, attempt; /* which */
	bool found;
	enum job_status status;
	int64_t task_id, node_id;
	int64_t queued_ms, started_ms; /* 0 if not set */
};

/* A node's ended jobs owed to a transaction's commit (store-stats.c). */
struct store_node_owed {
	int64_t node_id, completed, failed;
};

struct store {
	const struct db_driver *drv;
	struct db *db;
	bool in_tx;
	int64_t steps;        /* statements stepped so far */
	int64_t prepares;     /* statements prepared so far */
	bool log_prepares;    /* log `prepares` on close (a test knob) */
	int64_t fail_after;   /* -1: no injected fault */
	bool mail_on;         /* queue mails (store_mail_enable) */
	bool mail_queued;     /* a mail row written (store_mail_queued) */
	int64_t retention_ms; /* the configured default retention */
	bool chunk_whole;     /* store_task_chunk_whole() */
	int64_t tx_marked;    /* the task this transaction marked dirty, or 0 */
	/* Read ahead in this transaction (store_job_now_read_ahead). */
	VEC(struct store_job_now) ahead;
	/*
	 * The counters this transaction adds to (store_stat_add, the nodes'
	 * completed and failed jobs), summed and written at its commit: a
	 * statement a counter, not one an end, and each row updated once.
	 */
	stat_row_vec stat_owed; /* each row an increment */
	VEC(struct store_node_owed) node_owed;
};

struct store_migration {
	int64_t version;
	const char *name;
	/*
	 * The driver it is for, or NULL for both: a migration the two
	 * dialects spell too differently for rewrite_ddl() (triggers) comes
	 * as NNNN-name.sqlite.sql and NNNN-name.postgresql.sql.
	 */
	const char *scheme;
	const char *sql;
};
extern const struct store_migration store_migrations[];
extern const size_t store_nmigrations;

/*
 * Add `completed` and `failed` to node `node_id`'s counters: at the
 * commit, summed with the transaction's others (outside one, now).
 */
int store_node_ends(struct store *st, int64_t node_id, int64_t completed,
    int64_t failed, struct buf *err);
/* Write the counters owed (store_commit, before it commits); 0 or ERR_*. */
int store_owed_flush(struct store *st, struct buf *err);
/* Forget the counters owed (a transaction that begins, or rolls back). */
void store_owed_clear(struct store *st);

/* Bring the schema up to date (migrate.c). */
int store_migrate(struct store *st, bool create, struct buf *err);

/* Prepare `sql`; 0 or ERR_*. */
int store_prepare(struct store *st, struct db_stmt **out, const char *sql,
    struct buf *err);
/* Step through the driver, with fault injection; DB_ROW, DB_DONE, ERR_*. */
int store_step(struct store *st, struct db_stmt *stmt, struct buf *err);
/* Step a statement that returns no rows; 0 or ERR_*. */
int store_step_done(struct store *st, struct db_stmt *stmt, struct buf *err);
/* The same, but it may run later (store_later below). */
int store_step_later(struct store *st, struct db_stmt *stmt, struct buf *err);
/*
 * Run the first step of each of `n` statements together where the driver
 * can (db.h, step_all: one round trip on PostgreSQL); then store_step()
 * each as usual.  0 or ERR_*.
 */
int store_step_all(struct store *st, struct db_stmt *const *stmts, size_t n,
    struct buf *err);
/* Copy driver column text (NULL stays NULL). */
char *store_col_strdup(struct store *st, struct db_stmt *stmt, int i);
/*
 * An account's columns, from column `first` on: id, username, email,
 * max_priority, role, created_ms, mail, unix_user, hold (store-account.c).
 */
void store_account_read(struct store *st, struct db_stmt *stmt, int first,
    struct account *a);
/* The first column of each row of `sql` (no parameters), appended to
 * `out` (caller frees each and the array). */
int store_names(struct store *st, const char *sql, store_str_vec *out,
    struct buf *err);
/* Column as int64, `dflt` when NULL. */
int64_t store_col_int64_or(struct store *st, struct db_stmt *stmt, int i,
    int64_t dflt);
/*
 * The one number a statement answers: the first column of its first row
 * in *n (`none` when it is NULL or there is no row).  `ret` is what
 * store_query() or store_prepare() returned for `stmt`, which is
 * finalized here.  0, or that error or the step's.
 */
int store_number(struct store *st, int ret, struct db_stmt *stmt,
    int64_t none, int64_t *n, struct buf *err);

/*
 * One statement, prepared and bound in one place (store.c).  `fmt` has one
 * letter a parameter, from $1 on: 'i' an int64_t, 'I' an int64_t bound as
 * NULL when 0 (an id's "none"), 'n' an int64_t bound as NULL when negative
 * (a GPU index's or an exit code's "none"), 'd' a double, 's' a const
 * char * (NULL binds NULL).
 *
 * store_query: prepare `sql` and bind; 0 and *out to step through and
 * finalize (finalize takes NULL too), or ERR_* with *out NULL.
 * store_exec: prepare, bind, step a statement that returns no rows to its
 * end, finalize; 0 or ERR_*; *changes (may be NULL) gets the rows changed.
 * store_later: the same, but it may run later (db.h, later()): with the
 * transaction's next statement or its commit, which then fail with it.
 * For the writes whose failure only the whole transaction answers (an
 * event, a counter): never where the caller looks at the error's code.
 */
/* clang-format off */
#define store_query(st, out, sql, err, fmt, ...) \
	store_queryf(st, out, sql, err, STORE_FMT(fmt, __VA_ARGS__), \
	    __VA_ARGS__)
#define store_exec(st, sql, err, changes, fmt, ...) \
	store_execf(st, sql, err, changes, STORE_FMT(fmt, __VA_ARGS__), \
	    __VA_ARGS__)
#define store_later(st, sql, err, fmt, ...) \
	store_laterf(st, sql, err, STORE_FMT(fmt, __VA_ARGS__), __VA_ARGS__)
/* clang-format on */
int store_queryf(struct store *st, struct db_stmt **out, const char *sql,
    struct buf *err, const char *fmt, ...);
int store_execf(struct store *st, const char *sql, struct buf *err,
    int64_t *changes, const char *fmt, ...);
int store_laterf(struct store *st, const char *sql, struct buf *err,
    const char *fmt, ...);
/* clang-format off */

/*
 * The compiler checks each call: `fmt` a string literal, as many
 * parameters as letters, and each an int64_t, a double or a string (an
 * int or a bool read as an int64_t through `...` would be undefined
 * behaviour: cast it).  That each letter names its parameter's type is
 * left to the reader.
 */
#define STORE_NARGS(...) \
	STORE_NARGS_(__VA_ARGS__, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, \
	    10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define STORE_NARGS_(a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, \
	    a13, a14, a15, a16, a17, a18, a19, a20, n, ...) n
#define STORE_CAT(a, b) STORE_CAT_(a, b)
#define STORE_CAT_(a, b) a##b
#define STORE_ARG(x) \
	_Generic((x), int64_t: 1, double: 1, char *: 1, const char *: 1)
#define STORE_ARGS1(a) STORE_ARG(a)
#define STORE_ARGS2(a, ...) STORE_ARG(a) + STORE_ARGS1(__VA_ARGS__)
#define STORE_ARGS3(a, ...) STORE_ARG(a) + STORE_ARGS2(__VA_ARGS__)
#define STORE_ARGS4(a, ...) STORE_ARG(a) + STORE_ARGS3(__VA_ARGS__)
#define STORE_ARGS5(a, ...) STORE_ARG(a) + STORE_ARGS4(__VA_ARGS__)
#define STORE_ARGS6(a, ...) STORE_ARG(a) + STORE_ARGS5(__VA_ARGS__)
#define STORE_ARGS7(a, ...) STORE_ARG(a) + STORE_ARGS6(__VA_ARGS__)
#define STORE_ARGS8(a, ...) STORE_ARG(a) + STORE_ARGS7(__VA_ARGS__)
#define STORE_ARGS9(a, ...) STORE_ARG(a) + STORE_ARGS8(__VA_ARGS__)
#define STORE_ARGS10(a, ...) STORE_ARG(a) + STORE_ARGS9(__VA_ARGS__)
#define STORE_ARGS11(a, ...) STORE_ARG(a) + STORE_ARGS10(__VA_ARGS__)
#define STORE_ARGS12(a, ...) STORE_ARG(a) + STORE_ARGS11(__VA_ARGS__)
#define STORE_ARGS13(a, ...) STORE_ARG(a) + STORE_ARGS12(__VA_ARGS__)
#define STORE_ARGS14(a, ...) STORE_ARG(a) + STORE_ARGS13(__VA_ARGS__)
#define STORE_ARGS15(a, ...) STORE_ARG(a) + STORE_ARGS14(__VA_ARGS__)
#define STORE_ARGS16(a, ...) STORE_ARG(a) + STORE_ARGS15(__VA_ARGS__)
#define STORE_ARGS17(a, ...) STORE_ARG(a) + STORE_ARGS16(__VA_ARGS__)
#define STORE_ARGS18(a, ...) STORE_ARG(a) + STORE_ARGS17(__VA_ARGS__)
#define STORE_ARGS19(a, ...) STORE_ARG(a) + STORE_ARGS18(__VA_ARGS__)
#define STORE_ARGS20(a, ...) STORE_ARG(a) + STORE_ARGS19(__VA_ARGS__)
/* `fmt` itself, once the arguments passed; else an array of size -1. */
#define STORE_FMT(fmt, ...) \
	((fmt) + 0 * sizeof(char[sizeof("" fmt) - 1 == \
	    STORE_NARGS(__VA_ARGS__) && \
	    STORE_CAT(STORE_ARGS, STORE_NARGS(__VA_ARGS__))(__VA_ARGS__) == \
	    STORE_NARGS(__VA_ARGS__) ? 1 : -1]))
/* clang-format on */

/*
 * Queue the mails an event causes, in the caller's transaction
 * (store-mail.c); each does nothing while mail is off, or for a user
 * without an address or with mail turned off.
 *
 * A task's mail (`kind` "task-end", "retention-half", "retention-day"):
 * to its owner, with its job counts and its removal time.
 */
int store_mail_task(struct store *st, int64_t task_id, const char *kind,
    int64_t now, struct buf *err);
/* A node's health changed: to every admin. */
int store_mail_node(struct store *st, int64_t node_id, const char *name,
    bool healthy, const char *detail, int64_t now, struct buf *err);

#endif
