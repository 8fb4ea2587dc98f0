/* pam_isms entry points: parse arguments, run the phase, clean up. The work
 * of each phase lives in auth.c, account.c and session.c. */
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "module.h"

typedef int (*phase_fn)(struct module *m);

static int run(phase_fn phase, pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct module m;
	int rv;

	rv = module_init(&m, pamh, flags, argc, argv);
	if (rv == PAM_SUCCESS)
		rv = module_settle(&m, phase(&m));
	module_done(&m);
	return rv;
}

ISMS_EXPORT int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return run(isms_pam_authenticate, pamh, flags, argc, argv);
}

ISMS_EXPORT int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_SUCCESS;
}

ISMS_EXPORT int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return run(isms_pam_acct_mgmt, pamh, flags, argc, argv);
}

ISMS_EXPORT int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return run(isms_pam_open_session, pamh, flags, argc, argv);
}

ISMS_EXPORT int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return run(isms_pam_close_session, pamh, flags, argc, argv);
}

ISMS_EXPORT int pam_sm_chauthtok(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_IGNORE;
}
