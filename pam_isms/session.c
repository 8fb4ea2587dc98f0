/* Session phase: a session row for every login (last login, audit session id),
 * and sessions that must be recorded only under the recorder shell. */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <security/pam_ext.h>

#include "audit.h"
#include "clock.h"
#include "db.h"
#include "sessions.h"
#include "util.h"

#include "module.h"


/* The kernel's audit session id, or -1 when it does not audit (unset is 2^32-1). */
static int64_t audit_session_id(void)
{
	char buf[32] = "";
	long long v;
	FILE *f = fopen("/proc/self/sessionid", "re");

	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	if (isms_parse_int(buf, 0, 4294967294LL, &v) < 0)
		return -1;
	return v;
}

static int session_putenv(struct module *m, const char *name, const char *value)
{
	char *kv = NULL;
	int rv;

	if (asprintf(&kv, "%s=%s", name, value) < 0)
		return PAM_BUF_ERR;
	rv = pam_putenv(m->pamh, kv);
	free(kv);
	return rv;
}

int isms_pam_open_session(struct module *m)
{
	struct isms_session s = { .uid = -1, .audit_session = -1 };
	struct passwd pw, *pwp = NULL;
	char pwbuf[4096], why[160] = "", details[512];
	char *shell = NULL;
	bool privileged = false, must = false, has_recorder = false;
	int mode, r, rv = PAM_SESSION_ERR;
	size_t pos = 0;

	if (module_open(m) < 0) {
		pam_syslog(m->pamh, LOG_ERR, "store unavailable: %s", m->err.msg);
		module_audit(m, "session_open", "deny", "store_unavailable", NULL, 0);
		return PAM_SESSION_ERR;
	}
	mode = m->record >= 0 ? m->record : (int)m->conf->record;
	(void)getpwnam_r(m->user, &pw, pwbuf, sizeof(pwbuf), &pwp);
	r = isms_session_must_record(&m->ctx, m->user, pwp ? pwp->pw_uid : 0, pwp ? pwp->pw_gid : 0,
				     pwp != NULL, &privileged, &must, why, sizeof(why), &m->err);
	if (r < 0) {
		pam_syslog(m->pamh, LOG_ERR, "cannot decide whether to record: %s", m->err.msg);
		module_audit(m, "session_open", "deny", "store_unavailable", NULL, 0);
		return PAM_SESSION_ERR;
	}
	/* cron and the like run no login shell: there is nothing for a recorder to wrap. */
	if (must && isms_list_contains(m->conf->noninteractive_services, m->service)) {
		must = false;
		(void)snprintf(why, sizeof(why), "not a login (noninteractive_services)");
	}
	has_recorder = pwp && strcmp(pwp->pw_shell, m->conf->recorder) == 0;
	details[0] = '\0';
	isms_audit_kv(details, sizeof(details), &pos, "privileged", privileged ? "yes" : "no");
	isms_audit_kv(details, sizeof(details), &pos, "must_record", must ? "yes" : "no");
	if (must)
		isms_audit_kv(details, sizeof(details), &pos, "why", why);
	if (must && mode != ISMS_RECORD_OFF && !has_recorder) {
		isms_audit_kv(details, sizeof(details), &pos, "shell", pwp ? pwp->pw_shell : NULL);
		if (mode == ISMS_RECORD_ENFORCE) {
			pam_syslog(m->pamh, LOG_NOTICE,
				   "refusing session of %s (%s): must be recorded but the login shell is not %s",
				   m->user, why, m->conf->recorder);
			module_audit(m, "session_open", "deny", "recorder_missing", details, 0);
			(void)pam_error(m->pamh, "This session must be recorded, but the recorder is not set up "
					"for %s. Contact %s.", m->user, m->conf->contact);
			return PAM_SESSION_ERR;
		}
		pam_syslog(m->pamh, LOG_WARNING,
			   "session of %s (%s) must be recorded but the login shell is not %s; allowed (record=warn)",
			   m->user, why, m->conf->recorder);
		isms_audit_kv(details, sizeof(details), &pos, "warning", "recorder_missing");
	}

	s.account = m->user;
	s.uid = pwp ? (int64_t)pwp->pw_uid : -1;
	s.service = m->service;
	s.tty = m->tty;
	s.rhost = m->rhost;
	s.audit_session = audit_session_id();
	s.privileged = privileged;
	s.must_record = must && mode != ISMS_RECORD_OFF;
	s.started_at = isms_now();
	if (isms_db_begin(m->ctx.state, &m->err) < 0)
		goto store_err;
	if (isms_session_open(m->ctx.state, &s, &m->err) < 0 ||
	    isms_login_touch(m->ctx.state, m->user, m->service, m->rhost, s.started_at, &m->err) < 0) {
		isms_db_rollback(m->ctx.state);
		goto store_err;
	}
	isms_audit_kv(details, sizeof(details), &pos, "session", s.id);
	if (s.must_record && m->conf->tty_audit) {
		r = module_tty_audit_enable();
		isms_audit_kv(details, sizeof(details), &pos, "tty_audit", r == 0 ? "on" : "unavailable");
		if (r < 0)
			pam_syslog(m->pamh, LOG_WARNING, "tty_audit: cannot enable kernel TTY auditing: %s",
				   strerror(-r));
	}
	module_audit(m, "session_open", "allow", NULL, details, 0);
	if (isms_db_commit(m->ctx.state, &m->err) < 0)
		goto store_err;

	rv = session_putenv(m, "ISMS_SESSION_ID", s.id);
	if (rv == PAM_SUCCESS && s.must_record) {
		shell = isms_session_real_shell(m->ctx.reg, m->user);
		rv = shell ? session_putenv(m, "ISMS_REAL_SHELL", shell) : PAM_BUF_ERR;
		free(shell);
	}
	if (rv != PAM_SUCCESS)
		pam_syslog(m->pamh, LOG_ERR, "pam_putenv: %s", pam_strerror(m->pamh, rv));
	return rv == PAM_SUCCESS ? PAM_SUCCESS : PAM_SESSION_ERR;

store_err:
	pam_syslog(m->pamh, LOG_ERR, "cannot record the session: %s", m->err.msg);
	module_audit(m, "session_open", "deny", "store_unavailable", NULL, 0);
	return PAM_SESSION_ERR;
}

int isms_pam_close_session(struct module *m)
{
	const char *id = pam_getenv(m->pamh, "ISMS_SESSION_ID");
	char details[128] = "";
	size_t pos = 0;

	if (!id)
		return PAM_IGNORE;   /* not opened by us (or refused) */
	if (module_open(m) < 0) {
		pam_syslog(m->pamh, LOG_ERR, "store unavailable: %s", m->err.msg);
		module_audit(m, "session_close", "fail", "store_unavailable", NULL, 0);
		return PAM_SESSION_ERR;
	}
	isms_audit_kv(details, sizeof(details), &pos, "session", id);
	if (isms_session_close(m->ctx.state, id, isms_now(), &m->err) < 0) {
		pam_syslog(m->pamh, LOG_ERR, "cannot close session %s: %s", id, m->err.msg);
		module_audit(m, "session_close", "fail", m->err.code == -ENOENT ? "unknown_session" :
			     "store_unavailable", details, 0);
		return PAM_SESSION_ERR;
	}
	module_audit(m, "session_close", "ok", NULL, details, 0);
	return PAM_SUCCESS;
}
