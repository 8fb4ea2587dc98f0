/* accessctl person: the people who own accounts, keyed by employee number. */
#include <getopt.h>
#include <string.h>

#include "audit.h"
#include "clock.h"
#include "cli.h"
#include "db.h"

const struct command cmd_person_def = {
	"person", cmd_person, "register the people who own accounts",
	"usage: accessctl [--root DIR] person add EMPLOYEE_NO --name NAME --email EMAIL\n"
	"                                    [--manager EMPLOYEE_NO]\n\n"
	"  add   register a person (source local), the owner of human accounts. The\n"
	"        employee number is the key HR feeds join on; it cannot be taken twice.\n"
	"        --manager may name a person not yet registered (a later sync brings them).\n"
	"Exit 0 added, 1 refused (already registered), 2 usage error.\n",
};

/* Printable text without control characters; a person's fields end up in reports. */
static bool text_ok(const char *s)
{
	if (!s || !*s)
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < ' ' || *p == 0x7f)
			return false;
	return true;
}

static bool employee_no_ok(const char *s)
{
	if (!s || !*s || strlen(s) > 63)
		return false;
	for (const char *p = s; *p; p++)
		if (!(*p >= '0' && *p <= '9') && !(*p >= 'A' && *p <= 'Z') && !(*p >= 'a' && *p <= 'z') &&
		    *p != '-' && *p != '_' && *p != '.')
			return false;
	return true;
}

static int person_add(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "email", required_argument, NULL, 'e' },
		{ "manager", required_argument, NULL, 'm' },
		{ 0 },
	};
	const char *name = NULL, *email = NULL, *manager = NULL, *no;
	struct isms_err err = { 0 };
	char details[512] = "";
	size_t pos = 0;
	int64_t now = isms_now();
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "n:e:m:", opts, NULL)) != -1) {
		switch (c) {
		case 'n': name = optarg; break;
		case 'e': email = optarg; break;
		case 'm': manager = optarg; break;
		default: return cli_usage(cli, &cmd_person_def, "unknown option");
		}
	}
	if (optind != argc - 1)
		return cli_usage(cli, &cmd_person_def, "expected exactly one EMPLOYEE_NO");
	no = argv[optind];
	if (!employee_no_ok(no))
		return cli_usage(cli, &cmd_person_def, "employee number '%s': letters, digits, '-', '_', '.'", no);
	if (!text_ok(name))
		return cli_usage(cli, &cmd_person_def, "--name is required (printable text)");
	if (!text_ok(email) || !strchr(email, '@') || strchr(email, ' '))
		return cli_usage(cli, &cmd_person_def, "--email is required (an address with '@')");
	if (manager && (!employee_no_ok(manager) || strcmp(manager, no) == 0))
		return cli_usage(cli, &cmd_person_def, "--manager must be another employee number");
	r = cli_open(cli);
	if (r != EXIT_OK)
		return r;
	r = isms_db_exec(cli->ctx.reg, &err,
			 "INSERT INTO people (employee_no, name, email, manager_no, status, source, created_at,"
			 " updated_at) VALUES (?, ?, ?, ?, 'active', 'local', ?, ?)",
			 "ssssii", no, name, email, manager, now, now);
	if (r == -EEXIST)
		return cli_fail(cli, EXIT_FINDINGS, "person add: employee %s is already registered", no);
	if (r < 0)
		return cli_fail(cli, EXIT_USAGE, "person add: %s", err.msg);
	isms_audit_kv(details, sizeof(details), &pos, "manager", manager);
	cli_audit(cli, "person_add", no, "ok", NULL, details);
	if (!cli->json)
		printf("person %s (%s) registered\n", no, name);
	else
		cli_json_print(json_pack("{s:s,s:s,s:s,s:s*}", "employee_no", no, "name", name, "email", email,
					 "manager", manager));
	return EXIT_OK;
}

int cmd_person(struct cli *cli, int argc, char **argv)
{
	if (argc < 2)
		return cli_usage(cli, &cmd_person_def, "missing subcommand");
	if (strcmp(argv[1], "add") == 0)
		return person_add(cli, argc - 1, argv + 1);
	return cli_usage(cli, &cmd_person_def, "unknown subcommand '%s'", argv[1]);
}
