/* Session rows in state.db and the decision to record them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "privilege.h"
#include "sessions.h"
#include "util.h"

int isms_session_must_record(struct isms_ctx *ctx, const char *user, uid_t uid, gid_t gid,
			     bool have_ids, bool *ret_privileged, bool *ret_must,
			     char *why, size_t whylen, struct isms_err *err)
{
	char via[128] = "", **groups = NULL;
	const char *hit;
	bool priv = false;
	int r;

	r = isms_account_privileged(ctx, user, uid, gid, have_ids, &priv, via, sizeof(via), err);
	if (r < 0)
		return r;
	*ret_privileged = priv;
	if (priv) {
		if (why)
			(void)snprintf(why, whylen, "%s", via);
		*ret_must = true;
		return 0;
	}
	if (isms_list_contains(ctx->conf->record_users, user)) {
		if (why)
			(void)snprintf(why, whylen, "record_users");
		*ret_must = true;
		return 0;
	}
	*ret_must = false;
	if (!ctx->conf->record_groups || !ctx->conf->record_groups[0])
		return 0;
	r = isms_account_groups(ctx, user, gid, have_ids, &groups, err);
	if (r < 0)
		return r;
	hit = isms_groups_match(groups, ctx->conf->record_groups);
	if (hit) {
		if (why)
			(void)snprintf(why, whylen, "record_groups %s", hit);
		*ret_must = true;
	}
	isms_list_free(groups);
	return 0;
}

int isms_session_open(sqlite3 *state, struct isms_session *s, struct isms_err *err)
{
	isms_rec_new_id(s->id);
	return isms_db_exec(state, err,
			    "INSERT INTO sessions (id, account, uid, service, tty, rhost, audit_session,"
			    " privileged, must_record, started_at, status)"
			    " VALUES (?, ?, NULLIF(?, -1), ?, ?, ?, NULLIF(?, -1), ?, ?, ?, 'open')",
			    "ssisssiiii", s->id, s->account, s->uid, s->service, s->tty, s->rhost,
			    s->audit_session, (int64_t)s->privileged, (int64_t)s->must_record,
			    s->started_at);
}

int isms_session_close(sqlite3 *state, const char *id, int64_t now, struct isms_err *err)
{
	int r;

	r = isms_db_exec(state, err,
			 "UPDATE sessions SET ended_at = coalesce(ended_at, ?),"
			 " status = CASE status WHEN 'open' THEN 'closed' WHEN 'recording' THEN 'truncated'"
			 " ELSE status END"
			 " WHERE id = ?",
			 "is", now, id);
	if (r < 0)
		return r;
	if (sqlite3_changes(state) != 1)
		return isms_err_set(err, -ENOENT, "no session %s", id);
	return 0;
}

int isms_login_touch(sqlite3 *state, const char *account, const char *service, const char *rhost,
		     int64_t now, struct isms_err *err)
{
	return isms_db_exec(state, err,
			    "INSERT INTO logins (account, last_login_at, service, rhost, source)"
			    " VALUES (?, ?, ?, ?, 'pam') ON CONFLICT(account) DO UPDATE SET"
			    " last_login_at = excluded.last_login_at, service = excluded.service,"
			    " rhost = excluded.rhost, source = 'pam'",
			    "siss", account, now, service, rhost);
}

int isms_session_claim(sqlite3 *state, const char *id, const char *account, uid_t uid, pid_t pid,
		       const char *recording_path, const char *mode, const char *command,
		       struct isms_err *err)
{
	int r;

	r = isms_db_exec(state, err,
			 "UPDATE sessions SET recorder_pid = ?, status = 'recording', recording_path = ?,"
			 " mode = ?, command = ?"
			 " WHERE id = ? AND account = ? AND uid = ? AND status = 'open'"
			 " AND ended_at IS NULL AND recorder_pid IS NULL",
			 "isssssi", (int64_t)pid, recording_path, mode, command, id, account,
			 (int64_t)uid);
	if (r < 0)
		return r;
	if (sqlite3_changes(state) != 1)
		return isms_err_set(err, -EPERM,
				    "session id %.40s is not an open session of %s waiting for its recorder",
				    id, account);
	return 0;
}

int isms_session_finish(sqlite3 *state, const char *id, const struct isms_session_end *e,
			struct isms_err *err)
{
	return isms_db_exec(state, err,
			    "UPDATE sessions SET ended_at = ?, status = ?, exit_status = NULLIF(?, -1),"
			    " bytes_in = ?, bytes_out = ?, recording_bytes = ?, recording_chunks = ?,"
			    " recording_head = ? WHERE id = ?",
			    "isiiiiiss", e->ended_at, e->status, e->exit_status, e->bytes_in, e->bytes_out,
			    e->recording_bytes, e->recording_chunks, e->recording_head, id);
}

char *isms_session_real_shell(sqlite3 *reg, const char *user)
{
	sqlite3_stmt *st;
	char *shell = NULL;

	st = isms_db_query(reg, NULL, "SELECT real_shell FROM accounts WHERE name = ?", "s", user);
	if (st && isms_db_step(st, NULL) == 1)
		shell = isms_db_col_strdup(st, 0);
	isms_db_done(st);
	if (!shell || shell[0] != '/') {
		free(shell);
		shell = strdup("/bin/sh");
	}
	return shell;
}
