/* accessctl evidence: check a signed evidence bundle (review close writes them). */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "evidence.h"

const struct command cmd_evidence_def = {
	"evidence", cmd_evidence, "verify a signed evidence bundle",
	"usage: accessctl [--root DIR] [--json] evidence verify [--pubkey FILE] DIR\n\n"
	"  verify   check manifest.sig (Ed25519) over manifest.json with the host's public\n"
	"           key ([paths] signing_key + \".pub\", or --pubkey FILE: the 32 raw bytes),\n"
	"           then that DIR holds exactly the files listed, each with its SHA-256.\n"
	"           Exit 1 when anything differs.\n",
};

int cmd_evidence(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { "pubkey", required_argument, NULL, 'k' }, { 0 } };
	struct isms_err err = { 0 };
	const char *pubkey = NULL;
	char *own = NULL;
	size_t files = 0;
	int o, r;

	if (argc < 2 || strcmp(argv[1], "verify") != 0)
		return cli_usage(cli, &cmd_evidence_def, "missing or unknown subcommand");
	argc--;
	argv++;
	optind = 0;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o != 'k')
			return cli_usage(cli, &cmd_evidence_def, "unknown option");
		pubkey = optarg;
	}
	if (optind != argc - 1)
		return cli_usage(cli, &cmd_evidence_def, "verify needs one DIR");
	if (!pubkey) {
		if ((r = cli_load_conf(cli)) != EXIT_OK)
			return r;
		if (asprintf(&own, "%s.pub", cli->conf->signing_key) < 0)
			return cli_fail(cli, EXIT_USAGE, "out of memory");
		pubkey = own;
	}
	r = isms_evidence_verify(argv[optind], pubkey, &files, &err);
	free(own);
	if (cli->json)
		cli_json_print(json_pack("{s:b,s:I,s:s}", "intact", r == 0, "files", (json_int_t)files,
					 "message", r == 0 ? "" : err.msg));
	else if (r == 0)
		printf("evidence intact: %zu files, signature good\n", files);
	else
		printf("evidence NOT intact: %s\n", err.msg);
	/* Missing, unreadable or changed: all mean the evidence cannot be trusted. */
	return r == 0 ? EXIT_OK : EXIT_FINDINGS;
}
