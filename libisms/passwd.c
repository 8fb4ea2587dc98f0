/* passwd(5)/group(5) line parsing, by hand because fgetpwent silently skips
 * malformed lines and the inventory must name them. */
#include <errno.h>
#include <string.h>

#include "passwd.h"
#include "util.h"

/* Split at ':' into exactly n fields; cols receives each field's 1-based column. */
static int split(char *line, char **f, int *cols, int n, int *ret_col, const char **ret_what)
{
	char *p = line;
	int i;

	for (i = 0; i < n; i++) {
		char *e = strchr(p, ':');

		f[i] = p;
		cols[i] = (int)(p - line) + 1;
		if (!e)
			break;
		if (i == n - 1) {
			*ret_col = (int)(e - line) + 1;
			*ret_what = "too many fields";
			return -EINVAL;
		}
		*e = '\0';
		p = e + 1;
	}
	if (i < n - 1) {
		*ret_col = cols[i] + (int)strlen(f[i]);
		*ret_what = "too few fields";
		return -EINVAL;
	}
	return 0;
}

static bool name_ok(const char *s)
{
	if (!*s || *s == '-' || strlen(s) > 255)
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= ' ' || *p == 0x7f || *p == ',' || *p == '/')
			return false;
	return true;
}

static bool text_ok(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < ' ' || *p == 0x7f)
			return false;
	return true;
}

static void chomp(char *line)
{
	size_t n = strlen(line);

	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
}

static bool id_ok(const char *s, long long *ret)
{
	/* 4294967295 is (uid_t)-1, "no uid" to the kernel */
	return *s && isms_parse_int(s, 0, 4294967294LL, ret) == 0;
}

#define BAD(i, what) do { *ret_col = cols[i]; *ret_what = (what); return -EINVAL; } while (0)

int isms_passwd_parse(char *line, struct isms_pwline *ret, int *ret_col, const char **ret_what)
{
	char *f[7];
	int cols[7], r;

	chomp(line);
	if (!*line || *line == '+' || *line == '-')
		return 1;
	r = split(line, f, cols, 7, ret_col, ret_what);
	if (r < 0)
		return r;
	if (!name_ok(f[0]))
		BAD(0, "bad account name");
	if (!id_ok(f[2], &ret->uid))
		BAD(2, "uid is not a number in 0..4294967294");
	if (!id_ok(f[3], &ret->gid))
		BAD(3, "gid is not a number in 0..4294967294");
	for (int i = 4; i < 7; i++)
		if (!text_ok(f[i]))
			BAD(i, "control character");
	ret->name = f[0];
	ret->gecos = f[4];
	ret->home = f[5];
	ret->shell = f[6];
	return 0;
}

int isms_group_parse(char *line, struct isms_grline *ret, int *ret_col, const char **ret_what)
{
	char *f[4];
	int cols[4], r;

	chomp(line);
	if (!*line || *line == '+' || *line == '-')
		return 1;
	r = split(line, f, cols, 4, ret_col, ret_what);
	if (r < 0)
		return r;
	if (!name_ok(f[0]))
		BAD(0, "bad group name");
	if (!id_ok(f[2], &ret->gid))
		BAD(2, "gid is not a number in 0..4294967294");
	for (const char *p = f[3]; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			BAD(3, "bad member list");
	ret->name = f[0];
	ret->members = f[3];
	return 0;
}

bool isms_shell_is_login(const char *shell)
{
	static const char *const not_login[] = { "nologin", "false", "true", "sync", "halt", "shutdown", NULL };
	const char *base;

	if (!shell || !*shell)
		return false;
	base = strrchr(shell, '/');
	base = base ? base + 1 : shell;
	return !isms_list_contains((char *const *)not_login, base);
}
