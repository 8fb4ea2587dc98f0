/* Session phase: privileged sessions must run under the recorder. */
#include <syslog.h>

#include <security/pam_ext.h>

#include "module.h"

int isms_pam_open_session(struct module *m)
{
	if (module_open(m) < 0) {
		pam_syslog(m->pamh, LOG_ERR, "store unavailable: %s", m->err.msg);
		module_audit(m, "session_open", "deny", "store_unavailable", NULL, 0);
		return PAM_SESSION_ERR;
	}
	return PAM_IGNORE;
}

int isms_pam_close_session(struct module *m)
{
	(void)m;
	return PAM_IGNORE;
}
