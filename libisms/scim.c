/* SCIM request parsing, kept apart from the HTTP server so it can be fuzzed. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "scim.h"

int isms_scim_user_path(const char *url, char *id, size_t len, struct isms_err *err)
{
	const char *p = url;
	size_t n;

	if (strncmp(p, "/scim/v2", 8) == 0)
		p += 8;
	if (strncmp(p, "/Users/", 7) != 0)
		return isms_err_set(err, -ENOENT, "no such resource");
	p += 7;
	n = strlen(p);
	if (n == 0 || n >= len)
		return isms_err_set(err, -EINVAL, "user id must be 1 to %zu characters", len - 1);
	for (size_t i = 0; i < n; i++) {
		char c = p[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return isms_err_set(err, -EINVAL, "user id may hold only letters, digits, '.', '_', '-'");
	}
	memcpy(id, p, n + 1);
	return 0;
}

/* false, or the string "False" some providers send. */
static int value_is_false(const json_t *v)
{
	if (json_is_false(v))
		return 1;
	if (json_is_string(v) && strcasecmp(json_string_value(v), "false") == 0)
		return 1;
	return 0;
}

static int bad(const char **ret_type, const char *type, struct isms_err *err, const char *msg)
{
	*ret_type = type;
	return isms_err_set(err, -EINVAL, "%s", msg);
}

int isms_scim_patch_parse(const char *body, size_t len, const char **ret_scim_type, struct isms_err *err)
{
	json_error_t jerr;
	json_t *doc, *schemas, *ops, *op, *s;
	bool patchop = false;
	size_t i;
	int r = 0;

	doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc) {
		*ret_scim_type = "invalidSyntax";
		return isms_err_set(err, -EINVAL, "malformed JSON at line %d column %d: %s", jerr.line,
				    jerr.column, jerr.text);
	}
	schemas = json_object_get(doc, "schemas");
	json_array_foreach(schemas, i, s)
		if (json_is_string(s) && strcmp(json_string_value(s), ISMS_SCIM_PATCH_URN) == 0)
			patchop = true;
	ops = json_object_get(doc, "Operations");
	if (!json_is_object(doc) || !patchop)
		r = bad(ret_scim_type, "invalidSyntax", err, "schemas must list " ISMS_SCIM_PATCH_URN);
	else if (!json_is_array(ops) || json_array_size(ops) == 0)
		r = bad(ret_scim_type, "invalidSyntax", err, "Operations must be a non-empty array");
	json_array_foreach(ops, i, op) {
		const json_t *o = json_object_get(op, "op"), *path = json_object_get(op, "path"),
			     *value = json_object_get(op, "value");

		if (r < 0)
			break;
		if (!json_is_string(o) || (strcasecmp(json_string_value(o), "replace") != 0 &&
					   strcasecmp(json_string_value(o), "add") != 0)) {
			r = bad(ret_scim_type, "invalidSyntax", err, "only replace operations are accepted");
		} else if (path) {
			if (!json_is_string(path) || strcmp(json_string_value(path), "active") != 0)
				r = bad(ret_scim_type, "invalidPath", err,
					"only the path 'active' is accepted (this endpoint deprovisions)");
			else if (!value_is_false(value))
				r = bad(ret_scim_type, "invalidValue", err,
					"only active=false is accepted; restore is 'accessctl restore'");
		} else if (!json_is_object(value) || json_object_size(value) != 1 ||
			   !value_is_false(json_object_get(value, "active"))) {
			r = bad(ret_scim_type, "invalidValue", err,
				"only {\"active\": false} is accepted (this endpoint deprovisions)");
		}
	}
	json_decref(doc);
	return r;
}

char *isms_scim_error_json(int status, const char *scim_type, const char *detail)
{
	char st[16];
	json_t *o;
	char *s;

	(void)snprintf(st, sizeof(st), "%d", status);
	o = json_pack("{s:[s], s:s, s:s}", "schemas", ISMS_SCIM_ERROR_URN, "status", st, "detail",
		      detail ? detail : "");
	if (o && scim_type)
		json_object_set_new(o, "scimType", json_string(scim_type));
	s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return s;
}
