/* The two sqlite stores: safe opening, embedded migrations, and the one
 * helper for binding and running statements. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "util.h"

struct isms_migration { int version; const char *name; const char *sql; };
extern const struct isms_migration isms_registry_migrations[], isms_state_migrations[];
extern const size_t isms_registry_migrations_count, isms_state_migrations_count;

#define BUSY_TIMEOUT_MS 5000
#define LOGIN_CHECKPOINT_FRAMES 64

const char *isms_store_name(enum isms_store kind)
{
	return kind == ISMS_REGISTRY ? "registry" : "state";
}

static const struct isms_migration *migrations(enum isms_store kind, size_t *ret_n)
{
	if (kind == ISMS_REGISTRY) {
		*ret_n = isms_registry_migrations_count;
		return isms_registry_migrations;
	}
	*ret_n = isms_state_migrations_count;
	return isms_state_migrations;
}

int isms_db_latest_version(enum isms_store kind)
{
	size_t n;
	const struct isms_migration *m = migrations(kind, &n);

	return n ? m[n - 1].version : 0;
}

int isms_db_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_CANTOPEN:
		return -ENOENT;
	case SQLITE_CONSTRAINT:
		return -EEXIST;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return -EBADMSG;
	case SQLITE_FULL:
		return -ENOSPC;
	default:
		return -EIO;
	}
}

/* After a login's commit: once the WAL holds a few dozen frames, copy them
 * into the database and truncate the WAL, so the next process has little to
 * read back. Skipped (without waiting) while another login holds the store:
 * a later one does it. */
static int login_wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	(void)arg;
	if (frames >= LOGIN_CHECKPOINT_FRAMES) {
		(void)sqlite3_busy_timeout(db, 0);
		(void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
		(void)sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
	}
	return SQLITE_OK;
}

static int db_fail(sqlite3 *db, struct isms_err *err, int rc, const char *what)
{
	return isms_err_set(err, isms_db_errno(rc) ? isms_db_errno(rc) : -EIO, "%s: %s", what,
			    db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

int isms_db_user_version(sqlite3 *db)
{
	sqlite3_stmt *st;
	int v = -1;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

int isms_db_begin(sqlite3 *db, struct isms_err *err)
{
	int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : db_fail(db, err, rc, "begin transaction");
}

int isms_db_commit(sqlite3 *db, struct isms_err *err)
{
	int rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : db_fail(db, err, rc, "commit");
}

void isms_db_rollback(sqlite3 *db)
{
	if (db && !sqlite3_get_autocommit(db))
		(void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

int isms_db_migrate(sqlite3 *db, enum isms_store kind, struct isms_err *err)
{
	size_t n;
	const struct isms_migration *m = migrations(kind, &n);
	int cur, r;

	r = isms_db_begin(db, err);
	if (r < 0)
		return r;
	cur = isms_db_user_version(db);
	if (cur < 0) {
		r = isms_err_set(err, -EBADMSG, "%s store: cannot read schema version", isms_store_name(kind));
		goto fail;
	}
	if (cur > isms_db_latest_version(kind)) {
		r = isms_err_set(err, -EPROTO, "%s store has schema version %d, newer than this program (%d)",
				 isms_store_name(kind), cur, isms_db_latest_version(kind));
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		char pragma[64];
		char *msg = NULL;
		int rc;

		if (m[i].version <= cur)
			continue;
		rc = sqlite3_exec(db, m[i].sql, NULL, NULL, &msg);
		if (rc != SQLITE_OK) {
			r = isms_err_set(err, isms_db_errno(rc), "%s store: migration %s failed: %s",
					 isms_store_name(kind), m[i].name, msg ? msg : sqlite3_errstr(rc));
			sqlite3_free(msg);
			goto fail;
		}
		(void)snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", m[i].version);
		rc = sqlite3_exec(db, pragma, NULL, NULL, NULL);
		if (rc != SQLITE_OK) {
			r = db_fail(db, err, rc, "set schema version");
			goto fail;
		}
	}
	return isms_db_commit(db, err);
fail:
	isms_db_rollback(db);
	return r;
}

/* The directory holding a store and the store itself guard every login. */
static int db_check_perms(const char *path, bool must_exist, struct isms_err *err)
{
	char *copy = strdup(path);
	int r;

	if (!copy)
		return isms_err_set(err, -ENOMEM, "out of memory");
	r = isms_check_guard(dirname(copy), "store directory", true, err);
	free(copy);
	if (r < 0)
		return r;
	if (!must_exist && access(path, F_OK) < 0 && errno == ENOENT)
		return 0;
	return isms_check_guard(path, "store", false, err);
}

int isms_db_open(const char *path, enum isms_store kind, unsigned flags,
		 sqlite3 **ret, struct isms_err *err)
{
	bool ro = flags & ISMS_DB_READONLY;
	bool create = flags & ISMS_DB_CREATE;
	sqlite3 *db = NULL;
	int rc, r, ver;

	r = db_check_perms(path, !create, err);
	if (r < 0)
		return r;
	if (create) {
		/* sqlite creates with 0644 minus umask; make it 0600 before anything is in it. */
		int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

		if (fd < 0)
			return isms_err_set(err, -errno, "%s store %s: %s", isms_store_name(kind), path,
					    strerror(errno));
		close(fd);
	}
	rc = sqlite3_open_v2(path, &db,
			     (ro ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) |
			     SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		r = isms_err_set(err, isms_db_errno(rc), "%s store %s: %s", isms_store_name(kind), path,
				 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		goto fail;
	}
	(void)sqlite3_extended_result_codes(db, 1);
	(void)sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
	if (flags & ISMS_DB_LOGIN) {
		/* A login opens and closes the stores every time. Closing must not
		 * checkpoint (two fsyncs) or unlink the WAL, and the WAL must stay short,
		 * because the first open in each new process reads all of it back. */
		int persist = 1;

		(void)sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
		(void)sqlite3_file_control(db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
		if (!ro)
			(void)sqlite3_wal_hook(db, login_wal_hook, NULL);
	}
	rc = sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
	if (rc == SQLITE_OK && !ro)
		rc = sqlite3_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL",
				  NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		r = isms_err_set(err, isms_db_errno(rc), "%s store %s: %s", isms_store_name(kind), path,
				 sqlite3_errmsg(db));
		goto fail;
	}
	if (create || (flags & ISMS_DB_MIGRATE)) {
		r = isms_db_migrate(db, kind, err);
		if (r < 0)
			goto fail;
	}
	ver = isms_db_user_version(db);
	if (ver > isms_db_latest_version(kind)) {
		/* "run init" would be the wrong advice: init must never downgrade a store. */
		r = isms_err_set(err, -EPROTO,
				 "%s store %s has schema version %d, newer than this program (%d); "
				 "install the matching pam_isms version",
				 isms_store_name(kind), path, ver, isms_db_latest_version(kind));
		goto fail;
	}
	if (ver != isms_db_latest_version(kind)) {
		r = isms_err_set(err, ver < 0 ? -EBADMSG : -EPROTO,
				 "%s store %s: %s (schema version %d, expected %d); run 'accessctl init'",
				 isms_store_name(kind), path,
				 ver < 0 ? "unreadable or not a database" : "schema version mismatch",
				 ver, isms_db_latest_version(kind));
		goto fail;
	}
	*ret = db;
	return 0;
fail:
	sqlite3_close_v2(db);
	return r;
}

void isms_db_close(sqlite3 *db)
{
	if (db)
		sqlite3_close_v2(db);
}

int isms_db_integrity(sqlite3 *db, struct isms_err *err)
{
	sqlite3_stmt *st;
	int rc, r = 0;

	rc = sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_fail(db, err, rc, "integrity check");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *line = (const char *)sqlite3_column_text(st, 0);

		if (line && strcmp(line, "ok") != 0 && r == 0)
			r = isms_err_set(err, -EBADMSG, "integrity check: %s", line);
	}
	if (rc != SQLITE_DONE && r == 0)
		r = db_fail(db, err, rc, "integrity check");
	sqlite3_finalize(st);
	return r;
}

static int db_vbind(sqlite3_stmt *st, struct isms_err *err, const char *fmt, va_list ap)
{
	int rc = SQLITE_OK, i = 1;

	for (const char *f = fmt ? fmt : ""; *f; f++, i++) {
		switch (*f) {
		case 's':
			rc = sqlite3_bind_text(st, i, va_arg(ap, const char *), -1, SQLITE_TRANSIENT);
			break;
		case 'S':
			rc = sqlite3_bind_text(st, i, va_arg(ap, const char *), -1, SQLITE_STATIC);
			break;
		case 'i':
			rc = sqlite3_bind_int64(st, i, va_arg(ap, int64_t));
			break;
		case 'n':
			rc = sqlite3_bind_null(st, i);
			break;
		case 'b': {
			const void *p = va_arg(ap, const void *);
			size_t n = va_arg(ap, size_t);

			rc = p ? sqlite3_bind_blob(st, i, p, (int)n, SQLITE_TRANSIENT)
			       : sqlite3_bind_null(st, i);
			break;
		}
		default:
			rc = SQLITE_MISUSE;
		}
		if (rc != SQLITE_OK)
			return db_fail(sqlite3_db_handle(st), err, rc, "bind");
	}
	return 0;
}

static sqlite3_stmt *db_vquery(sqlite3 *db, struct isms_err *err, const char *sql,
			       const char *fmt, va_list ap)
{
	sqlite3_stmt *st;
	int rc;

	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		(void)db_fail(db, err, rc, "prepare");
		return NULL;
	}
	if (db_vbind(st, err, fmt, ap) < 0) {
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

int isms_db_rebind(sqlite3_stmt *st, struct isms_err *err, const char *fmt, ...)
{
	va_list ap;
	int r;

	(void)sqlite3_reset(st);
	(void)sqlite3_clear_bindings(st);
	va_start(ap, fmt);
	r = db_vbind(st, err, fmt, ap);
	va_end(ap);
	return r;
}

sqlite3_stmt *isms_db_query(sqlite3 *db, struct isms_err *err, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *st;
	va_list ap;

	va_start(ap, fmt);
	st = db_vquery(db, err, sql, fmt, ap);
	va_end(ap);
	return st;
}

int isms_db_exec(sqlite3 *db, struct isms_err *err, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	st = db_vquery(db, err, sql, fmt, ap);
	va_end(ap);
	if (!st)
		return err ? err->code : -EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_fail(db, err, rc, "statement");
	return 0;
}

int isms_db_step(sqlite3_stmt *st, struct isms_err *err)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return db_fail(sqlite3_db_handle(st), err, rc, "query");
}

char *isms_db_col_strdup(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t ? strdup((const char *)t) : NULL;
}
