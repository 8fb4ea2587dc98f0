/* The account-phase decision: is this account unique, owned, active and allowed
 * on this service? One function, called by pam_isms at login and by
 * `accessctl check`, so that the two agree by construction. */
#ifndef ISMS_ACCOUNT_POLICY_H
#define ISMS_ACCOUNT_POLICY_H

#include <pwd.h>
#include <stdbool.h>

#include "conf.h"
#include "ctx.h"

/* What the PAM module answers; libisms stays free of libpam. */
enum isms_verdict {
	ISMS_VERDICT_ALLOW,       /* PAM_SUCCESS */
	ISMS_VERDICT_UNAVAIL,     /* PAM_AUTHINFO_UNAVAIL: store or config unusable */
	ISMS_VERDICT_UNKNOWN,     /* PAM_USER_UNKNOWN: not in the registry */
	ISMS_VERDICT_EXPIRED,     /* PAM_ACCT_EXPIRED: revoked or departed */
	ISMS_VERDICT_PERM,        /* PAM_PERM_DENIED: every other refusal */
};

struct isms_decision {
	bool allow;
	enum isms_verdict verdict;
	const char *reason;       /* reason code: ok, breakglass_used, unknown_account, ... (static) */
	char message[320];        /* one line for the user (empty: say nothing) */
	char details[640];        /* key=value pairs for the audit event; never a secret */
	bool privileged;          /* allowed and privileged: the session phase records it */
	char privileged_via[128]; /* "uid 0", "group sudo" */
	bool breakglass;          /* allowed as break-glass: raise an alert */
};

/* Decide for `user` on `service`. ctx->conf may be NULL (config unreadable) and
 * ctx->reg / ctx->state NULL (store unusable): both deny, except break-glass.
 * `nss` is what getpwnam_r returned, NULL when NSS does not know the user;
 * `nss_error` is getpwnam_r's error (0 when the lookup itself worked): a user
 * database that cannot answer denies like an unusable store, never "unknown".
 * Always fills *ret; any store error along the way is treated as an unusable store. */
void isms_account_decide(struct isms_ctx *ctx, const char *user, const char *service,
			 const struct passwd *nss, int nss_error, struct isms_decision *ret);

/* getpwnam_r, with "not found" told apart from "NSS could not answer": returns 0
 * (found, or *ret NULL when no such user) or the errno of a real failure. glibc
 * reports "not found" as 0, ENOENT, ESRCH, EBADF or EPERM depending on the source. */
int isms_nss_getpwnam(const char *user, struct passwd *pw, char *buf, size_t len, struct passwd **ret);

/* Interactive unless listed in [general] noninteractive_services. */
bool isms_service_interactive(const struct isms_conf *conf, const char *service);

/* "PAM_SUCCESS", "PAM_PERM_DENIED", ...: the code pam_isms returns for a verdict. */
const char *isms_verdict_name(enum isms_verdict v);

#endif
