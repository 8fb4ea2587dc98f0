/* Reading a campaign back: its rows as worksheet cells, its reviewers, and the
 * population in baton-file CSV for ConductorOne. */
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "review.h"
#include "util.h"

const char *const isms_review_columns[ISMS_REVIEW_NCOLS] = {
	"campaign", "row_id", "system", "account", "uid", "kind", "person", "email",
	"employee_no", "department", "title", "hr_status", "manager", "entitlement",
	"granted", "privileged", "account_status", "last_login", "days_inactive",
	"mfa_since", "change", "previous_decision", "recommendation", "reviewer",
	"decision", "exception_until", "justification", "reviewed_by", "reviewed_at",
};

bool isms_review_col_identifying(enum isms_review_col c)
{
	switch (c) {
	case RC_CAMPAIGN: case RC_ROW_ID: case RC_SYSTEM: case RC_ACCOUNT: case RC_UID:
	case RC_ENTITLEMENT: case RC_GRANTED: case RC_PRIVILEGED:
		return true;
	default:
		return false;
	}
}

const char *isms_review_neutralise(const char *s, char **tmp)
{
	*tmp = NULL;
	if (!s || !strchr("=+-@\t\r", s[0]) || !s[0])
		return s ? s : "";
	if (asprintf(tmp, "'%s", s) < 0) {
		*tmp = NULL;
		return "'";
	}
	return *tmp;
}

#define ISO(col) "COALESCE(strftime('%Y-%m-%dT%H:%M:%SZ', " col ", 'unixepoch'), '')"
#define DATE(col) "COALESCE(strftime('%Y-%m-%d', " col ", 'unixepoch'), '')"

#define ROWS_SELECT \
	"SELECT c.name, i.row_id, i.system, i.account_name, COALESCE(CAST(i.uid AS TEXT), '')," \
		" i.kind, COALESCE(i.person_name, ''), COALESCE(i.email, ''), COALESCE(i.employee_no, '')," \
		" COALESCE(i.department, ''), COALESCE(i.title, ''), COALESCE(i.hr_status, '')," \
		" COALESCE(i.manager, ''), i.entitlement," \
		" CASE WHEN i.inherited_via IS NULL THEN 'direct' ELSE 'via ' || i.inherited_via END," \
		" CASE i.privileged WHEN 1 THEN 'yes' ELSE 'no' END, i.account_status," \
		" COALESCE(strftime('%Y-%m-%dT%H:%M:%SZ', i.last_login_at, 'unixepoch'), 'never')," \
		" COALESCE(CAST(i.days_inactive AS TEXT), '')," \
		" COALESCE(strftime('%Y-%m-%d', i.mfa_since, 'unixepoch'), 'no'), i.change," \
		" COALESCE(i.previous_decision, ''), COALESCE(i.recommendation, '')," \
		" COALESCE(i.reviewer_name || ' (' || i.reviewer_no || ')', 'unassigned')," \
		" COALESCE(i.decision, ''), " DATE("i.exception_until") ", COALESCE(i.justification, '')," \
		" COALESCE(i.reviewed_by, ''), " ISO("i.reviewed_at") ", i.privileged" \
		" FROM review_items i JOIN review_campaigns c ON c.id = i.campaign_id"

int isms_review_rows(sqlite3 *reg, int64_t campaign_id, const char *reviewer,
		     isms_review_row_fn fn, void *u, struct isms_err *err)
{
	const char *cells[ISMS_REVIEW_NCOLS];
	sqlite3_stmt *st;
	int r;

	/* Three spellings of the filter so each can use the (campaign, reviewer) index. */
	const char *filter = !reviewer ? " WHERE i.campaign_id = ?1 AND ?2 IS NULL"
			     : !*reviewer ? " WHERE i.campaign_id = ?1 AND i.reviewer_no IS NULL AND ?2 = ''"
					  : " WHERE i.campaign_id = ?1 AND i.reviewer_no = ?2";
	char *sql = NULL;

	if (asprintf(&sql, "%s%s%s", ROWS_SELECT, filter,
		     " ORDER BY i.account_name, i.entitlement != 'login', i.entitlement") < 0)
		return isms_err_set(err, -ENOMEM, "out of memory");
	st = isms_db_query(reg, err, sql, "is", campaign_id, reviewer);
	free(sql);
	if (!st)
		return err ? err->code : -EIO;
	while ((r = isms_db_step(st, err)) == 1) {
		for (int i = 0; i < ISMS_REVIEW_NCOLS; i++)
			cells[i] = (const char *)sqlite3_column_text(st, i);
		r = fn(u, cells, sqlite3_column_int(st, ISMS_REVIEW_NCOLS) == 1);
		if (r != 0)
			break;
	}
	isms_db_done(st);
	return r;
}

int isms_review_reviewers(sqlite3 *reg, int64_t campaign_id, isms_review_reviewer_fn fn, void *u,
			  struct isms_err *err)
{
	sqlite3_stmt *st;
	int r;

	st = isms_db_query(reg, err, "SELECT COALESCE(reviewer_no, ''), COALESCE(MAX(reviewer_name),"
			   " 'unassigned'), COUNT(*), COUNT(decision) FROM review_items WHERE campaign_id = ?"
			   " GROUP BY COALESCE(reviewer_no, '') ORDER BY 2, 1", "i", campaign_id);
	if (!st)
		return err ? err->code : -EIO;
	while ((r = isms_db_step(st, err)) == 1) {
		r = fn(u, (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
		       sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3));
		if (r != 0)
			break;
	}
	isms_db_done(st);
	return r;
}

/* baton-file CSV: one flat file, one header, record_type says which columns apply. */
enum {
	B_TYPE, B_ID, B_DISPLAY, B_EMAIL, B_STATUS, B_UTYPE, B_LAST_LOGIN, B_LOGIN, B_EMPLOYEE,
	B_MFA, B_STATUS_DETAILS, B_DEPT, B_TITLE, B_MANAGER, B_RTYPE, B_TRAIT, B_DESC,
	B_RESOURCE_ID, B_SLUG, B_PRINCIPAL, B_P_RESOURCE, B_P_SLUG, B_I_RESOURCE, B_I_SLUG,
	B_DEPTH, B_NCOLS
};
static const char *const baton_header[B_NCOLS] = {
	"record_type", "id", "display_name", "email", "status", "type", "last_login", "login",
	"employee_id", "mfa_enabled", "status_details", "profile.department", "profile.title",
	"profile.manager", "resource_type", "trait", "description", "resource_id",
	"entitlement_slug", "principal_id", "principal_resource_id", "principal_entitlement_slug",
	"inherited_resource_id", "inherited_entitlement_slug", "inheritance_depth",
};

static const char *baton_status(const char *s)
{
	if (strcmp(s, "active") == 0)
		return "active";
	if (strcmp(s, "locked") == 0 || strcmp(s, "held") == 0)
		return "suspended";
	return "disabled";
}

/* Resource of an entitlement: the system itself for 'login', else the group. */
static void baton_resource(const char *system, const char *entitlement, char *id, size_t len)
{
	if (strcmp(entitlement, "login") == 0)
		(void)snprintf(id, len, "system:%s", system);
	else
		(void)snprintf(id, len, "group:%s", entitlement);
}

static int baton_query(sqlite3 *reg, const char *sql, int64_t id, sqlite3_stmt **st,
		       struct isms_err *err)
{
	*st = isms_db_query(reg, err, sql, "i", id);
	return *st ? 0 : (err ? err->code : -EIO);
}

int isms_review_export_baton(sqlite3 *reg, const struct isms_review_campaign *c, FILE *out,
			     struct isms_err *err)
{
	const char *row[B_NCOLS];
	char id[600], pid[600], desc[600];
	sqlite3_stmt *st;
	int r;

#define CLEAR() for (int k = 0; k < B_NCOLS; k++) row[k] = ""
#define T(i) ((const char *)sqlite3_column_text(st, (i)))
	if (isms_csv_write_row(out, baton_header, B_NCOLS, false) < 0)
		goto io;
	r = baton_query(reg, "SELECT account_name, COALESCE(MAX(person_name), account_name),"
			" COALESCE(MAX(email), ''), MAX(account_status), MAX(kind), "
			ISO("MAX(last_login_at)") ", COALESCE(MAX(employee_no), ''),"
			" CASE WHEN MAX(mfa_since) IS NULL THEN 'false' ELSE 'true' END,"
			" COALESCE(MAX(department), ''), COALESCE(MAX(title), ''), COALESCE(MAX(manager), '')"
			" FROM review_items WHERE campaign_id = ? GROUP BY account_name ORDER BY account_name",
			c->id, &st, err);
	if (r < 0)
		return r;
	while ((r = isms_db_step(st, err)) == 1) {
		const char *kind = T(4);

		CLEAR();
		row[B_TYPE] = "user";
		row[B_ID] = row[B_LOGIN] = T(0);
		row[B_DISPLAY] = T(1);
		row[B_EMAIL] = T(2);
		row[B_STATUS] = baton_status(T(3));
		row[B_STATUS_DETAILS] = T(3);
		row[B_UTYPE] = strcmp(kind, "human") == 0 ? "human" : strcmp(kind, "breakglass") == 0 ? "system" : "service";
		row[B_LAST_LOGIN] = T(5);
		row[B_EMPLOYEE] = T(6);
		row[B_MFA] = T(7);
		row[B_DEPT] = T(8);
		row[B_TITLE] = T(9);
		row[B_MANAGER] = T(10);
		if (isms_csv_write_row(out, row, B_NCOLS, false) < 0)
			r = -EIO;
	}
	isms_db_done(st);
	if (r < 0)
		return r == -EIO ? isms_err_set(err, r, "write: %s", strerror(errno)) : r;

	/* Resources and their one entitlement each. */
	r = baton_query(reg, "SELECT system, entitlement, MAX(privileged) FROM review_items WHERE"
			" campaign_id = ? GROUP BY system, entitlement ORDER BY entitlement != 'login',"
			" entitlement, system", c->id, &st, err);
	if (r < 0)
		return r;
	while ((r = isms_db_step(st, err)) == 1) {
		bool login = strcmp(T(1), "login") == 0;

		baton_resource(T(0), T(1), id, sizeof(id));
		(void)snprintf(desc, sizeof(desc), "%s on %s%s", login ? "login" : "group", T(0),
			       sqlite3_column_int(st, 2) ? " (privileged)" : "");
		CLEAR();
		row[B_TYPE] = "resource";
		row[B_ID] = id;
		row[B_DISPLAY] = login ? T(0) : T(1);
		row[B_RTYPE] = login ? "system" : "group";
		row[B_TRAIT] = login ? "app" : "group";
		row[B_DESC] = desc;
		if (isms_csv_write_row(out, row, B_NCOLS, false) < 0)
			r = -EIO;
		CLEAR();
		row[B_TYPE] = "entitlement";
		row[B_RESOURCE_ID] = id;
		row[B_SLUG] = login ? "access" : "member";
		row[B_DISPLAY] = login ? "login" : "member";
		if (r >= 0 && isms_csv_write_row(out, row, B_NCOLS, false) < 0)
			r = -EIO;
		if (r < 0)
			break;
	}
	isms_db_done(st);
	if (r < 0)
		return r == -EIO ? isms_err_set(err, r, "write: %s", strerror(errno)) : r;

	/* Direct grants; inherited ones become a mapping from the group that holds them. */
	r = baton_query(reg, "SELECT DISTINCT CASE WHEN inherited_via IS NULL THEN account_name END, system,"
			" entitlement, inherited_via"
			" FROM review_items WHERE campaign_id = ? ORDER BY inherited_via IS NOT NULL, 1, 3, 4", c->id, &st, err);
	if (r < 0)
		return r;
	while ((r = isms_db_step(st, err)) == 1) {
		baton_resource(T(1), T(2), id, sizeof(id));
		CLEAR();
		if (!T(3)) {
			row[B_TYPE] = "direct_user_grant";
			row[B_PRINCIPAL] = T(0);
			row[B_RESOURCE_ID] = id;
			row[B_SLUG] = strcmp(T(2), "login") == 0 ? "access" : "member";
		} else {
			/* "child > parent": the first group is the one the account is in. */
			size_t n = strcspn(T(3), " >;");

			(void)snprintf(pid, sizeof(pid), "group:%.*s", (int)n, T(3));
			row[B_TYPE] = "grant_inheritance_mapping";
			row[B_P_RESOURCE] = pid;
			row[B_P_SLUG] = "member";
			row[B_I_RESOURCE] = id;
			row[B_I_SLUG] = "member";
			row[B_DEPTH] = "full";
		}
		if (isms_csv_write_row(out, row, B_NCOLS, false) < 0) {
			r = -EIO;
			break;
		}
	}
	isms_db_done(st);
#undef T
#undef CLEAR
	if (r == -EIO)
		goto io;
	return r < 0 ? r : 0;
io:
	return isms_err_set(err, -EIO, "write: %s", strerror(errno));
}
