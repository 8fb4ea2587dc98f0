/* accessctl report: the compliance status of this host as text, JSON or one
 * self-contained HTML page. Exit 1 when any control fails, for monitoring. */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compliance.h"
#include "cli.h"
#include "util.h"

const struct command cmd_report_def = {
	"report", cmd_report, "compliance status of this host (text, HTML, JSON)",
	"usage: accessctl [--root DIR] report [--format text|html|json] [-o FILE]\n"
	"       accessctl [--root DIR] report revocations --since DATE [--format text|csv|json]\n\n"
	"One line per control with its state and the accounts behind it: MFA coverage,\n"
	"accounts without an owner, shared accounts, duplicate uids, privileged accounts\n"
	"and whether their sessions are recorded, stale accounts, locked-out tokens,\n"
	"reviews due and overdue, terminations revoked late, break-glass uses, audit\n"
	"chain integrity, last successful sync and last tested backup.\n"
	"  --format html   one self-contained page (no external fetches) with charts\n"
	"  -o FILE         write to FILE instead of standard output\n"
	"\nrevocations   every termination since DATE (YYYY-MM-DD or @EPOCH): termination\n"
	"              time, revocation time, delay, and each step's result per account.\n"
	"              Delays over [revoke] revoke_within (default 24h) are flagged LATE;\n"
	"              terminations still not fully revoked past it are OVERDUE.\n"
	"              --format csv has one row per termination; --json or --format json\n"
	"              one document.\n\n"
	"Exit status: 0 every control passes (nothing flagged), 1 a control fails or a\n"
	"termination is flagged (for monitoring), 2 usage or configuration error.\n",
};

/* A donut chart of part/whole as inline SVG. */
static void svg_donut(FILE *f, const char *label, long long part, long long whole, const char *color)
{
	double frac = whole > 0 ? (double)part / (double)whole : 1.0, r = 40, circ = 2 * M_PI * r;

	fprintf(f, "<figure><svg width=\"120\" height=\"120\" viewBox=\"0 0 120 120\" role=\"img\">"
		   "<circle cx=\"60\" cy=\"60\" r=\"40\" fill=\"none\" stroke=\"#e5e7eb\" stroke-width=\"16\"/>"
		   "<circle cx=\"60\" cy=\"60\" r=\"40\" fill=\"none\" stroke=\"%s\" stroke-width=\"16\""
		   " stroke-dasharray=\"%.1f %.1f\" transform=\"rotate(-90 60 60)\"/>"
		   "<text x=\"60\" y=\"66\" text-anchor=\"middle\" font-size=\"18\">%.0f%%</text></svg>"
		   "<figcaption>", color, frac * circ, circ, frac * 100);
	isms_html_escape(f, label);
	fprintf(f, ": %lld of %lld</figcaption></figure>\n", part, whole);
}

static void render_html(FILE *f, json_t *rep)
{
	json_t *controls = json_object_get(rep, "controls"), *c, *charts = json_object_get(rep, "charts");
	size_t i, j;
	json_t *acct;

	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
	      "<title>Access compliance: ", f);
	isms_html_escape(f, json_string_value(json_object_get(rep, "host")));
	fputs("</title><style>body{font:15px/1.4 system-ui,sans-serif;margin:2em auto;max-width:60em;color:#111}"
	      "table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4em;text-align:left;vertical-align:top}"
	      ".pass{color:#047857;font-weight:bold}.fail{color:#b91c1c;font-weight:bold}.info{color:#1d4ed8}"
	      "figure{display:inline-block;margin:0 2em 1em 0;text-align:center}small{color:#555}</style></head><body>\n", f);
	fputs("<h1>Access compliance: ", f);
	isms_html_escape(f, json_string_value(json_object_get(rep, "host")));
	fprintf(f, "</h1><p>Generated %s. <b>%lld control%s failing.</b></p>\n",
		json_string_value(json_object_get(rep, "generated_at")),
		(long long)json_integer_value(json_object_get(rep, "failing")),
		json_integer_value(json_object_get(rep, "failing")) == 1 ? "" : "s");
	svg_donut(f, "MFA enrolled", json_integer_value(json_object_get(json_object_get(charts, "mfa"), "enrolled")),
		  json_integer_value(json_object_get(json_object_get(charts, "mfa"), "required")), "#047857");
	svg_donut(f, "Latest review decided",
		  json_integer_value(json_object_get(json_object_get(charts, "review"), "decided")),
		  json_integer_value(json_object_get(json_object_get(charts, "review"), "total")), "#1d4ed8");
	fputs("<table><thead><tr><th>Control</th><th>Criterion</th><th>State</th><th>Detail</th></tr></thead><tbody>\n", f);
	json_array_foreach(controls, i, c) {
		const char *state = json_string_value(json_object_get(c, "state"));

		fputs("<tr><td>", f);
		isms_html_escape(f, json_string_value(json_object_get(c, "title")));
		fputs("</td><td>", f);
		isms_html_escape(f, json_string_value(json_object_get(c, "criterion")));
		fprintf(f, "</td><td class=\"%s\">%s</td><td>", state, state);
		isms_html_escape(f, json_string_value(json_object_get(c, "summary")));
		if (json_array_size(json_object_get(c, "accounts"))) {
			fputs("<br><small>", f);
			json_array_foreach(json_object_get(c, "accounts"), j, acct) {
				if (j)
					fputs(", ", f);
				isms_html_escape(f, json_string_value(acct));
			}
			fputs("</small>", f);
		}
		fputs("</td></tr>\n", f);
	}
	fputs("</tbody></table></body></html>\n", f);
}

static void render_text(FILE *f, json_t *rep)
{
	json_t *c, *acct;
	size_t i, j;

	fprintf(f, "Access compliance of %s at %s\n\n", json_string_value(json_object_get(rep, "host")),
		json_string_value(json_object_get(rep, "generated_at")));
	json_array_foreach(json_object_get(rep, "controls"), i, c) {
		const char *state = json_string_value(json_object_get(c, "state"));

		fprintf(f, "%-5s %-42s %s\n", !strcmp(state, "pass") ? "PASS" : !strcmp(state, "fail") ? "FAIL" : "info",
			json_string_value(json_object_get(c, "title")), json_string_value(json_object_get(c, "summary")));
		json_array_foreach(json_object_get(c, "accounts"), j, acct)
			fprintf(f, "      - %s\n", json_string_value(acct));
	}
	fprintf(f, "\n%lld control(s) failing\n", (long long)json_integer_value(json_object_get(rep, "failing")));
}

int cmd_report(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ 0 },
	};
	const char *format = cli->json ? "json" : "text", *out = NULL;
	struct isms_err err = { 0 };
	json_t *rep = NULL;
	FILE *f = stdout;
	int c, r, failing;

	if (argc > 1 && strcmp(argv[1], "revocations") == 0)
		return cmd_report_revocations(cli, argc - 1, argv + 1);
	optind = 0;
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		if (c == 'f' && (!strcmp(optarg, "text") || !strcmp(optarg, "html") || !strcmp(optarg, "json")))
			format = optarg;
		else if (c == 'o')
			out = optarg;
		else
			return cli_usage(cli, &cmd_report_def, "bad option or format");
	}
	if (optind != argc)
		return cli_usage(cli, &cmd_report_def, "unexpected argument '%s'", argv[optind]);
	if ((r = cli_open(cli)) != EXIT_OK)
		return r;
	if (isms_compliance_report(&cli->ctx, cli_progress_cb, NULL, &rep, &err) < 0)
		return cli_fail(cli, EXIT_USAGE, "report: %s", err.msg);
	if (out && !(f = fopen(out, "we"))) {
		json_decref(rep);
		return cli_fail(cli, EXIT_USAGE, "report: %s: %s", out, strerror(errno));
	}
	if (!strcmp(format, "json"))
		json_dumpf(rep, f, JSON_INDENT(2)), fputc('\n', f);
	else if (!strcmp(format, "html"))
		render_html(f, rep);
	else
		render_text(f, rep);
	failing = (int)json_integer_value(json_object_get(rep, "failing"));
	if (out && fclose(f) != 0)
		r = cli_fail(cli, EXIT_USAGE, "report: %s: write failed", out);
	else
		r = failing ? EXIT_FINDINGS : EXIT_OK;
	json_decref(rep);
	cli_audit(cli, "report", NULL, failing ? "fail" : "ok", NULL, NULL);
	return r;
}
