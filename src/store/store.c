/*
 * store.c - opening a database by URL, transactions, and the step wrapper
 * every query goes through.
 */
#include <stdarg.h>

#include "store/store-int.h"

static const struct db_driver *const store_drivers[] = {
	&db_sqlite,
	&db_postgres,
};

/* Does `url` start with "scheme:"?  Returns what follows, or NULL. */
static const char *
store_scheme_rest(const char *url, const char *scheme)
{
	size_t n;

	if (scheme == NULL)
		return NULL;
	n = strlen(scheme);
	if (strncmp(url, scheme, n) == 0 && url[n] == ':')
		return url + n + 1;
	return NULL;
}

/* Pick the driver by scheme; a URL with no known scheme is an SQLite path. */
static const struct db_driver *
store_pick_driver(const char *url, const char **target)
{
	const struct db_driver *d;
	const char *rest;
	size_t i;

	for (i = 0; i < sizeof(store_drivers) / sizeof(store_drivers[0]); i++) {
		d = store_drivers[i];
		rest = store_scheme_rest(url, d->scheme);
		if (rest == NULL)
			rest = store_scheme_rest(url, d->alias);
		if (rest == NULL)
			continue;
		*target =
		    d->whole_url && strncmp(rest, "//", 2) == 0 ? url : rest;
		return d;
	}
	*target = url;
	return &db_sqlite;
}

char *
store_url_file(const char *url)
{
	const char *target;

	if (store_pick_driver(url, &target) != &db_sqlite)
		return NULL;
	return xstrdup(target);
}

int
store_open(struct store **out, const char *url, bool create, struct buf *err)
{
	struct store *st;
	const char *target, *fail;
	int64_t n;
	int ret;

	*out = NULL;
	st = xcalloc(1, sizeof(*st));
	st->drv = store_pick_driver(url, &target);
	st->fail_after = -1;
	fail = getenv("ORCHESTRA_TEST_STORE_FAIL_AFTER");
	if (fail != NULL && util_parse_int64(fail, 0, INT64_MAX, &n) == 0)
		st->fail_after = n;
	/*
	 * A test knob: the close logs how many statements the process
	 * prepared, so that a test can check a response's statements do not
	 * grow with what it holds.
	 */
	st->log_prepares = getenv("ORCHESTRA_TEST_STORE_COUNT") != NULL;
	ret = st->drv->open(&st->db, target, create, err);
	if (ret < 0)
		goto fail;
	ret = store_migrate(st, create, err);
	if (ret == ERR_NOTFOUND) {
		/* An empty file, or a database init never made. */
		buf_reset(err);
		buf_adds(err, "no orchestra database in '");
		if (st->drv == &db_sqlite)
			buf_adds(err, target);
		else
			util_redact_url(err, url);
		buf_adds(err, "': run 'orchestra init' first");
	}
	if (ret < 0)
		goto fail;
	*out = st;
	return 0;
fail:
	store_close(st);
	return ret;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	if (st->in_tx)
		store_rollback(st);
	if (st->log_prepares)
		log_info("store closed statements=%lld",
		    (long long)st->prepares);
	st->drv->close(st->db);
	VEC_RELEASE(&st->ahead);
	store_owed_clear(st);
	VEC_RELEASE(&st->node_owed);
	free(st);
}

int
store_begin(struct store *st, struct buf *err)
{
	int ret;

	if (st->in_tx)
		BUG("store_begin inside a transaction");
	ret = st->drv->begin(st->db, err);
	if (ret == 0)
		st->in_tx = true;
	st->tx_marked = 0;
	st->ahead.n = 0;
	store_owed_clear(st);
	return ret;
}

int
store_commit(struct store *st, struct buf *err)
{
	int ret;

	if (!st->in_tx)
		BUG("store_commit outside a transaction");
	ret = store_owed_flush(st, err);
	if (ret == 0)
		ret = st->drv->commit(st->db, err);
	if (ret < 0) {
		store_rollback(st);
		return ret;
	}
	st->in_tx = false;
	st->ahead.n = 0;
	return 0;
}

void
store_rollback(struct store *st)
{
	struct buf ignored = BUF_INIT;

	if (!st->in_tx)
		return;
	st->drv->exec(st->db, "ROLLBACK", &ignored);
	buf_release(&ignored);
	st->in_tx = false;
	st->ahead.n = 0;
	store_owed_clear(st);
}

int
store_end(struct store *st, int ret, struct buf *err)
{
	if (ret < 0) {
		store_rollback(st);
		return ret;
	}
	return store_commit(st, err);
}

int
store_pilot_lock(struct store *st, struct buf *err)
{
	return st->drv->pilot_lock(st->db, err);
}

int
store_pilot_check(struct store *st, struct buf *err)
{
	return st->drv->pilot_check(st->db, err);
}

bool
store_pilot_standby(struct store *st)
{
	return st->drv->pilot_standby;
}

int
store_notify(struct store *st, struct buf *err)
{
	return st->drv->notify(st->db, err);
}

int
store_change_fd(struct store *st)
{
	return st->drv->change_fd(st->db);
}

bool
store_changed(struct store *st)
{
	return st->drv->changed(st->db);
}

int
store_check(struct store *st, struct buf *err)
{
	return st->drv->check(st->db, err);
}

bool
store_damaged(struct store *st)
{
	return st->drv->damaged(st->db);
}

bool
store_full(struct store *st)
{
	return st->drv->full(st->db);
}

int
store_data_version(struct store *st, struct buf *out, struct buf *err)
{
	struct db_stmt *stmt = NULL;
	const char *v;
	int ret;

	ret = store_prepare(st, &stmt, st->drv->version_sql, err);
	if (ret < 0)
		goto out;
	ret = store_step(st, stmt, err);
	if (ret != DB_ROW) {
		if (ret >= 0)
			ret = err_set(err, ERR_UNAVAILABLE,
			    "the database gave no version");
		goto out;
	}
	v = st->drv->col_text(stmt, 0);
	buf_reset(out);
	buf_adds(out, v != NULL ? v : "");
	ret = 0;
out:
	st->drv->finalize(stmt);
	return ret;
}

int
store_prepare(struct store *st, struct db_stmt **out, const char *sql,
    struct buf *err)
{
	st->prepares++;
	return st->drv->prepare(st->db, out, sql, err);
}

/* Bind the parameters of `fmt` (store-int.h) from `ap`, from $1 on. */
static void
store_bindv(struct store *st, struct db_stmt *stmt, const char *fmt, va_list ap)
{
	int64_t v;
	int i;

	for (i = 0; fmt[i] != '\0'; i++) {
		switch (fmt[i]) {
		case 'i':
			st->drv->bind_int64(stmt, i + 1, va_arg(ap, int64_t));
			break;
		case 'I':
			v = va_arg(ap, int64_t);
			if (v != 0)
				st->drv->bind_int64(stmt, i + 1, v);
			else
				st->drv->bind_null(stmt, i + 1);
			break;
		case 'n':
			v = va_arg(ap, int64_t);
			if (v >= 0)
				st->drv->bind_int64(stmt, i + 1, v);
			else
				st->drv->bind_null(stmt, i + 1);
			break;
		case 'd':
			st->drv->bind_double(stmt, i + 1, va_arg(ap, double));
			break;
		case 's':
			st->drv->bind_text(stmt, i + 1,
			    va_arg(ap, const char *));
			break;
		default:
			BUG("bind format '%c'", fmt[i]);
		}
	}
}

int
store_queryf(struct store *st, struct db_stmt **out, const char *sql,
    struct buf *err, const char *fmt, ...)
{
	va_list ap;
	int ret;

	ret = store_prepare(st, out, sql, err);
	if (ret < 0)
		return ret;
	va_start(ap, fmt);
	store_bindv(st, *out, fmt, ap);
	va_end(ap);
	return 0;
}

/* store_execf() and store_laterf(): prepare, bind, step now or later. */
static int
store_execv(struct store *st, const char *sql, struct buf *err,
    int64_t *changes, bool later, const char *fmt, va_list ap)
{
	struct db_stmt *stmt = NULL;
	int ret;

	ret = store_prepare(st, &stmt, sql, err);
	if (ret < 0)
		return ret;
	store_bindv(st, stmt, fmt, ap);
	ret = later ? store_step_later(st, stmt, err)
	            : store_step_done(st, stmt, err);
	if (ret == 0 && changes != NULL)
		*changes = st->drv->changes(stmt);
	st->drv->finalize(stmt);
	return ret;
}

int
store_execf(struct store *st, const char *sql, struct buf *err,
    int64_t *changes, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = store_execv(st, sql, err, changes, false, fmt, ap);
	va_end(ap);
	return ret;
}

/* Count a statement; an injected fault when its turn has come. */
static int
store_count_step(struct store *st, struct buf *err)
{
	st->steps++;
	if (st->fail_after >= 0 && st->steps > st->fail_after)
		return err_set(err, ERR_UNAVAILABLE,
		    "database: injected store fault at statement %lld",
		    (long long)st->steps);
	return 0;
}

int
store_laterf(struct store *st, const char *sql, struct buf *err,
    const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = store_execv(st, sql, err, NULL, true, fmt, ap);
	va_end(ap);
	return ret;
}

int
store_step_all(struct store *st, struct db_stmt *const *stmts, size_t n,
    struct buf *err)
{
	return st->drv->step_all != NULL ? st->drv->step_all(stmts, n, err)
	                                 : 0;
}

int
store_step_later(struct store *st, struct db_stmt *stmt, struct buf *err)
{
	int ret = store_count_step(st, err);

	if (ret == 0)
		ret = st->drv->later != NULL ? st->drv->later(stmt, err)
		                             : st->drv->step(stmt, err);
	if (ret == DB_ROW)
		BUG("statement returned a row where none was expected");
	return ret;
}

int
store_step(struct store *st, struct db_stmt *stmt, struct buf *err)
{
	int ret = store_count_step(st, err);

	return ret < 0 ? ret : st->drv->step(stmt, err);
}

int
store_step_done(struct store *st, struct db_stmt *stmt, struct buf *err)
{
	int rc = store_step(st, stmt, err);

	if (rc == DB_ROW)
		BUG("statement returned a row where none was expected");
	return rc;
}

char *
store_col_strdup(struct store *st, struct db_stmt *stmt, int i)
{
	const char *s = st->drv->col_text(stmt, i);

	return s == NULL ? NULL : xstrdup(s);
}

int64_t
store_col_int64_or(struct store *st, struct db_stmt *stmt, int i, int64_t dflt)
{
	if (st->drv->col_is_null(stmt, i))
		return dflt;
	return st->drv->col_int64(stmt, i);
}

int
store_number(struct store *st, int ret, struct db_stmt *stmt, int64_t none,
    int64_t *n, struct buf *err)
{
	*n = none;
	if (ret >= 0)
		ret = store_step(st, stmt, err);
	if (ret == DB_ROW)
		*n = store_col_int64_or(st, stmt, 0, none);
	st->drv->finalize(stmt);
	return ret < 0 ? ret : 0;
}
