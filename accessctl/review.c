/* accessctl review: campaigns from start to close — snapshot, worksheets per
 * reviewer, decisions back, apply and verify, status, close with evidence. */
#include <getopt.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "clock.h"
#include "db.h"
#include "evidence.h"
#include "review.h"
#include "review_cli.h"
#include "util.h"

const struct command cmd_review_def = {
	"review", cmd_review, "access-review campaigns: start, worksheets, import, apply, close",
	"usage: accessctl [--root DIR] [--json] review SUBCOMMAND ...\n\n"
	"  start --period 2026-Q3 [--scope privileged|critical|all]\n"
	"        freeze a campaign: the population as of now (quarterly: privileged access\n"
	"        and critical systems; annual, YYYY-annual or the [review] annual_quarter:\n"
	"        everything), each row routed to the owner's manager, else [review]\n"
	"        fallback_reviewer, never to the owner. A campaign is never restarted.\n"
	"  worksheets [CAMPAIGN] -o DIR\n"
	"        per reviewer CAMPAIGN-REVIEWER.csv and .xlsx, and CAMPAIGN-summary.html\n"
	"  import [--campaign NAME] FILE.csv...\n"
	"        read returned worksheets (CSV is the return format: save the XLSX as CSV).\n"
	"        Rows are matched by row_id; a row of another campaign, an unknown row id or\n"
	"        an altered identifying column (campaign, row_id, system, account, uid,\n"
	"        entitlement, granted, privileged) refuses the whole import, naming\n"
	"        file:line:column. decision: keep | revoke | modify | exception (with\n"
	"        exception_until or 'exception until YYYY-MM-DD'). Keeping privileged access\n"
	"        and exceptions need a justification. Re-importing changes nothing.\n"
	"  apply CAMPAIGN\n"
	"        revoke: the account is revoked through the revocation engine; modify: the\n"
	"        one direct membership leaves the group file, the directory group and the\n"
	"        registry, through the same engine. Each is re-read to confirm it took;\n"
	"        one that did not is reported and the exit status is 1.\n"
	"  status [CAMPAIGN]\n"
	"        per reviewer: rows, decided, pending, done/pending/overdue (exit 1 overdue)\n"
	"  close CAMPAIGN [-o DIR]\n"
	"        apply what is decided, then undecided rows per [review] no_response\n"
	"        (escalate: listed for the reviewer's manager; revoke: revoked), and write\n"
	"        the signed evidence bundle (default: next to registry.db, evidence/CAMPAIGN)\n"
	"  export CAMPAIGN --format baton-csv [-o FILE]\n"
	"        the population as a ConductorOne baton-file CSV: record_type user,\n"
	"        resource, entitlement, direct_user_grant, grant_inheritance_mapping\n",
};

static int fail_err(struct cli *cli, const struct isms_err *err)
{
	return cli_fail(cli, err->code == -ENOMEM || err->code == -EIO ? EXIT_USAGE : EXIT_FINDINGS,
			"review: %s", err->msg);
}

static int open_campaign(struct cli *cli, const char *name, struct isms_review_campaign *c)
{
	struct isms_err err = { 0 };
	int r = cli_open(cli);

	if (r != EXIT_OK)
		return r;
	if (isms_review_campaign_get(cli->ctx.reg, name, c, &err) < 0)
		return cli_fail(cli, EXIT_USAGE, "review: %s", err.msg);
	return EXIT_OK;
}

static int review_start(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "period", required_argument, NULL, 'p' },
		{ "scope", required_argument, NULL, 's' },
		{ 0 },
	};
	struct isms_review_campaign c;
	struct isms_err err = { 0 };
	const char *period = NULL, *scope = NULL;
	char asof[32], due[32], details[512];
	int64_t rows = 0;
	int o, r;

	optind = 0;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'p')
			period = optarg;
		else if (o == 's')
			scope = optarg;
		else
			return cli_usage(cli, &cmd_review_def, "start: unknown option");
	}
	if (!period || optind != argc)
		return cli_usage(cli, &cmd_review_def, "start needs --period YYYY-Qn or YYYY-annual");
	if ((r = cli_open(cli)) != EXIT_OK)
		return r;
	if (isms_review_start(&cli->ctx, period, scope, cli_progress_cb, NULL, &c, &rows, &err) < 0) {
		cli_audit(cli, "review_start", period, "fail", "refused", err.msg);
		return cli_fail(cli, err.code == -EINVAL ? EXIT_USAGE : EXIT_FINDINGS, "review start: %s",
				err.msg);
	}
	(void)snprintf(details, sizeof(details), "kind=%s scope=%s rows=%lld snapshot_sha256=%s",
		       c.kind, c.scope, (long long)rows, c.snapshot_sha256);
	cli_audit(cli, "review_start", c.name, "ok", NULL, details);
	if (cli->json)
		cli_json_print(json_pack("{s:s,s:s,s:s,s:I,s:s,s:s,s:s}", "campaign", c.name, "kind", c.kind,
					 "scope", c.scope, "rows", (json_int_t)rows, "as_of",
					 isms_time_iso(c.as_of, asof, sizeof(asof)), "due",
					 isms_time_iso(c.due_at, due, sizeof(due)), "snapshot_sha256",
					 c.snapshot_sha256));
	else
		printf("campaign %s started: %s review of %s, %lld rows as of %s, due %s\n"
		       "snapshot sha256 %s\n", c.name, c.kind, c.scope, (long long)rows,
		       isms_time_iso(c.as_of, asof, sizeof(asof)), isms_time_iso(c.due_at, due, sizeof(due)),
		       c.snapshot_sha256);
	isms_review_campaign_clear(&c);
	return EXIT_OK;
}

static int review_worksheets(struct cli *cli, int argc, char **argv)
{
	struct isms_review_campaign c;
	const char *out = NULL, *name = NULL;
	int o, r;

	optind = 0;
	while ((o = getopt(argc, argv, "o:")) != -1) {
		if (o != 'o')
			return cli_usage(cli, &cmd_review_def, "worksheets: unknown option");
		out = optarg;
	}
	if (optind < argc)
		name = argv[optind++];
	if (!out || optind != argc)
		return cli_usage(cli, &cmd_review_def, "worksheets [CAMPAIGN] -o DIR");
	if ((r = open_campaign(cli, name, &c)) != EXIT_OK)
		return r;
	r = review_write_worksheets(cli, &c, out, true);
	isms_review_campaign_clear(&c);
	return r;
}

static void import_report(void *u, const char *row_id, const char *account, const char *entitlement,
			  const char *decision, bool ok)
{
	struct cli *cli = u;
	char details[512];
	size_t pos = 0;

	(void)ok;
	details[0] = '\0';
	isms_audit_kv(details, sizeof(details), &pos, "row", row_id);
	isms_audit_kv(details, sizeof(details), &pos, "entitlement", entitlement);
	isms_audit_kv(details, sizeof(details), &pos, "decision", decision);
	cli_audit(cli, "review_decision", account, "ok", NULL, details);
}

static int review_import(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { "campaign", required_argument, NULL, 'c' }, { 0 } };
	struct isms_review_import_stats st;
	struct isms_err err = { 0 };
	const char *campaign = NULL;
	int o, r;

	optind = 0;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o != 'c')
			return cli_usage(cli, &cmd_review_def, "import: unknown option");
		campaign = optarg;
	}
	if (optind >= argc)
		return cli_usage(cli, &cmd_review_def, "import needs one or more FILE.csv");
	if ((r = cli_open(cli)) != EXIT_OK)
		return r;
	r = isms_review_import(&cli->ctx, argv + optind, (size_t)(argc - optind), campaign, cli->actor,
			       import_report, cli, &st, &err);
	if (r < 0) {
		cli_audit(cli, "review_import", campaign ? campaign : argv[optind], "fail", "refused", err.msg);
		fprintf(stderr, "%s review import: %s\n%s review import: nothing imported\n", cli->prog,
			err.msg, cli->prog);
		return err.code == -ENOMEM || err.code == -EIO ? EXIT_USAGE : EXIT_FINDINGS;
	}
	{
		char details[128];

		(void)snprintf(details, sizeof(details), "files=%d rows=%lld changed=%lld", argc - optind,
			       (long long)st.rows, (long long)st.changed);
		cli_audit(cli, "review_import", campaign ? campaign : argv[optind], "ok", NULL, details);
	}
	if (cli->json)
		cli_json_print(json_pack("{s:I,s:I,s:I}", "rows", (json_int_t)st.rows, "decided",
					 (json_int_t)st.decided, "changed", (json_int_t)st.changed));
	else
		printf("imported %lld rows: %lld with a decision, %lld recorded or changed\n",
		       (long long)st.rows, (long long)st.decided, (long long)st.changed);
	return EXIT_OK;
}

static void apply_report(void *u, const char *row_id, const char *account, const char *entitlement,
			 const char *result, bool ok)
{
	struct cli *cli = u;
	char details[1024];
	size_t pos = 0;

	details[0] = '\0';
	isms_audit_kv(details, sizeof(details), &pos, "row", row_id);
	isms_audit_kv(details, sizeof(details), &pos, "entitlement", entitlement);
	isms_audit_kv(details, sizeof(details), &pos, "result", result);
	cli_audit(cli, "review_apply", account, ok ? "ok" : "fail", ok ? NULL : "not_verified", details);
	if (!cli->json)
		printf("%-4s %-16s %-16s %s\n", ok ? "ok" : "FAIL", account, entitlement, result);
}

static int review_apply(struct cli *cli, int argc, char **argv)
{
	struct isms_review_campaign c;
	struct isms_err err = { 0 };
	int r;

	if (argc != 2)
		return cli_usage(cli, &cmd_review_def, "apply CAMPAIGN");
	if ((r = open_campaign(cli, argv[1], &c)) != EXIT_OK)
		return r;
	if (strcmp(c.status, "open") != 0) {
		isms_review_campaign_clear(&c);
		return cli_fail(cli, EXIT_FINDINGS, "review apply: campaign %s is closed", argv[1]);
	}
	r = isms_review_apply(&cli->ctx, &c, cli->actor, apply_report, cli, &err);
	isms_review_campaign_clear(&c);
	if (r == -EAGAIN)
		return cli_fail(cli, EXIT_FINDINGS, "review apply: %s", err.msg);
	if (r < 0)
		return fail_err(cli, &err);
	if (!cli->json)
		printf("every decision applied and verified\n");
	return EXIT_OK;
}

static int review_close(struct cli *cli, int argc, char **argv)
{
	struct isms_review_campaign c;
	struct isms_err err = { 0 };
	const char *out = NULL;
	char *dir = NULL, details[600];
	int o, r, rc;

	optind = 0;
	while ((o = getopt(argc, argv, "o:")) != -1) {
		if (o != 'o')
			return cli_usage(cli, &cmd_review_def, "close: unknown option");
		out = optarg;
	}
	if (optind != argc - 1)
		return cli_usage(cli, &cmd_review_def, "close CAMPAIGN [-o DIR]");
	if ((r = open_campaign(cli, argv[optind], &c)) != EXIT_OK)
		return r;
	if (out) {
		dir = strdup(out);
	} else {
		char *reg = strdup(cli->conf->registry_db);

		if (reg && asprintf(&dir, "%s/evidence/%s", dirname(reg), c.name) < 0)
			dir = NULL;
		free(reg);
	}
	if (!dir) {
		isms_review_campaign_clear(&c);
		return cli_fail(cli, EXIT_USAGE, "out of memory");
	}
	/* Evidence is written once: an existing bundle is never overwritten. */
	if (access(dir, F_OK) == 0 && rmdir(dir) != 0) {
		rc = cli_fail(cli, EXIT_FINDINGS, "review close: %s exists; evidence is never overwritten", dir);
		goto out;
	}
	r = isms_review_close(&cli->ctx, &c, cli->actor, apply_report, cli, &err);
	if (r < 0 && r != -EAGAIN) {
		rc = fail_err(cli, &err);
		goto out;
	}
	rc = r == -EAGAIN ? EXIT_FINDINGS : EXIT_OK;
	if (r == -EAGAIN)
		fprintf(stderr, "%s review close: %s\n", cli->prog, err.msg);
	o = review_write_bundle(cli, &c, dir);
	if (o != EXIT_OK) {
		rc = o;
		goto out;
	}
	(void)snprintf(details, sizeof(details), "evidence=%s no_response=%s", dir,
		       cli->conf->review_no_response == ISMS_NORESP_REVOKE ? "revoke" : "escalate");
	cli_audit(cli, "review_close", c.name, rc == EXIT_OK ? "ok" : "fail",
		  rc == EXIT_OK ? NULL : "needs_attention", details);
	if (cli->json)
		cli_json_print(json_pack("{s:s,s:s,s:b}", "campaign", c.name, "evidence", dir,
					 "needs_attention", rc != EXIT_OK));
	else
		printf("campaign %s closed; evidence bundle %s (check with 'accessctl evidence verify %s')\n",
		       c.name, dir, dir);
out:
	free(dir);
	isms_review_campaign_clear(&c);
	return rc;
}

static int review_export(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { "format", required_argument, NULL, 'f' }, { 0 } };
	struct isms_review_campaign c;
	struct isms_err err = { 0 };
	const char *format = NULL, *out = NULL;
	FILE *f = stdout;
	int o, r;

	optind = 0;
	while ((o = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		if (o == 'f')
			format = optarg;
		else if (o == 'o')
			out = optarg;
		else
			return cli_usage(cli, &cmd_review_def, "export: unknown option");
	}
	if (optind != argc - 1 || !format || strcmp(format, "baton-csv") != 0)
		return cli_usage(cli, &cmd_review_def, "export CAMPAIGN --format baton-csv [-o FILE]");
	if ((r = open_campaign(cli, argv[optind], &c)) != EXIT_OK)
		return r;
	if (out && !(f = fopen(out, "we"))) {
		isms_review_campaign_clear(&c);
		return cli_fail(cli, EXIT_USAGE, "review export: %s: %s", out, strerror(errno));
	}
	r = isms_review_export_baton(cli->ctx.reg, &c, f, &err);
	if (out && fclose(f) != 0 && r == 0)
		r = isms_err_set(&err, -EIO, "%s: %s", out, strerror(errno));
	else if (!out)
		(void)fflush(stdout);
	isms_review_campaign_clear(&c);
	return r < 0 ? fail_err(cli, &err) : EXIT_OK;
}

int cmd_review(struct cli *cli, int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(struct cli *, int, char **);
	} subs[] = {
		{ "start", review_start }, { "worksheets", review_worksheets }, { "import", review_import },
		{ "apply", review_apply }, { "status", review_status }, { "close", review_close },
		{ "export", review_export },
	};

	if (argc < 2)
		return cli_usage(cli, &cmd_review_def, "missing subcommand");
	for (size_t i = 0; i < ISMS_ARRAY_SIZE(subs); i++)
		if (strcmp(argv[1], subs[i].name) == 0)
			return subs[i].run(cli, argc - 1, argv + 1);
	return cli_usage(cli, &cmd_review_def, "unknown subcommand '%s'", argv[1]);
}
