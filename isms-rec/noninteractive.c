/* Non-interactive sessions (ssh host command, scp, sftp, rsync): no terminal,
 * no notice; the streams pass byte for byte between the caller and the real
 * shell, counted. [session] noninteractive: metadata (command, times, exit
 * status, byte counts), full (the streams too), deny. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "rec.h"

#define BUFSZ 65536

struct relay {
	int src, dst;
	char code;          /* 'i' or 'o' in the recording */
	bool to_child;      /* dst is the shell's stdin: close it at EOF */
	bool eof, dead;
	unsigned char *buf;
	size_t off, len;
	int64_t *count;
};

static void set_nonblock(int fd, int *saved)
{
	*saved = fcntl(fd, F_GETFL);
	if (*saved >= 0)
		(void)fcntl(fd, F_SETFL, *saved | O_NONBLOCK);
}

static bool relay_done(const struct relay *rl)
{
	return rl->dead || (rl->eof && rl->len == 0);
}

static void relay_finish(struct relay *rl)
{
	if (rl->to_child && rl->dst >= 0) {
		close(rl->dst);   /* the shell sees end of input */
		rl->dst = -1;
	}
	if (!rl->to_child && rl->src >= 0) {
		close(rl->src);
		rl->src = -1;
	}
}

int rec_noninteractive(struct rec *r)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 };
	int saved[3], status = 1, wstatus;
	bool full = r->conf->noninteractive == ISMS_NONINT_FULL, child_done = false, stop = false;
	char title[700], marker[160];
	struct relay rl[3];
	pid_t pid;

	if (cast_header(&r->cast, 80, 24, isms_now(), r->command, rec_title(r, title, sizeof(title)),
			r->real_shell, NULL) < 0 && rec_record_failed(r, STDERR_FILENO, r->cast.err.msg) < 0)
		return 1;
	if (r->conf->noninteractive == ISMS_NONINT_DENY) {
		fprintf(stderr, "isms-rec: commands without a terminal are not allowed for %s\n", r->user);
		(void)cast_marker(&r->cast, "refused: noninteractive = deny");
		return 1;
	}
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
		fprintf(stderr, "isms-rec: %s\n", strerror(errno));
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "isms-rec: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(err[1], 2) < 0)
			_exit(126);
		rec_exec_shell(r);
	}
	r->child = pid;
	if (full && r->recording)
		(void)castq_start(&r->cast);   /* after the fork, as for a terminal (pty.c) */
	close(in[0]);
	close(out[1]);
	close(err[1]);
	rl[0] = (struct relay){ .src = STDIN_FILENO, .dst = in[1], .code = 'i', .to_child = true,
				.count = &r->bytes_in };
	rl[1] = (struct relay){ .src = out[0], .dst = STDOUT_FILENO, .code = 'o', .count = &r->bytes_out };
	rl[2] = (struct relay){ .src = err[0], .dst = STDERR_FILENO, .code = 'o', .count = &r->bytes_out };
	for (int i = 0; i < 3; i++) {
		rl[i].buf = malloc(BUFSZ);
		if (!rl[i].buf) {
			stop = true;
			rl[i].dead = true;
		}
	}
	set_nonblock(STDIN_FILENO, &saved[0]);
	set_nonblock(STDOUT_FILENO, &saved[1]);
	set_nonblock(STDERR_FILENO, &saved[2]);
	set_nonblock(in[1], &(int){ 0 });
	set_nonblock(out[0], &(int){ 0 });
	set_nonblock(err[0], &(int){ 0 });

	while (!stop && !(child_done && relay_done(&rl[1]) && relay_done(&rl[2]))) {
		struct pollfd pf[8];
		int timeout = cast_flush_due_ms(&r->cast), sig;

		for (int i = 0; i < 3; i++) {
			bool want_in = !rl[i].dead && !rl[i].eof && rl[i].len == 0;
			bool want_out = !rl[i].dead && rl[i].len > 0;

			pf[2 * i] = (struct pollfd){ .fd = want_in ? rl[i].src : -1, .events = POLLIN };
			pf[2 * i + 1] = (struct pollfd){ .fd = want_out ? rl[i].dst : -1, .events = POLLOUT };
		}
		pf[6] = (struct pollfd){ .fd = rec_signal_fd(), .events = POLLIN };
		pf[7] = (struct pollfd){ .fd = r->recording ? cast_poll_fd(&r->cast) : -1, .events = POLLIN };
		if (poll(pf, 8, timeout) < 0 && errno != EINTR)
			break;
		if (r->recording && cast_flush_if_due(&r->cast) < 0 &&
		    rec_record_failed(r, STDERR_FILENO, r->cast.err.msg) < 0)
			break;
		for (int i = 0; i < 3 && !stop; i++) {
			struct relay *x = &rl[i];
			ssize_t n;

			if (pf[2 * i].revents) {
				n = read(x->src, x->buf, BUFSZ);
				if (n > 0) {
					x->off = 0;
					x->len = (size_t)n;
					*x->count += n;
					if (full && rec_record(r, x->code, x->buf, (size_t)n) < 0)
						stop = true;
				} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
					x->eof = true;
				}
			}
			if (x->len > 0 && !x->dead) {
				n = write(x->dst, x->buf + x->off, x->len);
				if (n > 0) {
					x->off += (size_t)n;
					x->len -= (size_t)n;
				} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
					/* The reader went away (EPIPE): the writer side learns it the same way. */
					x->dead = true;
					x->len = 0;
				}
			}
			if (relay_done(x))
				relay_finish(x);
		}
		if (pf[6].revents) {
			while ((sig = rec_signal_next()) != 0) {
				if (sig == SIGCHLD) {
					if (!child_done && waitpid(pid, &wstatus, WNOHANG) == pid) {
						child_done = true;
						status = rec_exit_status(wstatus);
					}
				} else if (sig != SIGWINCH) {
					(void)kill(pid, sig);
				}
			}
		}
	}
	if (stop)
		(void)kill(pid, SIGTERM);
	for (int i = 0; i < 3; i++) {
		relay_finish(&rl[i]);
		if (rl[i].to_child && rl[i].dst >= 0)
			close(rl[i].dst);
		free(rl[i].buf);
	}
	if (!child_done && waitpid(pid, &wstatus, 0) == pid)
		status = rec_exit_status(wstatus);
	for (int fd = 0; fd < 3; fd++)
		if (saved[fd] >= 0)
			(void)fcntl(fd, F_SETFL, saved[fd]);
	(void)snprintf(marker, sizeof(marker), "exit=%d bytes_in=%lld bytes_out=%lld", status,
		       (long long)r->bytes_in, (long long)r->bytes_out);
	if (r->recording && cast_marker(&r->cast, marker) < 0)
		(void)rec_record_failed(r, STDERR_FILENO, r->cast.err.msg);
	if (r->failed && r->conf->on_record_error == ISMS_RECERR_TERMINATE && status == 0)
		status = 1;
	return status;
}
