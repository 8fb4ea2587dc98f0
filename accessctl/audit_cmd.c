/* accessctl audit: the audit trail. */
#include <string.h>

#include "audit.h"
#include "cli.h"

const struct command cmd_audit_def = {
	"audit", cmd_audit, "verify the audit trail's hash chain",
	"usage: accessctl [--root DIR] [--json] audit verify\n\n"
	"  verify   walk the hash chain of the audit trail in state.db; report the\n"
	"           number of events, or the first event whose link is broken\n"
	"           (modified, deleted or reordered events). Exit 1 when broken.\n",
};

static int audit_verify(struct cli *cli)
{
	struct isms_err err = { 0 };
	int64_t count = 0, bad = 0;
	int r;

	r = cli_open(cli);
	if (r != EXIT_OK)
		return r;
	r = isms_audit_verify(cli->ctx.state, &count, &bad, &err);
	if (cli->json) {
		cli_json_print(json_pack("{s:b,s:I,s:I,s:s}", "intact", r == 0, "events", (json_int_t)count,
					 "first_broken", (json_int_t)bad, "message", r == 0 ? "" : err.msg));
	} else if (r == 0) {
		printf("audit chain intact: %lld events\n", (long long)count);
	} else {
		printf("audit chain BROKEN: %s\n", err.msg);
	}
	if (r == -EBADMSG)
		return EXIT_FINDINGS;
	return r == 0 ? EXIT_OK : cli_fail(cli, EXIT_USAGE, "audit verify: %s", err.msg);
}

int cmd_audit(struct cli *cli, int argc, char **argv)
{
	if (argc < 2)
		return cli_usage(cli, &cmd_audit_def, "missing subcommand");
	if (strcmp(argv[1], "verify") == 0 && argc == 2)
		return audit_verify(cli);
	return cli_usage(cli, &cmd_audit_def, "unknown subcommand or argument '%s'", argv[argc - 1]);
}
