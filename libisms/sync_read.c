/* Reading the directory for a sync: a full paged read (RFC 2696), a content
 * sync (RFC 4533) applied to the stored snapshot, and the reader thread that
 * hands the entries of a full read, or of a content sync without a cookie
 * (which sends every entry), to the apply as they arrive. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "db.h"
#include "ldap_conn.h"
#include "smap.h"
#include "sync.h"
#include "sync_int.h"
#include "util.h"

/* Entries read by the reader thread, waiting for the thread that applies
 * them (see sync_read_and_apply). They are handed over in batches: one wake-up per
 * entry costs more than applying an unchanged one. */
#define FEED_BATCH 256

struct feed {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct isms_ldap_entry **q;
	size_t n, cap;
	bool waiting;           /* the applying side waits for a batch */
	bool done;              /* the read has ended, with r */
	bool stop;              /* the applying side failed: end the read */
	int r;
	/* the reader's own */
	LDAP *ld;
	const struct isms_conf *conf;
	struct isms_sync_opts opts;
	bool content;           /* a content sync without a cookie, not a paged read */
	char *cookies;          /* its new cookies, as sync_read_incremental gives them */
	long long skipped;
	struct isms_err err;
};

/* Hand one entry over (the feed owns it then); -ECANCELED when told to stop. */
static int feed_push(struct feed *f, struct isms_ldap_entry *e)
{
	int r = 0;

	pthread_mutex_lock(&f->mu);
	if (f->stop) {
		r = -ECANCELED;
	} else if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 1024;
		struct isms_ldap_entry **q = realloc(f->q, cap * sizeof(*q));

		if (q) {
			f->q = q;
			f->cap = cap;
		} else {
			r = -ENOMEM;
		}
	}
	if (r == 0) {
		f->q[f->n++] = e;
		if (f->waiting && f->n >= FEED_BATCH)
			pthread_cond_signal(&f->cv);
	}
	pthread_mutex_unlock(&f->mu);
	return r;
}

struct reader {
	const struct isms_conf *conf;
	struct isms_snapshot *snap;
	struct feed *feed;      /* when set, entries go there instead of snap */
	enum isms_ldap_kind kind;
	const struct isms_sync_opts *opts;
	long long seen;
	long long *skipped;     /* entries without entryUUID or name */
	/* content sync */
	struct isms_smap present, deleted;
	char **owned;           /* uuid strings the maps point at */
	size_t nowned, capowned;
	struct isms_snapshot changed;
};

static void reader_progress(struct reader *rd)
{
	if (rd->opts->progress && (rd->seen & 1023) == 0)
		rd->opts->progress(rd->opts->progress_arg,
				   rd->kind == ISMS_LDAP_ACCOUNT ? "reading accounts" : "reading groups", rd->seen, 0);
}

/* Read one entry and hand it on (to the feed, else the snapshot). An entry
 * without entryUUID or name is not something we can key: counted as skipped
 * when count_unkeyed. */
static int reader_take(struct reader *rd, LDAP *ld, LDAPMessage *msg, bool count_unkeyed)
{
	struct isms_ldap_entry *e = NULL;
	int r = isms_ldap_entry_read(ld, msg, rd->conf, rd->kind, &e);

	if (r == -ENODATA) {
		if (count_unkeyed)
			(*rd->skipped)++;
		return 0;
	}
	if (r < 0)
		return r;
	r = rd->feed ? feed_push(rd->feed, e) : isms_snapshot_add(rd->snap, e);
	if (r < 0) {
		isms_ldap_entry_free(e);
		return r;
	}
	rd->seen++;
	reader_progress(rd);
	return 0;
}

static int paged_entry(LDAP *ld, LDAPMessage *msg, void *arg)
{
	return reader_take(arg, ld, msg, true);
}

static const char *base_of(const struct isms_conf *conf, enum isms_ldap_kind kind)
{
	const char *b = kind == ISMS_LDAP_ACCOUNT ? conf->ldap_people_base : conf->ldap_group_base;

	return b[0] ? b : conf->ldap_base_dn;
}

static const char *filter_of(const struct isms_conf *conf, enum isms_ldap_kind kind)
{
	return kind == ISMS_LDAP_ACCOUNT ? conf->ldap_people_filter : conf->ldap_group_filter;
}

static int read_full(LDAP *ld, const struct isms_conf *conf, const struct isms_sync_opts *opts,
		     struct isms_snapshot *snap, struct feed *feed, long long *skipped, struct isms_err *err)
{
	*skipped = 0;
	for (int k = 0; k < 2; k++) {
		struct reader rd = { .conf = conf, .snap = snap, .feed = feed,
				     .kind = k ? ISMS_LDAP_GROUP : ISMS_LDAP_ACCOUNT, .opts = opts, .skipped = skipped };
		const char **attrs = isms_ldap_attrs(conf, rd.kind);
		int r;

		if (!attrs)
			return isms_err_set(err, -ENOMEM, "out of memory");
		r = isms_ldap_search_paged(ld, conf, base_of(conf, rd.kind), filter_of(conf, rd.kind), attrs,
					   paged_entry, &rd, err);
		free(attrs);
		if (r < 0) {
			if (!err->code)
				isms_err_set(err, r, "%s: reading the directory: %s", conf->ldap_uri, strerror(-r));
			return r;
		}
	}
	return 0;
}

int sync_read_full(LDAP *ld, const struct isms_conf *conf, const struct isms_sync_opts *opts,
		   struct isms_snapshot *snap, long long *skipped, struct isms_err *err)
{
	return read_full(ld, conf, opts, snap, NULL, skipped, err);
}

/* The snapshot the last sync stored, for an incremental sync to change. An
 * unreadable row is -EBADMSG: the caller reads the directory in full rather
 * than lose an unchanged entry (which would look like a departure). */
static int load_stored(sqlite3 *reg, struct isms_snapshot *snap, struct isms_err *err)
{
	sqlite3_stmt *st = isms_db_query(reg, err, "SELECT uuid, kind, dn, data FROM ldap_entries", NULL);
	int r;

	if (!st)
		return err->code;
	while ((r = isms_db_step(st, err)) == 1) {
		struct isms_ldap_entry *e = NULL;
		const char *kind = (const char *)sqlite3_column_text(st, 1);

		r = isms_ldap_entry_from_json((const char *)sqlite3_column_text(st, 0),
					      (const char *)sqlite3_column_text(st, 2),
					      kind && strcmp(kind, "group") == 0 ? ISMS_LDAP_GROUP : ISMS_LDAP_ACCOUNT,
					      (const char *)sqlite3_column_text(st, 3), &e);
		if (r == 0)
			r = isms_snapshot_add(snap, e);
		if (r < 0) {
			isms_ldap_entry_free(e);
			break;
		}
	}
	isms_db_done(st);
	if (r == -EBADMSG)
		return isms_err_set(err, r, "stored snapshot unreadable");
	return r < 0 ? (err->code ? r : isms_err_set(err, r, "stored snapshot: %s", strerror(-r))) : 0;
}

static int own_uuid(struct reader *rd, const char *uuid, char **ret)
{
	if (rd->nowned == rd->capowned) {
		size_t cap = rd->capowned ? rd->capowned * 2 : 256;
		char **o = realloc(rd->owned, cap * sizeof(*o));

		if (!o)
			return -ENOMEM;
		rd->owned = o;
		rd->capowned = cap;
	}
	*ret = strdup(uuid);
	if (!*ret)
		return -ENOMEM;
	rd->owned[rd->nowned++] = *ret;
	return 0;
}

static int sync_uuid(const char *uuid, bool deleted, void *arg)
{
	struct reader *rd = arg;
	char *u;

	if (own_uuid(rd, uuid, &u) < 0)
		return -ENOMEM;
	return isms_smap_put(deleted ? &rd->deleted : &rd->present, u, u);
}

static int sync_entry(LDAP *ld, LDAPMessage *msg, enum isms_sync_state state, const char *uuid, void *arg)
{
	struct reader *rd = arg;
	struct isms_ldap_entry *e = NULL;
	int r;

	if (state == ISMS_SYNC_DELETE)
		return sync_uuid(uuid, true, arg);
	r = isms_ldap_entry_read(ld, msg, rd->conf, rd->kind, &e);
	if (r == -ENODATA) {
		/* Present without content: unchanged since the cookie. */
		if (state == ISMS_SYNC_PRESENT)
			return sync_uuid(uuid, false, arg);
		(*rd->skipped)++;
		return 0;
	}
	if (r < 0)
		return r;
	r = isms_snapshot_add(&rd->changed, e);
	if (r < 0) {
		isms_ldap_entry_free(e);
		return r;
	}
	rd->seen++;
	reader_progress(rd);
	return 0;
}

static void reader_free(struct reader *rd)
{
	isms_smap_free(&rd->present);
	isms_smap_free(&rd->deleted);
	for (size_t i = 0; i < rd->nowned; i++)
		free(rd->owned[i]);
	free(rd->owned);
	isms_snapshot_free(&rd->changed);
}

/* Apply one kind's content sync to the stored snapshot, moving entries into out. */
static int merge_kind(struct reader *rd, struct isms_snapshot *stored, bool with_cookie, bool refresh_deletes,
		      struct isms_snapshot *out)
{
	struct isms_ldap_entry **es = rd->kind == ISMS_LDAP_ACCOUNT ? stored->accounts : stored->groups;
	size_t n = rd->kind == ISMS_LDAP_ACCOUNT ? stored->naccounts : stored->ngroups;
	struct isms_ldap_entry **ch = rd->kind == ISMS_LDAP_ACCOUNT ? rd->changed.accounts : rd->changed.groups;
	size_t nch = rd->kind == ISMS_LDAP_ACCOUNT ? rd->changed.naccounts : rd->changed.ngroups;
	struct isms_smap changed = { 0 };
	int r = 0;

	for (size_t i = 0; i < nch && r == 0; i++)
		r = isms_smap_put(&changed, ch[i]->uuid, ch[i]);
	/* Unchanged stored entries stay unless deleted, or (present phase) not announced present. */
	for (size_t i = 0; i < n && r == 0 && with_cookie; i++) {
		struct isms_ldap_entry *e = es[i];

		if (!e || isms_smap_get(&changed, e->uuid) || isms_smap_get(&rd->deleted, e->uuid))
			continue;
		if (!refresh_deletes && !isms_smap_get(&rd->present, e->uuid))
			continue;
		r = isms_snapshot_add(out, e);
		if (r == 0)
			es[i] = NULL;
	}
	for (size_t i = 0; i < nch && r == 0; i++) {
		r = isms_snapshot_add(out, ch[i]);
		if (r == 0)
			ch[i] = NULL;
	}
	/* Entries moved out are NULL in their old arrays; compact those. */
	if (rd->kind == ISMS_LDAP_ACCOUNT) {
		size_t k = 0;

		for (size_t i = 0; i < rd->changed.naccounts; i++)
			if (rd->changed.accounts[i])
				rd->changed.accounts[k++] = rd->changed.accounts[i];
		rd->changed.naccounts = k;
	} else {
		size_t k = 0;

		for (size_t i = 0; i < rd->changed.ngroups; i++)
			if (rd->changed.groups[i])
				rd->changed.groups[k++] = rd->changed.groups[i];
		rd->changed.ngroups = k;
	}
	isms_smap_free(&changed);
	return r < 0 ? -ENOMEM : 0;
}

static void compact(struct isms_snapshot *s)
{
	size_t k = 0;

	for (size_t i = 0; i < s->naccounts; i++)
		if (s->accounts[i])
			s->accounts[k++] = s->accounts[i];
	s->naccounts = k;
	k = 0;
	for (size_t i = 0; i < s->ngroups; i++)
		if (s->groups[i])
			s->groups[k++] = s->groups[i];
	s->ngroups = k;
}

/* Content sync of both kinds. cookies: JSON {"accounts": "...", "groups": "..."} or NULL.
 * -ESTALE/-EOPNOTSUPP tell the caller to read in full. With a cookie for both
 * kinds the changes may apply as a delta (*ret_delta true, delta filled);
 * otherwise they are merged with the stored snapshot into snap. memberships:
 * the count the last sync reported (-1: unknown). */
int sync_read_incremental(LDAP *ld, struct isms_ctx *ctx, const struct isms_sync_opts *opts,
			  const char *cookies, long long memberships, struct isms_snapshot *snap,
			  struct sync_delta *delta, bool *ret_delta, char **ret_cookies,
			  long long *skipped, struct isms_err *err)
{
	const struct isms_conf *conf = ctx->conf;
	static const char *const names[2] = { "accounts", "groups" };
	json_t *in = cookies ? json_loads(cookies, 0, NULL) : NULL, *out = json_object();
	struct isms_snapshot stored = { 0 };
	struct reader rd[2] = { { 0 } };
	bool with_cookie[2] = { false, false }, refresh_deletes[2] = { false, false };
	int r = 0;

	*ret_delta = false;
	if (!out) {
		json_decref(in);
		return isms_err_set(err, -ENOMEM, "out of memory");
	}
	*skipped = 0;
	for (int k = 0; k < 2 && r == 0; k++) {
		struct isms_syncrepl_ops ops = { .entry = sync_entry, .uuid_set = sync_uuid, .arg = &rd[k] };
		struct isms_syncrepl_result res = { 0 };
		const char *cookie = json_string_value(json_object_get(in, names[k]));
		const char **attrs;

		rd[k] = (struct reader){ .conf = conf, .kind = k ? ISMS_LDAP_GROUP : ISMS_LDAP_ACCOUNT, .opts = opts,
					 .skipped = skipped };
		attrs = isms_ldap_attrs(conf, rd[k].kind);
		if (!attrs) {
			r = isms_err_set(err, -ENOMEM, "out of memory");
			break;
		}
		r = isms_ldap_syncrepl(ld, conf, base_of(conf, rd[k].kind), filter_of(conf, rd[k].kind), attrs, cookie,
				       &ops, &res, err);
		free(attrs);
		with_cookie[k] = cookie != NULL;
		refresh_deletes[k] = res.refresh_deletes;
		if (r == 0 && res.cookie)
			r = json_object_set_new(out, names[k], json_string(res.cookie)) < 0 ? -ENOMEM : 0;
		if (r == -ENOMEM)
			isms_err_set(err, r, "out of memory");
		free(res.cookie);
	}
	if (r == 0 && with_cookie[0] && with_cookie[1]) {
		struct sync_changes acc = { .changed = &rd[0].changed, .present = &rd[0].present,
					    .deleted = &rd[0].deleted, .refresh_deletes = refresh_deletes[0] };
		struct sync_changes grp = { .changed = &rd[1].changed, .present = &rd[1].present,
					    .deleted = &rd[1].deleted, .refresh_deletes = refresh_deletes[1] };

		r = sync_delta_prepare(ctx, &acc, &grp, memberships, delta, err);
		*ret_delta = r == 1;
		r = r < 0 ? r : 0;
	}
	/* Without a cookie the server sends everything: the stored snapshot is not needed. */
	if (r == 0 && !*ret_delta && cookies)
		r = load_stored(ctx->reg, &stored, err);
	for (int k = 0; k < 2 && r == 0 && !*ret_delta; k++) {
		r = merge_kind(&rd[k], &stored, with_cookie[k], refresh_deletes[k], snap);
		if (r == -ENOMEM)
			isms_err_set(err, r, "out of memory");
	}
	reader_free(&rd[0]);
	reader_free(&rd[1]);
	compact(&stored);
	isms_snapshot_free(&stored);
	json_decref(in);
	if (r == 0) {
		*ret_cookies = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
		if (!*ret_cookies)
			r = isms_err_set(err, -ENOMEM, "out of memory");
	}
	json_decref(out);
	return r;
}

/* An entry of a content sync without a cookie: every entry comes with its
 * attributes. What a delete or a present without attributes would say is
 * relative to a cookie, so it is passed over, as the merge of a content sync
 * without a cookie passes over it (merge_kind). */
static int stream_sync_entry(LDAP *ld, LDAPMessage *msg, enum isms_sync_state state, const char *uuid, void *arg)
{
	(void)uuid;
	if (state == ISMS_SYNC_DELETE)
		return 0;
	return reader_take(arg, ld, msg, state != ISMS_SYNC_PRESENT);
}

static int stream_sync_uuid(const char *uuid, bool deleted, void *arg)
{
	(void)uuid;
	(void)deleted;
	(void)arg;
	return 0;
}

/* Both kinds by content sync without a cookie, into the feed; the new cookies
 * in f->cookies. */
static int read_content(struct feed *f)
{
	static const char *const names[2] = { "accounts", "groups" };
	json_t *out = json_object();
	int r = out ? 0 : -ENOMEM;

	f->skipped = 0;
	for (int k = 0; k < 2 && r == 0; k++) {
		struct reader rd = { .conf = f->conf, .feed = f, .kind = k ? ISMS_LDAP_GROUP : ISMS_LDAP_ACCOUNT,
				     .opts = &f->opts, .skipped = &f->skipped };
		struct isms_syncrepl_ops ops = { .entry = stream_sync_entry, .uuid_set = stream_sync_uuid, .arg = &rd };
		struct isms_syncrepl_result res = { 0 };
		const char **attrs = isms_ldap_attrs(f->conf, rd.kind);

		if (!attrs) {
			r = -ENOMEM;
			break;
		}
		r = isms_ldap_syncrepl(f->ld, f->conf, base_of(f->conf, rd.kind), filter_of(f->conf, rd.kind), attrs,
				       NULL, &ops, &res, &f->err);
		free(attrs);
		if (r == 0 && res.cookie)
			r = json_object_set_new(out, names[k], json_string(res.cookie)) < 0 ? -ENOMEM : 0;
		free(res.cookie);
	}
	if (r == 0) {
		f->cookies = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
		if (!f->cookies)
			r = -ENOMEM;
	}
	json_decref(out);
	if (r == -ENOMEM && !f->err.code)
		isms_err_set(&f->err, r, "out of memory");
	return r;
}

static void *feed_read(void *arg)
{
	struct feed *f = arg;
	int r = f->content ? read_content(f) : read_full(f->ld, f->conf, &f->opts, NULL, f, &f->skipped, &f->err);

	pthread_mutex_lock(&f->mu);
	f->done = true;
	f->r = r;
	pthread_cond_signal(&f->cv);
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

/* Take what has arrived (waiting for something, or the end). *ret_done once the
 * read has ended and nothing is left. */
static void feed_take(struct feed *f, struct isms_ldap_entry ***batch, size_t *n, size_t *cap, bool *ret_done)
{
	struct isms_ldap_entry **q;
	size_t c;

	pthread_mutex_lock(&f->mu);
	f->waiting = true;
	while (f->n < FEED_BATCH && !f->done)
		pthread_cond_wait(&f->cv, &f->mu);
	f->waiting = false;
	/* Swap the queue with the emptied batch: no copy, no allocation. */
	q = f->q;
	c = f->cap;
	f->q = *batch;
	f->cap = *cap;
	*batch = q;
	*cap = c;
	*n = f->n;
	f->n = 0;
	*ret_done = f->done && *n == 0;
	pthread_mutex_unlock(&f->mu);
}

static void feed_stop(struct feed *f)
{
	pthread_mutex_lock(&f->mu);
	f->stop = true;
	pthread_mutex_unlock(&f->mu);
}

/* A full read with the apply running beside it: a thread reads the directory
 * while this one loads the registry and writes each entry as it arrives (all
 * of it on a first sync), so that the sync takes about as long as the slower
 * of the server and the registry rather than both. The LDAP handle is the
 * reader's until it ends; the registry is only ever used from here. */
int sync_read_and_apply(struct isms_ctx *ctx, LDAP *ld, const struct isms_sync_opts *opts, char **ret_cookies,
			struct isms_snapshot *snap, struct isms_sync_summary *sum, struct isms_err *err)
{
	struct feed f = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER,
			  .ld = ld, .conf = ctx->conf, .opts = *opts, .content = ret_cookies != NULL };
	struct isms_ldap_entry **batch = NULL;
	size_t nb = 0, capb = 0;
	struct apply a;
	pthread_t th;
	bool done = false;
	int r;

	f.opts.progress = NULL;   /* reported from this thread, the one that writes the terminal */
	sync_apply_init(&a, ctx, ld, snap, opts, sum, err);
	if (pthread_create(&th, NULL, feed_read, &f) != 0)
		return isms_err_set(err, -EAGAIN, "cannot start the directory reader thread");
	r = sync_load(&a);
	while (!done) {
		feed_take(&f, &batch, &nb, &capb, &done);
		for (size_t i = 0; i < nb; i++) {
			struct isms_ldap_entry *e = batch[i];

			if (r == 0 && isms_snapshot_add(snap, e) < 0)
				r = isms_err_set(err, -ENOMEM, "out of memory");
			else if (r == 0)
				r = sync_apply_add(&a, e->kind, e->kind == ISMS_LDAP_ACCOUNT ? snap->naccounts - 1
											 : snap->ngroups - 1);
			else
				isms_ldap_entry_free(e);
			if (r == 0 && opts->progress && ((snap->naccounts + snap->ngroups) & 1023) == 0)
				opts->progress(opts->progress_arg, e->kind == ISMS_LDAP_ACCOUNT ? "reading accounts"
												: "reading groups",
					       (long long)(e->kind == ISMS_LDAP_ACCOUNT ? snap->naccounts : snap->ngroups), 0);
		}
		if (r < 0)
			feed_stop(&f);   /* entries still arriving are freed above */
	}
	pthread_join(th, NULL);
	free(batch);
	free(f.q);
	sum->skipped = f.skipped;
	if (r == 0 && f.r < 0) {
		r = f.r;
		*err = f.err;
		if (!err->code)
			isms_err_set(err, r, "%s: reading the directory: %s", ctx->conf->ldap_uri, strerror(-r));
	}
	if (r == 0)
		r = sync_apply_finish(&a);
	sync_apply_free(&a);
	if (r == 0 && ret_cookies) {
		*ret_cookies = f.cookies;
		f.cookies = NULL;
	}
	free(f.cookies);
	return r;
}
