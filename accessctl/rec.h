/* accessctl rec: the subcommands, split between setting recording up (rec.c)
 * and reading recordings (rec_read.c). */
#ifndef ACCESSCTL_REC_H
#define ACCESSCTL_REC_H

#include "cli.h"

int rec_list(struct cli *cli, int argc, char **argv);
int rec_verify(struct cli *cli, int argc, char **argv);
int rec_play(struct cli *cli, int argc, char **argv);
int rec_export(struct cli *cli, int argc, char **argv);

/* The sessions row for an id or a unique prefix of at least 8 hex digits:
 * fills id (full) and path. Prints why and returns EXIT_FINDINGS/EXIT_USAGE. */
int rec_find(struct cli *cli, const char *arg, char id[33], char **ret_path);

#endif
