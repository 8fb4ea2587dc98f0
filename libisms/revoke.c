/* The revocation engine: runs each step of a revocation, storing what it found
 * before changing it and how it went, so a rerun finishes what failed and
 * `restore` can undo it. Steps: registry, shadow, local_groups, ldap_lock,
 * ldap_groups, sessions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "clock.h"
#include "db.h"
#include "revoke.h"
#include "revoke_int.h"
#include "util.h"

struct run {
	struct isms_ctx *ctx;
	const struct isms_revoke_req *req;
	struct revoke_account acct;
	struct revoke_ldap *ldap;   /* opened on first need */
	int ldap_rc;                /* 0 untried, 1 open, <0 failed */
	struct isms_err ldap_err;
	struct isms_revoke_result *res;
	bool changed;
};

enum { STEP_DONE = 0, STEP_SKIP = 1 };

struct step {
	const char *name;
	/* Record what is there before the change. STEP_SKIP (and *msg) when the step
	 * does not apply; prev is the earlier record of a failed attempt or NULL. */
	int (*record)(struct run *rn, const json_t *prev, json_t **ret, const char **msg, struct isms_err *err);
	int (*apply)(struct run *rn, const json_t *rec, struct isms_err *err);
	int (*undo)(struct run *rn, const json_t *rec, struct isms_err *err);
	/* Does a step recorded as done still hold? NULL: trust the record. A step
	 * whose effect something else can undo (a sync, an admin) checks, so a rerun
	 * puts it back. */
	bool (*holds)(struct run *rn);
};

static void account_free(struct revoke_account *a)
{
	free(a->name);
	free(a->source);
	free(a->dn);
	free(a->status);
	free(a->employee_no);
	memset(a, 0, sizeof(*a));
}

static int account_load(struct isms_ctx *ctx, const char *name, struct revoke_account *a, struct isms_err *err)
{
	sqlite3_stmt *st;
	int r;

	st = isms_db_query(ctx->reg, err,
			   "SELECT a.id, a.name, a.uid, a.source, a.dn, a.status, p.employee_no "
			   "FROM accounts a LEFT JOIN people p ON p.id = a.person_id WHERE a.name = ?",
			   "s", name);
	if (!st)
		return err->code;
	r = isms_db_step(st, err);
	if (r == 1) {
		a->id = sqlite3_column_int64(st, 0);
		a->name = isms_db_col_strdup(st, 1);
		a->have_uid = sqlite3_column_type(st, 2) != SQLITE_NULL;
		a->uid = sqlite3_column_int64(st, 2);
		a->source = isms_db_col_strdup(st, 3);
		a->dn = isms_db_col_strdup(st, 4);
		a->status = isms_db_col_strdup(st, 5);
		a->employee_no = isms_db_col_strdup(st, 6);
		r = a->name && a->source && a->status ? 0 : isms_err_set(err, -ENOMEM, "out of memory");
	} else if (r == 0) {
		r = isms_err_set(err, -ENOENT, "no account '%s' in the registry", name);
	}
	isms_db_done(st);
	return r;
}

static int run_ldap(struct run *rn, struct isms_err *err)
{
	if (rn->ldap_rc == 0)
		rn->ldap_rc = revoke_ldap_open(rn->ctx->conf, &rn->ldap, &rn->ldap_err) < 0 ? -1 : 1;
	if (rn->ldap_rc < 0)
		return isms_err_set(err, rn->ldap_err.code, "%s", rn->ldap_err.msg);
	return 0;
}

/* ---- steps ---- */

static int registry_record(struct run *rn, const json_t *prev, json_t **ret, const char **msg,
			   struct isms_err *err)
{
	(void)msg;
	(void)err;
	if (prev) {
		*ret = json_deep_copy(prev);
		return 0;
	}
	*ret = json_pack("{s:s}", "status", rn->acct.status);
	return 0;
}

static int registry_apply(struct run *rn, const json_t *rec, struct isms_err *err)
{
	int64_t now = isms_now();

	(void)rec;
	return isms_db_exec(rn->ctx->reg, err,
			    "UPDATE accounts SET status = 'revoked', status_reason = ?, revoked_at = "
			    "COALESCE(CASE WHEN status = 'revoked' THEN revoked_at END, ?), revoked_reason = ?, "
			    "updated_at = ? WHERE id = ?",
			    "sisii", rn->req->reason, now, rn->req->reason, now, rn->acct.id);
}

static bool registry_holds(struct run *rn)
{
	return strcmp(rn->acct.status, "revoked") == 0;
}

static int registry_undo(struct run *rn, const json_t *rec, struct isms_err *err)
{
	const json_t *s = json_object_get(rec, "status");
	const char *prev = json_is_string(s) ? json_string_value(s) : "active";

	if (strcmp(prev, "revoked") == 0)
		prev = "active";
	return isms_db_exec(rn->ctx->reg, err,
			    "UPDATE accounts SET status = ?, status_reason = ?, revoked_at = NULL, "
			    "revoked_reason = NULL, updated_at = ? WHERE id = ?",
			    "ssii", prev, rn->req->reason, isms_now(), rn->acct.id);
}

static int shadow_record(struct run *rn, const json_t *prev, json_t **ret, const char **msg,
			 struct isms_err *err)
{
	int r;

	if (!rn->ctx->conf->revoke_lock_local) {
		*msg = "lock_local = no";
		return STEP_SKIP;
	}
	if (prev) {
		*ret = json_deep_copy(prev);
		return 0;
	}
	r = revoke_shadow_record(rn->ctx->conf, rn->acct.name, ret, err);
	if (r == 1)
		*msg = "no entry in the shadow file";
	return r;
}

static int shadow_apply(struct run *rn, const json_t *rec, struct isms_err *err)
{
	(void)rec;
	return revoke_shadow_lock(rn->ctx->conf, rn->acct.name, err);
}

static int shadow_undo(struct run *rn, const json_t *rec, struct isms_err *err)
{
	return revoke_shadow_unlock(rn->ctx->conf, rn->acct.name, rec, err);
}

/* Union of what an earlier attempt recorded and what is there now. */
static json_t *array_union(const json_t *prev, json_t *now)
{
	json_t *u = prev ? json_deep_copy(prev) : json_array(), *v, *w;
	size_t i, j;

	json_array_foreach(now, i, v) {
		bool have = false;

		json_array_foreach(u, j, w)
			if (json_equal(v, w))
				have = true;
		if (!have)
			json_array_append(u, v);
	}
	json_decref(now);
	return u;
}

static int groups_record(struct run *rn, const json_t *prev, json_t **ret, const char **msg,
			 struct isms_err *err)
{
	json_t *now = NULL;
	int r;

	(void)msg;
	r = revoke_groups_record(rn->ctx, rn->acct.name, &now, err);
	if (r < 0)
		return r;
	*ret = array_union(json_object_get(prev, "groups"), now);
	*ret = json_pack("{s:o}", "groups", *ret);
	return 0;
}

static int groups_apply(struct run *rn, const json_t *rec, struct isms_err *err)
{
	return revoke_groups_remove(rn->ctx->conf, rn->acct.name, json_object_get(rec, "groups"), err);
}

static int groups_undo(struct run *rn, const json_t *rec, struct isms_err *err)
{
	return revoke_groups_restore(rn->ctx->conf, rn->acct.name, json_object_get(rec, "groups"), err);
}

static int ldap_lock_record(struct run *rn, const json_t *prev, json_t **ret, const char **msg,
			    struct isms_err *err)
{
	int r;

	if (!rn->acct.dn || !*rn->acct.dn) {
		*msg = "not a directory account";
		return STEP_SKIP;
	}
	if (!revoke_ldap_configured(rn->ctx->conf)) {
		*msg = "no [ldap] write_bind_dn";
		return STEP_SKIP;
	}
	if (prev) {
		*ret = json_deep_copy(prev);
		return 0;
	}
	r = run_ldap(rn, err);
	return r < 0 ? r : revoke_ldap_lock_record(rn->ldap, rn->acct.dn, ret, err);
}

static int ldap_lock_apply(struct run *rn, const json_t *rec, struct isms_err *err)
{
	int r = run_ldap(rn, err);

	return r < 0 ? r : revoke_ldap_lock(rn->ldap, rn->acct.dn, rec, err);
}

static int ldap_lock_undo(struct run *rn, const json_t *rec, struct isms_err *err)
{
	int r = run_ldap(rn, err);

	return r < 0 ? r : revoke_ldap_unlock(rn->ldap, rn->acct.dn, rec, err);
}

static int ldap_groups_record(struct run *rn, const json_t *prev, json_t **ret, const char **msg,
			      struct isms_err *err)
{
	json_t *now = NULL;
	int r;

	if (!rn->acct.dn || !*rn->acct.dn) {
		*msg = "not a directory account";
		return STEP_SKIP;
	}
	if (!revoke_ldap_configured(rn->ctx->conf)) {
		*msg = "no [ldap] write_bind_dn";
		return STEP_SKIP;
	}
	r = run_ldap(rn, err);
	if (r == 0)
		r = revoke_ldap_groups_record(rn->ldap, rn->acct.dn, rn->acct.name, &now, err);
	if (r < 0)
		return r;
	*ret = json_pack("{s:o}", "members", array_union(json_object_get(prev, "members"), now));
	return 0;
}

static int ldap_groups_apply(struct run *rn, const json_t *rec, struct isms_err *err)
{
	int r = run_ldap(rn, err);

	return r < 0 ? r : revoke_ldap_groups_remove(rn->ldap, rn->acct.dn, rn->acct.name,
						     json_object_get(rec, "members"), err);
}

static int ldap_groups_undo(struct run *rn, const json_t *rec, struct isms_err *err)
{
	int r = run_ldap(rn, err);

	return r < 0 ? r : revoke_ldap_groups_restore(rn->ldap, json_object_get(rec, "members"), err);
}

static int sessions_record(struct run *rn, const json_t *prev, json_t **ret, const char **msg,
			   struct isms_err *err)
{
	(void)prev;
	(void)err;
	if (!rn->ctx->conf->revoke_terminate_sessions) {
		*msg = "terminate_sessions = no";
		return STEP_SKIP;
	}
	if (!rn->acct.have_uid) {
		*msg = "no uid known";
		return STEP_SKIP;
	}
	*ret = json_pack("{s:I}", "uid", (json_int_t)rn->acct.uid);
	return 0;
}

static int sessions_apply(struct run *rn, const json_t *rec, struct isms_err *err)
{
	int n;

	(void)rec;
	n = revoke_sessions_end((uid_t)rn->acct.uid, err);
	return n < 0 ? n : 0;
}

/* Registry first: pam_isms refuses from the next login on, whatever else fails.
 * Sessions last: once nothing lets the account back in. Undo runs backwards. */
static const struct step steps[] = {
	{ "registry", registry_record, registry_apply, registry_undo, registry_holds },
	{ "shadow", shadow_record, shadow_apply, shadow_undo, NULL },
	{ "local_groups", groups_record, groups_apply, groups_undo, NULL },
	{ "ldap_lock", ldap_lock_record, ldap_lock_apply, ldap_lock_undo, NULL },
	{ "ldap_groups", ldap_groups_record, ldap_groups_apply, ldap_groups_undo, NULL },
	{ "sessions", sessions_record, sessions_apply, NULL, NULL },
};

/* ---- action rows ---- */

struct action {
	int64_t id;          /* 0: none */
	char status[16];
	json_t *detail;
};

/* The current (not undone) action of this step, if any. */
static int action_find(struct run *rn, const char *step, struct action *a, struct isms_err *err)
{
	sqlite3_stmt *st;
	int r;

	memset(a, 0, sizeof(*a));
	st = isms_db_query(rn->ctx->reg, err,
			   "SELECT id, status, detail FROM revocation_actions WHERE account_name = ? AND "
			   "step = ? AND status <> 'undone' AND trigger <> 'restore' ORDER BY id DESC LIMIT 1",
			   "ss", rn->acct.name, step);
	if (!st)
		return err->code;
	r = isms_db_step(st, err);
	if (r == 1) {
		const char *d = (const char *)sqlite3_column_text(st, 2);

		a->id = sqlite3_column_int64(st, 0);
		(void)snprintf(a->status, sizeof(a->status), "%s", sqlite3_column_text(st, 1));
		a->detail = d ? json_loads(d, 0, NULL) : NULL;
		if (a->detail && !json_is_object(a->detail)) {
			json_decref(a->detail);
			a->detail = NULL;
		}
	}
	isms_db_done(st);
	return r < 0 ? r : 0;
}

static char *detail_text(json_t *rec, const char *result)
{
	json_t *o = rec ? json_deep_copy(rec) : json_object();
	char *s;

	if (!json_is_object(o)) {
		json_decref(o);
		o = json_object();
	}
	json_object_set_new(o, "result", json_string(result));
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return s;
}

static int action_write(struct run *rn, struct action *a, const char *step, const char *status,
			json_t *rec, const char *result, bool finished, struct isms_err *err)
{
	int64_t now = isms_now();
	char *d = detail_text(rec, result);
	int r;

	if (!d)
		return isms_err_set(err, -ENOMEM, "out of memory");
	if (a->id && finished) {
		r = isms_db_exec(rn->ctx->reg, err,
				 "UPDATE revocation_actions SET status = ?, detail = ?, done_at = ?, "
				 "verified_at = ? WHERE id = ?", "ssiii", status, d, now, now, a->id);
	} else if (a->id) {
		r = isms_db_exec(rn->ctx->reg, err,
				 "UPDATE revocation_actions SET status = ?, detail = ?, done_at = NULL, "
				 "verified_at = NULL WHERE id = ?", "ssi", status, d, a->id);
	} else {
		r = isms_db_exec(rn->ctx->reg, err,
				 "INSERT INTO revocation_actions (account_name, employee_no, trigger, reason, "
				 "ticket, step, status, detail, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
				 "ssssssssi", rn->acct.name, rn->acct.employee_no, rn->req->trigger,
				 rn->req->reason, rn->req->ticket, step, status, d, now);
		if (r == 0)
			a->id = sqlite3_last_insert_rowid(rn->ctx->reg);
		if (r == 0 && finished)
			r = action_write(rn, a, step, status, rec, result, true, err);
	}
	free(d);
	return r;
}

static void remaining_add(struct isms_revoke_result *res, const char *step, const char *msg)
{
	size_t pos = strlen(res->remaining);

	(void)snprintf(res->remaining + pos, sizeof(res->remaining) - pos, "%s%s: %s",
		       pos ? "; " : "", step, msg);
}

static int step_run(struct run *rn, const struct step *s, struct isms_err *err)
{
	struct action a;
	struct isms_err serr = { 0 };
	const char *msg = NULL;
	json_t *rec = NULL;
	int r;

	r = action_find(rn, s->name, &a, err);
	if (r < 0)
		return r;
	if (a.id && (strcmp(a.status, "done") == 0 || strcmp(a.status, "skipped") == 0) &&
	    (!s->holds || s->holds(rn))) {
		rn->res->done++;
		json_decref(a.detail);
		return 0;
	}
	rn->changed = true;
	r = s->record(rn, a.detail, &rec, &msg, &serr);
	if (r == STEP_SKIP) {
		r = action_write(rn, &a, s->name, "skipped", NULL, msg, true, err);
		if (r == 0)
			rn->res->done++;
		goto out;
	}
	if (r < 0) {
		rn->res->failed++;
		remaining_add(rn->res, s->name, serr.msg);
		r = action_write(rn, &a, s->name, "failed", a.detail, serr.msg, false, err);
		goto out;
	}
	/* What is there is stored before it is changed. */
	r = action_write(rn, &a, s->name, "pending", rec, "recorded", false, err);
	if (r < 0)
		goto out;
	if (s->apply(rn, rec, &serr) < 0) {
		rn->res->failed++;
		remaining_add(rn->res, s->name, serr.msg);
		r = action_write(rn, &a, s->name, "failed", rec, serr.msg, false, err);
	} else {
		rn->res->done++;
		r = action_write(rn, &a, s->name, "done", rec, "ok", true, err);
	}
out:
	json_decref(rec);
	json_decref(a.detail);
	return r;
}

static void run_audit(struct run *rn, const char *event, const char *result)
{
	char details[768];
	size_t pos = 0;
	char n[32];

	details[0] = '\0';
	isms_audit_kv(details, sizeof(details), &pos, "trigger", rn->req->trigger);
	isms_audit_kv(details, sizeof(details), &pos, "why", rn->req->reason);
	if (rn->req->ticket)
		isms_audit_kv(details, sizeof(details), &pos, "ticket", rn->req->ticket);
	(void)snprintf(n, sizeof(n), "%d", rn->res->done);
	isms_audit_kv(details, sizeof(details), &pos, "steps_done", n);
	(void)snprintf(n, sizeof(n), "%d", rn->res->failed);
	isms_audit_kv(details, sizeof(details), &pos, "steps_failed", n);
	struct isms_event ev = {
		.event = event, .actor = rn->req->actor, .subject = rn->acct.name,
		.result = result, .reason = rn->req->trigger, .details = details,
	};
	(void)isms_audit_append(rn->ctx->state, rn->ctx->host, &ev, NULL);
}

static int req_check(const struct isms_revoke_req *req, struct isms_revoke_result *res, struct isms_err *err)
{
	memset(res, 0, sizeof(*res));
	if (!req->account || !*req->account || !req->reason || !*req->reason || !req->trigger)
		return isms_err_set(err, -EINVAL, "an account, a trigger and a reason are required");
	return 0;
}

int isms_revoke_account(struct isms_ctx *ctx, const struct isms_revoke_req *req,
			struct isms_revoke_result *res, struct isms_err *err)
{
	struct run rn = { .ctx = ctx, .req = req, .res = res };
	int r;

	r = req_check(req, res, err);
	if (r < 0)
		return r;
	r = account_load(ctx, req->account, &rn.acct, err);
	if (r < 0)
		return r;
	for (size_t i = 0; r == 0 && i < ISMS_ARRAY_SIZE(steps); i++)
		r = step_run(&rn, &steps[i], err);
	if (r == 0 && rn.changed)
		run_audit(&rn, "revoke", res->failed ? "partial" : "ok");
	if (r == 0 && res->failed)
		r = isms_err_set(err, -EAGAIN, "%s: %d step(s) remain: %s", req->account, res->failed,
				 res->remaining);
	revoke_ldap_close(rn.ldap);
	account_free(&rn.acct);
	return r;
}

int isms_revoke_restore(struct isms_ctx *ctx, const struct isms_revoke_req *req,
			struct isms_revoke_result *res, struct isms_err *err)
{
	struct run rn = { .ctx = ctx, .req = req, .res = res };
	bool any = false;
	int r;

	r = req_check(req, res, err);
	if (r < 0)
		return r;
	r = account_load(ctx, req->account, &rn.acct, err);
	if (r < 0)
		return r;
	for (size_t i = ISMS_ARRAY_SIZE(steps); r == 0 && i-- > 0;) {
		const struct step *s = &steps[i];
		struct isms_err serr = { 0 };
		struct action a;

		r = action_find(&rn, s->name, &a, err);
		if (r < 0 || !a.id)
			continue;
		any = true;
		/* The registry opens access again only when everything else is back. */
		if (i == 0 && res->failed) {
			res->failed++;
			remaining_add(res, s->name, "waits for the steps above");
		} else if (!s->undo || strcmp(a.status, "skipped") == 0 || s->undo(&rn, a.detail, &serr) == 0) {
			res->done++;
			r = isms_db_exec(ctx->reg, err, "UPDATE revocation_actions SET status = 'undone', "
					 "done_at = ? WHERE id = ?", "ii", isms_now(), a.id);
		} else {
			res->failed++;
			remaining_add(res, s->name, serr.msg);
		}
		json_decref(a.detail);
	}
	if (r == 0 && !any)
		r = isms_err_set(err, -ENOENT, "%s: no revocation to restore", req->account);
	if (r == 0 && !res->failed) {
		struct action a = { 0 };

		r = action_write(&rn, &a, "registry", "done", NULL, "restored", true, err);
	}
	if (r == 0)
		run_audit(&rn, "restore", res->failed ? "partial" : "ok");
	if (r == 0 && res->failed)
		r = isms_err_set(err, -EAGAIN, "%s: %d step(s) not undone: %s", req->account, res->failed,
				 res->remaining);
	revoke_ldap_close(rn.ldap);
	account_free(&rn.acct);
	return r;
}

int isms_revoke_verify(struct isms_ctx *ctx, const char *account, struct isms_err *err)
{
	struct revoke_account a = { 0 };
	struct revoke_ldap *l = NULL;
	int r;

	r = account_load(ctx, account, &a, err);
	if (r < 0)
		return r;
	if (strcmp(a.status, "revoked") != 0) {
		r = isms_err_set(err, -EAGAIN, "%s: registry status is %s", account, a.status);
		goto out;
	}
	if (ctx->conf->revoke_lock_local && strcmp(a.source, "local") == 0) {
		json_t *rec = NULL;
		bool present = revoke_shadow_record(ctx->conf, account, &rec, NULL) == 0;

		json_decref(rec);
		if (present && !revoke_shadow_is_locked(ctx->conf, account)) {
			r = isms_err_set(err, -EAGAIN, "%s: not locked in %s", account, ctx->conf->shadow_file);
			goto out;
		}
	}
	if (a.dn && *a.dn && revoke_ldap_configured(ctx->conf)) {
		r = revoke_ldap_open(ctx->conf, &l, err);
		if (r == 0) {
			r = revoke_ldap_is_locked(l, a.dn, err);
			if (r == 0)
				r = isms_err_set(err, -EAGAIN, "%s: directory entry not locked", account);
			else if (r > 0)
				r = 0;
		}
	}
out:
	revoke_ldap_close(l);
	account_free(&a);
	return r;
}

/* The directory memberships of the account that belong to group (its DN as the
 * registry knows it, or cn=GROUP as the first RDN). */
static json_t *ldap_rec_for_group(const json_t *all, const char *group, const char *group_dn)
{
	json_t *mine = json_array(), *v;
	size_t i, gl = strlen(group);

	json_array_foreach(all, i, v) {
		const char *gdn = json_string_value(json_object_get(v, "dn"));

		if (!gdn)
			continue;
		if ((group_dn && strcasecmp(gdn, group_dn) == 0) ||
		    (strncasecmp(gdn, "cn=", 3) == 0 && strncmp(gdn + 3, group, gl) == 0 && gdn[3 + gl] == ','))
			json_array_append(mine, v);
	}
	return mine;
}

int isms_revoke_membership(struct isms_ctx *ctx, const struct isms_revoke_req *req, const char *group,
			   struct isms_err *err)
{
	struct isms_revoke_result res = { 0 };
	struct run rn = { .ctx = ctx, .req = req, .res = &res };
	struct action a = { 0 };
	json_t *groups = json_pack("[s]", group), *all = NULL, *mine = NULL, *rec = NULL;
	char *group_dn = NULL;
	sqlite3_stmt *st;
	int r, left;

	r = account_load(ctx, req->account, &rn.acct, err);
	if (r < 0)
		goto out;
	/* 1. the local group file: recorded, edited, re-read */
	r = revoke_group_has_member(ctx->conf, group, req->account, err);
	if (r < 0)
		goto out;
	if (r == 1) {
		rec = json_pack("{s:O}", "groups", groups);
		r = action_write(&rn, &a, "local_group", "pending", rec, "recorded", false, err);
		if (r == 0)
			r = revoke_groups_remove(ctx->conf, req->account, groups, err);
		if (r == 0 && (left = revoke_group_has_member(ctx->conf, group, req->account, err)) != 0)
			r = left < 0 ? left : isms_err_set(err, -EAGAIN, "%s: still in %s in %s", req->account,
							   group, ctx->conf->group_file);
		if (action_write(&rn, &a, "local_group", r == 0 ? "done" : "failed", rec,
				 r == 0 ? "ok" : err->msg, r == 0, r == 0 ? err : NULL) < 0 && r == 0)
			r = err->code;
		if (r < 0)
			goto out;
	}
	/* 2. the directory group, with write-back configured */
	st = isms_db_query(ctx->reg, err, "SELECT dn FROM groups WHERE name = ?", "s", group);
	if (st && isms_db_step(st, err) == 1)
		group_dn = isms_db_col_strdup(st, 0);
	isms_db_done(st);
	if (rn.acct.dn && *rn.acct.dn && revoke_ldap_configured(ctx->conf)) {
		r = run_ldap(&rn, err);
		if (r == 0)
			r = revoke_ldap_groups_record(rn.ldap, rn.acct.dn, req->account, &all, err);
		if (r < 0)
			goto out;
		mine = ldap_rec_for_group(all, group, group_dn);
		if (json_array_size(mine) > 0) {
			a.id = 0;
			json_decref(rec);
			rec = json_pack("{s:O}", "groups", mine);
			r = action_write(&rn, &a, "ldap_group", "pending", rec, "recorded", false, err);
			if (r == 0)
				r = revoke_ldap_groups_remove_only(rn.ldap, rn.acct.dn, req->account, mine, err);
			if (action_write(&rn, &a, "ldap_group", r == 0 ? "done" : "failed", rec,
					 r == 0 ? "ok" : err->msg, r == 0, r == 0 ? err : NULL) < 0 && r == 0)
				r = err->code;
			if (r < 0)
				goto out;
		}
	}
	/* 3. the registry: the direct grant goes, and is re-read */
	a.id = 0;
	r = isms_db_exec(ctx->reg, err, "DELETE FROM memberships WHERE via_id IS NULL AND account_id = ?"
			 " AND group_id = (SELECT id FROM groups WHERE name = ?)", "is", rn.acct.id, group);
	if (r == 0) {
		json_decref(rec);
		rec = json_pack("{s:O}", "groups", groups);
		r = action_write(&rn, &a, "registry_group", "done", rec, "ok", true, err);
	}
	if (r < 0)
		goto out;
	st = isms_db_query(ctx->reg, err, "SELECT count(*) FROM memberships m JOIN groups g ON g.id = m.group_id"
			   " WHERE m.account_id = ? AND g.name = ? AND m.via_id IS NULL", "is", rn.acct.id, group);
	r = st ? isms_db_step(st, err) : err->code;
	if (r == 1)
		r = sqlite3_column_int64(st, 0) == 0 ? 0
		    : isms_err_set(err, -EAGAIN, "%s: registry still lists %s", req->account, group);
	isms_db_done(st);
out:
	if (rn.ldap)
		revoke_ldap_close(rn.ldap);
	account_free(&rn.acct);
	json_decref(groups);
	json_decref(all);
	json_decref(mine);
	json_decref(rec);
	free(group_dn);
	return r;
}
