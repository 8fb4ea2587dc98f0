/* OATH TOTP verification (RFC 6238) through liboath: per-token algorithm,
 * digits and period, a bounded window, and the matched time step returned so
 * the caller can enforce a replay watermark. Pure: "now" is a parameter. */
#ifndef ISMS_TOTP_H
#define ISMS_TOTP_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum isms_totp_alg { ISMS_TOTP_SHA1, ISMS_TOTP_SHA256, ISMS_TOTP_SHA512 };

#define ISMS_TOTP_MAX_WINDOW 10

struct isms_totp_params {
	enum isms_totp_alg alg;
	unsigned digits;  /* 6 or 8 */
	unsigned period;  /* seconds per step */
};

/* "sha1" / "sha256" / "sha512" (case-insensitive). */
int isms_totp_alg_parse(const char *s, enum isms_totp_alg *ret);
const char *isms_totp_alg_name(enum isms_totp_alg alg);

/* Is `code` shaped like a code of this token: exactly `digits` ASCII digits? */
int isms_totp_code_shaped(const char *code, unsigned digits);

/* Verify `code` against the secret at time `now`, accepting `window` steps either
 * side. Codes are compared in constant time. On a match returns 0 and the
 * time step it matched (now/period +- k); -EACCES when no step matches,
 * -EINVAL for a malformed code or parameters. */
int isms_totp_verify(const unsigned char *secret, size_t secret_len,
		     const struct isms_totp_params *p, int64_t now, unsigned window,
		     const char *code, int64_t *ret_step, struct isms_err *err);

/* The code for time `now` (out holds digits + 1 bytes); for enrollment checks and tests. */
int isms_totp_generate(const unsigned char *secret, size_t secret_len,
		       const struct isms_totp_params *p, int64_t now, char *out, size_t outlen);

#endif
