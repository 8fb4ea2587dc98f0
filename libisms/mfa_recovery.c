/* Recovery codes: made at enrollment, shown once, stored only as keyed hashes
 * (the vault's BLAKE2b key, bound to the account), each accepted once. */
#include <ctype.h>
#include <string.h>

#include <sodium.h>

#include "db.h"
#include "mfa.h"

/* No 0/o, 1/l/i: a code read aloud or copied from paper is typed back right. */
static const char alphabet[] = "23456789abcdefghjkmnpqrstuvwxyz";
#define ALPHABET_LEN (sizeof(alphabet) - 1)

void isms_mfa_recovery_generate(char (*codes)[ISMS_MFA_RECOVERY_SIZE], size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (int j = 0; j < 11; j++) {
			if (j == 5) {
				codes[i][j] = '-';
				continue;
			}
			codes[i][j] = alphabet[randombytes_uniform((uint32_t)ALPHABET_LEN)];
		}
		codes[i][11] = '\0';
	}
}

int isms_mfa_recovery_normalize(const char *in, char out[ISMS_MFA_RECOVERY_SIZE])
{
	int n = 0;

	for (const char *p = in; p && *p; p++) {
		int c = tolower((unsigned char)*p);

		if (c == '-' || c == ' ')
			continue;
		if (n == 10 || !strchr(alphabet, c) || c == '\0')
			return -EINVAL;
		out[n < 5 ? n : n + 1] = (char)c;
		n++;
	}
	if (n != 10)
		return -EINVAL;
	out[5] = '-';
	out[11] = '\0';
	return 0;
}

int isms_mfa_recovery_store(sqlite3 *state, const struct isms_vault *v, const char *account,
			    int64_t token_id, char (*codes)[ISMS_MFA_RECOVERY_SIZE], size_t n,
			    int64_t now, struct isms_err *err)
{
	unsigned char h[32];
	int r;

	r = isms_db_exec(state, err, "DELETE FROM recovery_codes WHERE account = ?", "s", account);
	for (size_t i = 0; i < n && r == 0; i++) {
		r = isms_vault_keyed_hash(v, account, codes[i], h);
		if (r < 0) {
			r = isms_err_set(err, r, "cannot hash a recovery code");
			break;
		}
		r = isms_db_exec(state, err,
				 "INSERT INTO recovery_codes (account, token_id, code_hash, created_at)"
				 " VALUES (?,?,?,?)", "sibi", account, token_id, h, sizeof(h), now);
	}
	sodium_memzero(h, sizeof(h));
	return r;
}

int isms_mfa_recovery_left(sqlite3 *state, const char *account, int64_t token_id,
			   int64_t *ret, struct isms_err *err)
{
	sqlite3_stmt *st;
	int r;

	st = isms_db_query(state, err,
			   "SELECT count(*) FROM recovery_codes WHERE account = ? AND token_id = ?"
			   " AND used_at IS NULL", "si", account, token_id);
	if (!st)
		return err ? err->code : -EIO;
	r = isms_db_step(st, err);
	if (r == 1) {
		*ret = sqlite3_column_int64(st, 0);
		r = 0;
	}
	isms_db_done(st);
	return r;
}
