/*
 * migrate.c - numbered migrations, one transaction each.
 *
 * schema_version holds one row per applied migration.  Opening a database
 * whose schema is current writes nothing; one newer than this program is
 * refused rather than misread.
 */
#include "store/store-int.h"

static const char sql_create_version[] =
    "CREATE TABLE IF NOT EXISTS schema_version ("
    " version BIGINT PRIMARY KEY, name TEXT NOT NULL,"
    " applied_ms BIGINT NOT NULL)";
static const char sql_max_version[] =
    "SELECT coalesce(max(version), 0) FROM schema_version";
static const char sql_has_version_table[] =
    "SELECT count(*) FROM schema_version";
static const char sql_insert_version[] =
    "INSERT INTO schema_version (version, name, applied_ms)"
    " VALUES ($1, $2, $3)";

int
store_schema_version(struct store *st, int64_t *version, struct buf *err)
{
	struct db_stmt *stmt = NULL;
	int ret = -1;

	ret = store_prepare(st, &stmt, sql_max_version, err);
	if (ret < 0)
		goto out;
	ret = store_step(st, stmt, err);
	if (ret != DB_ROW)
		goto out;
	*version = st->drv->col_int64(stmt, 0);
	ret = 0;
out:
	st->drv->finalize(stmt);
	return ret;
}

static int
migrate_apply(struct store *st, const struct store_migration *m,
    struct buf *err)
{
	struct buf sql = BUF_INIT;
	struct db_stmt *stmt = NULL;
	int ret;

	ret = store_begin(st, err);
	if (ret < 0)
		return ret;
	st->drv->rewrite_ddl(m->sql, &sql);
	ret = st->drv->exec(st->db, sql.data, err);
	if (ret < 0) {
		buf_addf(err, " (migration %s)", m->name);
		goto out;
	}
	ret = store_prepare(st, &stmt, sql_insert_version, err);
	if (ret < 0)
		goto out;
	st->drv->bind_int64(stmt, 1, m->version);
	st->drv->bind_text(stmt, 2, m->name);
	st->drv->bind_int64(stmt, 3, time_now_ms());
	ret = store_step_done(st, stmt, err);
	if (ret < 0)
		goto out;
	ret = store_commit(st, err);
out:
	st->drv->finalize(stmt);
	if (ret < 0)
		store_rollback(st);
	buf_release(&sql);
	return ret;
}

int
store_migrate(struct store *st, struct buf *err)
{
	struct db_stmt *stmt = NULL;
	struct buf ignored = BUF_INIT;
	int64_t version = 0;
	size_t i;
	int ret;

	/* A current schema is only read: probe before creating anything. */
	ret = store_prepare(st, &stmt, sql_has_version_table, &ignored);
	st->drv->finalize(stmt);
	buf_release(&ignored);
	if (ret < 0) {
		ret = st->drv->exec(st->db, sql_create_version, err);
		if (ret < 0)
			return ret;
	}
	ret = store_schema_version(st, &version, err);
	if (ret < 0)
		return ret;
	if (store_nmigrations > 0 &&
	    version > store_migrations[store_nmigrations - 1].version)
		return err_set(err, ERR_INVALID,
		    "database schema version %lld is newer than this "
		    "orchestra (%lld): upgrade orchestra",
		    (long long)version,
		    (long long)store_migrations[store_nmigrations - 1].version);
	for (i = 0; i < store_nmigrations; i++) {
		if (store_migrations[i].version <= version)
			continue;
		if (store_migrations[i].scheme != NULL &&
		    strcmp(store_migrations[i].scheme, st->drv->scheme) != 0)
			continue;
		ret = migrate_apply(st, &store_migrations[i], err);
		if (ret < 0)
			return ret;
	}
	return 0;
}
