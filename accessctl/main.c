/* accessctl: global options, then dispatch to the command family. */
#include <getopt.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "cli.h"

static const struct command *const commands[] = {
	&cmd_init_def,
	&cmd_doctor_def,
	&cmd_sync_def,
	&cmd_inventory_def,
	&cmd_person_def,
	&cmd_account_def,
	&cmd_check_def,
	&cmd_mfa_def,
	&cmd_rec_def,
	&cmd_review_def,
	&cmd_evidence_def,
	&cmd_revoke_def,
	&cmd_restore_def,
	&cmd_offboard_def,
	&cmd_stale_def,
	&cmd_lastlog_def,
	&cmd_scim_def,
	&cmd_report_def,
	&cmd_audit_def,
	&cmd_backup_def,
};

static void usage(FILE *f)
{
	fprintf(f, "usage: accessctl [--root DIR] [--config FILE] [--json] COMMAND [ARGS...]\n"
		   "       accessctl --version | --help\n\n"
		   "Access governance for pam_isms: inventory, reviews, revocation, evidence.\n\n"
		   "Options:\n"
		   "  --root DIR      prefix every default path with DIR (tests, demo, staging)\n"
		   "  --config FILE   configuration file (default: ROOT/etc/isms/isms.conf)\n"
		   "  --json          machine-readable output where a command has it\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-14s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(f, "\n'accessctl COMMAND --help' describes each command.\n"
		   "Exit status: 0 fine, 1 findings or refused, 2 usage or configuration error.\n");
}

static const char *who_am_i(void)
{
	const char *s = secure_getenv("SUDO_USER");
	struct passwd *pw;

	if (s && *s)
		return s;
	pw = getpwuid(getuid());
	return pw ? pw->pw_name : "unknown";
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	struct cli cli = { .root = "", .prog = "accessctl" };
	char *actor;
	int c, rv;

	/* sqlite counts every allocation under a global mutex for
	 * sqlite3_memory_used(), which accessctl never asks for: a twentieth of a
	 * large sync's work. Set before sqlite is first used. */
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);

	while ((c = getopt_long(argc, argv, "+r:c:jhV", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (optarg[0] != '/') {
				fprintf(stderr, "accessctl: --root needs an absolute path\n");
				return EXIT_USAGE;
			}
			cli.root = optarg;
			break;
		case 'c':
			cli.config = optarg;
			break;
		case 'j':
			cli.json = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("accessctl %s\n", ISMS_VERSION);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	/* rec play replays a recorded terminal: its escapes are what it shows. */
	if (!(strcmp(argv[optind], "rec") == 0 && optind + 1 < argc && strcmp(argv[optind + 1], "play") == 0))
		cli_tty_guard();
	actor = strdup(who_am_i());
	cli.actor = actor ? actor : "unknown";
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i]->name, argv[optind]) != 0)
			continue;
		if (cli_wants_help(commands[i], argc - optind, argv + optind)) {
			free(actor);
			return EXIT_OK;
		}
		/* Commands parse their own options from their name on. */
		optind++;
		rv = commands[i]->run(&cli, argc - optind + 1, argv + optind - 1);
		cli_close(&cli);
		free(actor);
		return rv;
	}
	fprintf(stderr, "accessctl: unknown command '%s'\n", argv[optind]);
	usage(stderr);
	free(actor);
	return EXIT_USAGE;
}
