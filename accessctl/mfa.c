/* accessctl mfa: enroll, confirm, status, reset, unlock and recovery codes for
 * OATH TOTP tokens (import lives in mfa_import.c, QR drawing in mfa_qr.c). */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <sodium.h>

#include "audit.h"
#include "clock.h"
#include "db.h"
#include "mfa.h"
#include "mfa_cmd.h"
#include "util.h"

const struct command cmd_mfa_def = {
	"mfa", cmd_mfa, "enroll, inspect, reset and import TOTP second factors",
	"usage: accessctl mfa enroll USER [--algorithm sha1|sha256|sha512] [--digits 6|8] [--qr-pgm FILE]\n"
	"       accessctl mfa confirm USER CODE\n"
	"       accessctl [--json] mfa status [USER]\n"
	"       accessctl mfa reset USER\n"
	"       accessctl mfa unlock USER\n"
	"       accessctl mfa recovery-codes USER --regenerate\n"
	"       accessctl mfa import --google-authenticator FILE --user USER\n"
	"       accessctl mfa import --pam-oath USERSFILE\n\n"
	"  enroll          make a new secret (20 bytes for SHA-1, 32 and 64 for SHA-256/512),\n"
	"                  print the otpauth:// URI, a QR code for the phone and the recovery\n"
	"                  codes (shown once, stored only hashed). The token logs in only once a\n"
	"                  code from the app is confirmed: at the prompt when run on a terminal,\n"
	"                  or with 'mfa confirm'. --qr-pgm also writes the QR code as an image.\n"
	"                  Defaults from [mfa] algorithm and digits.\n"
	"  confirm         activate a pending token with one code from the app (the code is\n"
	"                  spent: it cannot be used to log in)\n"
	"  status          enrolled since, algorithm, last use, failures, lock and recovery\n"
	"                  codes left, for USER or every account\n"
	"  reset           remove the token and its state; the user must enroll again\n"
	"  unlock          release a token locked after [mfa] max_failures wrong codes\n"
	"  recovery-codes  --regenerate: replace the recovery codes by [mfa] recovery_codes new ones\n"
	"  import          take over tokens from google-authenticator (a ~/.google_authenticator\n"
	"                  file) or pam_oath (a usersfile), so phones keep working. TOTP only.\n"
	"                  Every line is checked first; the first unsupported one is reported\n"
	"                  as FILE:LINE and nothing is imported. Accounts must be in the registry.\n\n"
	"Exit status: 0 done, 1 refused (unknown account, wrong code, already enrolled), 2 usage.\n",
};

int mfa_vault(struct cli *cli, struct isms_vault *v)
{
	struct isms_err err = { 0 };

	if (isms_vault_load(cli->conf->host_key, v, &err) < 0)
		return cli_fail(cli, EXIT_USAGE, "mfa: %s", err.msg);
	return EXIT_OK;
}

/* Audit with a syslog priority (lock and unlock are warnings). */
static void audit_prio(struct cli *cli, const char *event, const char *subject, const char *result,
		       const char *reason, const char *details, int prio)
{
	struct isms_event ev = { event, cli->actor, subject, result, reason, details, prio };
	struct isms_err err = { 0 };

	if (isms_audit_append(cli->ctx.state, cli->conf->system_name, &ev, &err) < 0)
		fprintf(stderr, "%s: warning: audit event not stored: %s\n", cli->prog, err.msg);
}

/* The account, refused when unknown or a service account. */
static int find_account(struct cli *cli, const char *user, struct isms_mfa_account *acct)
{
	struct isms_err err = { 0 };
	int r = isms_mfa_account_find(cli->ctx.reg, user, acct, &err);

	if (r == -ENOENT)
		return cli_fail(cli, EXIT_FINDINGS, "mfa: %s", err.msg);
	if (r < 0)
		return cli_fail(cli, EXIT_USAGE, "mfa: %s", err.msg);
	if (strcmp(acct->kind, "service") == 0)
		return cli_fail(cli, EXIT_FINDINGS,
				"mfa: '%s' is a service account; service accounts are never prompted", user);
	return EXIT_OK;
}

static int load_token(struct cli *cli, const char *user, const struct isms_vault *v,
		      struct isms_mfa_token *tok)
{
	struct isms_err err = { 0 };
	int r = isms_mfa_token_load(cli->ctx.reg, v, user, tok, &err);

	if (r == -ENOENT)
		return cli_fail(cli, EXIT_FINDINGS, "mfa: '%s' is not enrolled", user);
	if (r < 0)
		return cli_fail(cli, EXIT_USAGE, "mfa: %s", err.msg);
	return EXIT_OK;
}

static int new_recovery_codes(struct cli *cli, const struct isms_vault *v, const char *user,
			      int64_t token_id, json_t *out)
{
	size_t n = (size_t)cli->conf->mfa_recovery_codes;
	char (*codes)[ISMS_MFA_RECOVERY_SIZE] = sodium_allocarray(n, ISMS_MFA_RECOVERY_SIZE);
	struct isms_err err = { 0 };
	int r;

	if (!codes)
		return cli_fail(cli, EXIT_USAGE, "out of memory");
	isms_mfa_recovery_generate(codes, n);
	r = isms_db_begin(cli->ctx.state, &err);
	if (r == 0)
		r = isms_mfa_recovery_store(cli->ctx.state, v, user, token_id, codes, n, isms_now(), &err);
	if (r == 0)
		r = isms_db_commit(cli->ctx.state, &err);
	if (r < 0) {
		isms_db_rollback(cli->ctx.state);
		sodium_free(codes);
		return cli_fail(cli, EXIT_USAGE, "mfa: recovery codes not stored: %s", err.msg);
	}
	if (!cli->json)
		printf("Recovery codes (each works once; shown only now, keep them offline):\n");
	for (size_t i = 0; i < n; i++) {
		if (cli->json)
			json_array_append_new(out, json_string(codes[i]));
		else
			printf("  %s%s", codes[i], i % 2 ? "\n" : "   ");
	}
	if (!cli->json && n % 2)
		putchar('\n');
	sodium_free(codes);
	return EXIT_OK;
}

static int confirm(struct cli *cli, const char *user, const char *code, bool quiet)
{
	struct isms_mfa_token tok = { 0 };
	struct isms_mfa_outcome out;
	struct isms_vault v;
	struct isms_err err = { 0 };
	int rv, r;

	rv = mfa_vault(cli, &v);
	if (rv != EXIT_OK)
		return rv;
	rv = load_token(cli, user, &v, &tok);
	if (rv != EXIT_OK)
		goto out;
	if (tok.active) {
		rv = cli_fail(cli, EXIT_FINDINGS, "mfa confirm: the token of '%s' is already active", user);
		goto out;
	}
	if (!isms_totp_code_shaped(code, tok.p.digits)) {
		rv = cli_fail(cli, EXIT_USAGE, "mfa confirm: the code must be %u digits", tok.p.digits);
		goto out;
	}
	/* the same check-and-set as a login: the confirming code is spent, failures count */
	r = isms_mfa_check(cli->ctx.state, cli->conf, &v, &tok, code, isms_now(), &out, &err);
	if (r < 0) {
		rv = cli_fail(cli, EXIT_USAGE, "mfa confirm: %s", err.msg);
		goto out;
	}
	if (out.verdict != ISMS_MFA_ACCEPTED) {
		cli_audit(cli, "mfa_confirm", user, "fail",
			  out.verdict == ISMS_MFA_LOCKED ? "locked" : "wrong_code", NULL);
		rv = cli_fail(cli, EXIT_FINDINGS, "mfa confirm: %s",
			      out.verdict == ISMS_MFA_LOCKED ? "token locked after too many wrong codes"
							     : "wrong code; the token stays pending");
		goto out;
	}
	r = isms_db_exec(cli->ctx.reg, &err,
			 "UPDATE mfa_tokens SET status = 'active', confirmed_at = ? WHERE id = ?", "ii",
			 isms_now(), tok.id);
	if (r < 0) {
		rv = cli_fail(cli, EXIT_USAGE, "mfa confirm: %s", err.msg);
		goto out;
	}
	cli_audit(cli, "mfa_confirm", user, "ok", NULL, NULL);
	if (!quiet)
		printf("MFA token of %s confirmed and active.\n", user);
	rv = EXIT_OK;
out:
	isms_mfa_token_clear(&tok);
	isms_vault_wipe(&v);
	return rv;
}

static void prompt_confirm(struct cli *cli, const char *user)
{
	char line[64];

	printf("Enter a code from the app to activate the token (empty: confirm later): ");
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return;
	line[strcspn(line, "\r\n")] = '\0';
	if (line[0])
		(void)confirm(cli, user, line, false);
	sodium_memzero(line, sizeof(line));
}

static int enroll(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "algorithm", required_argument, NULL, 'a' },
		{ "digits", required_argument, NULL, 'd' },
		{ "qr-pgm", required_argument, NULL, 'q' },
		{ 0 },
	};
	struct isms_totp_params p = { ISMS_TOTP_SHA1, 6, 30 };
	struct isms_mfa_token old = { 0 };
	struct isms_mfa_account acct;
	struct isms_err err = { 0 };
	const char *user, *pgm = NULL;
	unsigned char secret[ISMS_MFA_SECRET_MAX];
	size_t slen;
	struct isms_vault v;
	json_t *codes = NULL;
	char *uri = NULL, details[96];
	int64_t token_id;
	long long d;
	int c, rv, r;

	if (isms_totp_alg_parse(cli->conf->mfa_algorithm, &p.alg) < 0)
		p.alg = ISMS_TOTP_SHA1;
	p.digits = (unsigned)cli->conf->mfa_digits;
	p.period = (unsigned)cli->conf->mfa_period;
	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (isms_totp_alg_parse(optarg, &p.alg) < 0)
				return cli_usage(cli, &cmd_mfa_def, "--algorithm: sha1, sha256 or sha512");
			break;
		case 'd':
			if (isms_parse_int(optarg, 6, 8, &d) < 0 || d == 7)
				return cli_usage(cli, &cmd_mfa_def, "--digits: 6 or 8");
			p.digits = (unsigned)d;
			break;
		case 'q':
			pgm = optarg;
			break;
		default:
			return cli_usage(cli, &cmd_mfa_def, "unknown option");
		}
	}
	if (optind + 1 != argc)
		return cli_usage(cli, &cmd_mfa_def, "enroll needs exactly one USER");
	user = argv[optind];
	rv = find_account(cli, user, &acct);
	if (rv != EXIT_OK)
		return rv;
	if (strcmp(acct.status, "revoked") == 0 || strcmp(acct.status, "departed") == 0)
		return cli_fail(cli, EXIT_FINDINGS, "mfa enroll: '%s' is %s; a token would outlive its access",
				user, acct.status);
	r = isms_mfa_token_load(cli->ctx.reg, NULL, user, &old, &err);
	if (r == 0 && old.active) {
		isms_mfa_token_clear(&old);
		return cli_fail(cli, EXIT_FINDINGS, "mfa enroll: '%s' already has an active token;"
				" 'accessctl mfa reset %s' first", user, user);
	}
	isms_mfa_token_clear(&old);
	if (r < 0 && r != -ENOENT)
		return cli_fail(cli, EXIT_USAGE, "mfa enroll: %s", err.msg);
	rv = mfa_vault(cli, &v);
	if (rv != EXIT_OK)
		return rv;
	slen = p.alg == ISMS_TOTP_SHA512 ? 64 : p.alg == ISMS_TOTP_SHA256 ? 32 : ISMS_MFA_SECRET_BYTES;
	randombytes_buf(secret, slen);
	r = isms_mfa_token_store(cli->ctx.reg, &v, &acct, user, secret, slen, &p, false, NULL, isms_now(),
				 &token_id, &err);
	if (r == 0)
		r = isms_mfa_state_forget(cli->ctx.state, user, &err);
	if (r < 0) {
		rv = cli_fail(cli, EXIT_USAGE, "mfa enroll: %s", err.msg);
		goto out;
	}
	uri = isms_mfa_otpauth_uri(cli->conf->mfa_issuer, user, secret, slen, &p);
	if (!uri) {
		rv = cli_fail(cli, EXIT_USAGE, "out of memory");
		goto out;
	}
	(void)snprintf(details, sizeof(details), "algorithm=%s digits=%u period=%u status=pending",
		       isms_totp_alg_name(p.alg), p.digits, p.period);
	cli_audit(cli, "mfa_enroll", user, "ok", NULL, details);
	if (pgm && mfa_qr_write_pgm(pgm, uri, 4) < 0) {
		rv = cli_fail(cli, EXIT_USAGE, "mfa enroll: cannot write %s", pgm);
		goto out;
	}
	if (!cli->json) {
		printf("MFA enrollment for %s (%s, %u digits, %u s)\n\n", user, isms_totp_alg_name(p.alg),
		       p.digits, p.period);
		printf("Scan this QR code with an authenticator app:\n\n");
		(void)mfa_qr_print(stdout, uri);
		printf("\nor enter this URI:\n  %s\n\n", uri);
	}
	codes = json_array();
	rv = new_recovery_codes(cli, &v, user, token_id, codes);
	if (rv != EXIT_OK)
		goto out;
	if (cli->json) {
		cli_json_print(json_pack("{s:s,s:s,s:s,s:O}", "user", user, "uri", uri, "status", "pending",
					 "recovery_codes", codes));
	} else {
		printf("\nThe token is pending until one code is confirmed"
		       " ('accessctl mfa confirm %s CODE').\n", user);
		if (isatty(STDIN_FILENO))
			prompt_confirm(cli, user);
	}
out:
	json_decref(codes);
	if (uri)
		isms_secret_free(uri, strlen(uri));
	sodium_memzero(secret, sizeof(secret));
	isms_vault_wipe(&v);
	return rv;
}

static json_t *status_one(struct cli *cli, sqlite3_stmt *st)
{
	const char *name = (const char *)sqlite3_column_text(st, 0);
	int64_t token_id = sqlite3_column_int64(st, 2), left = 0;
	json_t *o = json_pack("{s:s,s:s}", "user", name, "kind", sqlite3_column_text(st, 1));
	struct isms_err err = { 0 };
	sqlite3_stmt *s;

	if (sqlite3_column_type(st, 2) == SQLITE_NULL) {
		json_object_set_new(o, "status", json_string("not enrolled"));
		return o;
	}
	json_object_set_new(o, "status", json_string((const char *)sqlite3_column_text(st, 3)));
	json_object_set_new(o, "algorithm", json_string((const char *)sqlite3_column_text(st, 4)));
	json_object_set_new(o, "digits", json_integer(sqlite3_column_int(st, 5)));
	json_object_set_new(o, "period", json_integer(sqlite3_column_int(st, 6)));
	json_object_set_new(o, "imported_from", sqlite3_column_type(st, 7) == SQLITE_NULL ? json_null() :
			    json_string((const char *)sqlite3_column_text(st, 7)));
	json_object_set_new(o, "enrolled_since", sqlite3_column_type(st, 8) == SQLITE_NULL ? json_null() :
			    json_integer(sqlite3_column_int64(st, 8)));
	json_object_set_new(o, "last_used", json_null());
	json_object_set_new(o, "failures", json_integer(0));
	json_object_set_new(o, "locked_until", json_null());
	s = isms_db_query(cli->ctx.state, &err, "SELECT last_used_at, failures, locked_until FROM mfa_state"
			  " WHERE account = ? AND token_id = ?", "si", name, token_id);
	if (s && isms_db_step(s, &err) == 1) {
		if (sqlite3_column_type(s, 0) != SQLITE_NULL)
			json_object_set_new(o, "last_used", json_integer(sqlite3_column_int64(s, 0)));
		json_object_set_new(o, "failures", json_integer(sqlite3_column_int64(s, 1)));
		if (sqlite3_column_type(s, 2) != SQLITE_NULL && sqlite3_column_int64(s, 2) > isms_now())
			json_object_set_new(o, "locked_until", json_integer(sqlite3_column_int64(s, 2)));
	}
	isms_db_done(s);
	if (isms_mfa_recovery_left(cli->ctx.state, name, token_id, &left, &err) == 0)
		json_object_set_new(o, "recovery_codes_left", json_integer(left));
	return o;
}

static const char *iso_or(json_t *v, char *buf, size_t len, const char *none)
{
	return json_is_integer(v) ? isms_time_iso(json_integer_value(v), buf, len) : none;
}

static int status(struct cli *cli, int argc, char **argv)
{
	struct isms_err err = { 0 };
	const char *user = argc == 2 ? argv[1] : NULL;
	json_t *all = json_array();
	sqlite3_stmt *st;
	size_t n = 0;
	int r;

	if (argc > 2)
		return cli_usage(cli, &cmd_mfa_def, "status takes at most one USER");
	st = isms_db_query(cli->ctx.reg, &err,
			   "SELECT a.name, a.kind, t.id, t.status, t.algorithm, t.digits, t.period,"
			   " t.imported_from, t.confirmed_at FROM accounts a LEFT JOIN mfa_tokens t"
			   " ON t.account_id = a.id WHERE ?1 IS NULL OR a.name = ?1 ORDER BY a.name", "s", user);
	if (!st) {
		json_decref(all);
		return cli_fail(cli, EXIT_USAGE, "mfa status: %s", err.msg);
	}
	while ((r = isms_db_step(st, &err)) == 1)
		json_array_append_new(all, status_one(cli, st));
	isms_db_done(st);
	if (r < 0) {
		json_decref(all);
		return cli_fail(cli, EXIT_USAGE, "mfa status: %s", err.msg);
	}
	n = json_array_size(all);
	if (user && n == 0) {
		json_decref(all);
		return cli_fail(cli, EXIT_FINDINGS, "mfa status: account '%s' is not in the registry", user);
	}
	if (user) {
		struct isms_mfa_account acct;
		char why[192];
		bool req = false;

		if (isms_mfa_account_find(cli->ctx.reg, user, &acct, &err) == 0 &&
		    isms_mfa_required(&cli->ctx, user, &acct, &req, why, sizeof(why), &err) == 0) {
			json_object_set_new(json_array_get(all, 0), "required", json_boolean(req));
			json_object_set_new(json_array_get(all, 0), "required_why", json_string(why));
		}
	}
	if (cli->json) {
		cli_json_print(user ? json_incref(json_array_get(all, 0)) : json_incref(all));
		json_decref(all);
		return EXIT_OK;
	}
	printf("%-16s %-13s %-20s %-14s %-20s %4s %-20s %s\n", "USER", "STATUS", "ENROLLED SINCE", "TOKEN",
	       "LAST USED", "FAIL", "LOCKED UNTIL", "RECOVERY LEFT");
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_array_get(all, i);
		char a[32], b[32], c[32], tok[32] = "-", left[24] = "-";

		if (json_object_get(o, "algorithm"))
			(void)snprintf(tok, sizeof(tok), "%s/%lld/%llds",
				       json_string_value(json_object_get(o, "algorithm")),
				       json_integer_value(json_object_get(o, "digits")),
				       json_integer_value(json_object_get(o, "period")));
		if (json_object_get(o, "recovery_codes_left"))
			(void)snprintf(left, sizeof(left), "%lld",
				       json_integer_value(json_object_get(o, "recovery_codes_left")));
		printf("%-16s %-13s %-20s %-14s %-20s %4lld %-20s %s\n",
		       json_string_value(json_object_get(o, "user")),
		       json_string_value(json_object_get(o, "status")),
		       iso_or(json_object_get(o, "enrolled_since"), a, sizeof(a), "-"), tok,
		       iso_or(json_object_get(o, "last_used"), b, sizeof(b), "never"),
		       json_integer_value(json_object_get(o, "failures")),
		       iso_or(json_object_get(o, "locked_until"), c, sizeof(c), "-"),
		       left);
		if (json_object_get(o, "required"))
			printf("MFA required: %s (%s)\n", json_is_true(json_object_get(o, "required")) ? "yes" : "no",
			       json_string_value(json_object_get(o, "required_why")));
	}
	json_decref(all);
	return EXIT_OK;
}

static int reset(struct cli *cli, const char *user)
{
	struct isms_mfa_account acct;
	struct isms_err err = { 0 };
	int rv, r;

	rv = find_account(cli, user, &acct);
	if (rv != EXIT_OK)
		return rv;
	r = isms_db_exec(cli->ctx.reg, &err, "DELETE FROM mfa_tokens WHERE account_id = ?", "i", acct.id);
	if (r == 0)
		r = isms_mfa_state_forget(cli->ctx.state, user, &err);
	if (r < 0)
		return cli_fail(cli, EXIT_USAGE, "mfa reset: %s", err.msg);
	cli_audit(cli, "mfa_reset", user, "ok", NULL, NULL);
	if (!cli->json)
		printf("MFA token of %s removed; enroll again with 'accessctl mfa enroll %s'.\n", user, user);
	return EXIT_OK;
}

static int unlock(struct cli *cli, const char *user)
{
	struct isms_mfa_token tok = { 0 };
	struct isms_err err = { 0 };
	bool was = false;
	int rv;

	rv = load_token(cli, user, NULL, &tok);
	if (rv != EXIT_OK)
		return rv;
	if (isms_mfa_unlock(cli->ctx.state, user, tok.id, isms_now(), &was, &err) < 0) {
		isms_mfa_token_clear(&tok);
		return cli_fail(cli, EXIT_USAGE, "mfa unlock: %s", err.msg);
	}
	isms_mfa_token_clear(&tok);
	audit_prio(cli, "mfa_unlock", user, "ok", "admin", was ? "was_locked=yes" : "was_locked=no",
		   LOG_WARNING);
	if (!cli->json)
		printf(was ? "MFA token of %s unlocked.\n" : "MFA token of %s was not locked; failures cleared.\n",
		       user);
	return EXIT_OK;
}

static int regenerate(struct cli *cli, int argc, char **argv)
{
	struct isms_mfa_token tok = { 0 };
	struct isms_vault v;
	json_t *codes = json_array();
	char details[32];
	int rv;

	if (argc != 3 || strcmp(argv[2], "--regenerate") != 0) {
		json_decref(codes);
		return cli_usage(cli, &cmd_mfa_def, "usage: mfa recovery-codes USER --regenerate");
	}
	rv = load_token(cli, argv[1], NULL, &tok);
	if (rv == EXIT_OK)
		rv = mfa_vault(cli, &v);
	if (rv == EXIT_OK) {
		rv = new_recovery_codes(cli, &v, argv[1], tok.id, codes);
		isms_vault_wipe(&v);
	}
	if (rv == EXIT_OK) {
		(void)snprintf(details, sizeof(details), "count=%lld", cli->conf->mfa_recovery_codes);
		cli_audit(cli, "mfa_recovery_codes", argv[1], "ok", "regenerated", details);
		if (cli->json)
			cli_json_print(json_pack("{s:s,s:O}", "user", argv[1], "recovery_codes", codes));
	}
	json_decref(codes);
	isms_mfa_token_clear(&tok);
	return rv;
}

int cmd_mfa(struct cli *cli, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;
	int r;

	if (!sub)
		return cli_usage(cli, &cmd_mfa_def, "missing subcommand");
	r = cli_open(cli);
	if (r != EXIT_OK)
		return r;
	argc--;
	argv++;
	if (strcmp(sub, "enroll") == 0)
		return enroll(cli, argc, argv);
	if (strcmp(sub, "confirm") == 0 && argc == 3)
		return confirm(cli, argv[1], argv[2], cli->json);
	if (strcmp(sub, "status") == 0)
		return status(cli, argc, argv);
	if (strcmp(sub, "reset") == 0 && argc == 2)
		return reset(cli, argv[1]);
	if (strcmp(sub, "unlock") == 0 && argc == 2)
		return unlock(cli, argv[1]);
	if (strcmp(sub, "recovery-codes") == 0)
		return regenerate(cli, argc, argv);
	if (strcmp(sub, "import") == 0)
		return mfa_import(cli, argc, argv);
	return cli_usage(cli, &cmd_mfa_def, "unknown subcommand or wrong arguments: %s", sub);
}
