/* Group membership from the directory: direct members (memberUid by name,
 * member/uniqueMember by DN), nested groups resolved with the path that grants
 * each inherited membership, and the stored snapshot the next sync diffs against. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "ldap_map.h"
#include "sync_int.h"
#include "util.h"

struct direct {
	size_t *acc;            /* account indexes */
	const char **attr;      /* the attribute that lists each */
	size_t nacc, capacc;
	size_t *child;          /* group indexes nested in this group */
	size_t nchild, capchild;
};

static int direct_add_acc(struct direct *d, size_t idx, const char *attr)
{
	for (size_t k = 0; k < d->nacc; k++)
		if (d->acc[k] == idx)
			return 0;
	if (d->nacc == d->capacc) {
		size_t cap = d->capacc ? d->capacc * 2 : 8;
		size_t *acc = realloc(d->acc, cap * sizeof(*acc));
		const char **at;

		if (!acc)
			return -ENOMEM;
		d->acc = acc;
		at = realloc(d->attr, cap * sizeof(*at));
		if (!at)
			return -ENOMEM;
		d->attr = at;
		d->capacc = cap;
	}
	d->acc[d->nacc] = idx;
	d->attr[d->nacc++] = attr;
	return 0;
}

static int direct_add_child(struct direct *d, size_t idx)
{
	for (size_t k = 0; k < d->nchild; k++)
		if (d->child[k] == idx)
			return 0;
	if (d->nchild == d->capchild) {
		size_t cap = d->capchild ? d->capchild * 2 : 4;
		size_t *c = realloc(d->child, cap * sizeof(*c));

		if (!c)
			return -ENOMEM;
		d->child = c;
		d->capchild = cap;
	}
	d->child[d->nchild++] = idx;
	return 0;
}

static int direct_by_dn(struct apply *a, struct direct *d, size_t self, char **dns, const char *attr)
{
	for (; dns && *dns; dns++) {
		size_t len = strlen(*dns), ai, gi;
		char kb[1024], *key = ISMS_DN_KEY_SIZE(len) <= sizeof(kb) ? kb : malloc(ISMS_DN_KEY_SIZE(len));
		int r = 0;

		if (!key)
			return -ENOMEM;
		isms_ldap_dn_key_into(*dns, key);
		ai = SMAP_IDX(isms_smap_get(&a->acc_dn, key));
		gi = SMAP_IDX(isms_smap_get(&a->grp_dn, key));
		if (key != kb)
			free(key);
		if (ai)
			r = direct_add_acc(d, ai - 1, attr);
		else if (gi && gi - 1 != self)
			r = direct_add_child(d, gi - 1);
		if (r < 0)
			return r;
	}
	return 0;
}

static int directs_build(struct apply *a, struct direct *dir)
{
	for (size_t g = 0; g < a->snap->ngroups; g++) {
		struct isms_ldap_entry *e = a->snap->groups[g];
		int r = 0;

		for (char **u = e->member_uid; u && *u && r == 0; u++) {
			size_t ai = SMAP_IDX(isms_smap_get(&a->acc_name, *u));

			if (ai)
				r = direct_add_acc(&dir[g], ai - 1, "memberUid");
		}
		if (r == 0)
			r = direct_by_dn(a, &dir[g], g, e->member, "member");
		if (r == 0)
			r = direct_by_dn(a, &dir[g], g, e->unique_member, "uniqueMember");
		if (r < 0)
			return r;
	}
	return 0;
}

/* "account:group:via", the key of a membership in the map: formed once per
 * membership loaded and per membership granted. buf holds MEM_KEY_MAX bytes. */
#define MEM_KEY_MAX (3 * ISMS_INT_TEXT)

static const char *mem_key(char *buf, int64_t acc, int64_t grp, int64_t via)
{
	char *o = isms_fmt_int(buf, acc);

	*o++ = ':';
	o = isms_fmt_int(o, grp);
	*o++ = ':';
	(void)isms_fmt_int(o, via);
	return buf;
}

static void existing_free(struct existing *x)
{
	free(x->key);
	free(x->path);
	free(x->attr);
}

static int existing_load(struct apply *a, struct isms_smap *m, struct existing **ret, size_t *ret_n)
{
	struct existing *ex = NULL;
	size_t n = 0, cap = 0;
	sqlite3_stmt *st;
	char key[MEM_KEY_MAX];
	int r;

	st = isms_db_query(a->ctx->reg, a->err,
			   "SELECT id, account_id, group_id, coalesce(via_id, 0), path, attr FROM memberships"
			   " WHERE source = 'ldap'", NULL);
	if (!st)
		return a->err->code;
	while ((r = isms_db_step(st, a->err)) == 1) {
		struct existing *x;

		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			x = realloc(ex, cap * sizeof(*ex));
			if (!x) {
				r = -ENOMEM;
				break;
			}
			ex = x;
		}
		x = &ex[n++];
		memset(x, 0, sizeof(*x));
		x->id = sqlite3_column_int64(st, 0);
		x->group_id = sqlite3_column_int64(st, 2);
		x->via_id = sqlite3_column_int64(st, 3);
		/* The strings of loaded rows live in the apply's pool. */
		x->path = isms_pool_strdup(&a->pool, (const char *)sqlite3_column_text(st, 4));
		x->attr = isms_pool_strdup(&a->pool, (const char *)sqlite3_column_text(st, 5));
		x->key = isms_pool_strdup(&a->pool, mem_key(key, sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2),
							    sqlite3_column_int64(st, 3)));
		if (!x->key || (!x->path && sqlite3_column_type(st, 4) != SQLITE_NULL) ||
		    (!x->attr && sqlite3_column_type(st, 5) != SQLITE_NULL)) {
			r = -ENOMEM;
			break;
		}
	}
	isms_db_done(st);
	/* The map points into the array: fill it once the array no longer moves. */
	for (size_t i = 0; i < n && r == 0; i++)
		if (isms_smap_put(m, ex[i].key, &ex[i]) < 0)
			r = -ENOMEM;
	if (r < 0) {
		isms_smap_free(m);
		free(ex);
		return r == -ENOMEM ? isms_err_set(a->err, r, "out of memory") : r;
	}
	*ret = ex;
	*ret_n = n;
	return 0;
}

static bool same_text(const char *x, const char *y)
{
	return (!x && !y) || (x && y && strcmp(x, y) == 0);
}

/* One membership the directory grants. Each (account, group, via) comes here
 * once a sync: group_expand visits a member group once per group, and
 * directs_build lists an account once per group. The exception, a member
 * group the registry does not hold, is kept in the map (mem_put_rare). */
static int membership_put(struct apply *a, struct isms_smap *m, int64_t acc, int64_t grp, int64_t via,
			  const char *path, const char *attr)
{
	char key[MEM_KEY_MAX];
	struct existing *x;
	int r;

	x = m->n ? isms_smap_get(m, mem_key(key, acc, grp, via)) : NULL;
	if (x) {
		if (x->seen)
			return 0;
		x->seen = true;
		a->sum->memberships_total++;
		if (same_text(x->path, path) && same_text(x->attr, attr))
			return 0;
		return SYNC_EXEC(a, "UPDATE memberships SET path = ?, attr = ? WHERE id = ?",
				    "SSi", path, attr, x->id);
	}
	r = sync_batch_row(a, &a->mem_batch, "iizsS", acc, grp, via, path, attr);
	if (r < 0)
		return r;
	a->sum->memberships_added++;
	a->sum->memberships_total++;
	return 0;
}

/* A grant through a member group that has no registry row (its name is taken
 * by another directory group): recorded as direct, so it may repeat a direct
 * grant or another such one. */
static int mem_put_rare(struct apply *a, struct isms_smap *m, const struct direct *dg, size_t acc_idx,
			int64_t grp, const char *path, const char *attr)
{
	char key[MEM_KEY_MAX];
	int64_t acc = a->acc_id[acc_idx];
	struct existing *x;
	int r;

	for (size_t k = 0; k < dg->nacc; k++)
		if (dg->acc[k] == acc_idx)
			return 0;   /* a direct member already */
	x = isms_smap_get(m, mem_key(key, acc, grp, 0));
	if (x && x->id == -1)
		return 0;
	r = membership_put(a, m, acc, grp, 0, path, attr);
	if (r < 0 || x)
		return r;
	x = calloc(1, sizeof(*x));
	if (!x)
		return isms_err_set(a->err, -ENOMEM, "out of memory");
	x->seen = true;
	x->id = -1;   /* inserted by this run: freed one by one */
	x->key = strdup(key);
	if (!x->key || isms_smap_put(m, x->key, x) < 0) {
		free(x->key);
		free(x);
		return isms_err_set(a->err, -ENOMEM, "out of memory");
	}
	return 0;
}

/* Walk down from group g through nested groups; every account reached is a
 * member of g, via the group it is directly in, with the chain that grants it. */
static int group_expand(struct apply *a, struct direct *dir, size_t g, struct isms_smap *m,
			unsigned *mark, unsigned gen)
{
	size_t *queue = malloc((a->snap->ngroups + 1) * sizeof(*queue));
	char **paths = calloc(a->snap->ngroups + 1, sizeof(*paths));
	size_t head = 0, tail = 0;
	int r = 0;

	if (!queue || !paths) {
		free(queue);
		free(paths);
		return isms_err_set(a->err, -ENOMEM, "out of memory");
	}
	queue[tail++] = g;
	mark[g] = gen;
	while (head < tail && r == 0) {
		size_t d = queue[head];
		const char *path = paths[head];

		head++;
		for (size_t k = 0; k < dir[d].nacc && r == 0; k++) {
			int64_t acc = a->acc_id[dir[d].acc[k]];

			if (!acc || !a->grp_id[g])
				continue;
			if (d != g && !a->grp_id[d])
				r = mem_put_rare(a, m, &dir[g], dir[d].acc[k], a->grp_id[g], path, dir[d].attr[k]);
			else
				r = membership_put(a, m, acc, a->grp_id[g], d == g ? 0 : a->grp_id[d], path,
						   dir[d].attr[k]);
		}
		for (size_t k = 0; k < dir[d].nchild && r == 0; k++) {
			size_t c = dir[d].child[k];

			if (mark[c] == gen)
				continue;   /* visited, or a cycle */
			mark[c] = gen;
			if (asprintf(&paths[tail], "%s > %s", a->snap->groups[c]->name,
				     path ? path : a->snap->groups[g]->name) < 0) {
				paths[tail] = NULL;
				r = isms_err_set(a->err, -ENOMEM, "out of memory");
				break;
			}
			queue[tail++] = c;
		}
	}
	for (size_t i = 0; i < tail; i++)
		free(paths[i]);
	free(paths);
	free(queue);
	return r;
}

static int nesting_apply(struct apply *a, struct direct *dir)
{
	struct isms_smap want = { 0 };
	char **keys = calloc(a->snap->ngroups + 1, sizeof(*keys));
	sqlite3_stmt *st;
	int r = 0;

	if (!keys)
		return isms_err_set(a->err, -ENOMEM, "out of memory");
	/* Desired pairs, then drop stale rows of directory groups and add the missing ones. */
	for (size_t g = 0; g < a->snap->ngroups && r == 0; g++)
		for (size_t k = 0; k < dir[g].nchild && r == 0; k++) {
			char key[64];

			if (!a->grp_id[g] || !a->grp_id[dir[g].child[k]])
				continue;
			(void)snprintf(key, sizeof(key), "%" PRId64 ":%" PRId64, a->grp_id[g],
				       a->grp_id[dir[g].child[k]]);
			r = SYNC_EXEC(a, "INSERT OR IGNORE INTO group_nesting (parent_id, child_id) VALUES (?, ?)", "ii",
					 a->grp_id[g], a->grp_id[dir[g].child[k]]);
			if (r == 0) {
				char *kk = strdup(key);

				if (!kk || isms_smap_put(&want, kk, kk) < 0) {
					free(kk);
					r = isms_err_set(a->err, -ENOMEM, "out of memory");
				}
			}
		}
	st = r ? NULL : isms_db_query(a->ctx->reg, a->err,
				      "SELECT n.parent_id, n.child_id FROM group_nesting n JOIN groups g ON g.id = n.parent_id"
				      " WHERE g.source = 'ldap'", NULL);
	if (!st && r == 0)
		r = a->err->code;
	while (st && r == 0 && (r = isms_db_step(st, a->err)) == 1) {
		char key[64];
		int64_t p = sqlite3_column_int64(st, 0), c = sqlite3_column_int64(st, 1);

		r = 0;
		(void)snprintf(key, sizeof(key), "%" PRId64 ":%" PRId64, p, c);
		if (!isms_smap_get(&want, key))
			r = SYNC_EXEC(a, "DELETE FROM group_nesting WHERE parent_id = ? AND child_id = ?", "ii", p, c);
	}
	isms_db_done(st);
	for (size_t i = 0; i < want.cap; i++)
		free((char *)want.slots[i].key);
	isms_smap_free(&want);
	free(keys);
	return r < 0 ? r : 0;
}

/* The directory's memberships in the registry: read with the registry (while
 * the directory is still being read), compared once the snapshot is whole. */
int sync_members_load(struct apply *a)
{
	return existing_load(a, &a->mem, &a->mem_ex, &a->nmem_ex);
}

void sync_members_free(struct apply *a)
{
	for (size_t i = 0; i < a->mem.cap; i++) {
		struct existing *x = a->mem.slots[i].val;

		if (a->mem.slots[i].key && x && x->id == -1) {
			existing_free(x);
			free(x);
		}
	}
	free(a->mem_ex);   /* their strings are in the pool */
	a->mem_ex = NULL;
	a->nmem_ex = 0;
	isms_smap_free(&a->mem);
}

/* Was group id removed by this sync? Memberships were loaded before. */
static bool group_removed(const struct apply *a, int64_t id)
{
	if (!a->sum->groups_removed)
		return false;
	for (size_t i = 0; id && i < a->nrgrp; i++)
		if (a->rgrp[i].id == id)
			return a->rgrp[i].removed;
	return false;
}

int sync_apply_members(struct apply *a)
{
	size_t ng = a->snap->ngroups;
	struct direct *dir = calloc(ng + 1, sizeof(*dir));
	unsigned *mark = calloc(ng + 1, sizeof(*mark));
	struct existing *ex = a->mem_ex;
	int r;

	if (!dir || !mark) {
		r = isms_err_set(a->err, -ENOMEM, "out of memory");
		goto done;
	}
	r = directs_build(a, dir);
	if (r < 0) {
		r = isms_err_set(a->err, r, "out of memory");
		goto done;
	}
	for (size_t g = 0; g < ng && r == 0; g++)
		r = group_expand(a, dir, g, &a->mem, mark, (unsigned)g + 1);
	for (size_t i = 0; i < a->nmem_ex && r == 0; i++) {
		if (ex[i].seen || group_removed(a, ex[i].group_id) || group_removed(a, ex[i].via_id))
			continue;   /* still granted, or gone with its group (ON DELETE CASCADE) */
		r = SYNC_EXEC(a, "DELETE FROM memberships WHERE id = ?", "i", ex[i].id);
		a->sum->memberships_removed++;
	}
	if (r == 0)
		r = sync_batch_flush(a, &a->mem_batch);
	if (r == 0)
		r = nesting_apply(a, dir);
done:
	for (size_t g = 0; dir && g < ng; g++) {
		free(dir[g].acc);
		free(dir[g].attr);
		free(dir[g].child);
	}
	free(dir);
	free(mark);
	return r;
}

/* The stored snapshot: a row for a new or changed entry... */
int sync_apply_entry(struct apply *a, enum isms_ldap_kind kind, size_t i)
{
	struct isms_ldap_entry *e = kind == ISMS_LDAP_ACCOUNT ? a->snap->accounts[i] : a->snap->groups[i];
	const char *json = kind == ISMS_LDAP_ACCOUNT ? a->acc_json[i] : a->grp_json[i];
	struct stored_entry *se = isms_smap_get(&a->stored_uuid[kind], e->uuid);

	if (se && strcmp(se->data, json) == 0 && strcmp(se->dn, e->dn) == 0)
		return 0;
	/* The entry and its stored form outlive the batch (freed with the apply, after the flush). */
	return sync_batch_row(a, &a->entry_batch, "SSSS", e->uuid, kind == ISMS_LDAP_ACCOUNT ? "account" : "group",
			      e->dn, json);
}

/* ...and none for a gone one. */
int sync_apply_entries_gone(struct apply *a)
{
	int r = sync_batch_flush(a, &a->entry_batch);

	for (size_t i = 0; i < a->nstored && r == 0; i++) {
		const struct stored_entry *se = &a->stored[i];

		if (isms_smap_get(&a->snap_uuid[sync_stored_kind(se)], se->uuid))
			continue;
		r = SYNC_EXEC(a, "DELETE FROM ldap_entries WHERE uuid = ? AND kind = ?", "SS", se->uuid, se->kind);
	}
	return r;
}
