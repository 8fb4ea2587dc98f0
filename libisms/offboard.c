/* Offboarding a person: the termination is recorded once (the auditor's sample),
 * then every account the person owns is revoked; the termination is complete,
 * with its revocation time, only when every step of every account is. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "clock.h"
#include "db.h"
#include "revoke.h"
#include "util.h"

static int termination_record(struct isms_ctx *ctx, const struct isms_offboard_req *req, int64_t person_id,
			       struct isms_err *err)
{
	int64_t now = isms_now();
	int r;

	r = isms_db_begin(ctx->reg, err);
	if (r < 0)
		return r;
	/* A rerun keeps the first termination time HR gave. */
	r = isms_db_exec(ctx->reg, err,
			 "INSERT OR IGNORE INTO terminations (employee_no, terminated_at, source, source_ref, "
			 "ticket, created_at) VALUES (?, ?, ?, ?, ?, ?)",
			 "sisssi", req->employee_no, req->terminated_at, req->source, req->source_ref,
			 req->ticket, now);
	if (r == 0)
		r = isms_db_exec(ctx->reg, err,
				 "UPDATE people SET status = 'departed', terminated_at = "
				 "(SELECT terminated_at FROM terminations WHERE employee_no = ?), updated_at = ? "
				 "WHERE id = ?", "sii", req->employee_no, now, person_id);
	if (r < 0) {
		isms_db_rollback(ctx->reg);
		return r;
	}
	return isms_db_commit(ctx->reg, err);
}

/* The person's accounts, as a NULL-terminated list. */
static int person_accounts(struct isms_ctx *ctx, int64_t person_id, char ***ret, struct isms_err *err)
{
	sqlite3_stmt *st = isms_db_query(ctx->reg, err, "SELECT name FROM accounts WHERE person_id = ? ORDER BY name",
					 "i", person_id);
	char **v = calloc(1, sizeof(*v));
	size_t n = 0;
	int r;

	if (!st || !v) {
		isms_db_done(st);
		free(v);
		return st ? isms_err_set(err, -ENOMEM, "out of memory") : err->code;
	}
	while ((r = isms_db_step(st, err)) == 1) {
		char **nv = realloc(v, (n + 2) * sizeof(*nv));

		if (!nv || !(nv[n] = isms_db_col_strdup(st, 0))) {
			v = nv ? nv : v;
			r = isms_err_set(err, -ENOMEM, "out of memory");
			break;
		}
		v = nv;
		v[++n] = NULL;
	}
	isms_db_done(st);
	if (r < 0) {
		v[n] = NULL;
		isms_list_free(v);
		return r;
	}
	*ret = v;
	return 0;
}

static void offboard_audit(struct isms_ctx *ctx, const struct isms_offboard_req *req, const char *result,
			   int64_t delay, int naccounts)
{
	char details[512], n[32];
	size_t pos = 0;

	details[0] = '\0';
	isms_audit_kv(details, sizeof(details), &pos, "source", req->source);
	if (req->source_ref)
		isms_audit_kv(details, sizeof(details), &pos, "ref", req->source_ref);
	if (req->ticket)
		isms_audit_kv(details, sizeof(details), &pos, "ticket", req->ticket);
	(void)snprintf(n, sizeof(n), "%d", naccounts);
	isms_audit_kv(details, sizeof(details), &pos, "accounts", n);
	if (delay >= 0) {
		(void)snprintf(n, sizeof(n), "%lld", (long long)delay);
		isms_audit_kv(details, sizeof(details), &pos, "delay_s", n);
	}
	struct isms_event ev = {
		.event = "offboard", .actor = req->actor, .subject = req->employee_no,
		.result = result, .reason = "departed", .details = details,
	};
	(void)isms_audit_append(ctx->state, ctx->host, &ev, NULL);
}

/* The person's row id: 0, or 1 when an offboarding of theirs is complete;
 * -ENOENT for an unknown employee number. */
static int person_find(struct isms_ctx *ctx, const char *employee_no, int64_t *ret_id, struct isms_err *err)
{
	sqlite3_stmt *st;
	bool complete = false;
	int r;

	st = isms_db_query(ctx->reg, err,
			   "SELECT p.id, t.revoked_at IS NOT NULL FROM people p "
			   "LEFT JOIN terminations t ON t.employee_no = p.employee_no WHERE p.employee_no = ?",
			   "s", employee_no);
	if (!st)
		return err->code;
	r = isms_db_step(st, err);
	if (r == 1) {
		*ret_id = sqlite3_column_int64(st, 0);
		complete = sqlite3_column_int(st, 1);
	}
	isms_db_done(st);
	if (r < 0)
		return r;
	if (r == 0)
		return isms_err_set(err, -ENOENT, "unknown employee number %s", employee_no);
	return complete ? 1 : 0;
}

int isms_offboard_plan(struct isms_ctx *ctx, const char *employee_no, char ***ret_accounts,
		       struct isms_err *err)
{
	int64_t person_id = 0;
	int r = person_find(ctx, employee_no, &person_id, err);

	if (r != 0)
		return r;
	return person_accounts(ctx, person_id, ret_accounts, err);
}

int isms_offboard_person(struct isms_ctx *ctx, const struct isms_offboard_req *req,
			 struct isms_revoke_result *res, struct isms_err *err)
{
	sqlite3_stmt *st;
	int64_t person_id = 0, terminated_at = 0, now;
	char **accounts = NULL;
	int r, naccounts = 0;

	memset(res, 0, sizeof(*res));
	r = person_find(ctx, req->employee_no, &person_id, err);
	if (r != 0)
		return r;
	r = termination_record(ctx, req, person_id, err);
	if (r == 0)
		r = person_accounts(ctx, person_id, &accounts, err);
	if (r < 0)
		return r;
	for (char **a = accounts; *a; a++) {
		struct isms_revoke_req rq = {
			.account = *a, .trigger = "offboard", .reason = "departed", .ticket = req->ticket,
			.actor = req->actor,
		};
		struct isms_revoke_result one;
		struct isms_err aerr = { 0 };
		size_t pos;

		naccounts++;
		r = isms_revoke_account(ctx, &rq, &one, &aerr);
		res->done += one.done;
		res->failed += one.failed;
		if (r < 0 && r != -EAGAIN) {
			res->failed++;
			(void)snprintf(one.remaining, sizeof(one.remaining), "%s", aerr.msg);
		}
		if (r < 0) {
			pos = strlen(res->remaining);
			(void)snprintf(res->remaining + pos, sizeof(res->remaining) - pos, "%s%s: %s",
				       pos ? "; " : "", *a, one.remaining);
		}
	}
	isms_list_free(accounts);
	now = isms_now();
	if (res->failed) {
		offboard_audit(ctx, req, "partial", -1, naccounts);
		return isms_err_set(err, -EAGAIN, "%s: %d step(s) remain: %s", req->employee_no, res->failed,
				    res->remaining);
	}
	r = isms_db_exec(ctx->reg, err, "UPDATE terminations SET revoked_at = ? WHERE employee_no = ?", "is",
			 now, req->employee_no);
	if (r < 0)
		return r;
	st = isms_db_query(ctx->reg, err, "SELECT terminated_at FROM terminations WHERE employee_no = ?", "s",
			   req->employee_no);
	if (st && isms_db_step(st, NULL) == 1)
		terminated_at = sqlite3_column_int64(st, 0);
	isms_db_done(st);
	offboard_audit(ctx, req, "ok", now - terminated_at, naccounts);
	return 0;
}
