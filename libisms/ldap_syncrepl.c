/* RFC 4533 content synchronization, refresh-only: the request control, the
 * Sync State control of each entry, Sync Info messages (new cookie, sets of
 * present or deleted UUIDs) and the Sync Done control. Debian's libldap-dev
 * does not install ldap_sync.h, so the protocol is spoken here with the
 * control and BER functions libldap does export. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "ldap_conn.h"

int isms_ldap_uuid_text(const struct berval *raw, char out[37])
{
	/* By hand: a present phase converts one per directory entry, and
	 * snprintf took a tenth of an incremental sync. */
	static const char hex[] = "0123456789abcdef";
	const unsigned char *b = (const unsigned char *)raw->bv_val;
	char *o = out;

	if (raw->bv_len != 16)
		return -EINVAL;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*o++ = '-';
		*o++ = hex[b[i] >> 4];
		*o++ = hex[b[i] & 15];
	}
	*o = '\0';
	return 0;
}

static int keep_cookie(struct isms_syncrepl_result *res, const struct berval *c)
{
	char *s;

	if (!c || !c->bv_val)
		return 0;
	s = strndup(c->bv_val, c->bv_len);
	if (!s)
		return -ENOMEM;
	free(res->cookie);
	res->cookie = s;
	return 0;
}

/* The Sync State control of an entry: state and UUID. */
static int sync_entry(LDAP *ld, LDAPMessage *msg, const struct isms_syncrepl_ops *ops)
{
	LDAPControl **ctrls = NULL, *c;
	BerElement *ber = NULL;
	struct berval uuid = { 0 };
	ber_int_t state = -1;
	char text[37];
	int r = -EBADMSG;

	if (ldap_get_entry_controls(ld, msg, &ctrls) != LDAP_SUCCESS)
		return -EBADMSG;
	c = ldap_control_find(LDAP_CONTROL_SYNC_STATE, ctrls, NULL);
	if (c && (ber = ber_init(&c->ldctl_value)) &&
	    ber_scanf(ber, "{em", &state, &uuid) != LBER_ERROR && isms_ldap_uuid_text(&uuid, text) == 0 &&
	    state >= ISMS_SYNC_PRESENT && state <= ISMS_SYNC_DELETE)
		r = ops->entry(ld, msg, (enum isms_sync_state)state, text, ops->arg);
	if (ber)
		ber_free(ber, 1);
	ldap_controls_free(ctrls);
	return r;
}

/* A Sync Info message: a new cookie, or a set of UUIDs present or deleted. */
static int sync_info(LDAP *ld, LDAPMessage *msg, const struct isms_syncrepl_ops *ops,
		     struct isms_syncrepl_result *res)
{
	struct berval *data = NULL, c = { 0 };
	BerVarray uuids = NULL;
	BerElement *ber = NULL;
	char *oid = NULL;
	ber_tag_t tag;
	ber_len_t len;
	ber_int_t deletes = 0;
	int r = 0;

	if (ldap_parse_intermediate(ld, msg, &oid, &data, NULL, 0) != LDAP_SUCCESS)
		return -EBADMSG;
	if (!oid || strcmp(oid, LDAP_SYNC_INFO) != 0 || !data)
		goto done;
	ber = ber_init(data);
	if (!ber) {
		r = -ENOMEM;
		goto done;
	}
	tag = ber_peek_tag(ber, &len);
	if (tag == LDAP_TAG_SYNC_NEW_COOKIE) {
		if (ber_scanf(ber, "m", &c) == LBER_ERROR)
			r = -EBADMSG;
		else
			r = keep_cookie(res, &c);
	} else if (tag == LDAP_TAG_SYNC_REFRESH_DELETE || tag == LDAP_TAG_SYNC_REFRESH_PRESENT) {
		if (ber_scanf(ber, "{") == LBER_ERROR) {
			r = -EBADMSG;
		} else if (ber_peek_tag(ber, &len) == LDAP_TAG_SYNC_COOKIE) {
			r = ber_scanf(ber, "m", &c) == LBER_ERROR ? -EBADMSG : keep_cookie(res, &c);
		}
	} else if (tag == LDAP_TAG_SYNC_ID_SET) {
		if (ber_scanf(ber, "{") == LBER_ERROR) {
			r = -EBADMSG;
			goto done;
		}
		tag = ber_peek_tag(ber, &len);
		if (tag == LDAP_TAG_SYNC_COOKIE) {
			if (ber_scanf(ber, "m", &c) == LBER_ERROR || keep_cookie(res, &c) < 0) {
				r = -EBADMSG;
				goto done;
			}
			tag = ber_peek_tag(ber, &len);
		}
		if (tag == LDAP_TAG_REFRESHDELETES && ber_scanf(ber, "b", &deletes) == LBER_ERROR) {
			r = -EBADMSG;
			goto done;
		}
		if (ber_scanf(ber, "[W]", &uuids) == LBER_ERROR) {
			r = -EBADMSG;
			goto done;
		}
		for (size_t i = 0; uuids && uuids[i].bv_val && r == 0; i++) {
			char text[37];

			if (isms_ldap_uuid_text(&uuids[i], text) == 0)
				r = ops->uuid_set(text, deletes != 0, ops->arg);
		}
		ber_bvarray_free(uuids);
	}
done:
	if (ber)
		ber_free(ber, 1);
	ber_bvfree(data);
	ldap_memfree(oid);
	return r;
}

/* The Sync Done control on the final result: last cookie and refreshDeletes. */
static int sync_done(LDAPControl **ctrls, struct isms_syncrepl_result *res)
{
	LDAPControl *c = ldap_control_find(LDAP_CONTROL_SYNC_DONE, ctrls, NULL);
	BerElement *ber;
	struct berval cookie = { 0 };
	ber_int_t deletes = 0;
	ber_tag_t tag;
	ber_len_t len;
	int r = 0;

	if (!c)
		return -EBADMSG;
	ber = ber_init(&c->ldctl_value);
	if (!ber)
		return -ENOMEM;
	if (ber_scanf(ber, "{") == LBER_ERROR) {
		r = -EBADMSG;
		goto done;
	}
	tag = ber_peek_tag(ber, &len);
	if (tag == LDAP_TAG_SYNC_COOKIE) {
		if (ber_scanf(ber, "m", &cookie) == LBER_ERROR || keep_cookie(res, &cookie) < 0) {
			r = -EBADMSG;
			goto done;
		}
		tag = ber_peek_tag(ber, &len);
	}
	if (tag == LDAP_TAG_REFRESHDELETES && ber_scanf(ber, "b", &deletes) == LBER_ERROR)
		r = -EBADMSG;
	res->refresh_deletes = deletes != 0;
done:
	ber_free(ber, 1);
	return r;
}

static int sync_request_control(const char *cookie, LDAPControl **ret)
{
	BerElement *ber = ber_alloc_t(LBER_USE_DER);
	struct berval val = { 0 };
	int rc;

	if (!ber)
		return -ENOMEM;
	rc = ber_printf(ber, "{e", (ber_int_t)LDAP_SYNC_REFRESH_ONLY);
	if (rc != -1 && cookie) {
		struct berval c = { .bv_val = (char *)cookie, .bv_len = strlen(cookie) };

		rc = ber_printf(ber, "O", &c);
	}
	if (rc != -1)
		rc = ber_printf(ber, "N}");
	if (rc == -1 || ber_flatten2(ber, &val, 0) == -1) {
		ber_free(ber, 1);
		return -ENOMEM;
	}
	rc = ldap_control_create(LDAP_CONTROL_SYNC, 1, &val, 1, ret);
	ber_free(ber, 1);
	return rc == LDAP_SUCCESS ? 0 : -ENOMEM;
}

int isms_ldap_syncrepl(LDAP *ld, const struct isms_conf *conf, const char *base, const char *filter,
		       const char **attrs, const char *cookie, const struct isms_syncrepl_ops *ops,
		       struct isms_syncrepl_result *res, struct isms_err *err)
{
	LDAPControl *ctrl = NULL, *ctrls[2] = { NULL, NULL };
	struct timeval tv = { .tv_sec = conf->ldap_timeout };
	bool done = false;
	int msgid, rc, r;

	res->cookie = NULL;
	res->refresh_deletes = false;
	r = sync_request_control(cookie, &ctrl);
	if (r < 0)
		return isms_err_set(err, r, "out of memory");
	ctrls[0] = ctrl;
	rc = ldap_search_ext(ld, base, LDAP_SCOPE_SUBTREE, filter, (char **)attrs, 0, ctrls, NULL, &tv, 0,
			     &msgid);
	ldap_control_free(ctrl);
	if (rc != LDAP_SUCCESS)
		return isms_ldap_fail(ld, conf, err, rc, "content sync");
	while (!done) {
		LDAPMessage *msg = NULL;
		LDAPControl **rctrls = NULL;
		int result = LDAP_OTHER;

		r = isms_ldap_next_message(ld, conf, msgid, &msg, err);
		if (r < 0)
			goto fail;
		r = 0;
		switch (ldap_msgtype(msg)) {
		case LDAP_RES_SEARCH_ENTRY:
			r = sync_entry(ld, msg, ops);
			break;
		case LDAP_RES_INTERMEDIATE:
			r = sync_info(ld, msg, ops, res);
			break;
		case LDAP_RES_SEARCH_RESULT:
			done = true;
			rc = ldap_parse_result(ld, msg, &result, NULL, NULL, NULL, &rctrls, 0);
			if (rc != LDAP_SUCCESS)
				r = isms_ldap_fail(ld, conf, err, rc, "content sync result");
			else if (result == LDAP_SYNC_REFRESH_REQUIRED)
				r = isms_err_set(err, -ESTALE, "%s: sync cookie is stale", conf->ldap_uri);
			else if (result == LDAP_SIZELIMIT_EXCEEDED || result == LDAP_ADMINLIMIT_EXCEEDED)
				r = isms_err_set(err, -E2BIG, "%s: content sync: %s", conf->ldap_uri,
						 ldap_err2string(result));
			else if (result == LDAP_UNAVAILABLE_CRITICAL_EXTENSION || result == LDAP_PROTOCOL_ERROR ||
				 result == LDAP_UNWILLING_TO_PERFORM)
				r = isms_err_set(err, -EOPNOTSUPP, "%s: content sync refused: %s", conf->ldap_uri,
						 ldap_err2string(result));
			else if (result != LDAP_SUCCESS)
				r = isms_ldap_fail(ld, conf, err, result, "content sync");
			else
				r = sync_done(rctrls, res);
			ldap_controls_free(rctrls);
			break;
		default:
			break;
		}
		ldap_msgfree(msg);
		if (r < 0) {
			if (!done)
				(void)ldap_abandon_ext(ld, msgid, NULL, NULL);
			if (!err || !err->code)
				r = isms_err_set(err, r, "%s: content sync: malformed or refused message", conf->ldap_uri);
			goto fail;
		}
	}
	return 0;
fail:
	free(res->cookie);
	res->cookie = NULL;
	return r;
}
