/* Review decisions carried out: revoke through the revocation engine, modify by
 * removing the one group, each re-read to confirm it took; and the close, where
 * no response is never "keep". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "db.h"
#include "review.h"
#include "revoke.h"
#include "util.h"

struct item {
	char *row_id, *account, *entitlement, *decision, *via, *reviewer_no;
};

static void items_free(struct item *it, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(it[i].row_id);
		free(it[i].account);
		free(it[i].entitlement);
		free(it[i].decision);
		free(it[i].via);
		free(it[i].reviewer_no);
	}
	free(it);
}

/* Read the rows first: the engine writes to the same store while we act on them. */
static int items_load(sqlite3 *reg, const char *sql, int64_t campaign_id, struct item **ret,
		      size_t *ret_n, struct isms_err *err)
{
	sqlite3_stmt *st = isms_db_query(reg, err, sql, "i", campaign_id);
	struct item *it = NULL;
	size_t n = 0;
	int r;

	if (!st)
		return err->code;
	while ((r = isms_db_step(st, err)) == 1) {
		struct item *m = realloc(it, (n + 1) * sizeof(*m));

		if (!m) {
			r = isms_err_set(err, -ENOMEM, "out of memory");
			break;
		}
		it = m;
		it[n].row_id = isms_db_col_strdup(st, 0);
		it[n].account = isms_db_col_strdup(st, 1);
		it[n].entitlement = isms_db_col_strdup(st, 2);
		it[n].decision = isms_db_col_strdup(st, 3);
		it[n].via = isms_db_col_strdup(st, 4);
		it[n].reviewer_no = isms_db_col_strdup(st, 5);
		n++;
		if (!it[n - 1].row_id || !it[n - 1].account || !it[n - 1].entitlement) {
			r = isms_err_set(err, -ENOMEM, "out of memory");
			break;
		}
	}
	isms_db_done(st);
	if (r < 0) {
		items_free(it, n);
		return r;
	}
	*ret = it;
	*ret_n = n;
	return 0;
}

static int record(struct isms_ctx *ctx, const char *row_id, int64_t applied, const char *result,
		  bool verified, struct isms_err *err)
{
	return isms_db_exec(ctx->reg, err, "UPDATE review_items SET applied_at = ?, apply_result = ?,"
			    " verified_at = CASE WHEN ? THEN ? END WHERE row_id = ?", "isiis", applied,
			    result, (int64_t)verified, isms_now(), row_id);
}

/* Revoke the account and confirm it. *ret_result describes both steps. */
static bool revoke_one(struct isms_ctx *ctx, const struct isms_review_campaign *c, const char *account,
		       const char *why, const char *actor, char *result, size_t len)
{
	struct isms_revoke_result res;
	struct isms_err e = { 0 };
	char reason[256];
	struct isms_revoke_req req = { .account = account, .trigger = "review", .reason = reason,
				       .actor = actor };

	(void)snprintf(reason, sizeof(reason), "access review %s: %s", c->name, why);
	if (isms_revoke_account(ctx, &req, &res, &e) < 0) {
		(void)snprintf(result, len, "revoke failed: %.300s%s%.200s", e.msg, res.remaining[0] ? "; remaining: " : "",
			       res.remaining);
		return false;
	}
	if (isms_revoke_verify(ctx, account, &e) < 0) {
		(void)snprintf(result, len, "revoked, NOT verified: %.400s", e.msg);
		return false;
	}
	(void)snprintf(result, len, "revoked, verified");
	return true;
}

/* Modify: the revocation engine drops the one direct membership (group file,
 * directory, registry); an inherited grant lives at its group. */
static bool modify_one(struct isms_ctx *ctx, const struct isms_review_campaign *c, const struct item *it,
		       const char *actor, char *result, size_t len)
{
	struct isms_err e = { 0 };
	char reason[256];
	struct isms_revoke_req req = {
		.account = it->account, .trigger = "review", .reason = reason, .actor = actor,
	};
	int r;

	if (it->via) {
		(void)snprintf(result, len, "manual: %s is inherited via %s; remove the grant at that group",
			       it->entitlement, it->via);
		return false;
	}
	(void)snprintf(reason, sizeof(reason), "access review %s: remove %s (by %s)", c->name,
		       it->entitlement, actor);
	r = isms_revoke_membership(ctx, &req, it->entitlement, &e);
	if (r < 0) {
		(void)snprintf(result, len, "removed from %s, NOT verified: %.400s", it->entitlement, e.msg);
		return false;
	}
	(void)snprintf(result, len, "removed from %s, verified", it->entitlement);
	return true;
}

int isms_review_apply(struct isms_ctx *ctx, const struct isms_review_campaign *c,
		      const char *actor, isms_review_report_fn report, void *u,
		      struct isms_err *err)
{
	struct item *it = NULL;
	size_t n = 0, failed = 0;
	int r;

	r = items_load(ctx->reg, "SELECT row_id, account_name, entitlement, decision, inherited_via,"
		       " reviewer_no FROM review_items WHERE campaign_id = ? AND decision IN ('revoke',"
		       " 'modify') AND verified_at IS NULL ORDER BY account_name, entitlement",
		       c->id, &it, &n, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		char result[700], why[300];
		int64_t at = isms_now();
		bool ok;

		(void)snprintf(why, sizeof(why), "revoke decided on %s", it[i].entitlement);
		ok = strcmp(it[i].decision, "revoke") == 0
			     ? revoke_one(ctx, c, it[i].account, why, actor, result, sizeof(result))
			     : modify_one(ctx, c, &it[i], actor, result, sizeof(result));
		r = record(ctx, it[i].row_id, at, result, ok, err);
		if (r < 0)
			break;
		if (!ok)
			failed++;
		if (report)
			report(u, it[i].row_id, it[i].account, it[i].entitlement, result, ok);
	}
	items_free(it, n);
	if (r < 0)
		return r;
	if (failed)
		return isms_err_set(err, -EAGAIN, "%zu of %zu decisions did not take", failed, n);
	return 0;
}

/* Whom an unanswered row escalates to: the reviewer's manager, else the fallback
 * reviewer; never the owner of the access. */
static void escalation_target(struct isms_ctx *ctx, const char *reviewer_no, const char *owner_no,
			      char *out, size_t len)
{
	const char *fallback = ctx->conf->review_fallback_reviewer;
	struct isms_err e = { 0 };
	sqlite3_stmt *st;

	(void)snprintf(out, len, "the security officer");
	if (*fallback && (!owner_no || strcmp(fallback, owner_no) != 0)) {
		(void)snprintf(out, len, "%s", fallback);
		st = isms_db_query(ctx->reg, &e, "SELECT name || ' (' || employee_no || ')' FROM people"
				   " WHERE employee_no = ?", "s", fallback);
		if (st && isms_db_step(st, &e) == 1)
			(void)snprintf(out, len, "%s", sqlite3_column_text(st, 0));
		isms_db_done(st);
	}
	if (!reviewer_no)
		return;
	st = isms_db_query(ctx->reg, &e, "SELECT m.name || ' (' || m.employee_no || ')' FROM people p"
			   " JOIN people m ON m.employee_no = p.manager_no WHERE p.employee_no = ?"
			   " AND m.employee_no != p.employee_no AND m.employee_no IS NOT ?"
			   " AND m.status != 'departed'", "ss", reviewer_no, owner_no);
	if (st && isms_db_step(st, &e) == 1)
		(void)snprintf(out, len, "%s", sqlite3_column_text(st, 0));
	isms_db_done(st);
}

int isms_review_close(struct isms_ctx *ctx, struct isms_review_campaign *c, const char *actor,
		      isms_review_report_fn report, void *u, struct isms_err *err)
{
	bool revoke = ctx->conf->review_no_response == ISMS_NORESP_REVOKE;
	struct isms_err aerr = { 0 };
	struct item *it = NULL;
	char hash[65];
	size_t n = 0, open_items = 0;
	int r, applied;

	if (strcmp(c->status, "open") != 0)
		return isms_err_set(err, -EALREADY, "campaign %s is closed already", c->name);
	/* The snapshot is the evidence: refuse to close over rows changed behind our back. */
	if ((r = isms_review_snapshot_hash(ctx->reg, c->id, hash, err)) < 0)
		return r;
	if (strcmp(hash, c->snapshot_sha256) != 0)
		return isms_err_set(err, -EBADMSG, "campaign %s: snapshot changed since it was frozen "
				    "(SHA-256 %s, recorded %s)", c->name, hash, c->snapshot_sha256);
	applied = isms_review_apply(ctx, c, actor, report, u, &aerr);
	if (applied < 0 && applied != -EAGAIN)
		return isms_err_set(err, applied, "%s", aerr.msg);
	r = items_load(ctx->reg, /* the owner rides in the via slot: escalation never goes to them */
		       "SELECT row_id, account_name, entitlement, '', employee_no, reviewer_no"
		       " FROM review_items WHERE campaign_id = ? AND decision IS NULL AND applied_at IS NULL"
		       " ORDER BY account_name, entitlement", c->id, &it, &n, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n && r >= 0; i++) {
		char result[700], who[300];
		int64_t at = isms_now();
		bool ok = false;

		if (revoke) {
			ok = revoke_one(ctx, c, it[i].account, "no response from the reviewer", actor, who,
					sizeof(who));
			(void)snprintf(result, sizeof(result), "no response: %s", who);
		} else {
			escalation_target(ctx, it[i].reviewer_no, it[i].via, who, sizeof(who));
			(void)snprintf(result, sizeof(result), "no response: escalated to %s", who);
		}
		r = record(ctx, it[i].row_id, at, result, ok, err);
		if (!ok)
			open_items++;
		if (report)
			report(u, it[i].row_id, it[i].account, it[i].entitlement, result, ok);
	}
	items_free(it, n);
	if (r < 0)
		return r;
	r = isms_db_exec(ctx->reg, err, "UPDATE review_campaigns SET status = 'closed', closed_at = ?"
			 " WHERE id = ?", "ii", isms_now(), c->id);
	if (r < 0)
		return r;
	(void)snprintf(c->status, sizeof(c->status), "closed");
	if (applied == -EAGAIN || open_items)
		return isms_err_set(err, -EAGAIN, "campaign %s closed with %zu row(s) needing attention%s%s",
				    c->name, open_items, applied == -EAGAIN ? "; " : "",
				    applied == -EAGAIN ? aerr.msg : "");
	return 0;
}
