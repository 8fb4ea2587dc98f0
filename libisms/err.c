/* The one error type: a negative code and a message for a person. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

int isms_err_set(struct isms_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (code > 0)
		code = -code;
	if (!err)
		return code;
	err->code = code;
	va_start(ap, fmt);
	(void)vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

void isms_err_clear(struct isms_err *err)
{
	if (!err)
		return;
	err->code = 0;
	err->msg[0] = '\0';
}
