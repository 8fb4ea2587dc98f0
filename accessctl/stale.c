/* accessctl stale (accounts nobody uses) and lastlog import (seed last-login
 * times from wtmp so a host adopting pam_isms does not see everyone as stale). */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <utmpx.h>

#include "audit.h"
#include "clock.h"
#include "cli.h"
#include "db.h"
#include "revoke.h"
#include "util.h"

const struct command cmd_stale_def = {
	"stale", cmd_stale, "accounts with no login for N days, or never used",
	"usage: accessctl stale [--days N] [--apply]\n\n"
	"List active accounts (break-glass ones excepted) with no login for N days, and\n"
	"accounts never used that the registry has known for more than N days. Each\n"
	"line shows the last login and where it came from: 'pam' (pam_isms), 'wtmp'\n"
	"(seeded by 'accessctl lastlog import') or 'never'.\n\n"
	"Options:\n"
	"  --days N    threshold in days (default [general] stale_days, 90)\n"
	"  --apply     revoke each one listed, with reason 'stale'\n"
	"  --json      (global) one JSON document\n\n"
	"Exit status: 0 none stale (or all revoked with --apply), 1 stale accounts listed\n"
	"or a revocation incomplete, 2 usage or configuration error.\n",
};

const struct command cmd_lastlog_def = {
	"lastlog", cmd_lastlog, "seed last-login times from wtmp",
	"usage: accessctl lastlog import\n\n"
	"Read the login records of [paths] wtmp_file (default /var/log/wtmp) and record\n"
	"each account's latest login in state.db with source 'wtmp', unless pam_isms\n"
	"already holds a later one. Run once when a host adopts pam_isms, so that\n"
	"'accessctl stale' does not report every account on day one. Running it again\n"
	"changes only what wtmp shows to be newer.\n\n"
	"Exit status: 0 done, 2 usage, configuration or an unreadable wtmp file.\n",
};

struct stale_acct {
	char *name, *kind, *source;
	int64_t created_at, last;
	bool have_last;
};

int cmd_stale(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "days", required_argument, NULL, 'd' },
		{ "apply", no_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ 0 },
	};
	long long days = -1;
	bool apply = false;
	struct isms_err err = { 0 };
	sqlite3_stmt *st;
	json_t *arr = NULL;
	int64_t now, cutoff;
	int c, r, found = 0, incomplete = 0;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'd' && isms_parse_int(optarg, 1, 36500, &days) == 0)
			continue;
		if (c == 'a')
			apply = true;
		else if (c == 'j')
			cli->json = true;
		else
			return cli_usage(cli, &cmd_stale_def, c == 'd' ? "--days: a number of days from 1 to 36500"
								     : "unknown option");
	}
	if (optind != argc)
		return cli_usage(cli, &cmd_stale_def, "unexpected argument '%s'", argv[optind]);
	r = cli_open(cli);
	if (r != EXIT_OK)
		return r;
	if (days < 0)
		days = cli->conf->stale_days;
	now = isms_now();
	cutoff = now - (int64_t)days * 86400;
	st = isms_db_query(cli->ctx.reg, &err,
			   "SELECT name, kind, created_at FROM accounts WHERE status NOT IN ('revoked', 'departed') "
			   "AND kind <> 'breakglass' ORDER BY name", "");
	if (!st)
		return cli_fail(cli, EXIT_USAGE, "%s", err.msg);
	if (cli->json)
		arr = json_array();
	else
		printf("%-20s %-10s %-21s %-6s %s\n", "ACCOUNT", "KIND", "LAST LOGIN", "SOURCE", "DAYS");
	while ((r = isms_db_step(st, &err)) == 1) {
		struct stale_acct a = {
			.name = isms_db_col_strdup(st, 0), .kind = isms_db_col_strdup(st, 1),
			.created_at = sqlite3_column_int64(st, 2),
		};
		sqlite3_stmt *ls;
		char when[32];
		int64_t since;

		ls = isms_db_query(cli->ctx.state, &err, "SELECT last_login_at, source FROM logins WHERE account = ?",
				   "s", a.name ? a.name : "");
		if (ls && isms_db_step(ls, NULL) == 1) {
			a.have_last = true;
			a.last = sqlite3_column_int64(ls, 0);
			a.source = isms_db_col_strdup(ls, 1);
		}
		isms_db_done(ls);
		since = a.have_last ? a.last : a.created_at;
		if (a.name && since < cutoff) {
			found++;
			if (arr)
				json_array_append_new(arr, json_pack("{s:s, s:s?, s:o, s:s, s:I, s:I}", "account", a.name,
					"kind", a.kind, "last_login", a.have_last ? json_integer(a.last) : json_null(),
					"source", a.have_last && a.source ? a.source : "never",
					"created_at", (json_int_t)a.created_at, "days", (json_int_t)((now - since) / 86400)));
			else
				printf("%-20s %-10s %-21s %-6s %lld%s\n", a.name, a.kind ? a.kind : "-",
				       a.have_last ? isms_time_iso(a.last, when, sizeof(when)) : "never",
				       a.have_last && a.source ? a.source : "-", (long long)((now - since) / 86400),
				       a.have_last ? "" : " (since created)");
			if (apply) {
				struct isms_revoke_req req = {
					.account = a.name, .trigger = "stale", .reason = "stale", .actor = cli->actor,
				};
				struct isms_revoke_result res;
				struct isms_err rerr = { 0 };
				int rr = isms_revoke_account(&cli->ctx, &req, &res, &rerr);

				if (rr < 0) {
					incomplete++;
					fprintf(stderr, "%s: %s: %s\n", cli->prog, a.name,
						rr == -EAGAIN ? res.remaining : rerr.msg);
				}
			}
		}
		free(a.name);
		free(a.kind);
		free(a.source);
	}
	isms_db_done(st);
	if (r < 0) {
		json_decref(arr);
		return cli_fail(cli, EXIT_USAGE, "%s", err.msg);
	}
	if (arr)
		cli_json_print(json_pack("{s:I, s:o, s:b}", "days", (json_int_t)days, "stale", arr, "applied", apply));
	else
		printf("%d stale account(s) (no login for %lld days)%s\n", found, days,
		       apply ? (incomplete ? "; some revocations incomplete" : "; revoked") : "");
	if (apply)
		return incomplete ? EXIT_FINDINGS : EXIT_OK;
	return found ? EXIT_FINDINGS : EXIT_OK;
}

/* Latest USER_PROCESS record per user. */
struct seen {
	char user[sizeof(((struct utmpx *)0)->ut_user) + 1];
	char host[sizeof(((struct utmpx *)0)->ut_host) + 1];
	int64_t t;
};

static int lastlog_import(struct cli *cli)
{
	struct isms_err err = { 0 };
	struct seen *seen = NULL;
	size_t nseen = 0, records = 0;
	struct utmpx ut;
	int updated = 0, r = 0;
	FILE *f;

	f = fopen(cli->conf->wtmp_file, "re");
	if (!f)
		return cli_fail(cli, EXIT_USAGE, "%s: %s", cli->conf->wtmp_file, strerror(errno));
	while (fread(&ut, sizeof(ut), 1, f) == 1) {
		char user[sizeof(ut.ut_user) + 1];
		size_t i;

		records++;
		if (ut.ut_type != USER_PROCESS || !ut.ut_user[0])
			continue;
		memcpy(user, ut.ut_user, sizeof(ut.ut_user));
		user[sizeof(ut.ut_user)] = '\0';
		for (i = 0; i < nseen && strcmp(seen[i].user, user) != 0; i++)
			;
		if (i == nseen) {
			struct seen *nv = realloc(seen, (nseen + 1) * sizeof(*nv));

			if (!nv) {
				free(seen);
				fclose(f);
				return cli_fail(cli, EXIT_USAGE, "out of memory");
			}
			seen = nv;
			memset(&seen[nseen], 0, sizeof(seen[nseen]));
			memcpy(seen[nseen].user, user, sizeof(user));
			seen[nseen].t = -1;
			nseen++;
		}
		if ((int64_t)ut.ut_tv.tv_sec > seen[i].t) {
			seen[i].t = ut.ut_tv.tv_sec;
			memcpy(seen[i].host, ut.ut_host, sizeof(ut.ut_host));
			seen[i].host[sizeof(ut.ut_host)] = '\0';
		}
	}
	fclose(f);
	r = isms_db_begin(cli->ctx.state, &err);
	for (size_t i = 0; r == 0 && i < nseen; i++) {
		r = isms_db_exec(cli->ctx.state, &err,
				 "INSERT INTO logins (account, last_login_at, service, rhost, source) "
				 "VALUES (?, ?, NULL, ?, 'wtmp') ON CONFLICT(account) DO UPDATE SET "
				 "last_login_at = excluded.last_login_at, service = NULL, rhost = excluded.rhost, "
				 "source = 'wtmp' WHERE excluded.last_login_at > logins.last_login_at",
				 "sis", seen[i].user, seen[i].t, seen[i].host[0] ? seen[i].host : NULL);
		if (r == 0)
			updated += sqlite3_changes(cli->ctx.state);
	}
	if (r == 0)
		r = isms_db_commit(cli->ctx.state, &err);
	else
		isms_db_rollback(cli->ctx.state);
	free(seen);
	if (r < 0)
		return cli_fail(cli, EXIT_USAGE, "%s", err.msg);
	{
		char details[160];
		size_t pos = 0;
		char n[32];

		details[0] = '\0';
		isms_audit_kv(details, sizeof(details), &pos, "file", cli->conf->wtmp_file);
		(void)snprintf(n, sizeof(n), "%d", updated);
		isms_audit_kv(details, sizeof(details), &pos, "accounts", n);
		cli_audit(cli, "lastlog_import", NULL, "ok", NULL, details);
	}
	if (cli->json)
		cli_json_print(json_pack("{s:s, s:I, s:I, s:i}", "file", cli->conf->wtmp_file, "records",
					 (json_int_t)records, "users", (json_int_t)nseen, "updated", updated));
	else
		printf("%s: %zu record(s), %zu user(s), %d last-login time(s) seeded or updated\n",
		       cli->conf->wtmp_file, records, nseen, updated);
	return EXIT_OK;
}

int cmd_lastlog(struct cli *cli, int argc, char **argv)
{
	int r;

	if (argc != 2 || strcmp(argv[1], "import") != 0)
		return cli_usage(cli, &cmd_lastlog_def, "the only subcommand is 'import'");
	r = cli_open(cli);
	if (r != EXIT_OK)
		return r;
	return lastlog_import(cli);
}
