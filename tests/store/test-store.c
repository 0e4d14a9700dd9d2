/*
 * test-store.c - the store against a real database.
 *
 *   test-store                 a fresh SQLite file per test, in a temporary
 *                              directory
 *   test-store --db-url URL    the PostgreSQL database at URL, its schema
 *                              emptied before each test
 *
 * ctest runs it once per driver.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/store-int.h"

static char test_store_dir[] = "/tmp/orchestra-store-XXXXXX";
static struct buf test_store_url = BUF_INIT;
static const char *test_store_pg; /* --db-url, or NULL for SQLite */
static int test_store_n;

/* A fresh database for each test. */
static int
test_store_setup(void **state)
{
	struct store *st = NULL;
	struct buf err = BUF_INIT;

	buf_reset(&test_store_url);
	if (test_store_pg != NULL) {
		struct db *db = NULL;

		/* Straight through the driver: no migration, no checks. */
		buf_adds(&test_store_url, test_store_pg);
		if (db_postgres.open(&db, test_store_pg, false, &err) < 0 ||
		    db_postgres.exec(db,
		        "DROP SCHEMA public CASCADE; CREATE SCHEMA public",
		        &err) < 0)
			fail_msg("reset: %s", err.data);
		db_postgres.close(db);
	} else {
		buf_addf(&test_store_url, "sqlite:%s/t%d.db", test_store_dir,
		    ++test_store_n);
	}
	if (store_open(&st, test_store_url.data, true, &err) < 0)
		fail_msg("open: %s", err.data);
	buf_release(&err);
	*state = st;
	return 0;
}

static int
test_store_teardown(void **state)
{
	store_close(*state);
	return 0;
}

static void
test_store_exec(struct store *st, const char *sql)
{
	struct buf err = BUF_INIT;

	if (st->drv->exec(st->db, sql, &err) < 0)
		fail_msg("%s: %s", sql, err.data);
	buf_release(&err);
}

static int64_t
test_store_scalar(struct store *st, const char *sql)
{
	struct db_stmt *stmt = NULL;
	struct buf err = BUF_INIT;
	int64_t v;

	assert_int_equal(store_prepare(st, &stmt, sql, &err), 0);
	assert_int_equal(store_step(st, stmt, &err), DB_ROW);
	v = st->drv->col_int64(stmt, 0);
	st->drv->finalize(stmt);
	buf_release(&err);
	return v;
}

static int64_t
test_store_user(struct store *st, const char *name, int64_t prio)
{
	struct account a = { 0 };
	struct buf err = BUF_INIT;
	int64_t id;

	a.username = xstrdup(name);
	a.email = xstrdup("");
	a.role = xstrdup("user");
	a.max_priority = prio;
	a.created_ms = 1;
	assert_int_equal(store_account_insert(st, &a, &err), 0);
	id = a.id;
	account_release(&a);
	buf_release(&err);
	return id;
}

static int64_t
test_store_node(struct store *st, const char *name, const char *queue,
    int64_t cpu, int64_t gpu)
{
	struct node n = { 0 };
	struct buf err = BUF_INIT;
	int64_t id;

	n.name = xstrdup(name);
	n.queue = xstrdup(queue);
	n.cpu_slots = cpu;
	n.max_cpu_slots = cpu > 30 ? cpu : 30;
	n.gpu_slots = gpu;
	n.max_gpu_slots = gpu;
	n.enabled = true;
	n.created_ms = 1;
	assert_int_equal(store_node_insert(st, &n, &err), 0);
	id = n.id;
	node_release(&n);
	buf_release(&err);
	return id;
}

/* A task of `njobs` jobs, committed; returns its id. */
static int64_t
test_store_task(struct store *st, int64_t account_id, const char *name,
    int64_t submitted, int64_t njobs, bool gpu)
{
	struct store_job_inserter *ins = NULL;
	struct task t = { 0 };
	struct buf err = BUF_INIT;
	int64_t i, id;

	t.account_id = account_id;
	t.name = xstrdup(name);
	t.queue = xstrdup("default");
	t.command = xstrdup("true");
	t.out_dir = xstrdup("/tmp/out");
	t.gpu = gpu;
	t.retention_ms = -1;
	t.njobs = njobs;
	t.submitted_ms = submitted;
	assert_int_equal(store_begin(st, &err), 0);
	assert_int_equal(store_task_insert(st, &t, &err), 0);
	assert_int_equal(store_job_insert_begin(st, &t, &ins, &err), 0);
	for (i = 0; i < njobs; i++)
		assert_int_equal(
		    store_job_insert_add(ins, i, NULL, "true", &err), 0);
	assert_int_equal(store_job_insert_finish(ins, &err), 0);
	store_job_insert_end(ins);
	assert_int_equal(store_commit(st, &err), 0);
	id = t.id;
	task_release(&t);
	buf_release(&err);
	return id;
}

static void
test_migrations_current_and_idempotent(void **state)
{
	struct store *st = *state, *again = NULL;
	struct buf err = BUF_INIT;
	const char *scheme = strncmp(test_store_url.data, "sqlite:", 7) == 0
	    ? "sqlite"
	    : "postgresql";
	int64_t v = 0, mine = 0, last = 0;
	size_t i;

	/* Those of both drivers, and this driver's own. */
	for (i = 0; i < store_nmigrations; i++)
		if (store_migrations[i].scheme == NULL ||
		    strcmp(store_migrations[i].scheme, scheme) == 0) {
			mine++;
			last = store_migrations[i].version;
		}
	assert_int_equal(store_schema_version(st, &v, &err), 0);
	assert_int_equal(v, last);
	assert_int_equal(store_open(&again, test_store_url.data, false, &err),
	    0);
	assert_int_equal(
	    test_store_scalar(again, "SELECT count(*) FROM schema_version"),
	    mine);
	store_close(again);
	/* A schema newer than the code is refused, not misread. */
	test_store_exec(st, "INSERT INTO schema_version VALUES (9999, 'x', 0)");
	assert_int_equal(store_open(&again, test_store_url.data, false, &err),
	    ERR_INVALID);
	assert_non_null(strstr(err.data, "newer"));
	buf_release(&err);
}

static void
test_open_missing_without_create(void **state)
{
	struct store *st = NULL;
	struct buf err = BUF_INIT, url = BUF_INIT;

	(void)state;
	if (test_store_pg != NULL) {
		/* A server that is not there: one clear line. */
		assert_int_equal(store_open(&st,
		                     "postgresql://nobody@127.0.0.1:1/none",
		                     false, &err),
		    ERR_UNAVAILABLE);
		assert_null(st);
		assert_non_null(strstr(err.data, "cannot connect"));
		assert_null(strchr(err.data, '\n'));
		buf_release(&err);
		return;
	}
	buf_addf(&url, "%s/none.db", test_store_dir);
	assert_int_equal(store_open(&st, url.data, false, &err), ERR_NOTFOUND);
	assert_null(st);
	assert_non_null(strstr(err.data, "orchestra init"));
	assert_int_equal(access(url.data, F_OK), -1);
	buf_release(&err);
	buf_release(&url);
}

/*
 * Make the database at `url` (the test's own) empty: no table at all.
 * Returns a raw driver connection to it (no migration), or NULL on SQLite
 * where `url` names a new 0-byte file.
 */
static struct db *
test_store_empty(struct store *st, struct buf *url)
{
	struct buf err = BUF_INIT;
	struct db *db = NULL;
	FILE *f;

	buf_reset(url);
	if (test_store_pg != NULL) {
		buf_adds(url, test_store_pg);
		test_store_exec(st,
		    "DROP SCHEMA public CASCADE; CREATE SCHEMA public");
		if (db_postgres.open(&db, test_store_pg, false, &err) < 0)
			fail_msg("open: %s", err.data);
		return db;
	}
	buf_addf(url, "%s/empty%d.db", test_store_dir, ++test_store_n);
	f = fopen(url->data, "w");
	assert_non_null(f);
	fclose(f);
	return NULL;
}

/* How many tables the database at `url` has (through the raw driver). */
static int64_t
test_store_ntables(const struct buf *url)
{
	static const char sql_sqlite[] =
	    "SELECT count(*) FROM sqlite_master WHERE type = 'table'";
	static const char sql_pg[] = "SELECT count(*) FROM pg_catalog.pg_tables"
	                             " WHERE schemaname = 'public'";
	const struct db_driver *drv =
	    test_store_pg != NULL ? &db_postgres : &db_sqlite;
	struct buf err = BUF_INIT;
	struct db_stmt *stmt = NULL;
	struct db *db = NULL;
	int64_t n;

	if (drv->open(&db, url->data, false, &err) < 0 ||
	    drv->prepare(db, &stmt, test_store_pg ? sql_pg : sql_sqlite, &err) <
	        0 ||
	    drv->step(stmt, &err) != DB_ROW)
		fail_msg("count tables: %s", err.data);
	n = drv->col_int64(stmt, 0);
	drv->finalize(stmt);
	drv->close(db);
	buf_release(&err);
	return n;
}

/*
 * Only init creates: a database with no schema (an empty file, a new
 * PostgreSQL database) is refused like a missing one, and left as it was.
 */
static void
test_open_empty_without_create(void **state)
{
	struct store *st = *state, *again = NULL;
	struct buf err = BUF_INIT, url = BUF_INIT;
	struct db *db;
	struct stat sb;

	db = test_store_empty(st, &url);
	assert_int_equal(store_open(&again, url.data, false, &err),
	    ERR_NOTFOUND);
	assert_null(again);
	assert_non_null(strstr(err.data, "run 'orchestra init' first"));
	assert_null(strstr(err.data, "password"));
	assert_int_equal(test_store_ntables(&url), 0);
	if (db == NULL) {
		assert_int_equal(stat(url.data, &sb), 0);
		assert_int_equal(sb.st_size, 0);
	}
	/* init (create) makes the schema in it. */
	assert_int_equal(store_open(&again, url.data, true, &err), 0);
	store_close(again);
	assert_true(test_store_ntables(&url) > 5);
	if (db != NULL)
		db_postgres.close(db);
	buf_release(&err);
	buf_release(&url);
}

/*
 * A half-made database (a table of the first migration, no
 * schema_version): a command refuses it and init fails on it, and
 * neither leaves anything behind (no schema_version table).
 */
static void
test_open_half_migrated(void **state)
{
	struct store *st = *state, *again = NULL;
	struct buf err = BUF_INIT, url = BUF_INIT;
	struct db *db;

	db = test_store_empty(st, &url);
	if (db == NULL && db_sqlite.open(&db, url.data, true, &err) < 0)
		fail_msg("open: %s", err.data);
	if (test_store_pg != NULL)
		assert_int_equal(
		    db_postgres.exec(db, "CREATE TABLE account (x INT)", &err),
		    0);
	else
		assert_int_equal(
		    db_sqlite.exec(db, "CREATE TABLE account (x INT)", &err),
		    0);
	assert_int_equal(store_open(&again, url.data, false, &err),
	    ERR_NOTFOUND);
	assert_int_equal(test_store_ntables(&url), 1);
	buf_reset(&err);
	assert_true(store_open(&again, url.data, true, &err) < 0);
	assert_null(again);
	assert_non_null(strstr(err.data, "0001"));
	assert_int_equal(test_store_ntables(&url), 1);
	if (test_store_pg != NULL)
		db_postgres.close(db);
	else
		db_sqlite.close(db);
	buf_release(&err);
	buf_release(&url);
}

static void
test_params_bound_by_number(void **state)
{
	struct store *st = *state;
	struct db_stmt *stmt = NULL;
	struct buf err = BUF_INIT;

	/* SQLite would bind $2 first by appearance; the driver must not. */
	assert_int_equal(store_prepare(st, &stmt, "SELECT $2, $1, '$1'", &err),
	    0);
	st->drv->bind_int64(stmt, 1, 11);
	st->drv->bind_int64(stmt, 2, 22);
	assert_int_equal(store_step(st, stmt, &err), DB_ROW);
	assert_int_equal(st->drv->col_int64(stmt, 0), 22);
	assert_int_equal(st->drv->col_int64(stmt, 1), 11);
	assert_string_equal(st->drv->col_text(stmt, 2), "$1");
	st->drv->finalize(stmt);
	buf_release(&err);
}

/* One statement of `sql` bound to `v`: its first column. */
static int64_t
test_store_bound(struct store *st, const char *sql, int64_t v)
{
	struct db_stmt *stmt = NULL;
	struct buf err = BUF_INIT;
	int64_t got;

	assert_int_equal(store_prepare(st, &stmt, sql, &err), 0);
	st->drv->bind_int64(stmt, 1, v);
	assert_int_equal(store_step(st, stmt, &err), DB_ROW);
	got = st->drv->col_int64(stmt, 0);
	st->drv->finalize(stmt);
	buf_release(&err);
	return got;
}

/*
 * Statements the driver keeps prepared (SQLite's cache) behave as new
 * ones: the same SQL twice at once, more distinct statements than the
 * cache holds, twice over, and one finalized before its last row starts
 * again from its first.
 */
static void
test_statements_reused(void **state)
{
	static const char twice[] = "SELECT CAST($1 AS BIGINT) * 2";
	struct store *st = *state;
	struct db_stmt *a = NULL, *b = NULL;
	struct buf err = BUF_INIT, sql = BUF_INIT;
	int pass, k;

	assert_int_equal(store_prepare(st, &a, twice, &err), 0);
	st->drv->bind_int64(a, 1, 3);
	assert_int_equal(store_step(st, a, &err), DB_ROW);
	assert_int_equal(store_prepare(st, &b, twice, &err), 0);
	st->drv->bind_int64(b, 1, 5);
	assert_int_equal(store_step(st, b, &err), DB_ROW);
	assert_int_equal(st->drv->col_int64(b, 0), 10);
	assert_int_equal(st->drv->col_int64(a, 0), 6);
	st->drv->finalize(a);
	st->drv->finalize(b);
	assert_int_equal(test_store_bound(st, twice, 7), 14);

	for (pass = 0; pass < 2; pass++) {
		for (k = 0; k < 100; k++) {
			buf_reset(&sql);
			buf_addf(&sql, "SELECT CAST($1 AS BIGINT) + %d", k);
			assert_int_equal(test_store_bound(st, sql.data, pass),
			    pass + k);
		}
	}

	test_store_exec(st, "CREATE TABLE reuse (n BIGINT)");
	test_store_exec(st, "INSERT INTO reuse VALUES (1), (2), (3)");
	for (pass = 0; pass < 2; pass++) {
		assert_int_equal(store_prepare(st, &a,
		                     "SELECT n FROM reuse ORDER BY n", &err),
		    0);
		assert_int_equal(store_step(st, a, &err), DB_ROW);
		assert_int_equal(st->drv->col_int64(a, 0), 1);
		st->drv->finalize(a);
	}
	buf_release(&sql);
	buf_release(&err);
}

/* Run `sql` once (no parameters): its return (DB_DONE, DB_ROW or < 0). */
static int
test_store_try(struct store *st, const char *sql, struct buf *err)
{
	struct db_stmt *stmt = NULL;
	int ret;

	ret = store_prepare(st, &stmt, sql, err);
	if (ret < 0)
		return ret;
	ret = store_step(st, stmt, err);
	st->drv->finalize(stmt);
	return ret;
}

/*
 * A transaction holds from begin() on, though the PostgreSQL driver sends
 * its BEGIN with the first statement, and a statement's Parse with its
 * second use: what a rolled back transaction wrote is gone, an empty one
 * commits, and a statement that fails at its second use (its table gone)
 * says so, leaves the connection usable and runs again once it can.
 */
static void
test_transactions_deferred(void **state)
{
	static const char count[] = "SELECT count(*) FROM deferred";
	static const char add[] = "INSERT INTO deferred VALUES (1)";
	struct store *st = *state;
	struct buf err = BUF_INIT;
	int pass;

	test_store_exec(st, "CREATE TABLE deferred (n BIGINT)");
	for (pass = 0; pass < 3; pass++) {
		/* The first statement carries the BEGIN: rolled back. */
		assert_int_equal(store_begin(st, &err), 0);
		assert_int_equal(test_store_try(st, add, &err), DB_DONE);
		store_rollback(st);
		assert_int_equal(test_store_scalar(st, count), 0);
		/* Nothing sent: nothing to commit. */
		assert_int_equal(store_begin(st, &err), 0);
		assert_int_equal(store_commit(st, &err), 0);
		/* A failed statement ends the transaction; the next works. */
		assert_int_equal(store_begin(st, &err), 0);
		assert_int_equal(test_store_try(st, add, &err), DB_DONE);
		assert_true(test_store_try(st, "SELECT * FROM nowhere", &err) <
		    0);
		assert_non_null(strstr(err.data, "nowhere"));
		store_rollback(st);
		assert_int_equal(test_store_scalar(st, count), 0);
	}
	assert_int_equal(store_begin(st, &err), 0);
	assert_int_equal(test_store_try(st, add, &err), DB_DONE);
	assert_int_equal(test_store_try(st, add, &err), DB_DONE);
	assert_int_equal(store_commit(st, &err), 0);
	assert_int_equal(test_store_scalar(st, count), 2);

	/* Used before (unnamed); its Parse fails at the second use. */
	test_store_exec(st, "CREATE TABLE gone (n BIGINT)");
	assert_int_equal(test_store_try(st, "SELECT n FROM gone", &err),
	    DB_DONE);
	test_store_exec(st, "DROP TABLE gone");
	buf_reset(&err);
	assert_true(test_store_try(st, "SELECT n FROM gone", &err) < 0);
	assert_non_null(strstr(err.data, "gone"));
	assert_int_equal(test_store_scalar(st, count), 2);
	test_store_exec(st, "CREATE TABLE gone (n BIGINT)");
	test_store_exec(st, "INSERT INTO gone VALUES (7)");
	assert_int_equal(test_store_scalar(st, "SELECT n FROM gone"), 7);
	assert_int_equal(test_store_scalar(st, "SELECT n FROM gone"), 7);
	buf_release(&err);
}

/*
 * A statement run later (store_later) runs in order with the others, goes
 * with the transaction, and its failure fails the statement or commit it
 * went with, naming its own error; after a rollback the connection works
 * and a statement whose Parse was skipped with it runs.  The PostgreSQL
 * driver queues it (more than it sends at once, too); SQLite runs it at
 * once, so there the failure is the later call's own.
 */
static void
test_statements_later(void **state)
{
	static const char count[] = "SELECT count(*) FROM later";
	static const char add[] = "INSERT INTO later VALUES ($1)";
	static const char add2[] = "INSERT INTO later2 VALUES ($1)";
	struct store *st = *state;
	struct buf err = BUF_INIT;
	int64_t i;
	int ret;

	test_store_exec(st, "CREATE TABLE later (n BIGINT PRIMARY KEY)");
	test_store_exec(st, "CREATE TABLE later2 (n BIGINT)");
	/* Outside a transaction: at once. */
	assert_int_equal(store_later(st, add, &err, "i", (int64_t)1), 0);
	assert_int_equal(test_store_scalar(st, count), 1);
	/* In order, three uses of one (its Parse sent once), then commit. */
	assert_int_equal(store_begin(st, &err), 0);
	for (i = 2; i <= 4; i++)
		assert_int_equal(store_later(st, add, &err, "i", i), 0);
	assert_int_equal(test_store_scalar(st, count), 4);
	assert_int_equal(store_later(st, add, &err, "i", (int64_t)5), 0);
	assert_int_equal(store_commit(st, &err), 0);
	assert_int_equal(test_store_scalar(st, count), 5);
	/* Rolled back, sent or not. */
	assert_int_equal(store_begin(st, &err), 0);
	assert_int_equal(store_later(st, add, &err, "i", (int64_t)6), 0);
	store_rollback(st);
	assert_int_equal(test_store_scalar(st, count), 5);
	/* More than are sent at once: all of them, in order. */
	assert_int_equal(store_begin(st, &err), 0);
	for (i = 100; i < 300; i++)
		assert_int_equal(store_later(st, add, &err, "i", i), 0);
	assert_int_equal(store_commit(st, &err), 0);
	assert_int_equal(test_store_scalar(st, count), 205);
	/*
	 * A duplicate key, then a statement whose first Parse goes with it
	 * (skipped): the next statement fails with the key's error.
	 */
	assert_int_equal(store_begin(st, &err), 0);
	assert_int_equal(store_later(st, add2, &err, "i", (int64_t)1), 0);
	ret = store_later(st, add, &err, "i", (int64_t)7);
	if (ret == 0)
		ret = store_later(st, add, &err, "i", (int64_t)1);
	if (ret == 0)
		ret = store_later(st, add2, &err, "i", (int64_t)2);
	if (ret == 0)
		ret = test_store_try(st, count, &err);
	assert_int_equal(ret, ERR_CONFLICT);
	assert_non_null(strstr(err.data, "later")); /* its key's table */
	store_rollback(st);
	assert_int_equal(test_store_scalar(st, count), 205);
	assert_int_equal(test_store_scalar(st, "SELECT count(*) FROM later2"),
	    0);
	/* The skipped Parse is sent again; a failure fails the commit. */
	buf_reset(&err);
	assert_int_equal(store_begin(st, &err), 0);
	assert_int_equal(store_later(st, add2, &err, "i", (int64_t)3), 0);
	ret = store_later(st, add, &err, "i", (int64_t)2);
	if (ret == 0)
		ret = store_commit(st, &err);
	else
		store_rollback(st);
	assert_int_equal(ret, ERR_CONFLICT);
	assert_non_null(strstr(err.data, "later")); /* its key's table */
	assert_int_equal(test_store_scalar(st, count), 205);
	assert_int_equal(store_begin(st, &err), 0);
	assert_int_equal(store_later(st, add2, &err, "i", (int64_t)4), 0);
	assert_int_equal(store_commit(st, &err), 0);
	assert_int_equal(test_store_scalar(st, "SELECT count(*) FROM later2"),
	    1);
	buf_release(&err);
}

/*
 * PostgreSQL: a connection lost mid-transaction (its backend ended) loses
 * the transaction: what it sent and what it owed (statements run later)
 * is gone, each statement after fails, and so does the commit, rather
 * than running on a new connection outside any transaction.  Once rolled
 * back, the store works again.
 */
static void
test_transaction_lost(void **state)
{
	static const char count[] = "SELECT count(*) FROM lost";
	static const char add[] = "INSERT INTO lost VALUES (1)";
	static const char addn[] = "INSERT INTO lost VALUES ($1)";
	struct store *st = *state, *other = NULL;
	struct buf err = BUF_INIT, sql = BUF_INIT;
	int pass;

	if (test_store_pg == NULL)
		skip();
	test_store_exec(st, "CREATE TABLE lost (n BIGINT)");
	assert_int_equal(store_open(&other, test_store_url.data, false, &err),
	    0);
	for (pass = 0; pass < 2; pass++) {
		buf_reset(&sql);
		buf_addf(&sql, "SELECT pg_terminate_backend(%lld)",
		    (long long)test_store_scalar(st,
		        "SELECT pg_backend_pid()"));
		assert_int_equal(store_begin(st, &err), 0);
		/* Pass 0: one sent, one owed; pass 1: only owed. */
		if (pass == 0)
			assert_int_equal(test_store_try(st, add, &err),
			    DB_DONE);
		assert_int_equal(store_later(st, addn, &err, "i", (int64_t)2),
		    0);
		test_store_exec(other, sql.data);
		if (pass == 0)
			assert_true(test_store_try(st, count, &err) < 0);
		assert_true(store_commit(st, &err) < 0);
		assert_int_equal(test_store_scalar(st, count), 0);
	}
	store_close(other);
	buf_release(&sql);
	buf_release(&err);
}

static void
test_accounts(void **state)
{
	struct store *st = *state;
	struct account a = { 0 }, b = { 0 };
	account_vec v = VEC_INIT;
	struct buf err = BUF_INIT;

	test_store_user(st, "bob", 1000);
	test_store_user(st, "alice", 2000);
	a.username = xstrdup("bob");
	a.created_ms = 1;
	assert_int_equal(store_account_insert(st, &a, &err), ERR_CONFLICT);
	assert_string_equal(err.data, "user 'bob' already exists");
	account_release(&a);
	assert_int_equal(store_account_get(st, "nobody", &b, &err),
	    ERR_NOTFOUND);
	assert_string_equal(err.data, "no user 'nobody'");
	assert_int_equal(store_account_get(st, "alice", &b, &err), 0);
	assert_int_equal(b.max_priority, 2000);
	free(b.role);
	b.role = xstrdup("admin");
	assert_int_equal(store_account_update(st, &b, &err), 0);
	account_release(&b);
	assert_int_equal(store_account_list(st, NULL, 0, &v, &err), 0);
	assert_int_equal(v.n, 2);
	assert_string_equal(v.v[0].username, "alice");
	assert_string_equal(v.v[0].role, "admin");
	account_vec_release(&v);
	/* Keyset pages: one row after "alice", none after "bob". */
	assert_int_equal(store_account_list(st, NULL, 1, &v, &err), 0);
	assert_int_equal(v.n, 1);
	assert_string_equal(v.v[0].username, "alice");
	account_vec_release(&v);
	assert_int_equal(store_account_list(st, "alice", 1, &v, &err), 0);
	assert_int_equal(v.n, 1);
	assert_string_equal(v.v[0].username, "bob");
	account_vec_release(&v);
	assert_int_equal(store_account_list(st, "bob", 1, &v, &err), 0);
	assert_int_equal(v.n, 0);
	account_vec_release(&v);
	/* The role CHECK holds for hand-written SQL too. */
	assert_int_equal(
	    st->drv->exec(st->db, "UPDATE account SET role = 'king'", &err),
	    ERR_INVALID);
	buf_release(&err);
}

static void
test_tokens_and_password(void **state)
{
	struct store *st = *state;
	struct token t = { 0 }, g = { 0 };
	struct account owner = { 0 };
	token_vec v = VEC_INIT;
	struct buf err = BUF_INIT;
	int64_t bob = test_store_user(st, "bob", 1000);
	char *pw = NULL;

	t.account_id = bob;
	t.hash = xstrdup("00ff");
	t.created_ms = 10;
	assert_int_equal(store_token_insert(st, &t, &err), 0);
	assert_true(t.id > 0);
	free(t.hash);
	t.hash = xstrdup("11ee");
	t.expires_ms = 99;
	assert_int_equal(store_token_insert(st, &t, &err), 0);
	/* The digest is unique: a second row with it is refused. */
	assert_int_equal(store_token_insert(st, &t, &err), ERR_CONFLICT);
	assert_int_equal(store_token_get(st, 0, "11ee", &g, &owner, &err), 0);
	assert_int_equal(g.id, t.id);
	assert_string_equal(g.username, "bob");
	/* Its owner's account, from the same row. */
	assert_int_equal(owner.id, bob);
	assert_string_equal(owner.username, "bob");
	assert_int_equal(owner.max_priority, 1000);
	account_release(&owner);
	assert_int_equal(g.expires_ms, 99);
	assert_int_equal(g.revoked_ms, 0);
	assert_int_equal(g.last_used_ms, 0);
	token_release(&g);
	assert_int_equal(store_token_get(st, 0, "beef", &g, NULL, &err),
	    ERR_NOTFOUND);
	assert_string_equal(err.data, "no such token");
	assert_int_equal(store_token_revoke(st, t.id, 50, &err), 0);
	assert_int_equal(store_token_touch(st, t.id, 40, &err), 0);
	assert_int_equal(store_token_list(st, bob, 0, 0, &v, &err), 0);
	assert_int_equal(v.n, 2);
	assert_int_equal(v.v[0].expires_ms, 0);
	assert_int_equal(v.v[1].revoked_ms, 50);
	assert_int_equal(v.v[1].last_used_ms, 40);
	token_vec_release(&v);
	/* Keyset pages by id: the first one, then the one after it. */
	assert_int_equal(store_token_list(st, bob, 0, 1, &v, &err), 0);
	assert_int_equal(v.n, 1);
	assert_true(v.v[0].id < t.id);
	assert_int_equal(store_token_list(st, bob, v.v[0].id, 1, &v, &err), 0);
	assert_int_equal(v.n, 2);
	assert_int_equal(v.v[1].id, t.id);
	assert_int_equal(store_token_list(st, bob, t.id, 0, &v, &err), 0);
	assert_int_equal(v.n, 2);
	token_vec_release(&v);
	assert_int_equal(store_account_password(st, bob, &pw, &err), 0);
	assert_null(pw);
	assert_int_equal(
	    store_account_set_password(st, bob, "$argon2id$x", &err), 0);
	assert_int_equal(store_account_password(st, bob, &pw, &err), 0);
	assert_string_equal(pw, "$argon2id$x");
	free(pw);
	token_release(&t);
	buf_release(&err);
}

static void
test_node_slots_check(void **state)
{
	struct store *st = *state;
	struct node n = { 0 };
	struct buf err = BUF_INIT;

	test_store_node(st, "n1", "default", 4, 2);
	assert_int_equal(store_node_get(st, "n1", &n, &err), 0);
	n.cpu_slots = 31; /* max is 30 */
	assert_int_equal(store_node_update(st, &n, &err), ERR_INVALID);
	n.cpu_slots = 4;
	n.gpu_slots = 3; /* max is 2 */
	assert_int_equal(store_node_update(st, &n, &err), ERR_INVALID);
	node_release(&n);
	/* An admin's UPDATE is refused by the same CHECK. */
	assert_int_equal(
	    st->drv->exec(st->db, "UPDATE node SET cpu_slots = 99", &err),
	    ERR_INVALID);
	assert_int_equal(
	    st->drv->exec(st->db, "UPDATE node SET cpu_slots = -1", &err),
	    ERR_INVALID);
	assert_int_equal(
	    st->drv->exec(st->db, "UPDATE node SET max_cpu_slots = 2", &err),
	    ERR_INVALID);
	assert_int_equal(test_store_scalar(st, "SELECT cpu_slots FROM node"),
	    4);
	test_store_exec(st, "UPDATE node SET cpu_slots = 30");
	assert_int_equal(store_node_get(st, "n1", &n, &err), 0);
	assert_int_equal(n.cpu_slots, 30);
	node_release(&n);
	assert_int_equal(store_node_get(st, "n2", &n, &err), ERR_NOTFOUND);
	assert_string_equal(err.data, "no node 'n2'");
	assert_int_equal(store_queue_exists(st, "default", &err), 1);
	assert_int_equal(store_queue_exists(st, "other", &err), 0);
	assert_int_equal(store_queue_has_gpu(st, "default", &err), 1);
	buf_release(&err);
}

static void
test_node_usage(void **state)
{
	struct store *st = *state;
	struct node n = { 0 };
	struct buf err = BUF_INIT;
	int64_t u, node;

	node = test_store_node(st, "n1", "default", 4, 2);
	u = test_store_user(st, "u", 1000);
	test_store_task(st, u, "t", 1, 5, false);
	test_store_task(st, u, "g", 2, 2, true);
	test_store_exec(st,
	    "UPDATE job SET status = 'running', node_id = 1"
	    " WHERE idx < 3 AND gpu = 0");
	test_store_exec(st,
	    "UPDATE job SET status = 'kill', node_id = 1,"
	    " gpu_index = idx WHERE gpu = 1");
	(void)node;
	assert_int_equal(store_node_get(st, "n1", &n, &err), 0);
	assert_int_equal(n.cpu_used, 3);
	assert_int_equal(n.gpu_used, 3); /* devices 0 and 1 */
	assert_int_equal(n.memory_used, 0);
	node_release(&n);
	buf_release(&err);
}

#define TEST_GIB ((int64_t)1 << 30)

/*
 * A node's memory: written, read, the CHECK; what its jobs were placed
 * with is what it has in use; the largest of a queue, 0 when one is not
 * known; the pilot's health fills only a memory not known.
 */
static void
test_node_memory(void **state)
{
	struct store *st = *state;
	struct node n = { 0 };
	struct buf err = BUF_INIT;
	bool changed;
	int64_t u, most = -1;

	test_store_node(st, "n1", "default", 4, 2);
	test_store_node(st, "n2", "default", 4, 0);
	assert_int_equal(store_queue_memory(st, "default", false, &most, &err),
	    0);
	assert_int_equal(most, 0); /* not known: nothing is too big */
	assert_int_equal(store_node_get(st, "n1", &n, &err), 0);
	n.memory = 16 * TEST_GIB;
	assert_int_equal(store_node_update(st, &n, &err), 0);
	node_release(&n);
	assert_int_equal(store_queue_memory(st, "default", false, &most, &err),
	    0);
	assert_int_equal(most, 0); /* n2's is still not known */
	assert_int_equal(store_node_set_health(st, "n2", true, false, false,
	                     8 * TEST_GIB, &changed, &err),
	    0);
	assert_int_equal(store_node_set_health(st, "n1", true, false, false,
	                     4 * TEST_GIB, &changed, &err),
	    0);
	assert_int_equal(store_queue_memory(st, "default", false, &most, &err),
	    0);
	assert_int_equal(most, 16 * TEST_GIB); /* n1's kept: an admin's */
	/* GPU jobs: only the nodes with GPU slots. */
	assert_int_equal(store_queue_memory(st, "default", true, &most, &err),
	    0);
	assert_int_equal(most, 16 * TEST_GIB);
	test_store_exec(st, "UPDATE node SET memory = 0 WHERE name = 'n1'");
	assert_int_equal(store_queue_memory(st, "default", true, &most, &err),
	    0);
	assert_int_equal(most, 0);
	assert_int_equal(store_queue_memory(st, "other", false, &most, &err),
	    0);
	assert_int_equal(most, 0);
	assert_int_equal(
	    st->drv->exec(st->db, "UPDATE node SET memory = -1", &err),
	    ERR_INVALID);
	/* In use: the sum of what the jobs holding a slot were placed with. */
	u = test_store_user(st, "u", 1000);
	test_store_task(st, u, "t", 1, 4, false);
	test_store_exec(st,
	    "UPDATE job SET status = 'running', node_id = 2,"
	    " memory = 3221225472 WHERE idx < 2");
	test_store_exec(st,
	    "UPDATE job SET status = 'done', node_id = 2, memory = 1"
	    " WHERE idx = 2");
	assert_int_equal(store_node_get(st, "n2", &n, &err), 0);
	assert_int_equal(n.memory, 8 * TEST_GIB);
	assert_int_equal(n.memory_used, 6 * TEST_GIB);
	assert_int_equal(n.cpu_used, 2);
	node_release(&n);
	buf_release(&err);
}

static void
test_task_jobs_and_counts(void **state)
{
	struct store *st = *state;
	struct task t = { 0 };
	task_vec tv = VEC_INIT;
	job_vec jv = VEC_INIT;
	struct task_filter f = { 0, -1, 0, 0 };
	int64_t counts[JOB_NSTATUS];
	struct buf err = BUF_INIT, sql = BUF_INIT;
	int64_t u, v, id;

	u = test_store_user(st, "u", 1000);
	v = test_store_user(st, "v", 1000);
	id = test_store_task(st, u, "t1", 10, 1000, false);
	test_store_task(st, u, "t2", 20, 3, false);
	test_store_task(st, v, "t1", 30, 2, false);
	assert_int_equal(store_task_get(st, u, "t1", &t, &err), 0);
	assert_int_equal(t.id, id);
	assert_int_equal(t.njobs, 1000);
	assert_int_equal(t.status, TASK_REGISTERED);
	assert_string_equal(t.username, "u");
	task_release(&t);
	assert_int_equal(store_task_get(st, v, "t2", &t, &err), ERR_NOTFOUND);
	test_store_exec(st, "UPDATE job SET status = 'done' WHERE idx < 10");
	assert_int_equal(store_task_count_jobs(st, id, counts, &err), 0);
	assert_int_equal(counts[JOB_DONE], 10);
	assert_int_equal(counts[JOB_REGISTERED], 990);
	/* An admin's INSERT is counted too (the trigger, not the store). */
	buf_addf(&sql,
	    "INSERT INTO job (task_id, idx, account_id, queue, gpu,"
	    " submitted_ms, command) VALUES (%lld, 5000, %lld, 'default', 0,"
	    " 1, 'true')",
	    (long long)id, (long long)u);
	test_store_exec(st, sql.data);
	assert_int_equal(store_task_count_jobs(st, id, counts, &err), 0);
	assert_int_equal(counts[JOB_REGISTERED], 991);
	buf_reset(&sql);
	buf_addf(&sql, "DELETE FROM job WHERE task_id = %lld AND idx = 5000",
	    (long long)id);
	test_store_exec(st, sql.data);
	assert_int_equal(store_task_count_jobs(st, id, counts, &err), 0);
	assert_int_equal(counts[JOB_REGISTERED], 990);
	assert_int_equal(store_job_list(st, id, -1, 5, -1, &jv, &err), 0);
	assert_int_equal(jv.n, 5);
	assert_int_equal(jv.v[4].idx, 4);
	assert_int_equal(jv.v[0].status, JOB_DONE);
	job_vec_release(&jv);
	/* The next keyset page of jobs starts after the last index seen. */
	assert_int_equal(store_job_list(st, id, 4, 2, -1, &jv, &err), 0);
	assert_int_equal(jv.n, 2);
	assert_int_equal(jv.v[0].idx, 5);
	assert_int_equal(jv.v[1].idx, 6);
	job_vec_release(&jv);
	/* Of one status only, pages too. */
	assert_int_equal(store_job_list(st, id, 3, 4, JOB_DONE, &jv, &err), 0);
	assert_int_equal(jv.n, 4);
	assert_int_equal(jv.v[0].idx, 4);
	assert_int_equal(jv.v[3].idx, 7);
	job_vec_release(&jv);
	assert_int_equal(
	    store_job_list(st, id, -1, 0, JOB_REGISTERED, &jv, &err), 0);
	assert_int_equal(jv.n, 990);
	assert_int_equal(jv.v[0].idx, 10);
	job_vec_release(&jv);
	/* Filters and keyset pages. */
	f.account_id = u;
	assert_int_equal(store_task_list(st, &f, &tv, &err), 0);
	assert_int_equal(tv.n, 2);
	task_vec_release(&tv);
	f.account_id = 0;
	f.limit = 2;
	assert_int_equal(store_task_list(st, &f, &tv, &err), 0);
	assert_int_equal(tv.n, 2);
	f.after_id = tv.v[1].id;
	task_vec_release(&tv);
	assert_int_equal(store_task_list(st, &f, &tv, &err), 0);
	assert_int_equal(tv.n, 1);
	assert_string_equal(tv.v[0].username, "v");
	task_vec_release(&tv);
	/* A name is unique per user. */
	t.account_id = u;
	t.name = xstrdup("t1");
	t.queue = xstrdup("default");
	t.command = xstrdup("true");
	t.out_dir = xstrdup("/x");
	t.retention_ms = -1;
	assert_int_equal(store_begin(st, &err), 0);
	assert_int_equal(store_task_insert(st, &t, &err), ERR_CONFLICT);
	store_rollback(st);
	task_release(&t);
	buf_release(&sql);
	buf_release(&err);
}

static void
test_signal_and_dirty(void **state)
{
	struct store *st = *state;
	task_state_vec dirty = VEC_INIT;
	struct buf err = BUF_INIT;
	int64_t u, id;

	u = test_store_user(st, "u", 1000);
	id = test_store_task(st, u, "t", 1, 3, false);
	test_store_exec(st, "UPDATE task SET dirty = 0");
	assert_int_equal(store_task_dirty(st, &dirty, &err), 0);
	assert_int_equal(dirty.n, 0);
	assert_int_equal(store_task_set_signal(st, id, SIGNAL_KILL, &err), 0);
	test_store_exec(st,
	    "UPDATE job SET status = 'failed', exit_code = 3"
	    " WHERE idx = 0");
	assert_int_equal(store_task_dirty(st, &dirty, &err), 0);
	assert_int_equal(dirty.n, 1);
	assert_int_equal(dirty.v[0].id, id);
	assert_int_equal(dirty.v[0].view.signal, SIGNAL_KILL);
	assert_int_equal(dirty.v[0].view.test_status, JOB_FAILED);
	assert_int_equal(dirty.v[0].view.test_exit_code, 3);
	/* Whether any job is in a state, not how many (store.h). */
	assert_int_equal(dirty.v[0].view.njobs[JOB_REGISTERED], 1);
	assert_int_equal(dirty.v[0].view.njobs[JOB_FAILED], 1);
	assert_int_equal(dirty.v[0].view.njobs[JOB_DONE], 0);
	VEC_RELEASE(&dirty);
	/* The CHECK refuses an unknown signal. */
	assert_int_equal(
	    st->drv->exec(st->db, "UPDATE task SET signal = 'stop'", &err),
	    ERR_INVALID);
	buf_release(&err);
}

/* Apply `plan` to task `task`, as read, committed. */
static void
test_store_apply_read(struct store *st, const struct task_state_row *task,
    const struct task_plan *plan)
{
	job_ref_vec removed = VEC_INIT;
	struct buf err = BUF_INIT;
	char *dir = NULL;

	assert_int_equal(store_begin(st, &err), 0);
	assert_int_equal(store_task_apply(st, task, plan, &removed, &dir, &err),
	    0);
	assert_int_equal(store_commit(st, &err), 0);
	free(dir);
	VEC_RELEASE(&removed);
	buf_release(&err);
}

/*
 * Apply `plan` to task `id` (status `from`, signal `sig`, its marks as
 * they are now), committed.
 */
static void
test_store_apply(struct store *st, int64_t id, enum task_status from,
    enum task_signal sig, const struct task_plan *plan)
{
	struct task_state_row task = { .id = id };
	char sql[64];

	snprintf(sql, sizeof(sql), "SELECT marks FROM task WHERE id = %lld",
	    (long long)id);
	task.marks = test_store_scalar(st, sql);
	task.view.status = from;
	task.view.signal = sig;
	test_store_apply_read(st, &task, plan);
}

/*
 * A task marked dirty after it was read keeps the mark through a step
 * made without it (migration 0025): B waits for A; both are read; A's
 * step changes its status, which marks B; B's step, made on what was
 * read before, changes nothing and must leave B dirty, so that the next
 * read sees A's change.  A step made on a fresh read clears it.
 */
static void
test_task_mark_kept(void **state)
{
	struct store *st = *state;
	struct task_plan a_plan = { .next = TASK_TESTING, .reason = "test" };
	struct task_plan b_plan = { .next = TASK_REGISTERED,
		.reason = "waits" };
	task_state_vec dirty = VEC_INIT;
	struct buf err = BUF_INIT;
	int64_t u, a, b;

	u = test_store_user(st, "u", 1000);
	a = test_store_task(st, u, "a", 1, 2, false);
	b = test_store_task(st, u, "b", 2, 2, false);
	assert_int_equal(store_task_after_add(st, b, a, false, &err), 0);
	assert_int_equal(store_task_dirty(st, &dirty, &err), 0);
	assert_int_equal(dirty.n, 2);
	assert_int_equal(dirty.v[0].id, a);
	assert_int_equal(dirty.v[1].id, b);
	assert_true(dirty.v[1].view.waits);
	test_store_apply_read(st, &dirty.v[0], &a_plan);
	test_store_apply_read(st, &dirty.v[1], &b_plan);
	assert_int_equal(
	    test_store_scalar(st, "SELECT dirty FROM task WHERE name = 'b'"),
	    1);
	dirty.n = 0;
	assert_int_equal(store_task_dirty(st, &dirty, &err), 0);
	assert_int_equal(dirty.n, 2);
	assert_int_equal(dirty.v[1].id, b);
	assert_true(dirty.v[1].view.waits); /* A is testing: B still waits */
	test_store_apply_read(st, &dirty.v[1], &b_plan);
	assert_int_equal(
	    test_store_scalar(st, "SELECT dirty FROM task WHERE name = 'b'"),
	    0);
	VEC_RELEASE(&dirty);
	buf_release(&err);
}

/*
 * A running task's chunk of `limit` jobs `from` -> assigned (a retry's
 * when `requeue`), as task_step() plans one, applied.
 */
static void
test_store_apply_chunk(struct store *st, int64_t id, enum job_status from,
    int64_t limit, bool requeue)
{
	struct task_plan plan = { .next = TASK_RUNNING,
		.nmoves = 1,
		.reason = "next jobs queued" };

	plan.moves[0].from = from;
	plan.moves[0].to = JOB_ASSIGNED;
	plan.moves[0].limit = limit;
	plan.moves[0].requeue = requeue;
	test_store_apply(st, id, TASK_RUNNING, SIGNAL_NONE, &plan);
}

/*
 * A running task's jobs queued in chunks (TASK_QUEUE_CHUNK): each apply
 * moves the next `queue_chunk` registered jobs, lowest index first, with
 * one event each and no task event; the task stays dirty while jobs are
 * left.  The same plan applied again (a cycle done again) takes the
 * next chunk: no job is moved, nor recorded, twice.
 */
static void
test_task_move_chunks(void **state)
{
	struct store *st = *state;
	task_state_vec dirty = VEC_INIT;
	struct buf err = BUF_INIT;
	struct task_plan plan;
	/* The cursor past each round's chunk: jobs 5, 9, then none left. */
	static const int64_t cursor[] = { 5, 9, -1, -1 };
	int64_t u, id, round, want;

	u = test_store_user(st, "u", 1000);
	id = test_store_task(st, u, "t", 1, 10, false);
	test_store_exec(st, "UPDATE task SET status = 'running'");
	test_store_exec(st, "UPDATE job SET status = 'done' WHERE idx = 0");
	for (round = 1; round <= 4; round++) {
		dirty.n = 0;
		assert_int_equal(store_task_dirty(st, &dirty, &err), 0);
		assert_int_equal(dirty.n, 1);
		dirty.v[0].view.queue_chunk = 4;
		task_step(&dirty.v[0].view, &plan);
		if (round == 4) {
			/* Nothing left to queue: no move, no longer dirty. */
			assert_int_equal(plan.nmoves, 0);
		} else {
			assert_int_equal(plan.nmoves, 1);
			assert_int_equal(plan.moves[0].limit, 4);
		}
		assert_int_equal(plan.next, TASK_RUNNING);
		test_store_apply(st, id, TASK_RUNNING, SIGNAL_NONE, &plan);
		want = round * 4 < 9 ? round * 4 : 9;
		assert_int_equal(test_store_scalar(st,
		                     "SELECT count(*) FROM job"
		                     " WHERE status = 'assigned'"),
		    want);
		/* The lowest indexes: 1 to want. */
		assert_int_equal(test_store_scalar(st,
		                     "SELECT coalesce(max(idx), 0) FROM job"
		                     " WHERE status = 'assigned'"),
		    want);
		/* One event a job moved, none for the task. */
		assert_int_equal(test_store_scalar(st,
		                     "SELECT count(*) FROM event"
		                     " WHERE kind = 'job'"
		                     " AND new_status = 'assigned'"),
		    want);
		assert_int_equal(test_store_scalar(st,
		                     "SELECT count(DISTINCT job_id) FROM event"
		                     " WHERE kind = 'job'"),
		    want);
		assert_int_equal(test_store_scalar(st,
		                     "SELECT count(*) FROM event"
		                     " WHERE kind = 'task'"),
		    0);
		assert_int_equal(
		    test_store_scalar(st, "SELECT dirty FROM task"),
		    round < 4 ? 1 : 0);
		assert_int_equal(test_store_scalar(st,
		                     "SELECT coalesce(queue_from, -1)"
		                     " FROM task"),
		    cursor[round - 1]);
	}
	/* The last plan applied again: a chunk of nothing. */
	test_store_apply_chunk(st, id, JOB_REGISTERED, 4, false);
	assert_int_equal(test_store_scalar(st,
	                     "SELECT count(*) FROM event WHERE kind = 'job'"),
	    9);
	VEC_RELEASE(&dirty);
	buf_release(&err);
}

/*
 * A chunk of registered jobs starts at the task's cursor (queue_from),
 * which a move back to registered clears; and a registered job below the
 * cursor, were the cursor wrong, is not lost: after the chunk that takes
 * the last jobs from the cursor on, the cursor is cleared and the next
 * chunk finds it.
 */
static void
test_task_queue_from(void **state)
{
	struct store *st = *state;
	struct task_plan back = { .next = TASK_RUNNING,
		.nmoves = 1,
		.reason = "retry requested" };
	int64_t u, id;

	u = test_store_user(st, "u", 1000);
	id = test_store_task(st, u, "t", 1, 10, false);
	test_store_exec(st, "UPDATE task SET status = 'running'");
	test_store_exec(st, "UPDATE job SET status = 'done' WHERE idx = 0");
	test_store_apply_chunk(st, id, JOB_REGISTERED, 4, false);
	assert_int_equal(test_store_scalar(st, "SELECT queue_from FROM task"),
	    5);

	/* Back to registered: the cursor goes, the lowest come first. */
	back.moves[0].from = JOB_ASSIGNED;
	back.moves[0].to = JOB_REGISTERED;
	test_store_apply(st, id, TASK_RUNNING, SIGNAL_NONE, &back);
	assert_int_equal(test_store_scalar(st,
	                     "SELECT count(*) FROM task"
	                     " WHERE queue_from IS NULL"),
	    1);
	test_store_apply_chunk(st, id, JOB_REGISTERED, 3, false);
	assert_int_equal(
	    test_store_scalar(st,
	        "SELECT max(idx) FROM job WHERE status = 'assigned'"),
	    3);
	assert_int_equal(test_store_scalar(st, "SELECT queue_from FROM task"),
	    4);

	/* A cursor past registered jobs: 7 to 9 first, then 4 to 6. */
	test_store_exec(st, "UPDATE task SET queue_from = 7");
	test_store_apply_chunk(st, id, JOB_REGISTERED, 4, false);
	assert_int_equal(test_store_scalar(st,
	                     "SELECT count(*) FROM job"
	                     " WHERE status = 'assigned' AND idx >= 7"),
	    3);
	assert_int_equal(test_store_scalar(st,
	                     "SELECT count(*) FROM job"
	                     " WHERE status = 'registered'"),
	    3);
	test_store_apply_chunk(st, id, JOB_REGISTERED, 4, false);
	assert_int_equal(test_store_scalar(st,
	                     "SELECT count(*) FROM job"
	                     " WHERE status = 'registered'"),
	    0);
	assert_int_equal(test_store_scalar(st,
	                     "SELECT count(*) FROM job"
	                     " WHERE status = 'assigned'"),
	    9);
	/* One event a move: 4, then 3, then 3 and 3 again. */
	assert_int_equal(test_store_scalar(st,
	                     "SELECT count(*) FROM event WHERE kind = 'job'"
	                     " AND new_status = 'assigned'"),
	    13);
}

/*
 * A finalized task's retry queues its failed jobs again in chunks: the
 * retry the first (the task event, the cursor set past it), each later
 * step the next from the cursor; a job that failed again meanwhile is
 * not taken twice; one failed -> assigned event a job, attempts kept;
 * the last plan applied again moves nothing.
 */
static void
test_task_requeue_chunks(void **state)
{
	struct store *st = *state;
	task_state_vec dirty = VEC_INIT;
	struct buf err = BUF_INIT;
	struct task_plan plan;
	enum task_status from;
	enum task_signal sig;
	int64_t u, id, round;
	/* After each round: the jobs assigned, and the cursor (-1: NULL). */
	static const int64_t assigned[] = { 4, 7, 8, 8 };
	static const int64_t cursor[] = { 5, 9, -1, -1 };

	u = test_store_user(st, "u", 1000);
	id = test_store_task(st, u, "t", 1, 10, false);
	test_store_exec(st,
	    "UPDATE job SET status = 'failed', attempts = 1,"
	    " exit_code = 1, ended_ms = 5 WHERE idx > 0");
	test_store_exec(st,
	    "UPDATE job SET status = 'done', attempts = 1,"
	    " exit_code = 0, ended_ms = 5 WHERE idx = 0");
	test_store_exec(st,
	    "UPDATE task SET status = 'finalized',"
	    " ended_ms = 5, signal = 'retry', dirty = 1");
	for (round = 0; round < 4; round++) {
		dirty.n = 0;
		assert_int_equal(store_task_dirty(st, &dirty, &err), 0);
		assert_int_equal(dirty.n, 1);
		from = dirty.v[0].view.status;
		sig = dirty.v[0].view.signal;
		assert_int_equal(from,
		    round == 0 ? TASK_FINALIZED : TASK_RUNNING);
		assert_int_equal(dirty.v[0].view.requeue,
		    round == 1 || round == 2);
		dirty.v[0].view.queue_chunk = 4;
		task_step(&dirty.v[0].view, &plan);
		assert_int_equal(plan.next, TASK_RUNNING);
		assert_int_equal(plan.nmoves, round < 3 ? 1 : 0);
		test_store_apply(st, id, from, sig, &plan);
		assert_int_equal(test_store_scalar(st,
		                     "SELECT count(*) FROM job"
		                     " WHERE status = 'assigned'"),
		    assigned[round]);
		assert_int_equal(test_store_scalar(st,
		                     "SELECT coalesce(requeue_from, -1)"
		                     " FROM task"),
		    cursor[round]);
		if (round == 0) {
			/* Jobs 1 to 4; job 2 fails again before the next. */
			assert_int_equal(test_store_scalar(st,
			                     "SELECT max(idx) FROM job"
			                     " WHERE status = 'assigned'"),
			    4);
			test_store_exec(st,
			    "UPDATE job SET status = 'failed'"
			    " WHERE idx = 2");
		}
	}
	/* Job 2 failed again, queued once; every other failed one queued. */
	assert_int_equal(test_store_scalar(st,
	                     "SELECT count(*) FROM job"
	                     " WHERE status = 'failed'"),
	    1);
	assert_int_equal(test_store_scalar(st,
	                     "SELECT idx FROM job"
	                     " WHERE status = 'failed'"),
	    2);
	assert_int_equal(test_store_scalar(st,
	                     "SELECT count(*) FROM event WHERE kind = 'job'"
	                     " AND old_status = 'failed'"
	                     " AND new_status = 'assigned'"),
	    9);
	assert_int_equal(test_store_scalar(st,
	                     "SELECT count(DISTINCT job_id) FROM event"
	                     " WHERE kind = 'job'"),
	    9);
	/* Attempts and the earlier runs untouched; one task event. */
	assert_int_equal(test_store_scalar(st, "SELECT min(attempts) FROM job"),
	    1);
	assert_int_equal(test_store_scalar(st,
	                     "SELECT count(*) FROM event WHERE kind = 'task'"),
	    1);
	/* A retry's chunk applied again, with no cursor: nothing moves. */
	test_store_apply_chunk(st, id, JOB_FAILED, 4, true);
	assert_int_equal(test_store_scalar(st,
	                     "SELECT count(*) FROM event WHERE kind = 'job'"),
	    9);
	assert_int_equal(test_store_scalar(st,
	                     "SELECT count(*) FROM job"
	                     " WHERE status = 'failed'"),
	    1);
	VEC_RELEASE(&dirty);
	buf_release(&err);
}

static void
test_sched_streams_and_fetch(void **state)
{
	struct store *st = *state;
	sched_stream_vec sv = VEC_INIT;
	sched_before_vec bv = VEC_INIT;
	sched_job_vec jv = VEC_INIT;
	struct store_sched_ctx ctx = { st, "default", false };
	struct buf err = BUF_INIT;
	const struct sched_stream *s;
	int64_t u, v;
	size_t i;

	test_store_node(st, "n1", "default", 4, 0);
	u = test_store_user(st, "u", 1000);
	v = test_store_user(st, "v", 3000);
	test_store_task(st, u, "late", 50, 3, false);
	test_store_task(st, u, "early", 10, 3, false);
	test_store_task(st, v, "t", 20, 2, false);
	test_store_exec(st, "UPDATE job SET status = 'assigned'");
	test_store_exec(st,
	    "UPDATE job SET is_test = 1 WHERE idx = 0 AND"
	    " account_id = 2");
	test_store_exec(st,
	    "UPDATE job SET status = 'running', node_id = 1"
	    " WHERE idx = 2 AND submitted_ms = 50");
	assert_int_equal(
	    store_sched_streams(st, "default", false, &sv, &bv, &err), 0);
	assert_int_equal(sv.n, 3); /* u, v, v's test job */
	assert_int_equal(sv.v[0].account_id, u);
	assert_int_equal(sv.v[0].user.running, 1);
	assert_int_equal(sv.v[1].account_id, v);
	assert_false(sv.v[1].is_test);
	assert_int_equal(sv.v[1].user.max_priority, 3000);
	assert_true(sv.v[2].is_test);
	/* u's jobs in (submitted, task, idx) order, a page at a time. */
	s = &sv.v[0];
	assert_int_equal(store_sched_fetch(&ctx, s, NULL, 3, &jv, &err), 0);
	assert_int_equal(jv.n, 3);
	assert_int_equal(jv.v[0].submitted_ms, 10);
	assert_int_equal(jv.v[2].submitted_ms, 10);
	assert_int_equal(jv.v[2].idx, 2);
	assert_int_equal(store_sched_fetch(&ctx, s, &jv.v[2], 3, &jv, &err), 0);
	assert_int_equal(jv.n, 5); /* late 0 and 1; late 2 is running */
	assert_int_equal(jv.v[3].submitted_ms, 50);
	assert_int_equal(jv.v[3].idx, 0);
	assert_int_equal(jv.v[4].idx, 1);
	for (i = 0; i < jv.n; i++)
		assert_int_equal(jv.v[i].account_id, u);
	VEC_RELEASE(&jv);
	/* The tasks are registered, not running: none is ahead. */
	for (i = 0; i < sv.n; i++)
		assert_int_equal(sv.v[i].nbefore, 0);
	assert_int_equal(
	    store_sched_streams(st, "default", true, &sv, &bv, &err), 0);
	assert_int_equal(sv.n, 0); /* no GPU job waits */
	VEC_RELEASE(&sv);
	VEC_RELEASE(&bv);
	buf_release(&err);
}

/*
 * SPEC.md's R and n are the user's, across pools: a stream's R counts the
 * user's jobs holding a slot of any pool, and its `before` the user's
 * running tasks of other pools with their waiting jobs, in order.
 */
static void
test_sched_other_pools(void **state)
{
	struct store *st = *state;
	sched_stream_vec sv = VEC_INIT;
	sched_before_vec bv = VEC_INIT;
	struct buf err = BUF_INIT;
	const struct sched_stream *s;
	int64_t u, v, cpu1, gpu1, cpu2, other;

	test_store_node(st, "n1", "default", 4, 2);
	u = test_store_user(st, "u", 1000);
	v = test_store_user(st, "v", 1000);
	cpu1 = test_store_task(st, u, "cpu1", 10, 3, false);
	gpu1 = test_store_task(st, u, "gpu1", 20, 2, true);
	cpu2 = test_store_task(st, u, "cpu2", 30, 2, false);
	other = test_store_task(st, u, "other", 40, 4, false);
	test_store_task(st, v, "vg", 5, 2, true);
	test_store_task(st, v, "vt", 50, 3, false);
	test_store_exec(st,
	    "UPDATE task SET queue = 'q2' WHERE name = 'other'");
	test_store_exec(st,
	    "UPDATE job SET queue = 'q2' WHERE task_id ="
	    " (SELECT id FROM task WHERE name = 'other')");
	test_store_exec(st, "UPDATE job SET status = 'assigned'");
	test_store_exec(st,
	    "UPDATE task SET status = 'running'"
	    " WHERE name <> 'vt'");
	/* vt is testing: its test job waits, its others are registered. */
	test_store_exec(st,
	    "UPDATE task SET status = 'testing'"
	    " WHERE name = 'vt'");
	test_store_exec(st,
	    "UPDATE job SET is_test = 1 WHERE idx = 0 AND task_id ="
	    " (SELECT id FROM task WHERE name = 'vt')");
	test_store_exec(st,
	    "UPDATE job SET status = 'registered' WHERE idx > 0 AND task_id ="
	    " (SELECT id FROM task WHERE name = 'vt')");
	/* u holds a CPU slot of each queue; v a GPU slot. */
	test_store_exec(st,
	    "UPDATE job SET status = 'running', node_id = 1 WHERE idx = 1"
	    " AND task_id IN (SELECT id FROM task"
	    " WHERE name IN ('cpu2', 'other', 'vg'))");

	/* default's GPU pool: u's CPU tasks of both queues are ahead. */
	assert_int_equal(
	    store_sched_streams(st, "default", true, &sv, &bv, &err), 0);
	assert_int_equal(sv.n, 2);
	s = &sv.v[0];
	assert_int_equal(s->account_id, u);
	assert_false(s->is_test);
	assert_int_equal(s->user.running, 2);
	assert_int_equal(s->nbefore, 3);
	assert_int_equal(s->before[0].task_id, cpu1);
	assert_int_equal(s->before[0].submitted_ms, 10);
	assert_int_equal(s->before[0].njobs, 3);
	assert_int_equal(s->before[1].task_id, cpu2);
	assert_int_equal(s->before[1].njobs, 1);
	assert_int_equal(s->before[2].task_id, other);
	assert_int_equal(s->before[2].njobs, 3);
	s = &sv.v[1];
	assert_int_equal(s->account_id, v);
	assert_int_equal(s->user.running, 1);
	assert_int_equal(s->nbefore, 0); /* vt is not running */

	/* default's CPU pool: u's GPU task and q2's; v's GPU task. */
	assert_int_equal(
	    store_sched_streams(st, "default", false, &sv, &bv, &err), 0);
	assert_int_equal(sv.n, 2); /* u, and v's test job */
	s = &sv.v[0];
	assert_int_equal(s->account_id, u);
	assert_int_equal(s->nbefore, 2);
	assert_int_equal(s->before[0].task_id, gpu1);
	assert_int_equal(s->before[0].njobs, 2);
	assert_int_equal(s->before[1].task_id, other);
	assert_int_equal(s->before[1].njobs, 3);
	s = &sv.v[1];
	assert_int_equal(s->account_id, v);
	assert_true(s->is_test);
	assert_int_equal(s->user.running, 1);
	/* vg (v's, running, GPU) is ahead of none of v's test jobs. */
	assert_int_equal(s->nbefore, 0);
	VEC_RELEASE(&sv);
	VEC_RELEASE(&bv);
	buf_release(&err);
}

/* Counters and buckets add up by (name, label, bound); +Inf sorts last. */
static void
test_stats(void **state)
{
	struct store *st = *state;
	struct buf err = BUF_INIT;
	stat_row_vec rows = VEC_INIT;

	assert_int_equal(stat_hist_le(STAT_JOB_WAIT, 0), 1000000);
	assert_int_equal(stat_hist_le(STAT_JOB_WAIT, 1000000), 1000000);
	assert_int_equal(stat_hist_le(STAT_JOB_WAIT, 1000001), 5000000);
	assert_int_equal(stat_hist_le(STAT_JOB_WAIT, INT64_MAX / 2), -1);
	assert_int_equal(stat_hist_le(STAT_PILOT_CYCLE, 1), 1000);
	assert_int_equal(store_begin(st, &err), 0);
	assert_int_equal(store_stat_observe(st, STAT_JOB_RUN, 2000000, &err),
	    0);
	assert_int_equal(store_stat_observe(st, STAT_JOB_RUN, 3000000, &err),
	    0);
	assert_int_equal(
	    store_stat_observe(st, STAT_JOB_RUN, INT64_MAX / 4, &err), 0);
	assert_int_equal(
	    store_stat_add(st, STAT_BACKEND_ERRORS, "start", 0, 2, 0, &err), 0);
	assert_int_equal(
	    store_stat_add(st, STAT_BACKEND_ERRORS, "start", 0, 3, 0, &err), 0);
	assert_int_equal(store_commit(st, &err), 0);
	assert_int_equal(store_stat_list(st, &rows, &err), 0);
	assert_int_equal(rows.n, 3);
	assert_string_equal(rows.v[0].name, STAT_BACKEND_ERRORS);
	assert_string_equal(rows.v[0].label, "start");
	assert_int_equal(rows.v[0].count, 5);
	assert_string_equal(rows.v[1].name, "job_run");
	assert_int_equal(rows.v[1].le_us, 5000000);
	assert_int_equal(rows.v[1].count, 2);
	assert_int_equal(rows.v[1].sum_us, 5000000);
	assert_int_equal(rows.v[2].le_us, -1);
	assert_int_equal(rows.v[2].count, 1);
	stat_row_vec_release(&rows);

	/* A transaction rolled back adds nothing; the next one its own. */
	assert_int_equal(store_begin(st, &err), 0);
	assert_int_equal(
	    store_stat_add(st, STAT_BACKEND_ERRORS, "start", 0, 7, 0, &err), 0);
	store_rollback(st);
	assert_int_equal(store_begin(st, &err), 0);
	assert_int_equal(
	    store_stat_add(st, STAT_BACKEND_ERRORS, "poll", 0, 1, 0, &err), 0);
	assert_int_equal(store_commit(st, &err), 0);
	/* Outside a transaction: at once. */
	assert_int_equal(
	    store_stat_add(st, STAT_BACKEND_ERRORS, "poll", 0, 1, 0, &err), 0);
	assert_int_equal(store_stat_list(st, &rows, &err), 0);
	assert_int_equal(rows.n, 4);
	assert_string_equal(rows.v[0].label, "poll");
	assert_int_equal(rows.v[0].count, 2);
	assert_string_equal(rows.v[1].label, "start");
	assert_int_equal(rows.v[1].count, 5);
	stat_row_vec_release(&rows);
	buf_release(&err);
}

/* A node's ended jobs: summed in a transaction, written at its commit. */
static void
test_node_ends(void **state)
{
	struct store *st = *state;
	struct buf err = BUF_INIT;
	int64_t a = test_store_node(st, "a", "default", 4, 0);
	int64_t b = test_store_node(st, "b", "default", 4, 0);

	assert_int_equal(store_begin(st, &err), 0);
	assert_int_equal(store_node_ends(st, a, 1, 0, &err), 0);
	assert_int_equal(store_node_ends(st, b, 0, 1, &err), 0);
	assert_int_equal(store_node_ends(st, a, 1, 0, &err), 0);
	assert_int_equal(store_node_ends(st, a, 0, 1, &err), 0);
	assert_int_equal(store_commit(st, &err), 0);
	assert_int_equal(store_begin(st, &err), 0);
	assert_int_equal(store_node_ends(st, a, 5, 5, &err), 0);
	store_rollback(st);
	assert_int_equal(store_node_ends(st, b, 1, 0, &err), 0);
	assert_int_equal(test_store_scalar(st,
	                     "SELECT completed * 10 + failed FROM node"
	                     " WHERE name = 'a'"),
	    21);
	assert_int_equal(test_store_scalar(st,
	                     "SELECT completed * 10 + failed FROM node"
	                     " WHERE name = 'b'"),
	    11);
	buf_release(&err);
}

/* The usage samples: a row per user with jobs, zeros once, then none. */
static void
test_usage(void **state)
{
	struct store *st = *state;
	struct buf err = BUF_INIT;
	usage_row_vec rows = VEC_INIT;
	int64_t alice, bob, n;

	alice = test_store_user(st, "alice", 10);
	bob = test_store_user(st, "bob", 10);
	test_store_task(st, alice, "a", 1, 3, false);
	test_store_task(st, bob, "b", 1, 2, false);
	test_store_exec(st, "INSERT INTO usage VALUES (5, 'alice', 1, 0)");
	test_store_exec(st, "UPDATE job SET status = 'running' WHERE idx = 0");
	assert_int_equal(store_begin(st, &err), 0);
	assert_int_equal(store_usage_sample(st, 1000, 1000000, &n, &err), 0);
	assert_int_equal(store_commit(st, &err), 0);
	assert_int_equal(n, 2);
	/* bob's jobs end: one row of zeros, then nothing. */
	test_store_exec(st,
	    "UPDATE job SET status = 'done'"
	    " WHERE account_id = (SELECT id FROM account"
	    " WHERE username = 'bob')");
	assert_int_equal(store_begin(st, &err), 0);
	assert_int_equal(store_usage_sample(st, 2000, 1000000, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_usage_sample(st, 3000, 1000000, &n, &err), 0);
	assert_int_equal(n, 1);
	/* Older than `keep_ms`: gone. */
	assert_int_equal(store_usage_sample(st, 4000, 3500, &n, &err), 0);
	assert_int_equal(store_commit(st, &err), 0);
	assert_int_equal(test_store_scalar(st,
	                     "SELECT count(*) FROM usage"
	                     " WHERE at_ms < 1000"),
	    0);
	assert_int_equal(store_usage_list(st, 0, "bob", 10, &rows, &err), 0);
	assert_int_equal(rows.n, 2);
	assert_int_equal(rows.v[0].at_ms, 1000);
	assert_int_equal(rows.v[0].running, 1);
	assert_int_equal(rows.v[0].waiting, 1);
	assert_int_equal(rows.v[1].at_ms, 2000);
	assert_int_equal(rows.v[1].running + rows.v[1].waiting, 0);
	usage_row_vec_release(&rows);
	assert_int_equal(store_usage_list(st, 2000, NULL, 3, &rows, &err), 0);
	assert_int_equal(rows.n, 3);
	assert_string_equal(rows.v[0].username, "alice");
	assert_int_equal(rows.v[0].running, 1);
	assert_int_equal(rows.v[0].waiting, 2);
	assert_string_equal(rows.v[1].username, "bob");
	assert_int_equal(rows.v[2].at_ms, 3000);
	usage_row_vec_release(&rows);
	buf_release(&err);
}

/*
 * The runs of job_history a filter picks, by id, a page at a time, and
 * their totals: by user, by the task's owner and name, by status, by
 * the range of their ends.
 */
static void
test_history(void **state)
{
	struct store *st = *state;
	struct history_filter f = { .since_ms = 0, .until_ms = 100000 };
	history_total_vec tot = VEC_INIT;
	history_run_vec runs = VEC_INIT;
	struct buf err = BUF_INIT;
	int64_t first;

	test_store_exec(st,
	    "INSERT INTO job_history (job_id, attempt, username, task, queue,"
	    " node, gpu, status, exit_code, end_reason, started_ms, ended_ms,"
	    " idx, gpu_index) VALUES"
	    " (1, 1, 'alice', 'a', 'default', 'n1', 0, 'done', 0, 'exit',"
	    " 1000, 3500, 0, NULL),"
	    " (2, 1, 'alice', 'a', 'gpu', 'g1', 1, 'failed', 3, 'exit',"
	    " 2000, 9000, 1, 1),"
	    " (3, 2, 'bob', 'a', 'default', 'n1', 0, 'done', 0, 'exit',"
	    " 4000, 5000, 0, NULL),"
	    " (4, 1, 'alice', 'c', 'default', 'n1', 0, 'killed', NULL,"
	    " 'stopped', 6000, 200000, NULL, NULL)");
	assert_int_equal(store_history_list(st, &f, 0, 10, &runs, &err), 0);
	assert_int_equal(runs.n, 3);
	assert_string_equal(runs.v[1].node, "g1");
	assert_int_equal(runs.v[1].gpu_index, 1);
	assert_int_equal(runs.v[1].idx, 1);
	assert_int_equal(runs.v[1].run_ms, 7000);
	assert_int_equal(runs.v[1].exit_code, 3);
	assert_int_equal(runs.v[1].status, JOB_FAILED);
	assert_int_equal(runs.v[0].gpu_index, -1);
	assert_int_equal(runs.v[2].attempt, 2);
	/* A page after the first: ids above it, at most the limit. */
	first = runs.v[0].id;
	history_run_vec_release(&runs);
	assert_int_equal(store_history_list(st, &f, first, 1, &runs, &err), 0);
	assert_int_equal(runs.n, 1);
	assert_string_equal(runs.v[0].username, "alice");
	assert_int_equal(runs.v[0].gpu_index, 1);
	history_run_vec_release(&runs);
	/* alice's task a, done: one run; bob's a is not alice's. */
	f.task_user = "alice";
	f.task_name = "a";
	f.has_status = true;
	f.status = JOB_DONE;
	assert_int_equal(store_history_list(st, &f, 0, 10, &runs, &err), 0);
	assert_int_equal(runs.n, 1);
	assert_int_equal(runs.v[0].run_ms, 2500);
	history_run_vec_release(&runs);
	f.has_status = false;
	assert_int_equal(store_history_totals(st, &f, &tot, &err), 0);
	assert_int_equal(tot.n, 1);
	assert_string_equal(tot.v[0].group, "alice");
	assert_int_equal(tot.v[0].jobs, 2);
	assert_int_equal(tot.v[0].cpu_s, 3);
	assert_int_equal(tot.v[0].gpu_s, 7);
	history_total_vec_release(&tot);
	/* Everyone's, to 300 s: by node, the killed run too. */
	f.task_user = NULL;
	f.task_name = NULL;
	f.until_ms = 300000;
	f.by = HISTORY_BY_NODE;
	assert_int_equal(store_history_totals(st, &f, &tot, &err), 0);
	assert_int_equal(tot.n, 2);
	assert_string_equal(tot.v[1].group, "n1");
	assert_int_equal(tot.v[1].jobs, 3);
	/* 2,500 + 1,000 + 194,000 ms, rounded once. */
	assert_int_equal(tot.v[1].cpu_s, 198);
	history_total_vec_release(&tot);
	f.user = "bob";
	assert_int_equal(store_history_list(st, &f, 0, 10, &runs, &err), 0);
	assert_int_equal(runs.n, 1);
	assert_int_equal(runs.v[0].started_ms, 4000);
	history_run_vec_release(&runs);
	buf_release(&err);
}

/*
 * A node the backend does not name: unreachable and not ready once (an
 * event), its last_seen kept, out of the reachable list; named again,
 * reachable.
 */
static void
test_node_unreachable(void **state)
{
	struct store *st = *state;
	store_str_vec names = VEC_INIT;
	struct buf err = BUF_INIT;
	bool changed = false;
	size_t i;

	test_store_node(st, "n1", "default", 4, 0);
	test_store_node(st, "n2", "default", 4, 0);
	test_store_exec(st, "UPDATE node SET last_seen_ms = 77");
	assert_int_equal(store_begin(st, &err), 0);
	assert_int_equal(store_node_set_unreachable(st, "n2", &changed, &err),
	    0);
	assert_true(changed);
	assert_int_equal(store_node_set_unreachable(st, "n2", &changed, &err),
	    0);
	assert_false(changed);
	assert_int_equal(store_commit(st, &err), 0);
	assert_int_equal(test_store_scalar(st,
	                     "SELECT ready + 10 * reachable FROM node"
	                     " WHERE name = 'n2' AND last_seen_ms = 77"),
	    0);
	assert_int_equal(test_store_scalar(st,
	                     "SELECT count(*) FROM event WHERE kind = 'node'"
	                     " AND new_status = 'unhealthy'"),
	    1);
	assert_int_equal(store_node_reachable(st, &names, &err), 0);
	assert_int_equal(names.n, 1);
	assert_string_equal(names.v[0], "n1");
	for (i = 0; i < names.n; i++)
		free(names.v[i]);
	VEC_RELEASE(&names);
	assert_int_equal(store_begin(st, &err), 0);
	assert_int_equal(
	    store_node_set_health(st, "n2", true, false, false, 0, &changed, &err),
	    0);
	assert_true(changed);
	assert_int_equal(store_commit(st, &err), 0);
	assert_int_equal(test_store_scalar(st,
	                     "SELECT ready + 10 * reachable FROM node"
	                     " WHERE name = 'n2'"),
	    11);
	buf_release(&err);
}

static void
test_rollback_leaves_nothing(void **state)
{
	struct store *st = *state;
	struct store_job_inserter *ins = NULL;
	struct task t = { 0 };
	struct buf err = BUF_INIT;
	int64_t u, i;
	int ret;

	u = test_store_user(st, "u", 1000);
	t.account_id = u;
	t.name = xstrdup("t");
	t.queue = xstrdup("default");
	t.command = xstrdup("true");
	t.out_dir = xstrdup("/x");
	t.retention_ms = -1;
	t.njobs = 100;
	assert_int_equal(store_begin(st, &err), 0);
	assert_int_equal(store_task_insert(st, &t, &err), 0);
	assert_int_equal(store_job_insert_begin(st, &t, &ins, &err), 0);
	for (i = 0; i < 50; i++)
		assert_int_equal(store_job_insert_add(ins, i, NULL, "x", &err),
		    0);
	/*
	 * The same index twice breaks UNIQUE (task_id, idx): the insert
	 * fails, or (run later, store_later) the commit does.
	 */
	assert_int_equal(store_job_insert_add(ins, 3, NULL, "x", &err), 0);
	ret = store_job_insert_finish(ins, &err);
	store_job_insert_end(ins);
	if (ret == 0)
		ret = store_commit(st, &err);
	else
		store_rollback(st);
	assert_int_equal(ret, ERR_CONFLICT);
	assert_int_equal(test_store_scalar(st, "SELECT count(*) FROM task"), 0);
	assert_int_equal(test_store_scalar(st, "SELECT count(*) FROM job"), 0);
	task_release(&t);
	buf_release(&err);
}

/*
 * Jobs placed, started and their state read together (store_job_place_all,
 * _started_all, store_job_now_read_ahead: one round trip on PostgreSQL):
 * each gets its own row, attempt and event; a start or end of an attempt
 * that moved on does nothing; a job that is not waiting fails the whole
 * placement.
 */
static void
test_jobs_placed_together(void **state)
{
	struct store *st = *state;
	struct store_job_inserter *ins = NULL;
	struct job_launch out[3] = { 0 };
	struct job_place pl[3];
	struct task t = { 0 };
	struct buf err = BUF_INIT, sql = BUF_INIT;
	int64_t node, ids[3], attempts[3], many[150], ones[150], i;

	node = test_store_node(st, "n1", "default", 4, 0);
	t.account_id = test_store_user(st, "u", 1000);
	t.name = xstrdup("t");
	t.queue = xstrdup("default");
	t.command = xstrdup("true");
	t.out_dir = xstrdup("/x");
	t.retention_ms = -1;
	t.njobs = 4;
	assert_int_equal(store_begin(st, &err), 0);
	assert_int_equal(store_task_insert(st, &t, &err), 0);
	assert_int_equal(store_job_insert_begin(st, &t, &ins, &err), 0);
	for (i = 0; i < 4; i++)
		assert_int_equal(store_job_insert_add(ins, i, NULL, "x", &err),
		    0);
	assert_int_equal(store_job_insert_finish(ins, &err), 0);
	store_job_insert_end(ins);
	assert_int_equal(store_commit(st, &err), 0);
	test_store_exec(st, "UPDATE job SET status = 'assigned'");
	for (i = 0; i < 3; i++) {
		buf_reset(&sql);
		buf_addf(&sql, "SELECT id FROM job WHERE idx = %lld",
		    (long long)i);
		pl[i] = (struct job_place){ test_store_scalar(st, sql.data),
			node, -1, 1.0 + (double)i, 0 };
	}
	assert_int_equal(store_begin(st, &err), 0);
	assert_int_equal(store_job_place_all(st, pl, 3, out, &err), 0);
	assert_int_equal(store_commit(st, &err), 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(out[i].job_id, pl[i].job_id);
		assert_int_equal(out[i].attempt, 1);
		assert_string_equal(out[i].task, "user.u.t");
		assert_string_equal(out[i].node, "n1");
		assert_string_equal(out[i].command, "x");
		ids[i] = out[i].job_id;
		attempts[i] = i == 1 ? 9 : 1; /* the second's moved on */
		job_launch_release(&out[i]);
	}
	assert_int_equal(test_store_scalar(st, "SELECT count(*) FROM job"
	                                       " WHERE status = 'pending'"),
	    3);
	assert_int_equal(test_store_scalar(st, "SELECT count(*) FROM event"
	                                       " WHERE new_status = 'pending'"),
	    3);
	assert_int_equal(store_begin(st, &err), 0);
	assert_int_equal(store_job_started_all(st, ids, attempts, 3, 5, &err),
	    0);
	assert_int_equal(store_commit(st, &err), 0);
	assert_int_equal(test_store_scalar(st, "SELECT count(*) FROM job"
	                                       " WHERE status = 'running'"
	                                       " AND started_ms = 5"),
	    2);
	assert_int_equal(test_store_scalar(st, "SELECT count(*) FROM event"
	                                       " WHERE new_status = 'running'"),
	    2);
	/*
	 * Their state read ahead, then their ends: each row is used once,
	 * so a second end of the same attempt reads again and finds it
	 * ended (no second end); the attempt that moved on ends nothing.
	 */
	assert_int_equal(store_begin(st, &err), 0);
	assert_int_equal(store_job_now_read_ahead(st, ids, attempts, 3, &err),
	    0);
	for (i = 0; i < 3; i++)
		assert_int_equal(store_job_ended(st, ids[i], attempts[i],
		                     JOB_DONE, 0, 5, 6, "", "exit", NULL, &err),
		    0);
	assert_int_equal(store_job_ended(st, ids[0], attempts[0], JOB_FAILED,
	                     1, 5, 7, "", "exit", NULL, &err),
	    0);
	assert_int_equal(store_commit(st, &err), 0);
	assert_int_equal(test_store_scalar(st, "SELECT count(*) FROM job"
	                                       " WHERE status = 'done'"),
	    2);
	assert_int_equal(test_store_scalar(st, "SELECT count(*) FROM event"
	                                       " WHERE new_status = 'done'"),
	    2);
	assert_int_equal(test_store_scalar(st, "SELECT count(*) FROM event"
	                                       " WHERE new_status = 'failed'"),
	    0);
	/* More than one pipeline holds: each read (none is a job's). */
	for (i = 0; i < 150; i++) {
		many[i] = 1000 + i;
		ones[i] = 1;
	}
	assert_int_equal(store_begin(st, &err), 0);
	assert_int_equal(store_job_now_read_ahead(st, many, ones, 150, &err),
	    0);
	assert_int_equal(st->ahead.n, st->drv->step_all != NULL ? 150 : 0);
	for (i = 0; i < (int64_t)st->ahead.n; i++)
		assert_false(st->ahead.v[i].found);
	assert_int_equal(store_commit(st, &err), 0);
	assert_int_equal(st->ahead.n, 0);
	/* The fourth is waiting, the first is not: nothing is placed. */
	pl[1] = pl[0];
	pl[0].job_id = test_store_scalar(st, "SELECT id FROM job WHERE idx = 3");
	memset(out, 0, sizeof(out));
	assert_int_equal(store_begin(st, &err), 0);
	assert_int_equal(store_job_place_all(st, pl, 2, out, &err),
	    ERR_CONFLICT);
	store_rollback(st);
	for (i = 0; i < 2; i++)
		job_launch_release(&out[i]);
	assert_int_equal(test_store_scalar(st, "SELECT count(*) FROM job"
	                                       " WHERE status = 'assigned'"),
	    1);
	task_release(&t);
	buf_release(&sql);
	buf_release(&err);
}

static void
test_injected_fault(void **state)
{
	struct store *st = *state;
	struct buf err = BUF_INIT;
	struct event e = { .kind = "node", .new_status = "x" };
	int64_t n = 0;

	st->fail_after = st->steps + 1;
	assert_int_equal(store_event_add(st, &e, &err), 0);
	assert_int_equal(store_event_add(st, &e, &err), ERR_UNAVAILABLE);
	assert_non_null(strstr(err.data, "injected store fault"));
	st->fail_after = -1;
	assert_int_equal(store_event_count(st, &n, &err), 0);
	assert_int_equal(n, 1);
	buf_release(&err);
}

/* A session made from a token reads the token's times; ends with it. */
static void
test_session_tokens(void **state)
{
	struct store *st = *state;
	struct token t = { 0 }, u = { 0 }, x = { 0 };
	struct session g = { 0 };
	struct buf err = BUF_INIT;
	int64_t bob = test_store_user(st, "bob", 1000);
	int64_t eve = test_store_user(st, "eve", 1000), n = -1;
	const char *sql_eve =
	    "SELECT count(*) FROM session s JOIN account a"
	    " ON a.id = s.account_id WHERE a.username = 'eve'";
	const char *sql_revoked_700 =
	    "SELECT count(*) FROM token WHERE revoked_ms = 700";
	const char *sql_live =
	    "SELECT count(*) FROM token WHERE revoked_ms IS NULL";

	t.account_id = bob;
	t.hash = xstrdup("00aa");
	t.created_ms = 10;
	assert_int_equal(store_token_insert(st, &t, &err), 0);
	u.account_id = bob;
	u.hash = xstrdup("00bb");
	u.created_ms = 10;
	u.expires_ms = 500;
	assert_int_equal(store_token_insert(st, &u, &err), 0);
	x.account_id = eve;
	x.hash = xstrdup("00cc");
	x.created_ms = 10;
	assert_int_equal(store_token_insert(st, &x, &err), 0);
	assert_int_equal(store_session_insert(st, bob, 0, "pw1", 100, &err), 0);
	assert_int_equal(store_session_insert(st, bob, 0, "pw2", 100, &err), 0);
	assert_int_equal(store_session_insert(st, bob, t.id, "tk1", 100, &err),
	    0);
	assert_int_equal(store_session_insert(st, bob, t.id, "tk2", 100, &err),
	    0);
	assert_int_equal(store_session_insert(st, bob, u.id, "tk3", 100, &err),
	    0);
	assert_int_equal(store_session_insert(st, eve, 0, "pw3", 100, &err), 0);
	assert_int_equal(store_session_insert(st, eve, x.id, "tk4", 100, &err),
	    0);

	assert_int_equal(store_session_get(st, "pw1", &g, &err), 0);
	assert_int_equal(g.token_id, 0);
	assert_int_equal(g.token_revoked_ms, 0);
	assert_int_equal(g.token_expires_ms, 0);
	session_release(&g);
	assert_int_equal(store_session_get(st, "tk3", &g, &err), 0);
	assert_int_equal(g.token_id, u.id);
	assert_int_equal(g.token_expires_ms, 500);
	assert_int_equal(g.token_revoked_ms, 0);
	session_release(&g);
	/* Revoked by hand (SQL), the session still reads it at once. */
	assert_int_equal(store_token_revoke(st, t.id, 300, &err), 0);
	assert_int_equal(store_session_get(st, "tk1", &g, &err), 0);
	assert_int_equal(g.token_id, t.id);
	assert_int_equal(g.token_revoked_ms, 300);
	session_release(&g);

	/* The sessions of one token go, and only they. */
	assert_int_equal(store_session_end_token(st, t.id, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_session_get(st, "tk2", &g, &err), ERR_NOTFOUND);
	assert_int_equal(test_store_scalar(st, "SELECT count(*) FROM session"),
	    5);
	/* A password change: bob's password sessions, not his token's. */
	assert_int_equal(store_session_end_account(st, bob, true, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_session_get(st, "tk3", &g, &err), 0);
	session_release(&g);
	assert_int_equal(store_session_get(st, "pw3", &g, &err), 0);
	session_release(&g);
	/* Every token of bob's not revoked yet, then every session of his;
	 * eve's are untouched throughout. */
	assert_int_equal(store_token_revoke_all(st, bob, 700, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(test_store_scalar(st, sql_revoked_700), 1);
	assert_int_equal(store_token_revoke_all(st, bob, 800, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_int_equal(test_store_scalar(st, sql_live), 1);
	assert_int_equal(store_session_end_account(st, bob, false, &n, &err),
	    0);
	assert_int_equal(n, 1);
	assert_int_equal(store_session_end_account(st, bob, false, NULL, &err),
	    0);
	assert_int_equal(test_store_scalar(st, sql_eve), 2);
	token_release(&t);
	token_release(&u);
	token_release(&x);
	buf_release(&err);
}

static void
test_sessions_and_events(void **state)
{
	struct store *st = *state;
	struct session g = { 0 };
	struct event e = { .kind = "task", .new_status = "registered" };
	event_row_vec v = VEC_INIT;
	struct buf err = BUF_INIT;
	int64_t bob = test_store_user(st, "bob", 1000), last = -1;

	assert_int_equal(store_session_insert(st, bob, 0, "aa11", 100, &err),
	    0);
	assert_int_equal(store_session_insert(st, bob, 0, "bb22", 200, &err),
	    0);
	/* The digest is unique. */
	assert_int_equal(store_session_insert(st, bob, 0, "bb22", 300, &err),
	    ERR_CONFLICT);
	assert_int_equal(store_session_get(st, "aa11", &g, &err), 0);
	assert_string_equal(g.username, "bob");
	assert_int_equal(g.account_id, bob);
	assert_int_equal(g.last_used_ms, 100);
	assert_int_equal(store_session_touch(st, g.id, 150, &err), 0);
	session_release(&g);
	assert_int_equal(store_session_get(st, "aa11", &g, &err), 0);
	assert_int_equal(g.last_used_ms, 150);
	assert_int_equal(g.created_ms, 100);
	session_release(&g);
	/* Used before 160: "aa11" goes, "bb22" stays. */
	assert_int_equal(store_session_expire(st, 160, &err), 0);
	assert_int_equal(store_session_get(st, "aa11", &g, &err), ERR_NOTFOUND);
	assert_string_equal(err.data, "no such session");
	assert_int_equal(store_session_delete(st, "bb22", &err), 0);
	assert_int_equal(store_session_delete(st, "bb22", &err), 0);
	assert_int_equal(test_store_scalar(st, "SELECT count(*) FROM session"),
	    0);

	assert_int_equal(store_event_last(st, &last, &err), 0);
	assert_int_equal(last, 0);
	e.task_id = 7;
	assert_int_equal(store_event_add(st, &e, &err), 0);
	e.kind = "job";
	e.task_id = 0;
	e.job_id = 9;
	assert_int_equal(store_event_add(st, &e, &err), 0);
	e.kind = "node";
	e.job_id = 0;
	e.node_id = 3;
	assert_int_equal(store_event_add(st, &e, &err), 0);
	assert_int_equal(store_event_last(st, &last, &err), 0);
	assert_true(last > 0);
	assert_int_equal(store_event_since(st, 0, 2, &v, &err), 0);
	assert_int_equal(v.n, 2);
	assert_string_equal(v.v[0].kind, "task");
	assert_int_equal(v.v[0].task_id, 7);
	assert_int_equal(v.v[0].job_id, 0);
	assert_string_equal(v.v[1].kind, "job");
	assert_int_equal(v.v[1].job_id, 9);
	assert_true(v.v[0].id < v.v[1].id);
	VEC_RELEASE(&v);
	assert_int_equal(store_event_since(st, last - 1, 10, &v, &err), 0);
	assert_int_equal(v.n, 1);
	assert_int_equal(v.v[0].node_id, 3);
	assert_int_equal(v.v[0].id, last);
	VEC_RELEASE(&v);
	assert_int_equal(store_event_since(st, last, 10, &v, &err), 0);
	assert_int_equal(v.n, 0);
	VEC_RELEASE(&v);
	buf_release(&err);
}

/* ---- the pilot's writes, each done twice ------------------------------ */

/*
 * What a write leaves behind: events, counter steps (the stat table's
 * counts, a node's completed and failed, a job's lost, a mail's attempts)
 * and mail rows.  A write the pilot repeats (a cycle done again after a
 * crash, a poll that reports the same end twice) must leave them as the
 * first one did.
 */
struct test_store_tally {
	int64_t events, steps, mails;
};

static void
test_store_tally(struct store *st, struct test_store_tally *t)
{
	t->events = test_store_scalar(st, "SELECT count(*) FROM event");
	t->steps =
	    test_store_scalar(st, "SELECT coalesce(sum(count), 0) FROM stat") +
	    test_store_scalar(st,
	        "SELECT coalesce(sum(completed + failed), 0) FROM node") +
	    test_store_scalar(st, "SELECT coalesce(sum(lost), 0) FROM job") +
	    test_store_scalar(st,
	        "SELECT coalesce(sum(attempts), 0) FROM mail");
	t->mails = test_store_scalar(st, "SELECT count(*) FROM mail");
}

/* One of the pilot's writes, with what it needs. */
struct test_store_write {
	const char *what;
	int (*run)(struct store *st, struct test_store_write *w,
	    struct buf *err);
	int64_t task_id, job_id, attempt, node_id, n;
	enum job_status to;
	bool flag, done;
	struct task_plan plan;
	struct task_state_row read; /* the task as the plan read it */
	struct mail_row *mail;
};

/*
 * Run `w` in a transaction (rolled back when it fails, as the pilot does)
 * twice: the first returns 0 and leaves `events`, `steps` and `mails`
 * more; the second returns 0 or `again` (ERR_CONFLICT: the state it
 * expected is gone) and leaves nothing more.
 */
static void
test_store_twice(struct store *st, struct test_store_write *w, int again,
    int64_t events, int64_t steps, int64_t mails)
{
	struct test_store_tally t0, t1, t2;
	struct buf err = BUF_INIT;
	int ret, i;

	for (i = 0; i < 2; i++) {
		test_store_tally(st, i == 0 ? &t0 : &t1);
		assert_int_equal(store_begin(st, &err), 0);
		ret = w->run(st, w, &err);
		if (ret < 0)
			store_rollback(st);
		else
			assert_int_equal(store_commit(st, &err), 0);
		if (i == 0 && ret != 0)
			fail_msg("%s: %d %s", w->what, ret, err.data);
		if (i == 1 && ret != 0 && ret != again)
			fail_msg("%s again: %d %s", w->what, ret, err.data);
		buf_reset(&err);
	}
	test_store_tally(st, &t2);
	if (t1.events - t0.events != events || t1.steps - t0.steps != steps ||
	    t1.mails - t0.mails != mails)
		fail_msg("%s: %lld events, %lld steps, %lld mails; expected "
		         "%lld, %lld, %lld",
		    w->what, (long long)(t1.events - t0.events),
		    (long long)(t1.steps - t0.steps),
		    (long long)(t1.mails - t0.mails), (long long)events,
		    (long long)steps, (long long)mails);
	if (t2.events != t1.events || t2.steps != t1.steps ||
	    t2.mails != t1.mails)
		fail_msg("%s done twice: %lld more events, %lld more steps, "
		         "%lld more mails",
		    w->what, (long long)(t2.events - t1.events),
		    (long long)(t2.steps - t1.steps),
		    (long long)(t2.mails - t1.mails));
	buf_release(&err);
}

/* The plan the state machine makes for the task now, to apply twice. */
static void
test_store_plan(struct store *st, struct test_store_write *w)
{
	task_state_vec dirty = VEC_INIT;
	struct buf err = BUF_INIT;
	size_t i;

	assert_int_equal(store_task_dirty(st, &dirty, &err), 0);
	for (i = 0; i < dirty.n; i++)
		if (dirty.v[i].id == w->task_id)
			break;
	if (i == dirty.n)
		fail_msg("task %lld is not dirty", (long long)w->task_id);
	w->read = dirty.v[i];
	task_step(&dirty.v[i].view, &w->plan);
	VEC_RELEASE(&dirty);
	buf_release(&err);
}

static int
test_store_w_apply(struct store *st, struct test_store_write *w,
    struct buf *err)
{
	job_ref_vec removed = VEC_INIT;
	char *dir = NULL;
	int ret;

	ret = store_task_apply(st, &w->read, &w->plan, &removed, &dir, err);
	VEC_RELEASE(&removed);
	free(dir);
	return ret;
}

static int
test_store_w_place(struct store *st, struct test_store_write *w,
    struct buf *err)
{
	struct job_launch l = { 0 };
	int ret;

	ret = store_job_place(st, w->job_id, w->node_id, -1, 1.0, 0, &l, err);
	if (ret == 0)
		w->attempt = l.attempt;
	job_launch_release(&l);
	return ret;
}

static int
test_store_w_started(struct store *st, struct test_store_write *w,
    struct buf *err)
{
	return store_job_started(st, w->job_id, w->attempt, time_now_ms(), err);
}

static int
test_store_w_ended(struct store *st, struct test_store_write *w,
    struct buf *err)
{
	struct job_usage usage = { 67108864, 1234 };

	return store_job_ended(st, w->job_id, w->attempt, w->to,
	    w->to == JOB_DONE ? 0 : 1, 0, time_now_ms(), "tail", "exit", &usage,
	    err);
}

/*
 * A lost job as job_step() decides it (core/job-state.c): queued again
 * while under its limit; then failed; killed when it was being killed.
 * w->to says which (JOB_ASSIGNED: queued again).
 */
static int
test_store_w_lost(struct store *st, struct test_store_write *w, struct buf *err)
{
	if (w->to == JOB_ASSIGNED)
		return store_job_requeue(st, w->job_id, w->attempt, "lost",
		    err);
	return store_job_ended(st, w->job_id, w->attempt, w->to, -1, 0,
	    time_now_ms(), NULL, "lost", NULL, err);
}

static int
test_store_w_health(struct store *st, struct test_store_write *w,
    struct buf *err)
{
	bool changed = false;
	int ret;

	ret = store_node_set_health(st, "n1", w->flag, false, !w->flag, 0,
	    &changed, err);
	if (ret == 0 && changed && w->done)
		fail_msg("node health: changed twice");
	w->done = w->done || changed;
	return ret;
}

static int
test_store_w_mail_failed(struct store *st, struct test_store_write *w,
    struct buf *err)
{
	return store_mail_failed(st, w->mail->id, w->n, "421 busy", err);
}

static int
test_store_w_mail_sent(struct store *st, struct test_store_write *w,
    struct buf *err)
{
	return store_mail_sent(st, w->mail->id, w->n, err);
}

static int
test_store_w_mail_give_up(struct store *st, struct test_store_write *w,
    struct buf *err)
{
	return store_mail_give_up(st, w->mail, w->n, "too old", err);
}

static int
test_store_w_retention_mark(struct store *st, struct test_store_write *w,
    struct buf *err)
{
	int64_t n = 0;
	int ret;

	ret = store_retention_mark(st, w->n, &n, err);
	if (ret == 0 && n != (w->done ? 0 : 1))
		fail_msg("retention mark: %lld tasks", (long long)n);
	w->done = true;
	return ret;
}

static int
test_store_w_retention_warn(struct store *st, struct test_store_write *w,
    struct buf *err)
{
	bool done = false;
	int ret;

	ret = store_retention_warn(st, w->task_id, 0, 1, "retention-half", w->n,
	    &done, err);
	if (ret == 0 && done == w->done)
		fail_msg("retention warning: done %d, then %d", w->done, done);
	w->done = true;
	return ret;
}

static int64_t
test_store_job_id(struct store *st, int64_t task_id, int64_t idx)
{
	struct db_stmt *stmt = NULL;
	struct buf err = BUF_INIT;
	int64_t id;

	assert_int_equal(store_prepare(st, &stmt,
	                     "SELECT id FROM job WHERE task_id = $1"
	                     " AND idx = $2",
	                     &err),
	    0);
	st->drv->bind_int64(stmt, 1, task_id);
	st->drv->bind_int64(stmt, 2, idx);
	assert_int_equal(store_step(st, stmt, &err), DB_ROW);
	id = st->drv->col_int64(stmt, 0);
	st->drv->finalize(stmt);
	buf_release(&err);
	return id;
}

/*
 * A task's life as the pilot writes it: each step of the state machine,
 * each job placed, started, ended or lost, done twice.
 */
static void
test_pilot_writes_twice(void **state)
{
	struct store *st = *state;
	struct test_store_write w = { 0 };
	int64_t u, j0, j1, j2;

	store_mail_enable(st, true, 0);
	u = test_store_user(st, "u", 1000);
	test_store_exec(st, "UPDATE account SET email = 'u@example.org'");
	w.node_id = test_store_node(st, "n1", "default", 4, 0);
	w.task_id = test_store_task(st, u, "t", 1, 3, false);
	j0 = test_store_job_id(st, w.task_id, 0);
	j1 = test_store_job_id(st, w.task_id, 1);
	j2 = test_store_job_id(st, w.task_id, 2);

	/* registered -> testing: a task event, the test job's event. */
	w.what = "task apply registered";
	w.run = test_store_w_apply;
	test_store_plan(st, &w);
	assert_int_equal(w.plan.next, TASK_TESTING);
	test_store_twice(st, &w, ERR_CONFLICT, 2, 0, 0);

	/* The test job placed, started (its wait), ended (its run, a job
	 * done on the node). */
	w.job_id = j0;
	w.what = "job place";
	w.run = test_store_w_place;
	test_store_twice(st, &w, ERR_CONFLICT, 1, 0, 0);
	assert_int_equal(w.attempt, 1);
	w.what = "job started";
	w.run = test_store_w_started;
	test_store_twice(st, &w, 0, 1, 1, 0);
	w.what = "job ended";
	w.run = test_store_w_ended;
	w.to = JOB_DONE;
	test_store_twice(st, &w, 0, 1, 2, 0);
	/* What it used, on the job and its run (migration 0019). */
	assert_int_equal(test_store_scalar(st,
	                     "SELECT count(*) FROM job WHERE peak_memory ="
	                     " 67108864 AND cpu_ms = 1234"),
	    1);
	assert_int_equal(test_store_scalar(st,
	                     "SELECT count(*) FROM job_history WHERE"
	                     " peak_memory = 67108864 AND cpu_ms = 1234"),
	    1);

	/* testing -> running: the task and its two other jobs. */
	w.what = "task apply testing";
	w.run = test_store_w_apply;
	test_store_plan(st, &w);
	assert_int_equal(w.plan.next, TASK_RUNNING);
	test_store_twice(st, &w, ERR_CONFLICT, 3, 0, 0);

	/* Job 1 lost once (queued again, lost counted), then for good
	 * (failed, counted on the node). */
	w.job_id = j1;
	w.what = "job place";
	w.run = test_store_w_place;
	test_store_twice(st, &w, ERR_CONFLICT, 1, 0, 0);
	w.what = "job lost";
	w.run = test_store_w_lost;
	w.to = JOB_ASSIGNED;
	test_store_twice(st, &w, 0, 1, 1, 0);
	w.what = "job place again";
	w.run = test_store_w_place;
	test_store_twice(st, &w, ERR_CONFLICT, 1, 0, 0);
	assert_int_equal(w.attempt, 2);
	w.what = "job lost for good";
	w.run = test_store_w_lost;
	w.to = JOB_FAILED;
	test_store_twice(st, &w, 0, 1, 1, 0);
	assert_int_equal(test_store_scalar(st,
	                     "SELECT count(*) FROM job"
	                     " WHERE status = 'failed'"),
	    1);

	/* Job 2 runs and fails: its end on the node. */
	w.job_id = j2;
	w.what = "job place";
	w.run = test_store_w_place;
	test_store_twice(st, &w, ERR_CONFLICT, 1, 0, 0);
	w.what = "job started";
	w.run = test_store_w_started;
	test_store_twice(st, &w, 0, 1, 1, 0);
	w.what = "job ended failed";
	w.run = test_store_w_ended;
	w.to = JOB_FAILED;
	test_store_twice(st, &w, 0, 1, 2, 0);

	/* running -> finalized: the task's event and its end's mail. */
	w.what = "task apply running";
	w.run = test_store_w_apply;
	test_store_plan(st, &w);
	assert_int_equal(w.plan.next, TASK_FINALIZED);
	test_store_twice(st, &w, ERR_CONFLICT, 1, 0, 1);
	assert_int_equal(test_store_scalar(st, "SELECT completed FROM node"),
	    1);
	assert_int_equal(test_store_scalar(st, "SELECT failed FROM node"), 2);
}

/* A job lost while it was being killed is killed, once. */
static void
test_pilot_lost_kill_twice(void **state)
{
	struct store *st = *state;
	struct test_store_write w = { 0 };
	int64_t u;

	u = test_store_user(st, "u", 1000);
	w.node_id = test_store_node(st, "n1", "default", 4, 0);
	w.task_id = test_store_task(st, u, "t", 1, 1, false);
	w.job_id = test_store_job_id(st, w.task_id, 0);
	test_store_exec(st, "UPDATE job SET status = 'assigned'");
	w.what = "job place";
	w.run = test_store_w_place;
	test_store_twice(st, &w, ERR_CONFLICT, 1, 0, 0);
	test_store_exec(st, "UPDATE job SET status = 'kill'");
	w.what = "job lost while killed";
	w.run = test_store_w_lost;
	w.to = JOB_KILLED;
	test_store_twice(st, &w, 0, 1, 0, 0);
	assert_int_equal(test_store_scalar(st,
	                     "SELECT count(*) FROM job"
	                     " WHERE status = 'killed'"),
	    1);
}

/* A node turns unhealthy and back: an event and a mail to the admin each. */
static void
test_pilot_node_health_twice(void **state)
{
	struct store *st = *state;
	struct test_store_write w = { 0 };

	store_mail_enable(st, true, 0);
	test_store_user(st, "root", 1000);
	test_store_exec(st,
	    "UPDATE account SET role = 'admin',"
	    " email = 'root@example.org'");
	test_store_node(st, "n1", "default", 4, 0);
	w.what = "node unhealthy";
	w.run = test_store_w_health;
	w.flag = false;
	test_store_twice(st, &w, 0, 1, 0, 1);
	w.what = "node healthy";
	w.flag = true;
	w.done = false;
	test_store_twice(st, &w, 0, 1, 0, 1);
}

/* The drain's writes: a failure counted once, sent once, given up once. */
static void
test_pilot_outbox_twice(void **state)
{
	struct store *st = *state;
	struct test_store_write w = { 0 };
	mail_row_vec due = VEC_INIT;
	struct buf err = BUF_INIT;
	int64_t now = time_now_ms();

	store_mail_enable(st, true, 0);
	test_store_user(st, "root", 1000);
	test_store_exec(st,
	    "UPDATE account SET role = 'admin',"
	    " email = 'root@example.org'");
	test_store_node(st, "n1", "default", 4, 0);
	assert_int_equal(store_begin(st, &err), 0);
	assert_int_equal(
	    store_mail_node(st, 1, "n1", false, "ready=0", now, &err), 0);
	assert_int_equal(
	    store_mail_node(st, 1, "n1", true, "ready=1", now, &err), 0);
	assert_int_equal(store_commit(st, &err), 0);
	assert_int_equal(store_mail_due(st, now, 10, &due, &err), 0);
	assert_int_equal(due.n, 2);

	w.mail = &due.v[0];
	w.what = "mail failed";
	w.run = test_store_w_mail_failed;
	w.n = now + 1000;
	test_store_twice(st, &w, 0, 0, 1, 0);
	w.what = "mail sent";
	w.run = test_store_w_mail_sent;
	w.n = now + 2000;
	test_store_twice(st, &w, 0, 0, 1, 0);
	assert_int_equal(test_store_scalar(st,
	                     "SELECT sent_ms FROM mail"
	                     " WHERE attempts = 2"),
	    now + 2000);

	w.mail = &due.v[1];
	w.what = "mail given up";
	w.run = test_store_w_mail_give_up;
	test_store_twice(st, &w, 0, 1, 0, 0);
	mail_row_vec_release(&due);
	buf_release(&err);
}

/*
 * Retention: the half-period warning queued once, the task marked once,
 * and removed once.
 */
static void
test_pilot_retention_twice(void **state)
{
	struct store *st = *state;
	struct test_store_write w = { 0 };
	int64_t u, later = time_now_ms() + 3600000;

	store_mail_enable(st, true, 60000);
	u = test_store_user(st, "u", 1000);
	test_store_exec(st, "UPDATE account SET email = 'u@example.org'");
	w.task_id = test_store_task(st, u, "t", 1, 1, false);
	test_store_exec(st, "UPDATE job SET status = 'done', exit_code = 0");
	test_store_exec(st,
	    "UPDATE task SET status = 'done', dirty = 0,"
	    " ended_ms = 1000");
	w.what = "retention warning";
	w.run = test_store_w_retention_warn;
	w.n = later;
	test_store_twice(st, &w, 0, 0, 0, 1);
	w.what = "retention mark";
	w.run = test_store_w_retention_mark;
	w.done = false;
	test_store_twice(st, &w, 0, 0, 0, 0);
	w.what = "task apply retention";
	w.run = test_store_w_apply;
	test_store_plan(st, &w);
	assert_true(w.plan.remove);
	test_store_twice(st, &w, ERR_CONFLICT, 1, 0, 0);
	assert_int_equal(test_store_scalar(st, "SELECT count(*) FROM task"), 0);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_migrations_current_and_idempotent, test_store_setup,
		    test_store_teardown),
		cmocka_unit_test(test_open_missing_without_create),
		cmocka_unit_test_setup_teardown(test_transactions_deferred,
		    test_store_setup, test_store_teardown),
		cmocka_unit_test_setup_teardown(test_statements_later,
		    test_store_setup, test_store_teardown),
		cmocka_unit_test_setup_teardown(test_transaction_lost,
		    test_store_setup, test_store_teardown),
		cmocka_unit_test_setup_teardown(test_statements_reused,
		    test_store_setup, test_store_teardown),
		cmocka_unit_test_setup_teardown(test_open_empty_without_create,
		    test_store_setup, test_store_teardown),
		cmocka_unit_test_setup_teardown(test_open_half_migrated,
		    test_store_setup, test_store_teardown),
		cmocka_unit_test_setup_teardown(test_params_bound_by_number,
		    test_store_setup, test_store_teardown),
		cmocka_unit_test_setup_teardown(test_accounts, test_store_setup,
		    test_store_teardown),
		cmocka_unit_test_setup_teardown(test_tokens_and_password,
		    test_store_setup, test_store_teardown),
		cmocka_unit_test_setup_teardown(test_session_tokens,
		    test_store_setup, test_store_teardown),
		cmocka_unit_test_setup_teardown(test_sessions_and_events,
		    test_store_setup, test_store_teardown),
		cmocka_unit_test_setup_teardown(test_node_slots_check,
		    test_store_setup, test_store_teardown),
		cmocka_unit_test_setup_teardown(test_node_memory,
		    test_store_setup, test_store_teardown),
		cmocka_unit_test_setup_teardown(test_node_usage,
		    test_store_setup, test_store_teardown),
		cmocka_unit_test_setup_teardown(test_task_jobs_and_counts,
		    test_store_setup, test_store_teardown),
		cmocka_unit_test_setup_teardown(test_task_mark_kept,
		    test_store_setup, test_store_teardown),
		cmocka_unit_test_setup_teardown(test_signal_and_dirty,
		    test_store_setup, test_store_teardown),
		cmocka_unit_test_setup_teardown(test_sched_other_pools,
		    test_store_setup, test_store_teardown),
		cmocka_unit_test_setup_teardown(test_sched_streams_and_fetch,
		    test_store_setup, test_store_teardown),
		cmocka_unit_test_setup_teardown(test_stats, test_store_setup,
		    test_store_teardown),
		cmocka_unit_test_setup_teardown(test_node_ends,
		    test_store_setup, test_store_teardown),
		cmocka_unit_test_setup_teardown(test_usage, test_store_setup,
		    test_store_teardown),
		cmocka_unit_test_setup_teardown(test_history, test_store_setup,
		    test_store_teardown),
		cmocka_unit_test_setup_teardown(test_node_unreachable,
		    test_store_setup, test_store_teardown),
		cmocka_unit_test_setup_teardown(test_rollback_leaves_nothing,
		    test_store_setup, test_store_teardown),
		cmocka_unit_test_setup_teardown(test_jobs_placed_together,
		    test_store_setup, test_store_teardown),
		cmocka_unit_test_setup_teardown(test_injected_fault,
		    test_store_setup, test_store_teardown),
		cmocka_unit_test_setup_teardown(test_pilot_writes_twice,
		    test_store_setup, test_store_teardown),
		cmocka_unit_test_setup_teardown(test_task_move_chunks,
		    test_store_setup, test_store_teardown),
		cmocka_unit_test_setup_teardown(test_task_queue_from,
		    test_store_setup, test_store_teardown),
		cmocka_unit_test_setup_teardown(test_task_requeue_chunks,
		    test_store_setup, test_store_teardown),
		cmocka_unit_test_setup_teardown(test_pilot_lost_kill_twice,
		    test_store_setup, test_store_teardown),
		cmocka_unit_test_setup_teardown(test_pilot_node_health_twice,
		    test_store_setup, test_store_teardown),
		cmocka_unit_test_setup_teardown(test_pilot_outbox_twice,
		    test_store_setup, test_store_teardown),
		cmocka_unit_test_setup_teardown(test_pilot_retention_twice,
		    test_store_setup, test_store_teardown),
	};
	char *rm[] = { "rm", "-rf", "--", test_store_dir, NULL };
	pid_t pid;
	int ret;

	if (argc == 3 && strcmp(argv[1], "--db-url") == 0)
		test_store_pg = argv[2];
	else if (argc != 1)
		return 2;
	if (mkdtemp(test_store_dir) == NULL)
		return 1;
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	/* The exit status is the tests': rm runs in a child. */
	pid = fork();
	if (pid == 0) {
		execvp("rm", rm);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
	return ret;
}
