/* What accessctl's review commands share: worksheets on disk, the evidence
 * bundle, and status. */
#ifndef ACCESSCTL_REVIEW_CLI_H
#define ACCESSCTL_REVIEW_CLI_H

#include "cli.h"
#include "review.h"

/* CSV and XLSX per reviewer plus the HTML summary into dir (created 0750). */
int review_write_worksheets(struct cli *cli, const struct isms_review_campaign *c, const char *dir,
			    bool say);

/* The closed campaign's evidence in dir, sealed with the host's signing key. */
int review_write_bundle(struct cli *cli, const struct isms_review_campaign *c, const char *dir);

int review_status(struct cli *cli, int argc, char **argv);

#endif
