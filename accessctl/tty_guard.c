/* What accessctl prints to a terminal passes through here: names, titles, DNs
 * and HR fields come from the directory and from exports that their subjects
 * can sometimes edit, and a control character among them (an escape sequence)
 * would be obeyed by the admin's terminal: it could recolour, hide or rewrite
 * what is shown. On a terminal, C0 controls other than tab and newline (and
 * a carriage return before a newline), DEL, and the C1 controls (U+0080 to
 * U+009F, which UTF-8 terminals also obey) are shown as \xNN or \uNNNN. Pipes
 * and files get every byte as it is. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

struct guard {
	int fd;
	bool c2;        /* the last byte was 0xC2: a C1 control may follow */
	bool cr;        /* the last byte was a carriage return */
};

static int put_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Escape into out (room for 8 bytes per input byte); returns the length. */
static size_t tty_escape(struct guard *g, const unsigned char *in, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char b = in[i];

		if (g->cr) {
			g->cr = false;
			if (b == '\n')
				out[o++] = '\r';
			else
				o += (size_t)sprintf(out + o, "\\x0d");
		}
		if (g->c2) {
			g->c2 = false;
			if (b >= 0x80 && b <= 0x9f) {
				o += (size_t)sprintf(out + o, "\\u%04x", b);
				continue;
			}
			out[o++] = (char)0xc2;
		}
		if (b == 0xc2)
			g->c2 = true;
		else if (b == '\r')
			g->cr = true;
		else if ((b < 0x20 && b != '\n' && b != '\t') || b == 0x7f)
			o += (size_t)sprintf(out + o, "\\x%02x", b);
		else
			out[o++] = (char)b;
	}
	return o;
}

static ssize_t guard_write(void *cookie, const char *buf, size_t n)
{
	struct guard *g = cookie;
	char out[8 * 512];
	size_t done = 0;

	while (done < n) {
		size_t k = n - done < 512 ? n - done : 512;
		size_t o = tty_escape(g, (const unsigned char *)buf + done, k, out);

		if (put_all(g->fd, out, o) < 0)
			return done ? (ssize_t)done : -1;
		done += k;
	}
	return (ssize_t)n;
}

static int guard_close(void *cookie)
{
	struct guard *g = cookie;
	char out[16];
	size_t o = 0;

	/* a lone 0xC2 or carriage return held for the next byte */
	if (g->c2)
		out[o++] = (char)0xc2;
	if (g->cr)
		o += (size_t)sprintf(out + o, "\\x0d");
	return o && put_all(g->fd, out, o) < 0 ? -1 : 0;
}

static FILE *guarded(int fd, struct guard *g)
{
	static const cookie_io_functions_t io = { .write = guard_write, .close = guard_close };

	g->fd = fd;
	return fopencookie(g, "w", io);
}

void cli_tty_guard(void)
{
	static struct guard out_g, err_g;
	FILE *f;

	if (isatty(STDOUT_FILENO) && (f = guarded(STDOUT_FILENO, &out_g))) {
		fflush(stdout);
		stdout = f;
	}
	if (isatty(STDERR_FILENO) && (f = guarded(STDERR_FILENO, &err_g))) {
		setvbuf(f, NULL, _IONBF, 0);
		cli_progress_stream(stderr);   /* the bar's own carriage returns go as they are */
		stderr = f;
	}
}
