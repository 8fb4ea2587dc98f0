/* Fuzz the recording reader (accessctl rec verify/play/export read files an
 * attacker on the host may have written): structure and chain checks without
 * a key, then decryption with a fixed auditor key. Must never crash or leak. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "recfile.h"

/* The seed corpus is sealed to the key pair whose secret is 32 bytes of 0x42. */
static const unsigned char seckey[ISMS_REC_KEYBYTES] = {
	0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
};

static int sink(void *user, const unsigned char *data, size_t len)
{
	size_t *total = user;

	*total += len;
	(void)data;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct isms_rec_info info;
	size_t total = 0;
	FILE *f;

	if (size == 0)
		return 0;
	f = fmemopen((void *)data, size, "rb");
	if (!f)
		return 0;
	(void)isms_rec_read(f, NULL, NULL, NULL, &info, NULL);
	rewind(f);
	(void)isms_rec_read(f, seckey, sink, &total, &info, NULL);
	fclose(f);
	return 0;
}
