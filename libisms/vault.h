/* The vault: a host key file and XChaCha20-Poly1305 sealing of secrets,
 * each bound to its account by the associated data. libsodium throughout. */
#ifndef ISMS_VAULT_H
#define ISMS_VAULT_H

#include <stddef.h>
#include <sys/stat.h>

#include "err.h"

#define ISMS_VAULT_KEYBYTES 32

struct isms_vault {
	unsigned char key[ISMS_VAULT_KEYBYTES];
};

/* Create a new key file (0600, O_EXCL). -EEXIST when it already exists. */
int isms_vault_create_key(const char *path, struct isms_err *err);

/* Load the key: refused if the file is readable or writable by anyone but
 * its owner, not a regular file, of the wrong size, or (caller root) not owned by root. */
int isms_vault_load(const char *path, struct isms_vault *ret, struct isms_err *err);
/* The same, also giving the identity of the file read (fstat). */
int isms_vault_load_st(const char *path, struct isms_vault *ret, struct stat *st, struct isms_err *err);
/* The rules isms_vault_load applies to the key file, on its stat. */
int isms_vault_check_st(const struct stat *st, const char *path, struct isms_err *err);

void isms_vault_wipe(struct isms_vault *v);

/* Seal a secret for `ad` (the account name). *ret_ct is malloc'd: nonce || ciphertext || tag. */
int isms_vault_seal(const struct isms_vault *v, const char *ad,
		    const unsigned char *pt, size_t ptlen,
		    unsigned char **ret_ct, size_t *ret_ctlen);

/* Open a sealed secret; -EBADMSG when tampered or sealed for another ad.
 * *ret_pt is malloc'd; free it with isms_secret_free(pt, ptlen). */
int isms_vault_open(const struct isms_vault *v, const char *ad,
		    const unsigned char *ct, size_t ctlen,
		    unsigned char **ret_pt, size_t *ret_ptlen);

/* Keyed hash (BLAKE2b-256, key derived from the vault key) of `what` under `ad`,
 * for values stored only as hashes (recovery codes). out: 32 bytes. */
int isms_vault_keyed_hash(const struct isms_vault *v, const char *ad,
			  const char *what, unsigned char out[32]);

#endif
