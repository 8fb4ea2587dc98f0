/* Encrypted backups of both stores: an online sqlite backup of each, packed
 * and sealed in one libsodium secretstream, so a copy off the host is useless
 * without the host key (or the private half of the key it was sealed to). */
#ifndef ISMS_BACKUP_H
#define ISMS_BACKUP_H

#include <sqlite3.h>

#include <sodium.h>

#include "err.h"
#include "vault.h"

/* Who can open a backup: the host key, or an X25519 key pair (public to write). */
struct isms_backup_key {
	const struct isms_vault *vault;                        /* host key, or NULL */
	const unsigned char *pubkey;                           /* crypto_box public key, or NULL */
	const unsigned char *seckey;                           /* its secret half, for reading */
};

/* Write both stores (online backup, consistent while logins go on) to out_path (0600). */
int isms_backup_write(sqlite3 *registry, sqlite3 *state, const char *out_path,
		      const struct isms_backup_key *key, struct isms_err *err);

/* Decrypt and unpack into dir as registry.db and state.db (0600). A truncated,
 * edited or wrongly keyed file is -EBADMSG and leaves nothing behind. */
int isms_backup_read(const char *in_path, const struct isms_backup_key *key, const char *dir,
		     struct isms_err *err);

#endif
