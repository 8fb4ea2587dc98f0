/* The audit trail: every decision is one event, appended to a BLAKE2b hash
 * chain in state.db and mirrored to syslog (LOG_AUTHPRIV) as one line. */
#ifndef ISMS_AUDIT_H
#define ISMS_AUDIT_H

#include <stdint.h>
#include <sqlite3.h>

#include "err.h"

#define ISMS_AUDIT_HASHBYTES 32

struct isms_event {
	const char *event;   /* login, mfa, session_open, sync, revoke, breakglass_used, ... */
	const char *actor;   /* PAM service, or the admin */
	const char *subject; /* account or person */
	const char *result;  /* allow, deny, ok, fail */
	const char *reason;  /* reason code, or NULL */
	const char *details; /* "key=value key=value", never a secret; build it with
			      * isms_audit_kv so user-chosen text cannot forge a field */
	int priority;        /* syslog priority; 0 means LOG_INFO (LOG_NOTICE for deny/fail) */
};

/* Append one event with the time from isms_now() and mirror it to syslog.
 * Runs its own short IMMEDIATE transaction unless one is open already. A NULL
 * state (store unavailable) still writes the syslog line and returns -ENODEV. */
int isms_audit_append(sqlite3 *state, const char *host, const struct isms_event *ev,
		      struct isms_err *err);

/* Append " key=value" to buf at *pos (no leading space at position 0), quoting and
 * escaping the value so user-chosen text cannot forge a field. NULL value: "-". */
void isms_audit_kv(char *buf, size_t len, size_t *pos, const char *key, const char *val);

/* Only the syslog mirror. */
void isms_audit_syslog(const char *host, const struct isms_event *ev);

/* Walk the chain. Returns 0 when intact (*ret_count events), -EBADMSG with
 * *ret_bad_seq the first event whose link is broken. */
int isms_audit_verify(sqlite3 *state, int64_t *ret_count, int64_t *ret_bad_seq,
		      struct isms_err *err);

/* Hash of the chain head (32 zero bytes for an empty chain) and its seq. */
int isms_audit_head(sqlite3 *state, unsigned char ret_hash[ISMS_AUDIT_HASHBYTES],
		    int64_t *ret_seq, struct isms_err *err);

#endif
