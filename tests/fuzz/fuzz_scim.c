/* Fuzz the SCIM request parsing: the first line is the path, the rest the PATCH body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *type = NULL;
	struct isms_err err = { 0 };
	const uint8_t *nl = memchr(data, '\n', size);
	size_t plen = nl ? (size_t)(nl - data) : size;
	char *path = strndup((const char *)data, plen), id[128];
	char *doc;

	if (!path)
		return 0;
	if (isms_scim_user_path(path, id, sizeof(id), &err) == 0 && strlen(id) >= sizeof(id))
		abort();
	free(path);
	if (nl && isms_scim_patch_parse((const char *)nl + 1, size - plen - 1, &type, &err) < 0 && !type)
		abort();
	doc = isms_scim_error_json(400, type, err.msg);
	free(doc);
	return 0;
}
