/* Local steps of a revocation: lock and expire in shadow, leave privileged groups
 * in the group file, both rewritten atomically under the passwd lock, mode and owner kept. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "revoke_int.h"
#include "util.h"

struct lines {
	char **v;
	size_t n;
	struct stat st;
};

static void lines_free(struct lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int lines_read(const char *path, struct lines *l, struct isms_err *err)
{
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int fd;

	memset(l, 0, sizeof(*l));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return isms_err_set(err, -errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &l->st) < 0 || !(f = fdopen(fd, "r"))) {
		int e = errno;

		close(fd);
		return isms_err_set(err, -e, "%s: %s", path, strerror(e));
	}
	while ((len = getline(&line, &cap, f)) >= 0) {
		char **nv = realloc(l->v, (l->n + 1) * sizeof(*nv));

		if (len > 0 && line[len - 1] == '\n')
			line[len - 1] = '\0';
		if (!nv || !(nv[l->n] = strdup(line))) {
			if (nv)
				l->v = nv;
			free(line);
			fclose(f);
			lines_free(l);
			return isms_err_set(err, -ENOMEM, "out of memory reading %s", path);
		}
		l->v = nv;
		l->n++;
	}
	free(line);
	fclose(f);
	return 0;
}

/* Write temp + fsync + rename in the same directory, keeping mode and owner, so a
 * crash leaves the old file or the new one, never half of it. */
static int lines_write(const char *path, const struct lines *l, struct isms_err *err)
{
	char *tmp = NULL, *dir = NULL, *slash;
	FILE *f = NULL;
	int fd = -1, r = 0, dfd;

	if (asprintf(&tmp, "%s.isms-XXXXXX", path) < 0)
		return isms_err_set(err, -ENOMEM, "out of memory");
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = isms_err_set(err, -errno, "%s: cannot create temporary file: %s", path, strerror(errno));
		free(tmp);
		return r;
	}
	if (fchmod(fd, l->st.st_mode & 07777) < 0 ||
	    (fchown(fd, l->st.st_uid, l->st.st_gid) < 0 && errno != EPERM)) {
		r = isms_err_set(err, -errno, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	f = fdopen(fd, "w");
	if (!f) {
		r = isms_err_set(err, -errno, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	fd = -1;
	for (size_t i = 0; i < l->n; i++)
		fprintf(f, "%s\n", l->v[i]);
	if (fflush(f) != 0 || fsync(fileno(f)) < 0) {
		r = isms_err_set(err, -errno, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (fclose(f) != 0) {
		f = NULL;
		r = isms_err_set(err, -errno, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	f = NULL;
	if (rename(tmp, path) < 0) {
		r = isms_err_set(err, -errno, "%s: rename: %s", path, strerror(errno));
		goto fail;
	}
	dir = strdup(path);
	if (dir && (slash = strrchr(dir, '/'))) {
		*slash = '\0';
		dfd = open(*dir ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			(void)fsync(dfd);
			close(dfd);
		}
	}
	free(dir);
	free(tmp);
	return 0;
fail:
	if (f)
		fclose(f);
	if (fd >= 0)
		close(fd);
	(void)unlink(tmp);
	free(tmp);
	return r;
}

/* The lock lckpwdf(3) and shadow-utils take: a write lock on .pwd.lock beside the
 * file (for /etc/shadow, /etc/.pwd.lock), so useradd or passwd never interleave
 * with our rewrite. Returns the fd holding it, or negative. */
static int pwd_lock(const char *path, struct isms_err *err)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	char *lock = NULL, *slash;
	int fd;

	slash = strrchr(path, '/');
	if (asprintf(&lock, "%.*s/.pwd.lock", slash ? (int)(slash - path) : 1, slash ? path : ".") < 0)
		return isms_err_set(err, -ENOMEM, "out of memory");
	fd = open(lock, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		int r = isms_err_set(err, -errno, "%s: %s", lock, strerror(errno));

		free(lock);
		return r;
	}
	free(lock);
	while (fcntl(fd, F_SETLKW, &fl) < 0) {
		if (errno != EINTR) {
			int r = isms_err_set(err, -errno, "%s: lock: %s", path, strerror(errno));

			close(fd);
			return r;
		}
	}
	return fd;
}

/* Index of the line whose first field is name, or -1. */
static ssize_t lines_find(const struct lines *l, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < l->n; i++)
		if (strncmp(l->v[i], name, n) == 0 && l->v[i][n] == ':')
			return (ssize_t)i;
	return -1;
}

/* Split a line into exactly want fields (missing ones empty); fields point into buf. */
static int fields_split(char *buf, char **f, int want)
{
	int n = 0;
	char *p = buf;

	for (; n < want; n++) {
		f[n] = p;
		p = p ? strchr(p, ':') : NULL;
		if (p)
			*p++ = '\0';
	}
	for (int i = 0; i < want; i++)
		if (!f[i])
			f[i] = "";
	return p ? -EINVAL : 0; /* more fields than expected */
}

/* ---- shadow ---- */

enum { SH_NAME, SH_HASH, SH_LASTCHG, SH_MIN, SH_MAX, SH_WARN, SH_INACT, SH_EXPIRE, SH_RES, SH_N };

static int shadow_fields(const struct lines *l, ssize_t i, char **buf, char **f, const char *path,
			 struct isms_err *err)
{
	*buf = strdup(l->v[i]);
	if (!*buf)
		return isms_err_set(err, -ENOMEM, "out of memory");
	if (fields_split(*buf, f, SH_N) < 0) {
		free(*buf);
		return isms_err_set(err, -EINVAL, "%s:%zd: more than %d fields", path, i + 1, SH_N);
	}
	return 0;
}

int revoke_shadow_record(const struct isms_conf *conf, const char *name, json_t **ret,
			 struct isms_err *err)
{
	struct lines l;
	char *buf, *f[SH_N];
	ssize_t i;
	int r;

	r = lines_read(conf->shadow_file, &l, err);
	if (r == -ENOENT) {
		isms_err_clear(err);
		return 1;
	}
	if (r < 0)
		return r;
	i = lines_find(&l, name);
	if (i < 0) {
		lines_free(&l);
		return 1;
	}
	r = shadow_fields(&l, i, &buf, f, conf->shadow_file, err);
	lines_free(&l);
	if (r < 0)
		return r;
	*ret = json_pack("{s:b, s:s}", "was_locked", f[SH_HASH][0] == '!', "expire", f[SH_EXPIRE]);
	free(buf);
	return *ret ? 0 : isms_err_set(err, -ENOMEM, "out of memory");
}

/* lock: '!' before the hash (once) and expire day 1; unlock: back as recorded. */
static int shadow_edit_locked(const struct isms_conf *conf, const char *name, bool lock, const json_t *rec,
			      struct isms_err *err)
{
	struct lines l;
	char *buf, *f[SH_N], *line = NULL;
	const char *hash, *expire;
	ssize_t i;
	int r;

	r = lines_read(conf->shadow_file, &l, err);
	if (r < 0)
		return r;
	i = lines_find(&l, name);
	if (i < 0) {
		lines_free(&l);
		return isms_err_set(err, -ENOENT, "%s: no entry for %s", conf->shadow_file, name);
	}
	r = shadow_fields(&l, i, &buf, f, conf->shadow_file, err);
	if (r < 0)
		goto out;
	hash = f[SH_HASH];
	if (lock) {
		expire = "1";
	} else {
		const json_t *e = json_object_get(rec, "expire");

		expire = json_is_string(e) ? json_string_value(e) : "";
		if (hash[0] == '!' && !json_is_true(json_object_get(rec, "was_locked")))
			hash++;
	}
	if (asprintf(&line, "%s:%s%s:%s:%s:%s:%s:%s:%s:%s", f[SH_NAME],
		     lock && hash[0] != '!' ? "!" : "", hash, f[SH_LASTCHG], f[SH_MIN], f[SH_MAX],
		     f[SH_WARN], f[SH_INACT], expire, f[SH_RES]) < 0) {
		free(buf);
		r = isms_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	free(buf);
	if (strcmp(line, l.v[i]) == 0) {
		free(line);
		goto out;
	}
	free(l.v[i]);
	l.v[i] = line;
	r = lines_write(conf->shadow_file, &l, err);
out:
	lines_free(&l);
	return r;
}

static int shadow_edit(const struct isms_conf *conf, const char *name, bool lock, const json_t *rec,
		       struct isms_err *err)
{
	int fd = pwd_lock(conf->shadow_file, err), r;

	if (fd < 0)
		return fd;
	r = shadow_edit_locked(conf, name, lock, rec, err);
	close(fd);
	return r;
}

int revoke_shadow_lock(const struct isms_conf *conf, const char *name, struct isms_err *err)
{
	int r = shadow_edit(conf, name, true, NULL, err);

	if (r < 0)
		return r;
	if (!revoke_shadow_is_locked(conf, name))
		return isms_err_set(err, -EIO, "%s: %s still unlocked after the write", conf->shadow_file, name);
	return 0;
}

int revoke_shadow_unlock(const struct isms_conf *conf, const char *name, const json_t *rec,
			 struct isms_err *err)
{
	return shadow_edit(conf, name, false, rec, err);
}

bool revoke_shadow_is_locked(const struct isms_conf *conf, const char *name)
{
	struct lines l;
	char *buf, *f[SH_N];
	bool locked = false;
	ssize_t i;

	if (lines_read(conf->shadow_file, &l, NULL) < 0)
		return false;
	i = lines_find(&l, name);
	if (i >= 0 && shadow_fields(&l, i, &buf, f, conf->shadow_file, NULL) == 0) {
		locked = f[SH_HASH][0] == '!' && strcmp(f[SH_EXPIRE], "1") == 0;
		free(buf);
	}
	lines_free(&l);
	return locked;
}

/* ---- group ---- */

enum { GR_NAME, GR_PW, GR_GID, GR_MEM, GR_N };

static bool members_contain(const char *mem, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = mem; *p;) {
		const char *c = strchr(p, ',');
		size_t len = c ? (size_t)(c - p) : strlen(p);

		if (len == n && strncmp(p, name, n) == 0)
			return true;
		if (!c)
			break;
		p = c + 1;
	}
	return false;
}

static bool group_privileged(struct isms_ctx *ctx, const char *group)
{
	sqlite3_stmt *st;
	bool yes;

	if (isms_conf_group_is_privileged(ctx->conf, group))
		return true;
	st = isms_db_query(ctx->reg, NULL,
			   "SELECT 1 FROM groups WHERE name = ? AND privileged = 1 "
			   "UNION SELECT 1 FROM privileged_groups WHERE name = ?", "ss", group, group);
	if (!st)
		return false;
	yes = isms_db_step(st, NULL) == 1;
	isms_db_done(st);
	return yes;
}

int revoke_groups_record(struct isms_ctx *ctx, const char *name, json_t **ret, struct isms_err *err)
{
	struct lines l;
	json_t *a;
	int r;

	r = lines_read(ctx->conf->group_file, &l, err);
	if (r == -ENOENT) {
		isms_err_clear(err);
		*ret = json_array();
		return *ret ? 0 : -ENOMEM;
	}
	if (r < 0)
		return r;
	a = json_array();
	for (size_t i = 0; a && i < l.n; i++) {
		char *buf = strdup(l.v[i]), *f[GR_N];

		if (!buf) {
			json_decref(a);
			a = NULL;
			break;
		}
		if (fields_split(buf, f, GR_N) == 0 && members_contain(f[GR_MEM], name) &&
		    group_privileged(ctx, f[GR_NAME]))
			json_array_append_new(a, json_string(f[GR_NAME]));
		free(buf);
	}
	lines_free(&l);
	if (!a)
		return isms_err_set(err, -ENOMEM, "out of memory");
	*ret = a;
	return 0;
}

int revoke_group_has_member(const struct isms_conf *conf, const char *group, const char *name,
			    struct isms_err *err)
{
	struct lines l;
	int r, found = 0;

	r = lines_read(conf->group_file, &l, err);
	if (r == -ENOENT) {
		isms_err_clear(err);
		return 0;
	}
	if (r < 0)
		return r;
	for (size_t i = 0; !found && i < l.n; i++) {
		char *buf = strdup(l.v[i]), *f[GR_N];

		if (!buf) {
			lines_free(&l);
			return isms_err_set(err, -ENOMEM, "out of memory");
		}
		found = fields_split(buf, f, GR_N) == 0 && strcmp(f[GR_NAME], group) == 0 &&
			members_contain(f[GR_MEM], name);
		free(buf);
	}
	lines_free(&l);
	return found;
}

static bool json_strings_contain(const json_t *a, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return true;
	return false;
}

/* Remove (add=false) or add back (add=true) name in the member list of each group in groups. */
static int groups_edit_locked(const struct isms_conf *conf, const char *name, const json_t *groups, bool add,
			      struct isms_err *err)
{
	struct lines l;
	bool changed = false;
	int r;

	if (json_array_size(groups) == 0)
		return 0;
	r = lines_read(conf->group_file, &l, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < l.n; i++) {
		char *buf = strdup(l.v[i]), *f[GR_N], *line = NULL;
		size_t pos = 0, cap;
		bool have;

		if (!buf) {
			r = isms_err_set(err, -ENOMEM, "out of memory");
			break;
		}
		if (fields_split(buf, f, GR_N) < 0 || !json_strings_contain(groups, f[GR_NAME])) {
			free(buf);
			continue;
		}
		have = members_contain(f[GR_MEM], name);
		if (have == add) {
			free(buf);
			continue;
		}
		cap = strlen(l.v[i]) + strlen(name) + 4;
		line = malloc(cap);
		if (!line) {
			free(buf);
			r = isms_err_set(err, -ENOMEM, "out of memory");
			break;
		}
		pos = (size_t)snprintf(line, cap, "%s:%s:%s:", f[GR_NAME], f[GR_PW], f[GR_GID]);
		if (add) {
			(void)snprintf(line + pos, cap - pos, "%s%s%s", f[GR_MEM], *f[GR_MEM] ? "," : "", name);
		} else {
			char *save = NULL, *m;
			bool first = true;

			for (m = strtok_r(f[GR_MEM], ",", &save); m; m = strtok_r(NULL, ",", &save)) {
				if (strcmp(m, name) == 0)
					continue;
				pos += (size_t)snprintf(line + pos, cap - pos, "%s%s", first ? "" : ",", m);
				first = false;
			}
		}
		free(buf);
		free(l.v[i]);
		l.v[i] = line;
		changed = true;
	}
	if (r == 0 && changed)
		r = lines_write(conf->group_file, &l, err);
	lines_free(&l);
	return r;
}

static int groups_edit(const struct isms_conf *conf, const char *name, const json_t *groups, bool add,
		       struct isms_err *err)
{
	int fd, r;

	if (json_array_size(groups) == 0)
		return 0;
	fd = pwd_lock(conf->group_file, err);
	if (fd < 0)
		return fd;
	r = groups_edit_locked(conf, name, groups, add, err);
	close(fd);
	return r;
}

int revoke_groups_remove(const struct isms_conf *conf, const char *name, const json_t *groups,
			 struct isms_err *err)
{
	return groups_edit(conf, name, groups, false, err);
}

int revoke_groups_restore(const struct isms_conf *conf, const char *name, const json_t *groups,
			  struct isms_err *err)
{
	return groups_edit(conf, name, groups, true, err);
}
