/* The two sqlite stores: safe opening, embedded migrations, and the one
 * helper for binding and running statements. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
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
#define STATE_PAGE_SIZE "2048"

/* Statements kept prepared on the stores pam_isms keeps open between logins
 * (ISMS_DB_LOGIN): parsing the SQL again on every login would cost more than
 * running it. isms_db_query hands out a cached statement when one with the
 * same text is idle, and isms_db_done resets it instead of finalizing. */
#define STMT_CACHES 4
#define STMT_SLOTS 48

struct stmt_slot {
	sqlite3_stmt *st;
	const char *key;        /* the caller's text when prepared: usually a literal */
	bool busy;
};

static struct stmt_cache {
	sqlite3 *db;
	size_t n;
	struct stmt_slot slot[STMT_SLOTS];
	bool version_due;       /* check the schema version in the next transaction */
	enum isms_store kind;
} stmt_caches[STMT_CACHES];
static pthread_mutex_t stmt_lock = PTHREAD_MUTEX_INITIALIZER;

static struct stmt_cache *stmt_cache_of(sqlite3 *db)
{
	for (size_t i = 0; i < STMT_CACHES; i++)
		if (stmt_caches[i].db == db)
			return &stmt_caches[i];
	return NULL;
}

static void stmt_cache_add(sqlite3 *db)
{
	struct stmt_cache *c;

	pthread_mutex_lock(&stmt_lock);
	c = stmt_cache_of(NULL);
	if (c)   /* all taken: this connection prepares afresh, as any other */
		c->db = db;
	pthread_mutex_unlock(&stmt_lock);
}

static void stmt_cache_drop(sqlite3 *db)
{
	struct stmt_cache *c;

	pthread_mutex_lock(&stmt_lock);
	c = stmt_cache_of(db);
	if (c) {
		for (size_t i = 0; i < c->n; i++)
			sqlite3_finalize(c->slot[i].st);
		memset(c, 0, sizeof(*c));
	}
	pthread_mutex_unlock(&stmt_lock);
}

/* An idle cached statement for sql (marked busy), or a new one: cached when a
 * slot is free, else the caller's to finalize through isms_db_done. */
static int stmt_get(sqlite3 *db, const char *sql, sqlite3_stmt **ret)
{
	struct stmt_cache *c;
	int rc;

	pthread_mutex_lock(&stmt_lock);
	c = stmt_cache_of(db);
	/* the same literal first (one compare of its text), then any same text */
	for (int pass = 0; c && pass < 2; pass++) {
		for (size_t i = 0; i < c->n; i++) {
			struct stmt_slot *s = &c->slot[i];

			if (!s->busy && (pass || s->key == sql) && strcmp(sqlite3_sql(s->st), sql) == 0) {
				s->busy = true;
				*ret = s->st;
				pthread_mutex_unlock(&stmt_lock);
				return SQLITE_OK;
			}
		}
	}
	rc = sqlite3_prepare_v3(db, sql, -1, c && c->n < STMT_SLOTS ? SQLITE_PREPARE_PERSISTENT : 0,
				ret, NULL);
	if (rc == SQLITE_OK && c && c->n < STMT_SLOTS && *ret)
		c->slot[c->n++] = (struct stmt_slot){ .st = *ret, .key = sql, .busy = true };
	pthread_mutex_unlock(&stmt_lock);
	return rc;
}

/* Around fork(2): no thread may hold the statement cache's lock into the child. */
void isms_db_fork_prepare(void)
{
	pthread_mutex_lock(&stmt_lock);
}

void isms_db_fork_parent(void)
{
	pthread_mutex_unlock(&stmt_lock);
}

void isms_db_fork_child(void)
{
	pthread_mutex_unlock(&stmt_lock);
}

void isms_db_done(sqlite3_stmt *st)
{
	struct stmt_cache *c;

	if (!st)
		return;
	pthread_mutex_lock(&stmt_lock);
	c = stmt_cache_of(sqlite3_db_handle(st));
	for (size_t i = 0; c && i < c->n; i++) {
		if (c->slot[i].st == st) {
			(void)sqlite3_reset(st);
			(void)sqlite3_clear_bindings(st);
			c->slot[i].busy = false;
			pthread_mutex_unlock(&stmt_lock);
			return;
		}
	}
	pthread_mutex_unlock(&stmt_lock);
	sqlite3_finalize(st);
}

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

/* After a login's commit: once the WAL holds `arg` frames, copy them into the
 * store (PASSIVE: never waits on a reader). Then start the WAL afresh with one
 * small write: sqlite restarts the WAL at the first write after a complete
 * checkpoint, and until then its frames stay valid. A process opening the
 * store when no other holds it reads all valid frames back, and it cannot
 * know which were copied already, so without the restart every login in a
 * new process would read, and copy again, an ever longer WAL. (TRUNCATE does
 * the same but its ftruncate costs milliseconds on ext4.) Skipped while
 * another connection holds the store: its own write restarts the WAL. */
static int login_wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	int log = -1, copied = -2, version;
	char restart[64];

	if (frames < (int)(intptr_t)arg)
		return SQLITE_OK;
	if (sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, &log, &copied) != SQLITE_OK ||
	    log != copied)
		return SQLITE_OK;
	/* rewrites the header field with its own value: a write, changing nothing */
	version = isms_db_user_version(db);
	if (version < 1)
		return SQLITE_OK;
	(void)snprintf(restart, sizeof(restart), "PRAGMA user_version = %d", version);
	(void)sqlite3_busy_timeout(db, 0);
	(void)sqlite3_exec(db, restart, NULL, NULL, NULL);
	(void)sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
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

	if (stmt_get(db, "PRAGMA user_version", &st) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	isms_db_done(st);
	return v;
}

/* One statement without arguments or rows (BEGIN, COMMIT...), prepared once
 * on a login store. 0, or negative errno with err set (err may be NULL). */
static int db_run(sqlite3 *db, const char *sql, struct isms_err *err, const char *what)
{
	sqlite3_stmt *st;
	int rc = stmt_get(db, sql, &st);

	if (rc != SQLITE_OK)
		return db_fail(db, err, rc, what);
	rc = sqlite3_step(st);
	rc = rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : db_fail(db, err, rc, what);
	isms_db_done(st);
	return rc;
}

/* The check isms_db_check_version_later deferred, when it is due: 0, or
 * negative errno with err set. It stays due until it passes. */
static int version_due(sqlite3 *db, struct isms_err *err)
{
	struct stmt_cache *c;
	enum isms_store kind = ISMS_STATE;
	bool due;
	int r;

	pthread_mutex_lock(&stmt_lock);
	c = stmt_cache_of(db);
	due = c && c->version_due;
	if (due)
		kind = c->kind;
	pthread_mutex_unlock(&stmt_lock);
	if (!due)
		return 0;
	r = isms_db_check_version(db, kind, sqlite3_db_filename(db, "main"), err);
	if (r == 0) {
		pthread_mutex_lock(&stmt_lock);
		c = stmt_cache_of(db);
		if (c)
			c->version_due = false;
		pthread_mutex_unlock(&stmt_lock);
	}
	return r;
}

int isms_db_check_version_due(sqlite3 *db, struct isms_err *err)
{
	return version_due(db, err);
}

static int db_begin(sqlite3 *db, const char *sql, struct isms_err *err, const char *what)
{
	int r = db_run(db, sql, err, what);

	if (r == 0) {
		r = version_due(db, err);
		if (r < 0)
			(void)db_run(db, "ROLLBACK", NULL, "rollback");
	}
	return r;
}

int isms_db_begin(sqlite3 *db, struct isms_err *err)
{
	return db_begin(db, "BEGIN IMMEDIATE", err, "begin transaction");
}

int isms_db_begin_read(sqlite3 *db, struct isms_err *err)
{
	return db_begin(db, "BEGIN", err, "begin read transaction");
}

int isms_db_commit(sqlite3 *db, struct isms_err *err)
{
	return db_run(db, "COMMIT", err, "commit");
}

void isms_db_rollback(sqlite3 *db)
{
	if (db && !sqlite3_get_autocommit(db))
		(void)db_run(db, "ROLLBACK", NULL, "rollback");
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

/* The directory holding a store and the store itself guard every login. st gets
 * the store's identity (zeroed when it may be missing and is). */
static int db_check_perms(const char *path, bool must_exist, struct stat *st, struct isms_err *err)
{
	char *copy = strdup(path);
	int r;

	memset(st, 0, sizeof(*st));
	if (!copy)
		return isms_err_set(err, -ENOMEM, "out of memory");
	r = isms_check_guard(dirname(copy), "store directory", true, err);
	free(copy);
	if (r < 0)
		return r;
	if (!must_exist && access(path, F_OK) < 0 && errno == ENOENT)
		return 0;
	return isms_check_guard_stat(path, "store", false, st, err);
}

int isms_db_check_store(const char *path, struct stat *st, struct isms_err *err)
{
	return db_check_perms(path, true, st, err);
}

int isms_db_check_version(sqlite3 *db, enum isms_store kind, const char *path, struct isms_err *err)
{
	int ver = isms_db_user_version(db);

	if (ver > isms_db_latest_version(kind))
		/* "run init" would be the wrong advice: init must never downgrade a store. */
		return isms_err_set(err, -EPROTO,
				    "%s store %s has schema version %d, newer than this program (%d); "
				    "install the matching pam_isms version",
				    isms_store_name(kind), path, ver, isms_db_latest_version(kind));
	if (ver != isms_db_latest_version(kind))
		return isms_err_set(err, ver < 0 ? -EBADMSG : -EPROTO,
				    "%s store %s: %s (schema version %d, expected %d); run 'accessctl init'",
				    isms_store_name(kind), path,
				    ver < 0 ? "unreadable or not a database" : "schema version mismatch",
				    ver, isms_db_latest_version(kind));
	return 0;
}

int isms_db_check_version_later(sqlite3 *db, enum isms_store kind, const char *path, struct isms_err *err)
{
	struct stmt_cache *c;

	pthread_mutex_lock(&stmt_lock);
	c = stmt_cache_of(db);
	if (c) {
		c->version_due = true;
		c->kind = kind;
	}
	pthread_mutex_unlock(&stmt_lock);
	return c ? 0 : isms_db_check_version(db, kind, path, err);
}

int isms_db_open_stat(const char *path, enum isms_store kind, unsigned flags,
		      sqlite3 **ret, struct stat *st, struct isms_err *err)
{
	bool ro = flags & ISMS_DB_READONLY;
	bool create = flags & ISMS_DB_CREATE;
	sqlite3 *db = NULL;
	int rc, r;

	/* checked before the open: a store replaced between the two is then
	 * opened under the old identity, and isms_ctx_reuse sees the difference */
	r = db_check_perms(path, !create, st, err);
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
			(void)sqlite3_wal_hook(db, login_wal_hook, (void *)(intptr_t)LOGIN_CHECKPOINT_FRAMES);
		stmt_cache_add(db);
	}
	rc = sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
	/* A new state store: every login commits a few small rows to it, and a
	 * commit writes (and checksums) whole pages to the WAL; smaller pages
	 * halve that. Takes effect only before the file has its first page. */
	if (rc == SQLITE_OK && create && kind == ISMS_STATE)
		rc = sqlite3_exec(db, "PRAGMA page_size = " STATE_PAGE_SIZE, NULL, NULL, NULL);
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
	r = isms_db_check_version(db, kind, path, err);
	if (r < 0)
		goto fail;
	*ret = db;
	return 0;
fail:
	isms_db_close(db);
	return r;
}

int isms_db_open(const char *path, enum isms_store kind, unsigned flags,
		 sqlite3 **ret, struct isms_err *err)
{
	struct stat st;

	return isms_db_open_stat(path, kind, flags, ret, &st, err);
}

void isms_db_login_checkpoint_frames(sqlite3 *db, int frames)
{
	(void)sqlite3_wal_hook(db, login_wal_hook, (void *)(intptr_t)frames);
}

void isms_db_close(sqlite3 *db)
{
	if (db) {
		stmt_cache_drop(db);
		sqlite3_close_v2(db);
	}
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

	/* outside a transaction: a deferred version check runs first, in its own */
	if (sqlite3_get_autocommit(db) && version_due(db, err) < 0)
		return NULL;
	rc = stmt_get(db, sql, &st);
	if (rc != SQLITE_OK) {
		(void)db_fail(db, err, rc, "prepare");
		return NULL;
	}
	if (db_vbind(st, err, fmt, ap) < 0) {
		isms_db_done(st);
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

long long isms_db_count(sqlite3 *db, struct isms_err *err, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	long long n;
	int r;

	va_start(ap, fmt);
	st = db_vquery(db, err, sql, fmt, ap);
	va_end(ap);
	if (!st)
		return err && err->code ? err->code : -EIO;
	r = isms_db_step(st, err);
	n = r == 1 ? sqlite3_column_int64(st, 0) : r;
	isms_db_done(st);
	return n;
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
	if (rc != SQLITE_DONE)
		rc = db_fail(db, err, rc, "statement");
	else
		rc = 0;
	isms_db_done(st);
	return rc;
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
