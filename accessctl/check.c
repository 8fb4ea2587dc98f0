/* accessctl check: what the account phase would decide for a login, without
 * logging in (like `doas -C`). Calls the module's own decision function. */
#include <getopt.h>
#include <pwd.h>
#include <string.h>

#include "account_policy.h"
#include "cli.h"

const struct command cmd_check_def = {
	"check", cmd_check, "dry run: what the account phase would decide for a login",
	"usage: accessctl [--root DIR] [--json] check USER [--service S] [--rhost H]\n\n"
	"Runs the decision of pam_isms's account phase for USER on PAM service S\n"
	"(default sshd), with the stores opened as a login opens them (registry\n"
	"read-only), and prints the outcome, the PAM code, the reason code and the\n"
	"line the user would be told. Nothing is logged in and no event is written.\n"
	"Exit 0 when the login would be allowed, 1 when refused, 2 on usage errors.\n",
};

int cmd_check(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "service", required_argument, NULL, 's' },
		{ "rhost", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ 0 },
	};
	const char *service = "sshd", *rhost = NULL, *user;
	struct isms_ctx ctx = { 0 };
	struct isms_decision d;
	struct isms_err err = { 0 };
	struct passwd pw, *nss = NULL;
	int nss_error;
	char buf[16384];
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "s:r:j", opts, NULL)) != -1) {
		switch (c) {
		case 's': service = optarg; break;
		case 'r': rhost = optarg; break;
		case 'j': cli->json = true; break;
		default: return cli_usage(cli, &cmd_check_def, "unknown option");
		}
	}
	if (optind != argc - 1 || !*argv[optind] || !*service)
		return cli_usage(cli, &cmd_check_def, "expected exactly one USER");
	user = argv[optind];
	r = cli_load_conf(cli);
	if (r != EXIT_OK)
		return r;
	/* as the module does: a store that will not open is an answer, not an error */
	if (isms_ctx_open(&ctx, cli->conf, ISMS_CTX_LOGIN, &err) < 0) {
		ctx.conf = cli->conf;
		ctx.reg = ctx.state = NULL;
	}
	nss_error = isms_nss_getpwnam(user, &pw, buf, sizeof(buf), &nss);
	isms_account_decide(&ctx, user, service, nss, nss_error, &d);
	isms_ctx_close(&ctx);

	if (cli->json) {
		cli_json_print(json_pack("{s:s,s:s,s:s*,s:s,s:s,s:s,s:s,s:b,s:b,s:s}", "user", user,
					 "service", service, "rhost", rhost, "decision",
					 d.allow ? "allow" : "deny", "pam", isms_verdict_name(d.verdict),
					 "reason", d.reason, "message", d.message, "privileged", d.privileged,
					 "breakglass", d.breakglass, "details", d.details));
	} else {
		printf("%s on %s: %s (%s) reason=%s\n", user, service, d.allow ? "allow" : "deny",
		       isms_verdict_name(d.verdict), d.reason);
		if (d.message[0])
			printf("  user is told: %s\n", d.message);
		if (d.details[0])
			printf("  details: %s\n", d.details);
		if (d.allow)
			printf("  privileged: %s\n", d.privileged ? d.privileged_via : "no");
		if (err.code)
			printf("  store: %s\n", err.msg);
	}
	return d.allow ? EXIT_OK : EXIT_FINDINGS;
}
