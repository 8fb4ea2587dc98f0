/* Account phase: unique, owned, active accounts only. Runs for every login,
 * SSH-key logins included (they never reach the auth phase). The decision is
 * libisms's isms_account_decide, shared with `accessctl check`. */
#include <pwd.h>
#include <stdlib.h>
#include <syslog.h>

#include <security/pam_ext.h>

#include "account_policy.h"
#include "module.h"

static int verdict_code(enum isms_verdict v)
{
	switch (v) {
	case ISMS_VERDICT_ALLOW: return PAM_SUCCESS;
	case ISMS_VERDICT_UNAVAIL: return PAM_AUTHINFO_UNAVAIL;
	case ISMS_VERDICT_UNKNOWN: return PAM_USER_UNKNOWN;
	case ISMS_VERDICT_EXPIRED: return PAM_ACCT_EXPIRED;
	case ISMS_VERDICT_PERM: return PAM_PERM_DENIED;
	}
	return PAM_PERM_DENIED;
}

static void free_data(pam_handle_t *pamh, void *data, int status)
{
	(void)pamh;
	(void)status;
	free(data);
}

int isms_pam_acct_mgmt(struct module *m)
{
	struct isms_decision d;
	struct passwd pw, *nss = NULL;
	int nss_error;
	char buf[16384];
	int *priv;

	if (module_open(m) < 0) {
		pam_syslog(m->pamh, LOG_ERR, "store unavailable: %s", m->err.msg);
		m->ctx.conf = m->conf;   /* break-glass still needs the config's list */
		m->ctx.reg = m->ctx.state = NULL;
	}
	nss_error = isms_nss_getpwnam(m->user, &pw, buf, sizeof(buf), &nss);
	isms_account_decide(&m->ctx, m->user, m->service, nss, nss_error, &d);

	if (d.breakglass) {
		/* every break-glass use is an alert, stores or no stores */
		pam_syslog(m->pamh, LOG_ALERT, "break-glass login to %s via %s", m->user, m->service);
		module_audit(m, "breakglass_used", "allow", d.reason, d.details, LOG_ALERT);
	} else {
		module_audit(m, "account", d.allow ? "allow" : "deny", d.reason, d.details, 0);
	}
	if (d.message[0] && !(m->flags & PAM_SILENT)) {
		if (d.allow)
			(void)pam_info(m->pamh, "%s", d.message);
		else
			(void)pam_error(m->pamh, "%s", d.message);
	}
	if (!d.allow)
		return verdict_code(d.verdict);

	priv = malloc(sizeof(*priv));
	if (!priv || pam_set_data(m->pamh, ISMS_DATA_PRIVILEGED, priv, free_data) != PAM_SUCCESS) {
		free(priv);
		pam_syslog(m->pamh, LOG_ERR, "cannot keep the privilege flag for the session phase");
		return PAM_BUF_ERR;
	}
	*priv = d.privileged;
	return PAM_SUCCESS;
}
