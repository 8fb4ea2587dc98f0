/* Test-only LD_PRELOAD shim: captures syslog lines (from the module, libpam and
 * libisms) into the file named by ISMS_SYSLOG_CAPTURE, one "PRIORITY|message" a line. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#pragma GCC visibility push(default)

static void capture(int prio, const char *fmt, va_list ap)
{
	const char *path = getenv("ISMS_SYSLOG_CAPTURE");
	char line[2048];
	int n, fd;

	if (!path)
		return;
	n = snprintf(line, sizeof(line), "%d|", prio & LOG_PRIMASK);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0) {
		(void)!write(fd, line, (size_t)n);
		close(fd);
	}
}

void openlog(const char *ident, int option, int facility) { (void)ident; (void)option; (void)facility; }
void closelog(void) {}
void vsyslog(int prio, const char *fmt, va_list ap) { capture(prio, fmt, ap); }
void __vsyslog_chk(int prio, int flag, const char *fmt, va_list ap) { (void)flag; capture(prio, fmt, ap); }

void syslog(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	capture(prio, fmt, ap);
	va_end(ap);
}

void __syslog_chk(int prio, int flag, const char *fmt, ...)
{
	va_list ap;

	(void)flag;
	va_start(ap, fmt);
	capture(prio, fmt, ap);
	va_end(ap);
}
