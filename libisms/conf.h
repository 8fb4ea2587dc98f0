/* isms.conf: the policy and paths every part reads. INI, parsed with libinih;
 * every key is validated and has a default (see conf.c for the table). */
#ifndef ISMS_CONF_H
#define ISMS_CONF_H

#include <stdbool.h>
#include <stdio.h>

#include "err.h"

#define ISMS_CONF_DEFAULT "/etc/isms/isms.conf"

#ifndef ISMS_RECORDER_PATH
#define ISMS_RECORDER_PATH "/usr/local/bin/isms-rec"
#endif

enum isms_mfa_mode { ISMS_MFA_REQUIRED, ISMS_MFA_GROUPS };
enum isms_record_mode { ISMS_RECORD_ENFORCE, ISMS_RECORD_WARN, ISMS_RECORD_OFF };
enum isms_noninteractive { ISMS_NONINT_METADATA, ISMS_NONINT_FULL, ISMS_NONINT_DENY };
enum isms_no_response { ISMS_NORESP_ESCALATE, ISMS_NORESP_REVOKE };
enum isms_on_record_error { ISMS_RECERR_CONTINUE, ISMS_RECERR_TERMINATE };

struct isms_conf {
	char *path;                  /* file read ("" when only defaults) */
	char *root;                  /* prefix applied to default paths ("" for /) */

	/* [paths] — defaults are under /etc/isms and /var/lib/isms, prefixed by root */
	char *registry_db;
	char *state_db;
	char *host_key;              /* 32-byte vault key */
	char *signing_key;           /* Ed25519 key that signs evidence and checkpoints */
	char *recordings_dir;
	char *auditor_pubkey;        /* X25519 public key recordings are sealed to */
	char *pamd_dir;              /* where doctor looks for PAM service files */
	char *passwd_file;           /* local account files revocation edits */
	char *group_file;
	char *shadow_file;
	char *wtmp_file;
	char *hr_drop_dir;

	/* [general] */
	char *system_name;           /* this host in reviews; default: hostname */
	char *contact;               /* whom a denied user should contact */
	char **breakglass_accounts;
	char **shared_names;
	char **privileged_groups;
	char **privileged_accounts;  /* system accounts direct login to which is restricted */
	char **allow_root_services;
	char **noninteractive_services;
	long long stale_days;
	bool deny_stale;
	char **critical_systems;

	/* [mfa] */
	enum isms_mfa_mode mfa_mode;
	char **mfa_groups;
	char *mfa_prompt;
	long long mfa_window;        /* steps either side accepted */
	long long mfa_max_failures;
	long long mfa_failure_window; /* seconds */
	long long mfa_lockout;       /* seconds */
	long long mfa_enroll_grace;  /* seconds after account creation */
	char *mfa_issuer;
	char *mfa_algorithm;         /* default for enrollment */
	long long mfa_digits;
	long long mfa_period;
	long long mfa_recovery_codes;

	/* [session] */
	enum isms_record_mode record;
	char **record_groups;
	char **record_users;
	char *recorder;              /* path of isms-rec, the shell recorded accounts must have */
	bool tty_audit;
	bool record_input;
	enum isms_noninteractive noninteractive;
	enum isms_on_record_error on_record_error;
	long long flush_interval;

	/* [ldap] */
	char *ldap_uri;
	bool ldap_starttls;
	char *ldap_ca_file;
	bool ldap_allow_insecure;
	bool ldap_anonymous;
	char *ldap_bind_dn;
	char *ldap_bindpw_file;
	char *ldap_write_bind_dn;
	char *ldap_write_bindpw_file;
	char *ldap_base_dn;
	char *ldap_people_base;
	char *ldap_group_base;
	char *ldap_people_filter;
	char *ldap_group_filter;
	long long ldap_page_size;
	long long ldap_timeout;
	long long ldap_max_removals; /* percent */
	char **ldap_privileged_groups;
	char *ldap_attr_account;
	char *ldap_attr_uid_number;
	char *ldap_attr_gid_number;
	char *ldap_attr_name;
	char *ldap_attr_mail;
	char *ldap_attr_employee_number;
	char *ldap_attr_manager;
	char *ldap_attr_department;
	char *ldap_attr_title;
	char *ldap_attr_shell;
	char *ldap_attr_kind;        /* attribute whose value marks service/shared accounts ("" = none) */

	/* [review] */
	char **review_quarterly_scope;
	char **review_annual_scope;
	long long review_due_days;
	char *review_fallback_reviewer; /* employee number */
	enum isms_no_response review_no_response;
	long long review_annual_quarter; /* the quarter (1-4) the annual campaign runs in */

	/* [revoke] */
	long long revoke_within;     /* seconds */
	bool revoke_terminate_sessions;
	bool revoke_lock_local;

	/* [hr] */
	char *hr_employee_column;
	char *hr_status_column;
	char *hr_termination_column;
	char **hr_terminated_status;

	/* [scim] */
	char *scim_listen;
	char *scim_token_file;
	char *scim_tls_cert;
	char *scim_tls_key;

	/* [audit] */
	long long audit_checkpoint_interval;
};

/* Read `path` (NULL: root + ISMS_CONF_DEFAULT) over the defaults. A missing file is
 * -ENOENT unless allow_missing, in which case defaults alone are returned. The file
 * must be a regular file, not writable by group or other, and (caller root) owned
 * by root: else -EPERM. Errors name file, line, key and what is allowed. */
int isms_conf_load(const char *path, const char *root, bool allow_missing,
		   struct isms_conf **ret, struct isms_err *err);

/* Defaults only, for root. */
int isms_conf_defaults(const char *root, struct isms_conf **ret);

void isms_conf_free(struct isms_conf *conf);

/* Write the commented default file: every key, its default, and what it allows.
 * With a non-empty root the [paths] keys are written out with the prefix. */
int isms_conf_write_default(FILE *f, const char *root);

/* Look up one key's value as text ("section.key"), for doctor and tests. */
int isms_conf_get_text(const struct isms_conf *conf, const char *section, const char *key,
		       char *buf, size_t len);

/* Is this account a member of a privileged group or uid 0, given its groups? */
bool isms_conf_group_is_privileged(const struct isms_conf *conf, const char *group);

#endif
