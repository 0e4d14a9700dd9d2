/*
 * db-pg.c - the PostgreSQL driver, over libpq.
 *
 * Parameters travel as text and the server infers their types, so the
 * store's SQL is the same for both drivers (a parameter whose type the
 * server cannot infer is CAST in the SQL).  Each distinct statement is
 * prepared once per connection and kept.  A lost connection is reset at
 * the next use; the connection's generation then moves, which tells the
 * pilot that its advisory lock and its LISTEN went with the old one.
 *
 * Round trips are what a statement costs here (issue 18): a BEGIN is not
 * sent alone but with the transaction's first statement, a statement
 * prepared on the server goes with its first execution, and a statement
 * the store runs later (db_pg_later: an event, a counter) goes with the
 * transaction's next statement or its COMMIT, all in one pipeline
 * (libpq's pipeline mode: the commands, then one Sync) that waits on the
 * server once; a transaction that ran no statement sends nothing at all.
 */
#include <libpq-fe.h>
#include <unistd.h>

#include "store/db.h"
#include "util/vec.h"

#define DB_PG_CACHE 128
/*
 * Statements run later that are sent at the latest with this many, and
 * the most statements step_all() puts in one pipeline.
 */
#define DB_PG_LATER_MAX 64
/* pg_advisory_lock key of the one active pilot: "orchestr" in ASCII. */
#define DB_PG_PILOT_KEY 0x6f72636865737472LL
/* For this transaction only: its jobs are counted by the store (0022). */
#define DB_PG_COUNTED \
	"SELECT set_config('orchestra.jobs_counted', 'on', true)"

struct db_pg_prepared {
	char *sql;
	char name[24];  /* "" while it runs unnamed (db_pg_prepare) */
	bool on_server; /* `name` was prepared on this connection */
	bool parse_sent; /* its Parse is in the pipeline being sent */
};

/* A statement run later (db_pg_later), owed to the next round trip. */
struct db_pg_later {
	struct db_pg_prepared *named; /* NULL: it runs unnamed */
	char *sql;                    /* its own copy when unnamed */
	int nparams;
	char **params;
};

struct db {
	PGconn *conn;
	int64_t generation;      /* moves on each reconnection */
	int64_t lock_generation; /* when the pilot lock was taken, or -1 */
	int64_t listen_generation;
	struct db_pg_prepared cache[DB_PG_CACHE];
	size_t ncache;
	int64_t nprepared;
	bool full; /* since the last begin, a statement met a full disk */
	bool notify; /* a NOTIFY owed to this transaction's commit */
	bool begin_owed; /* begin() was called; BEGIN goes with the next */
	bool in_tx;      /* between begin() and its commit or rollback */
	bool counted_owed; /* jobs_counted(): its setting goes with the next */
	bool tx_lost; /* the connection was lost with this transaction */
	VEC(struct db_pg_later) later; /* owed to the next round trip */
};

struct db_stmt {
	struct db *db;
	struct db_pg_prepared *named; /* its name in db->cache, or NULL */
	int64_t generation;           /* the connection's, for `named` */
	const char *sql;
	int nparams;
	char **params; /* text, NULL for SQL NULL */
	PGresult *res;
	int row, nrows;
	bool executed;
	int64_t changes;
};

/*
 * One line, the server's primary message when there is one.  A full disk
 * on the server (SQLSTATE class 53100 disk_full) is remembered in `db`.
 */
static int
db_pg_result_error(struct db *db, PGresult *res, struct buf *err)
{
	PGconn *conn = db->conn;
	const char *state =
	    res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg =
	    res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *detail =
	    res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
	struct buf line = BUF_INIT;
	int code = ERR_UNAVAILABLE;

	if (msg == NULL)
		msg = PQerrorMessage(conn);
	buf_add(&line, msg, strcspn(msg, "\n"));
	if (detail != NULL) {
		buf_adds(&line, ": ");
		buf_add(&line, detail, strcspn(detail, "\n"));
	}
	if (state != NULL && strcmp(state, "23505") == 0)
		code = ERR_CONFLICT;
	else if (state != NULL && strncmp(state, "23", 2) == 0)
		code = ERR_INVALID; /* check, not null, foreign key */
	else if (state != NULL && strcmp(state, "40001") == 0)
		code = ERR_CONFLICT;
	if (state != NULL && strcmp(state, "53100") == 0)
		db->full = true;
	err_set(err, code, "database: %s", line.data);
	buf_release(&line);
	return code;
}

/* Forget the statements owed to the next round trip, unsent. */
static void
db_pg_later_release(struct db *db)
{
	struct db_pg_later *l;
	int i;

	VEC_FOREACH (l, &db->later) {
		for (i = 0; i < l->nparams; i++)
			free(l->params[i]);
		free(l->params);
		free(l->sql);
	}
	db->later.n = 0;
}

static void
db_pg_forget_prepared(struct db *db)
{
	size_t i;

	for (i = 0; i < db->ncache; i++) {
		free(db->cache[i].sql);
		db->cache[i].sql = NULL;
		db->cache[i].name[0] = '\0';
		db->cache[i].on_server = false;
		db->cache[i].parse_sent = false;
	}
	db->ncache = 0;
}

/*
 * Drop what the server held for us and start again (the next use
 * reconnects, and sees the generation moved).  A transaction that sent
 * or owed a statement is lost with it: it fails until its rollback.
 */
static void
db_pg_lost(struct db *db)
{
	if (db->in_tx && (!db->begin_owed || db->later.n > 0))
		db->tx_lost = true;
	db_pg_later_release(db);
	PQreset(db->conn);
	db->generation++;
	db_pg_forget_prepared(db);
}

/* Reset a broken connection; 0 when usable. */
static int
db_pg_usable(struct db *db, struct buf *err)
{
	const char *m;

	if (PQstatus(db->conn) == CONNECTION_OK)
		return 0;
	db_pg_lost(db);
	if (PQstatus(db->conn) == CONNECTION_OK)
		return 0;
	m = PQerrorMessage(db->conn);
	return err_set(err, ERR_UNAVAILABLE, "database unreachable: %.*s",
	    (int)strcspn(m, "\n"), m);
}

static int
db_pg_open(struct db **out, const char *target, bool create, struct buf *err)
{
	struct db *db;
	const char *m;

	(void)create; /* the database itself is made by its admin */
	*out = NULL;
	db = xcalloc(1, sizeof(*db));
	db->lock_generation = -1;
	db->listen_generation = -1;
	db->conn = PQconnectdb(target);
	if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK) {
		m = db->conn ? PQerrorMessage(db->conn) : "out of memory";
		/* The message names host and port, never the password. */
		err_set(err, ERR_UNAVAILABLE,
		    "cannot connect to PostgreSQL: %.*s", (int)strcspn(m, "\n"),
		    m);
		PQfinish(db->conn);
		free(db);
		return ERR_UNAVAILABLE;
	}
	*out = db;
	return 0;
}

static void
db_pg_close(struct db *db)
{
	if (db == NULL)
		return;
	db_pg_later_release(db);
	VEC_RELEASE(&db->later);
	db_pg_forget_prepared(db);
	PQfinish(db->conn);
	free(db);
}

/* The statement's name on this connection, or NULL: it runs unnamed. */
static struct db_pg_prepared *
db_pg_named(const struct db_stmt *st)
{
	return st->generation == st->db->generation ? st->named : NULL;
}

/* What a command of a pipeline was, to read its result. */
struct db_pg_cmd {
	struct db_pg_prepared *parsed; /* a Parse of this statement */
	struct db_stmt *owner;         /* the execution of this statement */
};

/*
 * Put one statement into the pipeline: its Parse first when the server
 * has not got it (and it is not already on its way), then its execution,
 * whose result goes to `owner` (may be NULL).
 */
static bool
db_pg_send(struct db *db, struct db_pg_prepared *c, const char *sql,
    int nparams, char *const *params, struct db_stmt *owner,
    struct db_pg_cmd *cmd, size_t *ncmd)
{
	const char *const *p = (const char *const *)params;
	PGconn *conn = db->conn;
	int ok;

	if (c != NULL && !c->on_server && !c->parse_sent) {
		if (PQsendPrepare(conn, c->name, sql, nparams, NULL) != 1)
			return false;
		c->parse_sent = true;
		cmd[(*ncmd)++] = (struct db_pg_cmd){ c, NULL };
	}
	ok = c != NULL ? PQsendQueryPrepared(conn, c->name, nparams, p, NULL,
	                     NULL, 0)
	               : PQsendQueryParams(conn, sql, nparams, NULL, p, NULL,
	                     NULL, 0);
	if (ok != 1)
		return false;
	cmd[(*ncmd)++] = (struct db_pg_cmd){ NULL, owner };
	return true;
}

/* A statement's good result: its rows and changes. */
static void
db_pg_take(struct db_stmt *st, PGresult *res)
{
	const char *n = PQcmdTuples(res);

	st->res = res;
	st->row = -1;
	st->nrows =
	    PQresultStatus(res) == PGRES_TUPLES_OK ? PQntuples(res) : 0;
	st->changes = n && *n ? strtoll(n, NULL, 10) : 0;
}

/*
 * One round trip: what is owed (the transaction's BEGIN, its setting of
 * jobs_counted(), the statements run later), then the `n` statements
 * `sts` (each gets its result) and the plain commands `tail`, in one
 * pipeline: the commands, one Sync, then their results.  0, or the first
 * failed command's error (the commands after it were skipped, and their
 * statements got no result); a failed connection is reset.
 */
static int
db_pg_pipeline(struct db *db, struct db_stmt *const *sts, size_t n,
    const char *const *tail, size_t ntail, struct buf *err)
{
	PGconn *conn = db->conn;
	struct db_pg_cmd *cmd;
	struct db_pg_later *l;
	PGresult *res, *more, *bad = NULL;
	ExecStatusType status;
	size_t ncmd = 0, i;
	int ret = 0;
	bool ok;

	cmd = xcalloc(2 * (db->later.n + n) + ntail + 2, sizeof(*cmd));
	ok = PQenterPipelineMode(conn) == 1;
	if (ok && db->begin_owed)
		ok = db_pg_send(db, NULL, "BEGIN", 0, NULL, NULL, cmd, &ncmd);
	if (ok && db->counted_owed)
		ok = db_pg_send(db, NULL, DB_PG_COUNTED, 0, NULL, NULL, cmd,
		    &ncmd);
	db->begin_owed = false;
	db->counted_owed = false;
	VEC_FOREACH (l, &db->later) {
		if (ok)
			ok = db_pg_send(db, l->named,
			    l->named ? l->named->sql : l->sql, l->nparams,
			    l->params, NULL, cmd, &ncmd);
	}
	db_pg_later_release(db);
	for (i = 0; ok && i < n; i++)
		ok = db_pg_send(db, db_pg_named(sts[i]), sts[i]->sql,
		    sts[i]->nparams, sts[i]->params, sts[i], cmd, &ncmd);
	for (i = 0; ok && i < ntail; i++)
		ok = db_pg_send(db, NULL, tail[i], 0, NULL, NULL, cmd, &ncmd);
	if (ok)
		ok = PQpipelineSync(conn) == 1;
	/* Each command's result, then NULL; then the Sync's. */
	for (i = 0; ok && i < ncmd; i++) {
		res = PQgetResult(conn);
		if (res == NULL) {
			ok = false;
			break;
		}
		while ((more = PQgetResult(conn)) != NULL)
			PQclear(more);
		status = PQresultStatus(res);
		if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
			if (bad == NULL)
				bad = res;
			else
				PQclear(res);
		} else if (cmd[i].owner != NULL) {
			db_pg_take(cmd[i].owner, res);
		} else {
			if (cmd[i].parsed != NULL)
				cmd[i].parsed->on_server = true;
			PQclear(res);
		}
	}
	for (i = 0; i < ncmd; i++)
		if (cmd[i].parsed != NULL)
			cmd[i].parsed->parse_sent = false;
	free(cmd);
	if (ok) {
		res = PQgetResult(conn);
		ok = res != NULL && PQresultStatus(res) == PGRES_PIPELINE_SYNC;
		PQclear(res);
	}
	if (!ok || PQexitPipelineMode(conn) != 1) {
		/* Out of step with the server: start again on a new one. */
		PQclear(bad);
		db_pg_lost(db);
		return err_set(err, ERR_UNAVAILABLE,
		    "database: the connection failed mid-statement");
	}
	if (bad != NULL) {
		ret = db_pg_result_error(db, bad, err);
		PQclear(bad);
	}
	return ret;
}

/* 0 for a command's good result, else its error; `res` is freed. */
static int
db_pg_result(struct db *db, PGresult *res, struct buf *err)
{
	ExecStatusType status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	int ret = 0;

	if (res == NULL)
		ret = err_set(err, ERR_UNAVAILABLE,
		    "database: the connection failed mid-statement");
	else if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
		ret = db_pg_result_error(db, res, err);
	PQclear(res);
	return ret;
}

static int
db_pg_tx_lost(struct buf *err)
{
	return err_set(err, ERR_UNAVAILABLE,
	    "database: the connection was lost mid-transaction");
}

static int
db_pg_exec(struct db *db, const char *sql, struct buf *err)
{
	int ret;

	if (strcmp(sql, "ROLLBACK") == 0) {
		db->in_tx = false;
		db->counted_owed = false;
		db->tx_lost = false;
		db_pg_later_release(db);
		if (db->begin_owed) {
			db->begin_owed = false; /* nothing sent to roll back */
			return 0;
		}
	}
	ret = db_pg_usable(db, err);
	if (ret < 0)
		return ret;
	if (db->tx_lost)
		return db_pg_tx_lost(err);
	if (db->begin_owed || db->counted_owed || db->later.n > 0) {
		/* Not a statement's (DDL, say): what is owed goes first. */
		ret = db_pg_pipeline(db, NULL, 0, NULL, 0, err);
		if (ret < 0)
			return ret;
	}
	return db_pg_result(db, PQexec(db->conn, sql), err);
}

/* The BEGIN is owed to the first statement (db_pg_pipeline). */
static int
db_pg_begin(struct db *db, struct buf *err)
{
	(void)err;
	db->full = false;
	db->notify = false;
	db->begin_owed = true;
	db->in_tx = true;
	db->counted_owed = false;
	db->tx_lost = false;
	db_pg_later_release(db);
	return 0;
}

/*
 * The statements run later, and the NOTIFY owed (db_pg_notify), go with
 * the COMMIT: one round trip.  A transaction that sent nothing commits
 * nothing (a NOTIFY alone is its own transaction).
 */
static int
db_pg_commit(struct db *db, struct buf *err)
{
	/* Did the transaction send a statement, or owe one? */
	bool some = !db->begin_owed || db->later.n > 0;
	const char *tail[2];
	size_t n = 0;
	int ret = 0;

	/* Lost now (a reset connection) or before, with what was owed. */
	if (some && !db->tx_lost)
		ret = db_pg_usable(db, err);
	if (ret == 0 && db->tx_lost) {
		ret = db_pg_tx_lost(err);
	} else if (ret == 0 && !some) {
		db->begin_owed = false;
		db->counted_owed = false;
		if (db->notify)
			ret = db_pg_exec(db, "NOTIFY orchestra", err);
	} else if (ret == 0) {
		if (db->notify)
			tail[n++] = "NOTIFY orchestra";
		tail[n++] = "COMMIT";
		ret = db_pg_pipeline(db, NULL, 0, tail, n, err);
	}
	db->notify = false;
	db->in_tx = false;
	db->tx_lost = false;
	db_pg_later_release(db);
	return ret;
}

/*
 * The transaction's INSERTs into job skip the counting trigger (migration
 * 0022): the setting goes with the transaction's next statement.
 */
static bool
db_pg_jobs_counted(struct db *db)
{
	if (!db->in_tx)
		return false;
	db->counted_owed = true;
	return true;
}

static void
db_pg_rewrite_ddl(const char *sql, struct buf *out)
{
	db_replace_marker(sql, "@ID@",
	    "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", out);
}

/* The highest $N outside quotes. */
static int
db_pg_count_params(const char *sql)
{
	const char *p = sql;
	char quote = 0;
	int n = 0, v;

	while ((p = db_next_param(p, &quote)) != NULL) {
		v = 0;
		while (p[1] >= '0' && p[1] <= '9')
			v = v * 10 + (*++p - '0');
		if (v > n)
			n = v;
		p++;
	}
	return n;
}

/*
 * A statement is prepared on the server at its second use, not its
 * first: the first runs unnamed (Parse, Bind and Execute in one round
 * trip), so a command that runs each statement once (the command line)
 * waits one round trip a statement; a process that runs it again (the
 * pilot, serve) names it then, and its Parse goes with that execution
 * (db_pg_run), so that no use of a statement waits on two round trips.
 */
static int
db_pg_prepare(struct db *db, struct db_stmt **out, const char *sql,
    struct buf *err)
{
	struct db_pg_prepared *c = NULL;
	struct db_stmt *st;
	size_t i;
	int ret, n;

	*out = NULL;
	ret = db_pg_usable(db, err);
	if (ret < 0)
		return ret;
	n = db_pg_count_params(sql);
	st = xcalloc(1, sizeof(*st));
	st->db = db;
	st->sql = sql;
	st->nparams = n;
	st->params = xcalloc((size_t)n + 1, sizeof(*st->params));
	st->generation = db->generation;
	for (i = 0; i < db->ncache && c == NULL; i++)
		if (strcmp(db->cache[i].sql, sql) == 0)
			c = &db->cache[i];
	if (c == NULL) {
		/* Its first use (or the cache is full): unnamed. */
		if (db->ncache < DB_PG_CACHE) {
			c = &db->cache[db->ncache++];
			c->sql = xstrdup(sql);
			c->name[0] = '\0';
			c->on_server = false;
		}
		*out = st;
		return 0;
	}
	if (c->name[0] == '\0')
		snprintf(c->name, sizeof(c->name), "o%lld",
		    (long long)++db->nprepared);
	st->named = c;
	*out = st;
	return 0;
}

/*
 * Run `st`: alone when nothing is owed and the server has it (or it runs
 * unnamed), else with what is owed (db_pg_pipeline).  0 or ERR_*.
 */
static int
db_pg_run(struct db *db, struct db_stmt *st, struct buf *err)
{
	const char *const *params = (const char *const *)st->params;
	struct db_pg_prepared *c = db_pg_named(st);
	PGresult *res;
	ExecStatusType status;
	int ret;

	if (db->begin_owed || db->counted_owed || db->later.n > 0 ||
	    (c != NULL && !c->on_server))
		return db_pg_pipeline(db, &st, 1, NULL, 0, err);
	res = c != NULL ? PQexecPrepared(db->conn, c->name, st->nparams,
	                      params, NULL, NULL, 0)
	                : PQexecParams(db->conn, st->sql, st->nparams, NULL,
	                      params, NULL, NULL, 0);
	status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
		db_pg_take(st, res);
		return 0;
	}
	if (res == NULL)
		return err_set(err, ERR_UNAVAILABLE,
		    "database: the connection failed mid-statement");
	ret = db_pg_result_error(db, res, err);
	PQclear(res);
	return ret;
}

static void
db_pg_set_param(struct db_stmt *st, int i, char *v)
{
	if (i < 1 || i > st->nparams)
		BUG("parameter $%d of %d", i, st->nparams);
	free(st->params[i - 1]);
	st->params[i - 1] = v;
}

static void
db_pg_bind_int64(struct db_stmt *st, int i, int64_t v)
{
	struct buf b = BUF_INIT;

	buf_addf(&b, "%lld", (long long)v);
	db_pg_set_param(st, i, buf_detach(&b));
}

static void
db_pg_bind_double(struct db_stmt *st, int i, double v)
{
	struct buf b = BUF_INIT;

	buf_addf(&b, "%.17g", v);
	db_pg_set_param(st, i, buf_detach(&b));
}

static void
db_pg_bind_text(struct db_stmt *st, int i, const char *v)
{
	db_pg_set_param(st, i, v ? xstrdup(v) : NULL);
}

static void
db_pg_bind_null(struct db_stmt *st, int i)
{
	db_pg_set_param(st, i, NULL);
}

static int
db_pg_step(struct db_stmt *st, struct buf *err)
{
	struct db *db = st->db;
	int ret;

	if (!st->executed) {
		st->executed = true;
		if (db->tx_lost)
			return db_pg_tx_lost(err);
		ret = db_pg_run(db, st, err);
		if (ret < 0)
			return ret;
	}
	if (st->res == NULL)
		return err_set(err, ERR_UNAVAILABLE,
		    "database: no result (a statement run with it failed)");
	if (st->row + 1 < st->nrows) {
		st->row++;
		return DB_ROW;
	}
	st->row = st->nrows;
	return DB_DONE;
}

/*
 * Inside a transaction, `st` goes with the next round trip: its
 * parameters move to the queue, and `st` is left to be finalized.  Sent
 * at the latest once DB_PG_LATER_MAX are owed.
 */
static int
db_pg_later(struct db_stmt *st, struct buf *err)
{
	struct db *db = st->db;
	struct db_pg_later *l;

	if (!db->in_tx)
		return db_pg_step(st, err);
	if (db->tx_lost)
		return db_pg_tx_lost(err);
	l = VEC_ADD(&db->later);
	l->named = db_pg_named(st);
	l->sql = l->named != NULL ? NULL : xstrdup(st->sql);
	l->nparams = st->nparams;
	l->params = st->params;
	st->params = xcalloc((size_t)st->nparams + 1, sizeof(*st->params));
	st->executed = true;
	if (db->later.n < DB_PG_LATER_MAX)
		return DB_DONE;
	return db_pg_pipeline(db, NULL, 0, NULL, 0, err);
}

/*
 * The statements not run yet, all in one pipeline: a round trip for them
 * all.  Each then steps through its own result.
 */
static int
db_pg_step_all(struct db_stmt *const *sts, size_t n, struct buf *err)
{
	struct db_stmt **todo;
	struct db *db;
	size_t i, k = 0;
	int ret;

	if (n == 0)
		return 0;
	db = sts[0]->db;
	if (db->tx_lost)
		return db_pg_tx_lost(err);
	todo = xcalloc(n, sizeof(*todo));
	for (i = 0; i < n; i++) {
		if (sts[i]->db != db)
			BUG("step_all over two connections");
		if (!sts[i]->executed) {
			sts[i]->executed = true;
			todo[k++] = sts[i];
		}
	}
	/*
	 * A pipeline at most DB_PG_LATER_MAX long: the server's answers to
	 * one we have not finished sending must fit the sockets' buffers,
	 * or both ends would wait on the other (libpq's pipeline mode).
	 */
	for (i = 0, ret = 0; i < k && ret == 0; i += DB_PG_LATER_MAX)
		ret = db_pg_pipeline(db, todo + i,
		    k - i < DB_PG_LATER_MAX ? k - i : DB_PG_LATER_MAX, NULL, 0,
		    err);
	free(todo);
	return ret;
}

static void
db_pg_reset(struct db_stmt *st)
{
	PQclear(st->res);
	st->res = NULL;
	st->executed = false;
}

static bool
db_pg_col_is_null(struct db_stmt *st, int i)
{
	return PQgetisnull(st->res, st->row, i) != 0;
}

static int64_t
db_pg_col_int64(struct db_stmt *st, int i)
{
	const char *v = PQgetvalue(st->res, st->row, i);

	if (v == NULL || *v == '\0')
		return 0;
	if (*v == 't')
		return 1; /* a boolean */
	return strtoll(v, NULL, 10);
}

static double
db_pg_col_double(struct db_stmt *st, int i)
{
	const char *v = PQgetvalue(st->res, st->row, i);

	return v ? strtod(v, NULL) : 0;
}

static const char *
db_pg_col_text(struct db_stmt *st, int i)
{
	if (PQgetisnull(st->res, st->row, i))
		return NULL;
	return PQgetvalue(st->res, st->row, i);
}

static int64_t
db_pg_changes(struct db_stmt *st)
{
	return st->changes;
}

static void
db_pg_finalize(struct db_stmt *st)
{
	int i;

	if (st == NULL)
		return;
	PQclear(st->res);
	for (i = 0; i < st->nparams; i++)
		free(st->params[i]);
	free(st->params);
	free(st);
}

/*
 * One active pilot: a session advisory lock, released by the server when
 * the session ends (the pilot died or lost its connection).
 */
static int
db_pg_pilot_lock(struct db *db, struct buf *err)
{
	struct db_stmt *st = NULL;
	bool got;
	int ret;

	ret = db_pg_prepare(db, &st, "SELECT pg_try_advisory_lock($1)", err);
	if (ret < 0)
		return ret;
	db_pg_bind_int64(st, 1, DB_PG_PILOT_KEY);
	ret = db_pg_step(st, err);
	got = ret == DB_ROW && db_pg_col_int64(st, 0) == 1;
	db_pg_finalize(st);
	if (ret < 0)
		return ret;
	if (!got)
		return err_set(err, ERR_CONFLICT,
		    "another pilot holds the lock of this database");
	db->lock_generation = db->generation;
	return 0;
}

static int
db_pg_pilot_check(struct db *db, struct buf *err)
{
	int ret;

	ret = db_pg_usable(db, err);
	if (ret < 0)
		return ret;
	if (db->lock_generation == db->generation)
		return 0;
	/* The connection was reset: the lock went with the old session. */
	db->lock_generation = -1;
	return db_pg_pilot_lock(db, err);
}

static int
db_pg_listen(struct db *db)
{
	struct buf ignored = BUF_INIT;
	int ret = 0;

	if (db->listen_generation != db->generation) {
		ret = db_pg_exec(db, "LISTEN orchestra", &ignored);
		if (ret == 0)
			db->listen_generation = db->generation;
	}
	buf_release(&ignored);
	return ret;
}

static int
db_pg_change_fd(struct db *db)
{
	if (PQstatus(db->conn) != CONNECTION_OK || db_pg_listen(db) < 0)
		return -1;
	return PQsocket(db->conn);
}

static bool
db_pg_changed(struct db *db)
{
	PGnotify *n;
	bool changed = false;

	if (PQstatus(db->conn) != CONNECTION_OK || db_pg_listen(db) < 0)
		return true; /* let the cycle find out */
	PQconsumeInput(db->conn);
	while ((n = PQnotifies(db->conn)) != NULL) {
		changed = true;
		PQfreemem(n);
	}
	return changed;
}

/* Owed to the commit (db_pg_commit): a listener hears it then. */
static int
db_pg_notify(struct db *db, struct buf *err)
{
	(void)err;
	db->notify = true;
	return 0;
}

static int
db_pg_check(struct db *db, struct buf *err)
{
	(void)db;
	(void)err;
	return 0;
}

static bool
db_pg_damaged(struct db *db)
{
	(void)db;
	return false;
}

/* The server said disk_full (53100) since the last begin. */
static bool
db_pg_full(struct db *db)
{
	return db->full;
}

const struct db_driver db_postgres = {
	.scheme = "postgresql",
	.alias = "postgres",
	.whole_url = true,
	.pilot_standby = true,
	.open = db_pg_open,
	.close = db_pg_close,
	.exec = db_pg_exec,
	.begin = db_pg_begin,
	.commit = db_pg_commit,
	.jobs_counted = db_pg_jobs_counted,
	.rewrite_ddl = db_pg_rewrite_ddl,
	.prepare = db_pg_prepare,
	.bind_int64 = db_pg_bind_int64,
	.bind_double = db_pg_bind_double,
	.bind_text = db_pg_bind_text,
	.bind_null = db_pg_bind_null,
	.step = db_pg_step,
	.later = db_pg_later,
	.step_all = db_pg_step_all,
	.reset = db_pg_reset,
	.col_is_null = db_pg_col_is_null,
	.col_int64 = db_pg_col_int64,
	.col_double = db_pg_col_double,
	.col_text = db_pg_col_text,
	.changes = db_pg_changes,
	.finalize = db_pg_finalize,
	.pilot_lock = db_pg_pilot_lock,
	.pilot_check = db_pg_pilot_check,
	.change_fd = db_pg_change_fd,
	.changed = db_pg_changed,
	.check = db_pg_check,
	.damaged = db_pg_damaged,
	.full = db_pg_full,
	.notify = db_pg_notify,
	/*
	 * The snapshot a statement would take now (xmin:xmax:in-progress):
	 * the same text means the same rows are visible, since a commit
	 * takes its id out of the in-progress list or past xmax.  The WAL
	 * position would not do: it moves before the commit is visible.
	 */
	.version_sql = "SELECT pg_current_snapshot()::text",
	.table_exists_sql = "SELECT count(*) FROM pg_catalog.pg_class"
	                    " WHERE oid = to_regclass($1)",
};
