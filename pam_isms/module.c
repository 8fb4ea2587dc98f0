/* Shared by every phase: argument parsing, PAM items, stores, audit. */
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include <security/pam_ext.h>

#include "audit.h"
#include "cache.h"
#include "db.h"
#include "module.h"
#include "util.h"

static int parse_arg(struct module *m, const char *arg)
{
	if (strncmp(arg, "conf=", 5) == 0 && arg[5] == '/')
		m->conf_path = arg + 5;
	else if (strcmp(arg, "debug") == 0)
		m->debug = true;
	else if (strcmp(arg, "use_first_pass") == 0)
		m->use_first_pass = true;
	else if (strcmp(arg, "try_first_pass") == 0)
		m->try_first_pass = true;
	else if (strcmp(arg, "forward_pass") == 0)
		m->forward_pass = true;
	else if (strcmp(arg, "record=enforce") == 0)
		m->record = ISMS_RECORD_ENFORCE;
	else if (strcmp(arg, "record=warn") == 0)
		m->record = ISMS_RECORD_WARN;
	else if (strcmp(arg, "record=off") == 0)
		m->record = ISMS_RECORD_OFF;
	else
		return -1;
	return 0;
}

int module_init(struct module *m, pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	const void *item;
	int rv;

	memset(m, 0, sizeof(*m));
	m->pamh = pamh;
	m->flags = flags;
	m->record = -1;
	m->conf_path = ISMS_CONF_DEFAULT;
	for (int i = 0; i < argc; i++) {
		if (parse_arg(m, argv[i]) < 0) {
			/* A typo in a service file must not weaken the policy: refuse. */
			pam_syslog(pamh, LOG_ERR, "unknown or malformed argument '%s'; refusing", argv[i]);
			return PAM_SERVICE_ERR;
		}
	}
	rv = pam_get_user(pamh, &m->user, NULL);
	if (rv != PAM_SUCCESS || !m->user || !*m->user) {
		pam_syslog(pamh, LOG_ERR, "cannot determine the user");
		return rv == PAM_SUCCESS ? PAM_USER_UNKNOWN : rv;
	}
	if (pam_get_item(pamh, PAM_SERVICE, &item) == PAM_SUCCESS && item)
		m->service = item;
	if (pam_get_item(pamh, PAM_RHOST, &item) == PAM_SUCCESS && item)
		m->rhost = item;
	if (pam_get_item(pamh, PAM_TTY, &item) == PAM_SUCCESS && item)
		m->tty = item;
	if (!m->service)
		m->service = "unknown";
	m->cached = module_cache_acquire();
	return PAM_SUCCESS;
}

int module_open(struct module *m)
{
	int r;

	if (m->open)
		return 0;
	if (module_cache_tainted()) {
		/* sqlite state shared by every connection in this process is suspect */
		if (!m->conf)
			(void)isms_conf_load(m->conf_path, "", false, &m->conf, &m->err);
		return isms_err_set(&m->err, -EBADF, "%s; restart it", module_cache_tainted());
	}
	if (m->cached) {
		r = module_cache_open(m->conf_path, &m->conf, &m->ctx, &m->err);
		if (r < 0)
			return r;
		m->open = true;
		return 0;
	}
	if (!m->conf) {
		r = isms_conf_load(m->conf_path, "", false, &m->conf, &m->err);
		if (r < 0)
			return r;
	}
	module_cache_uncached(true);
	r = isms_ctx_open(&m->ctx, m->conf, ISMS_CTX_LOGIN, &m->err);
	if (r < 0) {
		module_cache_uncached(false);
		return r;
	}
	m->open = true;
	return 0;
}

int module_settle(struct module *m, int rv)
{
	if (!m->open || (rv != PAM_SUCCESS && rv != PAM_IGNORE) ||
	    isms_db_check_version_due(m->ctx.state, &m->err) == 0)
		return rv;
	if (isms_list_contains(m->conf->breakglass_accounts, m->user)) {
		pam_syslog(m->pamh, LOG_ALERT, "break-glass account %s let in with the state store unusable: %s",
			   m->user, m->err.msg);
		return rv;
	}
	pam_syslog(m->pamh, LOG_ERR, "store unavailable: %s", m->err.msg);
	return PAM_AUTHINFO_UNAVAIL;
}

void module_done(struct module *m)
{
	if (m->cached) {
		module_cache_release();
		m->cached = m->open = false;
		m->conf = NULL;
		return;
	}
	if (m->open) {
		isms_ctx_close(&m->ctx);
		module_cache_uncached(false);
	}
	m->open = false;
	isms_conf_free(m->conf);
	m->conf = NULL;
}

void module_audit(struct module *m, const char *event, const char *result, const char *reason,
		  const char *details, int priority)
{
	struct isms_event ev = {
		.event = event, .actor = m->service, .subject = m->user, .result = result,
		.reason = reason, .details = details, .priority = priority,
	};
	char buf[768] = "";
	size_t pos = 0;

	if (details)
		pos = (size_t)snprintf(buf, sizeof(buf), "%s", details);
	if (m->rhost && pos < sizeof(buf))
		isms_audit_kv(buf, sizeof(buf), &pos, "rhost", m->rhost);
	if (m->tty && pos < sizeof(buf))
		isms_audit_kv(buf, sizeof(buf), &pos, "tty", m->tty);
	ev.details = buf[0] ? buf : NULL;
	(void)isms_audit_append(m->open ? m->ctx.state : NULL,
				m->conf ? m->conf->system_name : "unknown", &ev, NULL);
}
