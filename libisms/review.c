/* Review campaigns: the period and scope, and the frozen snapshot — population,
 * reviewer routing, recommendations — with its hash. */
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "clock.h"
#include "db.h"
#include "privilege.h"
#include "review.h"
#include "util.h"

#define DAY 86400

int isms_review_period(const struct isms_conf *conf, const char *period, const char **ret_kind,
		       struct isms_err *err)
{
	int year = 0, q = 0, n = 0;

	if (period && sscanf(period, "%4d-annual%n", &year, &n) == 1 && n == 11 && !period[n] &&
	    year >= 2000) {
		*ret_kind = "annual";
		return 0;
	}
	n = 0;
	if (period && sscanf(period, "%4d-Q%1d%n", &year, &q, &n) == 2 && n == 7 && !period[n] &&
	    year >= 2000 && q >= 1 && q <= 4) {
		*ret_kind = q == conf->review_annual_quarter ? "annual" : "quarterly";
		return 0;
	}
	return isms_err_set(err, -EINVAL, "period '%s': expected YYYY-Qn (quarterly; Q%lld is the "
			    "annual campaign) or YYYY-annual", period ? period : "",
			    conf->review_annual_quarter);
}

void isms_review_row_id(const char *campaign, const char *account, const char *entitlement,
			char out[33])
{
	crypto_generichash_state s;
	unsigned char h[16];

	/* NUL separators: "a","bc" and "ab","c" must not collide. */
	crypto_generichash_init(&s, NULL, 0, sizeof(h));
	crypto_generichash_update(&s, (const unsigned char *)campaign, strlen(campaign) + 1);
	crypto_generichash_update(&s, (const unsigned char *)account, strlen(account) + 1);
	crypto_generichash_update(&s, (const unsigned char *)entitlement, strlen(entitlement) + 1);
	crypto_generichash_final(&s, h, sizeof(h));
	isms_hex(h, sizeof(h), out);
}

/* The frozen columns: what the reviewer saw. Decision and apply columns are not in it. */
#define FROZEN_COLS "row_id, system, account_name, uid, kind, person_name, email, employee_no," \
	" department, title, hr_status, manager, manager_no, entitlement, inherited_via, privileged," \
	" account_status, last_login_at, days_inactive, mfa_since, change, previous_decision," \
	" recommendation, reviewer_no, reviewer_name"

/* Each row is encoded as, per column, "-;" for NULL or "<length>:<text>;",
 * then "\n"; the hash is SHA-256 of the rows in row id order. A row is built
 * in buf and hashed in one call (the hash is the same as column by column). */
int isms_review_snapshot_hash(sqlite3 *reg, int64_t campaign_id, char out[65], struct isms_err *err)
{
	crypto_hash_sha256_state s;
	unsigned char h[crypto_hash_sha256_BYTES];
	char *buf = NULL;
	size_t cap = 0;
	sqlite3_stmt *st;
	int r, ncol;

	st = isms_db_query(reg, err, "SELECT " FROZEN_COLS " FROM review_items WHERE campaign_id = ?"
			   " ORDER BY row_id", "i", campaign_id);
	if (!st)
		return err ? err->code : -EIO;
	crypto_hash_sha256_init(&s);
	ncol = sqlite3_column_count(st);
	while ((r = isms_db_step(st, err)) == 1) {
		size_t len = 0, need = 1;

		for (int i = 0; i < ncol; i++)
			need += (size_t)sqlite3_column_bytes(st, i) + ISMS_INT_TEXT + 2;
		if (need > cap) {
			char *nb = realloc(buf, need);

			if (!nb) {
				r = isms_err_set(err, -ENOMEM, "out of memory");
				break;
			}
			buf = nb;
			cap = need;
		}
		for (int i = 0; i < ncol; i++) {
			const char *t;
			int n;

			if (sqlite3_column_type(st, i) == SQLITE_NULL) {
				memcpy(buf + len, "-;", 2);
				len += 2;
				continue;
			}
			t = (const char *)sqlite3_column_text(st, i);
			n = sqlite3_column_bytes(st, i);
			len = (size_t)(isms_fmt_int(buf + len, n) - buf);
			buf[len++] = ':';
			memcpy(buf + len, t, (size_t)n);
			len += (size_t)n;
			buf[len++] = ';';
		}
		buf[len++] = '\n';
		crypto_hash_sha256_update(&s, (const unsigned char *)buf, len);
	}
	isms_db_done(st);
	free(buf);
	if (r < 0)
		return r;
	crypto_hash_sha256_final(&s, h);
	isms_hex(h, sizeof(h), out);
	return 0;
}

void isms_review_campaign_clear(struct isms_review_campaign *c)
{
	if (!c)
		return;
	free(c->sources);
	c->sources = NULL;
}

int isms_review_campaign_get(sqlite3 *reg, const char *name, struct isms_review_campaign *ret,
			     struct isms_err *err)
{
	sqlite3_stmt *st;
	int r;

	st = name ? isms_db_query(reg, err, "SELECT id, name, kind, scope, as_of, due_at, created_at,"
				  " COALESCE(closed_at, 0), status, snapshot_sha256, sources"
				  " FROM review_campaigns WHERE name = ?", "s", name)
		  : isms_db_query(reg, err, "SELECT id, name, kind, scope, as_of, due_at, created_at,"
				  " COALESCE(closed_at, 0), status, snapshot_sha256, sources"
				  " FROM review_campaigns ORDER BY as_of DESC, id DESC LIMIT 1", NULL);
	if (!st)
		return err ? err->code : -EIO;
	r = isms_db_step(st, err);
	if (r == 0)
		r = name ? isms_err_set(err, -ENOENT, "no review campaign '%s'", name)
			 : isms_err_set(err, -ENOENT, "no review campaign yet; start one with "
					"'review start --period YYYY-Qn'");
	if (r == 1) {
		memset(ret, 0, sizeof(*ret));
		ret->id = sqlite3_column_int64(st, 0);
		(void)snprintf(ret->name, sizeof(ret->name), "%s", sqlite3_column_text(st, 1));
		(void)snprintf(ret->kind, sizeof(ret->kind), "%s", sqlite3_column_text(st, 2));
		(void)snprintf(ret->scope, sizeof(ret->scope), "%s", sqlite3_column_text(st, 3));
		ret->as_of = sqlite3_column_int64(st, 4);
		ret->due_at = sqlite3_column_int64(st, 5);
		ret->created_at = sqlite3_column_int64(st, 6);
		ret->closed_at = sqlite3_column_int64(st, 7);
		(void)snprintf(ret->status, sizeof(ret->status), "%s", sqlite3_column_text(st, 8));
		(void)snprintf(ret->snapshot_sha256, sizeof(ret->snapshot_sha256), "%s",
			       sqlite3_column_text(st, 9));
		ret->sources = isms_db_col_strdup(st, 10);
		r = 0;
	}
	isms_db_done(st);
	return r;
}

/* Everything one snapshot needs while it walks the accounts. */
struct snap {
	struct isms_ctx *ctx;
	const char *name;
	int64_t id, as_of;
	bool all, priv, crit;
	char **critical;         /* critical systems: config plus the systems table */
	char **priv_groups;      /* groups the registry marks privileged */
	char *prev;              /* previous campaign's name, or NULL */
	sqlite3_stmt *mem, *login, *person, *prevrow, *ins;
	int64_t rows;
};

static int load_list(sqlite3 *db, const char *sql, char ***list, struct isms_err *err)
{
	sqlite3_stmt *st = isms_db_query(db, err, sql, NULL);
	size_t n = isms_list_len(*list);
	int r;

	if (!st)
		return err ? err->code : -EIO;
	while ((r = isms_db_step(st, err)) == 1) {
		char **l = realloc(*list, (n + 2) * sizeof(*l));

		if (!l || !(l[n] = isms_db_col_strdup(st, 0))) {
			if (l)
				*list = l;
			r = isms_err_set(err, -ENOMEM, "out of memory");
			break;
		}
		*list = l;
		l[++n] = NULL;
	}
	isms_db_done(st);
	return r < 0 ? r : 0;
}

struct person {
	bool found;
	char no[128], name[256], manager_no[128], status[16];
};

static int person_get(struct snap *s, const char *no, struct person *p, struct isms_err *err)
{
	int r;

	memset(p, 0, sizeof(*p));
	if (!no || !*no)
		return 0;
	r = isms_db_rebind(s->person, err, "s", no);
	if (r < 0)
		return r;
	r = isms_db_step(s->person, err);
	if (r == 1) {
		p->found = true;
		(void)snprintf(p->no, sizeof(p->no), "%s", no);
		(void)snprintf(p->name, sizeof(p->name), "%s", sqlite3_column_text(s->person, 0));
		(void)snprintf(p->manager_no, sizeof(p->manager_no), "%s",
			       sqlite3_column_text(s->person, 1) ? (const char *)sqlite3_column_text(s->person, 1) : "");
		(void)snprintf(p->status, sizeof(p->status), "%s", sqlite3_column_text(s->person, 2));
	}
	return r < 0 ? r : 0;
}

/* The reviewer: the manager; else (manager gone, or the owner is their own manager)
 * the manager's manager; else the fallback. Never the owner, never someone who left. */
static int route_reviewer(struct snap *s, const char *owner_no, const char *manager_no,
			  struct person *ret, struct isms_err *err)
{
	const char *fallback = s->ctx->conf->review_fallback_reviewer;
	struct person mgr, cand;
	const char *order[3];
	int r;

	memset(ret, 0, sizeof(*ret));
	r = person_get(s, manager_no, &mgr, err);
	if (r < 0)
		return r;
	order[0] = manager_no;
	order[1] = mgr.found ? mgr.manager_no : NULL;
	order[2] = fallback;
	for (size_t i = 0; i < ISMS_ARRAY_SIZE(order); i++) {
		if (!order[i] || !*order[i] || (owner_no && strcmp(order[i], owner_no) == 0))
			continue;
		r = person_get(s, order[i], &cand, err);
		if (r < 0)
			return r;
		if (cand.found && strcmp(cand.status, "departed") == 0)
			continue;
		if (!cand.found && order[i] != fallback)
			continue;
		if (!cand.found) {
			/* A fallback not (yet) in the registry still reviews, by number. */
			(void)snprintf(cand.no, sizeof(cand.no), "%s", fallback);
			(void)snprintf(cand.name, sizeof(cand.name), "%s", fallback);
			cand.found = true;
		}
		*ret = cand;
		return 0;
	}
	return 0;
}

struct acct {
	int64_t id, uid, gid, created_at, mfa_since, last_login;
	bool has_uid, has_gid, has_mfa, has_login, privileged;
	const char *name, *kind, *status, *person, *email, *employee_no, *department, *title,
		*hr_status, *manager_no, *manager;
	struct person reviewer;
	int64_t days_inactive;
};

static bool system_critical(const struct snap *s, const char *system)
{
	return isms_list_contains(s->ctx->conf->critical_systems, system) ||
	       isms_list_contains(s->critical, system);
}

static int insert_row(struct snap *s, const struct acct *a, const char *entitlement,
		      const char *system, const char *via, bool privileged, struct isms_err *err)
{
	char row_id[33], prev_id[33], rec[96] = "";
	char *prev_decision = NULL;
	bool unchanged = false, justified = false;
	int r;

	if (!s->all && !(s->priv && a->privileged) && !(s->crit && system_critical(s, system)))
		return 0;
	isms_review_row_id(s->name, a->name, entitlement, row_id);
	if (s->prev) {
		isms_review_row_id(s->prev, a->name, entitlement, prev_id);
		r = isms_db_rebind(s->prevrow, err, "s", prev_id);
		if (r < 0)
			return r;
		r = isms_db_step(s->prevrow, err);
		if (r < 0)
			return r;
		if (r == 1) {
			const char *d = (const char *)sqlite3_column_text(s->prevrow, 0);
			const char *j = (const char *)sqlite3_column_text(s->prevrow, 1);

			unchanged = true;
			prev_decision = d ? strdup(d) : NULL;
			justified = d && (strcmp(d, "keep") == 0 || strcmp(d, "exception") == 0) && j && *j;
		}
	}
	if ((a->hr_status && strcmp(a->hr_status, "departed") == 0) || strcmp(a->status, "departed") == 0)
		(void)snprintf(rec, sizeof(rec), "revoke: departed");
	else if (a->days_inactive > s->ctx->conf->stale_days)
		(void)snprintf(rec, sizeof(rec), "revoke: inactive %lld days", (long long)a->days_inactive);
	else if (privileged && !justified)
		(void)snprintf(rec, sizeof(rec), "review: privileged, no justification on file");
	r = isms_db_rebind(s->ins, err, "ii" "sssssssssssss" "i" "ss" "i" "ssssss",
			   s->id, (int64_t)0, row_id, system, a->name, a->kind, a->person, a->email,
			   a->employee_no, a->department, a->title, a->hr_status, a->manager,
			   a->manager_no, entitlement, (int64_t)privileged, via, a->status,
			   a->days_inactive, unchanged ? "unchanged" : "new", prev_decision,
			   rec[0] ? rec : NULL,
			   a->reviewer.found ? a->reviewer.no : NULL,
			   a->reviewer.found ? a->reviewer.name : NULL, (const char *)NULL);
	free(prev_decision);
	if (r < 0)
		return r;
	/* uid, last login and MFA may be unknown: bound apart so NULL stays NULL. */
	if (a->has_uid)
		(void)sqlite3_bind_int64(s->ins, 2, a->uid);
	else
		(void)sqlite3_bind_null(s->ins, 2);
	if (a->has_login)
		(void)sqlite3_bind_int64(s->ins, 26, a->last_login);
	if (a->has_mfa)
		(void)sqlite3_bind_int64(s->ins, 27, a->mfa_since);
	r = isms_db_step(s->ins, err);
	if (r < 0)
		return r == -EEXIST ? isms_err_set(err, r, "duplicate row for %s %s", a->name, entitlement) : r;
	s->rows++;
	return 0;
}

static int snapshot_account(struct snap *s, sqlite3_stmt *st, struct isms_err *err)
{
	const char *sysname = s->ctx->conf->system_name;
	struct acct a = { 0 };
	int r;

#define TXT(i) ((const char *)sqlite3_column_text(st, (i)))
	a.id = sqlite3_column_int64(st, 0);
	a.name = TXT(1);
	a.has_uid = sqlite3_column_type(st, 2) != SQLITE_NULL;
	a.uid = sqlite3_column_int64(st, 2);
	a.has_gid = sqlite3_column_type(st, 3) != SQLITE_NULL;
	a.gid = sqlite3_column_int64(st, 3);
	a.kind = TXT(4);
	a.status = TXT(5);
	a.created_at = sqlite3_column_int64(st, 6);
	a.person = TXT(7);
	a.email = TXT(8);
	a.employee_no = TXT(9);
	a.department = TXT(10);
	a.title = TXT(11);
	a.hr_status = TXT(12);
	a.manager_no = TXT(13);
	a.manager = TXT(14);
	a.has_mfa = sqlite3_column_type(st, 15) != SQLITE_NULL;
	a.mfa_since = sqlite3_column_int64(st, 15);
#undef TXT

	r = isms_db_rebind(s->login, err, "s", a.name);
	if (r < 0 || (r = isms_db_step(s->login, err)) < 0)
		return r;
	a.has_login = r == 1;
	a.last_login = a.has_login ? sqlite3_column_int64(s->login, 0) : 0;
	a.days_inactive = (s->as_of - (a.has_login ? a.last_login : a.created_at)) / DAY;
	if (a.days_inactive < 0)
		a.days_inactive = 0;

	r = isms_account_privileged(s->ctx, a.name, (uid_t)a.uid, (gid_t)(a.has_gid ? a.gid : a.uid),
				    a.has_uid, &a.privileged, NULL, 0, err);
	if (r < 0)
		return r;
	r = route_reviewer(s, a.employee_no, a.manager_no, &a.reviewer, err);
	if (r < 0)
		return r;

	r = insert_row(s, &a, "login", sysname, NULL, a.privileged, err);
	if (r < 0)
		return r;
	r = isms_db_rebind(s->mem, err, "i", a.id);
	if (r < 0)
		return r;
	while ((r = isms_db_step(s->mem, err)) == 1) {
		char *group = isms_db_col_strdup(s->mem, 0);
		char *system = isms_db_col_strdup(s->mem, 1);
		char *via = isms_db_col_strdup(s->mem, 2);
		bool priv = group && (isms_conf_group_is_privileged(s->ctx->conf, group) ||
				      isms_list_contains(s->ctx->conf->ldap_privileged_groups, group) ||
				      isms_list_contains(s->priv_groups, group));

		r = group ? insert_row(s, &a, group, system ? system : sysname, via, priv, err)
			  : isms_err_set(err, -ENOMEM, "out of memory");
		free(group);
		free(system);
		free(via);
		if (r < 0)
			return r;
	}
	return r;
}

static char *sources_json(struct snap *s, struct isms_err *err)
{
	json_t *o = json_object(), *ldap = json_array();
	sqlite3_stmt *st;
	char iso[32];
	char *out = NULL;
	int r;

	st = isms_db_query(s->ctx->reg, err, "SELECT source, MAX(finished_at) FROM sync_runs"
			   " WHERE result = 'ok' GROUP BY source ORDER BY source", NULL);
	if (!st || !o || !ldap)
		goto out;
	while ((r = isms_db_step(st, err)) == 1)
		json_array_append_new(ldap, json_pack("{s:s,s:s}", "source", sqlite3_column_text(st, 0),
						      "last_sync", isms_time_iso(sqlite3_column_int64(st, 1),
										 iso, sizeof(iso))));
	if (r == 0) {
		json_object_set_new(o, "registry", json_pack("{s:s,s:s}", "system",
							    s->ctx->conf->system_name, "as_of",
							    isms_time_iso(s->as_of, iso, sizeof(iso))));
		json_object_set(o, "directory", ldap);
		out = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
		if (!out)
			(void)isms_err_set(err, -ENOMEM, "out of memory");
	}
out:
	isms_db_done(st);
	json_decref(ldap);
	json_decref(o);
	return out;
}

static int scope_parse(const struct isms_conf *conf, const char *kind, const char *scope,
		       struct snap *s, char *ret, size_t len, struct isms_err *err)
{
	char **list = scope ? isms_list_split(scope) : NULL;
	char *const *use = scope ? list : strcmp(kind, "annual") == 0 ? conf->review_annual_scope
								      : conf->review_quarterly_scope;
	char *joined;

	if (scope && !list)
		return isms_err_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; use && use[i]; i++) {
		if (strcmp(use[i], "all") == 0)
			s->all = true;
		else if (strcmp(use[i], "privileged") == 0)
			s->priv = true;
		else if (strcmp(use[i], "critical") == 0)
			s->crit = true;
		else {
			isms_list_free(list);
			return isms_err_set(err, -EINVAL, "scope '%s': allowed privileged, critical, all",
					    use[i]);
		}
	}
	joined = isms_list_join(use, ",");
	isms_list_free(list);
	if (!joined)
		return isms_err_set(err, -ENOMEM, "out of memory");
	if (!*joined) {
		free(joined);
		return isms_err_set(err, -EINVAL, "empty scope: set [review] %s_scope or --scope", kind);
	}
	(void)snprintf(ret, len, "%s", joined);
	free(joined);
	return 0;
}

/* The accounts a snapshot takes (its progress counts to how many there are). */
#define SNAPSHOT_WHERE " WHERE a.status != 'revoked'"

int isms_review_start(struct isms_ctx *ctx, const char *period, const char *scope,
		      isms_progress_fn progress, void *progress_arg,
		      struct isms_review_campaign *ret, int64_t *ret_rows, struct isms_err *err)
{
	struct snap s = { .ctx = ctx, .name = period, .as_of = isms_now() };
	char scope_text[64], hash[65];
	char *sources = NULL;
	sqlite3_stmt *acc = NULL;
	const char *kind;
	long long total = 0, done = 0;
	int r;

	r = isms_review_period(ctx->conf, period, &kind, err);
	if (r < 0)
		return r;
	r = scope_parse(ctx->conf, kind, scope, &s, scope_text, sizeof(scope_text), err);
	if (r < 0)
		return r;
	/* Row ids are hashes: inserts land all over the table. A larger page cache keeps
	 * a 500,000-row snapshot from thrashing (the default is 2 MB). */
	(void)isms_db_exec(ctx->reg, NULL, "PRAGMA cache_size = -131072", NULL);
	/* The schema's CHECK (col IN (...)) lists build a temporary table on every
	 * row written, about half the work of a snapshot row. What this writes to
	 * those columns (the campaign's kind, a row's change; decision NULL) are
	 * this file's own constants, so its statements are compiled without them
	 * (this connection, until the snapshot ends). */
	(void)isms_db_exec(ctx->reg, NULL, "PRAGMA ignore_check_constraints = ON", NULL);
	if ((r = isms_db_begin(ctx->reg, err)) < 0)
		goto out;
	{
		struct isms_review_campaign prev;
		struct isms_err e2 = { 0 };

		if (isms_review_campaign_get(ctx->reg, period, &prev, &e2) == 0) {
			isms_review_campaign_clear(&prev);
			r = isms_err_set(err, -EEXIST, "campaign %s exists already (status %s); campaigns are "
					 "never restarted", period, prev.status);
			goto fail;
		}
		if (isms_review_campaign_get(ctx->reg, NULL, &prev, &e2) == 0) {
			s.prev = strdup(prev.name);
			isms_review_campaign_clear(&prev);
			if (!s.prev) {
				r = isms_err_set(err, -ENOMEM, "out of memory");
				goto fail;
			}
		}
	}
	sources = sources_json(&s, err);
	if (!sources) {
		r = err->code ? err->code : -ENOMEM;
		goto fail;
	}
	r = isms_db_exec(ctx->reg, err, "INSERT INTO review_campaigns(name, kind, scope, as_of, sources,"
			 " snapshot_sha256, due_at, created_at) VALUES (?, ?, ?, ?, ?, '', ?, ?)", "sssisii",
			 period, kind, scope_text, s.as_of, sources,
			 s.as_of + ctx->conf->review_due_days * DAY, s.as_of);
	if (r < 0)
		goto fail;
	s.id = sqlite3_last_insert_rowid(ctx->reg);
	if ((r = load_list(ctx->reg, "SELECT name FROM systems WHERE criticality = 'critical'",
			   &s.critical, err)) < 0 ||
	    (r = load_list(ctx->reg, "SELECT name FROM groups WHERE privileged = 1 UNION"
			   " SELECT name FROM privileged_groups", &s.priv_groups, err)) < 0)
		goto fail;
	s.mem = isms_db_query(ctx->reg, err,
			      "SELECT g.name, g.system, CASE WHEN SUM(m.via_id IS NULL) > 0 THEN NULL"
			      " ELSE group_concat(COALESCE(m.path, vg.name), '; ') END"
			      " FROM memberships m JOIN groups g ON g.id = m.group_id"
			      " LEFT JOIN groups vg ON vg.id = m.via_id WHERE m.account_id = ?"
			      " GROUP BY g.id ORDER BY g.name", "i", (int64_t)0);
	s.login = isms_db_query(ctx->state, err, "SELECT last_login_at FROM logins WHERE account = ?",
				"s", "");
	s.person = isms_db_query(ctx->reg, err, "SELECT name, manager_no, status FROM people"
				 " WHERE employee_no = ?", "s", "");
	s.prevrow = isms_db_query(ctx->reg, err, "SELECT decision, justification FROM review_items"
				  " WHERE row_id = ?", "s", "");
	s.ins = isms_db_query(ctx->reg, err,
			      "INSERT INTO review_items(campaign_id, uid, row_id, system, account_name, kind,"
			      " person_name, email, employee_no, department, title, hr_status, manager,"
			      " manager_no, entitlement, privileged, inherited_via, account_status,"
			      " days_inactive, change, previous_decision, recommendation, reviewer_no,"
			      " reviewer_name, decision, last_login_at, mfa_since)"
			      " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", NULL);
	acc = isms_db_query(ctx->reg, err,
			    "SELECT a.id, a.name, a.uid, a.gid, a.kind, a.status, a.created_at, p.name,"
			    " p.email, p.employee_no, p.department, p.title, p.status, p.manager_no, m.name,"
			    " t.confirmed_at FROM accounts a LEFT JOIN people p ON p.id = a.person_id"
			    " LEFT JOIN people m ON m.employee_no = p.manager_no"
			    " LEFT JOIN mfa_tokens t ON t.account_id = a.id AND t.status = 'active'"
			    SNAPSHOT_WHERE " ORDER BY a.name", NULL);
	if (!s.mem || !s.login || !s.person || !s.prevrow || !s.ins || !acc) {
		r = err->code ? err->code : -EIO;
		goto fail;
	}
	if (progress && (total = isms_db_count(ctx->reg, err, "SELECT count(*) FROM accounts a" SNAPSHOT_WHERE,
					       NULL)) < 0) {
		r = (int)total;
		goto fail;
	}
	r = isms_priv_cache_begin(ctx, err);
	/* NSS's answer for each account's groups (getgrouplist, the larger part of a
	 * snapshot's time on a host whose NSS asks systemd or sssd) is fetched ahead,
	 * in the order the snapshot takes the accounts, with the primary group
	 * snapshot_account passes; root never asks. */
	if (r == 0)
		r = isms_priv_cache_prefetch(ctx, "SELECT a.name, coalesce(a.gid, a.uid) FROM accounts a"
					     SNAPSHOT_WHERE " AND a.uid IS NOT NULL AND a.uid != 0 ORDER BY a.name", err);
	while (r == 0 && (r = isms_db_step(acc, err)) == 1) {
		if ((r = snapshot_account(&s, acc, err)) < 0)
			break;
		if (progress && (++done & 255) == 0)
			progress(progress_arg, "snapshot", done, total);
	}
	isms_priv_cache_end(ctx);
	if (progress && r == 0)
		progress(progress_arg, "snapshot", done, done);
	if (r < 0)
		goto fail;
	if ((r = isms_review_snapshot_hash(ctx->reg, s.id, hash, err)) < 0 ||
	    (r = isms_db_exec(ctx->reg, err, "UPDATE review_campaigns SET snapshot_sha256 = ? WHERE id = ?",
			      "si", hash, s.id)) < 0)
		goto fail;
	isms_db_done(acc);
	acc = NULL;
	if ((r = isms_db_commit(ctx->reg, err)) < 0)
		goto fail;
	if (ret_rows)
		*ret_rows = s.rows;
	r = ret ? isms_review_campaign_get(ctx->reg, period, ret, err) : 0;
	goto out;
fail:
	isms_db_rollback(ctx->reg);
out:
	(void)isms_db_exec(ctx->reg, NULL, "PRAGMA ignore_check_constraints = OFF", NULL);
	isms_db_done(acc);
	isms_db_done(s.mem);
	isms_db_done(s.login);
	isms_db_done(s.person);
	isms_db_done(s.prevrow);
	isms_db_done(s.ins);
	isms_list_free(s.critical);
	isms_list_free(s.priv_groups);
	free(s.prev);
	free(sources);
	return r;
}
