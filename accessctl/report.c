/* accessctl report: reports for the auditor, one subcommand each. */
#include <string.h>

#include "cli.h"

const struct command cmd_report_def = {
	"report", cmd_report, "reports for the auditor",
	"usage: accessctl report revocations --since DATE [--format text|csv|json]\n\n"
	"revocations   every termination since DATE (YYYY-MM-DD or @EPOCH): termination\n"
	"              time, revocation time, delay, and each step's result per account.\n"
	"              Delays over [revoke] revoke_within (default 24h) are flagged LATE;\n"
	"              terminations still not fully revoked past it are OVERDUE.\n"
	"              --format csv has one row per termination; --json or --format json\n"
	"              one document.\n\n"
	"Exit status: 0 nothing flagged, 1 some termination over the limit, 2 usage or\n"
	"configuration error.\n",
};

static const struct {
	const char *name;
	int (*run)(struct cli *cli, int argc, char **argv);
} reports[] = {
	{ "revocations", cmd_report_revocations },
};

int cmd_report(struct cli *cli, int argc, char **argv)
{
	if (argc < 2)
		return cli_usage(cli, &cmd_report_def, "which report?");
	for (size_t i = 0; i < sizeof(reports) / sizeof(reports[0]); i++)
		if (strcmp(argv[1], reports[i].name) == 0)
			return reports[i].run(cli, argc - 1, argv + 1);
	return cli_usage(cli, &cmd_report_def, "unknown report '%s'", argv[1]);
}
