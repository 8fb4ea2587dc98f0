/* accessctl scim serve: a SCIM 2.0 endpoint for identity platforms that push
 * deprovisioning. PATCH /Users/{id} with active=false and DELETE /Users/{id}
 * offboard the person whose employee number is {id}; nothing else is accepted. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>
#include <sodium.h>

#include "audit.h"
#include "cli.h"
#include "clock.h"
#include "revoke.h"
#include "scim.h"
#include "util.h"

#define BODY_MAX (64 * 1024)
#define SCIM_USER_URN "urn:ietf:params:scim:schemas:core:2.0:User"

const struct command cmd_scim_def = {
	"scim", cmd_scim, "SCIM 2.0 endpoint for deprovisioning",
	"usage: accessctl scim serve [--listen ADDR:PORT] [--max-requests N]\n\n"
	"Serve SCIM 2.0 deprovisioning for HR and identity platforms that push:\n"
	"  PATCH  /Users/{id}   a PatchOp setting active to false  -> offboard\n"
	"  DELETE /Users/{id}                                      -> offboard\n"
	"{id} is the person's employee number (configure the platform to send\n"
	"employeeNumber as the SCIM id or externalId mapping); '/scim/v2' before\n"
	"'/Users' is accepted. The termination time is the time of the request.\n"
	"Every request needs 'Authorization: Bearer TOKEN' with the token held in\n"
	"[scim] token_file (root-only, mode 0600). Anything else - a wrong token, bad\n"
	"JSON, another attribute, active=true - gets a SCIM error document\n"
	"(urn:ietf:params:scim:api:messages:2.0:Error) and changes nothing.\n"
	"TLS is used when [scim] tls_cert and tls_key are set; without TLS only a\n"
	"loopback address is accepted.\n\n"
	"Options:\n"
	"  --listen ADDR:PORT   IPv4 address and port (default [scim] listen; port 0\n"
	"                       picks a free one); the bound address is printed\n"
	"  --max-requests N     exit after N requests (tests, one-shot runs)\n\n"
	"Exit status: 0 stopped (SIGTERM or --max-requests), 2 usage or configuration.\n",
};

struct server {
	struct cli *cli;
	char *token;
	size_t token_len;
	long long max_requests;
	long long served;
	int wake[2];           /* pipe: the handler thread tells main to stop */
};

struct request {
	char *body;
	size_t len;
	bool too_large;
};

static int wake_fd = -1;

static void on_signal(int sig)
{
	(void)sig;
	if (wake_fd >= 0)
		(void)!write(wake_fd, "x", 1);
}

static enum MHD_Result respond(struct MHD_Connection *c, unsigned status, const char *body)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(body ? strlen(body) : 0, (void *)(body ? body : ""),
								 MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ok;

	if (!r)
		return MHD_NO;
	if (body && *body)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/scim+json");
	if (status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"isms\"");
	ok = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ok;
}

static enum MHD_Result respond_error(struct MHD_Connection *c, unsigned status, const char *type,
				     const char *detail)
{
	char *doc = isms_scim_error_json((int)status, type, detail);
	enum MHD_Result ok = respond(c, status, doc);

	free(doc);
	return ok;
}

static void scim_audit(struct server *s, const char *method, const char *url, const char *result,
		       const char *reason)
{
	char details[300];
	size_t pos = 0;

	details[0] = '\0';
	isms_audit_kv(details, sizeof(details), &pos, "method", method);
	isms_audit_kv(details, sizeof(details), &pos, "path", url);
	cli_audit(s->cli, "scim", NULL, result, reason, details);
}

static bool authorized(struct server *s, struct MHD_Connection *c)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	size_t n;

	if (!h || strncasecmp(h, "Bearer ", 7) != 0)
		return false;
	h += 7;
	n = strlen(h);
	return n == s->token_len && sodium_memcmp(h, s->token, n) == 0;
}

static enum MHD_Result offboard(struct server *s, struct MHD_Connection *c, const char *method, const char *url,
				const char *id)
{
	char ref[300];
	struct isms_offboard_req req = {
		.employee_no = id, .terminated_at = isms_now(), .source = "scim", .source_ref = ref,
		.actor = "scim",
	};
	struct isms_revoke_result res;
	struct isms_err err = { 0 };
	char *doc;
	enum MHD_Result ok;
	int r;

	(void)snprintf(ref, sizeof(ref), "%s %s", method, url);
	r = isms_offboard_person(&s->cli->ctx, &req, &res, &err);
	if (r == -ENOENT) {
		scim_audit(s, method, url, "fail", "unknown_employee");
		return respond_error(c, MHD_HTTP_NOT_FOUND, NULL, "no person with this employee number");
	}
	if (r < 0) {
		scim_audit(s, method, url, "fail", r == -EAGAIN ? "incomplete" : "error");
		return respond_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL,
				     r == -EAGAIN ? "offboarding incomplete; the same request again finishes it"
						  : "offboarding failed; see the host's audit trail");
	}
	scim_audit(s, method, url, "ok", r == 1 ? "already_offboarded" : "offboarded");
	if (strcmp(method, "DELETE") == 0)
		return respond(c, MHD_HTTP_NO_CONTENT, NULL);
	doc = NULL;
	{
		json_t *o = json_pack("{s:[s], s:s, s:b}", "schemas", SCIM_USER_URN, "id", id, "active", 0);

		doc = o ? json_dumps(o, JSON_COMPACT) : NULL;
		json_decref(o);
	}
	ok = respond(c, MHD_HTTP_OK, doc ? doc : "{}");
	free(doc);
	return ok;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			      const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct server *s = cls;
	struct request *rq = *con_cls;
	struct isms_err err = { 0 };
	const char *type = NULL;
	char id[128];
	int r;

	(void)version;
	if (!rq) {
		rq = calloc(1, sizeof(*rq));
		if (!rq)
			return MHD_NO;
		*con_cls = rq;
		return MHD_YES;
	}
	if (*upload_size) {
		if (rq->len + *upload_size > BODY_MAX) {
			rq->too_large = true;
		} else {
			char *nb = realloc(rq->body, rq->len + *upload_size + 1);

			if (!nb)
				return MHD_NO;
			memcpy(nb + rq->len, upload, *upload_size);
			rq->body = nb;
			rq->len += *upload_size;
			nb[rq->len] = '\0';
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (!authorized(s, c)) {
		scim_audit(s, method, url, "deny", "bad_token");
		return respond_error(c, MHD_HTTP_UNAUTHORIZED, NULL, "a valid bearer token is required");
	}
	r = isms_scim_user_path(url, id, sizeof(id), &err);
	if (r == -ENOENT)
		return respond_error(c, MHD_HTTP_NOT_FOUND, NULL, err.msg);
	if (r < 0)
		return respond_error(c, MHD_HTTP_BAD_REQUEST, "invalidValue", err.msg);
	if (strcmp(method, "DELETE") == 0)
		return offboard(s, c, method, url, id);
	if (strcmp(method, "PATCH") != 0)
		return respond_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, NULL,
				     "only PATCH (active=false) and DELETE are served");
	if (rq->too_large)
		return respond_error(c, 413, "tooMany", "request body over 64 KiB");
	if (isms_scim_patch_parse(rq->body ? rq->body : "", rq->len, &type, &err) < 0) {
		scim_audit(s, method, url, "fail", "malformed");
		return respond_error(c, MHD_HTTP_BAD_REQUEST, type, err.msg);
	}
	return offboard(s, c, method, url, id);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode tc)
{
	struct server *s = cls;
	struct request *rq = *con_cls;

	(void)c;
	(void)tc;
	if (rq) {
		free(rq->body);
		free(rq);
		*con_cls = NULL;
	}
	s->served++;
	if (s->max_requests > 0 && s->served >= s->max_requests)
		(void)!write(s->wake[1], "x", 1);
}

/* A root-only file (mode 0600 or stricter), whole, trailing newline cut. */
static int read_secret_file(const char *path, const char *what, char **ret, size_t *ret_len, struct isms_err *err)
{
	struct stat st;
	char *buf;
	ssize_t n;
	int fd, r;

	r = isms_check_guard(path, what, false, err);
	if (r < 0)
		return r;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return isms_err_set(err, -errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || (st.st_mode & 077) || st.st_size > 1 << 20) {
		close(fd);
		return isms_err_set(err, -EPERM, "%s: %s must be readable by its owner only (chmod 600)", path, what);
	}
	buf = malloc((size_t)st.st_size + 1);
	n = buf ? read(fd, buf, (size_t)st.st_size) : -1;
	close(fd);
	if (n < 0) {
		free(buf);
		return isms_err_set(err, -EIO, "%s: cannot read", path);
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n] = '\0';
	*ret = buf;
	*ret_len = (size_t)n;
	return 0;
}

static int parse_listen(const char *s, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	long long port;

	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	if (isms_parse_int(colon + 1, 0, 65535, &port) < 0)
		return -EINVAL;
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -EINVAL;
}

int cmd_scim(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "max-requests", required_argument, NULL, 'm' },
		{ 0 },
	};
	struct server s = { .cli = cli, .wake = { -1, -1 } };
	struct isms_err err = { 0 };
	const char *listen = NULL;
	char *cert = NULL, *key = NULL;
	size_t certlen = 0, keylen = 0;
	struct sockaddr_in sa;
	struct MHD_Daemon *d = NULL;
	const union MHD_DaemonInfo *info;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	bool tls;
	int c, r, rc = EXIT_USAGE;
	char x;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'l')
			listen = optarg;
		else if (c == 'm' && isms_parse_int(optarg, 1, 1000000, &s.max_requests) == 0)
			continue;
		else
			return cli_usage(cli, &cmd_scim_def, c == 'm' ? "--max-requests: a positive number"
								     : "unknown option");
	}
	if (optind != argc - 1 || strcmp(argv[optind], "serve") != 0)
		return cli_usage(cli, &cmd_scim_def, "the only subcommand is 'serve'");
	r = cli_open(cli);
	if (r != EXIT_OK)
		return r;
	if (!listen)
		listen = cli->conf->scim_listen;
	if (parse_listen(listen, &sa) < 0)
		return cli_usage(cli, &cmd_scim_def, "--listen '%s': want IPv4-ADDRESS:PORT", listen);
	tls = *cli->conf->scim_tls_cert && *cli->conf->scim_tls_key;
	if (!tls && (ntohl(sa.sin_addr.s_addr) >> 24) != 127)
		return cli_fail(cli, EXIT_USAGE, "scim: %s is not a loopback address; set [scim] tls_cert and "
				"tls_key to listen there", listen);
	if (read_secret_file(cli->conf->scim_token_file, "SCIM token file", &s.token, &s.token_len, &err) < 0)
		return cli_fail(cli, EXIT_USAGE, "scim: %s", err.msg);
	if (s.token_len < 16) {
		rc = cli_fail(cli, EXIT_USAGE, "scim: %s: the token must be at least 16 characters",
			      cli->conf->scim_token_file);
		goto out;
	}
	if (tls) {
		r = read_secret_file(cli->conf->scim_tls_key, "SCIM TLS key", &key, &keylen, &err);
		if (r == 0) {
			int fd = open(cli->conf->scim_tls_cert, O_RDONLY | O_CLOEXEC);
			struct stat st;

			if (fd < 0 || fstat(fd, &st) < 0 || !(cert = calloc(1, (size_t)st.st_size + 1)) ||
			    read(fd, cert, (size_t)st.st_size) != st.st_size)
				r = isms_err_set(&err, -EIO, "%s: cannot read the certificate", cli->conf->scim_tls_cert);
			if (fd >= 0)
				close(fd);
			certlen = cert ? strlen(cert) : 0;
		}
		if (r < 0) {
			rc = cli_fail(cli, EXIT_USAGE, "scim: %s", err.msg);
			goto out;
		}
		flags |= MHD_USE_TLS;
	}
	(void)certlen;
	(void)keylen;
	if (pipe2(s.wake, O_CLOEXEC) < 0) {
		rc = cli_fail(cli, EXIT_USAGE, "scim: pipe: %s", strerror(errno));
		goto out;
	}
	wake_fd = s.wake[1];
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	if (tls)
		d = MHD_start_daemon(flags, 0, NULL, NULL, handle, &s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				     MHD_OPTION_NOTIFY_COMPLETED, completed, &s, MHD_OPTION_HTTPS_MEM_CERT, cert,
				     MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_CONNECTION_TIMEOUT, 30U, MHD_OPTION_END);
	else
		d = MHD_start_daemon(flags, 0, NULL, NULL, handle, &s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				     MHD_OPTION_NOTIFY_COMPLETED, completed, &s, MHD_OPTION_CONNECTION_TIMEOUT, 30U,
				     MHD_OPTION_END);
	if (!d) {
		rc = cli_fail(cli, EXIT_USAGE, "scim: cannot listen on %s", listen);
		goto out;
	}
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	{
		char addr[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &sa.sin_addr, addr, sizeof(addr));
		printf("scim: listening on %s:%u (%s)\n", addr, info ? (unsigned)info->port : ntohs(sa.sin_port),
		       tls ? "https" : "http");
		fflush(stdout);
	}
	cli_audit(cli, "scim_start", NULL, "ok", NULL, NULL);
	while (read(s.wake[0], &x, 1) < 0 && errno == EINTR)
		;
	MHD_stop_daemon(d);
	rc = EXIT_OK;
out:
	wake_fd = -1;
	if (s.wake[0] >= 0) {
		close(s.wake[0]);
		close(s.wake[1]);
	}
	isms_secret_free(s.token, s.token_len);
	if (key)
		isms_secret_free(key, keylen);
	free(cert);
	return rc;
}
