/* The two sqlite stores: opening with safe settings, migrations, and the one
 * SQL helper every part uses to bind and run statements. */
#ifndef ISMS_DB_H
#define ISMS_DB_H

#include <stdbool.h>
#include <stdint.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "err.h"

enum isms_store { ISMS_REGISTRY, ISMS_STATE };

enum {
	ISMS_DB_READONLY = 1 << 0, /* open read-only; the schema must already be current */
	ISMS_DB_CREATE   = 1 << 1, /* create if missing and apply pending migrations */
	ISMS_DB_MIGRATE  = 1 << 2, /* apply pending migrations to an existing store */
	ISMS_DB_LOGIN    = 1 << 3, /* opened for one login: cheap to close (see db.c) */
};

/* Open a store: permission checks on the file and its directory, WAL mode,
 * busy timeout, foreign keys, and a schema version check (or migration with
 * ISMS_DB_CREATE). */
int isms_db_open(const char *path, enum isms_store kind, unsigned flags,
		 sqlite3 **ret, struct isms_err *err);
/* The same, also returning the identity of the file opened (lstat before the open). */
int isms_db_open_stat(const char *path, enum isms_store kind, unsigned flags,
		      sqlite3 **ret, struct stat *st, struct isms_err *err);
void isms_db_close(sqlite3 *db);

/* The WAL size (frames) at which a login's commit copies it into the store,
 * for a writable ISMS_DB_LOGIN store. The default suits a process that opens
 * the store once: the first connection to a store reads all of the WAL back.
 * A process keeping the store open keeps that index for every other
 * connection, and may let the WAL grow longer between checkpoints. */
void isms_db_login_checkpoint_frames(sqlite3 *db, int frames);

/* The checks isms_db_open makes, for a store kept open between logins: the
 * permission checks on the store and its directory (st gets its identity),
 * and the schema version. */
int isms_db_check_store(const char *path, struct stat *st, struct isms_err *err);
int isms_db_check_version(sqlite3 *db, enum isms_store kind, const char *path, struct isms_err *err);
/* The same check, for a login store kept open between calls (ISMS_DB_LOGIN):
 * done in the store's next transaction (isms_db_begin, isms_db_begin_read),
 * where the locks are taken anyway, or before its next statement outside
 * one, instead of in a read transaction of its own now. Until it passes,
 * every one of those fails with its error. Other connections: checked now. */
int isms_db_check_version_later(sqlite3 *db, enum isms_store kind, const char *path, struct isms_err *err);
/* Run the check isms_db_check_version_later deferred if it is still due (no
 * transaction has run it, or it failed): 0 when none is due or it passes. */
int isms_db_check_version_due(sqlite3 *db, struct isms_err *err);

/* Apply the embedded schema/<store>/NNN_*.sql migrations above user_version. */
int isms_db_migrate(sqlite3 *db, enum isms_store kind, struct isms_err *err);
int isms_db_latest_version(enum isms_store kind);
int isms_db_user_version(sqlite3 *db);
const char *isms_store_name(enum isms_store kind);

/* Run `PRAGMA integrity_check`; 0 when "ok". */
int isms_db_integrity(sqlite3 *db, struct isms_err *err);

/* Prepare `sql` and bind arguments described by fmt, one char each:
 *   's' const char * (NULL binds NULL)   'i' int64_t   'n' NULL (no argument)
 *   'b' const void *, size_t  (blob)
 *   'S' const char * bound without a copy: it must stay unchanged until the
 *       statement is reset (a row written at once, in bulk, saves the copy)
 * Returns the statement or NULL with err set. */
sqlite3_stmt *isms_db_query(sqlite3 *db, struct isms_err *err, const char *sql,
			    const char *fmt, ...);

/* Release a statement from isms_db_query: finalized, or reset and kept when
 * the store caches its statements (ISMS_DB_LOGIN). Never sqlite3_finalize one. */
void isms_db_done(sqlite3_stmt *st);

/* pthread_atfork handlers for a process that keeps login stores open (pam_isms):
 * the lock of the statement cache is held across fork(2). */
void isms_db_fork_prepare(void);
void isms_db_fork_parent(void);
void isms_db_fork_child(void);

/* Prepare, bind, step to completion, finalize. Returns 0 or negative errno
 * (-EBUSY when the store is locked, -EEXIST on a constraint violation). */
int isms_db_exec(sqlite3 *db, struct isms_err *err, const char *sql, const char *fmt, ...);

/* The first column of the first row of a query (a count), or negative errno. */
long long isms_db_count(sqlite3 *db, struct isms_err *err, const char *sql, const char *fmt, ...);

/* Reset a statement from isms_db_query and bind new arguments (same fmt rules), so
 * bulk work (review snapshots) prepares once and runs many times. */
int isms_db_rebind(sqlite3_stmt *st, struct isms_err *err, const char *fmt, ...);

/* Step one row of a query: 1 row, 0 done, negative on error (statement kept). */
int isms_db_step(sqlite3_stmt *st, struct isms_err *err);

/* Text column as malloc'd copy (NULL stays NULL; OOM also NULL). */
char *isms_db_col_strdup(sqlite3_stmt *st, int col);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK (statements kept prepared on login stores). */
int isms_db_begin(sqlite3 *db, struct isms_err *err);
int isms_db_begin_read(sqlite3 *db, struct isms_err *err);   /* BEGIN (deferred) */
int isms_db_commit(sqlite3 *db, struct isms_err *err);
void isms_db_rollback(sqlite3 *db);

/* Map a sqlite result code to a negative errno. */
int isms_db_errno(int sqlite_rc);

#endif
