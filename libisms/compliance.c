/* The compliance status of this host, control by control, from the registry,
 * the login-time state and the audit trail. Thresholds that are not policy
 * keys are stated in each control's summary. */
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "clock.h"
#include "compliance.h"
#include "db.h"
#include "privilege.h"
#include "util.h"

#define DAY 86400
#define SYNC_MAX_AGE DAY          /* a fleet syncs on a timer; a day without one is a finding */
#define BACKUP_TEST_MAX_AGE (7 * DAY)
#define REVIEW_MAX_GAP (92 * DAY) /* a quarter */
#define BREAKGLASS_WINDOW (90 * DAY)

struct report {
	struct isms_ctx *ctx;
	json_t *controls;
	int failing;
	int64_t now;
	isms_progress_fn progress;
	void *progress_arg;
};

static void control(struct report *rp, const char *id, const char *title, const char *criterion,
		    const char *state, json_t *accounts, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

static void control(struct report *rp, const char *id, const char *title, const char *criterion,
		    const char *state, json_t *accounts, const char *fmt, ...)
{
	char summary[512];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(summary, sizeof(summary), fmt, ap);
	va_end(ap);
	if (!strcmp(state, ISMS_CONTROL_FAIL))
		rp->failing++;
	json_array_append_new(rp->controls,
			      json_pack("{s:s,s:s,s:s,s:s,s:s,s:o}", "id", id, "title", title, "criterion",
					criterion, "state", state, "summary", summary, "accounts",
					accounts ? accounts : json_array()));
}

/* Names from a one-column query. */
static int names(sqlite3 *db, const char *sql, const char *fmt, int64_t arg, json_t **ret, struct isms_err *err)
{
	sqlite3_stmt *st = fmt ? isms_db_query(db, err, sql, fmt, arg) : isms_db_query(db, err, sql, NULL);
	json_t *a = json_array();
	int r;

	if (!st) {
		json_decref(a);
		return err->code;
	}
	while ((r = isms_db_step(st, err)) == 1)
		json_array_append_new(a, json_string((const char *)sqlite3_column_text(st, 0)));
	isms_db_done(st);
	if (r < 0) {
		json_decref(a);
		return r;
	}
	*ret = a;
	return 0;
}

static int64_t scalar(sqlite3 *db, const char *sql, const char *fmt, int64_t arg, struct isms_err *err)
{
	sqlite3_stmt *st = fmt ? isms_db_query(db, err, sql, fmt, arg) : isms_db_query(db, err, sql, NULL);
	int64_t v = -1;

	if (st && isms_db_step(st, err) == 1 && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(st, 0);
	isms_db_done(st);
	return v;
}

/* MFA coverage and privileged-session recording both walk the active human accounts. */
static int accounts_controls(struct report *rp, json_t *charts, struct isms_err *err)
{
	struct isms_conf *c = rp->ctx->conf;
	json_t *unenrolled = json_array(), *unrecorded = json_array();
	long long required = 0, enrolled = 0, privileged = 0, total = 0, done = 0;
	sqlite3_stmt *st;
	int r;

	if (rp->progress && (total = isms_db_count(rp->ctx->reg, err,
						     "SELECT count(*) FROM accounts WHERE status = 'active'", NULL)) < 0)
		goto fail;
	st = isms_db_query(rp->ctx->reg, err,
			   "SELECT a.name, a.uid, a.gid, a.kind, a.shell, t.status FROM accounts a"
			   " LEFT JOIN mfa_tokens t ON t.account_id = a.id"
			   " WHERE a.status = 'active' ORDER BY a.name", NULL);
	if (!st)
		goto fail;
	while ((r = isms_db_step(st, err)) == 1) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		const char *kind = (const char *)sqlite3_column_text(st, 3);
		const char *shell = (const char *)sqlite3_column_text(st, 4);
		const char *token = (const char *)sqlite3_column_text(st, 5);
		bool have_ids = sqlite3_column_type(st, 1) != SQLITE_NULL, priv = false, must;
		uid_t uid = (uid_t)sqlite3_column_int64(st, 1);
		gid_t gid = (gid_t)sqlite3_column_int64(st, 2);
		struct passwd pw, *res = NULL;
		char buf[4096];

		if (getpwnam_r(name, &pw, buf, sizeof(buf), &res) == 0 && res) {
			uid = pw.pw_uid;
			gid = pw.pw_gid;
			have_ids = true;
			if (!shell)
				shell = pw.pw_shell;
		}
		if (isms_account_privileged(rp->ctx, name, uid, gid, have_ids, &priv, NULL, 0, err) < 0) {
			isms_db_done(st);
			goto fail;
		}
		if (strcmp(kind, "service") != 0) {
			must = c->mfa_mode == ISMS_MFA_REQUIRED || priv;
			if (!must) {
				char **groups = NULL;

				if (isms_account_groups(rp->ctx, name, gid, have_ids, &groups, err) < 0) {
					isms_db_done(st);
					goto fail;
				}
				must = isms_groups_match(groups, c->mfa_groups) != NULL;
				isms_list_free(groups);
			}
			if (must) {
				required++;
				if (token && !strcmp(token, "active"))
					enrolled++;
				else
					json_array_append_new(unenrolled, json_string(name));
			}
		}
		if (priv) {
			privileged++;
			if (!shell || strcmp(shell, c->recorder) != 0)
				json_array_append_new(unrecorded, json_string(name));
		}
		if (rp->progress && (++done & 255) == 0)
			rp->progress(rp->progress_arg, "accounts", done, total);
	}
	isms_db_done(st);
	if (r < 0)
		goto fail;
	if (rp->progress)
		rp->progress(rp->progress_arg, "accounts", done, done);
	json_object_set_new(charts, "mfa", json_pack("{s:I,s:I}", "enrolled", (json_int_t)enrolled,
						     "required", (json_int_t)required));
	control(rp, "mfa_coverage", "MFA for every account that requires it", "CC6.1",
		json_array_size(unenrolled) ? ISMS_CONTROL_FAIL : ISMS_CONTROL_PASS, unenrolled,
		"%lld of %lld accounts that must pass MFA are enrolled", enrolled, required);
	control(rp, "privileged_recorded", "Privileged sessions are recorded", "CC6.3, CC7.2",
		json_array_size(unrecorded) ? ISMS_CONTROL_FAIL : ISMS_CONTROL_PASS, unrecorded,
		"%lld privileged accounts, %zu without the recorder (%s) as shell", privileged,
		json_array_size(unrecorded), c->recorder);
	return 0;
fail:
	json_decref(unenrolled);
	json_decref(unrecorded);
	return err->code ? err->code : -EIO;
}

static int registry_controls(struct report *rp, struct isms_err *err)
{
	struct isms_conf *c = rp->ctx->conf;
	sqlite3 *reg = rp->ctx->reg;
	json_t *a;
	int r;

	r = names(reg, "SELECT a.name FROM accounts a LEFT JOIN people p ON p.id = a.person_id"
		  " WHERE a.status = 'active' AND a.kind = 'human' AND (p.id IS NULL OR p.status != 'active')"
		  " ORDER BY a.name", NULL, 0, &a, err);
	if (r < 0)
		return r;
	control(rp, "owned_accounts", "Every human account has one active owner", "CC6.1, CC6.2",
		json_array_size(a) ? ISMS_CONTROL_FAIL : ISMS_CONTROL_PASS, a,
		"%zu active human accounts without an active owner", json_array_size(a));

	/* Shared: kind shared, or a name on the shared-name list, still active. */
	r = names(reg, "SELECT name FROM accounts WHERE status = 'active' AND kind = 'shared' ORDER BY name",
		  NULL, 0, &a, err);
	if (r < 0)
		return r;
	for (size_t i = 0; c->shared_names && c->shared_names[i]; i++) {
		sqlite3_stmt *st = isms_db_query(reg, err, "SELECT 1 FROM accounts WHERE status = 'active'"
						 " AND kind NOT IN ('shared', 'service') AND name = ?", "s",
						 c->shared_names[i]);

		if (!st) {
			json_decref(a);
			return err->code;
		}
		if (isms_db_step(st, err) == 1)
			json_array_append_new(a, json_string(c->shared_names[i]));
		isms_db_done(st);
	}
	control(rp, "shared_accounts", "No shared accounts in use", "CC6.1",
		json_array_size(a) ? ISMS_CONTROL_FAIL : ISMS_CONTROL_PASS, a,
		"%zu active shared accounts", json_array_size(a));

	r = names(reg, "SELECT name || ' (uid ' || uid || ')' FROM accounts WHERE status = 'active' AND uid IN"
		  " (SELECT uid FROM accounts WHERE status = 'active' AND uid IS NOT NULL GROUP BY uid HAVING count(*) > 1)"
		  " OR (uid = 0 AND name != 'root') ORDER BY uid, name", NULL, 0, &a, err);
	if (r < 0)
		return r;
	control(rp, "unique_uids", "Every uid belongs to one account", "CC6.1",
		json_array_size(a) ? ISMS_CONTROL_FAIL : ISMS_CONTROL_PASS, a,
		"%zu accounts share a uid (or hold uid 0 besides root)", json_array_size(a));
	return 0;
}

static int state_controls(struct report *rp, struct isms_err *err)
{
	struct isms_conf *c = rp->ctx->conf;
	int64_t cutoff = rp->now - c->stale_days * DAY;
	sqlite3_stmt *st;
	json_t *a = json_array();
	int r;

	/* Stale: no login since the cutoff, or never and created before it. */
	st = isms_db_query(rp->ctx->reg, err, "SELECT name, created_at FROM accounts WHERE status = 'active'"
			   " AND kind != 'breakglass' ORDER BY name", NULL);
	if (!st)
		goto fail;
	while ((r = isms_db_step(st, err)) == 1) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		sqlite3_stmt *q = isms_db_query(rp->ctx->state, err,
						"SELECT last_login_at FROM logins WHERE account = ?", "s", name);
		int64_t last = -1;

		if (q && isms_db_step(q, err) == 1)
			last = sqlite3_column_int64(q, 0);
		isms_db_done(q);
		if ((last >= 0 ? last : sqlite3_column_int64(st, 1)) < cutoff)
			json_array_append_new(a, json_string(name));
	}
	isms_db_done(st);
	if (r < 0)
		goto fail;
	control(rp, "stale_accounts", "No stale accounts", "CC6.2",
		json_array_size(a) ? ISMS_CONTROL_FAIL : ISMS_CONTROL_PASS, a,
		"%zu active accounts without a login for %lld days", json_array_size(a), c->stale_days);

	r = names(rp->ctx->state, "SELECT DISTINCT account FROM mfa_state WHERE locked_until > ? ORDER BY account",
		  "i", rp->now, &a, err);
	if (r < 0)
		return r;
	control(rp, "locked_tokens", "MFA tokens locked out after failures", "CC7.2", ISMS_CONTROL_INFO, a,
		"%zu tokens locked now (each lock is an audit event)", json_array_size(a));

	r = names(rp->ctx->state, "SELECT DISTINCT subject FROM audit_events WHERE event = 'breakglass_used'"
		  " AND time >= ? ORDER BY subject", "i", rp->now - BREAKGLASS_WINDOW, &a, err);
	if (r < 0)
		return r;
	control(rp, "breakglass", "Break-glass use in the last 90 days", "CC6.1, CC7.2", ISMS_CONTROL_INFO, a,
		"%zu break-glass accounts used (each use alerted)", json_array_size(a));
	return 0;
fail:
	json_decref(a);
	return err->code ? err->code : -EIO;
}

static int review_controls(struct report *rp, json_t *charts, struct isms_err *err)
{
	sqlite3 *reg = rp->ctx->reg;
	int64_t latest = scalar(reg, "SELECT max(created_at) FROM review_campaigns", NULL, 0, err);
	json_t *overdue, *late;
	int64_t total, decided;
	int r;

	r = names(reg, "SELECT name FROM review_campaigns WHERE status = 'open' AND due_at < ? ORDER BY name",
		  "i", rp->now, &overdue, err);
	if (r < 0)
		return r;
	total = scalar(reg, "SELECT count(*) FROM review_items WHERE campaign_id ="
		       " (SELECT id FROM review_campaigns ORDER BY created_at DESC LIMIT 1)", NULL, 0, err);
	decided = scalar(reg, "SELECT count(*) FROM review_items WHERE decision IS NOT NULL AND campaign_id ="
			 " (SELECT id FROM review_campaigns ORDER BY created_at DESC LIMIT 1)", NULL, 0, err);
	json_object_set_new(charts, "review", json_pack("{s:I,s:I}", "decided", (json_int_t)(decided > 0 ? decided : 0),
							"total", (json_int_t)(total > 0 ? total : 0)));
	if (latest < 0)
		control(rp, "reviews", "Access reviews on schedule", "CC6.2, CC6.3", ISMS_CONTROL_FAIL, overdue,
			"no access review has ever been started; run 'accessctl review start'");
	else if (json_array_size(overdue) || latest < rp->now - REVIEW_MAX_GAP)
		control(rp, "reviews", "Access reviews on schedule", "CC6.2, CC6.3", ISMS_CONTROL_FAIL, overdue,
			"%zu campaigns overdue; last campaign started %lld days ago (quarterly cadence: 92)",
			json_array_size(overdue), (long long)((rp->now - latest) / DAY));
	else {
		json_decref(overdue);
		control(rp, "reviews", "Access reviews on schedule", "CC6.2, CC6.3", ISMS_CONTROL_PASS, NULL,
			"last campaign started %lld days ago; none overdue", (long long)((rp->now - latest) / DAY));
	}

	{
		sqlite3_stmt *st = isms_db_query(reg, err, "SELECT employee_no FROM terminations WHERE"
						 " (revoked_at IS NULL AND ?1 - terminated_at > ?2)"
						 " OR (revoked_at - terminated_at > ?2) ORDER BY terminated_at",
						 "ii", rp->now, (int64_t)rp->ctx->conf->revoke_within);

		late = json_array();
		if (!st) {
			json_decref(late);
			return err->code;
		}
		while ((r = isms_db_step(st, err)) == 1)
			json_array_append_new(late, json_string((const char *)sqlite3_column_text(st, 0)));
		isms_db_done(st);
		if (r < 0) {
			json_decref(late);
			return r;
		}
	}
	control(rp, "terminations", "Leavers' access revoked in time", "CC6.2",
		json_array_size(late) ? ISMS_CONTROL_FAIL : ISMS_CONTROL_PASS, late,
		"%zu terminations revoked later than %lld hours (or still open)", json_array_size(late),
		rp->ctx->conf->revoke_within / 3600);
	return 0;
}

static int operations_controls(struct report *rp, struct isms_err *err)
{
	struct isms_conf *c = rp->ctx->conf;
	struct isms_err verr = { 0 };
	int64_t count = 0, bad = 0, last;
	char when[32];

	if (isms_audit_verify(rp->ctx->state, &count, &bad, &verr) < 0)
		control(rp, "audit_chain", "Audit trail intact", "CC7.2", ISMS_CONTROL_FAIL, NULL, "%s", verr.msg);
	else
		control(rp, "audit_chain", "Audit trail intact", "CC7.2", ISMS_CONTROL_PASS, NULL,
			"%lld events, hash chain verified", (long long)count);

	last = scalar(rp->ctx->reg, "SELECT max(finished_at) FROM sync_runs WHERE result = 'ok'", NULL, 0, err);
	if (!c->ldap_uri[0])
		control(rp, "sync", "Directory sync current", "CC6.2", ISMS_CONTROL_INFO, NULL,
			"no directory configured ([ldap] uri)");
	else if (last < 0 || last < rp->now - SYNC_MAX_AGE)
		control(rp, "sync", "Directory sync current", "CC6.2", ISMS_CONTROL_FAIL, NULL,
			"last successful sync: %s (expected within 24 hours)",
			last < 0 ? "never" : isms_time_iso(last, when, sizeof(when)));
	else
		control(rp, "sync", "Directory sync current", "CC6.2", ISMS_CONTROL_PASS, NULL,
			"last successful sync: %s", isms_time_iso(last, when, sizeof(when)));

	last = scalar(rp->ctx->state, "SELECT max(time) FROM audit_events WHERE event IN ('backup_test')"
		      " AND result = 'ok'", NULL, 0, err);
	if (last < 0 || last < rp->now - BACKUP_TEST_MAX_AGE)
		control(rp, "backup", "Backups performed and tested", "A1.2", ISMS_CONTROL_FAIL, NULL,
			"last tested backup: %s (expected within 7 days; 'accessctl backup --test FILE')",
			last < 0 ? "never" : isms_time_iso(last, when, sizeof(when)));
	else
		control(rp, "backup", "Backups performed and tested", "A1.2", ISMS_CONTROL_PASS, NULL,
			"last tested backup: %s", isms_time_iso(last, when, sizeof(when)));
	return 0;
}

int isms_compliance_report(struct isms_ctx *ctx, isms_progress_fn progress, void *progress_arg,
			   json_t **ret, struct isms_err *err)
{
	struct report rp = { .ctx = ctx, .controls = json_array(), .now = isms_now(),
			     .progress = progress, .progress_arg = progress_arg };
	json_t *charts = json_object();
	char when[32];
	int r;

	r = registry_controls(&rp, err);
	if (r == 0 && (r = isms_priv_cache_begin(ctx, err)) == 0) {
		/* NSS's groups fetched ahead, with the gid accounts_controls passes for an
		 * account NSS does not know (one it knows, with another gid, asks itself) */
		r = isms_priv_cache_prefetch(ctx, "SELECT name, coalesce(gid, 0) FROM accounts WHERE status = 'active'"
					     " AND uid IS NOT NULL AND uid != 0 ORDER BY name", err);
		if (r == 0)
			r = accounts_controls(&rp, charts, err);   /* asks about every active account */
		isms_priv_cache_end(ctx);
	}
	if (r < 0 || (r = state_controls(&rp, err)) < 0 || (r = review_controls(&rp, charts, err)) < 0 ||
	    (r = operations_controls(&rp, err)) < 0) {
		json_decref(rp.controls);
		json_decref(charts);
		return r;
	}
	*ret = json_pack("{s:s,s:s,s:o,s:i,s:o}", "host", ctx->host, "generated_at",
			 isms_time_iso(rp.now, when, sizeof(when)), "controls", rp.controls, "failing",
			 rp.failing, "charts", charts);
	return 0;
}
