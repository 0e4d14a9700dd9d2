/*
 * store-account.c - users ("account": `user` is reserved in SQL).
 */
#include "store/store-int.h"

static const char sql_account_insert[] =
    "INSERT INTO account (username, email, max_priority, role, created_ms,"
    " mail, unix_user) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
static const char sql_account_get[] =
    "SELECT id, username, email, max_priority, role, created_ms, mail,"
    " unix_user, hold FROM account WHERE username = $1";
static const char sql_account_list[] =
    "SELECT id, username, email, max_priority, role, created_ms, mail,"
    " unix_user, hold FROM account WHERE username > $1 ORDER BY username"
    " LIMIT $2";
static const char sql_account_get_id[] =
    "SELECT id, username, email, max_priority, role, created_ms, mail,"
    " unix_user, hold FROM account WHERE id = $1";
static const char sql_account_held[] =
    "SELECT id, username, email, max_priority, role, created_ms, mail,"
    " unix_user, hold FROM account WHERE hold IS NOT NULL ORDER BY id";
/* Changes a row only when the hold changes. */
static const char sql_account_set_hold[] =
    "UPDATE account SET hold = $2 WHERE id = $1"
    " AND hold IS DISTINCT FROM $2";
static const char sql_account_update[] =
    "UPDATE account SET email = $2, max_priority = $3, role = $4, mail = $5,"
    " unix_user = $6 WHERE id = $1";

void
store_account_read(struct store *st, struct db_stmt *stmt, int first,
    struct account *a)
{
	a->id = st->drv->col_int64(stmt, first);
	a->username = store_col_strdup(st, stmt, first + 1);
	a->email = store_col_strdup(st, stmt, first + 2);
	a->max_priority = st->drv->col_int64(stmt, first + 3);
	a->role = store_col_strdup(st, stmt, first + 4);
	a->created_ms = st->drv->col_int64(stmt, first + 5);
	a->mail_off = st->drv->col_int64(stmt, first + 6) == 0;
	a->unix_user = store_col_strdup(st, stmt, first + 7);
	a->hold = store_col_strdup(st, stmt, first + 8);
}

int
store_account_insert(struct store *st, struct account *a, struct buf *err)
{
	struct db_stmt *stmt = NULL;
	int ret;

	ret = store_query(st, &stmt, sql_account_insert, err, "ssisiis",
	    a->username, a->email ? a->email : "", a->max_priority,
	    a->role ? a->role : "user", a->created_ms, (int64_t)!a->mail_off,
	    a->unix_user ? a->unix_user : a->username);
	if (ret < 0)
		goto out;
	ret = store_step(st, stmt, err);
	if (ret == ERR_CONFLICT) {
		err_set(err, ret, "user '%s' already exists", a->username);
		goto out;
	}
	if (ret != DB_ROW)
		goto out;
	a->id = st->drv->col_int64(stmt, 0);
	ret = store_step_done(st, stmt, err);
out:
	st->drv->finalize(stmt);
	return ret;
}

int
store_account_get(struct store *st, const char *username, struct account *out,
    struct buf *err)
{
	struct db_stmt *stmt = NULL;
	int ret;

	ret = store_query(st, &stmt, sql_account_get, err, "s", username);
	if (ret < 0)
		goto out;
	ret = store_step(st, stmt, err);
	if (ret == DB_DONE)
		ret = err_set(err, ERR_NOTFOUND, "no user '%s'", username);
	if (ret != DB_ROW)
		goto out;
	store_account_read(st, stmt, 0, out);
	ret = 0;
out:
	st->drv->finalize(stmt);
	return ret;
}

int
store_account_list(struct store *st, const char *after, int64_t limit,
    account_vec *out, struct buf *err)
{
	struct db_stmt *stmt = NULL;
	int ret;

	/* Every name sorts after "": the first page. */
	ret = store_query(st, &stmt, sql_account_list, err, "si",
	    after != NULL ? after : "", limit > 0 ? limit : INT64_MAX);
	if (ret < 0)
		goto out;
	while ((ret = store_step(st, stmt, err)) == DB_ROW)
		store_account_read(st, stmt, 0, VEC_ADD(out));
out:
	st->drv->finalize(stmt);
	return ret;
}

int
store_account_update(struct store *st, const struct account *a, struct buf *err)
{
	return store_exec(st, sql_account_update, err, NULL, "isisis", a->id,
	    a->email, a->max_priority, a->role, (int64_t)!a->mail_off,
	    a->unix_user);
}

static const char sql_account_set_password[] =
    "UPDATE account SET password = $2 WHERE id = $1";
static const char sql_account_password[] =
    "SELECT password FROM account WHERE id = $1";

int
store_account_set_password(struct store *st, int64_t id, const char *hash,
    struct buf *err)
{
	return store_exec(st, sql_account_set_password, err, NULL, "is", id,
	    hash);
}

int
store_account_password(struct store *st, int64_t id, char **out,
    struct buf *err)
{
	struct db_stmt *stmt = NULL;
	int ret;

	*out = NULL;
	ret = store_query(st, &stmt, sql_account_password, err, "i", id);
	if (ret < 0)
		goto out;
	ret = store_step(st, stmt, err);
	if (ret == DB_DONE)
		ret = err_set(err, ERR_NOTFOUND, "no user with id %lld",
		    (long long)id);
	if (ret != DB_ROW)
		goto out;
	*out = store_col_strdup(st, stmt, 0);
	ret = 0;
out:
	st->drv->finalize(stmt);
	return ret;
}

int
store_account_get_id(struct store *st, int64_t id, struct account *out,
    struct buf *err)
{
	struct db_stmt *stmt = NULL;
	int ret;

	ret = store_query(st, &stmt, sql_account_get_id, err, "i", id);
	if (ret < 0)
		goto out;
	ret = store_step(st, stmt, err);
	if (ret == DB_DONE)
		ret = err_set(err, ERR_NOTFOUND, "no user with id %lld",
		    (long long)id);
	if (ret != DB_ROW)
		goto out;
	store_account_read(st, stmt, 0, out);
	ret = 0;
out:
	st->drv->finalize(stmt);
	return ret;
}

int
store_account_held(struct store *st, account_vec *out, struct buf *err)
{
	struct db_stmt *stmt = NULL;
	int ret;

	ret = store_prepare(st, &stmt, sql_account_held, err);
	if (ret < 0)
		goto out;
	while ((ret = store_step(st, stmt, err)) == DB_ROW)
		store_account_read(st, stmt, 0, VEC_ADD(out));
out:
	st->drv->finalize(stmt);
	return ret;
}

int
store_account_set_hold(struct store *st, int64_t id, const char *why,
    bool *changed, struct buf *err)
{
	struct event ev = { .kind = "account" };
	int64_t n = 0;
	int ret;

	*changed = false;
	ret = store_exec(st, sql_account_set_hold, err, &n, "is", id, why);
	if (ret < 0 || n == 0)
		return ret;
	*changed = true;
	ev.account_id = id;
	ev.new_status = why != NULL ? "held" : "released";
	ev.detail = why;
	return store_event_add(st, &ev, err);
}
