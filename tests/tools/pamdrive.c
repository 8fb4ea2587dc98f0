/* pamdrive: run one real PAM transaction through libpam with a service file
 * from a given directory (pam_start_confdir), answering prompts from the
 * command line. Used by the PAM-stack tests, the demo and the benchmarks. */
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <security/pam_appl.h>

#define MAX_ANSWERS 16

struct answers {
	const char *v[MAX_ANSWERS];
	int n, next;
	bool quiet;
};

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	struct answers *a = data;
	struct pam_response *r = calloc((size_t)n, sizeof(*r));

	if (!r)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		const char *kind = "?";

		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF: kind = "prompt-noecho"; break;
		case PAM_PROMPT_ECHO_ON: kind = "prompt-echo"; break;
		case PAM_ERROR_MSG: kind = "error"; break;
		case PAM_TEXT_INFO: kind = "info"; break;
		}
		if (!a->quiet)
			printf("%s: %s\n", kind, msg[i]->msg);
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF || msg[i]->msg_style == PAM_PROMPT_ECHO_ON) {
			if (a->next >= a->n) {
				for (int j = 0; j < i; j++)
					free(r[j].resp);
				free(r);
				return PAM_CONV_ERR;
			}
			r[i].resp = strdup(a->v[a->next++]);
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

static int phase(pam_handle_t *pamh, const char *name)
{
	if (!strcmp(name, "auth")) return pam_authenticate(pamh, 0);
	if (!strcmp(name, "acct")) return pam_acct_mgmt(pamh, 0);
	if (!strcmp(name, "open")) return pam_open_session(pamh, 0);
	if (!strcmp(name, "close")) return pam_close_session(pamh, 0);
	if (!strcmp(name, "setcred")) return pam_setcred(pamh, PAM_ESTABLISH_CRED);
	fprintf(stderr, "pamdrive: unknown phase %s\n", name);
	exit(2);
}

static const char *code_name(int rv)
{
	switch (rv) {
	case PAM_SUCCESS: return "PAM_SUCCESS";
	case PAM_AUTH_ERR: return "PAM_AUTH_ERR";
	case PAM_PERM_DENIED: return "PAM_PERM_DENIED";
	case PAM_AUTHINFO_UNAVAIL: return "PAM_AUTHINFO_UNAVAIL";
	case PAM_USER_UNKNOWN: return "PAM_USER_UNKNOWN";
	case PAM_MAXTRIES: return "PAM_MAXTRIES";
	case PAM_ACCT_EXPIRED: return "PAM_ACCT_EXPIRED";
	case PAM_NEW_AUTHTOK_REQD: return "PAM_NEW_AUTHTOK_REQD";
	case PAM_SESSION_ERR: return "PAM_SESSION_ERR";
	case PAM_SERVICE_ERR: return "PAM_SERVICE_ERR";
	case PAM_SYSTEM_ERR: return "PAM_SYSTEM_ERR";
	case PAM_CONV_ERR: return "PAM_CONV_ERR";
	case PAM_IGNORE: return "PAM_IGNORE";
	case PAM_CRED_INSUFFICIENT: return "PAM_CRED_INSUFFICIENT";
	default: return "PAM_OTHER";
	}
}

/* One transaction: start, the phases in order (stopping at the first failure),
 * end. Prints each phase's result when show >= 0 (prefixed "#show " when tag).
 * Returns 0, the PAM code of the failed phase, or -1 when pam_start failed. */
static int transaction(struct pam_conv *pc, struct answers *a, const char *confdir, const char *service,
		       const char *user, long index, const char *rhost, const char *tty,
		       const char *authtok, int nphase, char **phases, long show, bool tag,
		       const char **envname, int nenv)
{
	pam_handle_t *pamh = NULL;
	const char *pct = strstr(user, "%d");
	char ubuf[256];
	int rv, fail = 0;

	/* distinct users per iteration: benchmarks of modules that refuse a replayed code */
	if (pct)
		snprintf(ubuf, sizeof(ubuf), "%.*s%ld%s", (int)(pct - user), user, index, pct + 2);
	rv = pam_start_confdir(service, pct ? ubuf : user, pc, confdir, &pamh);
	a->next = 0;
	if (rv != PAM_SUCCESS) {
		fprintf(stderr, "pamdrive: pam_start_confdir: %d\n", rv);
		return -1;
	}
	if (rhost)
		pam_set_item(pamh, PAM_RHOST, rhost);
	if (tty)
		pam_set_item(pamh, PAM_TTY, tty);
	if (authtok)
		pam_set_item(pamh, PAM_AUTHTOK, authtok);
	for (int i = 0; i < nphase; i++) {
		rv = phase(pamh, phases[i]);
		if (show >= 0 && tag)
			printf("#%ld ", show);
		if (show >= 0)
			printf("%s: %s\n", phases[i], code_name(rv));
		if (rv != PAM_SUCCESS) {
			fail = rv;
			break;
		}
	}
	for (int i = 0; i < nenv; i++) {
		const char *v = pam_getenv(pamh, envname[i]);

		printf("env %s=%s\n", envname[i], v ? v : "");
	}
	pam_end(pamh, rv);
	return fail;
}

/* Close every descriptor above 2 and reopen /dev/null on the freed numbers:
 * whoever still uses one of the old numbers now reads and writes /dev/null. */
static int reused[64], nreused;

static void reuse_descriptors(void)
{
	for (int fd = 3; fd < 64; fd++)
		close(fd);
	nreused = 0;
	for (int fd = 3; fd < 64; fd++) {
		int d = open("/dev/null", O_RDWR);

		if (d < 0)
			break;
		reused[nreused++] = d;
	}
}

/* The application's descriptors must be left alone by every module. */
static bool reused_intact(void)
{
	struct stat null, st;

	if (stat("/dev/null", &null) < 0)
		return false;
	for (int i = 0; i < nreused; i++) {
		if (fstat(reused[i], &st) < 0 || st.st_rdev != null.st_rdev) {
			fprintf(stderr, "pamdrive: descriptor %d was closed or replaced under the application\n",
				reused[i]);
			return false;
		}
	}
	return true;
}

struct worker {
	pthread_t tid;
	const char *confdir, *service, *user, *rhost, *tty, *authtok;
	char **phases;
	int nphase;
	long first, repeat;
	struct answers a;
	int fail;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	struct pam_conv pc = { conv, &w->a };

	for (long it = 0; it < w->repeat; it++) {
		int rv = transaction(&pc, &w->a, w->confdir, w->service, w->user, w->first + it, w->rhost,
				     w->tty, w->authtok, w->nphase, w->phases, -1, false, NULL, 0);

		if (rv && !w->fail)
			w->fail = rv < 0 ? 255 : rv;
	}
	return NULL;
}

/* -T: threads at once; returns the first failure (0 when every transaction passed). */
static int run_threads(int n, const struct worker *proto)
{
	struct worker w[64];
	int fail = 0;

	if (n < 1 || n > 64)
		return 2;
	for (int i = 0; i < n; i++) {
		w[i] = *proto;
		w[i].first = proto->first + i * proto->repeat;
		if (pthread_create(&w[i].tid, NULL, worker_run, &w[i]) != 0)
			return 2;
	}
	for (int i = 0; i < n; i++) {
		pthread_join(w[i].tid, NULL);
		if (w[i].fail && !fail)
			fail = w[i].fail;
	}
	printf("threads=%d failed=%s\n", n, fail ? "yes" : "no");
	return fail;
}

static void usage(void)
{
	fprintf(stderr, "usage: pamdrive -d CONFDIR [-s SERVICE] -u USER [-r RHOST] [-t TTY]\n"
			"                [-a ANSWER]... [-A AUTHTOK] [-e NAME] [-n REPEAT] [-o FIRST] [-x CMD]\n"
			"                [-F|-R] [-C] [-T THREADS] [-v] [-q] PHASE...\n"
			"PHASE: auth acct open close setcred. -e prints a PAM environment variable after.\n"
			"With -n, a \"%%d\" in USER is replaced by the iteration (FIRST, FIRST+1, ...; FIRST is 0\n"
			"unless -o): one user per transaction. -x runs CMD (sh -c) between transactions; -F runs\n"
			"every transaction after the first in a forked child (-R: forked by the clone system call,\n"
			"which runs no pthread_atfork handlers); -C closes every descriptor above 2\n"
			"between transactions (as a detaching daemon does) and opens /dev/null on their numbers;\n"
			"-T runs THREADS threads at once, each REPEAT transactions on a handle of its own (users\n"
			"numbered on across threads); -v prints each transaction's results.\n"
			"Exit: 0 when every phase succeeded, else the PAM code of the first that failed.\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *confdir = NULL, *service = "isms-test", *user = NULL, *rhost = NULL, *tty = NULL;
	const char *authtok = NULL, *envname[8], *between = NULL;
	bool in_child = false, raw_fork = false, verbose = false, close_all = false;
	int threads = 0;
	struct answers a = { 0 };
	struct pam_conv pc = { conv, &a };
	long repeat = 1, first = 0;
	int c, nenv = 0, first_fail = 0;
	struct timespec t0, t1;

	while ((c = getopt(argc, argv, "d:s:u:r:t:a:A:e:n:o:x:FRCT:vq")) != -1) {
		switch (c) {
		case 'd': confdir = optarg; break;
		case 's': service = optarg; break;
		case 'u': user = optarg; break;
		case 'r': rhost = optarg; break;
		case 't': tty = optarg; break;
		case 'a': if (a.n < MAX_ANSWERS) a.v[a.n++] = optarg; break;
		case 'A': authtok = optarg; break;
		case 'e': if (nenv < 8) envname[nenv++] = optarg; break;
		case 'n': repeat = strtol(optarg, NULL, 10); break;
		case 'o': first = strtol(optarg, NULL, 10); break;
		case 'x': between = optarg; break;
		case 'F': in_child = true; break;
		case 'R': in_child = raw_fork = true; break;
		case 'C': close_all = true; break;
		case 'T': threads = (int)strtol(optarg, NULL, 10); break;
		case 'v': verbose = true; break;
		case 'q': a.quiet = true; break;
		default: usage();
		}
	}
	if (!confdir || !user || optind >= argc || repeat < 1)
		usage();
	if (threads) {
		struct worker proto = {
			.confdir = confdir, .service = service, .user = user, .rhost = rhost, .tty = tty,
			.authtok = authtok, .phases = argv + optind, .nphase = argc - optind,
			.first = first, .repeat = repeat, .a = a,
		};

		return run_threads(threads, &proto);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long it = 0; it < repeat; it++) {
		pid_t child = 0;
		int rv;

		if (it > 0 && close_all)
			reuse_descriptors();
		if (it > 0 && between && system(between) != 0) {
			fprintf(stderr, "pamdrive: -x command failed: %s\n", between);
			return 2;
		}
		/* the parent's transactions leave state behind in the module (-F tests that
		 * a forked child does not trip over it) */
		if (it > 0 && in_child) {
			fflush(stdout);
			/* -R: the clone system call itself, as fork(2) without its handlers */
			child = raw_fork ? (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0) : fork();
			if (child < 0)
				return 2;
			if (child > 0) {
				int st;

				if (waitpid(child, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) == 255)
					return 2;
				if (WEXITSTATUS(st) && !first_fail)
					first_fail = WEXITSTATUS(st);
				continue;
			}
		}
		rv = transaction(&pc, &a, confdir, service, user, first + it, rhost, tty, authtok,
				 argc - optind, argv + optind, repeat == 1 || verbose ? it : -1, verbose,
				 envname, repeat == 1 ? nenv : 0);
		if (rv < 0 && child == 0 && it > 0 && in_child)
			_exit(255);
		if (rv < 0)
			return 2;
		if (rv && !first_fail)
			first_fail = rv;
		if (child == 0 && it > 0 && in_child) {
			fflush(stdout);
			_exit(rv);
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (close_all && !reused_intact())
		return 2;
	if (repeat > 1)
		printf("per_transaction_us=%.1f\n",
		       ((t1.tv_sec - t0.tv_sec) * 1e6 + (t1.tv_nsec - t0.tv_nsec) / 1e3) / (double)repeat);
	return first_fail;
}
