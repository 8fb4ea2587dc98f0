/* Writing a directory snapshot into the registry: groups, people, accounts,
 * uid reuse, departures and the removal guard. Runs inside the sync's one
 * transaction; memberships and the stored snapshot are in sync_members.c. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "db.h"
#include "ldap_map.h"
#include "sync_int.h"
#include "util.h"

/* Numbers go to sqlite as text (INTEGER affinity stores them as integers), so
 * that an absent value binds NULL through the one 's' format. */
static const char *num(char *buf, size_t len, long long v)
{
	if (v < 0 || len < ISMS_INT_TEXT)
		return NULL;
	(void)isms_fmt_int(buf, v);
	return buf;
}

static int oom(struct apply *a)
{
	return isms_err_set(a->err, -ENOMEM, "out of memory");
}

int isms_sync_note(struct isms_sync_summary *sum, const char *what, const char *subject,
		   const char *detail, const char *employee_no)
{
	struct isms_sync_change *c;

	if (sum->nchanges % 64 == 0) {
		c = realloc(sum->changes, (sum->nchanges + 64) * sizeof(*c));
		if (!c)
			return -ENOMEM;
		sum->changes = c;
	}
	c = &sum->changes[sum->nchanges];
	c->what = what;
	c->subject = strdup(subject ? subject : "");
	c->detail = detail ? strdup(detail) : NULL;
	c->employee_no = employee_no ? strdup(employee_no) : NULL;
	if (!c->subject || (detail && !c->detail) || (employee_no && !c->employee_no)) {
		free(c->subject);
		free(c->detail);
		free(c->employee_no);
		return -ENOMEM;
	}
	sum->nchanges++;
	return 0;
}

static int groups_remove(struct apply *a)
{
	for (size_t i = 0; i < a->nrgrp; i++) {
		struct reg_group *rg = &a->rgrp[i];
		int r;

		if (!rg->uuid || isms_smap_get(&a->snap_uuid[ISMS_LDAP_GROUP], rg->uuid))
			continue;
		r = SYNC_EXEC(a, "DELETE FROM groups WHERE id = ? AND source = 'ldap'", "i",
				 rg->id);
		if (r < 0)
			return r;
		rg->removed = true;
		a->sum->groups_removed++;
		if (isms_sync_note(a->sum, "group_removed", rg->name, rg->dn, NULL) < 0)
			return oom(a);
	}
	return 0;
}

/* A name is the registry's key for an account or a group: one directory entry
 * per name. An entry whose name another has is reported (with its DN, for the
 * directory's admin) and not written, so nothing is granted through it: hosts
 * reading the directory cannot tell the two apart either. */
static int conflict(struct apply *a, const struct isms_ldap_entry *e, const char *why)
{
	char d[600];

	a->sum->conflicts++;
	(void)snprintf(d, sizeof(d), "%s: %s", why, e->dn);
	return isms_sync_note(a->sum, "conflict", e->name, d, NULL) < 0 ? oom(a) : 0;
}

static int group_write_row(struct apply *a, size_t i);

static int group_write(struct apply *a, size_t i)
{
	const char *name = a->snap->groups[i]->name;
	int r;

	if (isms_smap_get(&a->grp_written, name))
		return conflict(a, a->snap->groups[i], "another directory group has this name");
	r = group_write_row(a, i);
	if (r == 0 && a->grp_id[i] && isms_smap_put(&a->grp_written, name, (void *)name) < 0)
		r = oom(a);
	return r;
}

static int group_write_row(struct apply *a, size_t i)
{
	struct isms_ldap_entry *e = a->snap->groups[i];
	struct reg_group *rg = isms_smap_get(&a->rgrp_uuid, e->uuid);
	int priv = isms_list_contains(a->conf->ldap_privileged_groups, e->name) ? 1 : 0;
	char nb[32];
	int r;

	if (!rg) {
		struct reg_group *byname = isms_smap_get(&a->rgrp_name, e->name);

		if (byname && !byname->removed && byname->uuid)
			return conflict(a, e, "another directory group has this name");
		if (byname && !byname->removed)
			rg = byname;   /* a local group the directory now provides */
	}
	if (!rg) {
		r = SYNC_EXEC(a, "INSERT INTO groups (name, gid, source, source_uuid, dn, privileged, created_at, updated_at)"
				 " VALUES (?, ?, 'ldap', ?, ?, ?, ?, ?)",
				 "SSSSiii", e->name, num(nb, sizeof(nb), e->number), e->uuid, e->dn, (int64_t)priv,
				 a->now, a->now);
		if (r < 0)
			return r;
		a->grp_id[i] = sqlite3_last_insert_rowid(a->ctx->reg);
		a->sum->groups_added++;
		return isms_sync_note(a->sum, "group_added", e->name, e->dn, NULL) < 0 ? oom(a) : 0;
	}
	a->grp_id[i] = rg->id;
	if (rg->uuid && strcmp(rg->name, e->name) == 0 && rg->gid == e->number && rg->dn &&
	    strcmp(rg->dn, e->dn) == 0 && rg->privileged == priv)
		return 0;
	r = SYNC_EXEC(a, "UPDATE groups SET name = ?, gid = ?, source = 'ldap', source_uuid = ?, dn = ?,"
			 " privileged = ?, updated_at = ? WHERE id = ?",
			 "SSSSiii", e->name, num(nb, sizeof(nb), e->number), e->uuid, e->dn, (int64_t)priv, a->now,
			 rg->id);
	if (r == -EEXIST) {
		a->grp_id[i] = 0;   /* the row keeps its old name; the entry grants nothing */
		return conflict(a, e, "renamed onto an existing group");
	}
	if (r < 0)
		return r;
	a->sum->groups_changed++;
	if (strcmp(rg->name, e->name) != 0) {
		char d[600];

		(void)snprintf(d, sizeof(d), "%s -> %s", rg->name, e->name);
		return isms_sync_note(a->sum, "group_renamed", e->name, d, NULL) < 0 ? oom(a) : 0;
	}
	return isms_sync_note(a->sum, "group_changed", e->name, rg->uuid ? NULL : "adopted from local",
			      NULL) < 0 ? oom(a) : 0;
}

static bool same_text(const char *x, const char *y)
{
	return (!x && !y) || (x && y && strcmp(x, y) == 0);
}

/* The person who owns an account, keyed by employee number. People are
 * compared in memory: a statement writes only a new or changed one. */
static int person_write(struct apply *a, size_t i, int64_t *ret_id, bool *ret_mgr_missing)
{
	const struct isms_ldap_entry *e = a->snap->accounts[i];
	const char *manager_no = NULL, *name = e->display ? e->display : e->name, *key = a->acc_mgrkey[i];
	struct reg_person *p;
	int r;

	if (key) {
		size_t mi = SMAP_IDX(isms_smap_get(&a->acc_dn, key));

		if (mi) {
			manager_no = a->snap->accounts[mi - 1]->employee_no;
		} else if (a->delta) {
			/* Not written by this delta: the stored entry at that DN. */
			const char *no = isms_smap_get(&a->delta->mgr_no, key);

			manager_no = no && no[0] ? no : NULL;
			mi = no != NULL;
		}
		*ret_mgr_missing = !mi;
	}
	p = sync_person_find(a, e->employee_no, &r);
	if (r < 0)
		return r;
	if (!p) {
		/* The entry's UUID names the person unless another person already has it. */
		bool taken;
		const char *uuid;

		r = sync_person_uuid_taken(a, e->uuid, &taken);
		if (r < 0)
			return r;
		uuid = taken ? NULL : e->uuid;
		r = SYNC_EXEC(a, "INSERT INTO people (employee_no, name, email, manager_no, department, title, status,"
				 " source, source_uuid, created_at, updated_at)"
				 " VALUES (?, ?, ?, ?, ?, ?, 'active', 'ldap', ?, ?, ?)",
				 "SSSSSSSii", e->employee_no, name, e->mail, manager_no, e->department, e->title, uuid,
				 a->now, a->now);
		if (r < 0)
			return r;
		p = sync_person_add(a, sqlite3_last_insert_rowid(a->ctx->reg), e->employee_no, uuid);
		if (!p)
			return oom(a);
	} else if (same_text(p->name, name) && same_text(p->email, e->mail) && same_text(p->manager_no, manager_no) &&
		   same_text(p->department, e->department) && same_text(p->title, e->title) &&
		   same_text(p->source, "ldap")) {
		*ret_id = p->id;
		return 0;
	} else {
		r = SYNC_EXEC(a, "UPDATE people SET name = ?, email = ?, manager_no = ?, department = ?, title = ?,"
				 " source = 'ldap', updated_at = ? WHERE id = ?",
				 "SSSSSii", name, e->mail, manager_no, e->department, e->title, a->now, p->id);
		if (r < 0)
			return r;
	}
	/* What the row now says, for the next account of the same person. */
	if (sync_person_set(&p->name, name) < 0 || sync_person_set(&p->email, e->mail) < 0 ||
	    sync_person_set(&p->manager_no, manager_no) < 0 || sync_person_set(&p->department, e->department) < 0 ||
	    sync_person_set(&p->title, e->title) < 0 || sync_person_set(&p->source, "ldap") < 0)
		return oom(a);
	*ret_id = p->id;
	return 0;
}

/* uid_history: the first holder of each uid. Is this entry another person reusing it? */
static int uid_check(struct apply *a, const struct isms_ldap_entry *e, const char *old_name, char *why,
		     size_t whylen, bool *ret_held)
{
	sqlite3_stmt *st;
	char nb[32];
	int r;

	*ret_held = false;
	if (e->number < 0)
		return 0;
	/* Most uids are new: record them first, read the holder only when one exists. */
	r = SYNC_EXEC(a, "INSERT INTO uid_history (uid, account_name, employee_no, first_seen_at) VALUES (?, ?, ?, ?)"
			 " ON CONFLICT (uid) DO NOTHING", "SSSi", num(nb, sizeof(nb), e->number), e->name,
		      e->employee_no, a->now);
	if (r < 0 || sqlite3_changes(a->ctx->reg) == 1)
		return r;
	st = SYNC_QUERY(a, "SELECT account_name, employee_no FROM uid_history WHERE uid = ?", "S", nb);
	if (!st)
		return a->err->code;
	r = isms_db_step(st, a->err);
	if (r == 1) {
		const char *first = (const char *)sqlite3_column_text(st, 0);
		const char *emp = (const char *)sqlite3_column_text(st, 1);
		bool same = (first && strcmp(first, e->name) == 0) || (first && old_name && strcmp(first, old_name) == 0) ||
			    (emp && e->employee_no && strcmp(emp, e->employee_no) == 0);

		if (!same) {
			*ret_held = true;
			(void)snprintf(why, whylen, "uid %lld reused: first held by %s", e->number, first ? first : "?");
		}
	}
	(void)sqlite3_reset(st);
	if (r < 0)
		return r;
	if (old_name && strcmp(old_name, e->name) != 0 && !*ret_held)
		/* A rename keeps the identity: the history follows the new name. */
		r = SYNC_EXEC(a, "UPDATE uid_history SET account_name = ? WHERE uid = ? AND account_name = ?", "SSS",
			      e->name, nb, old_name);
	return r < 0 ? r : 0;
}

/* Entry i's account now has the entry's name: memberUid values name it. */
static int account_named(struct apply *a, const struct isms_ldap_entry *e, size_t i)
{
	return isms_smap_put(&a->acc_name, e->name, IDX_SMAP(i + 1)) < 0 ? oom(a) : 0;
}

/* The other registry row that has this name, as this sync has left the rows
 * so far: its id, 0 when there is none, or negative errno with err set. */
static int64_t account_name_owner(struct apply *a, const char *name, int64_t self)
{
	sqlite3_stmt *st = SYNC_QUERY(a, "SELECT id FROM accounts WHERE name = ? AND id <> ?", "Si", name, self);
	int64_t id = 0;
	int r;

	if (!st)
		return a->err->code;
	r = isms_db_step(st, a->err);
	if (r == 1)
		id = sqlite3_column_int64(st, 0);
	(void)sqlite3_reset(st);
	return r < 0 ? r : id;
}

/* A rename onto a name still taken may be one of a chain of renames (bob to
 * robert, then rob to bob): tried again once the other accounts are written. */
static int rename_hold(struct apply *a, size_t i)
{
	size_t *h = realloc(a->renames_held, (a->nrenames_held + 1) * sizeof(*h));

	if (!h)
		return oom(a);
	a->renames_held = h;
	h[a->nrenames_held++] = i;
	return 0;
}

static int account_write(struct apply *a, size_t i, bool existing_pass);

/* Write the held renames again while some go through: each one done may free
 * the name the next waits for. */
static int renames_chains(struct apply *a)
{
	size_t before;
	int r = 0;

	do {
		size_t *held = a->renames_held;

		before = a->nrenames_held;
		a->renames_held = NULL;
		a->nrenames_held = 0;
		for (size_t k = 0; k < before && r == 0; k++)
			r = account_write(a, held[k], true);
		free(held);
	} while (r == 0 && a->nrenames_held && a->nrenames_held < before);
	return r;
}

/* The registry row of held rename k. */
static const struct reg_account *held_row(struct apply *a, size_t k)
{
	return isms_smap_get(&a->racc_uuid, a->snap->accounts[a->renames_held[k]]->uuid);
}

struct held_ref {
	int64_t id;
	size_t k;
};

static int row_cmp(const void *x, const void *y)
{
	const struct held_ref *p = x, *q = y;

	return p->id < q->id ? -1 : p->id > q->id;
}

/* Held renames that wait on each other in a ring (alice and bob swap names):
 * their rows step aside to a name no account can have, then each takes its
 * new name. The ring's names are the ring's own, so each goes through. */
static int renames_cycles(struct apply *a)
{
	size_t n = a->nrenames_held, *next = NULL, *state = NULL, *ring = NULL, nring = 0;
	struct held_ref *byid = NULL;
	int r = 0;

	if (n < 2)
		return 0;
	next = calloc(n, sizeof(*next));
	state = calloc(n, sizeof(*state));
	ring = calloc(n, sizeof(*ring));
	byid = calloc(n, sizeof(*byid));
	if (!next || !state || !ring || !byid) {
		r = oom(a);
		goto out;
	}
	/* The held renames by the id of their row. */
	for (size_t k = 0; k < n; k++) {
		const struct reg_account *ra = held_row(a, k);

		byid[k].id = ra ? ra->id : 0;
		byid[k].k = k;
	}
	qsort(byid, n, sizeof(*byid), row_cmp);
	/* next[k]: the held rename whose row has the name k waits for (n: none). */
	for (size_t k = 0; k < n && r == 0; k++) {
		const struct reg_account *ra = held_row(a, k);
		struct held_ref key = { .id = ra ? account_name_owner(a, a->snap->accounts[a->renames_held[k]]->name, ra->id) : 0 }, *hit;

		next[k] = n;
		if (key.id < 0) {
			r = (int)key.id;
			break;
		}
		hit = key.id > 0 ? bsearch(&key, byid, n, sizeof(*byid), row_cmp) : NULL;
		if (hit)
			next[k] = hit->k;
	}
	/* Walk from each rename: a walk that meets itself closes a ring (state:
	 * 0 unseen, 1 + start on this walk, n + 1 done). */
	for (size_t k = 0; k < n && r == 0; k++) {
		size_t j = k;

		while (j < n && state[j] == 0) {
			state[j] = 1 + k;
			j = next[j];
		}
		if (j < n && state[j] == 1 + k)
			for (size_t c = j;;) {
				ring[nring++] = c;
				c = next[c];
				if (c == j)
					break;
			}
		for (j = k; j < n && state[j] == 1 + k; j = next[j])
			state[j] = n + 1;
	}
	for (size_t q = 0; q < nring && r == 0; q++) {
		const struct reg_account *ra = held_row(a, ring[q]);
		char aside[64];

		(void)snprintf(aside, sizeof(aside), "(renaming #%lld)", (long long)ra->id);
		r = SYNC_EXEC(a, "UPDATE accounts SET name = ? WHERE id = ?", "Si", aside, ra->id);
	}
	if (r == 0 && nring) {
		size_t *held = a->renames_held, nheld = a->nrenames_held;

		/* The ring first, then the others (which a ring may have freed a name for). */
		a->renames_held = NULL;
		a->nrenames_held = 0;
		for (size_t q = 0; q < nring && r == 0; q++) {
			r = account_write(a, held[ring[q]], true);
			if (r == 0 && a->nrenames_held)
				r = isms_err_set(a->err, -EIO, "renaming %s: a ring of renames did not close",
						 a->snap->accounts[held[ring[q]]]->name);
			state[ring[q]] = 0;
		}
		for (size_t k = 0; k < nheld && r == 0; k++)
			if (state[k] != 0)
				r = rename_hold(a, held[k]);
		free(held);
	}
out:
	free(next);
	free(state);
	free(ring);
	free(byid);
	return r;
}

/* The known accounts of the snapshot are written: the renames held back go
 * through now, in chains or rings; what is still taken is a conflict. */
static int renames_retry(struct apply *a)
{
	size_t *held;
	int r = renames_chains(a);

	if (r == 0)
		r = renames_cycles(a);
	if (r == 0)
		r = renames_chains(a);
	held = a->renames_held;
	a->renames_retry = true;
	for (size_t k = 0; k < a->nrenames_held && r == 0; k++)
		r = account_write(a, held[k], true);
	return r;
}

static int account_write(struct apply *a, size_t i, bool existing_pass)
{
	struct isms_ldap_entry *e = a->snap->accounts[i];
	struct reg_account *ra = isms_smap_get(&a->racc_uuid, e->uuid);
	const char *kind = isms_ldap_account_kind(e->kind_value), *status;
	char why[300] = "", nb[32], gb[32], pb[32];
	bool locked, held = false, manager_changed = false;
	int64_t person_id = 0;
	int r;

	if (existing_pass != (ra != NULL))
		return 0;
	if (!ra) {
		struct reg_account *byname = isms_smap_get(&a->racc_name, e->name);

		if (isms_smap_get(&a->acc_name, e->name) ||
		    (byname && byname->uuid && isms_smap_get(&a->snap_uuid[ISMS_LDAP_ACCOUNT], byname->uuid)))
			return conflict(a, e, "another directory entry has this name");
		/* A local account, or a directory entry deleted and re-created: same row. */
		ra = byname;
	} else if (strcmp(ra->name, e->name) != 0) {
		/* Checked before anything is written for the entry (its person, its uid's
		 * history). The row stays as it is, not departed: the entry is still there. */
		int64_t owner = account_name_owner(a, e->name, ra->id);

		if (owner < 0)
			return (int)owner;
		ra->seen = true;
		if (owner > 0 && a->renames_retry)
			return conflict(a, e, "renamed onto an existing account");
		if (owner > 0)
			return rename_hold(a, i);
	}
	locked = isms_ldap_entry_locked(e, a->now, why, sizeof(why));
	status = locked ? "locked" : "active";
	if (a->acc_mgrkey[i])
		manager_changed = isms_smap_get(&a->changed_dn, a->acc_mgrkey[i]) != NULL;
	if (ra && ra->uuid && strcmp(ra->uuid, e->uuid) == 0 && !a->acc_dirty[i] && !manager_changed &&
	    strcmp(ra->name, e->name) == 0 &&
	    (strcmp(ra->status, status) == 0 || strcmp(ra->status, "revoked") == 0 ||
	     strcmp(ra->status, "held") == 0)) {
		a->acc_id[i] = ra->id;
		ra->seen = true;
		return account_named(a, e, i);   /* nothing this entry depends on changed */
	}
	if (e->employee_no) {
		r = person_write(a, i, &person_id, &a->acc_mgr_later[i]);
		if (r < 0)
			return r;
	}
	r = uid_check(a, e, ra ? ra->name : NULL, why, sizeof(why), &held);
	if (r < 0)
		return r;
	if (held)
		status = "held";
	if (ra && strcmp(ra->status, "revoked") == 0)
		status = "revoked";   /* only a restore undoes a revocation */
	if (!ra) {
		r = SYNC_EXEC(a, "INSERT INTO accounts (name, uid, gid, person_id, kind, source, source_uuid, dn, status,"
				 " status_reason, shell, home, created_at, updated_at)"
				 " VALUES (?, ?, ?, ?, ?, 'ldap', ?, ?, ?, ?, ?, ?, ?, ?)",
				 "SSSSSSSSSSSii", e->name, num(nb, sizeof(nb), e->number), num(gb, sizeof(gb), e->gid),
				 person_id ? num(pb, sizeof(pb), person_id) : NULL, kind, e->uuid, e->dn, status,
				 why[0] ? why : NULL, e->shell, e->home, a->now, a->now);
		if (r < 0)
			return r;
		a->acc_id[i] = sqlite3_last_insert_rowid(a->ctx->reg);
		a->sum->added++;
		if (isms_sync_note(a->sum, "added", e->name, e->dn, e->employee_no) < 0)
			return oom(a);
	} else {
		r = SYNC_EXEC(a, "UPDATE accounts SET name = ?, uid = ?, gid = ?, person_id = ?, kind = ?, source = 'ldap',"
				 " source_uuid = ?, dn = ?, status = ?,"
				 " status_reason = CASE WHEN status = 'revoked' THEN status_reason ELSE ? END,"
				 " shell = ?, home = ?, updated_at = ?"
				 " WHERE id = ?",
				 "SSSSSSSSSSSii", e->name, num(nb, sizeof(nb), e->number), num(gb, sizeof(gb), e->gid),
				 person_id ? num(pb, sizeof(pb), person_id) : NULL, kind, e->uuid, e->dn, status,
				 why[0] ? why : NULL, e->shell, e->home, a->now, ra->id);
		if (r < 0)
			return r;
		ra->seen = true;
		a->acc_id[i] = ra->id;
		if (strcmp(ra->name, e->name) != 0) {
			char d[600];

			(void)snprintf(d, sizeof(d), "%s -> %s", ra->name, e->name);
			a->sum->renamed++;
			r = isms_sync_note(a->sum, "renamed", e->name, d, e->employee_no);
		} else if (!(strcmp(status, "locked") == 0 && strcmp(ra->status, "locked") != 0) &&
			   !(held && strcmp(ra->status, "held") != 0)) {
			const char *what = "changed";

			if (strcmp(ra->status, "locked") == 0 && strcmp(status, "active") == 0)
				what = "unlocked";
			else if (strcmp(ra->status, "departed") == 0)
				what = "returned";
			a->sum->changed++;
			r = isms_sync_note(a->sum, what, e->name, ra->uuid ? NULL : "adopted from local",
					   e->employee_no);
		}
		if (r < 0)
			return oom(a);
	}
	if (strcmp(status, "locked") == 0 && (!ra || strcmp(ra->status, "locked") != 0)) {
		a->sum->locked++;
		if (isms_sync_note(a->sum, "locked", e->name, why, e->employee_no) < 0)
			return oom(a);
	}
	if (held && (!ra || strcmp(ra->status, "held") != 0)) {
		a->sum->held++;
		if (isms_sync_note(a->sum, "held", e->name, why, e->employee_no) < 0)
			return oom(a);
	}
	return account_named(a, e, i);
}

/* Is the account still in the directory under its name? A departure is only
 * recorded when a search by name (escaped: names are outside input) finds nothing. */
static int departure_confirm(struct apply *a, const char *name, char *dn_found, size_t len)
{
	const char *base = a->conf->ldap_people_base[0] ? a->conf->ldap_people_base : a->conf->ldap_base_dn;
	char *eq = isms_ldap_filter_eq(a->conf->ldap_attr_account, name), *filter = NULL;
	char *attrs[] = { "1.1", NULL };
	LDAPMessage *res = NULL, *e;
	struct timeval tv = { .tv_sec = a->conf->ldap_timeout };
	int rc, r = 0;

	dn_found[0] = '\0';
	if (!a->ld)
		return 0;
	if (!eq || asprintf(&filter, "(&%s%s)", a->conf->ldap_people_filter, eq) < 0) {
		free(eq);
		return oom(a);
	}
	rc = ldap_search_ext_s(a->ld, base, LDAP_SCOPE_SUBTREE, filter, attrs, 0, NULL, NULL, &tv, 1, &res);
	if (rc == LDAP_SUCCESS || rc == LDAP_SIZELIMIT_EXCEEDED) {
		e = ldap_first_entry(a->ld, res);
		if (e) {
			char *dn = ldap_get_dn(a->ld, e);

			(void)snprintf(dn_found, len, "%s", dn ? dn : "?");
			ldap_memfree(dn);
		}
	} else {
		r = isms_err_set(a->err, -EIO, "%s: confirming departure of %s: %s", a->conf->ldap_uri, name,
				 ldap_err2string(rc));
	}
	ldap_msgfree(res);
	free(filter);
	free(eq);
	return r;
}

static int account_depart(struct apply *a, struct reg_account *ra)
{
	sqlite3_stmt *st;
	char *emp = NULL, found[512], *groups = NULL, *detail = NULL;
	size_t glen = 0;
	FILE *gf;
	int r;

	r = departure_confirm(a, ra->name, found, sizeof(found));
	if (r < 0)
		return r;
	if (found[0])
		return isms_sync_note(a->sum, "kept", ra->name, found, NULL) < 0 ? oom(a) : 0;
	/* What the account held, recorded before its memberships go. */
	gf = open_memstream(&groups, &glen);
	if (!gf)
		return oom(a);
	st = isms_db_query(a->ctx->reg, a->err,
			   "SELECT DISTINCT g.name FROM memberships m JOIN groups g ON g.id = m.group_id"
			   " WHERE m.account_id = ? ORDER BY g.name", "i", ra->id);
	while (st && (r = isms_db_step(st, a->err)) == 1)
		fprintf(gf, "%s%s", ftell(gf) ? "," : "", (const char *)sqlite3_column_text(st, 0));
	isms_db_done(st);
	fclose(gf);
	if (!st || r < 0) {
		free(groups);
		return st ? r : a->err->code;
	}
	st = isms_db_query(a->ctx->reg, a->err, "SELECT employee_no FROM people WHERE id = ?", "i", ra->person_id);
	if (st && isms_db_step(st, a->err) == 1)
		emp = isms_db_col_strdup(st, 0);
	isms_db_done(st);
	if (asprintf(&detail, "groups=%s", groups ? groups : "") < 0)
		detail = NULL;
	free(groups);
	if (!detail) {
		free(emp);
		return oom(a);
	}
	r = SYNC_EXEC(a, "UPDATE accounts SET status = 'departed', status_reason = 'entry removed from the directory',"
			 " updated_at = ? WHERE id = ?", "ii", a->now, ra->id);
	if (r == 0)
		r = SYNC_EXEC(a, "INSERT INTO revocation_actions (account_name, employee_no, trigger, reason, step, status,"
				 " detail, created_at, done_at) VALUES (?, ?, 'sync', 'departed from the directory',"
				 " 'registry', 'done', ?, ?, ?)", "SSSii", ra->name, emp, detail, a->now, a->now);
	if (r == 0) {
		a->sum->departed++;
		r = isms_sync_note(a->sum, "departed", ra->name, detail, emp) < 0 ? oom(a) : 0;
	}
	free(emp);
	free(detail);
	return r;
}

static int accounts_depart(struct apply *a)
{
	long long allowed = a->active_before * a->conf->ldap_max_removals / 100;
	int r;

	if (a->conf->ldap_max_removals > 0 && allowed < 1)
		allowed = 1;   /* a small directory may always lose one account */
	for (size_t i = 0; i < a->nracc; i++) {
		struct reg_account *ra = &a->racc[i];

		if (ra->seen || !ra->uuid || strcmp(ra->source, "ldap") != 0 ||
		    strcmp(ra->status, "departed") == 0 || strcmp(ra->status, "revoked") == 0)
			continue;
		r = account_depart(a, ra);
		if (r < 0)
			return r;
	}
	if (a->sum->departed > allowed && !a->opts->force)
		return isms_err_set(a->err, -ECANCELED,
				    "sync would remove %lld of %lld directory accounts, more than max_removals = %lld%%;"
				    " check [ldap] base and filters, or run again with --force",
				    a->sum->departed, a->active_before, a->conf->ldap_max_removals);
	/* A person has left when every account they own has (so one of them has:
	 * only those people are looked at, not every one). */
	r = SYNC_EXEC(a, "UPDATE people SET status = 'departed', updated_at = ?1 WHERE source = 'ldap' AND status = 'active'"
			 " AND id IN (SELECT person_id FROM accounts WHERE status IN ('departed', 'revoked'))"
			 " AND NOT EXISTS (SELECT 1 FROM accounts WHERE person_id = people.id"
			 " AND status NOT IN ('departed', 'revoked'))", "i", a->now);
	if (r == 0)
		r = SYNC_EXEC(a, "UPDATE people SET status = 'active', updated_at = ?1 WHERE source = 'ldap' AND status = 'departed'"
				 " AND terminated_at IS NULL AND EXISTS (SELECT 1 FROM accounts WHERE person_id = people.id"
				 " AND status IN ('active', 'locked', 'held'))", "i", a->now);
	return r;
}

static void progress(struct apply *a, const char *phase, long long done, long long total)
{
	if (a->opts->progress)
		a->opts->progress(a->opts->progress_arg, phase, done, total);
}

void sync_apply_init(struct apply *a, struct isms_ctx *ctx, LDAP *ld, const struct isms_snapshot *snap,
		     const struct isms_sync_opts *opts, struct isms_sync_summary *sum, struct isms_err *err)
{
	memset(a, 0, sizeof(*a));
	a->ctx = ctx;
	a->conf = ctx->conf;
	a->ld = ld;
	a->snap = snap;
	a->opts = opts;
	a->sum = sum;
	a->err = err;
	a->now = isms_now();
	sync_batch_init(&a->mem_batch, "INSERT INTO memberships (account_id, group_id, via_id, path, source, attr) VALUES",
			"(?, ?, ?, ?, 'ldap', ?)", 5);
	sync_batch_init(&a->entry_batch, "INSERT OR REPLACE INTO ldap_entries (uuid, kind, dn, data) VALUES",
			"(?, ?, ?, ?)", 4);
}

int sync_apply_written(struct apply *a)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < a->snap->naccounts; i++)
		r = account_write(a, i, true);
	if (r == 0)
		r = renames_retry(a);
	return r < 0 ? r : accounts_depart(a);
}

/* Entry i of its kind has just been added to the snapshot. */
int sync_apply_add(struct apply *a, enum isms_ldap_kind kind, size_t i)
{
	struct isms_sync_summary *sum = a->sum;
	int r;

	r = kind == ISMS_LDAP_ACCOUNT ? sync_index_account(a, i) : sync_index_group(a, i);
	if (r == 0)
		r = sync_apply_entry(a, kind, i);
	if (r < 0 || kind != ISMS_LDAP_ACCOUNT || !a->stream)
		return r;
	a->sum = &a->stream_sum;
	r = account_write(a, i, false);
	a->sum = sum;
	return r;
}

/* Move the changes noted while streaming accounts after those of the groups,
 * where a sync that writes accounts after groups reports them. */
static int stream_sum_move(struct apply *a)
{
	struct isms_sync_summary *s = &a->stream_sum, *d = a->sum;

	if (s->nchanges) {
		/* isms_sync_note grows the array 64 entries at a time: keep it so. */
		size_t cap = (d->nchanges + s->nchanges + 63) / 64 * 64;
		struct isms_sync_change *c = realloc(d->changes, cap * sizeof(*c));

		if (!c)
			return oom(a);
		memcpy(c + d->nchanges, s->changes, s->nchanges * sizeof(*c));
		d->changes = c;
		d->nchanges += s->nchanges;
		free(s->changes);
		s->changes = NULL;
		s->nchanges = 0;
	}
	d->added += s->added;
	d->changed += s->changed;
	d->renamed += s->renamed;
	d->locked += s->locked;
	d->held += s->held;
	d->conflicts += s->conflicts;
	isms_sync_summary_free(s);
	return 0;
}

/* A person written while streaming took the manager the snapshot had then. The
 * person's row is what the last of their entries says: write that one again,
 * with the whole snapshot, when its manager had not arrived yet. */
static int stream_managers(struct apply *a)
{
	struct isms_smap last = { 0 };
	int r = 0;

	for (size_t i = 0; i < a->nacc && r == 0; i++)
		if (a->snap->accounts[i]->employee_no)
			r = isms_smap_put(&last, a->snap->accounts[i]->employee_no, IDX_SMAP(i + 1));
	if (r < 0) {
		isms_smap_free(&last);
		return oom(a);
	}
	for (size_t i = 0; i < a->nacc && r == 0; i++) {
		int64_t id = 0;
		bool missing = false;

		if (a->acc_mgr_later[i] && SMAP_IDX(isms_smap_get(&last, a->snap->accounts[i]->employee_no)) == i + 1)
			r = person_write(a, i, &id, &missing);
	}
	isms_smap_free(&last);
	return r;
}

/* The whole snapshot has arrived: everything that depends on all of it. */
int sync_apply_finish(struct apply *a)
{
	const struct isms_snapshot *snap = a->snap;
	long long total = (long long)(snap->naccounts * 2 + snap->ngroups);
	int r;

	r = sync_index_finish(a);
	if (r == 0)
		r = groups_remove(a);
	for (size_t i = 0; r == 0 && i < snap->ngroups; i++)
		r = group_write(a, i);
	if (r == 0 && a->stream)
		r = stream_sum_move(a);
	if (r == 0 && a->stream)
		r = stream_managers(a);
	/* Accounts already known first, so a newcomer reusing a uid is the one held. */
	for (int pass = 1; pass >= 0 && r == 0 && !a->stream; pass--) {
		for (size_t i = 0; r == 0 && i < snap->naccounts; i++) {
			r = account_write(a, i, pass == 1);
			if ((i & 1023) == 0)
				progress(a, "applying", (long long)(snap->ngroups + (1 - pass) * snap->naccounts + i),
					 total);
		}
		if (r == 0 && pass == 1)
			r = renames_retry(a);
	}
	if (r == 0)
		r = accounts_depart(a);
	if (r == 0)
		r = sync_apply_members(a);
	if (r == 0)
		r = sync_apply_entries_gone(a);
	if (r == 0)
		progress(a, "applying", total, total);
	a->sum->accounts = (long long)snap->naccounts;
	a->sum->groups_total = (long long)snap->ngroups;
	return r;
}

void sync_apply_free(struct apply *a)
{
	sync_batch_free(&a->mem_batch);
	sync_batch_free(&a->entry_batch);
	sync_kept_free(a);
	sync_load_free(a);
	isms_sync_summary_free(&a->stream_sum);
}

int isms_sync_apply(struct isms_ctx *ctx, LDAP *ld, const struct isms_snapshot *snap,
		    const struct isms_sync_opts *opts, struct isms_sync_summary *sum,
		    struct isms_err *err)
{
	struct apply a;
	int r;

	sync_apply_init(&a, ctx, ld, snap, opts, sum, err);
	r = sync_load(&a);
	for (size_t i = 0; r == 0 && i < snap->naccounts; i++)
		r = sync_apply_add(&a, ISMS_LDAP_ACCOUNT, i);
	for (size_t i = 0; r == 0 && i < snap->ngroups; i++)
		r = sync_apply_add(&a, ISMS_LDAP_GROUP, i);
	if (r == 0)
		r = sync_apply_finish(&a);
	sync_apply_free(&a);
	return r;
}
