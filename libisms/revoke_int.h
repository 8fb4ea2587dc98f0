/* Internal to the revocation engine: the steps revoke.c sequences, each split into
 * "record what is there" and "change it", so the record is stored before the change. */
#ifndef ISMS_REVOKE_INT_H
#define ISMS_REVOKE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "ctx.h"
#include "err.h"

struct revoke_account {
	int64_t id;
	char *name;
	int64_t uid;
	bool have_uid;
	char *source;       /* 'local' or 'ldap' */
	char *dn;           /* NULL unless a directory account */
	char *status;
	char *employee_no;  /* owner, may be NULL */
};

/* revoke_local.c: shadow and group files, running processes. Return 0 done,
 * 1 nothing to do (no entry), negative with err on failure. */
int revoke_shadow_record(const struct isms_conf *conf, const char *name, json_t **ret,
			 struct isms_err *err);
int revoke_shadow_lock(const struct isms_conf *conf, const char *name, struct isms_err *err);
int revoke_shadow_unlock(const struct isms_conf *conf, const char *name, const json_t *rec,
			 struct isms_err *err);
bool revoke_shadow_is_locked(const struct isms_conf *conf, const char *name);

/* groups: JSON array of group names the account is a direct member of and that are
 * privileged (config or registry). */
int revoke_groups_record(struct isms_ctx *ctx, const char *name, json_t **ret,
			 struct isms_err *err);
int revoke_groups_remove(const struct isms_conf *conf, const char *name, const json_t *groups,
			 struct isms_err *err);
int revoke_groups_restore(const struct isms_conf *conf, const char *name, const json_t *groups,
			  struct isms_err *err);
/* 1 when name is listed in group's member list in the group file, 0 when not. */
int revoke_group_has_member(const struct isms_conf *conf, const char *group, const char *name,
			    struct isms_err *err);

/* Processes of uid: ended through logind when it runs, then signalled. Returns the
 * number of processes found (0: nothing ran) or negative. */
int revoke_sessions_end(uid_t uid, struct isms_err *err);

/* revoke_ldap.c: directory write-back with [ldap] write_bind_dn. */
struct revoke_ldap;
bool revoke_ldap_configured(const struct isms_conf *conf);
int revoke_ldap_open(const struct isms_conf *conf, struct revoke_ldap **ret, struct isms_err *err);
void revoke_ldap_close(struct revoke_ldap *l);
int revoke_ldap_lock_record(struct revoke_ldap *l, const char *dn, json_t **ret, struct isms_err *err);
int revoke_ldap_lock(struct revoke_ldap *l, const char *dn, const json_t *rec, struct isms_err *err);
int revoke_ldap_unlock(struct revoke_ldap *l, const char *dn, const json_t *rec, struct isms_err *err);
int revoke_ldap_is_locked(struct revoke_ldap *l, const char *dn, struct isms_err *err);
/* groups: JSON array of {"dn","attr","value"} */
int revoke_ldap_groups_record(struct revoke_ldap *l, const char *dn, const char *name,
			      json_t **ret, struct isms_err *err);
int revoke_ldap_groups_remove(struct revoke_ldap *l, const char *dn, const char *name,
			      const json_t *rec, struct isms_err *err);
int revoke_ldap_groups_restore(struct revoke_ldap *l, const json_t *rec, struct isms_err *err);
/* Remove only the recorded memberships (a subset), verified by re-reading. */
int revoke_ldap_groups_remove_only(struct revoke_ldap *l, const char *dn, const char *name,
				   const json_t *rec, struct isms_err *err);

#endif
