/* What every phase of pam_isms shares: arguments, the PAM items of the
 * transaction, the loaded config and stores, and the audit call. */
#ifndef PAM_ISMS_MODULE_H
#define PAM_ISMS_MODULE_H

#include <stdbool.h>

#include <security/pam_modules.h>

#include "conf.h"
#include "ctx.h"
#include "err.h"

#define ISMS_EXPORT __attribute__((visibility("default")))

/* pam_set_data key: an int, 1 when the account phase found the account privileged
 * (set only when it allowed the login). The session phase reads it. */
#define ISMS_DATA_PRIVILEGED "isms_privileged"

struct module {
	pam_handle_t *pamh;
	int flags;
	const char *user;
	const char *service;
	const char *rhost;
	const char *tty;

	/* arguments */
	const char *conf_path;
	bool debug;
	bool use_first_pass;
	bool try_first_pass;
	bool forward_pass;
	int record;             /* enum isms_record_mode, or -1 for the config's */

	struct isms_conf *conf; /* NULL until module_open; the cache's when cached */
	struct isms_ctx ctx;
	bool open;
	bool cached;            /* holds the process's cache (cache.c) until module_done */
	struct isms_err err;
};

/* Parse arguments and fetch PAM items. Returns PAM_SUCCESS, or the code the
 * phase must return (an unknown argument refuses: PAM_SERVICE_ERR). */
int module_init(struct module *m, pam_handle_t *pamh, int flags, int argc, const char **argv);

/* Load the config and open both stores for a login. Returns 0 or negative errno
 * with m->err set; the config may be loaded even when the stores are not. */
int module_open(struct module *m);

/* The phase's result rv, unless a check of the stores that the phase left
 * due (the state store's schema version, see isms_db_check_version_later)
 * now fails: then the phase is refused (PAM_AUTHINFO_UNAVAIL), except for a
 * break-glass account, whose use is an alert. */
int module_settle(struct module *m, int rv);

void module_done(struct module *m);

/* One audit event for this transaction (service as actor, user as subject). */
void module_audit(struct module *m, const char *event, const char *result, const char *reason,
		  const char *details, int priority);

/* Turn on kernel TTY auditing for this process and its children (tty_audit.c);
 * 0 or negative errno (unsupported, not permitted). */
int module_tty_audit_enable(void);

/* Phases, one file each. */
int isms_pam_authenticate(struct module *m);
int isms_pam_acct_mgmt(struct module *m);
int isms_pam_open_session(struct module *m);
int isms_pam_close_session(struct module *m);

#endif
