/*
 * store-token.c - API tokens: a hash of each secret, its owner, its times.
 */
#include "store/store-int.h"

#define TOKEN_COLUMNS                                                          \
	"k.id, k.account_id, a.username, k.hash, k.created_ms, k.expires_ms,"  \
	" k.last_used_ms, k.revoked_ms"
/* How many columns TOKEN_COLUMNS are (store_token_read reads them). */
#define TOKEN_NCOLUMNS 8

static const char sql_token_insert[] =
    "INSERT INTO token (account_id, hash, created_ms, expires_ms)"
    " VALUES ($1, $2, $3, $4) RETURNING id";
static const char sql_token_list[] =
    "SELECT " TOKEN_COLUMNS " FROM token k JOIN account a"
    " ON a.id = k.account_id WHERE k.account_id = $1 AND k.id > $2"
    " ORDER BY k.id LIMIT $3";
/* With its owner's account, as store_account_read() reads it. */
#define TOKEN_ACCOUNT_COLUMNS                                                  \
	TOKEN_COLUMNS ", a.id, a.username, a.email, a.max_priority, a.role,"   \
	              " a.created_ms, a.mail, a.unix_user, a.hold"
static const char sql_token_get_id[] =
    "SELECT " TOKEN_ACCOUNT_COLUMNS " FROM token k JOIN account a"
    " ON a.id = k.account_id WHERE k.id = $1";
static const char sql_token_get_hash[] =
    "SELECT " TOKEN_ACCOUNT_COLUMNS " FROM token k JOIN account a"
    " ON a.id = k.account_id WHERE k.hash = $1";
static const char sql_token_revoke[] =
    "UPDATE token SET revoked_ms = $2 WHERE id = $1";
static const char sql_token_revoke_all[] =
    "UPDATE token SET revoked_ms = $2"
    " WHERE account_id = $1 AND revoked_ms IS NULL";
static const char sql_token_touch[] =
    "UPDATE token SET last_used_ms = $2 WHERE id = $1";

static void
store_token_read(struct store *st, struct db_stmt *stmt, struct token *t)
{
	t->id = st->drv->col_int64(stmt, 0);
	t->account_id = st->drv->col_int64(stmt, 1);
	t->username = store_col_strdup(st, stmt, 2);
	t->hash = store_col_strdup(st, stmt, 3);
	t->created_ms = st->drv->col_int64(stmt, 4);
	t->expires_ms = store_col_int64_or(st, stmt, 5, 0);
	t->last_used_ms = store_col_int64_or(st, stmt, 6, 0);
	t->revoked_ms = store_col_int64_or(st, stmt, 7, 0);
}

int
store_token_insert(struct store *st, struct token *t, struct buf *err)
{
	struct db_stmt *stmt = NULL;
	int ret;

	ret = store_query(st, &stmt, sql_token_insert, err, "isiI",
	    t->account_id, t->hash, t->created_ms, t->expires_ms);
	if (ret < 0)
		goto out;
	ret = store_step(st, stmt, err);
	if (ret != DB_ROW)
		goto out;
	t->id = st->drv->col_int64(stmt, 0);
	ret = store_step_done(st, stmt, err);
out:
	st->drv->finalize(stmt);
	return ret;
}

int
store_token_list(struct store *st, int64_t account_id, int64_t after_id,
    int64_t limit, token_vec *out, struct buf *err)
{
	struct db_stmt *stmt = NULL;
	int ret;

	ret = store_query(st, &stmt, sql_token_list, err, "iii", account_id,
	    after_id, limit > 0 ? limit : INT64_MAX);
	if (ret < 0)
		goto out;
	while ((ret = store_step(st, stmt, err)) == DB_ROW)
		store_token_read(st, stmt, VEC_ADD(out));
out:
	st->drv->finalize(stmt);
	return ret;
}

int
store_token_get(struct store *st, int64_t id, const char *hash,
    struct token *out, struct account *owner, struct buf *err)
{
	struct db_stmt *stmt = NULL;
	int ret;

	if (hash != NULL)
		ret =
		    store_query(st, &stmt, sql_token_get_hash, err, "s", hash);
	else
		ret = store_query(st, &stmt, sql_token_get_id, err, "i", id);
	if (ret < 0)
		goto out;
	ret = store_step(st, stmt, err);
	/* Never echo a hash: it names a secret. */
	if (ret == DB_DONE && hash != NULL)
		ret = err_set(err, ERR_NOTFOUND, "no such token");
	else if (ret == DB_DONE)
		ret =
		    err_set(err, ERR_NOTFOUND, "no token %lld", (long long)id);
	if (ret != DB_ROW)
		goto out;
	store_token_read(st, stmt, out);
	if (owner != NULL)
		store_account_read(st, stmt, TOKEN_NCOLUMNS, owner);
	ret = 0;
out:
	st->drv->finalize(stmt);
	return ret;
}

int
store_token_revoke(struct store *st, int64_t id, int64_t now_ms,
    struct buf *err)
{
	return store_exec(st, sql_token_revoke, err, NULL, "ii", id, now_ms);
}

int
store_token_revoke_all(struct store *st, int64_t account_id, int64_t now_ms,
    int64_t *n, struct buf *err)
{
	return store_exec(st, sql_token_revoke_all, err, n, "ii", account_id,
	    now_ms);
}

int
store_token_touch(struct store *st, int64_t id, int64_t now_ms, struct buf *err)
{
	return store_exec(st, sql_token_touch, err, NULL, "ii", id, now_ms);
}
