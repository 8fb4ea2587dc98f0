/* MINIMAL STAND-IN, written on the review branch so `review apply` has an engine to
 * call: registry step only (status revoked + one revocation_actions row; verify
 * re-reads the status). The lead replaces this file with the full revocation
 * engine (shadow, local groups, sessions, LDAP) at merge. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "db.h"
#include "revoke.h"

int isms_revoke_account(struct isms_ctx *ctx, const struct isms_revoke_req *req,
			struct isms_revoke_result *res, struct isms_err *err)
{
	int64_t now = isms_now();
	sqlite3_stmt *st;
	char *employee_no = NULL;
	int r;

	memset(res, 0, sizeof(*res));
	if (!req->account || !*req->account || !req->reason || !*req->reason || !req->trigger)
		return isms_err_set(err, -EINVAL, "revoke: account, trigger and reason are required");
	if ((r = isms_db_begin(ctx->reg, err)) < 0)
		return r;
	st = isms_db_query(ctx->reg, err, "SELECT p.employee_no FROM accounts a LEFT JOIN people p"
			   " ON p.id = a.person_id WHERE a.name = ?", "s", req->account);
	if (!st) {
		r = err->code;
		goto fail;
	}
	r = isms_db_step(st, err);
	if (r == 1)
		employee_no = isms_db_col_strdup(st, 0);
	sqlite3_finalize(st);
	if (r == 0)
		r = isms_err_set(err, -ENOENT, "revoke: no account '%s' in the registry", req->account);
	if (r < 0)
		goto fail;
	r = isms_db_exec(ctx->reg, err, "UPDATE accounts SET status = 'revoked', status_reason = ?,"
			 " revoked_at = COALESCE(revoked_at, ?), revoked_reason = ?, updated_at = ?"
			 " WHERE name = ?", "sisis", req->reason, now, req->trigger, now, req->account);
	if (r >= 0)
		r = isms_db_exec(ctx->reg, err, "INSERT INTO revocation_actions(account_name, employee_no,"
				 " trigger, reason, ticket, step, status, detail, created_at, done_at)"
				 " VALUES (?, ?, ?, ?, ?, 'registry', 'done', 'status revoked', ?, ?)",
				 "sssssii", req->account, employee_no, req->trigger, req->reason, req->ticket,
				 now, now);
	free(employee_no);
	employee_no = NULL;
	if (r < 0)
		goto fail;
	if ((r = isms_db_commit(ctx->reg, err)) < 0)
		goto fail;
	res->done = 1;
	return 0;
fail:
	free(employee_no);
	isms_db_rollback(ctx->reg);
	res->failed = 1;
	(void)snprintf(res->remaining, sizeof(res->remaining), "registry");
	return r;
}

int isms_revoke_verify(struct isms_ctx *ctx, const char *account, struct isms_err *err)
{
	sqlite3_stmt *st;
	char status[16] = "";
	int r;

	st = isms_db_query(ctx->reg, err, "SELECT status FROM accounts WHERE name = ?", "s", account);
	if (!st)
		return err->code;
	r = isms_db_step(st, err);
	if (r == 1)
		(void)snprintf(status, sizeof(status), "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (r < 0)
		return r;
	if (r == 0)
		return isms_err_set(err, -EAGAIN, "account %s is no longer in the registry", account);
	if (strcmp(status, "revoked") != 0)
		return isms_err_set(err, -EAGAIN, "account %s is '%s' in the registry, not revoked",
				    account, status);
	return isms_db_exec(ctx->reg, err, "UPDATE revocation_actions SET verified_at = ? WHERE"
			    " account_name = ? AND step = 'registry' AND status = 'done' AND verified_at"
			    " IS NULL", "is", isms_now(), account);
}
