/* The child side: give up every privilege isms-rec was started with (setuid
 * root, or capabilities) for good, then exec the real shell. User code never
 * runs with more than the user's own rights. */
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>

#include "rec.h"

static int caps_clear(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	memset(d, 0, sizeof(d));
	return (int)syscall(SYS_capset, &h, d);
}

static bool caps_empty(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) != 0)
		return false;
	return !d[0].effective && !d[1].effective && !d[0].permitted && !d[1].permitted;
}

int rec_drop_privileges(const struct rec *r, char *why, size_t whylen)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (initgroups(r->user, r->gid) < 0) {
		(void)snprintf(why, whylen, "initgroups: %s", strerror(errno));
		return -1;
	}
	if (setresgid(r->gid, r->gid, r->gid) < 0 || setresuid(r->uid, r->uid, r->uid) < 0) {
		(void)snprintf(why, whylen, "cannot change to uid %u: %s", (unsigned)r->uid, strerror(errno));
		return -1;
	}
	if (r->uid != 0 && caps_clear() < 0) {
		(void)snprintf(why, whylen, "cannot drop capabilities: %s", strerror(errno));
		return -1;
	}
	/* Check rather than trust: no way back, no capability left. */
	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0 ||
	    ru != r->uid || eu != r->uid || su != r->uid || rg != r->gid || eg != r->gid || sg != r->gid ||
	    (r->uid != 0 && (setuid(0) == 0 || !caps_empty()))) {
		(void)snprintf(why, whylen, "privileges still held after dropping them");
		return -1;
	}
	return 0;
}

void rec_exec_shell(const struct rec *r)
{
	const char *base = strrchr(r->real_shell, '/');
	char why[160], *arg0 = NULL;
	char *argv[4];

	base = base ? base + 1 : r->real_shell;
	if (rec_drop_privileges(r, why, sizeof(why)) < 0) {
		fprintf(stderr, "isms-rec: %s; refusing to run the shell\n", why);
		_exit(126);
	}
	/* Dispositions the recorder set would otherwise survive exec. */
	signal(SIGPIPE, SIG_DFL);
	signal(SIGXFSZ, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGWINCH, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGQUIT, SIG_DFL);
	umask(r->umask);
	if (setenv("SHELL", r->real_shell, 1) < 0 || unsetenv("ISMS_REAL_SHELL") < 0 ||
	    asprintf(&arg0, "%s%s", r->login && !r->command ? "-" : "", base) < 0)
		_exit(126);
	argv[0] = arg0;
	if (r->command) {
		argv[1] = (char *)"-c";
		argv[2] = (char *)r->command;
		argv[3] = NULL;
	} else {
		argv[1] = NULL;
	}
	execv(r->real_shell, argv);
	fprintf(stderr, "isms-rec: cannot run %s: %s\n", r->real_shell, strerror(errno));
	_exit(127);
}
