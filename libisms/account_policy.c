/* The account phase's rules, in the documented order (see pam_isms(8)): store,
 * registration, status, ownership, uid uniqueness, direct root login, staleness,
 * service accounts; then privilege for the session phase. Fail closed: a store
 * error at any step is an unusable store, where only break-glass names pass. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "account_policy.h"
#include "audit.h"
#include "clock.h"
#include "privilege.h"
#include "registry.h"
#include "util.h"

bool isms_service_interactive(const struct isms_conf *conf, const char *service)
{
	return !isms_list_contains(conf->noninteractive_services, service);
}

const char *isms_verdict_name(enum isms_verdict v)
{
	switch (v) {
	case ISMS_VERDICT_ALLOW: return "PAM_SUCCESS";
	case ISMS_VERDICT_UNAVAIL: return "PAM_AUTHINFO_UNAVAIL";
	case ISMS_VERDICT_UNKNOWN: return "PAM_USER_UNKNOWN";
	case ISMS_VERDICT_EXPIRED: return "PAM_ACCT_EXPIRED";
	case ISMS_VERDICT_PERM: return "PAM_PERM_DENIED";
	}
	return "PAM_PERM_DENIED";
}

static void detail(struct isms_decision *d, const char *key, const char *val)
{
	size_t pos = strlen(d->details);

	isms_audit_kv(d->details, sizeof(d->details), &pos, key, val);
}

static void detail_int(struct isms_decision *d, const char *key, long long v)
{
	char buf[24];

	(void)snprintf(buf, sizeof(buf), "%lld", v);
	detail(d, key, buf);
}

static void say(struct isms_decision *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct isms_decision *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(d->message, sizeof(d->message), fmt, ap);
	va_end(ap);
}

static void deny(struct isms_decision *d, enum isms_verdict v, const char *reason)
{
	d->allow = false;
	d->verdict = v;
	d->reason = reason;
}

static const char *contact(const struct isms_conf *conf)
{
	return conf && conf->contact && *conf->contact ? conf->contact : "your system administrator";
}

/* Rule 1: nothing can be checked. Only configured break-glass names pass. */
static void store_down(const struct isms_conf *conf, const char *user, const char *why,
		       struct isms_decision *d)
{
	d->details[0] = '\0';
	detail(d, "error", why);
	if (conf && isms_list_contains(conf->breakglass_accounts, user)) {
		d->allow = true;
		d->verdict = ISMS_VERDICT_ALLOW;
		d->reason = "breakglass_used";
		d->breakglass = true;
		/* privilege unknown: treat as privileged so the session is recorded */
		d->privileged = true;
		(void)snprintf(d->privileged_via, sizeof(d->privileged_via), "break-glass");
		detail(d, "store", "unavailable");
		say(d, "Break-glass login: the access registry is unavailable; this use has been reported.");
		return;
	}
	deny(d, ISMS_VERDICT_UNAVAIL, "store_unavailable");
	say(d, "Login refused: the access registry is unavailable. Contact %s.", contact(conf));
}

/* Another NSS account with this uid: getpwuid_r finds the first holder; the local
 * passwd file is scanned for a later one (NSS has no "all holders of uid" call). */
static bool nss_uid_other(const struct isms_conf *conf, uid_t uid, const char *user, char *other,
			  size_t len)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	bool found = false;
	FILE *f;

	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res && strcmp(res->pw_name, user) != 0) {
		(void)snprintf(other, len, "%s", res->pw_name);
		return true;
	}
	f = conf->passwd_file ? fopen(conf->passwd_file, "re") : NULL;
	if (!f)
		return false;
	while (!found && fgetpwent_r(f, &pw, buf, sizeof(buf), &res) == 0 && res) {
		if (res->pw_uid == uid && strcmp(res->pw_name, user) != 0) {
			(void)snprintf(other, len, "%s", res->pw_name);
			found = true;
		}
	}
	fclose(f);
	return found;
}

static void status_deny(const struct isms_conf *conf, const struct isms_account *a,
			struct isms_decision *d)
{
	const char *c = contact(conf);

	detail(d, "status", a->status);
	if (a->status_reason[0])
		detail(d, "status_reason", a->status_reason);
	if (strcmp(a->status, "locked") == 0) {
		deny(d, ISMS_VERDICT_PERM, "account_locked");
		say(d, "Your account is locked. Contact %s.", c);
	} else if (strcmp(a->status, "revoked") == 0) {
		deny(d, ISMS_VERDICT_EXPIRED, "account_revoked");
		say(d, "Your access to this host has been revoked. Contact %s.", c);
	} else if (strcmp(a->status, "departed") == 0) {
		deny(d, ISMS_VERDICT_EXPIRED, "account_departed");
		say(d, "This account belongs to a departed employee and is disabled. Contact %s.", c);
	} else {
		deny(d, ISMS_VERDICT_PERM, "account_held");
		say(d, "Your account is on hold pending review. Contact %s.", c);
	}
}

int isms_nss_getpwnam(const char *user, struct passwd *pw, char *buf, size_t len, struct passwd **ret)
{
	int rc = getpwnam_r(user, pw, buf, len, ret);

	if (rc == 0 || rc == ENOENT || rc == ESRCH || rc == EBADF || rc == EPERM) {
		if (rc)
			*ret = NULL;
		return 0;
	}
	*ret = NULL;
	return rc;
}

void isms_account_decide(struct isms_ctx *ctx, const char *user, const char *service,
			 const struct passwd *nss, int nss_error, struct isms_decision *ret)
{
	const struct isms_conf *conf = ctx->conf;
	struct isms_decision *d = ret;
	struct isms_err err = { 0 };
	struct isms_account a;
	bool interactive, bg, priv_acct, have_uid, priv = false;
	int64_t uid, gid, last = 0;
	char other[256];
	const char *c;
	int r;

	memset(d, 0, sizeof(*d));
	if (!conf) {
		store_down(NULL, user, "configuration unreadable", d);
		return;
	}
	c = contact(conf);
	if (!ctx->reg || !ctx->state) {
		store_down(conf, user, "store unavailable", d);
		return;
	}
	if (nss_error) {
		store_down(conf, user, "user database (NSS) lookup failed", d);
		if (!d->allow) {
			d->reason = "nss_unavailable";
			say(d, "Login refused: the user database is unavailable. Contact %s.", c);
		}
		return;
	}
	interactive = isms_service_interactive(conf, service);

	/* 2. registered */
	r = isms_registry_account_find(ctx->reg, user, &a, &err);
	if (r < 0)
		goto store_error;
	if (r == 0) {
		deny(d, ISMS_VERDICT_UNKNOWN, "unknown_account");
		say(d, "Login refused: this account is not registered. Contact %s.", c);
		return;
	}
	detail(d, "kind", a.kind);

	/* 3. active, and so is its owner */
	if (strcmp(a.status, "active") != 0) {
		status_deny(conf, &a, d);
		return;
	}
	if (a.has_owner && strcmp(a.owner_status, "departed") == 0) {
		detail(d, "owner", a.owner_no);
		deny(d, ISMS_VERDICT_EXPIRED, "account_departed");
		say(d, "This account belongs to a departed employee and is disabled. Contact %s.", c);
		return;
	}
	bg = strcmp(a.kind, "breakglass") == 0;
	if (bg && !isms_list_contains(conf->breakglass_accounts, user)) {
		deny(d, ISMS_VERDICT_PERM, "breakglass_unlisted");
		say(d, "Login refused: this break-glass account is not enabled in the configuration. Contact %s.", c);
		return;
	}
	priv_acct = isms_list_contains(conf->privileged_accounts, user);

	/* 4. owned by one active person (interactive services only) */
	if (!bg && !priv_acct && interactive) {
		if (strcmp(a.kind, "shared") == 0 || isms_list_contains(conf->shared_names, user)) {
			deny(d, ISMS_VERDICT_PERM, "shared_account");
			say(d, "Login refused: shared accounts cannot log in; use your personal account. Contact %s.", c);
			return;
		}
		if (strcmp(a.kind, "human") == 0 && !a.has_owner) {
			deny(d, ISMS_VERDICT_PERM, "unowned_account");
			say(d, "Login refused: this account has no registered owner. Contact %s.", c);
			return;
		}
		if (strcmp(a.kind, "human") == 0 && strcmp(a.owner_status, "active") != 0) {
			detail(d, "owner", a.owner_no);
			detail(d, "owner_status", a.owner_status);
			deny(d, ISMS_VERDICT_PERM, "owner_inactive");
			say(d, "Login refused: the owner of this account is not active. Contact %s.", c);
			return;
		}
	}

	/* 5. the uid belongs to this account alone */
	have_uid = nss || a.has_uid;
	uid = nss ? (int64_t)nss->pw_uid : a.uid;
	gid = nss ? (int64_t)nss->pw_gid : a.gid;
	if (have_uid)
		detail_int(d, "uid", uid);
	if (nss && a.has_uid && a.uid != (int64_t)nss->pw_uid) {
		detail_int(d, "registry_uid", a.uid);
		deny(d, ISMS_VERDICT_PERM, "uid_mismatch");
		say(d, "Login refused: this account's user id does not match the registry. Contact %s.", c);
		return;
	}
	if (have_uid && uid == 0 && strcmp(user, "root") != 0) {
		deny(d, ISMS_VERDICT_PERM, "uid0_not_root");
		say(d, "Login refused: only root may have user id 0. Contact %s.", c);
		return;
	}
	if (have_uid) {
		r = isms_registry_uid_other(ctx->reg, uid, user, other, sizeof(other), &err);
		if (r < 0)
			goto store_error;
		if (r == 1 || (nss && nss_uid_other(conf, (uid_t)uid, user, other, sizeof(other)))) {
			detail(d, "other", other);
			detail(d, "where", r == 1 ? "registry" : "nss");
			deny(d, ISMS_VERDICT_PERM, "duplicate_uid");
			say(d, "Login refused: this account's user id is not unique. Contact %s.", c);
			return;
		}
	}

	/* 6. no direct login to root and the like, except where configured */
	if (priv_acct && !bg && !isms_list_contains(conf->allow_root_services, service)) {
		deny(d, ISMS_VERDICT_PERM, "direct_root_login");
		say(d, "Direct login to this account is not allowed here; log in as yourself and use sudo.");
		return;
	}

	/* 7. stale: last login, or creation when it never logged in */
	if (conf->deny_stale && !bg && !priv_acct) {
		r = isms_state_last_login(ctx->state, user, &last, &err);
		if (r < 0)
			goto store_error;
		if (r == 0)
			last = a.created_at;
		if (isms_now() - last > conf->stale_days * 86400) {
			char when[32];

			detail(d, r == 1 ? "last_login" : "created", isms_time_iso(last, when, sizeof(when)));
			deny(d, ISMS_VERDICT_PERM, "stale_account");
			say(d, "Your account is disabled after more than %lld days without login. Contact %s.",
			    conf->stale_days, c);
			return;
		}
	}

	/* 8. service accounts: only their own services, never interactive ones */
	if (strcmp(a.kind, "service") == 0 && !priv_acct) {
		if (interactive) {
			deny(d, ISMS_VERDICT_PERM, "service_account_interactive");
			say(d, "Login refused: service accounts cannot log in interactively.");
			return;
		}
		if (!isms_csv_has(a.services, service)) {
			detail(d, "services", a.services);
			deny(d, ISMS_VERDICT_PERM, "service_not_allowed");
			say(d, "Login refused: this service account is not allowed for this service.");
			return;
		}
	}

	/* 9. allowed; the session phase needs to know whether it is privileged */
	r = isms_account_privileged(ctx, user, (uid_t)uid, (gid_t)gid, nss != NULL || (a.has_uid && a.has_gid),
				    &priv, d->privileged_via, sizeof(d->privileged_via), &err);
	if (r < 0)
		goto store_error;
	d->allow = true;
	d->verdict = ISMS_VERDICT_ALLOW;
	d->privileged = priv;
	if (priv)
		detail(d, "privileged", d->privileged_via);
	if (bg) {
		d->breakglass = true;
		d->reason = "breakglass_used";
		detail(d, "store", "ok");
		say(d, "Break-glass login: this use has been reported.");
	} else {
		d->reason = "ok";
	}
	return;

store_error:
	store_down(conf, user, err.msg, d);
}
