/* Shared by the files of `accessctl mfa`: the QR renderer and the import subcommand. */
#ifndef ACCESSCTL_MFA_CMD_H
#define ACCESSCTL_MFA_CMD_H

#include <stdio.h>

#include "cli.h"
#include "vault.h"

/* Draw the QR code of `text` with half-block characters (two modules per line). */
int mfa_qr_print(FILE *f, const char *text);

/* Write the QR code as a binary PGM (P5), `scale` pixels per module, with a quiet zone. */
int mfa_qr_write_pgm(const char *path, const char *text, int scale);

/* accessctl mfa import ...; argv[0] is "import". */
int mfa_import(struct cli *cli, int argc, char **argv);

/* Load the host key; prints the error. */
int mfa_vault(struct cli *cli, struct isms_vault *v);

#endif
