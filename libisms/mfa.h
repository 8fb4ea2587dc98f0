/* MFA at login: who must pass it, the token of an account (secret sealed by the
 * vault), the replay-safe check-and-set against state.db, rate limiting, and
 * single-use recovery codes. The PAM module and accessctl share all of it. */
#ifndef ISMS_MFA_H
#define ISMS_MFA_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sqlite3.h>

#include "conf.h"
#include "ctx.h"
#include "err.h"
#include "totp.h"
#include "vault.h"

#define ISMS_MFA_SECRET_BYTES 20   /* 160 bits, RFC 4226's recommendation */
#define ISMS_MFA_SECRET_MAX 64     /* the longest secret accepted (SHA-512 block) */
#define ISMS_MFA_RECOVERY_SIZE 12  /* "xxxxx-xxxxx" + NUL */

/* The registry's view of an account, as MFA needs it. */
struct isms_mfa_account {
	int64_t id;
	char kind[16];     /* human, service, shared, breakglass */
	char status[16];
	int64_t uid, gid;  /* -1 when unknown */
	int64_t created_at;
};

struct isms_mfa_token {
	int64_t id;
	char *account;
	unsigned char *secret;     /* opened secret, or NULL when loaded without it */
	size_t secret_len;
	unsigned char *sealed;     /* isms_mfa_login_find: the secret as stored, until opened */
	size_t sealed_len;
	struct isms_totp_params p;
	bool active;               /* confirmed; pending tokens do not log in */
	char *imported_from;
	int64_t created_at, confirmed_at; /* confirmed_at 0 when pending */
};

enum isms_mfa_verdict {
	ISMS_MFA_ACCEPTED,          /* TOTP code accepted; the watermark advanced */
	ISMS_MFA_RECOVERY_ACCEPTED, /* a recovery code, now spent */
	ISMS_MFA_WRONG,             /* no match; a failure was counted */
	ISMS_MFA_REPLAYED,          /* matched a step at or below the watermark; counted */
	ISMS_MFA_LOCKED,            /* token locked; nothing was checked */
};

struct isms_mfa_outcome {
	enum isms_mfa_verdict verdict;
	int64_t step;           /* matched time step (ACCEPTED, REPLAYED) */
	int64_t failures;       /* failures in the current window after this attempt */
	int64_t locked_until;   /* LOCKED, or locked_now */
	bool locked_now;        /* this failure locked the token */
	bool lock_expired;      /* an expired lock was released by this attempt */
	int64_t recovery_left;  /* RECOVERY_ACCEPTED: unused codes left */
};

/* The account row; -ENOENT when the registry does not know the name. */
int isms_mfa_account_find(sqlite3 *reg, const char *name, struct isms_mfa_account *ret,
			  struct isms_err *err);

/* Must this account pass MFA? Service accounts never; privileged accounts always;
 * otherwise [mfa] mode = required (every other account) or groups (members of
 * [mfa] groups). `why` (may be NULL) receives the reason in words. */
int isms_mfa_required(struct isms_ctx *ctx, const char *user, const struct isms_mfa_account *acct,
		      bool *ret, char *why, size_t whylen, struct isms_err *err);

/* Load the account's token; with v non-NULL the secret is opened (AD = account).
 * -ENOENT when the account has no token, -EBADMSG when the secret does not open. */
int isms_mfa_token_load(sqlite3 *reg, const struct isms_vault *v, const char *account,
			struct isms_mfa_token *ret, struct isms_err *err);

/* For a login: the account row and its token in one registry lookup. -ENOENT
 * when the registry does not know the name; tok->id is 0 when the account has
 * no token. The secret stays sealed (the host key is read only when MFA turns
 * out to be required) until isms_mfa_token_open. */
int isms_mfa_login_find(sqlite3 *reg, const char *name, struct isms_mfa_account *acct,
			struct isms_mfa_token *tok, struct isms_err *err);
/* Open the sealed secret isms_mfa_login_find kept; -EBADMSG when it does not open. */
int isms_mfa_token_open(const struct isms_vault *v, struct isms_mfa_token *tok, struct isms_err *err);

/* Wipe the secret and free what the token holds; the struct may be half-built. */
void isms_mfa_token_clear(struct isms_mfa_token *t);

/* Seal and store a token (replacing any previous one, whose state starts afresh).
 * status "pending" or "active". Runs inside the caller's transaction if one is open. */
int isms_mfa_token_store(sqlite3 *reg, const struct isms_vault *v, const struct isms_mfa_account *acct,
			 const char *account, const unsigned char *secret, size_t secret_len,
			 const struct isms_totp_params *p, bool active, const char *imported_from,
			 int64_t now, int64_t *ret_id, struct isms_err *err);

/* The check-and-set: in ONE immediate transaction on state.db, read the watermark,
 * failures and lock, verify `code` (a TOTP code, or a recovery code), and write the
 * new watermark or failure count/lock. Concurrent callers with the same code get
 * exactly one ACCEPTED. Any store error returns negative (the caller denies).
 * Inside a transaction the caller opened (BEGIN IMMEDIATE, so that the audit
 * events of the attempt commit with it), that one is used; the caller commits,
 * or rolls back on error. */
int isms_mfa_check(sqlite3 *state, const struct isms_conf *conf, const struct isms_vault *v,
		   const struct isms_mfa_token *t, const char *code, int64_t now,
		   struct isms_mfa_outcome *ret, struct isms_err *err);

/* Recovery codes: n fresh codes "xxxxx-xxxxx" (unambiguous lowercase alphabet). */
void isms_mfa_recovery_generate(char (*codes)[ISMS_MFA_RECOVERY_SIZE], size_t n);

/* Normalise user input (spaces, dashes, case) to "xxxxx-xxxxx"; -EINVAL when it
 * is not shaped like a recovery code. */
int isms_mfa_recovery_normalize(const char *in, char out[ISMS_MFA_RECOVERY_SIZE]);

/* Replace the account's recovery codes by these (stored only as keyed hashes). */
int isms_mfa_recovery_store(sqlite3 *state, const struct isms_vault *v, const char *account,
			    int64_t token_id, char (*codes)[ISMS_MFA_RECOVERY_SIZE], size_t n,
			    int64_t now, struct isms_err *err);

int isms_mfa_recovery_left(sqlite3 *state, const char *account, int64_t token_id,
			   int64_t *ret, struct isms_err *err);

/* Forget the login-time state of an account (watermark, failures, lock, recovery codes). */
int isms_mfa_state_forget(sqlite3 *state, const char *account, struct isms_err *err);

/* Release a lock and clear the failure count. *ret_was_locked says whether it was locked at now. */
int isms_mfa_unlock(sqlite3 *state, const char *account, int64_t token_id, int64_t now,
		    bool *ret_was_locked, struct isms_err *err);

/* otpauth://totp/ISSUER:USER?secret=...&issuer=...&algorithm=...&digits=...&period=... (malloc'd). */
char *isms_mfa_otpauth_uri(const char *issuer, const char *account, const unsigned char *secret,
			   size_t secret_len, const struct isms_totp_params *p);

#endif
