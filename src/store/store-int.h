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

/* Bring the schema up to date (migrate.c). */
int store_migrate(struct store *st, bool create, struct buf *err);

/* Prepare `sql`; 0 or ERR_*. */
int store_prepare(struct store *st, struct db_stmt **out, const char *sql,
    struct buf *err);
/* Step through the driver, with fault injection; DB_ROW, DB_DONE, ERR_*. */
int store_step(struct store *st, struct db_stmt *stmt, struct buf *err);
/* Step a statement that returns no rows; 0 or ERR_*. */
int store_step_done(struct store *st, struct db_stmt *stmt, struct buf *err);
/* Copy driver column text (NULL stays NULL). */
char *store_col_strdup(struct store *st, struct db_stmt *stmt, int i);
/* The first column of each row of `sql` (no parameters), appended to
 * `out` (caller frees each and the array). */
int store_names(struct store *st, const char *sql, store_str_vec *out,
    struct buf *err);
/* Column as int64, `dflt` when NULL. */
int64_t store_col_int64_or(struct store *st, struct db_stmt *stmt, int i,
    int64_t dflt);

/*
 * Prepare `sql`, bind int64s ('i'), doubles ('d') and text ('s', NULL
 * binds NULL) by the format, step to the end; *changes (may be NULL) gets
 * the rows changed (store-pilot.c).
 */
int store_pilot_exec(struct store *st, const char *sql, struct buf *err,
    int64_t *changes, const char *fmt, ...);

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
