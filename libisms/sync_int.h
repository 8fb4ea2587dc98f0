/* Internal to the sync (sync.c, sync_read.c, sync_load.c, sync_apply.c,
 * sync_members.c): the state of one apply — the registry as loaded, the
 * snapshot's indexes, the ids written — and the functions between them. */
#ifndef ISMS_SYNC_INT_H
#define ISMS_SYNC_INT_H

#include "db.h"
#include "smap.h"
#include "sync.h"
#include "util.h"

struct reg_account {
	int64_t id;
	char *name;
	char *uuid;             /* NULL for a local account */
	char *status;
	char *source;
	int64_t uid;            /* -1: NULL */
	int64_t person_id;      /* 0: none */
	bool seen;              /* matched by an entry of this snapshot */
};

struct reg_group {
	int64_t id;
	char *name;
	char *uuid;
	char *dn;
	int64_t gid;
	int privileged;
	bool removed;
};

/* A person as the registry holds them: what the sync compares an entry with
 * before writing, so that an unchanged person costs no statement. */
struct reg_person {
	int64_t id;
	char *employee_no, *uuid, *name, *email, *manager_no, *department, *title, *source;
};

/* A membership of a directory group in the registry, by "account:group:via". */
struct existing {
	int64_t id;             /* -1: inserted by this run */
	int64_t group_id, via_id; /* via 0: direct */
	char *key;
	char *path, *attr;
	bool seen;
};

/* A row of the stored snapshot: one per entry and kind (an entry that is both
 * an account and a group has two, one entryUUID). Its strings are in a pool. */
struct stored_entry {
	char *uuid, *dn, *data, *kind;
};

/* One kind's content sync: the entries sent, and the UUIDs announced present
 * or deleted (an entry neither sent nor present is gone unless the server
 * sent deletes as such, refresh_deletes). */
struct sync_changes {
	struct isms_snapshot *changed;
	const struct isms_smap *present, *deleted;
	bool refresh_deletes;
};

/* An incremental sync as a delta (sync_delta.c). */
struct sync_delta {
	struct isms_pool pool;          /* the strings of the stored rows */
	struct isms_snapshot snap;      /* accounts to write: stored ones that depend on a change, then the changes */
	size_t *order;                  /* row of each stored one, while they are collected */
	struct stored_entry *stored;    /* the stored rows of those accounts */
	size_t nstored;
	char **gone;                    /* entryUUIDs of accounts gone from the directory */
	size_t ngone;
	struct isms_smap changed_dn;    /* DN keys of accounts changed or gone */
	struct isms_smap want;          /* DN keys of managers whose employee number is needed */
	struct isms_smap mgr_no;        /* DN key -> employee number ("" without one) of unchanged entries */
	struct isms_smap written;       /* uuid -> stored account to write */
	char **owned;                   /* strings the maps point at */
	size_t nowned;
	long long naccounts, ngroups;   /* entries in the directory now */
	long long active_before;        /* directory accounts neither departed nor revoked before */
	long long memberships;          /* directory memberships before */
};

/* Rows of one INSERT, many to a statement (sync_batch.c). */
#define SYNC_BATCH 64
struct sync_batch {
	const char *head;               /* "INSERT INTO t (columns) VALUES" */
	const char *tuple;              /* one row's values: "(?, ?, 'ldap')" */
	int ncols;                      /* placeholders in tuple */
	sqlite3_stmt *full;             /* SYNC_BATCH rows, kept */
	struct sync_cell *cells;        /* the rows held, ncols each */
	size_t n;
};

struct apply {
	struct isms_pool pool;          /* the strings of the rows loaded and of the snapshot's keys and stored forms */
	char *json;                     /* the stored form of one entry, as it is written (json_cap bytes) */
	size_t json_cap;
	struct isms_ctx *ctx;
	const struct isms_conf *conf;
	LDAP *ld;
	const struct isms_snapshot *snap;
	const struct isms_sync_opts *opts;
	struct isms_sync_summary *sum;
	struct isms_err *err;
	int64_t now;

	struct reg_account *racc;
	size_t nracc;
	struct isms_smap racc_uuid, racc_name;
	struct reg_group *rgrp;
	size_t nrgrp;
	struct isms_smap rgrp_uuid, rgrp_name;
	struct isms_smap grp_written;   /* names of the groups this sync has written */
	struct reg_person **rpeople;    /* pointers: the maps point at them while the array grows */
	size_t nrpeople, caprpeople;
	struct isms_smap rpeople_no, rpeople_uuid;
	bool people_all;                /* every person is loaded (else as looked up) */
	struct existing *mem_ex;        /* memberships of directory groups, as loaded */
	size_t nmem_ex;
	struct isms_smap mem;           /* key -> struct existing, loaded and inserted */
	struct stored_entry *stored;
	size_t nstored;
	struct isms_smap stored_uuid[2]; /* per enum isms_ldap_kind: uuid -> stored row */
	struct isms_smap snap_uuid[2];  /* per enum isms_ldap_kind: uuid -> snapshot entry */

	/* Per snapshot entry, indexed as entries arrive (nacc, ngrp of them so far). */
	size_t nacc, capacc, ngrp, capgrp;
	char **acc_dnkey, **grp_dnkey;  /* normalized DNs of the snapshot */
	struct isms_smap acc_dn, grp_dn; /* -> index + 1 (as pointer-sized integer) */
	struct isms_smap acc_name;      /* name -> index + 1 of the entry whose account has it (once written) */
	char **acc_json, **grp_json;    /* stored form of each snapshot entry */
	char **acc_mgrkey;              /* DN key of each account entry's manager (NULL: none) */
	bool *acc_dirty;                /* entry new or changed since the stored snapshot */
	bool *acc_mgr_later;            /* written before its manager's entry had arrived */
	struct isms_smap changed_dn;    /* DN keys of account entries added, changed or gone */
	int64_t *acc_id, *grp_id;       /* registry ids (0: not written) */
	size_t *renames_held;           /* entries renamed onto a name still taken, tried again once */
	size_t nrenames_held;
	bool renames_retry;             /* trying them again: a conflict now is one */
	long long active_before;        /* directory accounts not departed/revoked before */

	/* No account in the registry came from the directory (a first sync): an
	 * account's row then depends on nothing a later entry brings but its
	 * manager, so accounts are written as they arrive (see sync_apply_add). */
	bool stream;
	struct isms_sync_summary stream_sum; /* their changes, reported after the groups' */

	const struct sync_delta *delta; /* applying a delta: managers not in snap are in delta->mgr_no */

	struct sync_batch mem_batch;    /* memberships inserted */
	struct sync_batch entry_batch;  /* stored snapshot rows written */

	/* Statements prepared once and rebound for every row (see SYNC_QUERY). */
	struct { const char *sql; sqlite3_stmt *st; } kept[32];
	size_t nkept;
};

/* The slot of a kept statement for this SQL text (compared by address: each
 * call site's literal), or NULL when all are taken. */
sqlite3_stmt **sync_slot(struct apply *a, const char *sql);
/* Step a kept statement to its end and reset it: 0 or negative errno. */
int sync_run(struct apply *a, sqlite3_stmt *st);
void sync_kept_free(struct apply *a);

/* A statement run once per row of a 100,000-row sync: prepared the first time
 * with isms_db_query, rebound with isms_db_rebind after. Reset it when done
 * reading (sqlite3_reset), or run it with SYNC_EXEC. */
#define SYNC_QUERY(a, sql, fmt, ...) ({ \
	sqlite3_stmt **s_ = sync_slot((a), (sql)), *r_ = NULL; \
	if (!s_) \
		(void)isms_err_set((a)->err, -ENOMEM, "too many kept statements"); \
	else if (*s_) \
		r_ = isms_db_rebind(*s_, (a)->err, fmt, __VA_ARGS__) < 0 ? NULL : *s_; \
	else \
		r_ = *s_ = isms_db_query((a)->ctx->reg, (a)->err, (sql), fmt, __VA_ARGS__); \
	r_; })
#define SYNC_EXEC(a, sql, fmt, ...) sync_run((a), SYNC_QUERY(a, sql, fmt, __VA_ARGS__))

#define SMAP_IDX(p) ((size_t)(uintptr_t)(p))
#define IDX_SMAP(i) ((void *)(uintptr_t)(i))

/* sync_batch.c */
void sync_batch_init(struct sync_batch *b, const char *head, const char *tuple, int ncols);
int sync_batch_row(struct apply *a, struct sync_batch *b, const char *fmt, ...);
int sync_batch_flush(struct apply *a, struct sync_batch *b);
void sync_batch_free(struct sync_batch *b);

/* sync_load.c: load the registry and the stored snapshot; index the new
 * snapshot entry by entry as it arrives, then what only the whole one tells. */
int sync_load(struct apply *a);
int sync_index_account(struct apply *a, size_t i);
int sync_index_group(struct apply *a, size_t i);
int sync_index_finish(struct apply *a);
void sync_load_free(struct apply *a);
/* A registry account from a query over SYNC_ACCOUNT_COLUMNS, its strings in
 * pool: 0 or -ENOMEM. */
#define SYNC_ACCOUNT_COLUMNS "id, name, source_uuid, status, source, uid, person_id"
int sync_account_read(sqlite3_stmt *st, struct reg_account *ra, struct isms_pool *pool);
/* The kind of a stored row. */
enum isms_ldap_kind sync_stored_kind(const struct stored_entry *se);
/* Index a->stored by kind and entryUUID: 0 or -ENOMEM with err set. */
int sync_stored_index(struct apply *a);
/* Append a person (fields copied) and index it. NULL when out of memory. */
struct reg_person *sync_person_add(struct apply *a, int64_t id, const char *employee_no, const char *uuid);
/* The person with this employee number, from memory or the registry; NULL
 * when there is none (*ret_r 0) or on error (*ret_r negative, err set). */
struct reg_person *sync_person_find(struct apply *a, const char *employee_no, int *ret_r);
/* Does a person already have this entryUUID? 0 or negative with err set. */
int sync_person_uuid_taken(struct apply *a, const char *uuid, bool *ret);
/* Replace a text field of a loaded person with a copy of v: 0 or -ENOMEM. */
int sync_person_set(char **field, const char *v);

/* sync_read.c: read the directory. A full paged read into snap; a content
 * sync (cookies: the stored JSON or NULL; -ESTALE/-EOPNOTSUPP/-EBADMSG/-E2BIG
 * tell the caller to read otherwise); a full read applied as it arrives,
 * inside the caller's transaction: paged, or with ret_cookies a content sync
 * without a cookie (its new cookies there; -EOPNOTSUPP/-E2BIG as above). */
int sync_read_full(LDAP *ld, const struct isms_conf *conf, const struct isms_sync_opts *opts,
		   struct isms_snapshot *snap, long long *skipped, struct isms_err *err);
int sync_read_incremental(LDAP *ld, struct isms_ctx *ctx, const struct isms_sync_opts *opts,
			  const char *cookies, long long memberships, struct isms_snapshot *snap,
			  struct sync_delta *delta, bool *ret_delta, char **ret_cookies,
			  long long *skipped, struct isms_err *err);
int sync_read_and_apply(struct isms_ctx *ctx, LDAP *ld, const struct isms_sync_opts *opts, char **ret_cookies,
			struct isms_snapshot *snap, struct isms_sync_summary *sum, struct isms_err *err);

/* sync_apply.c: one apply, fed entry by entry (the read may still be running). */
void sync_apply_init(struct apply *a, struct isms_ctx *ctx, LDAP *ld, const struct isms_snapshot *snap,
		     const struct isms_sync_opts *opts, struct isms_sync_summary *sum, struct isms_err *err);
int sync_apply_add(struct apply *a, enum isms_ldap_kind kind, size_t i);
int sync_apply_finish(struct apply *a);
/* Write every account of the snapshot the registry holds, then departures of
 * the registry's accounts not seen (a delta's: those it loaded). */
int sync_apply_written(struct apply *a);
void sync_apply_free(struct apply *a);

/* sync_members.c */
int sync_members_load(struct apply *a);
void sync_members_free(struct apply *a);
int sync_apply_members(struct apply *a);
/* The stored snapshot: the row of one new or changed entry; the rows of entries gone. */
int sync_apply_entry(struct apply *a, enum isms_ldap_kind kind, size_t i);
int sync_apply_entries_gone(struct apply *a);

/* sync_delta.c: 1 when the changes apply as a delta (d filled, the changed
 * accounts moved into it), 0 when they need a full apply (nothing moved),
 * negative errno with err set (-EBADMSG: a stored row unreadable). memberships:
 * the count the last sync reported (-1: unknown). */
int sync_delta_prepare(struct isms_ctx *ctx, struct sync_changes *acc, struct sync_changes *grp,
		       long long memberships, struct sync_delta *d, struct isms_err *err);
int sync_apply_delta(struct isms_ctx *ctx, LDAP *ld, struct sync_delta *d, const struct isms_sync_opts *opts,
		     struct isms_sync_summary *sum, struct isms_err *err);
void sync_delta_free(struct sync_delta *d);

#endif
