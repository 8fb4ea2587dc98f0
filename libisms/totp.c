/* TOTP through liboath. liboath walks the window; the comparison it calls back
 * is ours, so every candidate code is compared in constant time. */
#include <string.h>
#include <strings.h>

#include <liboath/oath.h>
#include <sodium.h>

#include "totp.h"

static const char *const alg_names[] = { "sha1", "sha256", "sha512" };

int isms_totp_alg_parse(const char *s, enum isms_totp_alg *ret)
{
	for (int i = 0; i < 3; i++) {
		if (s && strcasecmp(s, alg_names[i]) == 0) {
			*ret = (enum isms_totp_alg)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *isms_totp_alg_name(enum isms_totp_alg alg)
{
	return (unsigned)alg < 3 ? alg_names[alg] : "unknown";
}

int isms_totp_code_shaped(const char *code, unsigned digits)
{
	size_t n = 0;

	if (!code)
		return 0;
	for (; code[n]; n++)
		if (code[n] < '0' || code[n] > '9')
			return 0;
	return n == digits;
}

static int alg_flags(enum isms_totp_alg alg)
{
	switch (alg) {
	case ISMS_TOTP_SHA256: return OATH_TOTP_HMAC_SHA256;
	case ISMS_TOTP_SHA512: return OATH_TOTP_HMAC_SHA512;
	default: return 0;
	}
}

static int params_ok(const struct isms_totp_params *p)
{
	return p && (p->digits == 6 || p->digits == 8) && p->period >= 1 && p->period <= 300 &&
	       (unsigned)p->alg < 3;
}

struct cmp_ctx {
	const char *code;
	size_t len;
};

/* liboath's strcmp callback: 0 on a match, like strcmp. */
static int cmp_constant_time(void *handle, const char *test_otp)
{
	const struct cmp_ctx *c = handle;

	if (strlen(test_otp) != c->len)
		return 1;
	return sodium_memcmp(test_otp, c->code, c->len) == 0 ? 0 : 1;
}

int isms_totp_verify(const unsigned char *secret, size_t secret_len,
		     const struct isms_totp_params *p, int64_t now, unsigned window,
		     const char *code, int64_t *ret_step, struct isms_err *err)
{
	struct cmp_ctx c = { code, 0 };
	uint64_t counter = 0;
	int pos = 0, rc;

	if (!params_ok(p) || !secret || secret_len == 0 || window > ISMS_TOTP_MAX_WINDOW || now < 0)
		return isms_err_set(err, -EINVAL, "invalid TOTP parameters");
	if (!isms_totp_code_shaped(code, p->digits))
		return isms_err_set(err, -EINVAL, "code is not %u digits", p->digits);
	if (sodium_init() < 0 || oath_init() != OATH_OK)
		return isms_err_set(err, -EIO, "crypto library failed to initialise");
	c.len = p->digits;
	rc = oath_totp_validate4_callback((const char *)secret, secret_len, (time_t)now, p->period, 0,
					  p->digits, window, &pos, &counter, alg_flags(p->alg),
					  cmp_constant_time, &c);
	(void)oath_done();
	if (rc == OATH_INVALID_OTP)
		return isms_err_set(err, -EACCES, "code does not match");
	if (rc < 0)
		return isms_err_set(err, -EIO, "liboath: %s", oath_strerror(rc));
	*ret_step = (int64_t)counter;
	return 0;
}

int isms_totp_generate(const unsigned char *secret, size_t secret_len,
		       const struct isms_totp_params *p, int64_t now, char *out, size_t outlen)
{
	int rc;

	if (!params_ok(p) || outlen < p->digits + 1 || now < 0)
		return -EINVAL;
	if (oath_init() != OATH_OK)
		return -EIO;
	rc = oath_totp_generate2((const char *)secret, secret_len, (time_t)now, p->period, 0,
				 p->digits, alg_flags(p->alg), out);
	(void)oath_done();
	return rc == OATH_OK ? 0 : -EIO;
}
