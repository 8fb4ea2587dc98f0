/* One directory sync: connect, read the directory (incremental RFC 4533
 * content sync when the server offers it and a cookie is stored, else a full
 * paged read), then diff it into the registry in one transaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "clock.h"
#include "db.h"
#include "ldap_conn.h"
#include "sync.h"
#include "sync_int.h"
#include "util.h"

void isms_snapshot_free(struct isms_snapshot *s)
{
	for (size_t i = 0; i < s->naccounts; i++)
		isms_ldap_entry_free(s->accounts[i]);
	for (size_t i = 0; i < s->ngroups; i++)
		isms_ldap_entry_free(s->groups[i]);
	free(s->accounts);
	free(s->groups);
	memset(s, 0, sizeof(*s));
}

int isms_snapshot_add(struct isms_snapshot *s, struct isms_ldap_entry *e)
{
	struct isms_ldap_entry ***arr = e->kind == ISMS_LDAP_ACCOUNT ? &s->accounts : &s->groups;
	size_t *n = e->kind == ISMS_LDAP_ACCOUNT ? &s->naccounts : &s->ngroups;
	size_t *cap = e->kind == ISMS_LDAP_ACCOUNT ? &s->cap_accounts : &s->cap_groups;

	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 256;
		struct isms_ldap_entry **na = realloc(*arr, nc * sizeof(*na));

		if (!na)
			return -ENOMEM;
		*arr = na;
		*cap = nc;
	}
	(*arr)[(*n)++] = e;
	return 0;
}

void isms_sync_summary_free(struct isms_sync_summary *s)
{
	for (size_t i = 0; i < s->nchanges; i++) {
		free(s->changes[i].subject);
		free(s->changes[i].detail);
		free(s->changes[i].employee_no);
	}
	free(s->changes);
	free(s->fallback);
	memset(s, 0, sizeof(*s));
}


/* The cookies of the last sync of this source, and the memberships it counted
 * (-1: unknown). */
static char *last_cookies(sqlite3 *reg, const char *uri, long long *ret_memberships)
{
	sqlite3_stmt *st = isms_db_query(reg, NULL,
					 "SELECT cookie, json_extract(summary, '$.memberships') FROM sync_runs"
					 " WHERE source = ? AND result = 'ok' ORDER BY id DESC LIMIT 1", "s", uri);
	char *c = NULL;

	*ret_memberships = -1;
	if (st && isms_db_step(st, NULL) == 1) {
		c = isms_db_col_strdup(st, 0);
		if (sqlite3_column_type(st, 1) == SQLITE_INTEGER)
			*ret_memberships = sqlite3_column_int64(st, 1);
	}
	isms_db_done(st);
	return c;
}

json_t *isms_sync_summary_counts(const struct isms_sync_summary *s)
{
	return json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "mode", s->mode,
			 "skipped", (json_int_t)s->skipped, "conflicts", (json_int_t)s->conflicts,
			 "accounts", (json_int_t)s->accounts, "added", (json_int_t)s->added,
			 "changed", (json_int_t)s->changed, "renamed", (json_int_t)s->renamed,
			 "departed", (json_int_t)s->departed, "locked", (json_int_t)s->locked,
			 "held", (json_int_t)s->held, "groups", (json_int_t)s->groups_total,
			 "groups_added", (json_int_t)s->groups_added,
			 "groups_changed", (json_int_t)s->groups_changed,
			 "groups_removed", (json_int_t)s->groups_removed,
			 "memberships", (json_int_t)s->memberships_total,
			 "memberships_added", (json_int_t)s->memberships_added,
			 "memberships_removed", (json_int_t)s->memberships_removed);
}

static char *summary_json(const struct isms_sync_summary *s)
{
	json_t *o = isms_sync_summary_counts(s);
	char *txt = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	return txt;
}

#define CONTENT_SIZE_LIMIT "content sync stopped by the server's size limit;" \
	" give the bind DN no size limit to sync incrementally"

static double elapsed(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

int isms_sync_run(struct isms_ctx *ctx, const struct isms_sync_opts *opts,
		  struct isms_sync_summary *sum, struct isms_err *err)
{
	const struct isms_conf *conf = ctx->conf;
	struct isms_snapshot snap = { 0 };
	struct sync_delta delta = { 0 };
	long long memberships = -1;
	struct timespec t0;
	char *cookies = NULL, *new_cookies = NULL, *summary = NULL;
	int64_t started = isms_now();
	LDAP *ld = NULL;
	bool streamed = false, content = false, as_delta = false;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(sum, 0, sizeof(*sum));
	sum->mode = "full";
	if (!conf->ldap_uri[0])
		return isms_err_set(err, -EINVAL, "[ldap] uri is not set in %s; see accessctl(8), section sync",
				    conf->path);
	if (!conf->ldap_base_dn[0] && (!conf->ldap_people_base[0] || !conf->ldap_group_base[0]))
		return isms_err_set(err, -EINVAL, "[ldap] base_dn is not set in %s", conf->path);
	r = isms_ldap_connect(conf, &ld, err);
	if (r < 0)
		return r;
	if (!opts->full && isms_ldap_supports_control(ld, LDAP_CONTROL_SYNC)) {
		cookies = last_cookies(ctx->reg, conf->ldap_uri, &memberships);
		/* Without a cookie the server sends every entry: they are applied as
		 * they arrive, as a full read's are (content, below). */
		content = streamed = cookies == NULL;
		if (cookies)
			r = sync_read_incremental(ld, ctx, opts, cookies, memberships, &snap, &delta, &as_delta,
						  &new_cookies, &sum->skipped, err);
		if ((r == -ESTALE || r == -EOPNOTSUPP || r == -EBADMSG) && cookies) {
			/* Too old for the server's history, not its own, or nothing to apply it to:
			 * start over without a cookie. */
			isms_snapshot_free(&snap);
			sum->fallback = strdup(r == -ESTALE ? "sync cookie stale" :
					       r == -EBADMSG ? "stored snapshot unreadable" : "server refused the sync cookie");
			isms_err_clear(err);
			r = 0;
			content = streamed = true;
		} else if (r == -E2BIG) {
			isms_snapshot_free(&snap);
			sum->fallback = strdup(CONTENT_SIZE_LIMIT);
			isms_err_clear(err);
			r = sync_read_full(ld, conf, opts, &snap, &sum->skipped, err);
		} else if (r == 0 && cookies) {
			sum->mode = "incremental";
		}
	} else {
		streamed = true;
	}
	if (r < 0)
		goto done;

	/* One transaction may write hundreds of thousands of rows: a larger page
	 * cache keeps it from spilling to the WAL page by page (64 MiB), and
	 * statement journals stay in memory (this connection, this run only). */
	(void)isms_db_exec(ctx->reg, NULL, "PRAGMA cache_size = -65536", NULL);
	(void)isms_db_exec(ctx->reg, NULL, "PRAGMA temp_store = MEMORY", NULL);
	/* The schema's CHECK (col IN (...)) lists build a temporary index on every
	 * row written, a fifth of the cost of writing an account. Every value the
	 * sync writes to those columns is one of its own constants (status, kind,
	 * source), so the sync's statements are compiled without them. */
	(void)isms_db_exec(ctx->reg, NULL, "PRAGMA ignore_check_constraints = ON", NULL);
	r = isms_db_begin(ctx->reg, err);
	if (r < 0)
		goto done;
	if (streamed) {
		r = sync_read_and_apply(ctx, ld, opts, content ? &new_cookies : NULL, &snap, sum, err);
		if (content && (r == -EOPNOTSUPP || r == -E2BIG)) {
			/* Content sync cannot be paged: a size-limited bind DN reads in
			 * full, paged, from the start (nothing of the first try is kept). */
			char *fallback = strdup(r == -E2BIG ? CONTENT_SIZE_LIMIT : "server refused content sync");

			isms_db_rollback(ctx->reg);
			isms_snapshot_free(&snap);
			isms_sync_summary_free(sum);
			sum->mode = "full";
			sum->fallback = fallback;
			isms_err_clear(err);
			r = isms_db_begin(ctx->reg, err);
			if (r == 0)
				r = sync_read_and_apply(ctx, ld, opts, NULL, &snap, sum, err);
		}
	} else if (as_delta)
		r = sync_apply_delta(ctx, ld, &delta, opts, sum, err);
	else
		r = isms_sync_apply(ctx, ld, &snap, opts, sum, err);
	sum->duration = elapsed(&t0);
	if (r == 0) {
		summary = summary_json(sum);
		r = isms_db_exec(ctx->reg, err,
				 "INSERT INTO sync_runs (source, started_at, finished_at, mode, result, cookie, summary)"
				 " VALUES (?, ?, ?, ?, 'ok', ?, ?)", "siisss", conf->ldap_uri, started, isms_now(),
				 sum->mode, new_cookies, summary);
	}
	if (r < 0 || opts->dry_run)
		isms_db_rollback(ctx->reg);
	else
		r = isms_db_commit(ctx->reg, err);
done:
	(void)isms_db_exec(ctx->reg, NULL, "PRAGMA ignore_check_constraints = OFF", NULL);
	sum->duration = elapsed(&t0);
	isms_snapshot_free(&snap);
	sync_delta_free(&delta);
	isms_ldap_close(ld);
	free(cookies);
	free(new_cookies);
	free(summary);
	return r;
}
