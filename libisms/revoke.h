/* The revocation engine, used by `accessctl revoke`, `offboard`, `stale --apply`,
 * review decisions and sync departures. Every step is recorded in
 * revocation_actions; the whole is idempotent and a rerun finishes what failed. */
#ifndef ISMS_REVOKE_H
#define ISMS_REVOKE_H

#include <stdint.h>

#include "ctx.h"
#include "err.h"

struct isms_revoke_req {
	const char *account;     /* account name */
	const char *trigger;     /* manual, offboard, stale, review, sync */
	const char *reason;      /* free text, required */
	const char *ticket;      /* may be NULL */
	const char *actor;       /* who asked (admin name, "hr-feed", "scim") */
};

struct isms_revoke_result {
	int done;                /* steps done (now or earlier) */
	int failed;              /* steps that failed and remain */
	char remaining[512];     /* what remains, for a person */
};

/* Revoke one account: registry status, local shadow lock and privileged groups,
 * sessions, directory lock and group removal when configured. 0 when every step
 * is done, -EAGAIN when some remain (see res->remaining), other negative on error. */
int isms_revoke_account(struct isms_ctx *ctx, const struct isms_revoke_req *req,
			struct isms_revoke_result *res, struct isms_err *err);

/* Undo the account's current revocation from what its actions recorded: memberships
 * back, shadow unlocked, directory lock removed, registry status active. The actions
 * are marked 'undone' and a 'restore' row keeps the reason. 0, -EAGAIN when some
 * step could not be undone (res->remaining; a rerun finishes it), -ENOENT when
 * there is nothing to restore. */
int isms_revoke_restore(struct isms_ctx *ctx, const struct isms_revoke_req *req,
			struct isms_revoke_result *res, struct isms_err *err);

/* Offboard a person: record the termination (terminations row, people.status
 * departed) and revoke every account the person owns (trigger 'offboard').
 * Returns 0 when every account is revoked (terminations.revoked_at set), 1 when
 * the termination was already complete (nothing changed), -EAGAIN when some step
 * remains (res sums the accounts), -ENOENT for an unknown employee number. */
struct isms_offboard_req {
	const char *employee_no;
	int64_t terminated_at;   /* HR termination time */
	const char *source;      /* 'hr-feed', 'manual', 'scim' */
	const char *source_ref;  /* file:line, request, or NULL */
	const char *ticket;      /* may be NULL */
	const char *actor;
};

int isms_offboard_person(struct isms_ctx *ctx, const struct isms_offboard_req *req,
			 struct isms_revoke_result *res, struct isms_err *err);

/* What isms_offboard_person would revoke, writing nothing: the names of the
 * accounts the person owns (NULL-terminated, isms_list_free). 1 when the
 * person's offboarding is complete, -ENOENT for an unknown employee number. */
int isms_offboard_plan(struct isms_ctx *ctx, const char *employee_no, char ***ret_accounts,
		       struct isms_err *err);

/* Re-read the registry (and directory) to confirm the account is revoked:
 * 0 when it is, -EAGAIN when a step did not take (err says which). */
int isms_revoke_verify(struct isms_ctx *ctx, const char *account, struct isms_err *err);

/* Remove one direct group membership of req->account (an access review's
 * "modify"): from the local group file, from the directory group when write-back
 * is configured, and from the registry, each step recorded in revocation_actions
 * before it is taken; then everything is re-read. 0 when the membership is gone
 * everywhere, -EAGAIN with err saying where it remains. */
int isms_revoke_membership(struct isms_ctx *ctx, const struct isms_revoke_req *req, const char *group,
			   struct isms_err *err);

#endif
