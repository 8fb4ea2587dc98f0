/* Evidence bundles: a directory whose manifest lists the SHA-256 of every file,
 * signed with the host's Ed25519 key, so an auditor can prove nothing changed. */
#ifndef ISMS_EVIDENCE_H
#define ISMS_EVIDENCE_H

#include <stddef.h>

#include "err.h"

#define ISMS_EVIDENCE_MANIFEST "manifest.json"
#define ISMS_EVIDENCE_SIGNATURE "manifest.sig"

/* Write manifest.json (every file under dir, sorted, with size and SHA-256) and
 * manifest.sig (Ed25519 over manifest.json) with the secret key at signing_key. */
int isms_evidence_seal(const char *dir, const char *signing_key, const char *label,
		       struct isms_err *err);

/* Check the signature with the raw 32-byte public key at pubkey, then every file:
 * same set of files, same bytes. -EBADMSG naming the first difference. */
int isms_evidence_verify(const char *dir, const char *pubkey, size_t *ret_files,
			 struct isms_err *err);

#endif
