/* Fuzz the pam_oath usersfile parser: entries within bounds, or a message. */
#include <stdint.h>
#include <string.h>

#include "mfa_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct isms_import im = { 0 };
	struct isms_err err = { 0 };

	if (isms_import_oath_parse((const char *)data, size, "fuzz", &im, &err) == 0) {
		for (size_t i = 0; i < im.n; i++)
			if (!im.v[i].user || im.v[i].secret_len < 10 ||
			    im.v[i].secret_len > ISMS_MFA_SECRET_MAX || im.v[i].p.period < 10)
				__builtin_trap();
		isms_import_free(&im);
	} else if (!err.msg[0]) {
		__builtin_trap();
	}
	return 0;
}
