/* google-authenticator and pam_oath file parsers. Input is untrusted (a user's
 * home file, an old usersfile): bounded lengths, no partial results on error. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "mfa_import.h"
#include "util.h"

#define MAX_LINE 4096
#define MAX_ENTRIES 1000000

void isms_import_free(struct isms_import *im)
{
	if (!im)
		return;
	for (size_t i = 0; i < im->n; i++) {
		sodium_memzero(im->v[i].secret, sizeof(im->v[i].secret));
		free(im->v[i].user);
	}
	free(im->v);
	memset(im, 0, sizeof(*im));
}

/* Lines of a buffer, NUL-terminated copies; the caller's cursor advances. */
struct lines {
	const char *buf;
	size_t len, pos;
	unsigned no;
	char line[MAX_LINE + 1];
};

/* 1 line read, 0 end, negative on a line too long or a NUL byte. */
static int next_line(struct lines *l, const char *fname, struct isms_err *err)
{
	size_t n = 0;

	if (l->pos >= l->len)
		return 0;
	l->no++;
	while (l->pos < l->len && l->buf[l->pos] != '\n') {
		char c = l->buf[l->pos++];

		if (c == '\0')
			return isms_err_set(err, -EINVAL, "%s:%u: NUL byte in a text file", fname, l->no);
		if (n == MAX_LINE)
			return isms_err_set(err, -EINVAL, "%s:%u: line longer than %d bytes", fname, l->no,
					    MAX_LINE);
		l->line[n++] = c;
	}
	l->pos++;   /* the newline */
	if (n && l->line[n - 1] == '\r')
		n--;
	l->line[n] = '\0';
	return 1;
}

static int add_entry(struct isms_import *im, struct isms_import_entry **ret)
{
	struct isms_import_entry *v;

	if (im->n >= MAX_ENTRIES)
		return -E2BIG;
	v = realloc(im->v, (im->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	im->v = v;
	*ret = memset(&v[im->n++], 0, sizeof(*v));
	(*ret)->last_step = -1;
	return 0;
}

/* Base32 (RFC 4648), case-insensitive, spaces and padding ignored. */
static int base32_decode(const char *s, unsigned char *out, size_t cap, size_t *ret_len)
{
	unsigned buf = 0, bits = 0;
	size_t n = 0;

	for (; *s; s++) {
		int c = toupper((unsigned char)*s), v;

		if (c == ' ' || c == '=')
			continue;
		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= '2' && c <= '7')
			v = c - '2' + 26;
		else
			return -EINVAL;
		buf = (buf << 5) | (unsigned)v;
		bits += 5;
		if (bits >= 8) {
			if (n == cap)
				return -E2BIG;
			out[n++] = (unsigned char)(buf >> (bits - 8));
			bits -= 8;
		}
		buf &= 0xff;
	}
	*ret_len = n;
	return 0;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static int fail(struct isms_import *im, struct isms_err *err, int code, const char *fname,
		unsigned line, const char *what, const char *arg)
{
	isms_import_free(im);
	return isms_err_set(err, code, "%s:%u: %s%s%s", fname, line, what, arg ? ": " : "",
			    arg ? arg : "");
}

int isms_import_ga_parse(const char *buf, size_t len, const char *fname, struct isms_import *ret,
			 struct isms_err *err)
{
	struct isms_import im = { 0 };
	struct isms_import_entry *e = NULL;
	struct lines *l = calloc(1, sizeof(*l));
	int r;

	if (!l)
		return isms_err_set(err, -ENOMEM, "out of memory");
	l->buf = buf;
	l->len = len;
	while ((r = next_line(l, fname, err)) == 1) {
		char *s = l->line;
		long long v;

		if (!e) {
			r = add_entry(&im, &e);
			if (r < 0)
				break;
			e->line = l->no;
			e->p = (struct isms_totp_params){ ISMS_TOTP_SHA1, 6, 30 };
			if (base32_decode(s, e->secret, sizeof(e->secret), &e->secret_len) < 0 ||
			    e->secret_len < 10) {
				r = fail(&im, err, -EINVAL, fname, l->no,
					 "first line must be the base32 secret (at least 16 characters)", NULL);
				goto out;
			}
			continue;
		}
		if (s[0] == '"') {
			char opt[64] = "", arg[64] = "";
			int n = sscanf(s + 1, " %63s %63s", opt, arg);

			if (n >= 1 && strcmp(opt, "TOTP_AUTH") == 0 && n == 1)
				continue;
			if (n == 2 && (strcmp(opt, "RATE_LIMIT") == 0 || strcmp(opt, "WINDOW_SIZE") == 0))
				continue;   /* our own [mfa] policy applies instead */
			if (n == 2 && strcmp(opt, "STEP_SIZE") == 0) {
				if (isms_parse_int(arg, 10, 120, &v) < 0) {
					r = fail(&im, err, -EINVAL, fname, l->no, "STEP_SIZE out of range 10..120", arg);
					goto out;
				}
				e->p.period = (unsigned)v;
				continue;
			}
			if (n == 2 && strcmp(opt, "DISALLOW_REUSE") == 0) {
				/* steps already used there: carry the highest over as the watermark */
				for (char *save = NULL, *tok = strtok_r(s + 1 + strspn(s + 1, " ") + 14, " ", &save);
				     tok; tok = strtok_r(NULL, " ", &save)) {
					if (isms_parse_int(tok, 0, (long long)1e12, &v) < 0) {
						r = fail(&im, err, -EINVAL, fname, l->no, "bad DISALLOW_REUSE step", tok);
						goto out;
					}
					if (v > e->last_step)
						e->last_step = v;
				}
				continue;
			}
			if (n >= 1 && strcmp(opt, "HOTP_COUNTER") == 0) {
				r = fail(&im, err, -ENOTSUP, fname, l->no,
					 "counter-based HOTP tokens are not supported (TOTP only)", NULL);
				goto out;
			}
			r = fail(&im, err, -ENOTSUP, fname, l->no, "unsupported option", s);
			goto out;
		}
		if (all_digits(s) && strlen(s) == 8) {
			im.skipped_scratch++;
			continue;
		}
		if (!*s)
			continue;
		r = fail(&im, err, -EINVAL, fname, l->no, "unexpected line (neither option nor scratch code)",
			 NULL);
		goto out;
	}
	if (r < 0) {
		isms_import_free(&im);
		if (r == -ENOMEM || r == -E2BIG)
			r = isms_err_set(err, r, "%s: too large or out of memory", fname);
		goto out;
	}
	if (!e) {
		r = isms_err_set(err, -EINVAL, "%s:1: empty file: no secret", fname);
		goto out;
	}
	/* DISALLOW_REUSE holds steps of STEP_SIZE seconds: already in our unit */
	*ret = im;
	r = 0;
out:
	sodium_memzero(l, sizeof(*l));
	free(l);
	return r;
}

/* "HOTP/T30", "HOTP/T60/8", "HOTP/T30/6/SHA256": TOTP with period, digits, HMAC. */
static int oath_type(const char *s, struct isms_totp_params *p)
{
	char *dup = strdup(s), *save = NULL, *tok;
	int i = 0, r = 0;
	long long v;

	if (!dup)
		return -ENOMEM;
	*p = (struct isms_totp_params){ ISMS_TOTP_SHA1, 6, 0 };
	for (tok = strtok_r(dup, "/", &save); tok && r == 0; tok = strtok_r(NULL, "/", &save), i++) {
		if (i == 0)
			r = strcmp(tok, "HOTP") == 0 ? 0 : -EINVAL;
		else if (i == 1 && tok[0] == 'T')
			r = isms_parse_int(tok + 1, 10, 120, &v) == 0 ? (p->period = (unsigned)v, 0) : -EINVAL;
		else if (i == 1)
			r = -ENOTSUP;   /* HOTP/E: event (counter) based */
		else if (i == 2)
			r = (strcmp(tok, "6") == 0 || strcmp(tok, "8") == 0) ? (p->digits = (unsigned)(tok[0] - '0'), 0)
									 : -EINVAL;
		else if (i == 3)
			r = isms_totp_alg_parse(tok, &p->alg);
		else
			r = -EINVAL;
	}
	free(dup);
	if (r == 0 && p->period == 0)
		r = -ENOTSUP;   /* plain "HOTP" is counter based too */
	return r;
}

int isms_import_oath_parse(const char *buf, size_t len, const char *fname, struct isms_import *ret,
			   struct isms_err *err)
{
	struct isms_import im = { 0 };
	struct lines *l = calloc(1, sizeof(*l));
	int r;

	if (!l)
		return isms_err_set(err, -ENOMEM, "out of memory");
	l->buf = buf;
	l->len = len;
	while ((r = next_line(l, fname, err)) == 1) {
		char *f[8] = { 0 }, *save = NULL, *tok;
		struct isms_import_entry *e;
		int nf = 0;

		for (tok = strtok_r(l->line, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
			if (nf == 7) {
				r = fail(&im, err, -EINVAL, fname, l->no, "more than 7 fields", NULL);
				goto out;
			}
			f[nf++] = tok;
		}
		if (nf == 0 || f[0][0] == '#')
			continue;
		if (nf < 4) {
			r = fail(&im, err, -EINVAL, fname, l->no, "expected TYPE USER PIN HEXSECRET", NULL);
			goto out;
		}
		r = add_entry(&im, &e);
		if (r < 0)
			break;
		e->line = l->no;
		r = oath_type(f[0], &e->p);
		if (r < 0) {
			r = fail(&im, err, r == -ENOMEM ? r : -ENOTSUP, fname, l->no, r == -ENOTSUP ?
				 "counter-based HOTP tokens are not supported (TOTP only: HOTP/T30...)" :
				 "unsupported token type", f[0]);
			goto out;
		}
		if (strcmp(f[2], "-") != 0 && strcmp(f[2], "+") != 0) {
			r = fail(&im, err, -ENOTSUP, fname, l->no,
				 "a PIN is not supported (stack a password module instead); PIN must be '-'", NULL);
			goto out;
		}
		if (strlen(f[3]) % 2 || strlen(f[3]) < 20 || strlen(f[3]) > 2 * ISMS_MFA_SECRET_MAX ||
		    sodium_hex2bin(e->secret, sizeof(e->secret), f[3], strlen(f[3]), NULL, &e->secret_len,
				   NULL) != 0 || e->secret_len * 2 != strlen(f[3])) {
			r = fail(&im, err, -EINVAL, fname, l->no, "secret must be 20 to 128 hex digits", NULL);
			goto out;
		}
		for (size_t i = 0; i + 1 < im.n; i++) {
			if (strcmp(im.v[i].user, f[1]) == 0) {
				r = fail(&im, err, -EEXIST, fname, l->no, "user listed twice", f[1]);
				goto out;
			}
		}
		e->user = strdup(f[1]);
		if (!e->user) {
			r = -ENOMEM;
			break;
		}
		if (nf == 7) {
			/* TIMESTAMP of the last accepted code, "2006-12-07T00:00:00L" (local time) */
			struct tm tm = { 0 };
			const char *end = strptime(f[6], "%Y-%m-%dT%H:%M:%S", &tm);
			time_t t;

			if (!end || (*end && strcmp(end, "L") != 0)) {
				r = fail(&im, err, -EINVAL, fname, l->no, "bad timestamp", f[6]);
				goto out;
			}
			tm.tm_isdst = -1;
			t = mktime(&tm);
			if (t > 0)
				e->last_step = (int64_t)t / e->p.period;
		}
	}
	if (r < 0) {
		isms_import_free(&im);
		if (r == -ENOMEM || r == -E2BIG)
			r = isms_err_set(err, r, "%s: too large or out of memory", fname);
		goto out;
	}
	*ret = im;
	r = 0;
out:
	sodium_memzero(l, sizeof(*l));
	free(l);
	return r;
}
