/* HR exports (CSV): which people the feed says have left, and which rows it cannot
 * vouch for. Columns are named in [hr]; rows join on employee number, never email. */
#ifndef ISMS_HR_FEED_H
#define ISMS_HR_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "err.h"

struct isms_hr_row {
	size_t line;             /* where the row starts in the file */
	char *employee_no;
	bool terminated;         /* status is one of [hr] terminated_status */
	int64_t terminated_at;   /* valid when terminated */
	bool excluded;           /* conflicting duplicate: not applied */
};

struct isms_hr_issue {
	size_t line;
	size_t column;           /* 1-based field number, 0: the whole row */
	char msg[160];
};

struct isms_hr_feed {
	struct isms_hr_row *rows;    /* valid rows, in file order, each employee once */
	size_t nrows;
	struct isms_hr_issue *issues;
	size_t nissues;
};

/* Parse an export. Bad rows become issues and are left out; a file that is not
 * CSV, or lacks a configured column, is -EINVAL with err naming line and column. */
int isms_hr_feed_parse(const char *data, size_t len, const struct isms_conf *conf,
		       struct isms_hr_feed *ret, struct isms_err *err);
void isms_hr_feed_free(struct isms_hr_feed *feed);

#endif
