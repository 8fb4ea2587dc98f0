/* isms-rec: the login shell of accounts whose sessions must be recorded.
 * Parses the shell-style arguments, sets the session up, and runs it
 * interactively under a pty or non-interactively; see isms-rec(8). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rec.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: isms-rec [--conf FILE] [-c COMMAND]\n\n"
		   "Login shell of accounts whose sessions must be recorded: runs the account's\n"
		   "real shell (from the registry) and records the session, encrypted to the\n"
		   "auditor key. With a terminal the session is recorded as asciicast v2; without\n"
		   "one (ssh host command, scp, sftp, rsync) the streams pass through untouched and\n"
		   "[session] noninteractive decides what is kept. See isms-rec(8).\n\n"
		   "  -c COMMAND     run COMMAND with the real shell, as sshd and su do\n"
		   "  --conf FILE    configuration (ignored when started setuid or with file capabilities)\n");
}

int main(int argc, char **argv)
{
	struct rec r = { .fd = -1, .exit_status = 1 };
	const char *conf_path = NULL;
	int i = 1, status;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "--version")) {
		printf("isms-rec %s\n", ISMS_VERSION);
		return 0;
	}
	if (i + 1 < argc && !strcmp(argv[i], "--conf")) {
		/* A user must not point a privileged recorder at a config of their making. */
		if (getauxval(AT_SECURE)) {
			fprintf(stderr, "isms-rec: --conf is not honoured in a privileged recorder\n");
			return 2;
		}
		conf_path = argv[i + 1];
		i += 2;
	}
	if (i < argc) {
		if (strcmp(argv[i], "-c") != 0 || i + 2 != argc) {
			usage(stderr);
			return 2;
		}
		r.command = argv[i + 1];
	}
	/* The user owns this process's real uid: no core dumps, no ptrace of a privileged recorder. */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	r.login = argv[0] && argv[0][0] == '-';
	r.umask = umask(077);

	if (rec_session_start(&r, conf_path) < 0) {
		rec_session_end(&r);
		return 1;
	}
	/* A terminal on stdin (a login, ssh -t host command) is recorded as a terminal. */
	if (isatty(STDIN_FILENO))
		status = rec_interactive(&r);
	else
		status = rec_noninteractive(&r);
	r.exit_status = status;
	rec_session_end(&r);
	return status;
}
