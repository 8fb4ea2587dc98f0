/* The audit trail. Each event is hashed with BLAKE2b over the previous hash and
 * a length-prefixed encoding of its fields, so a changed, deleted or reordered
 * event breaks every link after it; each is also one syslog line. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include <sodium.h>

#include "audit.h"
#include "clock.h"
#include "db.h"
#include "util.h"

static void put_u64(crypto_generichash_state *h, uint64_t v)
{
	unsigned char b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (56 - 8 * i));
	crypto_generichash_update(h, b, sizeof(b));
}

static void put_str(crypto_generichash_state *h, const char *s)
{
	uint32_t len = s ? (uint32_t)strlen(s) : UINT32_MAX;
	unsigned char b[4] = { len >> 24, len >> 16, len >> 8, len };

	crypto_generichash_update(h, b, sizeof(b));
	if (s)
		crypto_generichash_update(h, (const unsigned char *)s, strlen(s));
}

/* The canonical encoding: seq, time, then each text field length-prefixed (NULL distinct from ""). */
static void audit_hash(const unsigned char prev[ISMS_AUDIT_HASHBYTES], int64_t seq, int64_t time,
		       const char *host, const char *event, const char *actor, const char *subject,
		       const char *result, const char *reason, const char *details,
		       unsigned char out[ISMS_AUDIT_HASHBYTES])
{
	crypto_generichash_state h;

	crypto_generichash_init(&h, NULL, 0, ISMS_AUDIT_HASHBYTES);
	crypto_generichash_update(&h, (const unsigned char *)"isms-audit-v1", 13);
	crypto_generichash_update(&h, prev, ISMS_AUDIT_HASHBYTES);
	put_u64(&h, (uint64_t)seq);
	put_u64(&h, (uint64_t)time);
	put_str(&h, host);
	put_str(&h, event);
	put_str(&h, actor);
	put_str(&h, subject);
	put_str(&h, result);
	put_str(&h, reason);
	put_str(&h, details);
	crypto_generichash_final(&h, out, ISMS_AUDIT_HASHBYTES);
}

/* Append n bytes at *pos, as snprintf would: *pos advances by n even when
 * they do not all fit, and buf stays NUL-terminated. */
static void put(char *buf, size_t len, size_t *pos, const char *s, size_t n)
{
	if (*pos < len) {
		size_t fit = n < len - *pos - 1 ? n : len - *pos - 1;

		memcpy(buf + *pos, s, fit);
		buf[*pos + fit] = '\0';
	}
	*pos += n;
}

/* A syslog value: bare when safe, else quoted with escapes, so a user-chosen
 * name can never forge a field or a line. */
void isms_audit_kv(char *buf, size_t len, size_t *pos, const char *key, const char *val)
{
	static const char hex[] = "0123456789abcdef";
	bool bare = val && *val;

	if (*pos >= len)
		return;
	if (*pos == 0)
		buf[0] = '\0';
	for (const char *p = val; bare && *p; p++)
		if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || (unsigned char)*p >= 0x7f)
			bare = false;
	if (*pos)
		put(buf, len, pos, " ", 1);
	put(buf, len, pos, key, strlen(key));
	put(buf, len, pos, "=", 1);
	if (!val) {
		put(buf, len, pos, "-", 1);
		return;
	}
	if (bare) {
		put(buf, len, pos, val, strlen(val));
		return;
	}
	put(buf, len, pos, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)val; *p && *pos < len; p++) {
		char esc[4] = { '\\', (char)*p };

		if (*p == '"' || *p == '\\') {
			put(buf, len, pos, esc, 2);
		} else if (*p < ' ' || *p == 0x7f) {
			esc[1] = 'x';
			esc[2] = hex[*p >> 4];
			esc[3] = hex[*p & 15];
			put(buf, len, pos, esc, 4);
		} else {
			put(buf, len, pos, (const char *)p, 1);
		}
	}
	if (*pos < len)
		put(buf, len, pos, "\"", 1);
}

void isms_audit_syslog(const char *host, const struct isms_event *ev)
{
	char line[1024];
	size_t pos = 0;
	int prio = ev->priority;

	(void)host;
	if (!prio) {
		bool bad = ev->result && (!strcmp(ev->result, "deny") || !strcmp(ev->result, "fail"));

		prio = bad ? LOG_NOTICE : LOG_INFO;
	}
	pos = (size_t)snprintf(line, sizeof(line), "isms:");
	/* each field below starts with a space because pos > 0 */
	isms_audit_kv(line, sizeof(line), &pos, "event", ev->event);
	isms_audit_kv(line, sizeof(line), &pos, "user", ev->subject);
	isms_audit_kv(line, sizeof(line), &pos, "result", ev->result);
	isms_audit_kv(line, sizeof(line), &pos, "reason", ev->reason);
	isms_audit_kv(line, sizeof(line), &pos, "actor", ev->actor);
	if (ev->details && *ev->details && pos < sizeof(line))
		(void)snprintf(line + pos, sizeof(line) - pos, " %s", ev->details);
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < ' ')
			*p = '?';
	syslog(LOG_AUTHPRIV | prio, "%s", line);
}

int isms_audit_head(sqlite3 *state, unsigned char ret_hash[ISMS_AUDIT_HASHBYTES], int64_t *ret_seq,
		    struct isms_err *err)
{
	sqlite3_stmt *st;
	int r;

	st = isms_db_query(state, err, "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1", NULL);
	if (!st)
		return err ? err->code : -EIO;
	r = isms_db_step(st, err);
	if (r == 1) {
		if (sqlite3_column_bytes(st, 1) != ISMS_AUDIT_HASHBYTES) {
			r = isms_err_set(err, -EBADMSG, "audit chain head has a malformed hash");
		} else {
			memcpy(ret_hash, sqlite3_column_blob(st, 1), ISMS_AUDIT_HASHBYTES);
			*ret_seq = sqlite3_column_int64(st, 0);
			r = 0;
		}
	} else if (r == 0) {
		memset(ret_hash, 0, ISMS_AUDIT_HASHBYTES);
		*ret_seq = 0;
	}
	isms_db_done(st);
	return r;
}

int isms_audit_append(sqlite3 *state, const char *host, const struct isms_event *ev,
		      struct isms_err *err)
{
	unsigned char prev[ISMS_AUDIT_HASHBYTES], hash[ISMS_AUDIT_HASHBYTES];
	bool own_tx;
	int64_t seq, now = isms_now();
	int r;

	if (ev->event == NULL || ev->result == NULL)
		return isms_err_set(err, -EINVAL, "audit event needs an event type and a result");
	if (sodium_init() < 0)
		return isms_err_set(err, -EIO, "libsodium failed to initialise");
	isms_audit_syslog(host, ev);
	if (!state)
		return isms_err_set(err, -ENODEV, "state store unavailable; event only in syslog");
	own_tx = sqlite3_get_autocommit(state);
	if (own_tx) {
		r = isms_db_begin(state, err);
		if (r < 0)
			return r;
	}
	r = isms_audit_head(state, prev, &seq, err);
	if (r < 0)
		goto out;
	seq++;
	audit_hash(prev, seq, now, host, ev->event, ev->actor, ev->subject, ev->result, ev->reason,
		   ev->details, hash);
	r = isms_db_exec(state, err,
			 "INSERT INTO audit_events (seq, time, host, event, actor, subject, result, reason,"
			 " details, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
			 "iisssssssbb", seq, now, host, ev->event, ev->actor, ev->subject, ev->result,
			 ev->reason, ev->details, prev, sizeof(prev), hash, sizeof(hash));
	if (r < 0)
		goto out;
	if (own_tx)
		return isms_db_commit(state, err);
	return 0;
out:
	if (own_tx)
		isms_db_rollback(state);
	return r;
}

int isms_audit_verify(sqlite3 *state, int64_t *ret_count, int64_t *ret_bad_seq, struct isms_err *err)
{
	unsigned char running[ISMS_AUDIT_HASHBYTES] = { 0 }, hash[ISMS_AUDIT_HASHBYTES];
	sqlite3_stmt *st;
	int64_t expect = 1, count = 0;
	int r;

	if (sodium_init() < 0)
		return isms_err_set(err, -EIO, "libsodium failed to initialise");
	st = isms_db_query(state, err,
			   "SELECT seq, time, host, event, actor, subject, result, reason, details,"
			   " prev_hash, hash FROM audit_events ORDER BY seq", NULL);
	if (!st)
		return err ? err->code : -EIO;
	while ((r = isms_db_step(st, err)) == 1) {
		int64_t seq = sqlite3_column_int64(st, 0);
		const char *why = NULL;

#define TXT(i) ((const char *)sqlite3_column_text(st, (i)))
		if (seq != expect)
			why = seq > expect ? "events missing before it" : "out of order";
		else if (sqlite3_column_bytes(st, 9) != ISMS_AUDIT_HASHBYTES ||
			 sqlite3_column_bytes(st, 10) != ISMS_AUDIT_HASHBYTES)
			why = "malformed hash";
		else if (sodium_memcmp(sqlite3_column_blob(st, 9), running, ISMS_AUDIT_HASHBYTES) != 0)
			why = "does not link to the event before it";
		else {
			audit_hash(running, seq, sqlite3_column_int64(st, 1), TXT(2), TXT(3), TXT(4),
				   TXT(5), TXT(6), TXT(7), TXT(8), hash);
			if (sodium_memcmp(hash, sqlite3_column_blob(st, 10), ISMS_AUDIT_HASHBYTES) != 0)
				why = "content does not match its hash (modified)";
		}
#undef TXT
		if (why) {
			if (ret_bad_seq)
				*ret_bad_seq = seq;
			if (ret_count)
				*ret_count = count;
			r = isms_err_set(err, -EBADMSG, "audit chain broken at event %lld: %s",
					 (long long)seq, why);
			isms_db_done(st);
			return r;
		}
		memcpy(running, hash, sizeof(running));
		expect++;
		count++;
	}
	isms_db_done(st);
	if (r < 0)
		return r;
	if (ret_count)
		*ret_count = count;
	if (ret_bad_seq)
		*ret_bad_seq = 0;
	return 0;
}
