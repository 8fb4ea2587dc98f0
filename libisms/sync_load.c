/* What a sync diffs against: the registry's accounts and groups, the stored
 * snapshot, and indexes of the new snapshot by DN and name, with the account
 * entries that changed since the stored one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "ldap_map.h"
#include "sync_int.h"
#include "util.h"

static int oom(struct apply *a)
{
	return isms_err_set(a->err, -ENOMEM, "out of memory");
}

static void person_free(struct reg_person *p)
{
	if (!p)
		return;
	free(p->employee_no);
	free(p->uuid);
	free(p->name);
	free(p->email);
	free(p->manager_no);
	free(p->department);
	free(p->title);
	free(p->source);
	free(p);
}

int sync_person_set(char **field, const char *v)
{
	char *c = v ? strdup(v) : NULL;

	if (v && !c)
		return -ENOMEM;
	free(*field);
	*field = c;
	return 0;
}

struct reg_person *sync_person_add(struct apply *a, int64_t id, const char *employee_no, const char *uuid)
{
	struct reg_person *p;

	if (a->nrpeople == a->caprpeople) {
		size_t cap = a->caprpeople ? a->caprpeople * 2 : 256;
		struct reg_person **pp = realloc(a->rpeople, cap * sizeof(*pp));

		if (!pp)
			return NULL;
		a->rpeople = pp;
		a->caprpeople = cap;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->id = id;
	if (sync_person_set(&p->employee_no, employee_no) < 0 || sync_person_set(&p->uuid, uuid) < 0 ||
	    isms_smap_put(&a->rpeople_no, p->employee_no, p) < 0 ||
	    (p->uuid && isms_smap_put(&a->rpeople_uuid, p->uuid, p) < 0)) {
		person_free(p);
		return NULL;
	}
	a->rpeople[a->nrpeople++] = p;
	return p;
}

void sync_load_free(struct apply *a)
{
	free(a->racc);
	free(a->rgrp);
	for (size_t i = 0; i < a->nrpeople; i++)
		person_free(a->rpeople[i]);
	free(a->rpeople);
	free(a->stored);
	free(a->acc_dnkey);
	free(a->acc_json);
	free(a->acc_mgrkey);
	free(a->grp_dnkey);
	free(a->grp_json);
	free(a->acc_dirty);
	free(a->acc_mgr_later);
	free(a->acc_id);
	free(a->grp_id);
	free(a->renames_held);
	isms_smap_free(&a->racc_uuid);
	isms_smap_free(&a->racc_name);
	isms_smap_free(&a->rgrp_uuid);
	isms_smap_free(&a->rgrp_name);
	isms_smap_free(&a->grp_written);
	sync_members_free(a);
	isms_smap_free(&a->rpeople_no);
	isms_smap_free(&a->rpeople_uuid);
	for (size_t k = 0; k < ISMS_ARRAY_SIZE(a->stored_uuid); k++) {
		isms_smap_free(&a->stored_uuid[k]);
		isms_smap_free(&a->snap_uuid[k]);
	}
	isms_smap_free(&a->acc_dn);
	isms_smap_free(&a->acc_name);
	isms_smap_free(&a->grp_dn);
	isms_smap_free(&a->changed_dn);
	free(a->json);
	isms_pool_free(&a->pool);
}

/* Column col of the row, its text copied into pool (NULL for NULL). */
static char *col_pooled(sqlite3_stmt *st, int col, struct isms_pool *pool)
{
	const char *t = (const char *)sqlite3_column_text(st, col);

	return t ? isms_pool_strndup(pool, t, (size_t)sqlite3_column_bytes(st, col)) : NULL;
}

int sync_account_read(sqlite3_stmt *st, struct reg_account *ra, struct isms_pool *pool)
{
	memset(ra, 0, sizeof(*ra));
	ra->id = sqlite3_column_int64(st, 0);
	ra->name = col_pooled(st, 1, pool);
	ra->uuid = col_pooled(st, 2, pool);
	ra->status = col_pooled(st, 3, pool);
	ra->source = col_pooled(st, 4, pool);
	ra->uid = sqlite3_column_type(st, 5) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 5);
	ra->person_id = sqlite3_column_int64(st, 6);
	if (!ra->name || !ra->status || !ra->source || (!ra->uuid && sqlite3_column_type(st, 2) != SQLITE_NULL))
		return -ENOMEM;
	return 0;
}

static int load_registry(struct apply *a)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int r;

	st = isms_db_query(a->ctx->reg, a->err, "SELECT " SYNC_ACCOUNT_COLUMNS " FROM accounts", NULL);
	if (!st)
		return a->err->code;
	while ((r = isms_db_step(st, a->err)) == 1) {
		struct reg_account *ra;

		if (a->nracc == cap) {
			cap = cap ? cap * 2 : 256;
			ra = realloc(a->racc, cap * sizeof(*ra));
			if (!ra) {
				r = oom(a);
				break;
			}
			a->racc = ra;
		}
		ra = &a->racc[a->nracc++];
		if (sync_account_read(st, ra, &a->pool) < 0) {
			r = oom(a);
			break;
		}
	}
	isms_db_done(st);
	if (r < 0)
		return r;
	for (size_t i = 0; i < a->nracc; i++) {
		struct reg_account *ra = &a->racc[i];

		if (isms_smap_put(&a->racc_name, ra->name, ra) < 0 ||
		    (ra->uuid && isms_smap_put(&a->racc_uuid, ra->uuid, ra) < 0))
			return oom(a);
		if (ra->uuid && strcmp(ra->source, "ldap") == 0 && strcmp(ra->status, "departed") != 0 &&
		    strcmp(ra->status, "revoked") != 0)
			a->active_before++;
	}

	cap = 0;
	st = isms_db_query(a->ctx->reg, a->err,
			   "SELECT id, name, source_uuid, dn, gid, privileged FROM groups", NULL);
	if (!st)
		return a->err->code;
	while ((r = isms_db_step(st, a->err)) == 1) {
		struct reg_group *rg;

		if (a->nrgrp == cap) {
			cap = cap ? cap * 2 : 64;
			rg = realloc(a->rgrp, cap * sizeof(*rg));
			if (!rg) {
				r = oom(a);
				break;
			}
			a->rgrp = rg;
		}
		rg = &a->rgrp[a->nrgrp++];
		memset(rg, 0, sizeof(*rg));
		rg->id = sqlite3_column_int64(st, 0);
		rg->name = col_pooled(st, 1, &a->pool);
		rg->uuid = col_pooled(st, 2, &a->pool);
		rg->dn = col_pooled(st, 3, &a->pool);
		rg->gid = sqlite3_column_type(st, 4) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 4);
		rg->privileged = sqlite3_column_int(st, 5);
		if (!rg->name) {
			r = oom(a);
			break;
		}
	}
	isms_db_done(st);
	if (r < 0)
		return r;
	for (size_t i = 0; i < a->nrgrp; i++) {
		struct reg_group *rg = &a->rgrp[i];

		if (isms_smap_put(&a->rgrp_name, rg->name, rg) < 0 ||
		    (rg->uuid && isms_smap_put(&a->rgrp_uuid, rg->uuid, rg) < 0))
			return oom(a);
	}

	cap = 0;
	st = isms_db_query(a->ctx->reg, a->err, "SELECT uuid, kind, dn, data FROM ldap_entries", NULL);
	if (!st)
		return a->err->code;
	while ((r = isms_db_step(st, a->err)) == 1) {
		struct stored_entry *se;

		if (a->nstored == cap) {
			cap = cap ? cap * 2 : 256;
			se = realloc(a->stored, cap * sizeof(*se));
			if (!se) {
				r = oom(a);
				break;
			}
			a->stored = se;
		}
		se = &a->stored[a->nstored++];
		se->uuid = col_pooled(st, 0, &a->pool);
		se->kind = col_pooled(st, 1, &a->pool);
		se->dn = col_pooled(st, 2, &a->pool);
		se->data = col_pooled(st, 3, &a->pool);
		if (!se->uuid || !se->kind || !se->dn || !se->data) {
			r = oom(a);
			break;
		}
	}
	isms_db_done(st);
	return r < 0 ? r : sync_stored_index(a);
}

enum isms_ldap_kind sync_stored_kind(const struct stored_entry *se)
{
	return strcmp(se->kind, "group") == 0 ? ISMS_LDAP_GROUP : ISMS_LDAP_ACCOUNT;
}

int sync_stored_index(struct apply *a)
{
	for (size_t i = 0; i < a->nstored; i++) {
		struct stored_entry *se = &a->stored[i];

		if (isms_smap_put(&a->stored_uuid[sync_stored_kind(se)], se->uuid, se) < 0)
			return oom(a);
	}
	return 0;
}

/* Grow *arrp, holding n elements of size sz, to cap elements (the new ones zeroed). */
static int grow(void *arrp, size_t sz, size_t n, size_t cap)
{
	void **arr = arrp;
	char *na = realloc(*arr, cap * sz);

	if (!na)
		return -ENOMEM;
	memset(na + n * sz, 0, (cap - n) * sz);
	*arr = na;
	return 0;
}

/* Index account entry i (the next one): its DN key, stored form, and whether it
 * changed since the stored snapshot. */
/* The DN key of dn, in the apply's pool. */
static char *dn_key_pooled(struct apply *a, const char *dn)
{
	size_t len = strlen(dn);
	char *k = isms_pool_alloc(&a->pool, ISMS_DN_KEY_SIZE(len));

	if (k) {
		isms_ldap_dn_key_into(dn, k);
		isms_pool_shrink(&a->pool, k, strlen(k) + 1);
	}
	return k;
}

/* The stored form of e, in the apply's pool. */
static char *json_pooled(struct apply *a, const struct isms_ldap_entry *e)
{
	long n = isms_ldap_entry_json_into(e, &a->json, &a->json_cap);

	return n < 0 ? NULL : isms_pool_strndup(&a->pool, a->json, (size_t)n);
}

int sync_index_account(struct apply *a, size_t i)
{
	struct isms_ldap_entry *e = a->snap->accounts[i];
	struct stored_entry *se = isms_smap_get(&a->stored_uuid[ISMS_LDAP_ACCOUNT], e->uuid);

	if (i >= a->capacc) {
		size_t cap = a->capacc ? a->capacc * 2 : 1024;

		if (grow(&a->acc_dnkey, sizeof(char *), a->nacc, cap) < 0 ||
		    grow(&a->acc_json, sizeof(char *), a->nacc, cap) < 0 ||
		    grow(&a->acc_mgrkey, sizeof(char *), a->nacc, cap) < 0 ||
		    grow(&a->acc_dirty, sizeof(bool), a->nacc, cap) < 0 ||
		    grow(&a->acc_mgr_later, sizeof(bool), a->nacc, cap) < 0 ||
		    grow(&a->acc_id, sizeof(int64_t), a->nacc, cap) < 0)
			return oom(a);
		a->capacc = cap;
	}
	a->nacc = i + 1;
	a->acc_dnkey[i] = dn_key_pooled(a, e->dn);
	a->acc_json[i] = json_pooled(a, e);
	a->acc_mgrkey[i] = e->manager_dn ? dn_key_pooled(a, e->manager_dn) : NULL;
	if (!a->acc_dnkey[i] || !a->acc_json[i] || (e->manager_dn && !a->acc_mgrkey[i]))
		return oom(a);
	a->acc_dirty[i] = !se || strcmp(se->data, a->acc_json[i]) != 0 || strcmp(se->dn, e->dn) != 0;
	if (isms_smap_put(&a->acc_dn, a->acc_dnkey[i], IDX_SMAP(i + 1)) < 0 ||
	    isms_smap_put(&a->snap_uuid[ISMS_LDAP_ACCOUNT], e->uuid, e) < 0)
		return oom(a);
	if (a->acc_dirty[i] && isms_smap_put(&a->changed_dn, a->acc_dnkey[i], IDX_SMAP(1)) < 0)
		return oom(a);
	return 0;
}

int sync_index_group(struct apply *a, size_t i)
{
	struct isms_ldap_entry *e = a->snap->groups[i];

	if (i >= a->capgrp) {
		size_t cap = a->capgrp ? a->capgrp * 2 : 256;

		if (grow(&a->grp_dnkey, sizeof(char *), a->ngrp, cap) < 0 ||
		    grow(&a->grp_json, sizeof(char *), a->ngrp, cap) < 0 ||
		    grow(&a->grp_id, sizeof(int64_t), a->ngrp, cap) < 0)
			return oom(a);
		a->capgrp = cap;
	}
	a->ngrp = i + 1;
	a->grp_dnkey[i] = dn_key_pooled(a, e->dn);
	a->grp_json[i] = json_pooled(a, e);
	if (!a->grp_dnkey[i] || !a->grp_json[i])
		return oom(a);
	if (isms_smap_put(&a->grp_dn, a->grp_dnkey[i], IDX_SMAP(i + 1)) < 0 ||
	    isms_smap_put(&a->snap_uuid[ISMS_LDAP_GROUP], e->uuid, e) < 0)
		return oom(a);
	return 0;
}

/* Once the whole snapshot is indexed: accounts gone from the directory change
 * their reports' manager too. */
int sync_index_finish(struct apply *a)
{
	for (size_t i = 0; i < a->nstored; i++) {
		struct stored_entry *se = &a->stored[i];
		char *key;

		if (sync_stored_kind(se) != ISMS_LDAP_ACCOUNT || isms_smap_get(&a->snap_uuid[ISMS_LDAP_ACCOUNT], se->uuid))
			continue;
		key = dn_key_pooled(a, se->dn);
		if (!key)
			return oom(a);
		/* The stored dn outlives the map: replace it with its key. */
		se->dn = key;
		if (isms_smap_put(&a->changed_dn, se->dn, IDX_SMAP(1)) < 0)
			return oom(a);
	}
	return 0;
}

sqlite3_stmt **sync_slot(struct apply *a, const char *sql)
{
	for (size_t i = 0; i < a->nkept; i++)
		if (a->kept[i].sql == sql)
			return &a->kept[i].st;
	if (a->nkept == ISMS_ARRAY_SIZE(a->kept))
		return NULL;
	a->kept[a->nkept].sql = sql;
	a->kept[a->nkept].st = NULL;
	return &a->kept[a->nkept++].st;
}

int sync_run(struct apply *a, sqlite3_stmt *st)
{
	int r;

	if (!st)
		return a->err->code ? a->err->code : -EIO;
	while ((r = isms_db_step(st, a->err)) == 1)
		;
	(void)sqlite3_reset(st);
	return r;
}

void sync_kept_free(struct apply *a)
{
	for (size_t i = 0; i < a->nkept; i++)
		isms_db_done(a->kept[i].st);
	a->nkept = 0;
}

#define PERSON_COLUMNS "id, employee_no, source_uuid, name, email, manager_no, department, title, source"

/* Add the people a query over PERSON_COLUMNS returns. */
static int people_read(struct apply *a, sqlite3_stmt *st)
{
	int r;

	while ((r = isms_db_step(st, a->err)) == 1) {
		struct reg_person *p = sync_person_add(a, sqlite3_column_int64(st, 0),
						       (const char *)sqlite3_column_text(st, 1),
						       (const char *)sqlite3_column_text(st, 2));

		if (!p || sync_person_set(&p->name, (const char *)sqlite3_column_text(st, 3)) < 0 ||
		    sync_person_set(&p->email, (const char *)sqlite3_column_text(st, 4)) < 0 ||
		    sync_person_set(&p->manager_no, (const char *)sqlite3_column_text(st, 5)) < 0 ||
		    sync_person_set(&p->department, (const char *)sqlite3_column_text(st, 6)) < 0 ||
		    sync_person_set(&p->title, (const char *)sqlite3_column_text(st, 7)) < 0 ||
		    sync_person_set(&p->source, (const char *)sqlite3_column_text(st, 8)) < 0)
			return oom(a);
	}
	return r;
}

struct reg_person *sync_person_find(struct apply *a, const char *employee_no, int *ret_r)
{
	struct reg_person *p = isms_smap_get(&a->rpeople_no, employee_no);
	sqlite3_stmt *st;

	*ret_r = 0;
	if (p || a->people_all)
		return p;
	st = SYNC_QUERY(a, "SELECT " PERSON_COLUMNS " FROM people WHERE employee_no = ?", "S", employee_no);
	*ret_r = st ? people_read(a, st) : a->err->code;
	if (st)
		(void)sqlite3_reset(st);
	return *ret_r < 0 ? NULL : isms_smap_get(&a->rpeople_no, employee_no);
}

int sync_person_uuid_taken(struct apply *a, const char *uuid, bool *ret)
{
	sqlite3_stmt *st;
	int r;

	*ret = isms_smap_get(&a->rpeople_uuid, uuid) != NULL;
	if (*ret || a->people_all)
		return 0;
	st = SYNC_QUERY(a, "SELECT 1 FROM people WHERE source_uuid = ?", "S", uuid);
	if (!st)
		return a->err->code;
	r = isms_db_step(st, a->err);
	(void)sqlite3_reset(st);
	*ret = r == 1;
	return r < 0 ? r : 0;
}

int sync_load(struct apply *a)
{
	sqlite3_stmt *st;
	int r = load_registry(a);

	if (r == 0)
		r = sync_members_load(a);
	if (r < 0)
		return r;
	a->stream = true;
	for (size_t i = 0; i < a->nracc && a->stream; i++)
		a->stream = a->racc[i].uuid == NULL;
	if (!a->stream)
		return 0;
	/* A first sync writes every person: read them all now (few or none) rather
	 * than look each one up. Otherwise most are unchanged, and the few written
	 * are looked up one by one (sync_person_find). */
	st = isms_db_query(a->ctx->reg, a->err, "SELECT " PERSON_COLUMNS " FROM people", NULL);
	if (!st)
		return a->err->code;
	r = people_read(a, st);
	isms_db_done(st);
	a->people_all = r == 0;
	return r < 0 ? r : 0;
}
