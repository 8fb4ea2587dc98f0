/* accessctl revoke / restore: one account, by hand, with a reason. */
#include <getopt.h>
#include <string.h>

#include "cli.h"
#include "revoke.h"

const struct command cmd_revoke_def = {
	"revoke", cmd_revoke, "revoke an account everywhere it grants access",
	"usage: accessctl revoke NAME --reason TEXT [--ticket REF]\n\n"
	"Revoke the account NAME now: registry status 'revoked' (pam_isms refuses its\n"
	"next login, SSH keys included); the local account locked ('!' before the hash)\n"
	"and expired in the shadow file; removed from local privileged groups; for a\n"
	"directory account, when [ldap] write_bind_dn is set, pwdAccountLockedTime and\n"
	"shadowExpire set and removed from its groups; running processes ended.\n"
	"Memberships are recorded before they are removed, so 'accessctl restore' can\n"
	"put them back. Each step is stored in revocation_actions.\n\n"
	"Running it again is harmless: finished steps are left alone and failed ones\n"
	"are retried.\n\n"
	"Options:\n"
	"  --reason TEXT   why (required; kept in the registry and the audit trail)\n"
	"  --ticket REF    change or incident reference\n\n"
	"Exit status: 0 every step done, 1 some step remains (listed) or unknown account,\n"
	"2 usage or configuration error.\n",
};

const struct command cmd_restore_def = {
	"restore", cmd_restore, "undo a revocation made in error",
	"usage: accessctl restore NAME --reason TEXT\n\n"
	"Undo the current revocation of NAME from what it recorded: group memberships\n"
	"(local and directory) added back, shadow lock and expiry returned to what they\n"
	"were, the directory lock removed, registry status active. The revocation's\n"
	"actions are marked 'undone'; a 'restore' action keeps the reason. Sessions that\n"
	"were ended stay ended.\n\n"
	"Options:\n"
	"  --reason TEXT   why the revocation was wrong (required)\n\n"
	"Exit status: 0 restored, 1 some step could not be undone (rerun to finish) or\n"
	"nothing to restore, 2 usage or configuration error.\n",
};

/* Print one revoke/restore outcome; returns the exit code. */
static int cli_revoke_report(struct cli *cli, const char *what, const char *name, int r,
		      const struct isms_revoke_result *res, const struct isms_err *err)
{
	const char *result = r == 0 ? "ok" : r == -EAGAIN ? "partial" : "error";

	if (cli->json) {
		cli_json_print(json_pack("{s:s, s:s, s:s, s:i, s:i, s:s}", "account", name, "action", what,
					 "result", result, "done", res->done, "failed", res->failed,
					 "remaining", r == 0 ? "" : r == -EAGAIN ? res->remaining : err->msg));
	} else if (r == 0) {
		printf("%s: %s (%d step(s) done)\n", name, what, res->done);
	} else if (r == -EAGAIN) {
		printf("%s: %s incomplete: %d step(s) done, %d remain: %s\n", name, what, res->done,
		       res->failed, res->remaining);
		printf("%s: run the same command again to finish\n", name);
	} else {
		fprintf(stderr, "%s: %s\n", cli->prog, err->msg);
	}
	return r == 0 ? EXIT_OK : EXIT_FINDINGS;
}

static int parse(struct cli *cli, const struct command *def, int argc, char **argv, const char **reason,
		 const char **ticket)
{
	static const struct option opts[] = {
		{ "reason", required_argument, NULL, 'r' },
		{ "ticket", required_argument, NULL, 't' },
		{ 0 },
	};
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'r')
			*reason = optarg;
		else if (c == 't' && ticket)
			*ticket = optarg;
		else
			return cli_usage(cli, def, "unknown option");
	}
	if (optind != argc - 1)
		return cli_usage(cli, def, "one account name is required");
	if (!*reason || !**reason)
		return cli_usage(cli, def, "--reason is required");
	return EXIT_OK;
}

int cmd_revoke(struct cli *cli, int argc, char **argv)
{
	struct isms_revoke_req req = { .trigger = "manual", .actor = cli->actor };
	struct isms_revoke_result res;
	struct isms_err err = { 0 };
	int r;

	r = parse(cli, &cmd_revoke_def, argc, argv, &req.reason, &req.ticket);
	if (r != EXIT_OK)
		return r;
	req.account = argv[optind];
	r = cli_open(cli);
	if (r != EXIT_OK)
		return r;
	r = isms_revoke_account(&cli->ctx, &req, &res, &err);
	return cli_revoke_report(cli, "revoked", req.account, r, &res, &err);
}

int cmd_restore(struct cli *cli, int argc, char **argv)
{
	struct isms_revoke_req req = { .trigger = "restore", .actor = cli->actor };
	struct isms_revoke_result res;
	struct isms_err err = { 0 };
	int r;

	r = parse(cli, &cmd_restore_def, argc, argv, &req.reason, NULL);
	if (r != EXIT_OK)
		return r;
	req.account = argv[optind];
	r = cli_open(cli);
	if (r != EXIT_OK)
		return r;
	r = isms_revoke_restore(&cli->ctx, &req, &res, &err);
	return cli_revoke_report(cli, "restored", req.account, r, &res, &err);
}
