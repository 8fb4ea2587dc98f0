/* A loaded configuration with both stores open: what every command and
 * every PAM phase starts from. */
#ifndef ISMS_CTX_H
#define ISMS_CTX_H

#include <sqlite3.h>
#include <sys/stat.h>

#include "conf.h"
#include "err.h"

struct isms_ctx {
	struct isms_conf *conf; /* borrowed */
	sqlite3 *reg;           /* registry.db */
	sqlite3 *state;         /* state.db */
	char host[256];         /* this host's name, as audit events record it */
	struct stat reg_st;     /* identity of the stores when opened (login mode) */
	struct stat state_st;
	struct isms_priv_cache *priv;   /* set for a run over many accounts (privilege.h) */
};

enum {
	ISMS_CTX_LOGIN = 1 << 0, /* registry read-only, state read-write, no migration */
	ISMS_CTX_ADMIN = 1 << 1, /* both read-write, pending migrations applied */
};

/* Open both stores for conf. On failure both are closed and ctx->conf stays set. */
int isms_ctx_open(struct isms_ctx *ctx, struct isms_conf *conf, unsigned flags,
		  struct isms_err *err);
void isms_ctx_close(struct isms_ctx *ctx);

/* A login context kept open from one transaction to the next (pam_isms does,
 * within one process). isms_ctx_end ends the registry snapshot and returns 0
 * when both stores are idle and may be kept; isms_ctx_reuse then repeats for
 * the next transaction what isms_ctx_open checked: permissions of both stores
 * and their directories, that each path still names the file that is open
 * (-ESTALE when it was replaced: close and open again), the schema versions
 * (the state store's inside its first transaction, see
 * isms_db_check_version_later), and starts a new registry snapshot. */
int isms_ctx_end(struct isms_ctx *ctx);
int isms_ctx_reuse(struct isms_ctx *ctx, struct isms_err *err);

#endif
