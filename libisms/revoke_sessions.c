/* Ending a revoked account's sessions: through systemd-logind where it runs, then
 * whatever is left of the account's processes is signalled. */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "revoke_int.h"

/* A zombie has ended already; only its parent's wait() removes it. */
static bool proc_is_zombie(const char *procdir)
{
	char path[320], buf[512], *rp;
	ssize_t n;
	int fd;

	(void)snprintf(path, sizeof(path), "%s/stat", procdir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return true;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return true;
	buf[n] = '\0';
	rp = strrchr(buf, ')');
	return !rp || rp[1] != ' ' || rp[2] == 'Z' || rp[2] == 'X';
}

/* Signal (sig > 0) or count (sig 0) the processes whose real uid is uid. */
static int procs_of_uid(uid_t uid, int sig)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int n = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char path[300];
		struct stat st;
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || pid <= 0 || pid == getpid())
			continue;
		(void)snprintf(path, sizeof(path), "/proc/%ld", pid);
		/* /proc/PID is owned by the process's effective uid; good enough to find them. */
		if (stat(path, &st) < 0 || st.st_uid != uid || proc_is_zombie(path))
			continue;
		n++;
		if (sig > 0)
			(void)kill((pid_t)pid, sig);
	}
	closedir(d);
	return n;
}

static bool logind_running(void)
{
	struct stat st;

	return stat("/run/systemd/system", &st) == 0 && stat("/run/systemd/seats", &st) == 0;
}

/* No sd-bus library on the build host: ask logind through loginctl. */
static int logind_terminate_user(uid_t uid)
{
	char arg[32];
	int status;
	pid_t pid;

	(void)snprintf(arg, sizeof(arg), "%u", (unsigned)uid);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int nul = open("/dev/null", O_RDWR);

		if (nul >= 0) {
			dup2(nul, 0);
			dup2(nul, 1);
			dup2(nul, 2);
		}
		execl("/usr/bin/loginctl", "loginctl", "terminate-user", arg, (char *)NULL);
		execl("/bin/loginctl", "loginctl", "terminate-user", arg, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

int revoke_sessions_end(uid_t uid, struct isms_err *err)
{
	const struct timespec tick = { 0, 100 * 1000 * 1000 };
	int n, left;

	if (uid == 0 || uid == getuid() || uid == geteuid())
		return isms_err_set(err, -EPERM, "refusing to signal the processes of uid %u", (unsigned)uid);
	n = procs_of_uid(uid, 0);
	if (n <= 0)
		return n < 0 ? isms_err_set(err, n, "/proc: %s", strerror(-n)) : 0;
	if (logind_running())
		(void)logind_terminate_user(uid);
	/* Whatever logind did not end (or everything, without logind): TERM, then KILL. */
	(void)procs_of_uid(uid, SIGTERM);
	for (int i = 0; i < 20 && procs_of_uid(uid, 0) > 0; i++)
		nanosleep(&tick, NULL);
	(void)procs_of_uid(uid, SIGKILL);
	for (int i = 0; i < 20 && (left = procs_of_uid(uid, 0)) > 0; i++)
		nanosleep(&tick, NULL);
	left = procs_of_uid(uid, 0);
	if (left > 0)
		return isms_err_set(err, -EBUSY, "%d process(es) of uid %u still running", left, (unsigned)uid);
	return n;
}
