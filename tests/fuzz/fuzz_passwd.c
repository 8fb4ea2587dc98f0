/* Fuzz target: passwd(5) and group(5) line parsing (accessctl inventory input). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "passwd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *a = malloc(size + 1), *b = malloc(size + 1);
	struct isms_pwline p;
	struct isms_grline g;
	const char *what = NULL;
	int col = 0;

	if (!a || !b)
		goto out;
	memcpy(a, data, size);
	a[size] = '\0';
	memcpy(b, a, size + 1);
	if (isms_passwd_parse(a, &p, &col, &what) == 0)
		(void)isms_shell_is_login(p.shell);
	else if (what && (col < 1 || (size_t)col > size + 1))
		abort();
	(void)isms_group_parse(b, &g, &col, &what);
out:
	free(a);
	free(b);
	return 0;
}
