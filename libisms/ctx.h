/* A loaded configuration with both stores open: what every command and
 * every PAM phase starts from. */
#ifndef ISMS_CTX_H
#define ISMS_CTX_H

#include <sqlite3.h>

#include "conf.h"
#include "err.h"

struct isms_ctx {
	struct isms_conf *conf; /* borrowed */
	sqlite3 *reg;           /* registry.db */
	sqlite3 *state;         /* state.db */
	char host[256];         /* this host's name, as audit events record it */
};

enum {
	ISMS_CTX_LOGIN = 1 << 0, /* registry read-only, state read-write, no migration */
	ISMS_CTX_ADMIN = 1 << 1, /* both read-write, pending migrations applied */
};

/* Open both stores for conf. On failure both are closed and ctx->conf stays set. */
int isms_ctx_open(struct isms_ctx *ctx, struct isms_conf *conf, unsigned flags,
		  struct isms_err *err);
void isms_ctx_close(struct isms_ctx *ctx);

#endif
