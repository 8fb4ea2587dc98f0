/* accessctl review: what goes to disk and screen — worksheets per reviewer, the
 * signed evidence bundle of a closed campaign, and per-reviewer status. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "db.h"
#include "evidence.h"
#include "review_cli.h"
#include "util.h"

struct ws_ctx {
	struct cli *cli;
	const struct isms_review_campaign *c;
	const char *dir;
	bool say;
	bool bar;                       /* progress on stderr, by rows written */
	long long done, total;
	struct isms_err err;
};

/* A reviewer's number as a file name: nothing but [A-Za-z0-9._-]. */
static void slug(const char *in, char *out, size_t len)
{
	size_t n = 0;

	for (; in && *in && n < len - 1; in++)
		out[n++] = (strchr("._-", *in) || (*in >= '0' && *in <= '9') || (*in >= 'a' && *in <= 'z') ||
			    (*in >= 'A' && *in <= 'Z')) ? *in : '_';
	out[n] = '\0';
	if (!n || out[0] == '.')
		(void)snprintf(out, len, "%s", n ? "_" : "unassigned");
}

static int ws_one(void *u, const char *no, const char *name, int64_t rows, int64_t decided)
{
	struct ws_ctx *w = u;
	char s[128], path[4096];
	int r;

	(void)decided;
	slug(no, s, sizeof(s));
	(void)snprintf(path, sizeof(path), "%s/%s-%s.csv", w->dir, w->c->name, s);
	r = isms_worksheet_write_csv(w->cli->ctx.reg, w->c, no, path, &w->err);
	if (r >= 0) {
		(void)snprintf(path, sizeof(path), "%s/%s-%s.xlsx", w->dir, w->c->name, s);
		r = isms_worksheet_write_xlsx(w->cli->ctx.reg, w->c, no, path, &w->err);
	}
	if (r >= 0 && w->say && !w->cli->json)
		printf("%-32s %7lld rows  %s/%s-%s.{csv,xlsx}\n", name, (long long)rows, w->dir,
		       w->c->name, s);
	w->done += rows;
	if (r >= 0 && w->bar)
		cli_progress("worksheets", w->done, w->total);
	return r < 0 ? r : 0;
}

int review_write_worksheets(struct cli *cli, const struct isms_review_campaign *c, const char *dir,
			    bool say)
{
	/* A bar where no line per reviewer goes to the same terminal. */
	struct ws_ctx w = { .cli = cli, .c = c, .dir = dir, .say = say,
			    .bar = !say || cli->json || !isatty(STDOUT_FILENO) };
	char path[4096];
	int r;

	if (isms_mkdir_p(dir, 0750) < 0)
		return cli_fail(cli, EXIT_USAGE, "review: cannot create %s: %s", dir, strerror(errno));
	if (w.bar && (w.total = isms_db_count(cli->ctx.reg, &w.err, "SELECT count(*) FROM review_items"
					      " WHERE campaign_id = ?", "i", c->id)) < 0)
		r = (int)w.total;
	else
		r = isms_review_reviewers(cli->ctx.reg, c->id, ws_one, &w, &w.err);
	cli_progress_end();
	if (r >= 0) {
		(void)snprintf(path, sizeof(path), "%s/%s-summary.html", dir, c->name);
		r = isms_worksheet_write_html(cli->ctx.reg, c, path, &w.err);
		if (r >= 0 && say && !cli->json)
			printf("summary                                         %s\n", path);
	}
	if (r < 0)
		return cli_fail(cli, EXIT_USAGE, "review worksheets: %s", w.err.msg);
	if (say && cli->json)
		cli_json_print(json_pack("{s:s,s:s}", "campaign", c->name, "dir", dir));
	return EXIT_OK;
}

/* One SQL result as CSV: header from the column names, cells neutralised. */
static int query_csv(sqlite3 *db, const char *path, const char *sql, int64_t id, struct isms_err *err)
{
	sqlite3_stmt *st = isms_db_query(db, err, sql, "i", id);
	const char *cells[32];
	FILE *f;
	int r = 0, n;

	if (!st)
		return err->code;
	n = sqlite3_column_count(st);
	if (n > 32 || !(f = fopen(path, "wxe"))) {
		isms_db_done(st);
		return isms_err_set(err, -EIO, "%s: %s", path, strerror(errno));
	}
	for (int i = 0; i < n; i++)
		cells[i] = sqlite3_column_name(st, i);
	if (isms_csv_write_row(f, cells, (size_t)n, false) < 0)
		r = -EIO;
	while (r >= 0 && (r = isms_db_step(st, err)) == 1) {
		for (int i = 0; i < n; i++)
			cells[i] = (const char *)sqlite3_column_text(st, i);
		if (isms_csv_write_row(f, cells, (size_t)n, true) < 0)
			r = -EIO;
	}
	isms_db_done(st);
	if (fclose(f) != 0 && r >= 0)
		r = -EIO;
	if (r == -EIO)
		return isms_err_set(err, r, "%s: write failed", path);
	return r < 0 ? r : 0;
}

static int campaign_json(const struct isms_review_campaign *c, const char *path, struct isms_err *err)
{
	char asof[32], due[32], closed[32];
	json_t *src = c->sources ? json_loads(c->sources, 0, NULL) : NULL;
	json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:o*,s:s}", "campaign", c->name, "kind", c->kind,
			      "scope", c->scope, "as_of", isms_time_iso(c->as_of, asof, sizeof(asof)),
			      "due", isms_time_iso(c->due_at, due, sizeof(due)), "closed",
			      isms_time_iso(isms_now(), closed, sizeof(closed)), "snapshot_sha256",
			      c->snapshot_sha256, "sources", src, "tool", "accessctl " ISMS_VERSION);

	if (!o || json_dump_file(o, path, JSON_INDENT(1) | JSON_SORT_KEYS) != 0) {
		json_decref(o);
		return isms_err_set(err, -EIO, "%s: write failed", path);
	}
	json_decref(o);
	return 0;
}

#define ISO(c) "strftime('%Y-%m-%dT%H:%M:%SZ', " c ", 'unixepoch')"

int review_write_bundle(struct cli *cli, const struct isms_review_campaign *c, const char *dir)
{
	struct isms_err err = { 0 };
	char path[4096], ws[4096];
	int r;

	if (isms_mkdir_p(dir, 0750) < 0)
		return cli_fail(cli, EXIT_USAGE, "review close: cannot create %s: %s", dir, strerror(errno));
	(void)snprintf(ws, sizeof(ws), "%s/worksheets", dir);
	if ((r = review_write_worksheets(cli, c, ws, false)) != EXIT_OK)
		return r;
	(void)snprintf(path, sizeof(path), "%s/campaign.json", dir);
	r = campaign_json(c, path, &err);
	(void)snprintf(path, sizeof(path), "%s/snapshot.csv", dir);
	if (r >= 0)
		r = isms_worksheet_write_csv(cli->ctx.reg, c, NULL, path, &err);
	(void)snprintf(path, sizeof(path), "%s/decisions.csv", dir);
	if (r >= 0)
		r = query_csv(cli->ctx.reg, path,
			      "SELECT row_id, account_name AS account, entitlement, decision, "
			      "strftime('%Y-%m-%d', exception_until, 'unixepoch') AS exception_until, "
			      "justification, reviewer_no, reviewer_name, reviewed_by, " ISO("reviewed_at")
			      ", imported_from FROM review_items WHERE campaign_id = ? ORDER BY account_name,"
			      " entitlement", c->id, &err);
	(void)snprintf(path, sizeof(path), "%s/actions.csv", dir);
	if (r >= 0)
		r = query_csv(cli->ctx.reg, path,
			      "SELECT row_id, account_name AS account, entitlement, COALESCE(decision,"
			      " 'no response') AS decision, " ISO("applied_at") " AS applied_at, apply_result, "
			      ISO("verified_at") " AS verified_at FROM review_items WHERE campaign_id = ? AND applied_at"
			      " IS NOT NULL ORDER BY account_name, entitlement", c->id, &err);
	(void)snprintf(path, sizeof(path), "%s/revocations.csv", dir);
	if (r >= 0)
		r = query_csv(cli->ctx.reg, path,
			      "SELECT r.id, r.account_name AS account, r.employee_no, r.trigger, r.reason,"
			      " r.step, r.status, r.detail, " ISO("r.created_at") " AS created_at, " ISO("r.done_at")
			      " AS done_at, " ISO("r.verified_at") " AS verified_at FROM revocation_actions r, review_campaigns c WHERE"
			      " c.id = ? AND r.trigger = 'review' AND r.reason LIKE 'access review ' ||"
			      " c.name || ':%' ORDER BY r.id", c->id, &err);
	if (r >= 0)
		r = isms_evidence_seal(dir, cli->conf->signing_key, c->name, &err);
	if (r < 0)
		return cli_fail(cli, EXIT_USAGE, "review close: evidence: %s", err.msg);
	return EXIT_OK;
}

struct st_ctx {
	struct cli *cli;
	const struct isms_review_campaign *c;
	json_t *list;
	bool overdue;
	bool open;
};

static int status_one(void *u, const char *no, const char *name, int64_t rows, int64_t decided)
{
	struct st_ctx *s = u;
	const char *state = decided == rows ? "done" : !s->open ? "no response"
				: isms_now() > s->c->due_at ? "overdue" : "pending";
	char who[300];

	if (strcmp(state, "overdue") == 0)
		s->overdue = true;
	if (s->list) {
		json_array_append_new(s->list, json_pack("{s:s,s:s,s:I,s:I,s:I,s:s}", "reviewer_no", no,
							 "reviewer", name, "rows", (json_int_t)rows,
							 "decided", (json_int_t)decided, "pending",
							 (json_int_t)(rows - decided), "status", state));
		return 0;
	}
	(void)snprintf(who, sizeof(who), *no ? "%s (%s)" : "%s%s", name, no);
	printf("%-36s %7lld %8lld %8lld  %s\n", who, (long long)rows, (long long)decided,
	       (long long)(rows - decided), state);
	return 0;
}

int review_status(struct cli *cli, int argc, char **argv)
{
	struct isms_review_campaign c;
	struct isms_err err = { 0 };
	struct st_ctx s = { .cli = cli, .c = &c };
	char asof[32], due[32];
	int64_t applied = 0, verified = 0;
	sqlite3_stmt *st;
	int r;

	/* --json after the subcommand too, where scripts tend to put it. */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") != 0)
			continue;
		cli->json = true;
		memmove(&argv[i], &argv[i + 1], (size_t)(argc - i) * sizeof(*argv));
		argc--;
		break;
	}
	if (argc > 2)
		return cli_usage(cli, &cmd_review_def, "status [CAMPAIGN] [--json]");
	if ((r = cli_open(cli)) != EXIT_OK)
		return r;
	if (isms_review_campaign_get(cli->ctx.reg, argc == 2 ? argv[1] : NULL, &c, &err) < 0)
		return cli_fail(cli, EXIT_USAGE, "review status: %s", err.msg);
	s.open = strcmp(c.status, "open") == 0;
	st = isms_db_query(cli->ctx.reg, &err, "SELECT COUNT(applied_at), COUNT(verified_at) FROM"
			   " review_items WHERE campaign_id = ?", "i", c.id);
	if (st && isms_db_step(st, &err) == 1) {
		applied = sqlite3_column_int64(st, 0);
		verified = sqlite3_column_int64(st, 1);
	}
	isms_db_done(st);
	if (cli->json) {
		s.list = json_array();
	} else {
		printf("campaign %s: %s review of %s, as of %s, due %s, %s\n", c.name, c.kind, c.scope,
		       isms_time_iso(c.as_of, asof, sizeof(asof)), isms_time_iso(c.due_at, due, sizeof(due)),
		       c.status);
		printf("%-36s %7s %8s %8s  %s\n", "reviewer", "rows", "decided", "pending", "status");
	}
	r = isms_review_reviewers(cli->ctx.reg, c.id, status_one, &s, &err);
	if (r >= 0 && cli->json)
		cli_json_print(json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:o}", "campaign", c.name,
					 "kind", c.kind, "scope", c.scope, "status", c.status, "due",
					 isms_time_iso(c.due_at, due, sizeof(due)), "snapshot_sha256",
					 c.snapshot_sha256, "applied", (json_int_t)applied, "verified",
					 (json_int_t)verified, "reviewers", s.list));
	else if (r >= 0)
		printf("applied %lld, verified %lld\n", (long long)applied, (long long)verified);
	else
		json_decref(s.list);
	isms_review_campaign_clear(&c);
	if (r < 0)
		return cli_fail(cli, EXIT_USAGE, "review status: %s", err.msg);
	return s.overdue ? EXIT_FINDINGS : EXIT_OK;
}
