/* Fuzz the google-authenticator file parser: any input either parses into
 * bounded entries or fails with a message, never a crash or leak. */
#include <stdint.h>
#include <string.h>

#include "mfa_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct isms_import im = { 0 };
	struct isms_err err = { 0 };

	if (isms_import_ga_parse((const char *)data, size, "fuzz", &im, &err) == 0) {
		if (im.n != 1 || im.v[0].secret_len < 10 || im.v[0].secret_len > ISMS_MFA_SECRET_MAX)
			__builtin_trap();
		isms_import_free(&im);
	} else if (!err.msg[0]) {
		__builtin_trap();   /* every refusal says why */
	}
	return 0;
}
