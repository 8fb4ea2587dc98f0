/* Parsers for the files of the modules users migrate from: a google-authenticator
 * ~/.google_authenticator file and a pam_oath usersfile. Every entry is checked
 * before anything is imported; the first unsupported line is reported as file:line. */
#ifndef ISMS_MFA_IMPORT_H
#define ISMS_MFA_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "mfa.h"

struct isms_import_entry {
	char *user;            /* pam_oath: the user; google-authenticator: NULL */
	unsigned char secret[ISMS_MFA_SECRET_MAX];
	size_t secret_len;
	struct isms_totp_params p;
	int64_t last_step;     /* highest time step already used there (replay watermark), -1 none */
	unsigned line;         /* where the entry starts */
};

struct isms_import {
	struct isms_import_entry *v;
	size_t n;
	unsigned skipped_scratch; /* google-authenticator scratch codes not carried over */
};

/* Parse a google-authenticator file: base32 secret, then `" OPTION` lines and
 * scratch codes. TOTP only (an HOTP_COUNTER line is unsupported). */
int isms_import_ga_parse(const char *buf, size_t len, const char *fname, struct isms_import *ret,
			 struct isms_err *err);

/* Parse a pam_oath usersfile: TYPE USER PIN HEXSECRET [COUNTER [LASTOTP [TIMESTAMP]]].
 * TOTP types (HOTP/T30, HOTP/T60/8, ...) without a PIN; counter-based HOTP is unsupported. */
int isms_import_oath_parse(const char *buf, size_t len, const char *fname, struct isms_import *ret,
			   struct isms_err *err);

/* Wipe every secret and free. NULL-safe, half-built safe. */
void isms_import_free(struct isms_import *im);

#endif
