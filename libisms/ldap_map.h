/* Directory entries as accessctl sync sees them: the attributes the [ldap]
 * mapping names, read from an LDAP message or from the stored snapshot, and
 * the value parsers they need (generalized time, numbers, DNs, filters). */
#ifndef ISMS_LDAP_MAP_H
#define ISMS_LDAP_MAP_H

#include <stdbool.h>
#include <stdint.h>

#include <ldap.h>

#include "conf.h"
#include "err.h"

enum isms_ldap_kind { ISMS_LDAP_ACCOUNT, ISMS_LDAP_GROUP };

/* One account or group entry. Absent attributes are NULL, absent numbers -1. */
struct isms_ldap_entry {
	enum isms_ldap_kind kind;
	char *uuid;             /* entryUUID: the identity */
	char *dn;
	char *name;             /* uid, or cn for a group */
	long long number;       /* uidNumber, or gidNumber for a group */
	/* accounts */
	long long gid;
	char *display;          /* displayName, else the attr_name value */
	char *mail;
	char *employee_no;
	char *manager_dn;
	char *department;
	char *title;
	char *shell;
	char *home;
	char *kind_value;       /* employeeType (or attr_kind) */
	char *locked_time;      /* pwdAccountLockedTime */
	long long shadow_expire; /* days since the epoch */
	/* groups: members by name (memberUid), by DN (member), by DN (uniqueMember) */
	char **member_uid;
	char **member;
	char **unique_member;
	char *stored;           /* the stored form, when read from it (saves writing it again) */
};

/* An empty entry (numbers -1), or NULL. */
struct isms_ldap_entry *isms_ldap_entry_new(enum isms_ldap_kind kind);
void isms_ldap_entry_free(struct isms_ldap_entry *e);

/* The attributes to request for accounts or groups (NULL-terminated, static
 * strings from conf; free the array only). entryUUID is asked for by name: it
 * is operational and "*" does not return it. */
const char **isms_ldap_attrs(const struct isms_conf *conf, enum isms_ldap_kind kind);

/* Read one search entry. -ENODATA when it lacks entryUUID or its name (it is
 * skipped), -ENOMEM. */
int isms_ldap_entry_read(LDAP *ld, LDAPMessage *msg, const struct isms_conf *conf,
			 enum isms_ldap_kind kind, struct isms_ldap_entry **ret);

/* The stored form (JSON text, ldap_stored.c) and back. Reading accepts exactly
 * what writing produces: an object of strings, whole numbers and string lists. */
char *isms_ldap_entry_to_json(const struct isms_ldap_entry *e);
/* The same into *buf (cap bytes, grown as needed; the caller frees it): the
 * length, or -ENOMEM. For a caller writing many entries with one buffer. */
long isms_ldap_entry_json_into(const struct isms_ldap_entry *e, char **buf, size_t *cap);
int isms_ldap_entry_from_json(const char *uuid, const char *dn, enum isms_ldap_kind kind,
			      const char *json, struct isms_ldap_entry **ret);

/* What a delta sync needs of a stored entry without building it: the text
 * checked as isms_ldap_entry_from_json would (-EBADMSG), and pointers at the
 * opening quote of a few string values (NULL when absent). */
struct isms_ldap_stored_view {
	const char *name, *manager_dn, *employee_no;
	long long number;       /* uidNumber or gidNumber, -1 when absent */
	long long shadow_expire; /* -1 when absent */
	bool locked_time;       /* pwdAccountLockedTime is set */
};
int isms_ldap_stored_scan(const char *json, struct isms_ldap_stored_view *ret);
/* A string value the view points at, decoded and malloc'd (NULL: none, or out of memory). */
char *isms_ldap_stored_str(const char *quote);
/* The same, in place, when it holds no escape: false otherwise. */
bool isms_ldap_stored_plain(const char *quote, const char **ret_p, size_t *ret_len);

/* Value parsers for outside input; each is total (never crashes on any bytes). */
/* "20261127034356Z", "20261127034356.5Z", "202611270343Z", "20261127034356+0100" -> epoch.
 * ppolicy's "000001010000Z" (locked forever) parses to a time before 1970. */
int isms_ldap_parse_gentime(const char *s, int64_t *ret);
/* A whole number in [min, max] with nothing around it. */
int isms_ldap_parse_number(const char *s, long long min, long long max, long long *ret);
/* The value of the first RDN ("uid=alice,ou=people,..." -> "alice"), malloc'd. */
int isms_ldap_dn_rdn_value(const char *dn, char **ret);
/* A DN in the form used for matching member values: blanks around
 * separators dropped, escapes decoded (specials stay escaped), lower case
 * (Unicode simple case folding beyond ASCII). */
char *isms_ldap_dn_key(const char *dn);
/* Room isms_ldap_dn_key_into needs for a DN of len bytes: folding can turn
 * two UTF-8 bytes into three. */
#define ISMS_DN_KEY_SIZE(len) (2 * (len) + 1)
/* The same into out, which holds at least ISMS_DN_KEY_SIZE(strlen(dn)) bytes. */
void isms_ldap_dn_key_into(const char *dn, char *out);
/* "(attr=value)" with value escaped per RFC 4515, malloc'd. */
char *isms_ldap_filter_eq(const char *attr, const char *value);

/* Is the account locked in the directory at `now` (pwdAccountLockedTime set, or
 * shadowExpire reached)? `why` receives the attribute that says so. */
bool isms_ldap_entry_locked(const struct isms_ldap_entry *e, int64_t now, char *why, size_t whylen);

/* The account kind employeeType implies: human, service, shared or breakglass. */
const char *isms_ldap_account_kind(const char *kind_value);

#endif
