/* Parsing passwd(5) and group(5) lines for the local inventory, with the column
 * of the first bad field, so that bad rows are reported as file:line:column. */
#ifndef ISMS_PASSWD_H
#define ISMS_PASSWD_H

#include <stdbool.h>

struct isms_pwline {
	const char *name, *gecos, *home, *shell; /* point into the parsed line */
	long long uid, gid;
};

struct isms_grline {
	const char *name, *members;              /* members: comma list, may be "" */
	long long gid;
};

/* Parse one line in place (':' become NULs). Returns 0 parsed, 1 nothing to
 * record (empty line, NIS "+"/"-" compat entry), -EINVAL with *ret_col (1-based)
 * and *ret_what naming the bad field. A trailing newline is ignored. */
int isms_passwd_parse(char *line, struct isms_pwline *ret, int *ret_col, const char **ret_what);
int isms_group_parse(char *line, struct isms_grline *ret, int *ret_col, const char **ret_what);

/* A shell one can log in with: not empty and not nologin, false, true, sync,
 * halt or shutdown. */
bool isms_shell_is_login(const char *shell);

#endif
