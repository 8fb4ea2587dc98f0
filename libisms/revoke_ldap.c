/* Directory steps of a revocation: ppolicy lock and shadowExpire on the account's
 * entry, removal from member/uniqueMember/memberUid of its groups; each re-read to
 * verify, and undone from what was recorded. Binds as [ldap] write_bind_dn. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LDAP_DEPRECATED 0
#include <ldap.h>

#include "ldap_conn.h"
#include "revoke_int.h"
#include "util.h"

#define LOCKED_TIME "000001010000Z" /* ppolicy: locked until an administrator unlocks */

struct revoke_ldap {
	LDAP *ld;
	const struct isms_conf *conf;
};

bool revoke_ldap_configured(const struct isms_conf *conf)
{
	return conf->ldap_uri && *conf->ldap_uri && conf->ldap_write_bind_dn && *conf->ldap_write_bind_dn;
}

static int ldap_fail(struct isms_err *err, int lrc, const char *what, const char *dn)
{
	return isms_err_set(err, lrc == LDAP_SERVER_DOWN || lrc == LDAP_CONNECT_ERROR ? -EHOSTDOWN : -EIO,
			    "ldap %s%s%s: %s", what, dn ? " " : "", dn ? dn : "", ldap_err2string(lrc));
}

int revoke_ldap_open(const struct isms_conf *conf, struct revoke_ldap **ret, struct isms_err *err)
{
	LDAP *ld = NULL;
	int r;

	r = isms_ldap_connect_as(conf, conf->ldap_write_bind_dn, conf->ldap_write_bindpw_file, &ld, err);
	if (r < 0)
		return r;
	*ret = calloc(1, sizeof(**ret));
	if (!*ret) {
		isms_ldap_close(ld);
		return isms_err_set(err, -ENOMEM, "out of memory");
	}
	(*ret)->ld = ld;
	(*ret)->conf = conf;
	return 0;
}

void revoke_ldap_close(struct revoke_ldap *l)
{
	if (!l)
		return;
	ldap_unbind_ext_s(l->ld, NULL, NULL);
	free(l);
}

/* First value of attr on the entry, or NULL; *ret_has_shadow tells whether the
 * entry carries objectClass shadowAccount. */
static int entry_read(struct revoke_ldap *l, const char *dn, json_t **ret, struct isms_err *err)
{
	char *attrs[] = { "objectClass", "pwdAccountLockedTime", "shadowExpire", NULL };
	LDAPMessage *res = NULL, *e;
	struct berval **vals;
	bool shadow = false;
	json_t *o;
	int lrc;

	lrc = ldap_search_ext_s(l->ld, dn, LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, NULL, NULL,
				NULL, 0, &res);
	if (lrc != LDAP_SUCCESS) {
		ldap_msgfree(res);
		return ldap_fail(err, lrc, "read", dn);
	}
	e = ldap_first_entry(l->ld, res);
	if (!e) {
		ldap_msgfree(res);
		return isms_err_set(err, -ENOENT, "ldap: %s: no such entry", dn);
	}
	o = json_object();
	vals = ldap_get_values_len(l->ld, e, "objectClass");
	for (int i = 0; vals && vals[i]; i++)
		if (vals[i]->bv_len == 13 && strncasecmp(vals[i]->bv_val, "shadowAccount", 13) == 0)
			shadow = true;
	ldap_value_free_len(vals);
	json_object_set_new(o, "had_shadow_account", json_boolean(shadow));
	for (int a = 1; a <= 2; a++) {
		vals = ldap_get_values_len(l->ld, e, attrs[a]);
		json_object_set_new(o, attrs[a], vals && vals[0] ?
				    json_stringn(vals[0]->bv_val, vals[0]->bv_len) : json_null());
		ldap_value_free_len(vals);
	}
	ldap_msgfree(res);
	*ret = o;
	return 0;
}

int revoke_ldap_lock_record(struct revoke_ldap *l, const char *dn, json_t **ret, struct isms_err *err)
{
	return entry_read(l, dn, ret, err);
}

static const char *jstr(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

int revoke_ldap_is_locked(struct revoke_ldap *l, const char *dn, struct isms_err *err)
{
	json_t *now = NULL;
	const char *t, *x;
	int r;

	r = entry_read(l, dn, &now, err);
	if (r < 0)
		return r;
	t = jstr(now, "pwdAccountLockedTime");
	x = jstr(now, "shadowExpire");
	r = t && strcmp(t, LOCKED_TIME) == 0 && x && strcmp(x, "1") == 0;
	json_decref(now);
	return r;
}

/* One modification: op on attr with value (NULL: every value). */
static int modify1(struct revoke_ldap *l, const char *dn, int op, const char *attr, const char *value,
		   struct isms_err *err)
{
	char *vals[2] = { (char *)value, NULL };
	LDAPMod mod = { .mod_op = op, .mod_type = (char *)attr, .mod_values = value ? vals : NULL };
	LDAPMod *mods[2] = { &mod, NULL };
	int lrc = ldap_modify_ext_s(l->ld, dn, mods, NULL, NULL);

	/* Already as wanted: a rerun after a partial failure. */
	if (lrc == LDAP_SUCCESS || (op == LDAP_MOD_DELETE && lrc == LDAP_NO_SUCH_ATTRIBUTE) ||
	    (op == LDAP_MOD_ADD && lrc == LDAP_TYPE_OR_VALUE_EXISTS))
		return 0;
	return ldap_fail(err, lrc, "modify", dn);
}

int revoke_ldap_lock(struct revoke_ldap *l, const char *dn, const json_t *rec, struct isms_err *err)
{
	int r = 0;

	(void)rec;
	r = modify1(l, dn, LDAP_MOD_ADD, "objectClass", "shadowAccount", err);
	if (r == 0)
		r = modify1(l, dn, LDAP_MOD_REPLACE, "pwdAccountLockedTime", LOCKED_TIME, err);
	if (r == 0)
		r = modify1(l, dn, LDAP_MOD_REPLACE, "shadowExpire", "1", err);
	if (r < 0)
		return r;
	r = revoke_ldap_is_locked(l, dn, err);
	if (r < 0)
		return r;
	return r ? 0 : isms_err_set(err, -EIO, "ldap: %s: not locked when re-read", dn);
}

int revoke_ldap_unlock(struct revoke_ldap *l, const char *dn, const json_t *rec, struct isms_err *err)
{
	static const char *const attrs[] = { "pwdAccountLockedTime", "shadowExpire" };
	int r = 0;

	for (size_t i = 0; r == 0 && i < ISMS_ARRAY_SIZE(attrs); i++) {
		const char *prev = jstr(rec, attrs[i]);

		r = prev ? modify1(l, dn, LDAP_MOD_REPLACE, attrs[i], prev, err)
			 : modify1(l, dn, LDAP_MOD_DELETE, attrs[i], NULL, err);
	}
	if (r == 0 && json_is_false(json_object_get(rec, "had_shadow_account")))
		r = modify1(l, dn, LDAP_MOD_DELETE, "objectClass", "shadowAccount", err);
	return r;
}

static const char *group_base(const struct isms_conf *c)
{
	return c->ldap_group_base && *c->ldap_group_base ? c->ldap_group_base : c->ldap_base_dn;
}

int revoke_ldap_groups_record(struct revoke_ldap *l, const char *dn, const char *name, json_t **ret,
			      struct isms_err *err)
{
	static const char *const mattrs[] = { "member", "uniqueMember", "memberUid" };
	char *attrs[] = { "member", "uniqueMember", "memberUid", NULL };
	struct berval bdn = { strlen(dn), (char *)dn }, bname = { strlen(name), (char *)name }, edn, ename;
	LDAPMessage *res = NULL;
	char *filter = NULL;
	json_t *a;
	int lrc;

	if (ldap_bv2escaped_filter_value(&bdn, &edn) != 0)
		return isms_err_set(err, -ENOMEM, "out of memory");
	if (ldap_bv2escaped_filter_value(&bname, &ename) != 0) {
		ber_memfree(edn.bv_val);
		return isms_err_set(err, -ENOMEM, "out of memory");
	}
	lrc = asprintf(&filter, "(|(member=%s)(uniqueMember=%s)(memberUid=%s))", edn.bv_val, edn.bv_val,
		       ename.bv_val);
	ber_memfree(edn.bv_val);
	ber_memfree(ename.bv_val);
	if (lrc < 0)
		return isms_err_set(err, -ENOMEM, "out of memory");
	lrc = ldap_search_ext_s(l->ld, group_base(l->conf), LDAP_SCOPE_SUBTREE, filter, attrs, 0, NULL,
				NULL, NULL, 0, &res);
	free(filter);
	if (lrc != LDAP_SUCCESS) {
		ldap_msgfree(res);
		return ldap_fail(err, lrc, "group search under", group_base(l->conf));
	}
	a = json_array();
	for (LDAPMessage *e = ldap_first_entry(l->ld, res); e; e = ldap_next_entry(l->ld, e)) {
		char *gdn = ldap_get_dn(l->ld, e);

		for (size_t k = 0; gdn && k < ISMS_ARRAY_SIZE(mattrs); k++) {
			struct berval **vals = ldap_get_values_len(l->ld, e, mattrs[k]);
			const char *want = k < 2 ? dn : name;

			for (int i = 0; vals && vals[i]; i++) {
				bool match = k < 2 ? (vals[i]->bv_len == strlen(want) &&
						      strncasecmp(vals[i]->bv_val, want, vals[i]->bv_len) == 0)
						   : (vals[i]->bv_len == strlen(want) &&
						      memcmp(vals[i]->bv_val, want, vals[i]->bv_len) == 0);
				if (match)
					json_array_append_new(a, json_pack("{s:s, s:s, s:s%}", "dn", gdn,
									   "attr", mattrs[k], "value",
									   vals[i]->bv_val,
									   (size_t)vals[i]->bv_len));
			}
			ldap_value_free_len(vals);
		}
		ldap_memfree(gdn);
	}
	ldap_msgfree(res);
	*ret = a;
	return 0;
}

/* groupOfNames and groupOfUniqueNames must keep one member: the last one is
 * replaced by the empty DN in the same operation (restore takes it out again). */
static int remove_last_member(struct revoke_ldap *l, const char *gdn, const char *attr, const char *value,
			      struct isms_err *err)
{
	char *addv[2] = { "", NULL }, *delv[2] = { (char *)value, NULL };
	LDAPMod add = { .mod_op = LDAP_MOD_ADD, .mod_type = (char *)attr, .mod_values = addv };
	LDAPMod del = { .mod_op = LDAP_MOD_DELETE, .mod_type = (char *)attr, .mod_values = delv };
	LDAPMod *mods[3] = { &add, &del, NULL };
	int lrc = ldap_modify_ext_s(l->ld, gdn, mods, NULL, NULL);

	return lrc == LDAP_SUCCESS ? 0 : ldap_fail(err, lrc, "modify", gdn);
}

/* Delete the recorded memberships, then re-read: with only_recorded, the account
 * must have left those groups; otherwise every group. */
static int groups_remove(struct revoke_ldap *l, const char *dn, const char *name, const json_t *rec,
			 bool only_recorded, struct isms_err *err)
{
	json_t *v, *left = NULL;
	size_t i;
	int r = 0;

	json_array_foreach(rec, i, v) {
		const char *gdn = jstr(v, "dn"), *attr = jstr(v, "attr"), *value = jstr(v, "value");

		r = modify1(l, gdn, LDAP_MOD_DELETE, attr, value, err);
		if (r < 0 && strcmp(attr, "memberUid") != 0 && strstr(err->msg, ldap_err2string(LDAP_OBJECT_CLASS_VIOLATION)))
			r = remove_last_member(l, gdn, attr, value, err);
		if (r < 0)
			return r;
	}
	r = revoke_ldap_groups_record(l, dn, name, &left, err);
	if (r < 0)
		return r;
	json_array_foreach(left, i, v) {
		const char *gdn = jstr(v, "dn");
		bool recorded = false;
		json_t *w;
		size_t k;

		json_array_foreach(rec, k, w)
			if (strcasecmp(jstr(w, "dn"), gdn) == 0)
				recorded = true;
		if (!only_recorded || recorded) {
			r = isms_err_set(err, -EIO, "ldap: still a member of %s when re-read", gdn);
			break;
		}
	}
	json_decref(left);
	return r;
}

int revoke_ldap_groups_remove(struct revoke_ldap *l, const char *dn, const char *name, const json_t *rec,
			      struct isms_err *err)
{
	return groups_remove(l, dn, name, rec, false, err);
}

int revoke_ldap_groups_remove_only(struct revoke_ldap *l, const char *dn, const char *name,
				   const json_t *rec, struct isms_err *err)
{
	return groups_remove(l, dn, name, rec, true, err);
}

int revoke_ldap_groups_restore(struct revoke_ldap *l, const json_t *rec, struct isms_err *err)
{
	json_t *v;
	size_t i;
	int r;

	json_array_foreach(rec, i, v) {
		const char *gdn = jstr(v, "dn"), *attr = jstr(v, "attr");

		r = modify1(l, gdn, LDAP_MOD_ADD, attr, jstr(v, "value"), err);
		/* The placeholder of an emptied group goes once it has a member again. */
		if (r == 0 && strcmp(attr, "memberUid") != 0)
			r = modify1(l, gdn, LDAP_MOD_DELETE, attr, "", err);
		if (r < 0)
			return r;
	}
	return 0;
}
