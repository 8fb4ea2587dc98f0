/* What every accessctl command shares: global options, the loaded config,
 * opening the stores, output in text or JSON, and the exit codes. */
#ifndef ACCESSCTL_CLI_H
#define ACCESSCTL_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "conf.h"
#include "ctx.h"
#include "err.h"

enum { EXIT_OK = 0, EXIT_FINDINGS = 1, EXIT_USAGE = 2 };

struct cli {
	const char *root;        /* --root, "" for / */
	const char *config;      /* --config, NULL for root + /etc/isms/isms.conf */
	bool json;               /* --json */
	const char *prog;        /* "accessctl" */
	const char *actor;       /* who runs this, for audit events: SUDO_USER or the login name */
	struct isms_conf *conf;  /* loaded by cli_load_conf */
	struct isms_ctx ctx;     /* opened by cli_open */
	bool opened;
};

struct command {
	const char *name;
	int (*run)(struct cli *cli, int argc, char **argv);
	const char *summary;
	const char *usage;       /* full --help text */
};

/* Load the config (missing file: error naming it). Prints and returns EXIT_USAGE on failure. */
int cli_load_conf(struct cli *cli);

/* Load config and open both stores read-write. Prints the error and returns EXIT_USAGE on failure. */
int cli_open(struct cli *cli);
void cli_close(struct cli *cli);

/* Close the stores but keep the config (before replacing store files). */
void cli_close_stores(struct cli *cli);

/* "--help" or "-h" among argv: print usage to stdout and return true. */
bool cli_wants_help(const struct command *cmd, int argc, char **argv);

/* Print "accessctl CMD: message" to stderr; returns code. */
int cli_fail(const struct cli *cli, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Usage error: message, then "see accessctl CMD --help"; returns EXIT_USAGE. */
int cli_usage(const struct cli *cli, const struct command *cmd, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Print a JSON value to stdout (compact, one line) and free it. */
void cli_json_print(json_t *v);

/* Append an audit event as this admin; failures are reported, not fatal. */
void cli_audit(struct cli *cli, const char *event, const char *subject, const char *result,
	       const char *reason, const char *details);

/* Progress on a terminal (stderr): "label  [#####     ] 50% (500/1000)"; silent otherwise.
 * The bar's line ends when done reaches total, or at cli_progress_end (cli_fail
 * calls it, so that an error stopping the work starts a line of its own). */
void cli_progress(const char *label, long long done, long long total);
void cli_progress_end(void);
/* Draw the bar on f instead of stderr. */
void cli_progress_stream(FILE *f);

/* On a terminal, stdout and stderr show control characters as \xNN or \uNNNN
 * (tty_guard.c): text from the directory or HR cannot drive the terminal. */
void cli_tty_guard(void);
/* cli_progress as the callback libisms takes (isms_progress_fn); arg unused. */
void cli_progress_cb(void *arg, const char *phase, long long done, long long total);

/* Commands, one file per family. */
int cmd_init(struct cli *cli, int argc, char **argv);
int cmd_doctor(struct cli *cli, int argc, char **argv);
int cmd_audit(struct cli *cli, int argc, char **argv);
int cmd_backup(struct cli *cli, int argc, char **argv);
int cmd_report(struct cli *cli, int argc, char **argv);

int cmd_inventory(struct cli *cli, int argc, char **argv);
int cmd_account(struct cli *cli, int argc, char **argv);
int cmd_person(struct cli *cli, int argc, char **argv);
int cmd_check(struct cli *cli, int argc, char **argv);

int cmd_mfa(struct cli *cli, int argc, char **argv);

/* Revocation (revoke.c, offboard.c, stale.c, report.c, report_revocations.c, scim.c). */
int cmd_revoke(struct cli *cli, int argc, char **argv);
int cmd_restore(struct cli *cli, int argc, char **argv);
int cmd_offboard(struct cli *cli, int argc, char **argv);
int cmd_stale(struct cli *cli, int argc, char **argv);
int cmd_lastlog(struct cli *cli, int argc, char **argv);
int cmd_report_revocations(struct cli *cli, int argc, char **argv);
int cmd_scim(struct cli *cli, int argc, char **argv);

int cmd_review(struct cli *cli, int argc, char **argv);
int cmd_evidence(struct cli *cli, int argc, char **argv);

int cmd_sync(struct cli *cli, int argc, char **argv);

int cmd_rec(struct cli *cli, int argc, char **argv);

extern const struct command cmd_init_def;
extern const struct command cmd_doctor_def;
extern const struct command cmd_audit_def;
extern const struct command cmd_backup_def;
extern const struct command cmd_report_def;
extern const struct command cmd_inventory_def;
extern const struct command cmd_account_def;
extern const struct command cmd_person_def;
extern const struct command cmd_check_def;
extern const struct command cmd_mfa_def;
extern const struct command cmd_revoke_def;
extern const struct command cmd_restore_def;
extern const struct command cmd_offboard_def;
extern const struct command cmd_stale_def;
extern const struct command cmd_lastlog_def;
extern const struct command cmd_scim_def;
extern const struct command cmd_review_def;
extern const struct command cmd_evidence_def;
extern const struct command cmd_sync_def;
extern const struct command cmd_rec_def;

#endif
