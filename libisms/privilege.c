/* Group membership and privilege, from NSS and the registry together. */
#include <grp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "privilege.h"
#include "smap.h"
#include "util.h"

static int list_add(char ***list, size_t *n, const char *s)
{
	char **l;

	if (isms_list_contains(*list, s))
		return 0;
	l = realloc(*list, (*n + 2) * sizeof(*l));
	if (!l)
		return -ENOMEM;
	*list = l;
	l[*n] = strdup(s);
	if (!l[*n])
		return -ENOMEM;
	l[++*n] = NULL;
	return 0;
}

/* NSS group lists asked for by a thread ahead of the run that needs them
 * (isms_priv_cache_prefetch): entry i is ready once ready > i. */
struct prefetch {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	size_t n, ready;
	bool stop;
	char **user;                    /* copies, in the order the run asks */
	gid_t *gid;
	gid_t **gids;                   /* the user's groups, ngids[i] of them */
	int *ngids;                     /* -1: not kept (out of memory), ask again */
	struct isms_smap index;         /* user -> entry + 1 */
};

struct isms_priv_cache {
	int depth;                      /* begin calls not yet ended */
	sqlite3_stmt *groups_of;        /* GROUPS_OF, prepared once */
	char **privileged;              /* PRIVILEGED_GROUPS, read once */
	struct isms_smap gid_name;      /* decimal gid -> its name, or NO_GROUP */
	struct prefetch *pf;            /* NULL: NSS asked as each account comes */
};

#define GROUPS_OF "SELECT DISTINCT g.name FROM memberships m JOIN groups g ON g.id = m.group_id" \
		  " JOIN accounts a ON a.id = m.account_id WHERE a.name = ?"
#define PRIVILEGED_GROUPS "SELECT name FROM groups WHERE privileged = 1 UNION SELECT name FROM privileged_groups"

static char NO_GROUP[] = "";

/* The name NSS gives gid (copied into list), remembered during a run. */
static int add_gid(struct isms_ctx *ctx, char ***list, size_t *n, gid_t gid)
{
	struct isms_priv_cache *pc = ctx ? ctx->priv : NULL;
	struct group gr, *res = NULL;
	char sbuf[4096], key[ISMS_INT_TEXT];
	char *name, *k;

	if (!pc) {
		if (getgrgid_r(gid, &gr, sbuf, sizeof(sbuf), &res) == 0 && res)
			return list_add(list, n, gr.gr_name);
		return 0;
	}
	(void)isms_fmt_int(key, (long long)gid);
	name = isms_smap_get(&pc->gid_name, key);
	if (!name) {
		name = getgrgid_r(gid, &gr, sbuf, sizeof(sbuf), &res) == 0 && res ? strdup(gr.gr_name) : NO_GROUP;
		k = strdup(key);
		if (!name || !k || isms_smap_put(&pc->gid_name, k, name) < 0) {
			if (name != NO_GROUP)
				free(name);
			free(k);
			return -ENOMEM;
		}
	}
	return name == NO_GROUP ? 0 : list_add(list, n, name);
}

#define NSS_GROUPS_BUF 256

/* getgrouplist(3) into buf (NSS_GROUPS_BUF entries), or into a malloc'd array
 * (*heap) for a user in more groups; *ret points at whichever holds them.
 * Returns how many, 0 when NSS cannot say, -1 when out of memory. */
static int nss_groups(const char *user, gid_t gid, gid_t *buf, const gid_t **ret, gid_t **heap)
{
	int ng = NSS_GROUPS_BUF;

	*heap = NULL;
	*ret = buf;
	if (getgrouplist(user, gid, buf, &ng) >= 0)
		return ng;
	*heap = malloc((size_t)ng * sizeof(**heap));
	if (!*heap)
		return -1;
	*ret = *heap;
	return getgrouplist(user, gid, *heap, &ng) < 0 ? 0 : ng;
}

static void *prefetch_run(void *arg)
{
	struct prefetch *pf = arg;

	for (size_t i = 0; i < pf->n; i++) {
		gid_t buf[NSS_GROUPS_BUF], *gids = NULL;
		const gid_t *found;
		int ng;

		pthread_mutex_lock(&pf->mu);
		if (pf->stop) {
			pthread_mutex_unlock(&pf->mu);
			break;
		}
		pthread_mutex_unlock(&pf->mu);
		ng = nss_groups(pf->user[i], pf->gid[i], buf, &found, &gids);
		if (ng > 0 && !gids) {
			/* kept beyond this loop: out of buf */
			gids = malloc((size_t)ng * sizeof(*gids));
			if (gids)
				memcpy(gids, buf, (size_t)ng * sizeof(*gids));
			else
				ng = -1;
		}
		pthread_mutex_lock(&pf->mu);
		pf->gids[i] = gids;
		pf->ngids[i] = ng;
		pf->ready = i + 1;
		pthread_cond_broadcast(&pf->cv);
		pthread_mutex_unlock(&pf->mu);
	}
	return NULL;
}

/* The groups the prefetch thread found for user/gid, waiting for them if they
 * are still to come; false when it was not asked for them (or ran out of memory). */
static bool prefetched(struct prefetch *pf, const char *user, gid_t gid, const gid_t **ret,
		       int *ret_n)
{
	uintptr_t k = (uintptr_t)isms_smap_get(&pf->index, user);
	size_t i;

	if (!k || pf->gid[k - 1] != gid)
		return false;
	i = k - 1;
	pthread_mutex_lock(&pf->mu);
	while (pf->ready <= i)
		pthread_cond_wait(&pf->cv, &pf->mu);
	pthread_mutex_unlock(&pf->mu);
	if (pf->ngids[i] < 0)
		return false;
	*ret = pf->gids[i];
	*ret_n = pf->ngids[i];
	return true;
}

int isms_account_groups(struct isms_ctx *ctx, const char *user, gid_t gid, bool have_gid,
			char ***ret, struct isms_err *err)
{
	struct isms_priv_cache *pc = ctx ? ctx->priv : NULL;
	char **list = calloc(1, sizeof(*list));
	size_t n = 0;
	sqlite3_stmt *st;
	int r = 0;

	if (!list)
		return isms_err_set(err, -ENOMEM, "out of memory");
	if (have_gid) {
		gid_t buf[NSS_GROUPS_BUF], *mine = NULL;
		const gid_t *gids;
		int ng;

		if (!pc || !pc->pf || !prefetched(pc->pf, user, gid, &gids, &ng)) {
			ng = nss_groups(user, gid, buf, &gids, &mine);
			if (ng < 0) {
				isms_list_free(list);
				return isms_err_set(err, -ENOMEM, "out of memory");
			}
		}
		for (int i = 0; i < ng && r == 0; i++)
			r = add_gid(ctx, &list, &n, gids[i]);
		free(mine);
	}
	if (r == 0 && ctx && ctx->reg) {
		if (pc)
			st = isms_db_rebind(pc->groups_of, err, "s", user) < 0 ? NULL : pc->groups_of;
		else
			st = isms_db_query(ctx->reg, err, GROUPS_OF, "s", user);
		if (!st) {
			isms_list_free(list);
			return err ? err->code : -EIO;
		}
		while (r == 0 && (r = isms_db_step(st, err)) == 1)
			r = list_add(&list, &n, (const char *)sqlite3_column_text(st, 0));
		if (pc)
			(void)sqlite3_reset(st);
		else
			isms_db_done(st);
	}
	if (r < 0) {
		isms_list_free(list);
		return r == -ENOMEM ? isms_err_set(err, r, "out of memory") : r;
	}
	*ret = list;
	return 0;
}

const char *isms_groups_match(char *const *groups, char *const *list)
{
	for (size_t i = 0; groups && groups[i]; i++)
		if (isms_list_contains(list, groups[i]))
			return groups[i];
	return NULL;
}

int isms_account_privileged(struct isms_ctx *ctx, const char *user, uid_t uid, gid_t gid,
			    bool have_ids, bool *ret, char *via, size_t vialen, struct isms_err *err)
{
	char **groups = NULL;
	const char *hit;
	sqlite3_stmt *st;
	int r;

	if (have_ids && uid == 0) {
		if (via)
			(void)snprintf(via, vialen, "uid 0");
		*ret = true;
		return 0;
	}
	r = isms_account_groups(ctx, user, gid, have_ids, &groups, err);
	if (r < 0)
		return r;
	hit = isms_groups_match(groups, ctx->conf->privileged_groups);
	if (!hit)
		hit = isms_groups_match(groups, ctx->conf->ldap_privileged_groups);
	if (hit) {
		if (via)
			(void)snprintf(via, vialen, "group %s", hit);
		*ret = true;
		isms_list_free(groups);
		return 0;
	}
	*ret = false;
	if (ctx->priv) {
		for (char **g = ctx->priv->privileged; g && *g; g++) {
			if (isms_list_contains(groups, *g)) {
				if (via)
					(void)snprintf(via, vialen, "group %s", *g);
				*ret = true;
				break;
			}
		}
	} else if (ctx->reg) {
		st = isms_db_query(ctx->reg, err, PRIVILEGED_GROUPS, NULL);
		if (!st) {
			isms_list_free(groups);
			return err ? err->code : -EIO;
		}
		while ((r = isms_db_step(st, err)) == 1) {
			const char *g = (const char *)sqlite3_column_text(st, 0);

			if (g && isms_list_contains(groups, g)) {
				if (via)
					(void)snprintf(via, vialen, "group %s", g);
				*ret = true;
				break;
			}
		}
		isms_db_done(st);
		if (r < 0) {
			isms_list_free(groups);
			return r;
		}
	}
	isms_list_free(groups);
	return 0;
}

int isms_priv_cache_begin(struct isms_ctx *ctx, struct isms_err *err)
{
	struct isms_priv_cache *pc = ctx->priv;
	sqlite3_stmt *st;
	size_t n = 0;
	int r = 0;

	if (pc) {
		pc->depth++;
		return 0;
	}
	pc = calloc(1, sizeof(*pc));
	if (!pc || !(pc->privileged = calloc(1, sizeof(char *)))) {
		free(pc);
		return isms_err_set(err, -ENOMEM, "out of memory");
	}
	pc->depth = 1;
	ctx->priv = pc;
	if (!ctx->reg)
		return 0;
	pc->groups_of = isms_db_query(ctx->reg, err, GROUPS_OF, NULL);
	st = pc->groups_of ? isms_db_query(ctx->reg, err, PRIVILEGED_GROUPS, NULL) : NULL;
	if (!st)
		r = err && err->code ? err->code : -EIO;
	while (st && r == 0 && (r = isms_db_step(st, err)) == 1)
		r = list_add(&pc->privileged, &n, (const char *)sqlite3_column_text(st, 0));
	isms_db_done(st);
	if (r < 0) {
		pc->depth = 1;
		isms_priv_cache_end(ctx);
		return r == -ENOMEM ? isms_err_set(err, r, "out of memory") : r;
	}
	return 0;
}

static void prefetch_free(struct prefetch *pf)
{
	if (!pf)
		return;
	for (size_t i = 0; i < pf->n; i++) {
		free(pf->user[i]);
		if (i < pf->ready)
			free(pf->gids[i]);
	}
	free(pf->user);
	free(pf->gid);
	free(pf->gids);
	free(pf->ngids);
	isms_smap_free(&pf->index);
	pthread_mutex_destroy(&pf->mu);
	pthread_cond_destroy(&pf->cv);
	free(pf);
}

/* Room for one more entry (arrays grown together). */
static int prefetch_grow(struct prefetch *pf, size_t *cap)
{
	size_t nc = *cap ? *cap * 2 : 1024;
	char **u = realloc(pf->user, nc * sizeof(*u));
	gid_t *g;
	gid_t **gs;
	int *ng;

	if (u)
		pf->user = u;
	g = u ? realloc(pf->gid, nc * sizeof(*g)) : NULL;
	if (g)
		pf->gid = g;
	gs = g ? realloc(pf->gids, nc * sizeof(*gs)) : NULL;
	if (gs)
		pf->gids = gs;
	ng = gs ? realloc(pf->ngids, nc * sizeof(*ng)) : NULL;
	if (!ng)
		return -ENOMEM;
	pf->ngids = ng;
	*cap = nc;
	return 0;
}

int isms_priv_cache_prefetch(struct isms_ctx *ctx, const char *sql, struct isms_err *err)
{
	struct isms_priv_cache *pc = ctx->priv;
	struct prefetch *pf;
	sqlite3_stmt *st;
	size_t cap = 0;
	int r;

	if (!pc || pc->pf || !ctx->reg)
		return 0;
	pf = calloc(1, sizeof(*pf));
	if (!pf)
		return isms_err_set(err, -ENOMEM, "out of memory");
	st = isms_db_query(ctx->reg, err, sql, NULL);
	if (!st) {
		free(pf);
		return err && err->code ? err->code : -EIO;
	}
	pthread_mutex_init(&pf->mu, NULL);
	pthread_cond_init(&pf->cv, NULL);
	while ((r = isms_db_step(st, err)) == 1) {
		char *u;

		if (pf->n == cap && prefetch_grow(pf, &cap) < 0) {
			r = -ENOMEM;
			break;
		}
		u = isms_db_col_strdup(st, 0);
		if (!u || isms_smap_put(&pf->index, u, (void *)(uintptr_t)(pf->n + 1)) < 0) {
			free(u);
			r = -ENOMEM;
			break;
		}
		pf->user[pf->n] = u;
		pf->gid[pf->n] = (gid_t)sqlite3_column_int64(st, 1);
		pf->gids[pf->n] = NULL;
		pf->n++;
	}
	isms_db_done(st);
	if (r < 0 || pf->n == 0) {
		prefetch_free(pf);
		return r == -ENOMEM ? isms_err_set(err, r, "out of memory") : r;
	}
	if (pthread_create(&pf->th, NULL, prefetch_run, pf) != 0) {
		prefetch_free(pf);   /* each account asks NSS itself, as without a prefetch */
		return 0;
	}
	pc->pf = pf;
	return 0;
}

void isms_priv_cache_end(struct isms_ctx *ctx)
{
	struct isms_priv_cache *pc = ctx->priv;

	if (!pc || --pc->depth > 0)
		return;
	if (pc->pf) {
		pthread_mutex_lock(&pc->pf->mu);
		pc->pf->stop = true;
		pthread_mutex_unlock(&pc->pf->mu);
		pthread_join(pc->pf->th, NULL);
		prefetch_free(pc->pf);
	}
	isms_db_done(pc->groups_of);
	isms_list_free(pc->privileged);
	for (size_t i = 0; i < pc->gid_name.cap; i++) {
		struct isms_smap_slot *sl = &pc->gid_name.slots[i];

		if (!sl->key)
			continue;
		free((char *)sl->key);
		if (sl->val != NO_GROUP)
			free(sl->val);
	}
	isms_smap_free(&pc->gid_name);
	free(pc);
	ctx->priv = NULL;
}
