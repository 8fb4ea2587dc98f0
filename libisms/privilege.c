/* Group membership and privilege, from NSS and the registry together. */
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "privilege.h"
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

int isms_account_groups(struct isms_ctx *ctx, const char *user, gid_t gid, bool have_gid,
			char ***ret, struct isms_err *err)
{
	char **list = calloc(1, sizeof(*list));
	size_t n = 0;
	sqlite3_stmt *st;
	int r = 0;

	if (!list)
		return isms_err_set(err, -ENOMEM, "out of memory");
	if (have_gid) {
		gid_t buf[256], *gids = buf;
		int ng = (int)ISMS_ARRAY_SIZE(buf);

		if (getgrouplist(user, gid, gids, &ng) < 0) {
			gids = malloc((size_t)ng * sizeof(*gids));
			if (!gids || getgrouplist(user, gid, gids, &ng) < 0)
				ng = 0;
		}
		for (int i = 0; i < ng && r == 0; i++) {
			struct group gr, *res = NULL;
			char sbuf[4096];

			if (getgrgid_r(gids[i], &gr, sbuf, sizeof(sbuf), &res) == 0 && res)
				r = list_add(&list, &n, gr.gr_name);
		}
		if (gids != buf)
			free(gids);
	}
	if (r == 0 && ctx && ctx->reg) {
		st = isms_db_query(ctx->reg, err,
				   "SELECT DISTINCT g.name FROM memberships m JOIN groups g ON g.id = m.group_id"
				   " JOIN accounts a ON a.id = m.account_id WHERE a.name = ?", "s", user);
		if (!st) {
			isms_list_free(list);
			return err ? err->code : -EIO;
		}
		while (r == 0 && (r = isms_db_step(st, err)) == 1)
			r = list_add(&list, &n, (const char *)sqlite3_column_text(st, 0));
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
	if (ctx->reg) {
		st = isms_db_query(ctx->reg, err,
				   "SELECT name FROM groups WHERE privileged = 1 UNION"
				   " SELECT name FROM privileged_groups", NULL);
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
