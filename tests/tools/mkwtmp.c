/* mkwtmp FILE USER EPOCH LINE HOST [USER EPOCH LINE HOST]...: append login records
 * to a wtmp file with updwtmpx, plus a logout record of each, for lastlog tests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utmpx.h>

int main(int argc, char **argv)
{
	if (argc < 6 || (argc - 2) % 4 != 0) {
		fprintf(stderr, "usage: mkwtmp FILE USER EPOCH LINE HOST...\n");
		return 2;
	}
	/* updwtmpx appends to an existing file only. */
	FILE *f = fopen(argv[1], "a");

	if (!f) {
		perror(argv[1]);
		return 1;
	}
	fclose(f);
	for (int i = 2; i < argc; i += 4) {
		struct utmpx ut;

		memset(&ut, 0, sizeof(ut));
		ut.ut_type = USER_PROCESS;
		ut.ut_pid = 1000 + i;
		strncpy(ut.ut_user, argv[i], sizeof(ut.ut_user));
		strncpy(ut.ut_line, argv[i + 2], sizeof(ut.ut_line));
		strncpy(ut.ut_host, argv[i + 3], sizeof(ut.ut_host));
		ut.ut_tv.tv_sec = (int32_t)strtol(argv[i + 1], NULL, 10);
		updwtmpx(argv[1], &ut);
		/* The matching logout: DEAD_PROCESS, no user; must not count as a login. */
		ut.ut_type = DEAD_PROCESS;
		memset(ut.ut_user, 0, sizeof(ut.ut_user));
		ut.ut_tv.tv_sec += 60;
		updwtmpx(argv[1], &ut);
	}
	return 0;
}
