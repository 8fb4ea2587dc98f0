/* Open the configured stores for a login (registry read-only) or for an admin. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctx.h"
#include "db.h"
#include "err.h"

int isms_ctx_open(struct isms_ctx *ctx, struct isms_conf *conf, unsigned flags, struct isms_err *err)
{
	bool login = flags & ISMS_CTX_LOGIN;
	int r;

	ctx->conf = conf;
	ctx->reg = ctx->state = NULL;
	(void)snprintf(ctx->host, sizeof(ctx->host), "%s", conf->system_name);
	r = isms_db_open(conf->registry_db, ISMS_REGISTRY, login ? ISMS_DB_READONLY | ISMS_DB_LOGIN : ISMS_DB_MIGRATE,
			 &ctx->reg, err);
	if (r < 0)
		return r;
	r = isms_db_open(conf->state_db, ISMS_STATE, login ? ISMS_DB_LOGIN : ISMS_DB_MIGRATE, &ctx->state, err);
	if (r < 0) {
		isms_db_close(ctx->reg);
		ctx->reg = NULL;
		return r;
	}
	/* A login reads the registry as one snapshot: a sync committing meanwhile
	 * is seen whole or not at all, and the read locks are taken once. */
	if (login && sqlite3_exec(ctx->reg, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		isms_ctx_close(ctx);
		return isms_err_set(err, -EIO, "registry: cannot start a read transaction");
	}
	return 0;
}

void isms_ctx_close(struct isms_ctx *ctx)
{
	if (!ctx)
		return;
	isms_db_rollback(ctx->reg);
	isms_db_close(ctx->reg);
	isms_db_close(ctx->state);
	ctx->reg = ctx->state = NULL;
}
