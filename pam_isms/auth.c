/* Authentication phase: the OATH TOTP second factor, recovery codes, the
 * enrollment grace, and the stacking options of pam_google_authenticator
 * (use_first_pass, try_first_pass, forward_pass). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <security/pam_ext.h>
#include <sodium.h>

#include "audit.h"
#include "cache.h"
#include "clock.h"
#include "db.h"
#include "mfa.h"
#include "module.h"
#include "util.h"

struct auth {
	struct module *m;
	struct isms_vault vault;
	bool vault_loaded;
	struct isms_mfa_token tok;
	struct isms_mfa_account acct;
};

static void wipe_str(char **s)
{
	if (*s)
		isms_secret_free(*s, strlen(*s));
	*s = NULL;
}

static int ask(struct module *m, const char *prompt, char **ret)
{
	char *resp = NULL;
	int rv = pam_prompt(m->pamh, PAM_PROMPT_ECHO_OFF, &resp, "%s", prompt);

	if (rv != PAM_SUCCESS || !resp) {
		wipe_str(&resp);
		return rv == PAM_SUCCESS ? PAM_CONV_ERR : rv;
	}
	*ret = resp;
	return PAM_SUCCESS;
}

/* Split "password<code>" in place: the trailing TOTP code (digits) or recovery
 * code is returned as a new string and cut off input. NULL when none trails. */
static char *take_code(char *input, unsigned digits)
{
	char norm[ISMS_MFA_RECOVERY_SIZE];
	size_t len = strlen(input), cut = len;
	char *code;

	if (len >= digits && isms_totp_code_shaped(input + len - digits, digits))
		cut = len - digits;
	else if (len >= 11 && isms_mfa_recovery_normalize(input + len - 11, norm) == 0 && input[len - 6] == '-')
		cut = len - 11;
	else if (len >= 10 && isms_mfa_recovery_normalize(input + len - 10, norm) == 0)
		cut = len - 10;
	sodium_memzero(norm, sizeof(norm));
	if (cut == len)
		return NULL;
	code = strdup(input + cut);
	sodium_memzero(input + cut, len - cut);
	return code;
}

/* The prompt of forward_pass asks for both: "Password & verification code: ". */
static void forward_prompt(const struct module *m, char *buf, size_t len)
{
	const char *p = m->conf->mfa_prompt;

	(void)snprintf(buf, len, "Password & %c%s", tolower((unsigned char)p[0]), p[0] ? p + 1 : "");
}

/* Without MFA to check, forward_pass still owes the next module a password. */
static int forward_password_only(struct module *m)
{
	char *pw = NULL;
	int rv;

	if (!m->forward_pass)
		return PAM_SUCCESS;
	rv = ask(m, "Password: ", &pw);
	if (rv == PAM_SUCCESS)
		rv = pam_set_item(m->pamh, PAM_AUTHTOK, pw);
	wipe_str(&pw);
	return rv;
}

static int not_enrolled(struct auth *a, const char *why)
{
	struct module *m = a->m;
	int64_t until = a->acct.created_at + m->conf->mfa_enroll_grace;
	const char *contact = m->conf->contact && *m->conf->contact ? m->conf->contact : "an administrator";
	char when[32];

	(void)isms_time_iso(until, when, sizeof(when));
	if (isms_now() < until) {
		pam_info(m->pamh, "Multi-factor authentication is not set up for %s. Ask %s to enroll you "
			 "(accessctl mfa enroll %s) before %s; after that, logins are refused.",
			 m->user, contact, m->user, when);
		module_audit(m, "mfa", "allow", "enroll_grace", why, 0);
		return forward_password_only(m);
	}
	pam_error(m->pamh, "Multi-factor authentication is required for %s but not set up. "
		  "Ask %s to enroll you (accessctl mfa enroll %s).", m->user, contact, m->user);
	module_audit(m, "mfa", "deny", "not_enrolled", why, 0);
	return PAM_AUTH_ERR;
}

/* The stores or the key are unusable: deny, except for the configured
 * break-glass accounts, whose every use is an alert. The second factor is
 * waived for them; the password module of the stack still applies. */
static int break_glass(struct module *m, const char *reason)
{
	if (m->conf && isms_list_contains(m->conf->breakglass_accounts, m->user)) {
		module_audit(m, "breakglass_used", "allow", reason, "factor=mfa", LOG_ALERT);
		pam_syslog(m->pamh, LOG_ALERT, "break-glass account %s let in without MFA: %s", m->user,
			   reason);
		return forward_password_only(m);
	}
	module_audit(m, "mfa", "deny", reason, NULL, 0);
	return PAM_AUTHINFO_UNAVAIL;
}

/* The audit events of one attempt, and the PAM code it earns. */
static int attempt_outcome(struct module *m, const struct isms_mfa_outcome *out, bool no_code)
{
	char details[160], when[32];

	if (out->lock_expired)
		module_audit(m, "mfa_unlock", "ok", "lockout_expired", NULL, LOG_WARNING);
	switch (out->verdict) {
	case ISMS_MFA_ACCEPTED:
		module_audit(m, "mfa", "allow", "totp", "method=totp", 0);
		return PAM_SUCCESS;
	case ISMS_MFA_RECOVERY_ACCEPTED:
		(void)snprintf(details, sizeof(details), "method=recovery_code recovery_left=%lld",
			       (long long)out->recovery_left);
		module_audit(m, "mfa", "allow", "recovery_code", details, LOG_NOTICE);
		return PAM_SUCCESS;
	case ISMS_MFA_LOCKED:
		(void)snprintf(details, sizeof(details), "locked_until=%s",
			       isms_time_iso(out->locked_until, when, sizeof(when)));
		module_audit(m, "mfa", "deny", "locked", details, 0);
		return PAM_AUTH_ERR;
	case ISMS_MFA_REPLAYED:
	case ISMS_MFA_WRONG:
		(void)snprintf(details, sizeof(details), "failures=%lld", (long long)out->failures);
		module_audit(m, "mfa", "deny", out->verdict == ISMS_MFA_REPLAYED ? "replayed_code" :
			     no_code ? "no_code" : "wrong_code", details, 0);
		if (out->locked_now) {
			(void)snprintf(details, sizeof(details), "failures=%lld locked_until=%s",
				       (long long)out->failures,
				       isms_time_iso(out->locked_until, when, sizeof(when)));
			module_audit(m, "mfa_lock", "deny", "too_many_failures", details, LOG_WARNING);
		}
		return PAM_AUTH_ERR;
	}
	return PAM_AUTH_ERR;
}

/* One attempt with one candidate code: the check-and-set and its audit events,
 * committed as one transaction. */
static int attempt(struct auth *a, const char *code, struct isms_mfa_outcome *out)
{
	struct module *m = a->m;
	char when[32];
	int r, rv;

	r = isms_db_begin(m->ctx.state, &m->err);
	if (r == 0)
		r = isms_mfa_check(m->ctx.state, m->conf, &a->vault, &a->tok, code ? code : "", isms_now(),
				   out, &m->err);
	if (r < 0)
		goto unwritable;
	rv = attempt_outcome(m, out, !code);
	r = isms_db_commit(m->ctx.state, &m->err);
	if (r < 0)
		goto unwritable;
	if (out->verdict == ISMS_MFA_RECOVERY_ACCEPTED)
		pam_info(m->pamh, "Recovery code accepted; %lld left.", (long long)out->recovery_left);
	else if (out->verdict == ISMS_MFA_LOCKED)
		pam_error(m->pamh, "Too many failed codes: locked until %s.",
			  isms_time_iso(out->locked_until, when, sizeof(when)));
	return rv;
unwritable:
	/* fail closed: a code we could not record is a code we did not accept */
	isms_db_rollback(m->ctx.state);
	pam_syslog(m->pamh, LOG_ERR, "MFA state not writable: %s", m->err.msg);
	module_audit(m, "mfa", "deny", "state_unavailable", NULL, 0);
	out->verdict = ISMS_MFA_WRONG;
	out->locked_now = false;
	return PAM_AUTHINFO_UNAVAIL;
}

/* The code from the previous module's password (use_first_pass, try_first_pass). */
static char *first_pass_code(struct auth *a)
{
	const void *item = NULL;
	char *copy, *code;

	if (pam_get_item(a->m->pamh, PAM_AUTHTOK, &item) != PAM_SUCCESS || !item)
		return NULL;
	copy = strdup(item);
	if (!copy)
		return NULL;
	code = take_code(copy, a->tok.p.digits);
	wipe_str(&copy);
	return code;
}

static int verify(struct auth *a)
{
	struct module *m = a->m;
	struct isms_mfa_outcome out;
	char prompt[160], *input = NULL, *code = NULL;
	int rv;

	if (m->use_first_pass || m->try_first_pass) {
		code = first_pass_code(a);
		if (code || m->use_first_pass) {
			rv = attempt(a, code, &out);
			wipe_str(&code);
			if (rv == PAM_SUCCESS || m->use_first_pass || rv == PAM_AUTHINFO_UNAVAIL ||
			    out.verdict == ISMS_MFA_LOCKED || out.locked_now)
				return rv;
		}
	}
	if (m->forward_pass)
		forward_prompt(m, prompt, sizeof(prompt));
	else
		(void)snprintf(prompt, sizeof(prompt), "%s", m->conf->mfa_prompt);
	rv = ask(m, prompt, &input);
	if (rv != PAM_SUCCESS) {
		module_audit(m, "mfa", "deny", "conversation_failed", NULL, 0);
		return rv;
	}
	if (m->forward_pass) {
		code = take_code(input, a->tok.p.digits);
		rv = pam_set_item(m->pamh, PAM_AUTHTOK, input);
		wipe_str(&input);
		if (rv != PAM_SUCCESS) {
			wipe_str(&code);
			return rv;
		}
	} else {
		/* apps show "123 456": accept the code typed with its space */
		char *w = input;

		for (char *r = input; *r; r++)
			if (*r != ' ')
				*w++ = *r;
		sodium_memzero(w, strlen(w));
		code = input;
		input = NULL;
	}
	rv = attempt(a, code, &out);
	wipe_str(&code);
	return rv;
}

static int authenticate(struct auth *a)
{
	struct module *m = a->m;
	char why[192];
	bool required = false;
	int r;

	r = isms_mfa_login_find(m->ctx.reg, m->user, &a->acct, &a->tok, &m->err);
	if (r == -ENOENT) {
		/* not prompting: an unknown name must not cost anyone a failure count */
		module_audit(m, "mfa", "deny", "unknown_account", NULL, 0);
		return PAM_USER_UNKNOWN;
	}
	if (r < 0)
		goto store_error;
	r = isms_mfa_required(&m->ctx, m->user, &a->acct, &required, why, sizeof(why), &m->err);
	if (r < 0)
		goto store_error;
	if (strcmp(a->acct.kind, "service") == 0) {
		module_audit(m, "mfa", "ignore", "service_account", NULL, 0);
		return PAM_IGNORE;
	}
	if (!required) {
		char details[240] = "";
		size_t pos = 0;

		isms_audit_kv(details, sizeof(details), &pos, "why", why);
		module_audit(m, "mfa", "allow", "not_required", details, 0);
		return forward_password_only(m);
	}
	r = m->cached ? module_cache_vault(m->conf->host_key, &a->vault, &m->err) :
			isms_vault_load(m->conf->host_key, &a->vault, &m->err);
	if (r < 0)
		goto store_error;
	a->vault_loaded = true;
	if (a->tok.id == 0)
		return not_enrolled(a, "token=none");
	r = isms_mfa_token_open(&a->vault, &a->tok, &m->err);
	if (r < 0)
		goto store_error;
	if (!a->tok.active)
		return not_enrolled(a, "token=pending");
	return verify(a);
store_error:
	pam_syslog(m->pamh, LOG_ERR, "MFA unavailable: %s", m->err.msg);
	return break_glass(m, "store_error");
}

int isms_pam_authenticate(struct module *m)
{
	struct auth a = { .m = m };
	int rv;

	if (module_open(m) < 0) {
		pam_syslog(m->pamh, LOG_ERR, "store unavailable: %s", m->err.msg);
		return break_glass(m, "store_unavailable");
	}
	rv = authenticate(&a);
	isms_mfa_token_clear(&a.tok);
	if (a.vault_loaded)
		isms_vault_wipe(&a.vault);
	return rv;
}
