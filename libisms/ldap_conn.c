/* Connecting to the directory safely, and the two ways of reading it: paged
 * searches (RFC 2696) and refresh-only content sync (RFC 4533). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "ldap_conn.h"
#include "util.h"

#define PASSWORD_MAX 4096

static int ldap_errno(int rc)
{
	switch (rc) {
	case LDAP_SUCCESS:
		return 0;
	case LDAP_SERVER_DOWN:
	case LDAP_CONNECT_ERROR:
		return -EHOSTUNREACH;
	case LDAP_INVALID_CREDENTIALS:
	case LDAP_INAPPROPRIATE_AUTH:
	case LDAP_INSUFFICIENT_ACCESS:
	case LDAP_STRONG_AUTH_REQUIRED:
	case LDAP_CONFIDENTIALITY_REQUIRED:
		return -EACCES;
	case LDAP_TIMEOUT:
	case LDAP_TIMELIMIT_EXCEEDED:
		return -ETIMEDOUT;
	case LDAP_SIZELIMIT_EXCEEDED:
	case LDAP_ADMINLIMIT_EXCEEDED:
		return -E2BIG;
	case LDAP_NO_SUCH_OBJECT:
		return -ENOENT;
	case LDAP_NO_MEMORY:
		return -ENOMEM;
	default:
		return -EIO;
	}
}


int isms_ldap_fail(LDAP *ld, const struct isms_conf *conf, struct isms_err *err, int rc,
		     const char *what)
{
	char *diag = NULL;
	const char *hint = "";
	int r;

	if (ld)
		(void)ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
	if (rc == LDAP_SIZELIMIT_EXCEEDED)
		hint = "; the server limits results: lower [ldap] page_size or raise the limit";
	else if (rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR)
		hint = "; is the server running and reachable?";
	r = isms_err_set(err, ldap_errno(rc), "%s: %s: %s%s%s%s%s", conf->ldap_uri, what,
			 ldap_err2string(rc), diag && *diag ? " (" : "", diag && *diag ? diag : "",
			 diag && *diag ? ")" : "", hint);
	ldap_memfree(diag);
	return r;
}

/* Can a TCP connection to the URI's host and port be made? Tells a TLS failure
 * (reachable) from a server that is down (not), which libldap reports alike. */
static bool tcp_reachable(const char *uri, long long timeout)
{
	LDAPURLDesc *lud = NULL;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
	char port[16];
	bool ok = false;

	if (ldap_url_parse(uri, &lud) != LDAP_URL_SUCCESS || !lud->lud_host || !*lud->lud_host) {
		ldap_free_urldesc(lud);
		return false;
	}
	(void)snprintf(port, sizeof(port), "%d", lud->lud_port ? lud->lud_port :
		       strcasecmp(lud->lud_scheme, "ldaps") == 0 ? 636 : 389);
	if (getaddrinfo(lud->lud_host, port, &hints, &ai) == 0) {
		for (struct addrinfo *p = ai; p && !ok; p = p->ai_next) {
			int fd = socket(p->ai_family, p->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, p->ai_protocol);
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };
			int soerr = 0;
			socklen_t sl = sizeof(soerr);

			if (fd < 0)
				continue;
			if (connect(fd, p->ai_addr, p->ai_addrlen) == 0)
				ok = true;
			else if (errno == EINPROGRESS && poll(&pfd, 1, (int)(timeout * 1000)) == 1 &&
				 getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0)
				ok = true;
			close(fd);
		}
		freeaddrinfo(ai);
	}
	ldap_free_urldesc(lud);
	return ok;
}

static int tls_fail(const struct isms_conf *conf, struct isms_err *err, const char *what)
{
	return isms_err_set(err, -EPROTO,
			    "%s: %sTLS handshake failed: certificate not trusted (ca_file %s), expired, or not issued for this host name",
			    conf->ldap_uri, what, conf->ldap_ca_file[0] ? conf->ldap_ca_file : "unset: system CAs");
}

int isms_ldap_read_password(const char *path, char **ret, size_t *ret_len, struct isms_err *err)
{
	struct stat st;
	char *buf;
	ssize_t n;
	size_t len = 0;
	int fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return isms_err_set(err, -errno, "bind password file %s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return isms_err_set(err, -EPERM, "bind password file %s: not a regular file", path);
	}
	if (st.st_mode & 077) {
		close(fd);
		return isms_err_set(err, -EPERM,
				    "bind password file %s: readable or writable by group or other (mode %04o); chmod 600 it",
				    path, (unsigned)(st.st_mode & 07777));
	}
	if (geteuid() == 0 && st.st_uid != 0) {
		close(fd);
		return isms_err_set(err, -EPERM, "bind password file %s: not owned by root", path);
	}
	buf = calloc(1, PASSWORD_MAX + 1);
	if (!buf) {
		close(fd);
		return isms_err_set(err, -ENOMEM, "out of memory");
	}
	while (len < PASSWORD_MAX && (n = read(fd, buf + len, PASSWORD_MAX - len)) > 0)
		len += (size_t)n;
	close(fd);
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	if (len == 0 || memchr(buf, '\0', len)) {
		isms_secret_free(buf, PASSWORD_MAX + 1);
		return isms_err_set(err, -EINVAL, "bind password file %s: empty or not text", path);
	}
	*ret = buf;
	*ret_len = PASSWORD_MAX + 1;
	return 0;
}

static int set_timeouts(LDAP *ld, const struct isms_conf *conf)
{
	struct timeval tv = { .tv_sec = conf->ldap_timeout };
	int v3 = LDAP_VERSION3;

	if (ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv) != LDAP_OPT_SUCCESS)
		return -EINVAL;
	return 0;
}

static int set_tls(LDAP *ld, const struct isms_conf *conf)
{
	int hard = LDAP_OPT_X_TLS_HARD, newctx = 0;

	if (ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &hard) != LDAP_OPT_SUCCESS)
		return -EINVAL;
	if (conf->ldap_ca_file[0] &&
	    ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, conf->ldap_ca_file) != LDAP_OPT_SUCCESS)
		return -EINVAL;
	if (ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &newctx) != LDAP_OPT_SUCCESS)
		return -EINVAL;
	return 0;
}

int isms_ldap_connect(const struct isms_conf *conf, LDAP **ret, struct isms_err *err)
{
	if (!conf->ldap_anonymous && !conf->ldap_bind_dn[0])
		return isms_err_set(err, -EINVAL, "[ldap] bind_dn is not set and anonymous = no in %s", conf->path);
	return isms_ldap_connect_as(conf, conf->ldap_anonymous ? NULL : conf->ldap_bind_dn,
				    conf->ldap_bindpw_file, ret, err);
}

int isms_ldap_connect_as(const struct isms_conf *conf, const char *bind_dn, const char *bindpw_file,
			 LDAP **ret, struct isms_err *err)
{
	const char *uri = conf->ldap_uri;
	bool ldaps = strncasecmp(uri, "ldaps://", 8) == 0;
	bool plain = strncasecmp(uri, "ldap://", 7) == 0;
	bool ldapi = strncasecmp(uri, "ldapi://", 8) == 0;
	struct berval cred = { 0 };
	char *pw = NULL;
	size_t pwlen = 0;
	LDAP *ld = NULL;
	Sockbuf *sb = NULL;
	int rc, r;

	if (!uri[0])
		return isms_err_set(err, -EINVAL, "[ldap] uri is not set in %s", conf->path);
	if (!ldaps && !plain && !ldapi)
		return isms_err_set(err, -EINVAL, "[ldap] uri %s: expected ldaps://, ldap:// or ldapi://", uri);
	if (plain && !conf->ldap_allow_insecure && !conf->ldap_starttls)
		return isms_err_set(err, -EPERM,
				    "%s: plain ldap:// without TLS refused; use ldaps://, starttls = yes, or [ldap] allow_insecure = yes (loopback tests only)",
				    uri);
	rc = ldap_initialize(&ld, uri);
	if (rc != LDAP_SUCCESS)
		return isms_err_set(err, -EINVAL, "%s: %s", uri, ldap_err2string(rc));
	if (set_timeouts(ld, conf) < 0 || ((ldaps || plain) && set_tls(ld, conf) < 0)) {
		r = isms_err_set(err, -EINVAL, "%s: cannot set connection options (ca_file %s?)", uri,
				 conf->ldap_ca_file);
		goto fail;
	}
	if (plain && !conf->ldap_allow_insecure) {
		rc = ldap_start_tls_s(ld, NULL, NULL);
		if (rc == LDAP_CONNECT_ERROR && tcp_reachable(uri, conf->ldap_timeout)) {
			r = tls_fail(conf, err, "StartTLS: ");
			goto fail;
		}
		if (rc != LDAP_SUCCESS) {
			r = isms_ldap_fail(ld, conf, err, rc, "StartTLS");
			goto fail;
		}
	}
	if (bind_dn) {
		r = isms_ldap_read_password(bindpw_file, &pw, &pwlen, err);
		if (r < 0)
			goto fail;
		cred.bv_val = pw;
		cred.bv_len = strlen(pw);
	}
	rc = ldap_sasl_bind_s(ld, bind_dn, LDAP_SASL_SIMPLE,
			      &cred, NULL, NULL, NULL);
	isms_secret_free(pw, pwlen);
	if (ldaps && (rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR) && tcp_reachable(uri, conf->ldap_timeout)) {
		r = tls_fail(conf, err, "");
		goto fail;
	}
	if (rc != LDAP_SUCCESS) {
		char what[300];

		(void)snprintf(what, sizeof(what), "bind as %s", bind_dn ? bind_dn : "anonymous");
		r = isms_ldap_fail(ld, conf, err, rc, what);
		goto fail;
	}
	/* Read the connection through a buffer: libldap otherwise reads each
	 * message with two read calls and a poll, three system calls for every
	 * entry of a 100,000-entry search. */
	if (ldap_get_option(ld, LDAP_OPT_SOCKBUF, &sb) == LDAP_OPT_SUCCESS && sb)
		(void)ber_sockbuf_add_io(sb, &ber_sockbuf_io_readahead, LBER_SBIOD_LEVEL_PROVIDER, NULL);
	*ret = ld;
	return 0;
fail:
	ldap_unbind_ext_s(ld, NULL, NULL);
	return r;
}

void isms_ldap_close(LDAP *ld)
{
	if (ld)
		ldap_unbind_ext_s(ld, NULL, NULL);
}

int isms_ldap_next_message(LDAP *ld, const struct isms_conf *conf, int msgid, LDAPMessage **ret,
			struct isms_err *err)
{
	struct timeval tv = { .tv_sec = conf->ldap_timeout };
	int rc = ldap_result(ld, msgid, LDAP_MSG_ONE, &tv, ret);

	if (rc == 0) {
		(void)ldap_abandon_ext(ld, msgid, NULL, NULL);
		return isms_ldap_fail(ld, conf, err, LDAP_TIMEOUT, "search");
	}
	if (rc < 0) {
		int e = LDAP_OTHER;

		(void)ldap_get_option(ld, LDAP_OPT_RESULT_CODE, &e);
		return isms_ldap_fail(ld, conf, err, e, "search");
	}
	return rc;
}

int isms_ldap_search_paged(LDAP *ld, const struct isms_conf *conf, const char *base,
			   const char *filter, const char **attrs, isms_ldap_entry_cb cb, void *arg,
			   struct isms_err *err)
{
	struct berval *cookie = NULL;
	struct timeval tv = { .tv_sec = conf->ldap_timeout };
	int r = 0;

	do {
		LDAPControl *page = NULL, *ctrls[2] = { NULL, NULL }, **rctrls = NULL;
		LDAPMessage *msg = NULL;
		int msgid, rc, type, result = LDAP_OTHER;
		bool done = false;

		rc = ldap_create_page_control(ld, (ber_int_t)conf->ldap_page_size, cookie, 1, &page);
		ber_bvfree(cookie);
		cookie = NULL;
		if (rc != LDAP_SUCCESS)
			return isms_ldap_fail(ld, conf, err, rc, "paged results control");
		ctrls[0] = page;
		rc = ldap_search_ext(ld, base, LDAP_SCOPE_SUBTREE, filter, (char **)attrs, 0, ctrls, NULL,
				     &tv, 0, &msgid);
		ldap_control_free(page);
		if (rc != LDAP_SUCCESS)
			return isms_ldap_fail(ld, conf, err, rc, "search");
		while (!done && r == 0) {
			r = isms_ldap_next_message(ld, conf, msgid, &msg, err);
			if (r < 0)
				break;
			r = 0;
			type = ldap_msgtype(msg);
			if (type == LDAP_RES_SEARCH_ENTRY) {
				r = cb(ld, msg, arg);
				if (r < 0)
					(void)ldap_abandon_ext(ld, msgid, NULL, NULL);
			} else if (type == LDAP_RES_SEARCH_RESULT) {
				done = true;
				rc = ldap_parse_result(ld, msg, &result, NULL, NULL, NULL, &rctrls, 0);
				if (rc != LDAP_SUCCESS)
					r = isms_ldap_fail(ld, conf, err, rc, "search result");
				else if (result != LDAP_SUCCESS)
					r = isms_ldap_fail(ld, conf, err, result, "search");
				else {
					LDAPControl *pr = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, rctrls, NULL);
					struct berval c = { 0 };
					ber_int_t count = 0;

					if (pr && ldap_parse_pageresponse_control(ld, pr, &count, &c) == LDAP_SUCCESS &&
					    c.bv_len > 0) {
						cookie = ber_dupbv(NULL, &c);
						if (!cookie)
							r = isms_err_set(err, -ENOMEM, "out of memory");
					}
					ber_memfree(c.bv_val);
				}
				ldap_controls_free(rctrls);
			}
			ldap_msgfree(msg);
			msg = NULL;
		}
		if (r < 0) {
			ber_bvfree(cookie);
			return r;
		}
	} while (cookie);
	return 0;
}

bool isms_ldap_supports_control(LDAP *ld, const char *oid)
{
	char *attrs[] = { "supportedControl", NULL };
	LDAPMessage *res = NULL, *e;
	bool found = false;

	if (ldap_search_ext_s(ld, "", LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, NULL, NULL, NULL, 1,
			      &res) != LDAP_SUCCESS) {
		ldap_msgfree(res);
		return false;
	}
	e = ldap_first_entry(ld, res);
	if (e) {
		struct berval **v = ldap_get_values_len(ld, e, "supportedControl");

		for (size_t i = 0; v && v[i] && !found; i++)
			found = v[i]->bv_len == strlen(oid) && memcmp(v[i]->bv_val, oid, v[i]->bv_len) == 0;
		ldap_value_free_len(v);
	}
	ldap_msgfree(res);
	return found;
}
