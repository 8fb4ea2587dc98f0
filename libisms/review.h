/* Access-review campaigns: a frozen snapshot of who holds what, one row per
 * (account, entitlement), routed to a reviewer; decisions come back keyed by
 * row id, are applied through the revocation engine and verified. */
#ifndef ISMS_REVIEW_H
#define ISMS_REVIEW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ctx.h"
#include "err.h"
#include "util.h"

struct isms_review_campaign {
	int64_t id;
	char name[64];           /* the period: 2026-Q3, 2026-annual */
	char kind[16];           /* quarterly, annual */
	char scope[64];          /* comma list: privileged, critical, all */
	int64_t as_of, due_at, created_at, closed_at;
	char status[8];          /* open, closed */
	char snapshot_sha256[65];
	char *sources;           /* JSON, malloc'd */
};

/* The worksheet columns, in file order. The identifying ones must come back
 * unchanged; the decision ones are what the reviewer fills in. */
enum isms_review_col {
	RC_CAMPAIGN, RC_ROW_ID, RC_SYSTEM, RC_ACCOUNT, RC_UID, RC_KIND, RC_PERSON, RC_EMAIL,
	RC_EMPLOYEE_NO, RC_DEPARTMENT, RC_TITLE, RC_HR_STATUS, RC_MANAGER, RC_ENTITLEMENT,
	RC_GRANTED, RC_PRIVILEGED, RC_ACCOUNT_STATUS, RC_LAST_LOGIN, RC_DAYS_INACTIVE,
	RC_MFA_SINCE, RC_CHANGE, RC_PREVIOUS_DECISION, RC_RECOMMENDATION, RC_REVIEWER,
	RC_DECISION, RC_EXCEPTION_UNTIL, RC_JUSTIFICATION, RC_REVIEWED_BY, RC_REVIEWED_AT,
	ISMS_REVIEW_NCOLS
};
extern const char *const isms_review_columns[ISMS_REVIEW_NCOLS];
bool isms_review_col_identifying(enum isms_review_col c);

/* "2026-Q3" is quarterly unless Q equals [review] annual_quarter; "2026-annual" is
 * annual. *ret_kind points at a static string. */
int isms_review_period(const struct isms_conf *conf, const char *period, const char **ret_kind,
		       struct isms_err *err);

/* Freeze a campaign: select the population for the scope (NULL: the configured
 * scope of the period's kind), route each row to a reviewer, hash the snapshot.
 * progress (may be NULL) is told of the accounts taken so far, phase "snapshot".
 * -EEXIST when a campaign of that name exists. */
int isms_review_start(struct isms_ctx *ctx, const char *period, const char *scope,
		      isms_progress_fn progress, void *progress_arg,
		      struct isms_review_campaign *ret, int64_t *ret_rows, struct isms_err *err);

/* Look a campaign up by name (NULL: the most recent one). -ENOENT when none. */
int isms_review_campaign_get(sqlite3 *reg, const char *name, struct isms_review_campaign *ret,
			     struct isms_err *err);
void isms_review_campaign_clear(struct isms_review_campaign *c);

/* Stable row id: hex of BLAKE2b-128 over campaign, account and entitlement. out: 33 bytes. */
void isms_review_row_id(const char *campaign, const char *account, const char *entitlement,
			char out[33]);

/* SHA-256 over a canonical encoding of the frozen columns of every row, by row id. */
int isms_review_snapshot_hash(sqlite3 *reg, int64_t campaign_id, char out[65],
			      struct isms_err *err);

/* Every row of a campaign as worksheet cells (text; "" for none), in row id order.
 * reviewer: NULL for all rows, "" for unassigned rows, else an employee number.
 * The callback's non-zero return stops the walk and is returned. */
typedef int (*isms_review_row_fn)(void *u, const char *const cells[ISMS_REVIEW_NCOLS],
				  bool privileged);
int isms_review_rows(sqlite3 *reg, int64_t campaign_id, const char *reviewer,
		     isms_review_row_fn fn, void *u, struct isms_err *err);

/* The reviewers of a campaign: each with employee number ("" unassigned) and name. */
typedef int (*isms_review_reviewer_fn)(void *u, const char *reviewer_no, const char *name,
				       int64_t rows, int64_t decided);
int isms_review_reviewers(sqlite3 *reg, int64_t campaign_id, isms_review_reviewer_fn fn, void *u,
			  struct isms_err *err);

/* A cell as a spreadsheet must show it: text starting with = + - @ TAB or CR gets a
 * leading apostrophe so it is never evaluated. Returns s or a malloc'd copy in *tmp. */
const char *isms_review_neutralise(const char *s, char **tmp);

/* Create a worksheet file (0640, no symlink followed) for writing; NULL with err set. */
FILE *isms_worksheet_fopen(const char *path, struct isms_err *err);

/* One RFC 4180 record (libcsv quoting, CRLF), each cell neutralised when asked. */
int isms_csv_write_row(FILE *f, const char *const *cells, size_t n, bool neutralise);

/* Worksheets: one reviewer's rows (see isms_review_rows for reviewer). */
int isms_worksheet_write_csv(sqlite3 *reg, const struct isms_review_campaign *c,
			     const char *reviewer, const char *path, struct isms_err *err);
int isms_worksheet_write_xlsx(sqlite3 *reg, const struct isms_review_campaign *c,
			      const char *reviewer, const char *path, struct isms_err *err);
int isms_worksheet_write_html(sqlite3 *reg, const struct isms_review_campaign *c,
			      const char *path, struct isms_err *err);

/* Decisions: "keep", "revoke", "modify", "exception" (+ until), parsed from the
 * decision cell ("exception until 2027-03-31" also accepted) and exception_until. */
int isms_review_decision_parse(const char *decision, const char *until, char ret[16],
			       int64_t *ret_until, struct isms_err *err);

/* A returned worksheet, parsed (no store needed: the fuzz target drives this). */
struct isms_review_sheet_row {
	unsigned line;                      /* line the record starts on */
	char *cells[ISMS_REVIEW_NCOLS];     /* NULL when the column is absent from the file */
};
struct isms_review_sheet {
	char *file;
	int colno[ISMS_REVIEW_NCOLS];       /* 1-based column in the file, 0 when absent */
	size_t n;
	struct isms_review_sheet_row *rows;
};
int isms_review_sheet_parse(const char *file, const char *buf, size_t len,
			    struct isms_review_sheet *ret, struct isms_err *err);
void isms_review_sheet_free(struct isms_review_sheet *s);

/* Called for each row acted on: the decision recorded, or the result of applying it. */
typedef void (*isms_review_report_fn)(void *u, const char *row_id, const char *account,
				      const char *entitlement, const char *result, bool ok);

struct isms_review_import_stats {
	int64_t rows;        /* data rows read */
	int64_t decided;     /* rows carrying a decision */
	int64_t changed;     /* decisions recorded or changed by this import */
};
/* Import returned worksheets: every row checked against the campaign first, then
 * all decisions recorded in one transaction (nothing on any error). campaign NULL:
 * the campaign named by the first row. */
int isms_review_import(struct isms_ctx *ctx, char *const *files, size_t nfiles,
		       const char *campaign, const char *actor, isms_review_report_fn report,
		       void *u, struct isms_review_import_stats *ret, struct isms_err *err);

/* Apply revoke/modify decisions and verify each; rows done earlier are skipped.
 * report is called for every row acted on. Returns 0, or -EAGAIN when some change
 * did not take (see the report). */
int isms_review_apply(struct isms_ctx *ctx, const struct isms_review_campaign *c,
		      const char *actor, isms_review_report_fn report, void *u,
		      struct isms_err *err);

/* Close: undecided rows per [review] no_response (escalate: recorded and reported;
 * revoke: revoked and verified), then status closed. */
int isms_review_close(struct isms_ctx *ctx, struct isms_review_campaign *c, const char *actor,
		      isms_review_report_fn report, void *u, struct isms_err *err);

/* The population in ConductorOne baton-file CSV (record_type user, resource,
 * entitlement, direct_user_grant, grant_inheritance_mapping). */
int isms_review_export_baton(sqlite3 *reg, const struct isms_review_campaign *c, FILE *out,
			     struct isms_err *err);

#endif
