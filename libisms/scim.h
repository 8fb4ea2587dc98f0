/* SCIM 2.0 (RFC 7644) deprovisioning requests: which user a path names and
 * whether a PATCH body deactivates it. Everything else is refused whole. */
#ifndef ISMS_SCIM_H
#define ISMS_SCIM_H

#include <stddef.h>

#include "err.h"

#define ISMS_SCIM_ERROR_URN "urn:ietf:params:scim:api:messages:2.0:Error"
#define ISMS_SCIM_PATCH_URN "urn:ietf:params:scim:api:messages:2.0:PatchOp"

/* "/Users/{id}" (optionally under "/scim/v2"): the id, which is the employee
 * number. 0, or -ENOENT for another path, -EINVAL for an id with characters
 * outside [A-Za-z0-9._-] or longer than len-1. */
int isms_scim_user_path(const char *url, char *id, size_t len, struct isms_err *err);

/* A PatchOp body whose operations all set active to false: 0. Anything else
 * -EINVAL, with *ret_scim_type ("invalidSyntax", "invalidValue", "invalidPath",
 * "mutability") and err->msg as the detail. */
int isms_scim_patch_parse(const char *body, size_t len, const char **ret_scim_type,
			  struct isms_err *err);

/* The SCIM error document for status, scimType (may be NULL) and detail (malloc'd). */
char *isms_scim_error_json(int status, const char *scim_type, const char *detail);

#endif
