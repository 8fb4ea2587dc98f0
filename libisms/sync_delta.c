/* An incremental sync applied as a delta: the accounts the directory changed
 * or removed, and the stored accounts that depend on them, are written; the
 * rest of the registry is left as it is, and the stored snapshot is scanned
 * rather than read into memory. Taken only when the changes are ones a delta
 * applies exactly as a full apply would (see sync_delta_prepare); otherwise
 * the stored snapshot is merged with the changes and applied in full. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "db.h"
#include "ldap_map.h"
#include "sync_int.h"
#include "util.h"

/* mgr_no's value for a manager entry without an employee number. */
static char no_employee[] = "";

static int oom(struct isms_err *err)
{
	return isms_err_set(err, -ENOMEM, "out of memory");
}

/* A copy of s (n bytes) the delta owns, for its maps (which borrow keys). */
static char *keep(struct sync_delta *d, const char *s, size_t n)
{
	char *c, **o;

	if (d->nowned % 256 == 0) {
		o = realloc(d->owned, (d->nowned + 256) * sizeof(*o));
		if (!o)
			return NULL;
		d->owned = o;
	}
	c = strndup(s, n);
	if (c)
		d->owned[d->nowned++] = c;
	return c;
}

void sync_delta_free(struct sync_delta *d)
{
	isms_snapshot_free(&d->snap);
	free(d->stored);
	isms_pool_free(&d->pool);
	free(d->order);
	for (size_t i = 0; i < d->nowned; i++)
		free(d->owned[i]);
	free(d->owned);
	free(d->gone);
	isms_smap_free(&d->changed_dn);
	isms_smap_free(&d->mgr_no);
	isms_smap_free(&d->want);
	isms_smap_free(&d->written);
	memset(d, 0, sizeof(*d));
}

/* The DN key of dn (len bytes) in kb (1024 bytes), or in *big (malloc'd) when
 * longer. NULL when out of memory. */
static const char *key_of(const char *dn, size_t len, char *kb, char **big)
{
	char tmp[512], *src = tmp;   /* the key of a DN shorter than this fits kb */

	_Static_assert(ISMS_DN_KEY_SIZE(sizeof(tmp) - 1) <= 1024, "kb holds the key");

	if (len >= sizeof(tmp)) {
		*big = malloc(len + 1 + ISMS_DN_KEY_SIZE(len));
		if (!*big)
			return NULL;
		src = *big;
		kb = *big + len + 1;
	}
	memcpy(src, dn, len);
	src[len] = '\0';
	isms_ldap_dn_key_into(src, kb);
	return kb;
}

/* The DN key of the string value a stored view points at. */
static const char *view_key(const char *quote, char *kb, char **big)
{
	const char *p, *k;
	size_t n;
	char *s;

	if (isms_ldap_stored_plain(quote, &p, &n))
		return key_of(p, n, kb, big);
	s = isms_ldap_stored_str(quote);
	if (!s)
		return NULL;
	k = key_of(s, strlen(s), kb, big);
	free(s);
	return k;
}

/* An unchanged stored account, as the first pass saw it: the hashes of its
 * manager's DN key and its own, to find it again without a second scan. */
struct row_ref {
	size_t mhash, dhash;
	int64_t rowid;
	size_t row;
	bool manager;           /* mhash is set */
};

struct pass {
	struct sync_delta *d;
	struct sync_changes *acc, *grp;
	const struct isms_conf *conf;
	struct isms_smap cmap;          /* uuid -> changed account entry */
	size_t row, matched;
	long long active;               /* stored accounts the registry holds as neither departed nor revoked */
	int64_t now;
	bool second;                    /* looking again at rows for reports of gone accounts and managers not yet found */
	struct row_ref *refs;           /* every unchanged stored account (first pass) */
	size_t nrefs, caprefs;
	bool ineligible;
	struct isms_err *err;
};

static bool is_gone(const struct sync_changes *c, const char *uuid)
{
	return isms_smap_get(c->deleted, uuid) || (!c->refresh_deletes && !isms_smap_get(c->present, uuid));
}

static int put_key(struct sync_delta *d, struct isms_smap *m, const char *k, struct isms_err *err)
{
	char *kk = keep(d, k, strlen(k));

	return kk && isms_smap_put(m, kk, kk) == 0 ? 0 : oom(err);
}

/* Ask for the employee number of the entry at this manager DN, unless a
 * change provides it. */
static int want_manager(struct pass *p, const char *manager_dn)
{
	struct sync_delta *d = p->d;
	char kb[1024], *big = NULL;
	const char *k = manager_dn ? key_of(manager_dn, strlen(manager_dn), kb, &big) : NULL;
	int r = 0;

	if (manager_dn && !k)
		return oom(p->err);
	if (k && !isms_smap_get(&d->changed_dn, k) && !isms_smap_get(&d->want, k))
		r = put_key(d, &d->want, k, p->err);
	free(big);
	return r;
}

static int stored_add(struct sync_delta *d, const char *uuid, const char *dn, const char *data, struct isms_err *err)
{
	struct stored_entry *se;

	if (d->nstored % 64 == 0) {
		se = realloc(d->stored, (d->nstored + 64) * sizeof(*se));
		if (!se)
			return oom(err);
		d->stored = se;
	}
	se = &d->stored[d->nstored++];
	se->uuid = isms_pool_strdup(&d->pool, uuid);
	se->dn = isms_pool_strdup(&d->pool, dn);
	se->data = isms_pool_strdup(&d->pool, data);
	se->kind = isms_pool_strdup(&d->pool, "account");
	return se->uuid && se->dn && se->data && se->kind ? 0 : oom(err);
}

/* A stored account whose row depends on a change, or on the time: written
 * again, as a full apply writes it. */
static int written_add(struct pass *p, const char *uuid, const char *dn, const char *data)
{
	struct sync_delta *d = p->d;
	struct isms_ldap_entry *e = NULL;
	size_t *o;
	int r;

	if (isms_smap_get(&d->written, uuid))
		return 0;
	r = isms_ldap_entry_from_json(uuid, dn, ISMS_LDAP_ACCOUNT, data, &e);
	if (r < 0)
		return r == -EBADMSG ? isms_err_set(p->err, r, "stored snapshot unreadable") : oom(p->err);
	if (isms_snapshot_add(&d->snap, e) < 0) {
		isms_ldap_entry_free(e);
		return oom(p->err);
	}
	o = realloc(d->order, d->snap.naccounts * sizeof(*o));
	if (!o)
		return oom(p->err);
	d->order = o;
	o[d->snap.naccounts - 1] = p->row;
	if (isms_smap_put(&d->written, e->uuid, e) < 0)
		return oom(p->err);
	r = stored_add(d, uuid, dn, data, p->err);
	return r < 0 ? r : want_manager(p, e->manager_dn);
}

/* A stored account changed by the directory: the same name and DN (else the
 * memberships that name it may change: not a delta). */
static int changed_row(struct pass *p, struct isms_ldap_entry *ce, const char *dn, const char *data,
		       const struct isms_ldap_stored_view *v, const char *key)
{
	char *name = isms_ldap_stored_str(v->name), kb[1024], *big = NULL;
	const char *ck = key_of(ce->dn, strlen(ce->dn), kb, &big);
	int r = 0;

	if (!name || !ck)
		r = oom(p->err);
	else if (strcmp(name, ce->name) != 0 || strcmp(ck, key) != 0)
		p->ineligible = true;
	else
		r = stored_add(p->d, ce->uuid, dn, data, p->err);
	p->matched++;
	free(name);
	free(big);
	return r;
}

/* Does the registry's status stand for an unchanged entry, as account_write
 * decides: the one its lock attributes give at this time, or revoked, or held? */
static bool status_holds(const struct pass *p, const char *status, const struct isms_ldap_stored_view *v)
{
	struct isms_ldap_entry t = { .locked_time = v->locked_time ? (char *)"" : NULL,
				     .shadow_expire = v->shadow_expire };
	char why[8];

	return strcmp(status, isms_ldap_entry_locked(&t, p->now, why, sizeof(why)) ? "locked" : "active") == 0 ||
	       strcmp(status, "revoked") == 0 || strcmp(status, "held") == 0;
}

/* The entry at a manager DN asked for: its employee number. */
static int manager_found(struct pass *p, const char *key, const struct isms_ldap_stored_view *v)
{
	char *no = v->employee_no ? isms_ldap_stored_str(v->employee_no) : NULL, *kno = no_employee, *kk;
	int r = 0;

	if (v->employee_no && !no)
		return oom(p->err);
	if (no)
		kno = keep(p->d, no, strlen(no));
	kk = keep(p->d, key, strlen(key));
	if (!kno || !kk || isms_smap_put(&p->d->mgr_no, kk, kno) < 0)
		r = oom(p->err);
	free(no);
	return r;
}

/* A stored group, unchanged in the directory: the registry's row must be what
 * a full apply would leave it (group_write writes nothing then), with the
 * privileged flag the configuration gives now. Otherwise: a full apply. */
static int group_row(struct pass *p, sqlite3_stmt *st, const char *uuid, const char *dn,
		     const struct isms_ldap_stored_view *v)
{
	const char *rname = (const char *)sqlite3_column_text(st, 7);
	const char *rdn = (const char *)sqlite3_column_text(st, 9);
	long long gid = sqlite3_column_type(st, 8) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 8);
	char *name;

	if (sqlite3_column_type(st, 6) == SQLITE_NULL || is_gone(p->grp, uuid)) {
		p->ineligible = true;   /* a group gone, or one the registry does not hold */
		return 0;
	}
	name = isms_ldap_stored_str(v->name);
	if (!name)
		return oom(p->err);
	p->ineligible = !rname || strcmp(rname, name) != 0 || gid != v->number || !rdn || strcmp(rdn, dn) != 0 ||
			sqlite3_column_int(st, 6) != (isms_list_contains(p->conf->ldap_privileged_groups, name) ? 1 : 0);
	free(name);
	return 0;
}

/* Does the stored name (a view's quoted string) equal the registry's? */
static bool same_name(const char *quote, const char *name)
{
	const char *s;
	size_t n;
	char *dec;
	bool same;

	if (!quote || !name)
		return !quote && !name;
	if (isms_ldap_stored_plain(quote, &s, &n))
		return strlen(name) == n && memcmp(s, name, n) == 0;
	dec = isms_ldap_stored_str(quote);
	same = dec && strcmp(dec, name) == 0;
	free(dec);
	return same;
}

static int ref_add(struct pass *p, sqlite3_stmt *st, const char *key, const char *mkey)
{
	if (p->nrefs == p->caprefs) {
		size_t cap = p->caprefs ? p->caprefs * 2 : 1024;
		struct row_ref *n = realloc(p->refs, cap * sizeof(*n));

		if (!n)
			return oom(p->err);
		p->refs = n;
		p->caprefs = cap;
	}
	p->refs[p->nrefs++] = (struct row_ref){ .mhash = mkey ? isms_smap_hash(mkey) : 0, .dhash = isms_smap_hash(key),
						.rowid = sqlite3_column_int64(st, 10), .row = p->row,
						.manager = mkey != NULL };
	return 0;
}

/* One stored row. Columns: uuid, kind, dn, data, account status, account
 * source, then the group's privileged, name, gid, dn, the row's rowid and the
 * account's name; a NULL status or privileged: not in the registry. */
static int pass_row(struct pass *p, sqlite3_stmt *st)
{
	struct sync_delta *d = p->d;
	const char *uuid = (const char *)sqlite3_column_text(st, 0);
	const char *kind = (const char *)sqlite3_column_text(st, 1);
	const char *dn = (const char *)sqlite3_column_text(st, 2);
	const char *data = (const char *)sqlite3_column_text(st, 3);
	const char *status = (const char *)sqlite3_column_text(st, 4);
	const char *source = (const char *)sqlite3_column_text(st, 5);
	struct isms_ldap_stored_view v;
	struct isms_ldap_entry *ce;
	char kb[1024], mb[1024], *big = NULL, *mbig = NULL;
	const char *key, *mkey = NULL;
	int r;

	if (!uuid || !kind || !dn || !data)
		return isms_err_set(p->err, -EBADMSG, "stored snapshot unreadable");
	r = isms_ldap_stored_scan(data, &v);
	if (r < 0)
		return isms_err_set(p->err, r, "stored snapshot unreadable");
	if (strcmp(kind, "group") == 0) {
		if (p->second)
			return 0;
		d->ngroups++;
		return group_row(p, st, uuid, dn, &v);
	}
	ce = isms_smap_get(&p->cmap, uuid);
	if (!status || !same_name(v.name, (const char *)sqlite3_column_text(st, 11))) {
		/* An entry without its account, or whose rename a conflict held back:
		 * a full apply reports it (and retries the rename). */
		p->ineligible = true;
		return 0;
	}
	if (!p->second && strcmp(source, "ldap") == 0 && strcmp(status, "departed") != 0 &&
	    strcmp(status, "revoked") != 0)
		p->active++;
	key = key_of(dn, strlen(dn), kb, &big);
	if (!key)
		return oom(p->err);
	if (ce) {
		if (!p->second) {
			d->naccounts++;
			r = changed_row(p, ce, dn, data, &v, key);
		}
	} else if (is_gone(p->acc, uuid)) {
		if (!p->second) {
			char *u = keep(d, uuid, strlen(uuid)), **g = realloc(d->gone, (d->ngone + 1) * sizeof(*g));

			if (g)
				d->gone = g;
			if (!u || !g)
				r = oom(p->err);
			else
				d->gone[d->ngone++] = u;
			if (r == 0)
				r = put_key(d, &d->changed_dn, key, p->err);
		}
	} else {
		if (!p->second)
			d->naccounts++;
		if (isms_smap_get(&d->want, key) && !isms_smap_get(&d->mgr_no, key))
			r = manager_found(p, key, &v);
		if (r == 0 && v.manager_dn) {
			mkey = view_key(v.manager_dn, mb, &mbig);
			if (!mkey)
				r = oom(p->err);
		}
		if (r == 0 && !p->second)
			r = ref_add(p, st, key, mkey);
		/* Written again when its manager changed or left, or when the registry's
		 * status is not the one the entry gives now (account_write's test). */
		if (r == 0 && ((mkey && isms_smap_get(&d->changed_dn, mkey)) || (!p->second && !status_holds(p, status, &v))))
			r = written_add(p, uuid, dn, data);
	}
	free(big);
	free(mbig);
	return r;
}

#define PASS_SELECT "SELECT e.uuid, e.kind, e.dn, e.data, a.status, a.source, g.privileged, g.name, g.gid, g.dn," \
	" e.rowid, a.name FROM ldap_entries e" \
	" LEFT JOIN accounts a ON e.kind = 'account' AND a.source_uuid = e.uuid" \
	" LEFT JOIN groups g ON e.kind = 'group' AND g.source_uuid = e.uuid"

static int hash_cmp(const void *x, const void *y)
{
	size_t a = *(const size_t *)x, b = *(const size_t *)y;

	return a < b ? -1 : a > b;
}

static bool hash_in(const size_t *set, size_t n, size_t h)
{
	return n && bsearch(&h, set, n, sizeof(*set), hash_cmp);
}

/* Look again at the unchanged accounts that report to a gone account, or sit
 * at a manager DN not yet found: by the hashes the first pass kept, reading
 * only those rows (a hash that matches by chance costs a row read, nothing
 * else: pass_row compares the keys themselves). */
static int pass_again(struct pass *p, sqlite3 *reg)
{
	struct sync_delta *d = p->d;
	size_t *gone = calloc(d->changed_dn.n + 1, sizeof(*gone)), *want = calloc(d->want.n + 1, sizeof(*want));
	size_t ngone = 0, nwant = 0;
	sqlite3_stmt *st = NULL;
	int r = 0;

	if (!gone || !want) {
		r = oom(p->err);
		goto done;
	}
	for (size_t i = 0; i < d->changed_dn.cap; i++)
		if (d->changed_dn.slots[i].key)
			gone[ngone++] = d->changed_dn.slots[i].hash;
	for (size_t i = 0; i < d->want.cap; i++)
		if (d->want.slots[i].key && !isms_smap_get(&d->mgr_no, d->want.slots[i].key))
			want[nwant++] = d->want.slots[i].hash;
	qsort(gone, ngone, sizeof(*gone), hash_cmp);
	qsort(want, nwant, sizeof(*want), hash_cmp);
	p->second = true;
	for (size_t i = 0; i < p->nrefs && r == 0 && !p->ineligible; i++) {
		const struct row_ref *ref = &p->refs[i];

		if (!(ref->manager && hash_in(gone, ngone, ref->mhash)) && !hash_in(want, nwant, ref->dhash))
			continue;
		if (!st)
			st = isms_db_query(reg, p->err, PASS_SELECT " WHERE e.rowid = ?", "i", ref->rowid);
		else if (isms_db_rebind(st, p->err, "i", ref->rowid) < 0)
			break;
		if (!st) {
			r = p->err->code;
			break;
		}
		p->row = ref->row;
		r = isms_db_step(st, p->err);
		if (r == 1)
			r = pass_row(p, st);
	}
	isms_db_done(st);
done:
	free(gone);
	free(want);
	return r < 0 ? r : 0;
}

static int pass_run(struct pass *p, sqlite3 *reg)
{
	sqlite3_stmt *st = isms_db_query(reg, p->err,
					 PASS_SELECT, NULL);
	int r = 0;

	if (!st)
		return p->err->code;
	p->row = 0;
	while (!p->ineligible && (r = isms_db_step(st, p->err)) == 1) {
		r = pass_row(p, st);
		if (r < 0)
			break;
		p->row++;
	}
	isms_db_done(st);
	return p->ineligible ? 0 : r;
}

static long long count_of(sqlite3 *reg, const char *sql, struct isms_err *err)
{
	sqlite3_stmt *st = isms_db_query(reg, err, sql, NULL);
	long long n = -1;

	if (st && isms_db_step(st, err) == 1)
		n = sqlite3_column_int64(st, 0);
	isms_db_done(st);
	return n;
}

/* Sort the stored accounts to write into the order of their rows, which is
 * the order a full apply writes them in. */
static void order_written(struct sync_delta *d)
{
	for (size_t i = 1; i < d->snap.naccounts; i++) {
		struct isms_ldap_entry *e = d->snap.accounts[i];
		size_t o = d->order[i], k = i;

		for (; k > 0 && d->order[k - 1] > o; k--) {
			d->snap.accounts[k] = d->snap.accounts[k - 1];
			d->order[k] = d->order[k - 1];
		}
		d->snap.accounts[k] = e;
		d->order[k] = o;
	}
}

int sync_delta_prepare(struct isms_ctx *ctx, struct sync_changes *acc, struct sync_changes *grp,
		       long long memberships, struct sync_delta *d, struct isms_err *err)
{
	struct pass p = { .d = d, .acc = acc, .grp = grp, .conf = ctx->conf, .err = err, .now = isms_now() };
	struct isms_snapshot *ch = acc->changed;
	long long active;
	bool need_second = false;
	int r = 0;

	memset(d, 0, sizeof(*d));
	/* A group changed or gone changes memberships and paths: a full apply. */
	if (grp->changed->ngroups || grp->changed->naccounts || memberships < 0 ||
	    (grp->deleted && grp->deleted->n) || ch->ngroups)
		return 0;
	for (size_t i = 0; i < ch->naccounts && r == 0; i++) {
		const char *k;
		char kb[1024], *big = NULL;

		if (isms_smap_put(&p.cmap, ch->accounts[i]->uuid, ch->accounts[i]) < 0) {
			r = oom(err);
			break;
		}
		k = key_of(ch->accounts[i]->dn, strlen(ch->accounts[i]->dn), kb, &big);
		r = k ? put_key(d, &d->changed_dn, k, err) : oom(err);
		free(big);
	}
	for (size_t i = 0; i < ch->naccounts && r == 0; i++)
		r = want_manager(&p, ch->accounts[i]->manager_dn);
	if (r == 0)
		r = pass_run(&p, ctx->reg);
	/* Every change must be to an entry already stored (an added one may be
	 * named by groups: a full apply). */
	if (r == 0 && !p.ineligible && p.matched != ch->naccounts)
		p.ineligible = true;
	if (r == 0 && !p.ineligible) {
		for (size_t i = 0; i < d->want.cap && !need_second; i++)
			need_second = d->want.slots[i].key && !isms_smap_get(&d->mgr_no, d->want.slots[i].key);
		if (need_second || d->ngone)
			r = pass_again(&p, ctx->reg);
	}
	/* The registry as the last sync left it: every account it holds active
	 * from the directory is in the stored snapshot, and every membership the
	 * last sync counted is there (another command may have changed either;
	 * a full apply puts them right). */
	if (r == 0 && !p.ineligible) {
		active = count_of(ctx->reg, "SELECT count(*) FROM accounts WHERE source = 'ldap'"
				  " AND source_uuid IS NOT NULL AND status NOT IN ('departed', 'revoked')", err);
		d->memberships = count_of(ctx->reg, "SELECT count(*) FROM memberships WHERE source = 'ldap'", err);
		if (active < 0 || d->memberships < 0)
			r = err->code ? err->code : -EIO;
		else if (active != p.active || d->memberships != memberships)
			p.ineligible = true;
		d->active_before = active;
	}
	isms_smap_free(&p.cmap);
	free(p.refs);
	if (r < 0 || p.ineligible) {
		/* The changed entries stay with the caller. */
		sync_delta_free(d);
		return r;
	}
	order_written(d);
	for (size_t i = 0; i < ch->naccounts; i++)
		if (isms_snapshot_add(&d->snap, ch->accounts[i]) < 0) {
			/* The entries moved so far are the delta's: the caller keeps the rest. */
			memmove(ch->accounts, ch->accounts + i, (ch->naccounts - i) * sizeof(*ch->accounts));
			ch->naccounts -= i;
			sync_delta_free(d);
			return oom(err);
		}
	ch->naccounts = 0;
	return 1;
}

/* The registry's rows of the accounts a delta touches, in id order (the
 * order a full apply looks at departures in). */
static int delta_load(struct apply *a, struct sync_delta *d)
{
	size_t n = d->snap.naccounts + d->ngone;

	a->racc = calloc(n + 1, sizeof(*a->racc));
	if (!a->racc)
		return oom(a->err);
	for (size_t i = 0; i < n; i++) {
		const char *uuid = i < d->snap.naccounts ? d->snap.accounts[i]->uuid : d->gone[i - d->snap.naccounts];
		sqlite3_stmt *st = SYNC_QUERY(a, "SELECT " SYNC_ACCOUNT_COLUMNS " FROM accounts WHERE source_uuid = ?",
					      "S", uuid);
		int r;

		if (!st)
			return a->err->code;
		r = isms_db_step(st, a->err);
		if (r == 1 && sync_account_read(st, &a->racc[a->nracc++], &a->pool) < 0)
			r = oom(a->err);
		(void)sqlite3_reset(st);
		if (r < 0)
			return r;
	}
	for (size_t i = 1; i < a->nracc; i++)
		for (size_t k = i; k > 0 && a->racc[k - 1].id > a->racc[k].id; k--) {
			struct reg_account t = a->racc[k];

			a->racc[k] = a->racc[k - 1];
			a->racc[k - 1] = t;
		}
	for (size_t i = 0; i < a->nracc; i++)
		if (isms_smap_put(&a->racc_name, a->racc[i].name, &a->racc[i]) < 0 ||
		    isms_smap_put(&a->racc_uuid, a->racc[i].uuid, &a->racc[i]) < 0)
			return oom(a->err);
	/* The stored rows move to the apply, which frees them. */
	a->stored = d->stored;
	a->nstored = d->nstored;
	isms_pool_adopt(&a->pool, &d->pool);
	d->stored = NULL;
	d->nstored = 0;
	a->active_before = d->active_before;
	return sync_stored_index(a);
}

/* A gone account's memberships go, as a full apply finds none for it. */
static int delta_memberships(struct apply *a, struct sync_delta *d)
{
	for (size_t i = 0; i < d->ngone; i++) {
		struct reg_account *ra = isms_smap_get(&a->racc_uuid, d->gone[i]);
		int r;

		if (!ra)
			continue;
		r = SYNC_EXEC(a, "DELETE FROM memberships WHERE account_id = ? AND source = 'ldap'", "i", ra->id);
		if (r < 0)
			return r;
		a->sum->memberships_removed += sqlite3_changes(a->ctx->reg);
	}
	a->sum->memberships_total = d->memberships - a->sum->memberships_removed;
	for (size_t i = 0; i < d->ngone; i++) {
		int r = SYNC_EXEC(a, "DELETE FROM ldap_entries WHERE uuid = ? AND kind = 'account'", "S", d->gone[i]);

		if (r < 0)
			return r;
	}
	return 0;
}

int sync_apply_delta(struct isms_ctx *ctx, LDAP *ld, struct sync_delta *d, const struct isms_sync_opts *opts,
		     struct isms_sync_summary *sum, struct isms_err *err)
{
	struct apply a;
	int r;

	sync_apply_init(&a, ctx, ld, &d->snap, opts, sum, err);
	a.delta = d;
	r = delta_load(&a, d);
	for (size_t i = 0; r == 0 && i < d->snap.naccounts; i++) {
		r = sync_index_account(&a, i);
		if (r == 0)
			r = sync_apply_entry(&a, ISMS_LDAP_ACCOUNT, i);
	}
	/* Gone accounts change their reports' manager too. */
	for (size_t i = 0; r == 0 && i < d->changed_dn.cap; i++)
		if (d->changed_dn.slots[i].key && isms_smap_get(&a.changed_dn, d->changed_dn.slots[i].key) == NULL &&
		    !isms_smap_get(&a.acc_dn, d->changed_dn.slots[i].key) &&
		    isms_smap_put(&a.changed_dn, d->changed_dn.slots[i].key, IDX_SMAP(1)) < 0)
			r = oom(err);
	if (r == 0)
		r = sync_batch_flush(&a, &a.entry_batch);
	if (r == 0)
		r = sync_apply_written(&a);
	if (r == 0)
		r = delta_memberships(&a, d);
	sum->accounts = d->naccounts;
	sum->groups_total = d->ngroups;
	sync_apply_free(&a);
	return r;
}
