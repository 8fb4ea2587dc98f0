/* accessctl sync: accounts, people and groups from the LDAP directory. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "cli.h"
#include "sync.h"

const struct command cmd_sync_def = {
	"sync", cmd_sync, "bring accounts, people and groups from the LDAP directory",
	"usage: accessctl [--root DIR] [--json] sync [--dry-run] [--force] [--full]\n\n"
	"Read the directory named in [ldap] and bring the registry in line with it, in\n"
	"one transaction: accounts (posixAccount), their owners (employeeNumber, manager),\n"
	"groups (posixGroup memberUid, groupOfNames member, groupOfUniqueNames\n"
	"uniqueMember) with nested groups resolved and the path kept. Entries are keyed\n"
	"by entryUUID, so a rename is a rename. An account gone from the directory\n"
	"becomes 'departed', one locked there (pwdAccountLockedTime, shadowExpire in the\n"
	"past) 'locked'; a uid number reused by another person is reported and the new\n"
	"account 'held'. When the server offers RFC 4533 content sync, only changes\n"
	"since the last sync are read.\n\n"
	"  --dry-run   print the changes, write nothing\n"
	"  --force     apply even when more than [ldap] max_removals percent of the\n"
	"              directory's accounts would be removed\n"
	"  --full      read the whole directory (paged) instead of the changes\n\n"
	"Exit status: 0 synced, 1 refused by the max_removals guard, 2 configuration,\n"
	"connection or directory error (the registry is unchanged).\n",
};

static void sync_progress(void *arg, const char *phase, long long done, long long total)
{
	(void)arg;
	/* Reading has no known total: show the count against the next power of ten. */
	if (total <= 0) {
		total = 1000;
		while (total <= done)
			total *= 10;
	}
	cli_progress(phase, done, total);
}

static void print_text(const struct isms_sync_summary *s, bool dry_run)
{
	for (size_t i = 0; i < s->nchanges; i++) {
		const struct isms_sync_change *c = &s->changes[i];

		printf("%s%-14s %s%s%s%s\n", dry_run ? "would be " : "", c->what, c->subject,
		       c->detail ? " (" : "", c->detail ? c->detail : "", c->detail ? ")" : "");
	}
	if (s->fallback)
		printf("full read: %s\n", s->fallback);
	if (s->skipped)
		printf("skipped: %lld entries without entryUUID or name (not an OpenLDAP server? see accessctl(8))\n",
		       s->skipped);
	if (s->conflicts)
		printf("conflicts: %lld entries not written: their name is another directory entry's\n", s->conflicts);
	printf("%s sync%s: %lld accounts, %lld groups, %lld memberships in the directory\n", s->mode,
	       dry_run ? " (dry run, nothing written)" : "", s->accounts, s->groups_total, s->memberships_total);
	printf("accounts: %lld added, %lld changed, %lld renamed, %lld departed, %lld locked, %lld held\n",
	       s->added, s->changed, s->renamed, s->departed, s->locked, s->held);
	printf("groups: %lld added, %lld changed, %lld removed; memberships: %lld added, %lld removed\n",
	       s->groups_added, s->groups_changed, s->groups_removed, s->memberships_added,
	       s->memberships_removed);
	printf("duration: %.2f s\n", s->duration);
}

static void print_json(const struct isms_sync_summary *s, bool dry_run, const char *refused)
{
	json_t *changes = json_array(), *o = isms_sync_summary_counts(s);

	for (size_t i = 0; i < s->nchanges; i++) {
		const struct isms_sync_change *c = &s->changes[i];

		json_array_append_new(changes, json_pack("{s:s,s:s,s:s?}", "change", c->what, "name", c->subject,
							 "detail", c->detail));
	}
	if (o) {
		json_object_set_new(o, "dry_run", json_boolean(dry_run));
		json_object_set_new(o, "refused", refused ? json_string(refused) : json_null());
		json_object_set_new(o, "fallback", s->fallback ? json_string(s->fallback) : json_null());
		json_object_set_new(o, "duration", json_real(s->duration));
		json_object_set_new(o, "changes", changes);
	} else {
		json_decref(changes);
	}
	cli_json_print(o);
}

/* One audit event per departure, lock and hold, and one for the sync. */
static void audit_sync(struct cli *cli, const struct isms_sync_summary *s, const char *result,
		       const char *reason, const char *error)
{
	char details[512];
	size_t pos = 0;

	for (size_t i = 0; i < s->nchanges && strcmp(result, "ok") == 0; i++) {
		const struct isms_sync_change *c = &s->changes[i];
		char d[512];
		size_t p = 0;

		if (strcmp(c->what, "departed") != 0 && strcmp(c->what, "locked") != 0 &&
		    strcmp(c->what, "held") != 0)
			continue;
		d[0] = '\0';
		isms_audit_kv(d, sizeof(d), &p, "employee", c->employee_no);
		isms_audit_kv(d, sizeof(d), &p, "detail", c->detail);
		cli_audit(cli, strcmp(c->what, "departed") == 0 ? "departure" : c->what, c->subject, "ok", "ldap_sync", d);
	}
	details[0] = '\0';
	isms_audit_kv(details, sizeof(details), &pos, "source", cli->conf->ldap_uri);
	isms_audit_kv(details, sizeof(details), &pos, "mode", s->mode);
	if (error)
		isms_audit_kv(details, sizeof(details), &pos, "error", error);
	if (strcmp(result, "ok") == 0) {
		char n[160];

		(void)snprintf(n, sizeof(n), "added=%lld changed=%lld renamed=%lld departed=%lld locked=%lld held=%lld",
			       s->added, s->changed, s->renamed, s->departed, s->locked, s->held);
		if (pos + strlen(n) + 2 < sizeof(details))
			pos += (size_t)snprintf(details + pos, sizeof(details) - pos, " %s", n);
	}
	cli_audit(cli, "sync", NULL, result, reason, details);
}

int cmd_sync(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "force", no_argument, NULL, 'f' },
		{ "full", no_argument, NULL, 'F' },
		{ 0 },
	};
	struct isms_sync_opts so = { .progress = sync_progress };
	struct isms_sync_summary sum = { 0 };
	struct isms_err err = { 0 };
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			so.dry_run = true;
			break;
		case 'f':
			so.force = true;
			break;
		case 'F':
			so.full = true;
			break;
		default:
			return cli_usage(cli, &cmd_sync_def, "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage(cli, &cmd_sync_def, "unexpected argument '%s'", argv[optind]);
	r = cli_open(cli);
	if (r != EXIT_OK)
		return r;
	r = isms_sync_run(&cli->ctx, &so, &sum, &err);
	if (r == -ECANCELED) {
		if (cli->json)
			print_json(&sum, so.dry_run, err.msg);
		fprintf(stderr, "%s sync: refused: %s\n", cli->prog, err.msg);
		if (!so.dry_run)
			audit_sync(cli, &sum, "refused", "max_removals", err.msg);
		isms_sync_summary_free(&sum);
		return EXIT_FINDINGS;
	}
	if (r < 0) {
		fprintf(stderr, "%s sync: %s\n", cli->prog, err.msg);
		if (!so.dry_run)
			audit_sync(cli, &sum, "fail", "sync_error", err.msg);
		isms_sync_summary_free(&sum);
		return EXIT_USAGE;
	}
	if (cli->json)
		print_json(&sum, so.dry_run, NULL);
	else
		print_text(&sum, so.dry_run);
	if (!so.dry_run)
		audit_sync(cli, &sum, "ok", NULL, NULL);
	isms_sync_summary_free(&sum);
	return EXIT_OK;
}
