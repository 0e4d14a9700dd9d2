/*
 * migrate.c - numbered migrations, one transaction each.
 *
 * schema_version holds one row per applied migration.  Opening a database
 * whose schema is current writes nothing; one newer than this program is
 * refused rather than misread; one with no schema_version table (an empty
 * file, a new PostgreSQL database, someone else's) is refused unless the
 * caller creates (init).  The pending migrations run in one transaction,
 * with the schema_version table when it is new.
 */
#include "store/store-int.h"

static const char sql_create_version[] =
    "CREATE TABLE IF NOT EXISTS schema_version ("
    " version BIGINT PRIMARY KEY, name TEXT NOT NULL,"
    " applied_ms BIGINT NOT NULL)";
static const char sql_max_version[] =
    "SELECT coalesce(max(version), 0) FROM schema_version";
static const char sql_insert_version[] =
    "INSERT INTO schema_version (version, name, applied_ms)"
    " VALUES ($1, $2, $3)";

int
store_schema_version(struct store *st, int64_t *version, struct buf *err)
{
	struct db_stmt *stmt = NULL;
	int ret;

	ret = store_prepare(st, &stmt, sql_max_version, err);
	return store_number(st, ret, stmt, 0, version, err);
}

/* Apply one migration inside the caller's transaction. */
static int
migrate_apply(struct store *st, const struct store_migration *m,
    struct buf *err)
{
	struct buf sql = BUF_INIT;
	int ret;

	st->drv->rewrite_ddl(m->sql, &sql);
	ret = st->drv->exec(st->db, sql.data, err);
	if (ret < 0) {
		buf_addf(err, " (migration %s)", m->name);
		goto out;
	}
	ret = store_exec(st, sql_insert_version, err, NULL, "isi", m->version,
	    m->name, time_now_ms());
out:
	buf_release(&sql);
	return ret;
}

/* Is there a schema_version table?  Reads only; 0 or ERR_*. */
static int
migrate_has_version_table(struct store *st, bool *has, struct buf *err)
{
	struct db_stmt *stmt = NULL;
	int ret;

	ret = store_query(st, &stmt, st->drv->table_exists_sql, err, "s",
	    "schema_version");
	if (ret < 0)
		goto out;
	ret = store_step(st, stmt, err);
	if (ret != DB_ROW) {
		if (ret >= 0)
			ret = err_set(err, ERR_UNAVAILABLE,
			    "the database said nothing of its tables");
		goto out;
	}
	*has = st->drv->col_int64(stmt, 0) > 0;
	ret = 0;
out:
	st->drv->finalize(stmt);
	return ret;
}

/* Is some migration for this driver newer than `version`? */
static bool
migrate_pending(struct store *st, int64_t version)
{
	size_t i;

	for (i = 0; i < store_nmigrations; i++)
		if (store_migrations[i].version > version &&
		    (store_migrations[i].scheme == NULL ||
		        strcmp(store_migrations[i].scheme, st->drv->scheme) ==
		            0))
			return true;
	return false;
}

/*
 * Every pending migration, and the schema_version table itself when it
 * is new, in one transaction: a migration that fails leaves the database
 * as it was found.
 */
static int
migrate_all(struct store *st, bool has_table, struct buf *err)
{
	int64_t version = 0;
	size_t i;
	int ret;

	ret = store_begin(st, err);
	if (ret < 0)
		return ret;
	if (!has_table)
		ret = st->drv->exec(st->db, sql_create_version, err);
	/* Again, in the transaction: another process may have migrated. */
	if (ret == 0)
		ret = store_schema_version(st, &version, err);
	for (i = 0; ret == 0 && i < store_nmigrations; i++) {
		if (store_migrations[i].version <= version)
			continue;
		if (store_migrations[i].scheme != NULL &&
		    strcmp(store_migrations[i].scheme, st->drv->scheme) != 0)
			continue;
		ret = migrate_apply(st, &store_migrations[i], err);
	}
	return store_end(st, ret, err);
}

int
store_migrate(struct store *st, bool create, struct buf *err)
{
	struct buf first = BUF_INIT;
	int64_t version = 0;
	bool has_table = true;
	int ret;

	/*
	 * A current schema is only read: its version first, one statement
	 * (every command opens the store: on PostgreSQL a round trip saved
	 * on each); where that fails, the probe says whether the table is
	 * there at all, before anything is created.
	 */
	ret = store_schema_version(st, &version, &first);
	buf_release(&first);
	if (ret < 0) {
		version = 0;
		ret = migrate_has_version_table(st, &has_table, err);
		if (ret < 0)
			return ret;
		if (!has_table && !create)
			return err_set(err, ERR_NOTFOUND, "no orchestra schema");
		if (has_table) {
			ret = store_schema_version(st, &version, err);
			if (ret < 0)
				return ret;
		}
	}
	if (store_nmigrations > 0 &&
	    version > store_migrations[store_nmigrations - 1].version)
		return err_set(err, ERR_INVALID,
		    "database schema version %lld is newer than this "
		    "orchestra (%lld): upgrade orchestra",
		    (long long)version,
		    (long long)store_migrations[store_nmigrations - 1].version);
	if (has_table && !migrate_pending(st, version))
		return 0;
	return migrate_all(st, has_table, err);
}
