/* accessctl sync: bring accounts, people and groups from the directory into
 * the registry in one transaction. Full (paged snapshot diff) or incremental
 * (RFC 4533 refresh-only) — both end in the same diff against the registry. */
#ifndef ISMS_SYNC_H
#define ISMS_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <ldap.h>

#include "ctx.h"
#include "err.h"
#include "util.h"
#include "ldap_map.h"

struct isms_sync_opts {
	bool dry_run;           /* compute and report, then roll back */
	bool force;             /* pass the max_removals guard */
	bool full;              /* skip content sync: full paged snapshot */
	/* Long work reports here (phase, done, total); total 0 when unknown. */
	isms_progress_fn progress;
	void *progress_arg;
};

/* One change, for --dry-run and the report: what, whom, and detail. */
struct isms_sync_change {
	const char *what;       /* added, changed, renamed, departed, locked, unlocked, held, kept,
	                         * group_added, group_changed, group_renamed, group_removed */
	char *subject;          /* account or group name */
	char *detail;           /* e.g. "alice -> alice.chen", "pwdAccountLockedTime=..." */
	char *employee_no;      /* departures: the owner, when known */
};

struct isms_sync_summary {
	const char *mode;       /* "full" or "incremental" */
	char *fallback;         /* why an incremental sync became full, or NULL */
	long long accounts, groups_total, memberships_total; /* what the directory holds */
	long long skipped;      /* entries without entryUUID or name, left out */
	long long conflicts;    /* entries not written: their name is another entry's */
	long long added, changed, renamed, departed, locked, held;
	long long groups_added, groups_changed, groups_removed;
	long long memberships_added, memberships_removed;
	double duration;        /* seconds */
	struct isms_sync_change *changes;
	size_t nchanges;
};

void isms_sync_summary_free(struct isms_sync_summary *s);

/* The mode and every count of a summary as a JSON object (new reference, NULL
 * on OOM): the sync's audit event and `accessctl sync --json` both start from it. */
json_t *isms_sync_summary_counts(const struct isms_sync_summary *s);

/* Run one sync. 0 when applied (or dry run done); -ECANCELED when the removal
 * guard refused (err says how many and what to do); other negative codes with
 * err naming the server or store and the cause. On any error the registry is
 * as it was. */
int isms_sync_run(struct isms_ctx *ctx, const struct isms_sync_opts *opts,
		  struct isms_sync_summary *sum, struct isms_err *err);

/* The snapshot: every directory entry the sync maps, by kind. */
struct isms_snapshot {
	struct isms_ldap_entry **accounts;
	size_t naccounts, cap_accounts;
	struct isms_ldap_entry **groups;
	size_t ngroups, cap_groups;
};

int isms_snapshot_add(struct isms_snapshot *s, struct isms_ldap_entry *e);
void isms_snapshot_free(struct isms_snapshot *s);

/* Write a snapshot into the registry (inside the caller's transaction): the diff
 * of accounts, people, groups, nesting and memberships, departures and the
 * removal guard. `ld` (may be NULL) confirms departures by name. Fills sum. */
int isms_sync_apply(struct isms_ctx *ctx, LDAP *ld, const struct isms_snapshot *snap,
		    const struct isms_sync_opts *opts, struct isms_sync_summary *sum,
		    struct isms_err *err);

/* Add a change to the summary (copies the strings). */
int isms_sync_note(struct isms_sync_summary *sum, const char *what, const char *subject,
		   const char *detail, const char *employee_no);

#endif
