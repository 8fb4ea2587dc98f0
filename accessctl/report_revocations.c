/* accessctl report revocations: the auditor's sample of terminations, each with
 * termination time, revocation time, delay (flagged beyond [revoke] revoke_within)
 * and every step's result. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <csv.h>

#include "clock.h"
#include "cli.h"
#include "db.h"
#include "util.h"

enum fmt { FMT_TEXT, FMT_CSV, FMT_JSON };

struct term {
	char *emp, *name, *source, *ticket;
	int64_t terminated_at, revoked_at;
	bool revoked;
};

/* "1d 2h", "3h 5m", "42s". */
static const char *fmt_delay(int64_t s, char *buf, size_t len)
{
	if (s < 0)
		s = 0;
	if (s >= 86400)
		(void)snprintf(buf, len, "%lldd %lldh", (long long)(s / 86400), (long long)(s % 86400 / 3600));
	else if (s >= 3600)
		(void)snprintf(buf, len, "%lldh %lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
	else if (s >= 60)
		(void)snprintf(buf, len, "%lldm %llds", (long long)(s / 60), (long long)(s % 60));
	else
		(void)snprintf(buf, len, "%llds", (long long)s);
	return buf;
}

/* late: revoked after the limit; overdue: still open past it; open: within it. */
static const char *flag_of(const struct term *t, int64_t now, long long within)
{
	if (t->revoked)
		return t->revoked_at - t->terminated_at > within ? "LATE" : "ok";
	return now - t->terminated_at > within ? "OVERDUE" : "open";
}

/* Steps of the person's offboarding: JSON array and a one-line summary. */
static json_t *steps_of(struct cli *cli, const char *emp, char *line, size_t len)
{
	json_t *a = json_array();
	sqlite3_stmt *st;
	size_t pos = 0;

	line[0] = '\0';
	st = isms_db_query(cli->ctx.reg, NULL,
			   "SELECT account_name, step, status, done_at FROM revocation_actions "
			   "WHERE employee_no = ? AND trigger = 'offboard' ORDER BY account_name, id", "s", emp);
	while (st && isms_db_step(st, NULL) == 1) {
		const char *acct = (const char *)sqlite3_column_text(st, 0);
		const char *step = (const char *)sqlite3_column_text(st, 1);
		const char *status = (const char *)sqlite3_column_text(st, 2);

		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:o}", "account", acct, "step", step,
						   "status", status, "done_at",
						   sqlite3_column_type(st, 3) == SQLITE_NULL ? json_null() :
						   json_integer(sqlite3_column_int64(st, 3))));
		if (pos < len)
			pos += (size_t)snprintf(line + pos, len - pos, "%s%s:%s=%s", pos ? " " : "", acct, step, status);
	}
	isms_db_done(st);
	return a;
}

static void csv_field(const char *s, bool last)
{
	(void)csv_fwrite(stdout, s ? s : "", s ? strlen(s) : 0);
	putchar(last ? '\n' : ',');
}

int cmd_report_revocations(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "since", required_argument, NULL, 's' },
		{ "format", required_argument, NULL, 'f' },
		{ 0 },
	};
	enum fmt fmt = cli->json ? FMT_JSON : FMT_TEXT;
	const char *since_s = NULL;
	struct isms_err err = { 0 };
	int64_t since, now;
	long long within;
	sqlite3_stmt *st;
	json_t *arr = NULL;
	int c, r, n = 0, late = 0, open = 0;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 's')
			since_s = optarg;
		else if (c == 'f' && strcmp(optarg, "text") == 0)
			fmt = FMT_TEXT;
		else if (c == 'f' && strcmp(optarg, "csv") == 0)
			fmt = FMT_CSV;
		else if (c == 'f' && strcmp(optarg, "json") == 0)
			fmt = FMT_JSON;
		else
			return cli_usage(cli, &cmd_report_def, c == 'f' ? "--format: text, csv or json" : "unknown option");
	}
	if (!since_s || optind != argc)
		return cli_usage(cli, &cmd_report_def, "report revocations --since DATE [--format text|csv|json]");
	if (isms_time_parse(since_s, &since) < 0)
		return cli_usage(cli, &cmd_report_def, "--since '%s': want YYYY-MM-DD or @EPOCH", since_s);
	r = cli_open(cli);
	if (r != EXIT_OK)
		return r;
	within = cli->conf->revoke_within;
	now = isms_now();
	st = isms_db_query(cli->ctx.reg, &err,
			   "SELECT t.employee_no, p.name, t.terminated_at, t.revoked_at, t.source, t.ticket "
			   "FROM terminations t LEFT JOIN people p ON p.employee_no = t.employee_no "
			   "WHERE t.terminated_at >= ? ORDER BY t.terminated_at, t.employee_no", "i", since);
	if (!st)
		return cli_fail(cli, EXIT_USAGE, "%s", err.msg);
	if (fmt == FMT_JSON) {
		arr = json_array();
	} else if (fmt == FMT_CSV) {
		printf("employee_no,name,terminated_at,revoked_at,delay_seconds,limit_seconds,flag,source,ticket,steps\n");
	} else {
		char lim[32];

		printf("Terminations since %s; limit %s from termination to revocation\n\n", since_s,
		       fmt_delay(within, lim, sizeof(lim)));
		printf("%-10s %-20s %-21s %-21s %-9s %s\n", "EMPLOYEE", "NAME", "TERMINATED", "REVOKED", "DELAY", "FLAG");
	}
	while ((r = isms_db_step(st, &err)) == 1) {
		struct term t = {
			.emp = isms_db_col_strdup(st, 0), .name = isms_db_col_strdup(st, 1),
			.terminated_at = sqlite3_column_int64(st, 2),
			.revoked = sqlite3_column_type(st, 3) != SQLITE_NULL,
			.revoked_at = sqlite3_column_int64(st, 3), .source = isms_db_col_strdup(st, 4),
			.ticket = isms_db_col_strdup(st, 5),
		};
		char steps[2048], tw[32], rw[32], dl[32], dsec[32], lsec[32];
		int64_t delay = (t.revoked ? t.revoked_at : now) - t.terminated_at;
		const char *flag = flag_of(&t, now, within);
		json_t *sj = steps_of(cli, t.emp ? t.emp : "", steps, sizeof(steps));

		n++;
		late += strcmp(flag, "LATE") == 0 || strcmp(flag, "OVERDUE") == 0;
		open += !t.revoked;
		isms_time_iso(t.terminated_at, tw, sizeof(tw));
		if (t.revoked)
			isms_time_iso(t.revoked_at, rw, sizeof(rw));
		else
			(void)snprintf(rw, sizeof(rw), "-");
		(void)snprintf(dsec, sizeof(dsec), "%lld", (long long)delay);
		(void)snprintf(lsec, sizeof(lsec), "%lld", within);
		if (fmt == FMT_JSON) {
			json_array_append_new(arr, json_pack("{s:s?, s:s?, s:I, s:o, s:I, s:b, s:s, s:s?, s:s?, s:o}",
				"employee_no", t.emp, "name", t.name, "terminated_at", (json_int_t)t.terminated_at,
				"revoked_at", t.revoked ? json_integer(t.revoked_at) : json_null(),
				"delay_seconds", (json_int_t)delay, "late", flag[0] == 'L' || flag[0] == 'O',
				"flag", flag, "source", t.source, "ticket", t.ticket, "steps", sj));
			sj = NULL;
		} else if (fmt == FMT_CSV) {
			csv_field(t.emp, false);
			csv_field(t.name, false);
			csv_field(tw, false);
			csv_field(t.revoked ? rw : "", false);
			csv_field(dsec, false);
			csv_field(lsec, false);
			csv_field(flag, false);
			csv_field(t.source, false);
			csv_field(t.ticket, false);
			csv_field(steps, true);
		} else {
			printf("%-10s %-20.20s %-21s %-21s %-9s %s%s\n", t.emp ? t.emp : "-", t.name ? t.name : "-",
			       tw, rw, fmt_delay(delay, dl, sizeof(dl)), flag,
			       flag[0] == 'L' || flag[0] == 'O' ? " (over the limit)" : "");
			printf("%-10s steps: %s\n", "", steps[0] ? steps : "(none recorded)");
		}
		json_decref(sj);
		free(t.emp);
		free(t.name);
		free(t.source);
		free(t.ticket);
	}
	isms_db_done(st);
	if (r < 0) {
		json_decref(arr);
		return cli_fail(cli, EXIT_USAGE, "%s", err.msg);
	}
	if (fmt == FMT_JSON)
		cli_json_print(json_pack("{s:s, s:I, s:o, s:i, s:i}", "since", since_s, "revoke_within",
					 (json_int_t)within, "terminations", arr, "late", late, "open", open));
	else if (fmt == FMT_TEXT)
		printf("\n%d termination(s), %d over the limit, %d not yet fully revoked\n", n, late, open);
	return late ? EXIT_FINDINGS : EXIT_OK;
}
