/* Authentication phase: OATH TOTP second factor. */
#include <syslog.h>

#include <security/pam_ext.h>

#include "module.h"

int isms_pam_authenticate(struct module *m)
{
	if (module_open(m) < 0) {
		pam_syslog(m->pamh, LOG_ERR, "store unavailable: %s", m->err.msg);
		module_audit(m, "mfa", "deny", "store_unavailable", NULL, 0);
		return PAM_AUTHINFO_UNAVAIL;
	}
	return PAM_IGNORE;
}
