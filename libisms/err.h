/* The one error type of libisms: a negative errno-style code plus a message
 * a person can act on. Library code fills it; programs decide what to print. */
#ifndef ISMS_ERR_H
#define ISMS_ERR_H

#include <errno.h>

struct isms_err {
	int code;       /* negative errno, 0 when no error */
	char msg[512];  /* "file:line: key 'x': ..." and the like */
};

/* Record an error and return its code (negative), for `return isms_err_set(...)`.
 * A NULL err is allowed: the code is still returned. */
int isms_err_set(struct isms_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

void isms_err_clear(struct isms_err *err);

#endif
