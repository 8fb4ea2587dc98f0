/* db: migrations, the refusals that keep a store trustworthy (modes, owner,
 * newer schema, corrupt file), the connection settings, and the SQL helper. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sodium.h>

#include "db.h"
#include "util.h"
#include "unit.h"

struct isms_migration { int version; const char *name; const char *sql; };
extern const struct isms_migration isms_registry_migrations[], isms_state_migrations[];
extern const size_t isms_registry_migrations_count, isms_state_migrations_count;

struct fixture {
	char *dir;
	char *path;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->dir = unit_tmpdir();
	f->path = unit_path(f->dir, "state.db");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	unit_rmtree(f->dir);
	free(f->path);
	free(f);
	return 0;
}

static sqlite3 *raw_open(const char *path)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	return db;
}

static long long raw_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	long long v;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static bool has_table(sqlite3 *db, const char *name)
{
	sqlite3_stmt *st = isms_db_query(db, NULL, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
					 "s", name);
	bool found;

	assert_non_null(st);
	found = isms_db_step(st, NULL) == 1;
	sqlite3_finalize(st);
	return found;
}

static void create_store(struct fixture *f)
{
	struct isms_err err = { 0 };
	sqlite3 *db;

	assert_int_equal(isms_db_open(f->path, ISMS_STATE, ISMS_DB_CREATE, &db, &err), 0);
	isms_db_close(db);
}

static void test_create_applies_every_migration(void **state)
{
	struct fixture *f = *state;
	struct isms_err err = { 0 };
	char *reg_path = unit_path(f->dir, "registry.db");
	struct stat st;
	sqlite3 *db;

	assert_int_equal(isms_db_open(f->path, ISMS_STATE, ISMS_DB_CREATE, &db, &err), 0);
	assert_int_equal(isms_db_user_version(db), isms_db_latest_version(ISMS_STATE));
	assert_true(isms_db_latest_version(ISMS_STATE) >= 1);
	assert_true(has_table(db, "audit_events"));
	isms_db_close(db);

	assert_int_equal(isms_db_open(reg_path, ISMS_REGISTRY, ISMS_DB_CREATE, &db, &err), 0);
	assert_int_equal(isms_db_user_version(db), isms_db_latest_version(ISMS_REGISTRY));
	assert_true(has_table(db, "people"));
	assert_true(has_table(db, "accounts"));
	assert_false(has_table(db, "audit_events"));
	isms_db_close(db);

	/* Created private from the first byte, whatever the umask. */
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	free(reg_path);
}

static void test_empty_file_is_migrated(void **state)
{
	struct fixture *f = *state;
	struct isms_err err = { 0 };
	sqlite3 *db;

	unit_write(f->path, "", 0, 0600);
	assert_int_equal(isms_db_open(f->path, ISMS_STATE, ISMS_DB_MIGRATE, &db, &err), 0);
	assert_int_equal(isms_db_user_version(db), isms_db_latest_version(ISMS_STATE));
	assert_true(has_table(db, "audit_events"));
	isms_db_close(db);
}

static void test_empty_file_without_migrate_is_refused(void **state)
{
	struct fixture *f = *state;
	struct isms_err err = { 0 };
	sqlite3 *db = NULL;

	unit_write(f->path, "", 0, 0600);
	assert_int_equal(isms_db_open(f->path, ISMS_STATE, 0, &db, &err), -EPROTO);
	assert_null(db);
	unit_assert_contains(err.msg, "schema version 0, expected");
	unit_assert_contains(err.msg, "accessctl init");
}

/* Every earlier version, built by applying only the migrations before it, is brought up to date. */
static void migrate_from_each_version(const char *path, enum isms_store kind,
				      const struct isms_migration *m, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		struct isms_err err = { 0 };
		char pragma[64];
		sqlite3 *raw, *db;

		(void)unlink(path);
		raw = raw_open(path);
		for (size_t i = 0; i < k; i++)
			assert_int_equal(sqlite3_exec(raw, m[i].sql, NULL, NULL, NULL), SQLITE_OK);
		(void)snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", k ? m[k - 1].version : 0);
		assert_int_equal(sqlite3_exec(raw, pragma, NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(raw);
		assert_int_equal(chmod(path, 0600), 0);

		assert_int_equal(isms_db_open(path, kind, ISMS_DB_MIGRATE, &db, &err), 0);
		assert_int_equal(isms_db_user_version(db), m[n - 1].version);
		isms_db_close(db);
	}
}

static void test_each_earlier_version_is_migrated(void **state)
{
	struct fixture *f = *state;
	char *reg = unit_path(f->dir, "registry.db");

	migrate_from_each_version(f->path, ISMS_STATE, isms_state_migrations, isms_state_migrations_count);
	migrate_from_each_version(reg, ISMS_REGISTRY, isms_registry_migrations,
				  isms_registry_migrations_count);
	free(reg);
}

/* Registry version 2 keys the stored snapshot by (entryUUID, kind): the rows a
 * version 1 store holds are kept, in their order, and the cookie that would
 * apply changes to a snapshot missing one kind of an entry is dropped. */
static void test_registry_v1_snapshot_is_kept_and_its_cookie_dropped(void **state)
{
	struct fixture *f = *state;
	struct isms_err err = { 0 };
	char *reg = unit_path(f->dir, "registry.db");
	sqlite3 *raw, *db;

	raw = raw_open(reg);
	assert_int_equal(sqlite3_exec(raw, isms_registry_migrations[0].sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(raw, "PRAGMA user_version = 1;"
				      "INSERT INTO ldap_entries (rowid, uuid, kind, dn, data) VALUES"
				      " (7, 'u1', 'account', 'uid=a', '{}'), (3, 'u2', 'group', 'cn=g', '{}');"
				      "INSERT INTO sync_runs (source, started_at, mode, result, cookie)"
				      " VALUES ('ldap://x', 0, 'incremental', 'ok', '{}')",
				      NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(raw);
	assert_int_equal(chmod(reg, 0600), 0);

	assert_int_equal(isms_db_open(reg, ISMS_REGISTRY, ISMS_DB_MIGRATE, &db, &err), 0);
	assert_int_equal(isms_db_user_version(db), isms_db_latest_version(ISMS_REGISTRY));
	assert_int_equal(raw_int(db, "SELECT count(*) FROM ldap_entries WHERE rowid = 7 AND uuid = 'u1'"
				 " AND kind = 'account' AND dn = 'uid=a'"), 1);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM ldap_entries WHERE rowid = 3 AND uuid = 'u2'"
				 " AND kind = 'group'"), 1);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM sync_runs WHERE cookie IS NULL"), 1);
	/* One entry as both kinds; each kind once. */
	assert_int_equal(isms_db_exec(db, &err, "INSERT INTO ldap_entries (uuid, kind, dn, data)"
				      " VALUES ('u1', 'group', 'uid=a', '{}')", NULL), 0);
	assert_int_equal(isms_db_exec(db, &err, "INSERT INTO ldap_entries (uuid, kind, dn, data)"
				      " VALUES ('u1', 'account', 'uid=a', '{}')", NULL), -EEXIST);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM ldap_entries WHERE uuid = 'u1'"), 2);
	isms_db_close(db);
	free(reg);
}

static void test_reopen_at_current_version_changes_nothing(void **state)
{
	struct fixture *f = *state;
	struct isms_err err = { 0 };
	long long schema_before;
	sqlite3 *db;

	create_store(f);
	assert_int_equal(isms_db_open(f->path, ISMS_STATE, 0, &db, &err), 0);
	assert_int_equal(isms_db_exec(db, &err, "INSERT INTO audit_events (seq, time, host, event, result,"
				      " prev_hash, hash) VALUES (1, 0, 'h', 'e', 'ok', x'00', x'00')", NULL), 0);
	schema_before = raw_int(db, "PRAGMA schema_version");
	isms_db_close(db);

	assert_int_equal(isms_db_open(f->path, ISMS_STATE, ISMS_DB_CREATE, &db, &err), 0);
	assert_int_equal(raw_int(db, "PRAGMA schema_version"), schema_before);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM audit_events"), 1);
	assert_int_equal(isms_db_user_version(db), isms_db_latest_version(ISMS_STATE));
	isms_db_close(db);
}

static void test_newer_schema_is_refused(void **state)
{
	struct fixture *f = *state;
	static const unsigned modes[] = { 0, ISMS_DB_READONLY, ISMS_DB_MIGRATE, ISMS_DB_CREATE };
	char pragma[64];
	sqlite3 *raw;

	create_store(f);
	raw = raw_open(f->path);
	(void)snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", isms_db_latest_version(ISMS_STATE) + 1);
	assert_int_equal(sqlite3_exec(raw, pragma, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(raw);

	for (size_t i = 0; i < ISMS_ARRAY_SIZE(modes); i++) {
		struct isms_err err = { 0 };
		sqlite3 *db = NULL;

		assert_int_equal(isms_db_open(f->path, ISMS_STATE, modes[i], &db, &err), -EPROTO);
		assert_null(db);
		unit_assert_contains(err.msg, "newer than this program");
	}
	/* Refusing must not have downgraded it. */
	raw = raw_open(f->path);
	assert_int_equal(raw_int(raw, "PRAGMA user_version"), isms_db_latest_version(ISMS_STATE) + 1);
	sqlite3_close(raw);
}

static void expect_refused(const char *path, const char *want)
{
	static const unsigned modes[] = { 0, ISMS_DB_READONLY, ISMS_DB_CREATE };

	for (size_t i = 0; i < ISMS_ARRAY_SIZE(modes); i++) {
		struct isms_err err = { 0 };
		sqlite3 *db = NULL;

		assert_int_equal(isms_db_open(path, ISMS_STATE, modes[i], &db, &err), -EPERM);
		assert_null(db);
		unit_assert_contains(err.msg, want);
	}
}

static void test_group_or_world_writable_store_is_refused(void **state)
{
	struct fixture *f = *state;

	create_store(f);
	assert_int_equal(chmod(f->path, 0620), 0);
	expect_refused(f->path, "writable by group or other (mode 0620)");
	assert_int_equal(chmod(f->path, 0602), 0);
	expect_refused(f->path, "writable by group or other (mode 0602)");
	assert_int_equal(chmod(f->path, 0644), 0);   /* readable is not the store's concern */
	create_store(f);
}

static void test_group_or_world_writable_directory_is_refused(void **state)
{
	struct fixture *f = *state;

	create_store(f);
	assert_int_equal(chmod(f->dir, 0770), 0);
	expect_refused(f->path, "store directory");
	assert_int_equal(chmod(f->dir, 01777), 0);
	expect_refused(f->path, "fix: chmod go-w");
	assert_int_equal(chmod(f->dir, 0700), 0);
}

static void test_store_not_owned_by_root_is_refused_when_root(void **state)
{
	struct fixture *f = *state;

	if (geteuid() != 0) {
		/* Without root the rule does not apply; an unprivileged owner is fine. */
		create_store(f);
		return;
	}
	create_store(f);
	assert_int_equal(chown(f->path, UNIT_NOBODY, UNIT_NOBODY), 0);
	expect_refused(f->path, "not owned by root");
	assert_int_equal(chown(f->path, 0, 0), 0);
	assert_int_equal(chown(f->dir, UNIT_NOBODY, UNIT_NOBODY), 0);
	expect_refused(f->path, "store directory");
	assert_int_equal(chown(f->dir, 0, 0), 0);
}

static void test_symlinked_store_is_refused(void **state)
{
	struct fixture *f = *state;
	char *real = unit_path(f->dir, "real.db");
	struct isms_err err = { 0 };
	sqlite3 *db = NULL;

	assert_int_equal(isms_db_open(real, ISMS_STATE, ISMS_DB_CREATE, &db, &err), 0);
	isms_db_close(db);
	db = NULL;
	assert_int_equal(symlink(real, f->path), 0);
	assert_int_equal(isms_db_open(f->path, ISMS_STATE, 0, &db, &err), -EPERM);
	assert_null(db);
	unit_assert_contains(err.msg, "not a regular file");
	free(real);
}

static void test_corrupt_file_is_refused(void **state)
{
	struct fixture *f = *state;
	static const unsigned modes[] = { 0, ISMS_DB_READONLY, ISMS_DB_MIGRATE, ISMS_DB_CREATE };
	unsigned char junk[8192];

	randombytes_buf(junk, sizeof(junk));
	unit_write(f->path, junk, sizeof(junk), 0600);
	for (size_t i = 0; i < ISMS_ARRAY_SIZE(modes); i++) {
		struct isms_err err = { 0 };
		sqlite3 *db = NULL;

		assert_int_equal(isms_db_open(f->path, ISMS_STATE, modes[i], &db, &err), -EBADMSG);
		assert_null(db);
		unit_assert_contains(err.msg, f->path);
	}
}

static void test_missing_store_is_refused_unless_created(void **state)
{
	struct fixture *f = *state;
	struct isms_err err = { 0 };
	sqlite3 *db = NULL;

	assert_int_equal(isms_db_open(f->path, ISMS_STATE, 0, &db, &err), -ENOENT);
	assert_int_equal(isms_db_open(f->path, ISMS_STATE, ISMS_DB_READONLY, &db, &err), -ENOENT);
	assert_null(db);
	unit_assert_contains(err.msg, f->path);
	assert_int_equal(access(f->path, F_OK), -1);
}

static void test_connection_uses_wal_foreign_keys_and_busy_timeout(void **state)
{
	struct fixture *f = *state;
	struct isms_err err = { 0 };
	sqlite3_stmt *st;
	sqlite3 *db;

	create_store(f);
	assert_int_equal(isms_db_open(f->path, ISMS_STATE, 0, &db, &err), 0);
	st = isms_db_query(db, &err, "PRAGMA journal_mode", NULL);
	assert_non_null(st);
	assert_int_equal(isms_db_step(st, &err), 1);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	assert_int_equal(raw_int(db, "PRAGMA foreign_keys"), 1);
	assert_true(raw_int(db, "PRAGMA busy_timeout") > 0);
	isms_db_close(db);

	/* The read-only connection used at login keeps foreign keys on as well. */
	assert_int_equal(isms_db_open(f->path, ISMS_STATE, ISMS_DB_READONLY, &db, &err), 0);
	assert_int_equal(raw_int(db, "PRAGMA foreign_keys"), 1);
	assert_int_equal(isms_db_exec(db, &err, "DELETE FROM audit_events", NULL), -EACCES);
	isms_db_close(db);
}

static void test_foreign_keys_are_enforced(void **state)
{
	struct fixture *f = *state;
	struct isms_err err = { 0 };
	sqlite3 *db;

	create_store(f);
	assert_int_equal(isms_db_open(f->path, ISMS_STATE, 0, &db, &err), 0);
	assert_int_equal(isms_db_exec(db, &err, "CREATE TABLE p (id INTEGER PRIMARY KEY)", NULL), 0);
	assert_int_equal(isms_db_exec(db, &err, "CREATE TABLE c (p INTEGER REFERENCES p(id))", NULL), 0);
	assert_int_equal(isms_db_exec(db, &err, "INSERT INTO c VALUES (?)", "i", (int64_t)42), -EEXIST);
	unit_assert_contains(err.msg, "FOREIGN KEY");
	isms_db_close(db);
}

static void test_every_format_char_binds(void **state)
{
	struct fixture *f = *state;
	struct isms_err err = { 0 };
	static const unsigned char blob[] = { 0, 1, 2, 0xff };
	sqlite3_stmt *st;
	sqlite3 *db;
	char *s;

	create_store(f);
	assert_int_equal(isms_db_open(f->path, ISMS_STATE, 0, &db, &err), 0);
	assert_int_equal(isms_db_exec(db, &err, "CREATE TABLE t (k INTEGER PRIMARY KEY, s, i, n, b)", NULL), 0);
	assert_int_equal(isms_db_exec(db, &err, "INSERT INTO t VALUES (1, ?, ?, ?, ?)", "sinb",
				      "it's \"quoted\"; DROP TABLE t", (int64_t)INT64_MAX,
				      blob, sizeof(blob)), 0);
	/* NULL pointers bind SQL NULL for text and blob alike. */
	assert_int_equal(isms_db_exec(db, &err, "INSERT INTO t VALUES (2, ?, ?, ?, ?)", "sinb",
				      (const char *)NULL, (int64_t)-1, (const void *)NULL, (size_t)0), 0);

	st = isms_db_query(db, &err, "SELECT s, i, typeof(n), b, typeof(b) FROM t WHERE k = ?", "i", (int64_t)1);
	assert_non_null(st);
	assert_int_equal(isms_db_step(st, &err), 1);
	s = isms_db_col_strdup(st, 0);
	assert_string_equal(s, "it's \"quoted\"; DROP TABLE t");
	free(s);
	assert_true(sqlite3_column_int64(st, 1) == INT64_MAX);
	assert_string_equal((const char *)sqlite3_column_text(st, 2), "null");
	assert_int_equal(sqlite3_column_bytes(st, 3), sizeof(blob));
	assert_memory_equal(sqlite3_column_blob(st, 3), blob, sizeof(blob));
	assert_string_equal((const char *)sqlite3_column_text(st, 4), "blob");
	assert_int_equal(isms_db_step(st, &err), 0);
	sqlite3_finalize(st);

	st = isms_db_query(db, &err, "SELECT s, i, typeof(b) FROM t WHERE k = 2", "");
	assert_non_null(st);
	assert_int_equal(isms_db_step(st, &err), 1);
	assert_null(isms_db_col_strdup(st, 0));
	assert_true(sqlite3_column_int64(st, 1) == -1);
	assert_string_equal((const char *)sqlite3_column_text(st, 2), "null");
	sqlite3_finalize(st);
	isms_db_close(db);
}

static void test_bad_sql_and_bad_format_are_errors(void **state)
{
	struct fixture *f = *state;
	struct isms_err err = { 0 };
	sqlite3 *db;

	create_store(f);
	assert_int_equal(isms_db_open(f->path, ISMS_STATE, 0, &db, &err), 0);
	assert_null(isms_db_query(db, &err, "SELEC nonsense", NULL));
	assert_true(err.code < 0);
	unit_assert_contains(err.msg, "prepare");
	isms_err_clear(&err);
	assert_null(isms_db_query(db, &err, "SELECT ?", "x", 1));
	unit_assert_contains(err.msg, "bind");
	isms_err_clear(&err);
	/* More arguments described than placeholders: refused, not silently ignored. */
	assert_null(isms_db_query(db, &err, "SELECT ?", "ss", "a", "b"));
	assert_true(err.code < 0);
	assert_int_equal(isms_db_exec(db, NULL, "SELEC", NULL), -EIO);
	isms_db_close(db);
}

static void test_constraint_violation_is_eexist(void **state)
{
	struct fixture *f = *state;
	struct isms_err err = { 0 };
	sqlite3 *db;

	create_store(f);
	assert_int_equal(isms_db_open(f->path, ISMS_STATE, 0, &db, &err), 0);
	assert_int_equal(isms_db_exec(db, &err, "CREATE TABLE u (name TEXT UNIQUE)", NULL), 0);
	assert_int_equal(isms_db_exec(db, &err, "INSERT INTO u VALUES (?)", "s", "alice"), 0);
	assert_int_equal(isms_db_exec(db, &err, "INSERT INTO u VALUES (?)", "s", "alice"), -EEXIST);
	unit_assert_contains(err.msg, "UNIQUE");
	isms_db_close(db);
}

static void test_count_returns_the_first_value_or_an_error(void **state)
{
	struct fixture *f = *state;
	struct isms_err err = { 0 };
	sqlite3 *db;

	create_store(f);
	assert_int_equal(isms_db_open(f->path, ISMS_STATE, 0, &db, &err), 0);
	assert_int_equal(isms_db_exec(db, &err, "CREATE TABLE t (k TEXT)", NULL), 0);
	assert_true(isms_db_count(db, &err, "SELECT count(*) FROM t", NULL) == 0);
	assert_int_equal(isms_db_exec(db, &err, "INSERT INTO t VALUES ('a'), ('b'), ('b')", NULL), 0);
	assert_true(isms_db_count(db, &err, "SELECT count(*) FROM t", NULL) == 3);
	assert_true(isms_db_count(db, &err, "SELECT count(*) FROM t WHERE k = ?", "s", "b") == 2);
	assert_true(isms_db_count(db, &err, "SELECT count(*) FROM t WHERE k = ?", "s", "z") == 0);
	assert_true(isms_db_count(db, &err, "SELECT count(*) FROM nosuchtable", NULL) < 0);
	unit_assert_contains(err.msg, "nosuchtable");
	isms_db_close(db);
}

static void test_rollback_undoes_and_commit_keeps(void **state)
{
	struct fixture *f = *state;
	struct isms_err err = { 0 };
	sqlite3 *db;

	create_store(f);
	assert_int_equal(isms_db_open(f->path, ISMS_STATE, 0, &db, &err), 0);
	assert_int_equal(isms_db_exec(db, &err, "CREATE TABLE t (v)", NULL), 0);
	assert_int_equal(isms_db_begin(db, &err), 0);
	assert_int_equal(isms_db_exec(db, &err, "INSERT INTO t VALUES (1)", NULL), 0);
	isms_db_rollback(db);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM t"), 0);
	assert_int_equal(isms_db_begin(db, &err), 0);
	assert_int_equal(isms_db_exec(db, &err, "INSERT INTO t VALUES (1)", NULL), 0);
	assert_int_equal(isms_db_commit(db, &err), 0);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM t"), 1);
	isms_db_rollback(db);   /* no transaction open: harmless */
	isms_db_rollback(NULL);
	isms_db_close(db);
	isms_db_close(NULL);
}

static void test_locked_store_is_ebusy(void **state)
{
	struct fixture *f = *state;
	struct isms_err err = { 0 };
	sqlite3 *a, *b;

	create_store(f);
	assert_int_equal(isms_db_open(f->path, ISMS_STATE, 0, &a, &err), 0);
	assert_int_equal(isms_db_open(f->path, ISMS_STATE, 0, &b, &err), 0);
	(void)sqlite3_busy_timeout(b, 0);   /* the test must not wait out the real timeout */
	assert_int_equal(isms_db_begin(a, &err), 0);
	assert_int_equal(isms_db_begin(b, &err), -EBUSY);
	assert_int_equal(isms_db_commit(a, &err), 0);
	assert_int_equal(isms_db_begin(b, &err), 0);
	assert_int_equal(isms_db_commit(b, &err), 0);
	isms_db_close(a);
	isms_db_close(b);
}

static void test_integrity_check_passes_on_a_new_store(void **state)
{
	struct fixture *f = *state;
	struct isms_err err = { 0 };
	sqlite3 *db;

	create_store(f);
	assert_int_equal(isms_db_open(f->path, ISMS_STATE, ISMS_DB_READONLY, &db, &err), 0);
	assert_int_equal(isms_db_integrity(db, &err), 0);
	isms_db_close(db);
}

static void test_errno_mapping(void **state)
{
	(void)state;
	assert_int_equal(isms_db_errno(SQLITE_OK), 0);
	assert_int_equal(isms_db_errno(SQLITE_DONE), 0);
	assert_int_equal(isms_db_errno(SQLITE_BUSY), -EBUSY);
	assert_int_equal(isms_db_errno(SQLITE_LOCKED), -EBUSY);
	assert_int_equal(isms_db_errno(SQLITE_CONSTRAINT_UNIQUE), -EEXIST);
	assert_int_equal(isms_db_errno(SQLITE_READONLY), -EACCES);
	assert_int_equal(isms_db_errno(SQLITE_NOTADB), -EBADMSG);
	assert_int_equal(isms_db_errno(SQLITE_CORRUPT), -EBADMSG);
	assert_int_equal(isms_db_errno(SQLITE_CANTOPEN), -ENOENT);
	assert_int_equal(isms_db_errno(SQLITE_FULL), -ENOSPC);
	assert_int_equal(isms_db_errno(SQLITE_ERROR), -EIO);
	assert_string_equal(isms_store_name(ISMS_REGISTRY), "registry");
	assert_string_equal(isms_store_name(ISMS_STATE), "state");
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_create_applies_every_migration),
		T(test_empty_file_is_migrated),
		T(test_empty_file_without_migrate_is_refused),
		T(test_each_earlier_version_is_migrated),
		T(test_registry_v1_snapshot_is_kept_and_its_cookie_dropped),
		T(test_reopen_at_current_version_changes_nothing),
		T(test_newer_schema_is_refused),
		T(test_group_or_world_writable_store_is_refused),
		T(test_group_or_world_writable_directory_is_refused),
		T(test_store_not_owned_by_root_is_refused_when_root),
		T(test_symlinked_store_is_refused),
		T(test_corrupt_file_is_refused),
		T(test_missing_store_is_refused_unless_created),
		T(test_connection_uses_wal_foreign_keys_and_busy_timeout),
		T(test_foreign_keys_are_enforced),
		T(test_every_format_char_binds),
		T(test_bad_sql_and_bad_format_are_errors),
		T(test_constraint_violation_is_eexist),
		T(test_count_returns_the_first_value_or_an_error),
		T(test_rollback_undoes_and_commit_keeps),
		T(test_locked_store_is_ebusy),
		T(test_integrity_check_passes_on_a_new_store),
		cmocka_unit_test(test_errno_mapping),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
