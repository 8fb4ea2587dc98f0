/* Open the configured stores for a login (registry read-only) or for an admin. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctx.h"
#include "privilege.h"
#include "db.h"
#include "err.h"
#include "util.h"

/* A login reads the registry as one snapshot: a sync committing meanwhile
 * is seen whole or not at all, and the read locks are taken once. */
static int begin_snapshot(struct isms_ctx *ctx, struct isms_err *err)
{
	if (isms_db_begin_read(ctx->reg, NULL) < 0)
		return isms_err_set(err, -EIO, "registry: cannot start a read transaction");
	return 0;
}

int isms_ctx_open(struct isms_ctx *ctx, struct isms_conf *conf, unsigned flags, struct isms_err *err)
{
	bool login = flags & ISMS_CTX_LOGIN;
	int r;

	ctx->conf = conf;
	ctx->reg = ctx->state = NULL;
	ctx->priv = NULL;
	(void)snprintf(ctx->host, sizeof(ctx->host), "%s", conf->system_name);
	r = isms_db_open_stat(conf->registry_db, ISMS_REGISTRY,
			      login ? ISMS_DB_READONLY | ISMS_DB_LOGIN : ISMS_DB_MIGRATE, &ctx->reg, &ctx->reg_st, err);
	if (r < 0)
		return r;
	r = isms_db_open_stat(conf->state_db, ISMS_STATE, login ? ISMS_DB_LOGIN : ISMS_DB_MIGRATE, &ctx->state,
			      &ctx->state_st, err);
	if (r < 0) {
		isms_db_close(ctx->reg);
		ctx->reg = NULL;
		return r;
	}
	if (login && begin_snapshot(ctx, err) < 0) {
		isms_ctx_close(ctx);
		return -EIO;
	}
	return 0;
}

int isms_ctx_end(struct isms_ctx *ctx)
{
	isms_db_rollback(ctx->reg);
	if (!ctx->reg || !ctx->state)
		return -EBADF;
	/* a transaction left open by an error path: do not carry it on */
	if (!sqlite3_get_autocommit(ctx->reg) || !sqlite3_get_autocommit(ctx->state))
		return -EBUSY;
	return 0;
}

static int same_store(const char *path, const struct stat *was, bool check_dir, struct isms_err *err)
{
	struct stat now;
	int r = check_dir ? isms_db_check_store(path, &now, err) :
		isms_check_guard_stat(path, "store", false, &now, err);

	if (r < 0)
		return r;
	if (now.st_dev != was->st_dev || now.st_ino != was->st_ino)
		return isms_err_set(err, -ESTALE, "store %s was replaced", path);
	return 0;
}

/* Whether two paths name files in the same directory (by their text). */
static bool same_dir(const char *a, const char *b)
{
	const char *sa = strrchr(a, '/'), *sb = strrchr(b, '/');

	return sa && sb && sa - a == sb - b && strncmp(a, b, (size_t)(sa - a)) == 0;
}

int isms_ctx_reuse(struct isms_ctx *ctx, struct isms_err *err)
{
	int r;

	if (!ctx->reg || !ctx->state)
		return isms_err_set(err, -EBADF, "stores not open");
	r = same_store(ctx->conf->registry_db, &ctx->reg_st, true, err);
	if (r == 0)   /* the directory both share is checked once */
		r = same_store(ctx->conf->state_db, &ctx->state_st,
			       !same_dir(ctx->conf->registry_db, ctx->conf->state_db), err);
	if (r == 0)   /* in the state store's first transaction of the call */
		r = isms_db_check_version_later(ctx->state, ISMS_STATE, ctx->conf->state_db, err);
	if (r == 0)
		r = begin_snapshot(ctx, err);
	/* read inside the snapshot: the version the rest of the login reads under */
	if (r == 0)
		r = isms_db_check_version(ctx->reg, ISMS_REGISTRY, ctx->conf->registry_db, err);
	if (r < 0)
		isms_db_rollback(ctx->reg);
	return r;
}

void isms_ctx_close(struct isms_ctx *ctx)
{
	if (!ctx)
		return;
	while (ctx->priv)   /* a run over many accounts left unfinished */
		isms_priv_cache_end(ctx);
	isms_db_rollback(ctx->reg);
	isms_db_close(ctx->reg);
	isms_db_close(ctx->state);
	ctx->reg = ctx->state = NULL;
}
