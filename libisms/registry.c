/* Indexed reads of registry.db (accounts.name is UNIQUE, accounts.uid is indexed)
 * so that the login path never scans the table. */
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "registry.h"
#include "util.h"

static void col_copy(sqlite3_stmt *st, int col, char *buf, size_t len)
{
	const unsigned char *s = sqlite3_column_text(st, col);

	(void)snprintf(buf, len, "%s", s ? (const char *)s : "");
}

int isms_registry_account_find(sqlite3 *reg, const char *name, struct isms_account *ret,
			       struct isms_err *err)
{
	struct isms_account a;
	sqlite3_stmt *st;
	int r;

	st = isms_db_query(reg, err,
			   "SELECT a.id, a.name, a.uid, a.gid, a.kind, a.status, a.status_reason, a.services,"
			   " a.source, a.shell, a.created_at, p.employee_no, p.name, p.status"
			   " FROM accounts a LEFT JOIN people p ON p.id = a.person_id WHERE a.name = ?",
			   "s", name);
	if (!st)
		return err ? err->code : -EIO;
	r = isms_db_step(st, err);
	if (r == 1) {
		memset(&a, 0, sizeof(a));
		a.id = sqlite3_column_int64(st, 0);
		col_copy(st, 1, a.name, sizeof(a.name));
		a.has_uid = sqlite3_column_type(st, 2) != SQLITE_NULL;
		a.uid = sqlite3_column_int64(st, 2);
		a.has_gid = sqlite3_column_type(st, 3) != SQLITE_NULL;
		a.gid = sqlite3_column_int64(st, 3);
		col_copy(st, 4, a.kind, sizeof(a.kind));
		col_copy(st, 5, a.status, sizeof(a.status));
		col_copy(st, 6, a.status_reason, sizeof(a.status_reason));
		col_copy(st, 7, a.services, sizeof(a.services));
		col_copy(st, 8, a.source, sizeof(a.source));
		col_copy(st, 9, a.shell, sizeof(a.shell));
		a.created_at = sqlite3_column_int64(st, 10);
		a.has_owner = sqlite3_column_type(st, 11) != SQLITE_NULL;
		col_copy(st, 11, a.owner_no, sizeof(a.owner_no));
		col_copy(st, 12, a.owner_name, sizeof(a.owner_name));
		col_copy(st, 13, a.owner_status, sizeof(a.owner_status));
		*ret = a;
	}
	isms_db_done(st);
	return r;
}

int isms_registry_uid_other(sqlite3 *reg, int64_t uid, const char *name, char *ret_other,
			    size_t len, struct isms_err *err)
{
	sqlite3_stmt *st;
	int r;

	st = isms_db_query(reg, err, "SELECT name FROM accounts WHERE uid = ? AND name <> ? LIMIT 1",
			   "is", uid, name);
	if (!st)
		return err ? err->code : -EIO;
	r = isms_db_step(st, err);
	if (r == 1)
		col_copy(st, 0, ret_other, len);
	isms_db_done(st);
	return r;
}

int isms_state_last_login(sqlite3 *state, const char *name, int64_t *ret, struct isms_err *err)
{
	sqlite3_stmt *st;
	int r;

	st = isms_db_query(state, err, "SELECT last_login_at FROM logins WHERE account = ?", "s", name);
	if (!st)
		return err ? err->code : -EIO;
	r = isms_db_step(st, err);
	if (r == 1)
		*ret = sqlite3_column_int64(st, 0);
	isms_db_done(st);
	return r;
}

bool isms_csv_has(const char *list, const char *service)
{
	size_t n = strlen(service);

	for (const char *p = list; p && *p;) {
		const char *e;
		size_t l;

		while (*p == ' ' || *p == ',')
			p++;
		e = strchr(p, ',');
		l = e ? (size_t)(e - p) : strlen(p);
		while (l > 0 && p[l - 1] == ' ')
			l--;
		if (l == n && l > 0 && strncmp(p, service, n) == 0)
			return true;
		p = e ? e + 1 : p + strlen(p);
	}
	return false;
}
