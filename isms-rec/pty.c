/* Interactive sessions: the real shell under a pseudo-terminal; what the user
 * sees (output, resizes) recorded, input only when asked and never while the
 * terminal has echo off (passwords). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "clock.h"
#include "rec.h"

#define BUFSZ 65536

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
			struct pollfd pf = { .fd = fd, .events = POLLOUT };

			(void)poll(&pf, 1, -1);
			continue;
		}
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Below this a read drained the terminal: what was typed or echoed goes out
 * now, without one more read to learn that nothing follows. */
#define SHORT_READ 512

/* Read what the terminal has, up to len: bulk output (pty reads of a few KiB
 * each) batched into one event and one write (master is non-blocking). */
static ssize_t read_batch(int fd, unsigned char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);

		if (n > 0) {
			got += (size_t)n;
			if (n < SHORT_READ)
				break;
			continue;
		}
		if (got > 0)
			return (ssize_t)got;
		if (n < 0 && errno == EAGAIN)
			errno = EINTR;   /* nothing after all: poll again */
		return n;
	}
	return (ssize_t)got;
}

/* A child's wait status as a shell reports it: the exit code, or 128 + signal. */
int rec_exit_status(int ws)
{
	if (WIFEXITED(ws))
		return WEXITSTATUS(ws);
	if (WIFSIGNALED(ws))
		return 128 + WTERMSIG(ws);
	return 1;
}

/* End the shell's session: hang up its terminal, then insist. */
static int end_child(pid_t pid)
{
	int ws = 0;

	(void)kill(-pid, SIGHUP);
	(void)kill(pid, SIGHUP);
	for (int i = 0; i < 50; i++) {
		if (waitpid(pid, &ws, WNOHANG) == pid)
			return rec_exit_status(ws);
		usleep(20000);
	}
	(void)kill(-pid, SIGKILL);
	(void)kill(pid, SIGKILL);
	(void)waitpid(pid, &ws, 0);
	return rec_exit_status(ws);
}

int rec_interactive(struct rec *r)
{
	struct termios orig, raw;
	struct winsize ws = { .ws_row = 24, .ws_col = 80 };
	char title[700];
	const char *term = getenv("TERM");
	bool have_termios, child_done = false, stdin_open = true, ended = false;
	int master = -1, status = 1, wstatus;
	unsigned char *buf;
	pid_t pid;

	buf = malloc(BUFSZ);
	if (!buf)
		return 1;
	have_termios = tcgetattr(STDIN_FILENO, &orig) == 0;
	(void)ioctl(STDIN_FILENO, TIOCGWINSZ, &ws);
	if (ws.ws_col == 0 || ws.ws_row == 0) {
		ws.ws_col = 80;
		ws.ws_row = 24;
	}
	if (cast_header(&r->cast, ws.ws_col, ws.ws_row, isms_now(), r->command,
			rec_title(r, title, sizeof(title)), r->real_shell, term) < 0 ||
	    cast_flush(&r->cast, false) < 0) {
		rec_record_failed(r, STDERR_FILENO, r->cast.err.msg);
		if (r->conf->on_record_error == ISMS_RECERR_TERMINATE) {
			free(buf);
			return 1;
		}
	}
	pid = forkpty(&master, NULL, have_termios ? &orig : NULL, &ws);
	if (pid < 0) {
		fprintf(stderr, "isms-rec: cannot open a pseudo-terminal: %s\n", strerror(errno));
		free(buf);
		return 1;
	}
	if (pid == 0)
		rec_exec_shell(r);
	r->child = pid;
	/* After the fork: the shell's process never has a second thread. Without the
	 * thread the loop formats and seals events itself, as before it started. */
	if (r->recording)
		(void)castq_start(&r->cast);
	(void)fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
	if (have_termios) {
		raw = orig;
		cfmakeraw(&raw);
		(void)tcsetattr(STDIN_FILENO, TCSANOW, &raw);   /* keep what was typed ahead */
	}

	while (!ended) {
		struct pollfd pf[4] = {
			{ .fd = master, .events = POLLIN },
			{ .fd = stdin_open ? STDIN_FILENO : -1, .events = POLLIN },
			{ .fd = rec_signal_fd(), .events = POLLIN },
			{ .fd = r->recording ? cast_poll_fd(&r->cast) : -1, .events = POLLIN },
		};
		int timeout = cast_flush_due_ms(&r->cast), sig;
		ssize_t n;

		if (child_done)
			timeout = 0;   /* only drain what the shell left in the terminal */
		if (poll(pf, 4, timeout) < 0 && errno != EINTR)
			break;
		if (r->recording && cast_flush_if_due(&r->cast) < 0 &&
		    rec_record_failed(r, STDOUT_FILENO, r->cast.err.msg) < 0)
			break;
		if (pf[0].revents) {
			unsigned char *out = rec_record_buffer(r, BUFSZ);   /* read into the queue */

			if (!out)
				out = buf;
			n = read_batch(master, out, BUFSZ);
			if (n > 0) {
				r->bytes_out += n;
				/* Shown first, so the terminal works while this is sealed; events are
				 * buffered up to flush_interval anyway, and a failure ends the session. */
				if (write_all(STDOUT_FILENO, out, (size_t)n) < 0)
					break;
				if (rec_record(r, 'o', out, (size_t)n) < 0)
					break;
			} else if (n == 0 || errno != EINTR) {
				break;   /* EIO: every holder of the terminal has closed it */
			}
		} else if (child_done) {
			break;
		}
		if (pf[1].revents) {
			n = read(STDIN_FILENO, buf, BUFSZ);
			if (n > 0) {
				struct termios t;

				r->bytes_in += n;
				if (r->conf->record_input && tcgetattr(master, &t) == 0 && (t.c_lflag & ECHO) &&
				    rec_record(r, 'i', buf, (size_t)n) < 0)
					break;
				if (write_all(master, buf, (size_t)n) < 0)
					break;
			} else if (n == 0 || errno != EINTR) {
				stdin_open = false;   /* the user's terminal is gone */
				(void)kill(-pid, SIGHUP);
			}
		}
		if (pf[2].revents) {
			while ((sig = rec_signal_next()) != 0) {
				if (sig == SIGWINCH) {
					struct winsize nws;

					if (ioctl(STDIN_FILENO, TIOCGWINSZ, &nws) == 0) {
						(void)ioctl(master, TIOCSWINSZ, &nws);
						if (rec_record_resize(r, nws.ws_col, nws.ws_row) < 0)
							ended = true;
					}
				} else if (sig == SIGCHLD) {
					if (!child_done && waitpid(pid, &wstatus, WNOHANG) == pid) {
						child_done = true;
						status = rec_exit_status(wstatus);
					}
				} else {
					(void)kill(-pid, SIGHUP);
					(void)kill(pid, sig == SIGHUP ? SIGHUP : SIGTERM);
				}
			}
		}
	}
	if (have_termios)
		(void)tcsetattr(STDIN_FILENO, TCSADRAIN, &orig);
	if (!child_done) {
		if (waitpid(pid, &wstatus, WNOHANG) == pid)
			status = rec_exit_status(wstatus);
		else
			status = end_child(pid);
	}
	close(master);
	free(buf);
	if (r->failed && r->conf->on_record_error == ISMS_RECERR_TERMINATE && status == 0)
		status = 1;
	return status;
}
