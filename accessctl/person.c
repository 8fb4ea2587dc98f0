/* accessctl person: the people who own accounts, keyed by employee number. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "clock.h"
#include "cli.h"
#include "db.h"
#include "util.h"

const struct command cmd_person_def = {
	"person", cmd_person, "register and show the people who own accounts",
	"usage: accessctl [--root DIR] person add EMPLOYEE_NO --name NAME --email EMAIL\n"
	"                                    [--manager EMPLOYEE_NO]\n"
	"       accessctl [--root DIR] [--json] person show EMPLOYEE_NO\n"
	"       accessctl [--root DIR] [--json] person list [--status active|departed|leave]\n\n"
	"  add   register a person (source local), the owner of human accounts. The\n"
	"        employee number is the key HR feeds join on; it cannot be taken twice.\n"
	"        --manager may name a person not yet registered (a later sync brings them).\n"
	"  show  the person's HR data, manager, termination (when HR reported it and when\n"
	"        access was removed) and every account they own with its status\n"
	"  list  every person (or those of one status), by employee number, with their\n"
	"        accounts\n"
	"Exit 0 done, 1 refused (already registered) or not found, 2 usage error.\n",
};

/* Printable text without control characters; a person's fields end up in reports. */
static bool text_ok(const char *s)
{
	if (!s || !*s)
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < ' ' || *p == 0x7f)
			return false;
	return true;
}

static bool employee_no_ok(const char *s)
{
	if (!s || !*s || strlen(s) > 63)
		return false;
	for (const char *p = s; *p; p++)
		if (!(*p >= '0' && *p <= '9') && !(*p >= 'A' && *p <= 'Z') && !(*p >= 'a' && *p <= 'z') &&
		    *p != '-' && *p != '_' && *p != '.')
			return false;
	return true;
}

static int person_add(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "email", required_argument, NULL, 'e' },
		{ "manager", required_argument, NULL, 'm' },
		{ 0 },
	};
	const char *name = NULL, *email = NULL, *manager = NULL, *no;
	struct isms_err err = { 0 };
	char details[512] = "";
	size_t pos = 0;
	int64_t now = isms_now();
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "n:e:m:", opts, NULL)) != -1) {
		switch (c) {
		case 'n': name = optarg; break;
		case 'e': email = optarg; break;
		case 'm': manager = optarg; break;
		default: return cli_usage(cli, &cmd_person_def, "unknown option");
		}
	}
	if (optind != argc - 1)
		return cli_usage(cli, &cmd_person_def, "expected exactly one EMPLOYEE_NO");
	no = argv[optind];
	if (!employee_no_ok(no))
		return cli_usage(cli, &cmd_person_def, "employee number '%s': letters, digits, '-', '_', '.'", no);
	if (!text_ok(name))
		return cli_usage(cli, &cmd_person_def, "--name is required (printable text)");
	if (!text_ok(email) || !strchr(email, '@') || strchr(email, ' '))
		return cli_usage(cli, &cmd_person_def, "--email is required (an address with '@')");
	if (manager && (!employee_no_ok(manager) || strcmp(manager, no) == 0))
		return cli_usage(cli, &cmd_person_def, "--manager must be another employee number");
	r = cli_open(cli);
	if (r != EXIT_OK)
		return r;
	r = isms_db_exec(cli->ctx.reg, &err,
			 "INSERT INTO people (employee_no, name, email, manager_no, status, source, created_at,"
			 " updated_at) VALUES (?, ?, ?, ?, 'active', 'local', ?, ?)",
			 "ssssii", no, name, email, manager, now, now);
	if (r == -EEXIST)
		return cli_fail(cli, EXIT_FINDINGS, "person add: employee %s is already registered", no);
	if (r < 0)
		return cli_fail(cli, EXIT_USAGE, "person add: %s", err.msg);
	isms_audit_kv(details, sizeof(details), &pos, "manager", manager);
	cli_audit(cli, "person_add", no, "ok", NULL, details);
	if (!cli->json)
		printf("person %s (%s) registered\n", no, name);
	else
		cli_json_print(json_pack("{s:s,s:s,s:s,s:s*}", "employee_no", no, "name", name, "email", email,
					 "manager", manager));
	return EXIT_OK;
}

#define COL(st, i) ((const char *)sqlite3_column_text((st), (i)))

/* ISO time of a column, or NULL for NULL. */
static const char *col_time(sqlite3_stmt *st, int i, char *buf, size_t len)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return NULL;
	return isms_time_iso(sqlite3_column_int64(st, i), buf, len);
}

/* The person's accounts as a JSON array of {account, kind, status}. */
static int person_accounts(struct cli *cli, int64_t id, json_t **ret, struct isms_err *err)
{
	sqlite3_stmt *st = isms_db_query(cli->ctx.reg, err, "SELECT name, kind, status FROM accounts"
					 " WHERE person_id = ? ORDER BY name", "i", id);
	json_t *arr = json_array();
	int r;

	if (!st) {
		json_decref(arr);
		return err->code ? err->code : -EIO;
	}
	while ((r = isms_db_step(st, err)) == 1)
		json_array_append_new(arr, json_pack("{s:s,s:s,s:s}", "account", COL(st, 0), "kind", COL(st, 1),
						     "status", COL(st, 2)));
	isms_db_done(st);
	if (r < 0) {
		json_decref(arr);
		return r;
	}
	*ret = arr;
	return 0;
}

static int person_show(struct cli *cli, const char *no)
{
	struct isms_err err = { 0 };
	char term[32], removed[32];
	const char *t_at, *t_removed;
	json_t *accounts = NULL, *a;
	sqlite3_stmt *st;
	size_t i;
	int r;

	if ((r = cli_open(cli)) != EXIT_OK)
		return r;
	st = isms_db_query(cli->ctx.reg, &err,
			   "SELECT p.id, p.employee_no, p.name, p.email, p.manager_no, m.name, p.department, p.title,"
			   " p.status, p.source, coalesce(t.terminated_at, p.terminated_at), t.revoked_at, t.source"
			   " FROM people p LEFT JOIN people m ON m.employee_no = p.manager_no"
			   " LEFT JOIN terminations t ON t.employee_no = p.employee_no WHERE p.employee_no = ?",
			   "s", no);
	if (!st)
		return cli_fail(cli, EXIT_USAGE, "person show: %s", err.msg);
	r = isms_db_step(st, &err);
	if (r == 1)
		r = person_accounts(cli, sqlite3_column_int64(st, 0), &accounts, &err);
	else if (r == 0)
		r = -ENOENT;
	if (r < 0) {
		isms_db_done(st);
		return r == -ENOENT ? cli_fail(cli, EXIT_FINDINGS, "person show: no person '%s'", no)
				    : cli_fail(cli, EXIT_USAGE, "person show: %s", err.msg);
	}
	t_at = col_time(st, 10, term, sizeof(term));
	t_removed = col_time(st, 11, removed, sizeof(removed));
	if (cli->json) {
		cli_json_print(json_pack("{s:s,s:s,s:s?,s:s?,s:s?,s:s?,s:s?,s:s,s:s,s:s?,s:s?,s:s?,s:o}",
					 "employee_no", COL(st, 1), "name", COL(st, 2), "email", COL(st, 3),
					 "manager", COL(st, 4), "manager_name", COL(st, 5), "department", COL(st, 6),
					 "title", COL(st, 7), "status", COL(st, 8), "source", COL(st, 9),
					 "terminated_at", t_at, "access_removed_at", t_removed, "termination_source",
					 COL(st, 12), "accounts", accounts));
		isms_db_done(st);
		return EXIT_OK;
	}
	printf("person      %s %s\n", COL(st, 1), COL(st, 2));
	printf("email       %s\n", COL(st, 3) ? COL(st, 3) : "-");
	if (!COL(st, 4))
		printf("manager     -\n");
	else
		printf("manager     %s %s\n", COL(st, 4), COL(st, 5) ? COL(st, 5) : "(not registered)");
	printf("department  %s\ntitle       %s\nstatus      %s\nsource      %s\n", COL(st, 6) ? COL(st, 6) : "-",
	       COL(st, 7) ? COL(st, 7) : "-", COL(st, 8), COL(st, 9));
	if (t_at)
		printf("terminated  %s%s%s%s; access %s%s\n", t_at, COL(st, 12) ? " (" : "",
		       COL(st, 12) ? COL(st, 12) : "", COL(st, 12) ? ")" : "",
		       t_removed ? "removed " : "not yet removed", t_removed ? t_removed : "");
	printf("accounts    ");
	json_array_foreach(accounts, i, a)
		printf("%s%s (%s, %s)", i ? ", " : "", json_string_value(json_object_get(a, "account")),
		       json_string_value(json_object_get(a, "kind")), json_string_value(json_object_get(a, "status")));
	printf("%s\n", json_array_size(accounts) ? "" : "none");
	json_decref(accounts);
	isms_db_done(st);
	return EXIT_OK;
}

static int person_list(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "status", required_argument, NULL, 's' },
		{ 0 },
	};
	const char *status = NULL;
	struct isms_err err = { 0 };
	json_t *arr = NULL;
	sqlite3_stmt *st;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 's')
			return cli_usage(cli, &cmd_person_def, "list: unknown option");
		status = optarg;
	}
	if (optind != argc)
		return cli_usage(cli, &cmd_person_def, "list: unexpected argument '%s'", argv[optind]);
	if (status && strcmp(status, "active") != 0 && strcmp(status, "departed") != 0 &&
	    strcmp(status, "leave") != 0)
		return cli_usage(cli, &cmd_person_def, "list: --status is active, departed or leave");
	if ((r = cli_open(cli)) != EXIT_OK)
		return r;
	st = isms_db_query(cli->ctx.reg, &err,
			   "SELECT p.employee_no, p.name, p.status, p.manager_no,"
			   " (SELECT group_concat(name, ',') FROM (SELECT name FROM accounts WHERE person_id = p.id"
			   " ORDER BY name)),"
			   " (SELECT json_group_array(name) FROM (SELECT name FROM accounts WHERE person_id = p.id"
			   " ORDER BY name))"
			   " FROM people p WHERE ?1 IS NULL OR p.status = ?1 ORDER BY p.employee_no",
			   "s", status);
	if (!st)
		return cli_fail(cli, EXIT_USAGE, "person list: %s", err.msg);
	if (cli->json)
		arr = json_array();
	else
		printf("%-12s %-28s %-9s %-12s %s\n", "EMPLOYEE_NO", "NAME", "STATUS", "MANAGER", "ACCOUNTS");
	while ((r = isms_db_step(st, &err)) == 1) {
		if (arr) {
			json_t *na = json_loads(COL(st, 5), 0, NULL);

			json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s?,s:o}", "employee_no", COL(st, 0),
							     "name", COL(st, 1), "status", COL(st, 2), "manager",
							     COL(st, 3), "accounts", na ? na : json_array()));
		} else {
			printf("%-12s %-28s %-9s %-12s %s\n", COL(st, 0), COL(st, 1), COL(st, 2),
			       COL(st, 3) ? COL(st, 3) : "-", COL(st, 4) ? COL(st, 4) : "-");
		}
	}
	isms_db_done(st);
	if (r < 0) {
		json_decref(arr);
		return cli_fail(cli, EXIT_USAGE, "person list: %s", err.msg);
	}
	if (arr)
		cli_json_print(arr);
	return EXIT_OK;
}

int cmd_person(struct cli *cli, int argc, char **argv)
{
	if (argc < 2)
		return cli_usage(cli, &cmd_person_def, "missing subcommand");
	if (strcmp(argv[1], "add") == 0)
		return person_add(cli, argc - 1, argv + 1);
	if (strcmp(argv[1], "show") == 0 && argc == 3)
		return person_show(cli, argv[2]);
	if (strcmp(argv[1], "list") == 0)
		return person_list(cli, argc - 1, argv + 1);
	return cli_usage(cli, &cmd_person_def, "unknown subcommand '%s' or wrong arguments", argv[1]);
}
