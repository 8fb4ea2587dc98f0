/* isms-rec: the recorder privileged sessions run under (their login shell).
 * Until recording is built it refuses to run as a shell, so a misconfigured
 * account fails closed rather than running unrecorded. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: isms-rec [-c COMMAND]\n\n"
		       "Login shell of accounts whose sessions must be recorded; see isms-rec(8).\n");
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("isms-rec %s\n", ISMS_VERSION);
		return 0;
	}
	fprintf(stderr, "isms-rec: session recording is not available in this build; refusing the session\n");
	return 2;
}
