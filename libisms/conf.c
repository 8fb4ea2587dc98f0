/* isms.conf: one table says every key, its type, default and what it allows;
 * loading, validation, defaults and the commented default file all read it. */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ini.h>

#include "conf.h"
#include "util.h"

enum key_type { T_STR, T_PATH, T_BOOL, T_INT, T_DUR, T_LIST, T_ENUM, T_ESTR /* enum kept as text */ };

struct key {
	const char *section;
	const char *name;
	enum key_type type;
	size_t off;
	const char *def;      /* default, parsed like a value from the file */
	long long min, max;   /* T_INT, T_DUR */
	const char *allowed;  /* T_ENUM: "a|b|c", in enum order */
	const char *help;
};

#define F(field) offsetof(struct isms_conf, field)

static const struct key keys[] = {
	/* [paths] */
	{ "paths", "registry_db", T_PATH, F(registry_db), "/var/lib/isms/registry.db", 0, 0, NULL, "registry store (written by accessctl, read at login)" },
	{ "paths", "state_db", T_PATH, F(state_db), "/var/lib/isms/state.db", 0, 0, NULL, "login-time state and the audit trail" },
	{ "paths", "host_key", T_PATH, F(host_key), "/etc/isms/host.key", 0, 0, NULL, "32-byte vault key sealing MFA secrets (mode 0600)" },
	{ "paths", "signing_key", T_PATH, F(signing_key), "/etc/isms/signing.key", 0, 0, NULL, "Ed25519 key signing evidence bundles and audit checkpoints" },
	{ "paths", "recordings_dir", T_PATH, F(recordings_dir), "/var/lib/isms/recordings", 0, 0, NULL, "encrypted session recordings" },
	{ "paths", "auditor_pubkey", T_PATH, F(auditor_pubkey), "/etc/isms/auditor.pub", 0, 0, NULL, "auditor public key recordings are sealed to" },
	{ "paths", "pamd_dir", T_PATH, F(pamd_dir), "/etc/pam.d", 0, 0, NULL, "PAM service files doctor inspects" },
	{ "paths", "passwd_file", T_PATH, F(passwd_file), "/etc/passwd", 0, 0, NULL, "local accounts" },
	{ "paths", "group_file", T_PATH, F(group_file), "/etc/group", 0, 0, NULL, "local groups" },
	{ "paths", "shadow_file", T_PATH, F(shadow_file), "/etc/shadow", 0, 0, NULL, "local password aging (revocation locks and expires here)" },
	{ "paths", "wtmp_file", T_PATH, F(wtmp_file), "/var/log/wtmp", 0, 0, NULL, "login records, read by 'accessctl lastlog import'" },
	{ "paths", "hr_drop_dir", T_PATH, F(hr_drop_dir), "/var/lib/isms/hr-drop", 0, 0, NULL, "directory HR exports are dropped into" },

	/* [general] */
	{ "general", "system_name", T_STR, F(system_name), "", 0, 0, NULL, "this host's name in reviews and audit events (empty: hostname)" },
	{ "general", "contact", T_STR, F(contact), "your system administrator", 0, 0, NULL, "whom a refused user is told to contact" },
	{ "general", "breakglass_accounts", T_LIST, F(breakglass_accounts), "", 0, 0, NULL, "break-glass accounts (kind breakglass) allowed when the store is unusable; every use alerts" },
	{ "general", "shared_names", T_LIST, F(shared_names), "admin, administrator, test, guest, shared, user, support, oracle, postgres, demo, temp, operator", 0, 0, NULL, "names that are never personal accounts" },
	{ "general", "privileged_groups", T_LIST, F(privileged_groups), "sudo, wheel, admin", 0, 0, NULL, "local groups whose members are privileged" },
	{ "general", "privileged_accounts", T_LIST, F(privileged_accounts), "root", 0, 0, NULL, "system accounts direct login to which is refused" },
	{ "general", "allow_root_services", T_LIST, F(allow_root_services), "", 0, 0, NULL, "PAM services where direct login to a privileged account is allowed (e.g. login)" },
	{ "general", "noninteractive_services", T_LIST, F(noninteractive_services), "cron, crond, atd, systemd-user", 0, 0, NULL, "PAM services that are not interactive logins" },
	{ "general", "stale_days", T_INT, F(stale_days), "90", 1, 3650, NULL, "days without login after which an account is stale" },
	{ "general", "deny_stale", T_BOOL, F(deny_stale), "no", 0, 0, NULL, "refuse login to stale accounts" },
	{ "general", "critical_systems", T_LIST, F(critical_systems), "", 0, 0, NULL, "systems reviewed quarterly (critical)" },

	/* [mfa] */
	{ "mfa", "mode", T_ENUM, F(mfa_mode), "required", 0, 0, "required|groups", "required: every human account; groups: members of 'groups' and privileged accounts" },
	{ "mfa", "groups", T_LIST, F(mfa_groups), "", 0, 0, NULL, "groups that must pass MFA when mode = groups" },
	{ "mfa", "prompt", T_STR, F(mfa_prompt), "Verification code: ", 0, 0, NULL, "prompt shown at login" },
	{ "mfa", "window", T_INT, F(mfa_window), "1", 0, 10, NULL, "time steps accepted either side of now" },
	{ "mfa", "max_failures", T_INT, F(mfa_max_failures), "5", 1, 100, NULL, "failures within failure_window that lock the token" },
	{ "mfa", "failure_window", T_DUR, F(mfa_failure_window), "15m", 1, 86400 * 7, NULL, "window failures are counted in (s, m, h, d)" },
	{ "mfa", "lockout", T_DUR, F(mfa_lockout), "15m", 1, 86400 * 7, NULL, "how long a locked token refuses codes" },
	{ "mfa", "enroll_grace", T_DUR, F(mfa_enroll_grace), "0", 0, 86400 * 90, NULL, "time after account creation during which an unenrolled user may log in" },
	{ "mfa", "issuer", T_STR, F(mfa_issuer), "pam_isms", 0, 0, NULL, "issuer shown in authenticator apps" },
	{ "mfa", "algorithm", T_ESTR, F(mfa_algorithm), "sha1", 0, 0, "sha1|sha256|sha512", "default HMAC for new tokens" },
	{ "mfa", "digits", T_INT, F(mfa_digits), "6", 6, 8, NULL, "default code length for new tokens (6 or 8)" },
	{ "mfa", "period", T_INT, F(mfa_period), "30", 30, 30, NULL, "time step in seconds" },
	{ "mfa", "recovery_codes", T_INT, F(mfa_recovery_codes), "10", 1, 20, NULL, "recovery codes made at enrollment" },

	/* [session] */
	{ "session", "record", T_ENUM, F(record), "enforce", 0, 0, "enforce|warn|off", "sessions that must be recorded: refuse without the recorder (enforce), log (warn), or no check" },
	{ "session", "record_groups", T_LIST, F(record_groups), "", 0, 0, NULL, "groups whose sessions are recorded besides privileged ones" },
	{ "session", "record_users", T_LIST, F(record_users), "", 0, 0, NULL, "accounts whose sessions are recorded besides privileged ones" },
	{ "session", "recorder", T_STR, F(recorder), ISMS_RECORDER_PATH, 0, 0, NULL, "path of isms-rec, the login shell of recorded accounts" },
	{ "session", "tty_audit", T_BOOL, F(tty_audit), "no", 0, 0, NULL, "also enable kernel TTY auditing for recorded sessions" },
	{ "session", "record_input", T_BOOL, F(record_input), "no", 0, 0, NULL, "record keyboard input (never while echo is off)" },
	{ "session", "noninteractive", T_ENUM, F(noninteractive), "metadata", 0, 0, "metadata|full|deny", "sessions without a terminal: record metadata, everything, or refuse" },
	{ "session", "on_record_error", T_ENUM, F(on_record_error), "terminate", 0, 0, "continue|terminate", "what a session does when its recording cannot be written" },
	{ "session", "flush_interval", T_DUR, F(flush_interval), "2s", 1, 60, NULL, "longest time recorded output waits before it is written" },

	/* [ldap] */
	{ "ldap", "uri", T_STR, F(ldap_uri), "", 0, 0, NULL, "directory URI, ldaps:// or ldap:// with StartTLS" },
	{ "ldap", "starttls", T_BOOL, F(ldap_starttls), "yes", 0, 0, NULL, "use StartTLS on ldap:// URIs" },
	{ "ldap", "ca_file", T_STR, F(ldap_ca_file), "", 0, 0, NULL, "CA certificates the server certificate is verified against" },
	{ "ldap", "allow_insecure", T_BOOL, F(ldap_allow_insecure), "no", 0, 0, NULL, "allow plain ldap:// without TLS (loopback tests only)" },
	{ "ldap", "anonymous", T_BOOL, F(ldap_anonymous), "no", 0, 0, NULL, "bind anonymously instead of with bind_dn" },
	{ "ldap", "bind_dn", T_STR, F(ldap_bind_dn), "", 0, 0, NULL, "DN to bind as for reading" },
	{ "ldap", "bindpw_file", T_PATH, F(ldap_bindpw_file), "/etc/isms/ldap.bindpw", 0, 0, NULL, "root-only file holding the bind password" },
	{ "ldap", "write_bind_dn", T_STR, F(ldap_write_bind_dn), "", 0, 0, NULL, "DN allowed to lock entries and edit groups on revocation (empty: no write-back)" },
	{ "ldap", "write_bindpw_file", T_PATH, F(ldap_write_bindpw_file), "/etc/isms/ldap-write.bindpw", 0, 0, NULL, "root-only file holding the write password" },
	{ "ldap", "base_dn", T_STR, F(ldap_base_dn), "", 0, 0, NULL, "search base" },
	{ "ldap", "people_base", T_STR, F(ldap_people_base), "", 0, 0, NULL, "base for accounts (empty: base_dn)" },
	{ "ldap", "group_base", T_STR, F(ldap_group_base), "", 0, 0, NULL, "base for groups (empty: base_dn)" },
	{ "ldap", "people_filter", T_STR, F(ldap_people_filter), "(objectClass=posixAccount)", 0, 0, NULL, "filter selecting accounts" },
	{ "ldap", "group_filter", T_STR, F(ldap_group_filter), "(|(objectClass=posixGroup)(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))", 0, 0, NULL, "filter selecting groups" },
	{ "ldap", "page_size", T_INT, F(ldap_page_size), "500", 1, 100000, NULL, "entries per page (RFC 2696)" },
	{ "ldap", "timeout", T_DUR, F(ldap_timeout), "10s", 1, 3600, NULL, "connect and operation timeout" },
	{ "ldap", "max_removals", T_INT, F(ldap_max_removals), "10", 0, 100, NULL, "percent of accounts a sync may remove without --force" },
	{ "ldap", "privileged_groups", T_LIST, F(ldap_privileged_groups), "", 0, 0, NULL, "directory groups whose members are privileged" },
	{ "ldap", "attr_account", T_STR, F(ldap_attr_account), "uid", 0, 0, NULL, "login name attribute" },
	{ "ldap", "attr_uid_number", T_STR, F(ldap_attr_uid_number), "uidNumber", 0, 0, NULL, "uid attribute" },
	{ "ldap", "attr_gid_number", T_STR, F(ldap_attr_gid_number), "gidNumber", 0, 0, NULL, "gid attribute" },
	{ "ldap", "attr_name", T_STR, F(ldap_attr_name), "cn", 0, 0, NULL, "display name attribute (displayName is preferred when present)" },
	{ "ldap", "attr_mail", T_STR, F(ldap_attr_mail), "mail", 0, 0, NULL, "email attribute" },
	{ "ldap", "attr_employee_number", T_STR, F(ldap_attr_employee_number), "employeeNumber", 0, 0, NULL, "employee number attribute (owner of the account)" },
	{ "ldap", "attr_manager", T_STR, F(ldap_attr_manager), "manager", 0, 0, NULL, "manager DN attribute" },
	{ "ldap", "attr_department", T_STR, F(ldap_attr_department), "departmentNumber", 0, 0, NULL, "department attribute" },
	{ "ldap", "attr_title", T_STR, F(ldap_attr_title), "title", 0, 0, NULL, "job title attribute" },
	{ "ldap", "attr_shell", T_STR, F(ldap_attr_shell), "loginShell", 0, 0, NULL, "login shell attribute" },
	{ "ldap", "attr_kind", T_STR, F(ldap_attr_kind), "employeeType", 0, 0, NULL, "attribute whose value 'service', 'shared' or 'breakglass' sets the account kind" },

	/* [review] */
	{ "review", "quarterly_scope", T_LIST, F(review_quarterly_scope), "privileged, critical", 0, 0, NULL, "what quarterly campaigns cover (privileged, critical, all)" },
	{ "review", "annual_scope", T_LIST, F(review_annual_scope), "all", 0, 0, NULL, "what annual campaigns cover" },
	{ "review", "due_days", T_INT, F(review_due_days), "14", 1, 365, NULL, "days reviewers have to decide" },
	{ "review", "fallback_reviewer", T_STR, F(review_fallback_reviewer), "", 0, 0, NULL, "employee number reviewing rows with no manager" },
	{ "review", "no_response", T_ENUM, F(review_no_response), "escalate", 0, 0, "escalate|revoke", "what an undecided row becomes at close" },
	{ "review", "annual_quarter", T_INT, F(review_annual_quarter), "4", 1, 4, NULL, "quarter in which the annual campaign runs" },

	/* [revoke] */
	{ "revoke", "revoke_within", T_DUR, F(revoke_within), "24h", 60, 86400 * 30, NULL, "longest acceptable delay from termination to revocation" },
	{ "revoke", "terminate_sessions", T_BOOL, F(revoke_terminate_sessions), "yes", 0, 0, NULL, "end running sessions of a revoked account" },
	{ "revoke", "lock_local", T_BOOL, F(revoke_lock_local), "yes", 0, 0, NULL, "lock and expire the local account in shadow" },

	/* [hr] */
	{ "hr", "employee_column", T_STR, F(hr_employee_column), "Employee Number", 0, 0, NULL, "column holding the employee number" },
	{ "hr", "status_column", T_STR, F(hr_status_column), "Status", 0, 0, NULL, "column holding the employment status" },
	{ "hr", "termination_column", T_STR, F(hr_termination_column), "Termination Date", 0, 0, NULL, "column holding the termination date" },
	{ "hr", "terminated_status", T_LIST, F(hr_terminated_status), "Terminated, Inactive", 0, 0, NULL, "status values that mean the person has left" },

	/* [scim] */
	{ "scim", "listen", T_STR, F(scim_listen), "127.0.0.1:8443", 0, 0, NULL, "address:port the SCIM endpoint listens on" },
	{ "scim", "token_file", T_PATH, F(scim_token_file), "/etc/isms/scim.token", 0, 0, NULL, "root-only file holding the bearer token" },
	{ "scim", "tls_cert", T_STR, F(scim_tls_cert), "", 0, 0, NULL, "TLS certificate (empty: plain HTTP, loopback only)" },
	{ "scim", "tls_key", T_STR, F(scim_tls_key), "", 0, 0, NULL, "TLS private key" },

	/* [audit] */
	{ "audit", "checkpoint_interval", T_DUR, F(audit_checkpoint_interval), "1h", 60, 86400 * 7, NULL, "how often a signed chain checkpoint goes to syslog" },
};

#define FIELD(conf, k, type) ((type *)((char *)(conf) + (k)->off))

static const char *const sections[] = {
	"paths", "general", "mfa", "session", "ldap", "review", "revoke", "hr", "scim", "audit",
};

static const struct key *key_find(const char *section, const char *name)
{
	for (size_t i = 0; i < ISMS_ARRAY_SIZE(keys); i++)
		if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static bool section_known(const char *section)
{
	for (size_t i = 0; i < ISMS_ARRAY_SIZE(sections); i++)
		if (strcmp(sections[i], section) == 0)
			return true;
	return false;
}

static int enum_index(const char *allowed, const char *value)
{
	size_t vl = strlen(value);
	int idx = 0;

	for (const char *p = allowed; ; idx++) {
		const char *bar = strchr(p, '|');
		size_t l = bar ? (size_t)(bar - p) : strlen(p);

		if (l == vl && strncmp(p, value, l) == 0)
			return idx;
		if (!bar)
			return -1;
		p = bar + 1;
	}
}

static void key_free_value(struct isms_conf *conf, const struct key *k)
{
	switch (k->type) {
	case T_STR:
	case T_PATH:
	case T_ESTR:
		free(*FIELD(conf, k, char *));
		*FIELD(conf, k, char *) = NULL;
		break;
	case T_LIST:
		isms_list_free(*FIELD(conf, k, char **));
		*FIELD(conf, k, char **) = NULL;
		break;
	default:
		break;
	}
}

/* Parse `value` into the field of k. On a bad value, fills why[] with what is allowed. */
static int key_set(struct isms_conf *conf, const struct key *k, const char *value, bool is_default,
		   char *why, size_t whylen)
{
	long long v;
	int r;

	switch (k->type) {
	case T_STR: {
		char *s = strdup(value);

		if (!s)
			return -ENOMEM;
		key_free_value(conf, k);
		*FIELD(conf, k, char *) = s;
		return 0;
	}
	case T_PATH: {
		char *s;

		if (value[0] != '/') {
			(void)snprintf(why, whylen, "an absolute path");
			return -EINVAL;
		}
		s = is_default ? isms_path_join(conf->root, value) : strdup(value);
		if (!s)
			return -ENOMEM;
		key_free_value(conf, k);
		*FIELD(conf, k, char *) = s;
		return 0;
	}
	case T_BOOL:
		if (!strcmp(value, "yes") || !strcmp(value, "true") || !strcmp(value, "1"))
			*FIELD(conf, k, bool) = true;
		else if (!strcmp(value, "no") || !strcmp(value, "false") || !strcmp(value, "0"))
			*FIELD(conf, k, bool) = false;
		else {
			(void)snprintf(why, whylen, "yes or no");
			return -EINVAL;
		}
		return 0;
	case T_INT:
		r = isms_parse_int(value, k->min, k->max, &v);
		if (r < 0) {
			(void)snprintf(why, whylen, "a whole number from %lld to %lld", k->min, k->max);
			return -EINVAL;
		}
		if (k->off == F(mfa_digits) && v != 6 && v != 8) {
			(void)snprintf(why, whylen, "6 or 8");
			return -EINVAL;
		}
		*FIELD(conf, k, long long) = v;
		return 0;
	case T_DUR:
		r = isms_parse_duration(value, &v);
		if (r < 0 || v < k->min || v > k->max) {
			(void)snprintf(why, whylen,
				       "a duration from %llds to %llds, as seconds or with s, m, h or d (15m, 24h)",
				       k->min, k->max);
			return -EINVAL;
		}
		*FIELD(conf, k, long long) = v;
		return 0;
	case T_LIST: {
		char **l = isms_list_split(value);

		if (!l)
			return -ENOMEM;
		key_free_value(conf, k);
		*FIELD(conf, k, char **) = l;
		return 0;
	}
	case T_ENUM:
		r = enum_index(k->allowed, value);
		if (r < 0) {
			(void)snprintf(why, whylen, "one of %s", k->allowed);
			return -EINVAL;
		}
		*FIELD(conf, k, int) = r;
		return 0;
	case T_ESTR: {
		char *s;

		if (enum_index(k->allowed, value) < 0) {
			(void)snprintf(why, whylen, "one of %s", k->allowed);
			return -EINVAL;
		}
		s = strdup(value);
		if (!s)
			return -ENOMEM;
		key_free_value(conf, k);
		*FIELD(conf, k, char *) = s;
		return 0;
	}
	}
	return -EINVAL;
}

void isms_conf_free(struct isms_conf *conf)
{
	if (!conf)
		return;
	for (size_t i = 0; i < ISMS_ARRAY_SIZE(keys); i++)
		key_free_value(conf, &keys[i]);
	free(conf->path);
	free(conf->root);
	free(conf);
}

int isms_conf_defaults(const char *root, struct isms_conf **ret)
{
	struct isms_conf *conf = calloc(1, sizeof(*conf));
	char why[128];
	int r = -ENOMEM;

	if (!conf)
		return -ENOMEM;
	conf->root = strdup(root ? root : "");
	conf->path = strdup("");
	if (!conf->root || !conf->path)
		goto err;
	for (size_t i = 0; i < ISMS_ARRAY_SIZE(keys); i++) {
		r = key_set(conf, &keys[i], keys[i].def, true, why, sizeof(why));
		if (r < 0)
			goto err;
	}
	if (!conf->system_name[0]) {
		char host[256] = "";

		(void)gethostname(host, sizeof(host) - 1);
		free(conf->system_name);
		conf->system_name = strdup(host[0] ? host : "localhost");
		if (!conf->system_name) {
			r = -ENOMEM;
			goto err;
		}
	}
	*ret = conf;
	return 0;
err:
	isms_conf_free(conf);
	return r;
}

struct parse_state {
	struct isms_conf *conf;
	char msg[400];          /* first error, without file:line */
	bool seen[ISMS_ARRAY_SIZE(keys)];
};

static int conf_ini_handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse_state *ps = user;
	const struct key *k;
	char why[160] = "";
	int r;

	if (ps->msg[0])
		return 0;   /* keep the first error; inih reports its line */
	if (!section_known(section)) {
		(void)snprintf(ps->msg, sizeof(ps->msg),
			       "unknown section [%s]; allowed: paths, general, mfa, session, ldap, review, revoke, hr, scim, audit",
			       section);
		return 0;
	}
	k = key_find(section, name);
	if (!k) {
		(void)snprintf(ps->msg, sizeof(ps->msg), "unknown key '%s' in [%s]", name, section);
		return 0;
	}
	if (ps->seen[k - keys]) {
		(void)snprintf(ps->msg, sizeof(ps->msg), "key '%s' in [%s] given twice", name, section);
		return 0;
	}
	ps->seen[k - keys] = true;
	if (k->off == F(system_name) && !*value) {
		return 1;   /* empty: keep the hostname default */
	}
	r = key_set(ps->conf, k, value, false, why, sizeof(why));
	if (r == -ENOMEM) {
		(void)snprintf(ps->msg, sizeof(ps->msg), "out of memory");
		return 0;
	}
	if (r < 0) {
		(void)snprintf(ps->msg, sizeof(ps->msg), "key '%s' in [%s]: bad value '%.60s'; allowed: %s",
			       name, section, value, why);
		return 0;
	}
	return 1;
}

int isms_conf_load(const char *path, const char *root, bool allow_missing,
		   struct isms_conf **ret, struct isms_err *err)
{
	struct parse_state ps = { 0 };
	char *owned_path = NULL;
	FILE *f;
	int r, line;

	r = isms_conf_defaults(root, &ps.conf);
	if (r < 0)
		return isms_err_set(err, r, "out of memory");
	if (!path) {
		owned_path = isms_path_join(root, ISMS_CONF_DEFAULT);
		if (!owned_path) {
			r = isms_err_set(err, -ENOMEM, "out of memory");
			goto err;
		}
		path = owned_path;
	}
	free(ps.conf->path);
	ps.conf->path = strdup(path);
	if (!ps.conf->path) {
		r = isms_err_set(err, -ENOMEM, "out of memory");
		goto err;
	}
	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT && allow_missing) {
			free(owned_path);
			*ret = ps.conf;
			return 0;
		}
		r = isms_err_set(err, -errno, "%s: %s", path, strerror(errno));
		goto err;
	}
	/* The policy guards every login: whoever can write it can switch MFA off. */
	r = isms_check_guard_fd(fileno(f), path, "config file", err);
	if (r < 0) {
		(void)fclose(f);
		goto err;
	}
	line = ini_parse_file(f, conf_ini_handler, &ps);
	(void)fclose(f);
	if (line != 0 || ps.msg[0]) {
		if (line < 0)
			r = isms_err_set(err, -EIO, "%s: cannot read", path);
		else if (ps.msg[0])
			r = isms_err_set(err, -EINVAL, "%s:%d: %s", path, line, ps.msg);
		else
			r = isms_err_set(err, -EINVAL, "%s:%d: syntax error; expected [section] or key = value",
					 path, line);
		goto err;
	}
	free(owned_path);
	*ret = ps.conf;
	return 0;
err:
	free(owned_path);
	isms_conf_free(ps.conf);
	return r;
}

static int key_format(const struct isms_conf *conf, const struct key *k, char *buf, size_t len)
{
	switch (k->type) {
	case T_STR:
	case T_PATH:
	case T_ESTR:
		(void)snprintf(buf, len, "%s", *FIELD(conf, k, char *) ? *FIELD(conf, k, char *) : "");
		return 0;
	case T_BOOL:
		(void)snprintf(buf, len, "%s", *FIELD(conf, k, bool) ? "yes" : "no");
		return 0;
	case T_INT:
	case T_DUR:
		(void)snprintf(buf, len, "%lld", *FIELD(conf, k, long long));
		return 0;
	case T_LIST: {
		char *s = isms_list_join(*FIELD(conf, k, char **), ", ");

		if (!s)
			return -ENOMEM;
		(void)snprintf(buf, len, "%s", s);
		free(s);
		return 0;
	}
	case T_ENUM: {
		int idx = *FIELD(conf, k, int);
		for (const char *p = k->allowed; p; idx--) {
			const char *bar = strchr(p, '|');

			if (idx == 0) {
				(void)snprintf(buf, len, "%.*s", bar ? (int)(bar - p) : (int)strlen(p), p);
				return 0;
			}
			p = bar ? bar + 1 : NULL;
		}
		return -EINVAL;
	}
	}
	return -EINVAL;
}

int isms_conf_get_text(const struct isms_conf *conf, const char *section, const char *key,
		       char *buf, size_t len)
{
	const struct key *k = key_find(section, key);

	if (!k)
		return -ENOENT;
	return key_format(conf, k, buf, len);
}

int isms_conf_write_default(FILE *f, const char *root)
{
	const char *cur = "";

	fprintf(f, "# isms.conf: policy and paths for pam_isms, accessctl and isms-rec.\n"
		   "# Every key is shown with its default, commented out; see isms.conf(5).\n"
		   "# An unknown key or a bad value is an error naming file, line and key.\n");
	for (size_t i = 0; i < ISMS_ARRAY_SIZE(keys); i++) {
		const struct key *k = &keys[i];
		bool rooted = k->type == T_PATH && root && *root;

		if (strcmp(cur, k->section) != 0) {
			cur = k->section;
			fprintf(f, "\n[%s]\n", cur);
		}
		fprintf(f, "# %s", k->help);
		if (k->type == T_ENUM || k->type == T_ESTR)
			fprintf(f, " (%s)", k->allowed);
		fprintf(f, "\n");
		if (rooted) {
			char *p = isms_path_join(root, k->def);

			if (!p)
				return -ENOMEM;
			fprintf(f, "%s = %s\n", k->name, p);
			free(p);
		} else {
			fprintf(f, "#%s = %s\n", k->name, k->def);
		}
	}
	return ferror(f) ? -EIO : 0;
}

bool isms_conf_group_is_privileged(const struct isms_conf *conf, const char *group)
{
	return isms_list_contains(conf->privileged_groups, group) ||
	       isms_list_contains(conf->ldap_privileged_groups, group);
}
