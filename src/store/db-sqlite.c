/*
 * db-sqlite.c - the SQLite driver: WAL, a busy timeout, foreign keys, and
 * PostgreSQL's $N parameters rewritten to SQLite's ?N.
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/db.h"

/*
 * Statements kept prepared, by their SQL: the pilot's transactions run
 * the same few dozen statements (the store's SQL constants) again and
 * again, and parsing each anew was a good part of the time they held the
 * write lock (measured in docs/internals/pilot.md).  The least recently
 * used one gives way when all are taken.
 */
#define DB_SQLITE_CACHE 48

struct db {
	sqlite3 *h;
	char *path;
	struct db_stmt *cache[DB_SQLITE_CACHE];
	uint64_t tick;         /* for the cache's least recently used */
	int lock_fd;           /* the pilot's lock descriptor, or -1 */
	int watch_fd;          /* change_fd()'s inotify descriptor, or -1 */
	bool locked;           /* the pilot's lock is ours */
	bool damaged;          /* SQLite said the file is malformed */
	bool full;             /* the last error was for want of space */
	int64_t data_version;  /* for changed() */
	int64_t notify_seq;    /* for changed(): table notify_seq's n */
	int64_t begin_changes; /* sqlite3_total_changes64() at BEGIN */
};

struct db_stmt {
	struct db *db;
	sqlite3_stmt *h;
	int bind_rc; /* first failed bind, reported by step */
	int64_t changes;
	char *sql;     /* cached: the SQL as given; NULL if not cached */
	bool busy;     /* cached: handed out, not yet finalized */
	uint64_t used; /* cached: db->tick when last handed out */
};

/* How long a writer waits for another process's transaction. */
#define DB_SQLITE_BUSY_MS 10000

/*
 * Why the file cannot be written, when it cannot ("Read-only file
 * system", "Permission denied"), else NULL.
 */
static const char *
db_sqlite_why_readonly(struct db *db)
{
	if (sqlite3_db_readonly(db->h, "main") != 1)
		return NULL;
	if (access(db->path, W_OK) < 0)
		return strerror(errno);
	return "opened read-only";
}

static int
db_sqlite_error(struct db *db, int rc, struct buf *err)
{
	int ext = sqlite3_extended_errcode(db->h);
	const char *msg = sqlite3_errmsg(db->h);
	const char *why;
	int sys;

	if (ext == SQLITE_CONSTRAINT_UNIQUE ||
	    ext == SQLITE_CONSTRAINT_PRIMARYKEY)
		return err_set(err, ERR_CONFLICT, "database: %s", msg);
	if (ext == SQLITE_CONSTRAINT_CHECK ||
	    ext == SQLITE_CONSTRAINT_NOTNULL ||
	    ext == SQLITE_CONSTRAINT_FOREIGNKEY)
		return err_set(err, ERR_INVALID, "database: %s", msg);
	if (rc == SQLITE_MISUSE)
		BUG("sqlite misuse: %s", msg);
	sys = sqlite3_system_errno(db->h);
	/* Until the next BEGIN: the ROLLBACK that follows may fail too. */
	if ((ext & 0xff) == SQLITE_FULL ||
	    ((ext & 0xff) == SQLITE_IOERR && sys == ENOSPC))
		db->full = true;
	/* Sticky: the pilot stops rather than writing on it (pilot.c). */
	if ((ext & 0xff) == SQLITE_CORRUPT || (ext & 0xff) == SQLITE_NOTADB)
		db->damaged = true;
	/*
	 * SQLite says "unable to open database file" or "disk I/O error"
	 * whatever the cause; name it: the errno of the system call that
	 * failed, or why the file is read-only.
	 */
	if ((ext & 0xff) != SQLITE_CANTOPEN && (ext & 0xff) != SQLITE_IOERR &&
	    (ext & 0xff) != SQLITE_READONLY)
		return err_set(err, ERR_UNAVAILABLE, "database: %s", msg);
	why = db_sqlite_why_readonly(db);
	if (why == NULL && sys != 0 && (ext & 0xff) != SQLITE_READONLY)
		why = strerror(sys);
	if (why == NULL)
		return err_set(err, ERR_UNAVAILABLE, "database: %s", msg);
	return err_set(err, ERR_UNAVAILABLE, "database: %s: %s", msg, why);
}

static int
db_sqlite_open(struct db **out, const char *target, bool create,
    struct buf *err)
{
	static const char pragmas[] = "PRAGMA foreign_keys = ON;"
	                              "PRAGMA synchronous = NORMAL;";
	struct db *db;
	struct stat sb;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
	int rc;

	*out = NULL;
	if (!create && stat(target, &sb) < 0)
		return err_set(err, ERR_NOTFOUND,
		    "no database at '%s': run 'orchestra init' first", target);
	if (create)
		flags |= SQLITE_OPEN_CREATE;
	db = xcalloc(1, sizeof(*db));
	db->path = xstrdup(target);
	db->lock_fd = -1;
	db->watch_fd = -1;
	db->data_version = -1;
	db->notify_seq = -1;
	rc = sqlite3_open_v2(target, &db->h, flags, NULL);
	if (rc != SQLITE_OK) {
		err_set(err, ERR_UNAVAILABLE,
		    "cannot open database '%s': %s%s%s", target,
		    db->h ? sqlite3_errmsg(db->h) : "out of memory",
		    db->h && sqlite3_system_errno(db->h) ? ": " : "",
		    db->h && sqlite3_system_errno(db->h)
		        ? strerror(sqlite3_system_errno(db->h))
		        : "");
		sqlite3_close(db->h);
		free(db->path);
		free(db);
		return ERR_UNAVAILABLE;
	}
	sqlite3_extended_result_codes(db->h, 1);
	sqlite3_busy_timeout(db->h, DB_SQLITE_BUSY_MS);
	if (sqlite3_exec(db->h, pragmas, NULL, NULL, NULL) != SQLITE_OK) {
		rc = db_sqlite_error(db, rc, err);
		sqlite3_close(db->h);
		free(db->path);
		free(db);
		return rc;
	}
	/* WAL is a property of the file: set once, when it is created. */
	if (create &&
	    sqlite3_exec(db->h, "PRAGMA journal_mode = WAL", NULL, NULL,
	        NULL) != SQLITE_OK) {
		rc = db_sqlite_error(db, rc, err);
		sqlite3_close(db->h);
		free(db->path);
		free(db);
		return rc;
	}
	*out = db;
	return 0;
}

static void
db_sqlite_stmt_free(struct db_stmt *st)
{
	sqlite3_finalize(st->h);
	free(st->sql);
	free(st);
}

static void
db_sqlite_close(struct db *db)
{
	size_t i;

	if (db == NULL)
		return;
	for (i = 0; i < DB_SQLITE_CACHE; i++) {
		if (db->cache[i] == NULL)
			continue;
		if (db->cache[i]->busy)
			BUG("statement not finalized at close: %s",
			    db->cache[i]->sql);
		db_sqlite_stmt_free(db->cache[i]);
	}
	sqlite3_close(db->h);
	if (db->lock_fd >= 0)
		close(db->lock_fd);
	if (db->watch_fd >= 0)
		close(db->watch_fd);
	free(db->path);
	free(db);
}

static int
db_sqlite_exec(struct db *db, const char *sql, struct buf *err)
{
	int rc = sqlite3_exec(db->h, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		return db_sqlite_error(db, rc, err);
	return 0;
}

static int
db_sqlite_begin(struct db *db, struct buf *err)
{
	db->begin_changes = sqlite3_total_changes64(db->h);
	db->full = false;
	return db_sqlite_exec(db, "BEGIN IMMEDIATE", err);
}

static int
db_sqlite_commit(struct db *db, struct buf *err)
{
	return db_sqlite_exec(db, "COMMIT", err);
}

static void
db_sqlite_rewrite_ddl(const char *sql, struct buf *out)
{
	db_replace_marker(sql, "@ID@", "INTEGER PRIMARY KEY", out);
}

/*
 * SQLite numbers "$N" parameters by first appearance, not by N, so
 * "SELECT $2, $1" would bind $2 as 1.  Rewrite them to "?N" outside quoted
 * strings and identifiers.
 */
static void
db_sqlite_rewrite_params(const char *sql, struct buf *out)
{
	const char *p = sql, *dollar;
	char quote = 0;

	while ((dollar = db_next_param(p, &quote)) != NULL) {
		buf_add(out, p, (size_t)(dollar - p));
		buf_addch(out, '?');
		p = dollar + 1;
	}
	buf_adds(out, p);
}

/* A cached statement of `sql` that is free, or NULL. */
static struct db_stmt *
db_sqlite_cache_get(struct db *db, const char *sql)
{
	struct db_stmt *st;
	size_t i;

	for (i = 0; i < DB_SQLITE_CACHE; i++) {
		st = db->cache[i];
		if (st != NULL && !st->busy && strcmp(st->sql, sql) == 0) {
			st->busy = true;
			st->used = ++db->tick;
			return st;
		}
	}
	return NULL;
}

/* Keep `st` in the cache: in a free place, else in that of the least
 * recently used statement not handed out; else not at all. */
static void
db_sqlite_cache_put(struct db *db, struct db_stmt *st, const char *sql)
{
	struct db_stmt *victim = NULL;
	size_t i, at = DB_SQLITE_CACHE;

	for (i = 0; i < DB_SQLITE_CACHE; i++) {
		if (db->cache[i] == NULL) {
			at = i;
			victim = NULL;
			break;
		}
		if (!db->cache[i]->busy &&
		    (victim == NULL || db->cache[i]->used < victim->used)) {
			victim = db->cache[i];
			at = i;
		}
	}
	if (at == DB_SQLITE_CACHE)
		return;
	if (victim != NULL)
		db_sqlite_stmt_free(victim);
	st->sql = xstrdup(sql);
	st->busy = true;
	st->used = ++db->tick;
	db->cache[at] = st;
}

static int
db_sqlite_prepare(struct db *db, struct db_stmt **out, const char *sql,
    struct buf *err)
{
	struct buf rewritten = BUF_INIT;
	sqlite3_stmt *h = NULL;
	int rc;

	*out = db_sqlite_cache_get(db, sql);
	if (*out != NULL)
		return 0;
	db_sqlite_rewrite_params(sql, &rewritten);
	rc = sqlite3_prepare_v3(db->h, rewritten.data, -1,
	    SQLITE_PREPARE_PERSISTENT, &h, NULL);
	buf_release(&rewritten);
	if (rc != SQLITE_OK) {
		rc = db_sqlite_error(db, rc, err);
		sqlite3_finalize(h);
		return rc;
	}
	*out = xcalloc(1, sizeof(**out));
	(*out)->db = db;
	(*out)->h = h;
	db_sqlite_cache_put(db, *out, sql);
	return 0;
}

static void
db_sqlite_bind_rc(struct db_stmt *st, int rc)
{
	if (rc != SQLITE_OK && st->bind_rc == SQLITE_OK)
		st->bind_rc = rc;
}

static void
db_sqlite_bind_int64(struct db_stmt *st, int i, int64_t v)
{
	db_sqlite_bind_rc(st, sqlite3_bind_int64(st->h, i, v));
}

static void
db_sqlite_bind_double(struct db_stmt *st, int i, double v)
{
	db_sqlite_bind_rc(st, sqlite3_bind_double(st->h, i, v));
}

static void
db_sqlite_bind_text(struct db_stmt *st, int i, const char *v)
{
	if (v == NULL)
		db_sqlite_bind_rc(st, sqlite3_bind_null(st->h, i));
	else
		db_sqlite_bind_rc(st,
		    sqlite3_bind_text(st->h, i, v, -1, SQLITE_TRANSIENT));
}

static void
db_sqlite_bind_null(struct db_stmt *st, int i)
{
	db_sqlite_bind_rc(st, sqlite3_bind_null(st->h, i));
}

static int
db_sqlite_step(struct db_stmt *st, struct buf *err)
{
	int rc;

	if (st->bind_rc != SQLITE_OK)
		return err_set(err, ERR_UNAVAILABLE, "database: bind: %s",
		    sqlite3_errstr(st->bind_rc));
	rc = sqlite3_step(st->h);
	if (rc == SQLITE_ROW)
		return DB_ROW;
	if (rc == SQLITE_DONE) {
		st->changes = sqlite3_changes64(st->db->h);
		return DB_DONE;
	}
	return db_sqlite_error(st->db, rc, err);
}

static void
db_sqlite_reset(struct db_stmt *st)
{
	sqlite3_reset(st->h);
}

static bool
db_sqlite_col_is_null(struct db_stmt *st, int i)
{
	return sqlite3_column_type(st->h, i) == SQLITE_NULL;
}

static int64_t
db_sqlite_col_int64(struct db_stmt *st, int i)
{
	return sqlite3_column_int64(st->h, i);
}

static double
db_sqlite_col_double(struct db_stmt *st, int i)
{
	return sqlite3_column_double(st->h, i);
}

static const char *
db_sqlite_col_text(struct db_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st->h, i);
}

static int64_t
db_sqlite_changes(struct db_stmt *st)
{
	return st->changes;
}

/* A cached statement is reset for its next use, the others freed. */
static void
db_sqlite_finalize(struct db_stmt *st)
{
	if (st == NULL)
		return;
	if (st->sql == NULL) {
		db_sqlite_stmt_free(st);
		return;
	}
	sqlite3_reset(st->h);
	sqlite3_clear_bindings(st->h);
	st->bind_rc = SQLITE_OK;
	st->changes = 0;
	st->busy = false;
}

/*
 * One pilot per database file, whatever path reaches it (a symlink, a
 * hard link, a bind mount, another ORCHESTRA_HOME): the lock is held on
 * the database file itself, so it follows the file's identity (device and
 * inode), not the name it was opened by.
 *
 * What SQLite locks, and why this cannot disturb it: its unix VFS takes
 * POSIX record locks on the database file only in the bytes from
 * 0x40000000 (PENDING_BYTE, RESERVED_BYTE, the 510-byte SHARED range),
 * and in WAL mode on a few bytes of the -shm file.  Ours is one byte at
 * 2^62, far past them, so it never conflicts with any connection's lock.
 *
 * An open file description lock (F_OFD_SETLK), not a classic POSIX
 * record lock: a POSIX lock belongs to the process and the inode, so the
 * close of any descriptor of the file -- SQLite's own, when a connection
 * of this process closes -- would silently drop it.  An OFD lock lives as
 * long as our descriptor: it is opened close-on-exec, and a forked
 * supervisor closes it (closefrom), so no one but the pilot holds it.
 * The descriptor stays open until the connection is closed, even when the
 * lock was refused: closing it would drop this process's POSIX locks on
 * the file, SQLite's included.
 *
 * An OFD lock does not tell who holds it, so the pilot also takes a
 * classic POSIX read lock on the next byte, whose holder's pid F_GETLK
 * reports to a second pilot.  It only names the pilot in the message: if
 * it were dropped, exclusion would still hold.
 */
#define DB_SQLITE_PILOT_BYTE ((off_t)1 << 62)

static int
db_sqlite_pilot_lock(struct db *db, struct buf *err)
{
	struct flock fl = { .l_type = F_WRLCK,
		.l_whence = SEEK_SET,
		.l_start = DB_SQLITE_PILOT_BYTE,
		.l_len = 1 };
	struct flock who = { .l_type = F_WRLCK,
		.l_whence = SEEK_SET,
		.l_start = DB_SQLITE_PILOT_BYTE + 1,
		.l_len = 1 };

	if (db->locked)
		return 0;
	if (db->lock_fd < 0)
		db->lock_fd = open(db->path, O_RDWR | O_CLOEXEC);
	if (db->lock_fd < 0)
		return err_set(err, ERR_UNAVAILABLE, "cannot open '%s': %s",
		    db->path, strerror(errno));
	if (fcntl(db->lock_fd, F_OFD_SETLK, &fl) < 0) {
		if (errno != EAGAIN && errno != EACCES)
			return err_set(err, ERR_UNAVAILABLE,
			    "cannot lock '%s': %s", db->path, strerror(errno));
		if (fcntl(db->lock_fd, F_GETLK, &who) < 0 ||
		    who.l_type == F_UNLCK || who.l_pid <= 0)
			who.l_pid = 0;
		return err_set(err, ERR_CONFLICT,
		    "another pilot (pid %ld) is running on '%s'",
		    (long)who.l_pid, db->path);
	}
	db->locked = true;
	who.l_type = F_RDLCK;
	if (fcntl(db->lock_fd, F_SETLK, &who) < 0)
		log_warn("cannot take the pilot's pid lock on '%s': %s",
		    db->path, strerror(errno));
	return 0;
}

static int
db_sqlite_pilot_check(struct db *db, struct buf *err)
{
	(void)err;
	return db->locked ? 0 : ERR_CONFLICT;
}

/*
 * NOTIFY's stand-in: move notify_seq in the transaction, when it changed
 * rows (a unit of work that only read wakes no one).
 */
static int
db_sqlite_notify(struct db *db, struct buf *err)
{
	if (sqlite3_total_changes64(db->h) == db->begin_changes)
		return 0;
	return db_sqlite_exec(db,
	    "UPDATE notify_seq SET n = n + 1 WHERE id = 1", err);
}

/*
 * A commit of another connection appends to the write-ahead log
 * (<path>-wal, beside the database): a watch on the directory for
 * modifications wakes the pilot at once, with no polling.  Our own
 * commits and other files' changes wake it too; changed() tells them
 * apart.  -1 when the watch cannot be set (then the pilot polls).
 */
static int
db_sqlite_change_fd(struct db *db)
{
	struct buf dir = BUF_INIT;
	const char *slash;

	if (db->watch_fd >= 0)
		return db->watch_fd;
	slash = strrchr(db->path, '/');
	if (slash == NULL)
		buf_adds(&dir, ".");
	else if (slash == db->path)
		buf_adds(&dir, "/");
	else
		buf_add(&dir, db->path, (size_t)(slash - db->path));
	db->watch_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (db->watch_fd >= 0 &&
	    inotify_add_watch(db->watch_fd, dir.data, IN_MODIFY) < 0) {
		close(db->watch_fd);
		db->watch_fd = -1;
	}
	buf_release(&dir);
	return db->watch_fd;
}

/* Empty the watch's queue: changed() looks at the database itself. */
static void
db_sqlite_watch_drain(struct db *db)
{
	char chunk[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));

	if (db->watch_fd < 0)
		return;
	while (read(db->watch_fd, chunk, sizeof(chunk)) > 0)
		;
}

/* One integer from `sql`, or -1. */
static int64_t
db_sqlite_int(struct db *db, const char *sql)
{
	sqlite3_stmt *h = NULL;
	int64_t v = -1;

	if (sqlite3_prepare_v2(db->h, sql, -1, &h, NULL) == SQLITE_OK &&
	    sqlite3_step(h) == SQLITE_ROW)
		v = sqlite3_column_int64(h, 0);
	sqlite3_finalize(h);
	return v;
}

/*
 * PRAGMA data_version moves when another connection commits; then
 * notify_seq tells whether one of those commits was a service write.
 */
static bool
db_sqlite_changed(struct db *db)
{
	int64_t v, n;

	db_sqlite_watch_drain(db);
	v = db_sqlite_int(db, "PRAGMA data_version");

	if (v == db->data_version && v >= 0)
		return false;
	db->data_version = v;
	n = db_sqlite_int(db, "SELECT n FROM notify_seq WHERE id = 1");
	if (n == db->notify_seq && n >= 0)
		return false;
	db->notify_seq = n;
	return true;
}

static int
db_sqlite_check(struct db *db, struct buf *err)
{
	sqlite3_stmt *h = NULL;
	const char *row;
	int rc, ret = 0;

	rc = sqlite3_prepare_v2(db->h, "PRAGMA quick_check(1)", -1, &h, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(h);
	if (rc != SQLITE_ROW) {
		ret = db_sqlite_error(db, rc, err);
		goto out;
	}
	row = (const char *)sqlite3_column_text(h, 0);
	if (row == NULL || strcmp(row, "ok") != 0) {
		db->damaged = true;
		if (row == NULL)
			row = "no answer from quick_check";
		/* One line: "*** in database main ***\nPage 12: ..." */
		if (strncmp(row, "*** ", 4) == 0 && strchr(row, '\n') != NULL)
			row = strchr(row, '\n') + 1;
		ret = err_set(err, ERR_UNAVAILABLE,
		    "database '%s' is malformed (%.*s)", db->path,
		    (int)strcspn(row, "\n"), row);
	}
out:
	sqlite3_finalize(h);
	return ret;
}

static bool
db_sqlite_damaged(struct db *db)
{
	return db->damaged;
}

static bool
db_sqlite_full(struct db *db)
{
	return db->full;
}

const struct db_driver db_sqlite = {
	.scheme = "sqlite",
	.open = db_sqlite_open,
	.close = db_sqlite_close,
	.exec = db_sqlite_exec,
	.begin = db_sqlite_begin,
	.commit = db_sqlite_commit,
	.rewrite_ddl = db_sqlite_rewrite_ddl,
	.prepare = db_sqlite_prepare,
	.bind_int64 = db_sqlite_bind_int64,
	.bind_double = db_sqlite_bind_double,
	.bind_text = db_sqlite_bind_text,
	.bind_null = db_sqlite_bind_null,
	.step = db_sqlite_step,
	.reset = db_sqlite_reset,
	.col_is_null = db_sqlite_col_is_null,
	.col_int64 = db_sqlite_col_int64,
	.col_double = db_sqlite_col_double,
	.col_text = db_sqlite_col_text,
	.changes = db_sqlite_changes,
	.finalize = db_sqlite_finalize,
	.pilot_lock = db_sqlite_pilot_lock,
	.pilot_check = db_sqlite_pilot_check,
	.notify = db_sqlite_notify,
	.change_fd = db_sqlite_change_fd,
	.changed = db_sqlite_changed,
	.check = db_sqlite_check,
	.damaged = db_sqlite_damaged,
	.full = db_sqlite_full,
	/*
	 * Moves whenever another connection commits (this one only reads
	 * it: see store_data_version).
	 */
	.version_sql = "PRAGMA data_version",
	.table_exists_sql = "SELECT count(*) FROM sqlite_master"
	                    " WHERE type = 'table' AND name = $1",
};
