/* The config and stores kept open across PAM calls in one process (cache.c). */
#ifndef PAM_ISMS_CACHE_H
#define PAM_ISMS_CACHE_H

#include <stdbool.h>

#include "conf.h"
#include "ctx.h"
#include "err.h"
#include "vault.h"

/* Why this process can no longer open the stores (see cache.c), or NULL.
 * Every call then fails closed. */
const char *module_cache_tainted(void);

/* A call opening stores of its own begins (true) or ends (false): a fork
 * meanwhile leaves the child refusing logins. */
void module_cache_uncached(bool begin);

/* Take the process's cache for this call; false when another thread holds it
 * (the call then works uncached). Every acquire is paired with a release. */
bool module_cache_acquire(void);

/* The config at conf_path and both stores open for a login, checked as if
 * opened afresh, with a new registry snapshot begun. Both stay owned by the
 * cache. On failure *conf may still be set (the stores failed, not the config). */
int module_cache_open(const char *conf_path, struct isms_conf **conf, struct isms_ctx *ctx,
		      struct isms_err *err);

/* The host key at path, kept between calls like the config: the file's
 * identity (device, inode, size, times, mode, owner) and the key file rules
 * are checked every call, and it is read again when any changed. Dropped
 * (wiped) before the process forks. */
int module_cache_vault(const char *path, struct isms_vault *ret, struct isms_err *err);

/* End the call: the registry snapshot ends; stores left mid-transaction are closed. */
void module_cache_release(void);

#endif
