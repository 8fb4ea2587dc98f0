/* The directory connection of accessctl sync: TLS required unless allowed
 * otherwise, a bind whose password comes only from a root-only file, timeouts,
 * paged searches (RFC 2696) and RFC 4533 refresh-only content sync. */
#ifndef ISMS_LDAP_CONN_H
#define ISMS_LDAP_CONN_H

#include <stdbool.h>

#include <ldap.h>

#include "conf.h"
#include "err.h"

/* Connect and bind as [ldap] says. Errors name the server and the cause. */
int isms_ldap_connect(const struct isms_conf *conf, LDAP **ret, struct isms_err *err);
/* The same with other credentials (NULL bind_dn: anonymous), e.g. the
 * directory write account revocation uses. */
int isms_ldap_connect_as(const struct isms_conf *conf, const char *bind_dn, const char *bindpw_file,
			 LDAP **ret, struct isms_err *err);
void isms_ldap_close(LDAP *ld);

/* Read a bind password file: refused unless a regular file readable and
 * writable by its owner only (and owned by root when we are root). The
 * returned string is wiped and freed with isms_secret_free(pw, *ret_size). */
int isms_ldap_read_password(const char *path, char **ret, size_t *ret_size, struct isms_err *err);

/* Called for each entry; a negative return stops the search with that code. */
typedef int (*isms_ldap_entry_cb)(LDAP *ld, LDAPMessage *msg, void *arg);

/* Subtree search in pages of page_size; cb sees every entry of every page. */
int isms_ldap_search_paged(LDAP *ld, const struct isms_conf *conf, const char *base,
			   const char *filter, const char **attrs, isms_ldap_entry_cb cb, void *arg,
			   struct isms_err *err);

/* Does the root DSE list this control OID under supportedControl? */
bool isms_ldap_supports_control(LDAP *ld, const char *oid);

/* RFC 4533 refresh-only. Entries arrive through cb with their sync state. */
enum isms_sync_state { ISMS_SYNC_PRESENT = 0, ISMS_SYNC_ADD = 1, ISMS_SYNC_MODIFY = 2, ISMS_SYNC_DELETE = 3 };

struct isms_syncrepl_ops {
	/* An entry with its state; for PRESENT and DELETE it may carry no attributes. */
	int (*entry)(LDAP *ld, LDAPMessage *msg, enum isms_sync_state state, const char *uuid, void *arg);
	/* UUIDs announced without entries (syncIdSet): present or deleted. */
	int (*uuid_set)(const char *uuid, bool deleted, void *arg);
	void *arg;
};

struct isms_syncrepl_result {
	char *cookie;           /* new cookie (malloc'd) or NULL */
	bool refresh_deletes;   /* true: deletions were sent; false: absent = deleted */
};

/* Run one refresh-only content sync. -ESTALE when the server says the cookie
 * is too old (e-syncRefreshRequired), -EOPNOTSUPP when it refuses the control,
 * -E2BIG when its size limit stops it (content sync cannot be paged). */
int isms_ldap_syncrepl(LDAP *ld, const struct isms_conf *conf, const char *base, const char *filter,
		       const char **attrs, const char *cookie, const struct isms_syncrepl_ops *ops,
		       struct isms_syncrepl_result *res, struct isms_err *err);

/* Shared with ldap_syncrepl.c: an LDAP result code as "URI: what: cause
 * (server's diagnostic)" with a negative errno; the next message of a search
 * within [ldap] timeout. */
int isms_ldap_fail(LDAP *ld, const struct isms_conf *conf, struct isms_err *err, int rc, const char *what);
int isms_ldap_next_message(LDAP *ld, const struct isms_conf *conf, int msgid, LDAPMessage **ret,
			   struct isms_err *err);

/* entryUUID in its 16 raw bytes -> text form; out must hold 37 bytes. */
int isms_ldap_uuid_text(const struct berval *raw, char out[37]);

#endif
