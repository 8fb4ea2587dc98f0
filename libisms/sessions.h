/* Login sessions in state.db: who must be recorded, the rows pam_isms opens and
 * closes, and the claim isms-rec makes on a row. One answer for the PAM module,
 * the recorder and accessctl rec. */
#ifndef ISMS_SESSIONS_H
#define ISMS_SESSIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ctx.h"
#include "err.h"
#include "recfile.h"

/* Must this account's sessions be recorded? Privileged accounts (privilege.h),
 * [session] record_users and members of record_groups. why (may be NULL) gets
 * "uid 0", "group sudo", "record_users" or "record_groups wheel". */
int isms_session_must_record(struct isms_ctx *ctx, const char *user, uid_t uid, gid_t gid,
			     bool have_ids, bool *ret_privileged, bool *ret_must,
			     char *why, size_t whylen, struct isms_err *err);

struct isms_session {
	char id[ISMS_REC_IDHEX];
	const char *account;
	int64_t uid;            /* -1 unknown */
	const char *service;
	const char *tty;
	const char *rhost;
	int64_t audit_session;  /* -1 when the kernel does not audit */
	bool privileged;
	bool must_record;
	int64_t started_at;
};

/* Insert the row (status open) with a fresh id written into s->id. */
/* The shell isms-rec runs for user, as `accessctl rec enable` remembered it in
 * the registry (never from the environment); /bin/sh when none is recorded.
 * malloc'd; NULL only on ENOMEM. */
char *isms_session_real_shell(sqlite3 *reg, const char *user);

int isms_session_open(sqlite3 *state, struct isms_session *s, struct isms_err *err);

/* End the row: ended_at, and status closed, or truncated when a recorder claimed
 * it and never finished. -ENOENT when there is no such open row. */
int isms_session_close(sqlite3 *state, const char *id, int64_t now, struct isms_err *err);

/* The last successful login of an account (the stale-account check reads it). */
int isms_login_touch(sqlite3 *state, const char *account, const char *service, const char *rhost,
		     int64_t now, struct isms_err *err);

/* isms-rec claims an open, unclaimed row of this account and uid, once.
 * -EPERM when there is no such row (forged, reused, closed or someone else's). */
int isms_session_claim(sqlite3 *state, const char *id, const char *account, uid_t uid, pid_t pid,
		       const char *recording_path, const char *mode, const char *command,
		       struct isms_err *err);

/* What the recorder reports when the session ends. */
struct isms_session_end {
	int64_t ended_at;
	const char *status;     /* closed or failed */
	int64_t exit_status;    /* -1 unknown */
	int64_t bytes_in, bytes_out;
	int64_t recording_bytes, recording_chunks;
	const char *recording_head;  /* hex, or NULL */
};

int isms_session_finish(sqlite3 *state, const char *id, const struct isms_session_end *e,
			struct isms_err *err);

#endif
