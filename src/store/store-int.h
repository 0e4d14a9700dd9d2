/*
 * store-int.h - what the store's own files share: the open store, the
 * migrations table, and the step wrapper that counts statements for
 * fault injection.
 */
#ifndef ORCHESTRA_STORE_INT_H
#define ORCHESTRA_STORE_INT_H

#include "store/db.h"
#include "store/store.h"

struct store {
	const struct db_driver *drv;
	struct db *db;
	bool in_tx;
	int64_t steps;      /* statements stepped so far */
	int64_t fail_after; /* -1: no injected fault */
};

struct store_migration {
	int64_t version;
	const char *name;
	const char *sql;
};
extern const struct store_migration store_migrations[];
extern const size_t store_nmigrations;

/* Bring the schema up to date (migrate.c). */
int store_migrate(struct store *st, struct buf *err);

/* Prepare `sql`; 0 or ERR_*. */
int store_prepare(struct store *st, struct db_stmt **out, const char *sql,
    struct buf *err);
/* Step through the driver, with fault injection; DB_ROW, DB_DONE, ERR_*. */
int store_step(struct store *st, struct db_stmt *stmt, struct buf *err);
/* Step a statement that returns no rows; 0 or ERR_*. */
int store_step_done(struct store *st, struct db_stmt *stmt, struct buf *err);
/* Copy driver column text (NULL stays NULL). */
char *store_col_strdup(struct store *st, struct db_stmt *stmt, int i);
/* Column as int64, `dflt` when NULL. */
int64_t store_col_int64_or(struct store *st, struct db_stmt *stmt, int i,
    int64_t dflt);

#endif
