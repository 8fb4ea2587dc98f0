/* MFA decisions and the token store: who must pass, loading a token, and the
 * check-and-set that makes one code log in exactly once. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "db.h"
#include "mfa.h"
#include "privilege.h"
#include "util.h"

static void account_row(sqlite3_stmt *st, struct isms_mfa_account *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->id = sqlite3_column_int64(st, 0);
	(void)snprintf(ret->kind, sizeof(ret->kind), "%s", sqlite3_column_text(st, 1));
	(void)snprintf(ret->status, sizeof(ret->status), "%s", sqlite3_column_text(st, 2));
	ret->uid = sqlite3_column_int64(st, 3);
	ret->gid = sqlite3_column_int64(st, 4);
	ret->created_at = sqlite3_column_int64(st, 5);
}

#define ACCOUNT_COLUMNS "a.id, a.kind, a.status, coalesce(a.uid, -1), coalesce(a.gid, -1), a.created_at"
#define TOKEN_COLUMNS "t.id, t.secret, t.algorithm, t.digits, t.period, t.status, t.imported_from," \
		      " t.created_at, coalesce(t.confirmed_at, 0)"

int isms_mfa_account_find(sqlite3 *reg, const char *name, struct isms_mfa_account *ret,
			  struct isms_err *err)
{
	sqlite3_stmt *st;
	int r;

	st = isms_db_query(reg, err, "SELECT " ACCOUNT_COLUMNS " FROM accounts a WHERE a.name = ?", "s", name);
	if (!st)
		return err ? err->code : -EIO;
	r = isms_db_step(st, err);
	if (r == 1) {
		account_row(st, ret);
		r = 0;
	} else if (r == 0) {
		r = isms_err_set(err, -ENOENT, "account '%s' is not in the registry", name);
	}
	isms_db_done(st);
	return r;
}

int isms_mfa_required(struct isms_ctx *ctx, const char *user, const struct isms_mfa_account *acct,
		      bool *ret, char *why, size_t whylen, struct isms_err *err)
{
	char via[128] = "", **groups = NULL;
	const char *hit;
	bool priv = false;
	int r;

	if (strcmp(acct->kind, "service") == 0) {
		if (why)
			(void)snprintf(why, whylen, "service account");
		*ret = false;
		return 0;
	}
	/* In mode required everyone but service accounts passes MFA: no need to ask
	 * NSS and the registry about privilege (and no cost at every login). */
	if (ctx->conf->mfa_mode == ISMS_MFA_REQUIRED) {
		if (why)
			(void)snprintf(why, whylen, "mode required");
		*ret = true;
		return 0;
	}
	/* Privilege is judged on the registry's ids, so NSS trouble cannot hide it. */
	r = isms_account_privileged(ctx, user, (uid_t)acct->uid, (gid_t)acct->gid,
				    acct->uid >= 0 && acct->gid >= 0, &priv, via, sizeof(via), err);
	if (r < 0)
		return r;
	if (priv) {
		if (why)
			(void)snprintf(why, whylen, "privileged (%s)", via);
		*ret = true;
		return 0;
	}
	r = isms_account_groups(ctx, user, (gid_t)acct->gid, acct->gid >= 0, &groups, err);
	if (r < 0)
		return r;
	hit = isms_groups_match(groups, ctx->conf->mfa_groups);
	if (why)
		(void)snprintf(why, whylen, hit ? "member of %s" : "not in any MFA group", hit ? hit : "");
	*ret = hit != NULL;
	isms_list_free(groups);
	return 0;
}

void isms_mfa_token_clear(struct isms_mfa_token *t)
{
	if (!t)
		return;
	isms_secret_free(t->secret, t->secret_len);
	free(t->sealed);
	free(t->account);
	free(t->imported_from);
	memset(t, 0, sizeof(*t));
}

static int token_open(const struct isms_vault *v, const char *account, const void *sealed, size_t len,
		      struct isms_mfa_token *t, struct isms_err *err)
{
	int r = isms_vault_open(v, account, sealed, len, &t->secret, &t->secret_len);

	if (r < 0)
		return isms_err_set(err, r, "token of '%s': secret does not open with this host key"
				    " (tampered, or sealed for another account)", account);
	return 0;
}

/* The token from TOKEN_COLUMNS starting at column c. With v the secret is
 * opened, else with keep_sealed a copy of it is kept sealed. */
static int token_row(sqlite3_stmt *st, int c, const char *account, const struct isms_vault *v,
		     bool keep_sealed, struct isms_mfa_token *t, struct isms_err *err)
{
	const void *sealed = sqlite3_column_blob(st, c + 1);
	size_t sealed_len = (size_t)sqlite3_column_bytes(st, c + 1);

	t->id = sqlite3_column_int64(st, c);
	t->account = strdup(account);
	t->imported_from = isms_db_col_strdup(st, c + 6);
	if (!t->account)
		return isms_err_set(err, -ENOMEM, "out of memory");
	if (isms_totp_alg_parse((const char *)sqlite3_column_text(st, c + 2), &t->p.alg) < 0)
		return isms_err_set(err, -EBADMSG, "token of '%s': unknown algorithm", account);
	t->p.digits = (unsigned)sqlite3_column_int(st, c + 3);
	t->p.period = (unsigned)sqlite3_column_int(st, c + 4);
	t->active = strcmp((const char *)sqlite3_column_text(st, c + 5), "active") == 0;
	t->created_at = sqlite3_column_int64(st, c + 7);
	t->confirmed_at = sqlite3_column_int64(st, c + 8);
	if (v)
		return token_open(v, account, sealed, sealed_len, t, err);
	if (keep_sealed && sealed_len > 0) {
		t->sealed = malloc(sealed_len);
		if (!t->sealed)
			return isms_err_set(err, -ENOMEM, "out of memory");
		memcpy(t->sealed, sealed, sealed_len);
		t->sealed_len = sealed_len;
	}
	return 0;
}

int isms_mfa_token_load(sqlite3 *reg, const struct isms_vault *v, const char *account,
			struct isms_mfa_token *ret, struct isms_err *err)
{
	struct isms_mfa_token t = { 0 };
	sqlite3_stmt *st;
	int r;

	st = isms_db_query(reg, err, "SELECT " TOKEN_COLUMNS " FROM mfa_tokens t"
			   " JOIN accounts a ON a.id = t.account_id WHERE a.name = ?", "s", account);
	if (!st)
		return err ? err->code : -EIO;
	r = isms_db_step(st, err);
	if (r == 0)
		r = isms_err_set(err, -ENOENT, "no MFA token for '%s'", account);
	if (r == 1)
		r = token_row(st, 0, account, v, false, &t, err);
	isms_db_done(st);
	if (r < 0) {
		isms_mfa_token_clear(&t);
		return r;
	}
	*ret = t;
	return 0;
}

int isms_mfa_login_find(sqlite3 *reg, const char *name, struct isms_mfa_account *acct,
			struct isms_mfa_token *tok, struct isms_err *err)
{
	struct isms_mfa_token t = { 0 };
	sqlite3_stmt *st;
	int r;

	st = isms_db_query(reg, err, "SELECT " ACCOUNT_COLUMNS ", " TOKEN_COLUMNS " FROM accounts a"
			   " LEFT JOIN mfa_tokens t ON t.account_id = a.id WHERE a.name = ?", "s", name);
	if (!st)
		return err ? err->code : -EIO;
	r = isms_db_step(st, err);
	if (r == 0)
		r = isms_err_set(err, -ENOENT, "account '%s' is not in the registry", name);
	if (r == 1) {
		account_row(st, acct);
		r = sqlite3_column_type(st, 6) == SQLITE_NULL ? 0 : token_row(st, 6, name, NULL, true, &t, err);
	}
	isms_db_done(st);
	if (r < 0) {
		isms_mfa_token_clear(&t);
		return r;
	}
	*tok = t;
	return 0;
}

int isms_mfa_token_open(const struct isms_vault *v, struct isms_mfa_token *tok, struct isms_err *err)
{
	int r;

	if (!tok->sealed)
		return isms_err_set(err, -EBADMSG, "token of '%s': no sealed secret", tok->account);
	r = token_open(v, tok->account, tok->sealed, tok->sealed_len, tok, err);
	free(tok->sealed);
	tok->sealed = NULL;
	tok->sealed_len = 0;
	return r;
}

int isms_mfa_token_store(sqlite3 *reg, const struct isms_vault *v, const struct isms_mfa_account *acct,
			 const char *account, const unsigned char *secret, size_t secret_len,
			 const struct isms_totp_params *p, bool active, const char *imported_from,
			 int64_t now, int64_t *ret_id, struct isms_err *err)
{
	unsigned char *ct = NULL;
	size_t ctlen = 0;
	int r;

	if (secret_len < 10 || secret_len > ISMS_MFA_SECRET_MAX)
		return isms_err_set(err, -EINVAL, "secret of %zu bytes; 10 to %d allowed", secret_len,
				    ISMS_MFA_SECRET_MAX);
	r = isms_vault_seal(v, account, secret, secret_len, &ct, &ctlen);
	if (r < 0)
		return isms_err_set(err, r, "cannot seal the secret");
	r = isms_db_exec(reg, err, "DELETE FROM mfa_tokens WHERE account_id = ?", "i", acct->id);
	if (r == 0)
		r = isms_db_exec(reg, err,
				 "INSERT INTO mfa_tokens (account_id, secret, algorithm, digits, period, status,"
				 " imported_from, created_at, confirmed_at) VALUES (?,?,?,?,?,?,?,?,NULLIF(?,0))",
				 "ibsiissii", acct->id, ct, ctlen, isms_totp_alg_name(p->alg),
				 (int64_t)p->digits, (int64_t)p->period, active ? "active" : "pending",
				 imported_from, now, active ? now : (int64_t)0);
	free(ct);
	if (r == 0 && ret_id)
		*ret_id = sqlite3_last_insert_rowid(reg);
	return r;
}

struct mfa_row {
	int64_t watermark, failures, first_failure_at, locked_until;
};

static int state_read(sqlite3 *state, const struct isms_mfa_token *t, struct mfa_row *row,
		      struct isms_err *err)
{
	sqlite3_stmt *st;
	int r;

	*row = (struct mfa_row){ -1, 0, 0, 0 };
	st = isms_db_query(state, err,
			   "SELECT watermark, failures, coalesce(first_failure_at, 0), coalesce(locked_until, 0)"
			   " FROM mfa_state WHERE account = ? AND token_id = ?", "si", t->account, t->id);
	if (!st)
		return err ? err->code : -EIO;
	r = isms_db_step(st, err);
	if (r == 1) {
		row->watermark = sqlite3_column_int64(st, 0);
		row->failures = sqlite3_column_int64(st, 1);
		row->first_failure_at = sqlite3_column_int64(st, 2);
		row->locked_until = sqlite3_column_int64(st, 3);
		r = 0;
	}
	isms_db_done(st);
	return r;
}

static int state_write(sqlite3 *state, const struct isms_mfa_token *t, const struct mfa_row *row,
		       int64_t last_used, struct isms_err *err)
{
	return isms_db_exec(state, err,
			    "INSERT INTO mfa_state (account, token_id, watermark, failures, first_failure_at,"
			    " locked_until, last_used_at) VALUES (?,?,?,?,NULLIF(?,0),NULLIF(?,0),NULLIF(?,0))"
			    " ON CONFLICT (account, token_id) DO UPDATE SET watermark = excluded.watermark,"
			    " failures = excluded.failures, first_failure_at = excluded.first_failure_at,"
			    " locked_until = excluded.locked_until,"
			    " last_used_at = coalesce(excluded.last_used_at, last_used_at)",
			    "siiiiii", t->account, t->id, row->watermark, row->failures,
			    row->first_failure_at, row->locked_until, last_used);
}

/* Spend a recovery code when one matches. Every unused code is compared, in
 * constant time, so the position of a match leaks nothing. */
static int recovery_try(sqlite3 *state, const struct isms_vault *v, const struct isms_mfa_token *t,
			const char *code, int64_t now, bool *ret_ok, struct isms_err *err)
{
	unsigned char want[32];
	int64_t hit = 0;
	sqlite3_stmt *st;
	int r;

	*ret_ok = false;
	r = isms_vault_keyed_hash(v, t->account, code, want);
	if (r < 0)
		return isms_err_set(err, r, "cannot hash the recovery code");
	st = isms_db_query(state, err,
			   "SELECT id, code_hash FROM recovery_codes WHERE account = ? AND token_id = ?"
			   " AND used_at IS NULL", "si", t->account, t->id);
	if (!st)
		return err ? err->code : -EIO;
	while ((r = isms_db_step(st, err)) == 1)
		if (sqlite3_column_bytes(st, 1) == 32 &&
		    sodium_memcmp(sqlite3_column_blob(st, 1), want, 32) == 0)
			hit = sqlite3_column_int64(st, 0);
	isms_db_done(st);
	sodium_memzero(want, sizeof(want));
	if (r < 0)
		return r;
	if (!hit)
		return 0;
	r = isms_db_exec(state, err, "UPDATE recovery_codes SET used_at = ? WHERE id = ?", "ii", now, hit);
	if (r == 0)
		*ret_ok = true;
	return r;
}

static void count_failure(const struct isms_conf *conf, struct mfa_row *row, int64_t now,
			  struct isms_mfa_outcome *out)
{
	if (!row->first_failure_at || now - row->first_failure_at >= conf->mfa_failure_window) {
		row->failures = 1;
		row->first_failure_at = now;
	} else {
		row->failures++;
	}
	if (row->failures >= conf->mfa_max_failures) {
		row->locked_until = now + conf->mfa_lockout;
		out->locked_now = true;
		out->locked_until = row->locked_until;
	}
	out->failures = row->failures;
}

int isms_mfa_check(sqlite3 *state, const struct isms_conf *conf, const struct isms_vault *v,
		   const struct isms_mfa_token *t, const char *code, int64_t now,
		   struct isms_mfa_outcome *ret, struct isms_err *err)
{
	struct isms_mfa_outcome out = { .verdict = ISMS_MFA_WRONG, .step = -1 };
	char norm[ISMS_MFA_RECOVERY_SIZE];
	struct mfa_row row;
	int64_t last_used = 0;
	bool own_tx = sqlite3_get_autocommit(state);
	int r;

	if (!t->secret)
		return isms_err_set(err, -EINVAL, "token loaded without its secret");
	if (own_tx) {
		r = isms_db_begin(state, err);
		if (r < 0)
			return r;
	}
	r = state_read(state, t, &row, err);
	if (r < 0)
		goto fail;
	if (row.locked_until && row.locked_until > now) {
		out.verdict = ISMS_MFA_LOCKED;
		out.locked_until = row.locked_until;
		out.failures = row.failures;
		if (own_tx)
			isms_db_rollback(state);
		*ret = out;
		return 0;
	}
	if (row.locked_until) {
		out.lock_expired = true;
		row = (struct mfa_row){ row.watermark, 0, 0, 0 };
	}
	if (isms_totp_code_shaped(code, t->p.digits)) {
		int64_t step;

		r = isms_totp_verify(t->secret, t->secret_len, &t->p, now, (unsigned)conf->mfa_window,
				     code, &step, err);
		if (r == 0) {
			out.step = step;
			out.verdict = step > row.watermark ? ISMS_MFA_ACCEPTED : ISMS_MFA_REPLAYED;
		} else if (r != -EACCES) {
			goto fail;
		}
	} else if (isms_mfa_recovery_normalize(code, norm) == 0) {
		bool ok;

		r = recovery_try(state, v, t, norm, now, &ok, err);
		if (r < 0)
			goto fail;
		if (ok) {
			out.verdict = ISMS_MFA_RECOVERY_ACCEPTED;
			r = isms_mfa_recovery_left(state, t->account, t->id, &out.recovery_left, err);
			if (r < 0)
				goto fail;
		}
	}
	sodium_memzero(norm, sizeof(norm));
	if (out.verdict == ISMS_MFA_ACCEPTED || out.verdict == ISMS_MFA_RECOVERY_ACCEPTED) {
		if (out.verdict == ISMS_MFA_ACCEPTED)
			row.watermark = out.step;
		row.failures = row.first_failure_at = row.locked_until = 0;
		last_used = now;
	} else {
		count_failure(conf, &row, now, &out);
	}
	r = state_write(state, t, &row, last_used, err);
	if (r < 0)
		goto fail;
	if (own_tx) {
		r = isms_db_commit(state, err);
		if (r < 0)
			goto fail;
	}
	*ret = out;
	return 0;
fail:
	sodium_memzero(norm, sizeof(norm));
	if (own_tx)
		isms_db_rollback(state);
	return r;
}

int isms_mfa_state_forget(sqlite3 *state, const char *account, struct isms_err *err)
{
	int r = isms_db_exec(state, err, "DELETE FROM mfa_state WHERE account = ?", "s", account);

	if (r == 0)
		r = isms_db_exec(state, err, "DELETE FROM recovery_codes WHERE account = ?", "s", account);
	return r;
}

int isms_mfa_unlock(sqlite3 *state, const char *account, int64_t token_id, int64_t now,
		    bool *ret_was_locked, struct isms_err *err)
{
	sqlite3_stmt *st;
	int r;

	st = isms_db_query(state, err,
			   "SELECT count(*) FROM mfa_state WHERE account = ? AND token_id = ? AND locked_until > ?",
			   "sii", account, token_id, now);
	if (!st)
		return err ? err->code : -EIO;
	r = isms_db_step(st, err);
	if (r == 1)
		*ret_was_locked = sqlite3_column_int(st, 0) > 0;
	isms_db_done(st);
	if (r < 0)
		return r;
	return isms_db_exec(state, err,
			    "UPDATE mfa_state SET failures = 0, first_failure_at = NULL, locked_until = NULL"
			    " WHERE account = ? AND token_id = ?", "si", account, token_id);
}

/* RFC 3986 unreserved characters pass; everything else is percent-encoded. */
static void uri_put(char *buf, size_t len, size_t *pos, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)s; *p && *pos + 4 < len; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || *p == '.' || *p == '_' || *p == '~') {
			buf[(*pos)++] = (char)*p;
		} else {
			buf[(*pos)++] = '%';
			buf[(*pos)++] = hex[*p >> 4];
			buf[(*pos)++] = hex[*p & 15];
		}
	}
	buf[*pos] = '\0';
}

char *isms_mfa_otpauth_uri(const char *issuer, const char *account, const unsigned char *secret,
			   size_t secret_len, const struct isms_totp_params *p)
{
	static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	char sb32[ISMS_MFA_SECRET_MAX * 8 / 5 + 2], alg[8];
	size_t n = 0, len = 1024, pos = 0;
	unsigned buf = 0, bits = 0;
	char *uri;

	if (secret_len > ISMS_MFA_SECRET_MAX)
		return NULL;
	/* unpadded base32, as authenticator apps expect it */
	for (size_t i = 0; i < secret_len; i++) {
		buf = (buf << 8) | secret[i];
		bits += 8;
		while (bits >= 5) {
			sb32[n++] = b32[(buf >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits)
		sb32[n++] = b32[(buf << (5 - bits)) & 31];
	sb32[n] = '\0';
	uri = malloc(len);
	if (!uri) {
		sodium_memzero(sb32, sizeof(sb32));
		return NULL;
	}
	pos = (size_t)snprintf(uri, len, "otpauth://totp/");
	uri_put(uri, len, &pos, issuer);
	uri[pos++] = ':';
	uri[pos] = '\0';
	uri_put(uri, len, &pos, account);
	for (n = 0; n < sizeof(alg) - 1 && isms_totp_alg_name(p->alg)[n]; n++)
		alg[n] = (char)toupper((unsigned char)isms_totp_alg_name(p->alg)[n]);
	alg[n] = '\0';
	pos += (size_t)snprintf(uri + pos, len - pos, "?secret=%s&issuer=", sb32);
	uri_put(uri, len, &pos, issuer);
	(void)snprintf(uri + pos, len - pos, "&algorithm=%s&digits=%u&period=%u", alg, p->digits,
		       p->period);
	sodium_memzero(sb32, sizeof(sb32));
	return uri;
}
