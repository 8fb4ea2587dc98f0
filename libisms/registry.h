/* Read helpers over registry.db shared by the account phase and accessctl:
 * one account with its owner, and who else holds a uid. Indexed lookups only. */
#ifndef ISMS_REGISTRY_H
#define ISMS_REGISTRY_H

#include <stdbool.h>
#include <stdint.h>
#include <sqlite3.h>

#include "err.h"

struct isms_account {
	int64_t id;
	char name[256];
	bool has_uid, has_gid;
	int64_t uid, gid;
	char kind[16];            /* human, service, shared, breakglass */
	char status[16];          /* active, locked, revoked, departed, held */
	char status_reason[256];
	char services[512];       /* comma list, service accounts only */
	char source[8];
	char shell[256];
	int64_t created_at;
	bool has_owner;
	char owner_no[64];        /* employee number of the owner */
	char owner_name[256];
	char owner_status[16];    /* active, departed, leave */
};

/* Find an account by name with its owner. 1 found, 0 not found, negative on error. */
int isms_registry_account_find(sqlite3 *reg, const char *name, struct isms_account *ret,
			       struct isms_err *err);

/* Another registry account holding uid (not `name`): 1 with its name in ret_other,
 * 0 when none, negative on error. */
int isms_registry_uid_other(sqlite3 *reg, int64_t uid, const char *name, char *ret_other,
			    size_t len, struct isms_err *err);

/* Last login of an account from state.db `logins`: 1 found, 0 never, negative on error. */
int isms_state_last_login(sqlite3 *state, const char *name, int64_t *ret, struct isms_err *err);

/* Is `service` in the comma list `list`? */
bool isms_csv_has(const char *list, const char *service);

#endif
