/*
 * store-session.c - the dashboard's sessions: a hash of each cookie's
 * secret, its owner, the token it was made from, when it was last used.
 */
#include "store/store-int.h"

static const char sql_session_insert[] =
    "INSERT INTO session (account_id, token_id, hash, created_ms,"
    " last_used_ms) VALUES ($1, $2, $3, $4, $4)";
/* The token's times in the same read: a session ends with its token. */
static const char sql_session_get[] =
    "SELECT s.id, s.account_id, a.username, s.created_ms, s.last_used_ms,"
    " s.token_id, k.revoked_ms, k.expires_ms"
    " FROM session s JOIN account a ON a.id = s.account_id"
    " LEFT JOIN token k ON k.id = s.token_id"
    " WHERE s.hash = $1";
static const char sql_session_touch[] =
    "UPDATE session SET last_used_ms = $2 WHERE id = $1";
static const char sql_session_delete[] = "DELETE FROM session WHERE hash = $1";
static const char sql_session_expire[] =
    "DELETE FROM session WHERE last_used_ms < $1";
static const char sql_session_end_token[] =
    "DELETE FROM session WHERE token_id = $1";
static const char sql_session_end_account[] =
    "DELETE FROM session WHERE account_id = $1";
static const char sql_session_end_passwords[] =
    "DELETE FROM session WHERE account_id = $1 AND token_id IS NULL";

void
session_release(struct session *s)
{
	free(s->username);
	memset(s, 0, sizeof(*s));
}

int
store_session_insert(struct store *st, int64_t account_id, int64_t token_id,
    const char *hash, int64_t now_ms, struct buf *err)
{
	return store_exec(st, sql_session_insert, err, NULL, "iIsi", account_id,
	    token_id > 0 ? token_id : 0, hash, now_ms);
}

int
store_session_get(struct store *st, const char *hash, struct session *out,
    struct buf *err)
{
	struct db_stmt *stmt = NULL;
	int ret;

	ret = store_query(st, &stmt, sql_session_get, err, "s", hash);
	if (ret < 0)
		goto out;
	ret = store_step(st, stmt, err);
	/* Never echo a hash: it names a secret. */
	if (ret == DB_DONE)
		ret = err_set(err, ERR_NOTFOUND, "no such session");
	if (ret != DB_ROW)
		goto out;
	out->id = st->drv->col_int64(stmt, 0);
	out->account_id = st->drv->col_int64(stmt, 1);
	out->username = store_col_strdup(st, stmt, 2);
	out->created_ms = st->drv->col_int64(stmt, 3);
	out->last_used_ms = st->drv->col_int64(stmt, 4);
	out->token_id = store_col_int64_or(st, stmt, 5, 0);
	out->token_revoked_ms = store_col_int64_or(st, stmt, 6, 0);
	out->token_expires_ms = store_col_int64_or(st, stmt, 7, 0);
	ret = 0;
out:
	st->drv->finalize(stmt);
	return ret;
}

int
store_session_touch(struct store *st, int64_t id, int64_t now_ms,
    struct buf *err)
{
	return store_exec(st, sql_session_touch, err, NULL, "ii", id, now_ms);
}

int
store_session_delete(struct store *st, const char *hash, struct buf *err)
{
	return store_exec(st, sql_session_delete, err, NULL, "s", hash);
}

int
store_session_expire(struct store *st, int64_t before_ms, struct buf *err)
{
	return store_exec(st, sql_session_expire, err, NULL, "i", before_ms);
}

int
store_session_end_token(struct store *st, int64_t token_id, int64_t *n,
    struct buf *err)
{
	return store_exec(st, sql_session_end_token, err, n, "i", token_id);
}

int
store_session_end_account(struct store *st, int64_t account_id,
    bool passwords_only, int64_t *n, struct buf *err)
{
	const char *sql = sql_session_end_account;

	if (passwords_only)
		sql = sql_session_end_passwords;
	return store_exec(st, sql, err, n, "i", account_id);
}
