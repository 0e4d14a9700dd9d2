/*
 * db.h - the driver layer under the store: prepare, bind, step.
 *
 * The table of function pointers sits this low on purpose (SQLite's VFS,
 * not git's refs backends): the SQL is written once, in store-*.c, in the
 * dialect SQLite and PostgreSQL share, with PostgreSQL's $N parameters.
 * A driver is one file and one row in db_drivers[] (store.c), picked by
 * the scheme of the database URL.
 */
#ifndef ORCHESTRA_DB_H
#define ORCHESTRA_DB_H

#ifndef ORCHESTRA_SEES_STORE
#error "this module may not see store/ (tests/lint/layers.txt)"
#endif

#include "util/util.h"

struct db;
struct db_stmt;

/* step() results; errors are negative ERR_* codes. */
#define DB_DONE 0
#define DB_ROW 1

struct db_driver {
	const char *scheme; /* "sqlite", "postgresql" */
	const char *alias;  /* another scheme, or NULL ("postgres") */
	/*
	 * open() gets the whole URL when it goes on with "//" (postgresql://
	 * host/db), else what follows "scheme:" (a path, or libpq keywords).
	 */
	bool whole_url;
	/*
	 * A second pilot waits as a standby for the lock (PostgreSQL), rather
	 * than exiting (SQLite: one machine, one pilot).
	 */
	bool pilot_standby;
	/*
	 * Open `target` (the URL less "scheme:" for sqlite, the whole URL for
	 * postgresql).  With `create` false a missing database is
	 * ERR_NOTFOUND.
	 */
	int (*open)(struct db **out, const char *target, bool create,
	    struct buf *err);
	void (*close)(struct db *db);
	/* Run one or more statements with no parameters and no rows. */
	int (*exec)(struct db *db, const char *sql, struct buf *err);
	/* BEGIN for a transaction that will write (SQLite: IMMEDIATE). */
	int (*begin)(struct db *db, struct buf *err);
	/* COMMIT the transaction begin() opened (with a notify() owed). */
	int (*commit)(struct db *db, struct buf *err);
	/*
	 * Optional.  Inside a transaction: are its INSERTs into job to be
	 * counted in task_count by the caller, not by the database's trigger?
	 * True when the driver arranged it (PostgreSQL: migration 0022), and
	 * then the caller must; false (or NULL): the trigger counts them.
	 */
	bool (*jobs_counted)(struct db *db);
	/*
	 * Replace the markers the migrations use for what the two dialects
	 * spell differently: "@ID@", an auto-numbered BIGINT primary key.
	 * Appends the result to `out`.
	 */
	void (*rewrite_ddl)(const char *sql, struct buf *out);

	int (*prepare)(struct db *db, struct db_stmt **out, const char *sql,
	    struct buf *err);
	/* Parameters count from 1; text is copied; bind errors show at step. */
	void (*bind_int64)(struct db_stmt *st, int i, int64_t v);
	void (*bind_double)(struct db_stmt *st, int i, double v);
	void (*bind_text)(struct db_stmt *st, int i, const char *v);
	void (*bind_null)(struct db_stmt *st, int i);
	/*
	 * DB_ROW, DB_DONE, or a negative ERR_*: ERR_CONFLICT for a unique
	 * key, ERR_INVALID for a CHECK constraint, ERR_UNAVAILABLE for the
	 * rest (busy, I/O, connection lost).
	 */
	int (*step)(struct db_stmt *st, struct buf *err);
	/*
	 * Optional.  Run `st`, which returns no rows and whose changes()
	 * nobody reads, when the driver next talks to the server: inside a
	 * transaction, with its next statement stepped or its commit, which
	 * then fail with it and report its error (PostgreSQL: in the same
	 * pipeline, no round trip of its own).  Outside one it steps now.
	 * DB_DONE or a negative ERR_*; `st` is finalized as usual.
	 */
	int (*later)(struct db_stmt *st, struct buf *err);
	/*
	 * Optional.  Run the first step of each of the `n` statements that
	 * have not run (on one connection) together: PostgreSQL sends them
	 * in one pipeline, one round trip.  Each then answers its own
	 * step()s from its result.  0, or the first failure's ERR_* (the
	 * statements after it got no result: their step() fails too).
	 */
	int (*step_all)(struct db_stmt *const *st, size_t n, struct buf *err);
	/* Ready the statement to run again; bindings are kept. */
	void (*reset)(struct db_stmt *st);
	/* Columns count from 0; text is valid until the next step or reset. */
	bool (*col_is_null)(struct db_stmt *st, int i);
	int64_t (*col_int64)(struct db_stmt *st, int i);
	double (*col_double)(struct db_stmt *st, int i);
	const char *(*col_text)(struct db_stmt *st, int i); /* NULL for NULL */
	/* Rows changed by the statement's last run. */
	int64_t (*changes)(struct db_stmt *st);
	void (*finalize)(struct db_stmt *st);

	/*
	 * Take the lock that lets one pilot act on this database; held until
	 * close.  ERR_CONFLICT when another pilot holds it (err says who).
	 */
	int (*pilot_lock)(struct db *db, struct buf *err);
	/*
	 * Is the lock still ours?  A lost connection loses it: then try to
	 * take it again; ERR_CONFLICT when another pilot has it now.
	 */
	int (*pilot_check)(struct db *db, struct buf *err);
	/* Tell a waiting pilot that something changed (at commit). */
	int (*notify)(struct db *db, struct buf *err);
	/*
	 * A descriptor that becomes readable when another connection changes
	 * the database, or -1 when the driver has none (then the pilot asks
	 * changed() every few milliseconds).
	 */
	int (*change_fd)(struct db *db);
	/* Did another connection commit since the last call? Cheap. */
	bool (*changed)(struct db *db);
	/*
	 * Is the database itself malformed?  check() looks (SQLite: PRAGMA
	 * quick_check, which reads every page), 0 or ERR_UNAVAILABLE with
	 * what it found; damaged() is cheap: true once any statement was
	 * refused because the file is malformed.  PostgreSQL keeps its own
	 * files: 0 and false.
	 */
	int (*check)(struct db *db, struct buf *err);
	bool (*damaged)(struct db *db);
	/*
	 * Did the last transaction begun fail for want of space (SQLite:
	 * "database or disk is full", or a write that met ENOSPC)?  Cheap;
	 * asked right after a failure, as the pilot does to back off.
	 */
	bool (*full)(struct db *db);
	/*
	 * A query of one text column that names the committed state of the
	 * whole database as this connection sees it: equal answers, read on
	 * this connection, mean that nothing was committed in between by
	 * anyone, so what was read at the first is what a read now would
	 * give (store_data_version).  A different answer may be spurious.
	 */
	const char *version_sql;
	/*
	 * A query of one integer: 1 when the table named by $1 exists, else
	 * 0 (migrate.c asks for schema_version before it writes anything).
	 */
	const char *table_exists_sql;
};

/* Append `sql` to `out` with every `marker` replaced by `with`. */
void db_replace_marker(const char *sql, const char *marker, const char *with,
    struct buf *out);
/*
 * The next "$N" parameter of `sql` outside quoted strings and identifiers,
 * or NULL.  `*quote` carries the quote we are in from call to call (start
 * with 0, and go on from the returned pointer + 1).
 */
const char *db_next_param(const char *sql, char *quote);

extern const struct db_driver db_sqlite;
extern const struct db_driver db_postgres;

#endif
