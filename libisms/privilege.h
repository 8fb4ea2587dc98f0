/* Who is privileged, and group membership as the policy sees it: the union of
 * NSS groups (primary included) and the registry's memberships. One answer for
 * the account phase, MFA, session recording, inventory and reviews. */
#ifndef ISMS_PRIVILEGE_H
#define ISMS_PRIVILEGE_H

#include <stdbool.h>
#include <sys/types.h>

#include "ctx.h"
#include "err.h"

/* The account's groups: NSS (getgrouplist on user/gid, when the user is known to
 * NSS) plus registry memberships. *ret is a NULL-terminated list (isms_list_free). */
int isms_account_groups(struct isms_ctx *ctx, const char *user, gid_t gid, bool have_gid,
			char ***ret, struct isms_err *err);

/* Privileged: uid 0, or a member of a group listed in [general] privileged_groups,
 * [ldap] privileged_groups, or marked privileged in the registry. `via` (may be
 * NULL) receives "uid 0" or the group that makes it so. */
int isms_account_privileged(struct isms_ctx *ctx, const char *user, uid_t uid, gid_t gid,
			    bool have_ids, bool *ret, char *via, size_t vialen, struct isms_err *err);

/* A run that asks about many accounts (a review, the inventory, a report):
 * between begin and end, ctx remembers group names by gid, the registry's
 * privileged groups and its prepared statements, and the two calls above
 * answer from them. Group definitions are read once per run. */
int isms_priv_cache_begin(struct isms_ctx *ctx, struct isms_err *err);
void isms_priv_cache_end(struct isms_ctx *ctx);

/* Within such a run, a thread asks NSS for the groups of each user the
 * registry query sql lists (rows of name, primary gid), in that order, while
 * the run does its other work; isms_account_groups takes the answer from it
 * (waiting for it if need be). Users not listed, or asked about with another
 * primary gid, are asked as before. Ends with isms_priv_cache_end. */
int isms_priv_cache_prefetch(struct isms_ctx *ctx, const char *sql, struct isms_err *err);

/* Is any of groups in list? Returns the first match or NULL. */
const char *isms_groups_match(char *const *groups, char *const *list);

#endif
