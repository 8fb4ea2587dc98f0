/* The loaded config and the open stores, kept from one PAM call to the next
 * within a process. A login runs several phases, and long-lived PAM
 * applications run many logins; each would otherwise parse the config and
 * open both stores (sqlite reads and parses their schemas) again. The module
 * is linked -z nodelete, so this survives pam_end.
 *
 * Nothing is trusted from the last call. Every call re-reads the config
 * file's identity (device, inode, size, times, mode, owner) and applies the
 * permission rules to it; and isms_ctx_reuse repeats the store checks (the
 * permissions of both stores and their directories, that each path still
 * names the file that is open, the schema versions) and starts a new
 * registry snapshot, so every phase reads the registry as last committed.
 * Anything unusual drops the cache and opens afresh.
 *
 * One process, one user at a time: a call that finds the cache busy (another
 * thread) works uncached. sqlite shares what it knows of a file (locks, the
 * WAL index and the descriptor it is mapped through) among all connections
 * to it in a process, so what the cache holds must never outlive the
 * descriptors under it:
 * - fork(2): a pthread_atfork handler closes the stores before the process
 *   forks, and the child starts afresh. If a call was in progress (the
 *   application's conversation function forked), the child cannot know
 *   what it inherited, and refuses every login (fail closed).
 * - an application that closed every descriptor (as daemons do when they
 *   detach) may have reused sqlite's descriptor numbers for its own files.
 *   A descriptor of our own on the stores' directory tells (as SSSD's client
 *   library checks its socket), and the process then refuses every login
 *   rather than have sqlite lock and write through descriptors that are not
 *   its own. It is a directory so that closing it never drops sqlite's
 *   POSIX locks, which closing any descriptor of a store would.
 * Both are reported once to syslog by the caller (module_open). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "cache.h"
#include "db.h"
#include "util.h"

/* A process past this many calls is a long-lived PAM application (one sshd
 * connection makes four or five: auth, account, session open and close).
 * While it holds the state store open, every other process attaches to its
 * WAL index instead of reading the WAL back, so it may checkpoint rarely, at
 * sqlite's own default WAL size. */
#define LONG_LIVED_CALLS 16
#define LONG_LIVED_CHECKPOINT_FRAMES 1000

static struct {
	pthread_mutex_t lock;
	pid_t pid;
	char *conf_path;
	struct stat conf_st;
	struct isms_conf *conf;
	struct isms_ctx ctx;
	bool open;
	unsigned long calls;
	bool once;              /* close the stores when this call ends */
	int sentinel;           /* O_DIRECTORY descriptor on the state store's directory */
	struct stat sentinel_st;
	bool fork_held;         /* the atfork prepare handler holds the lock */
	struct isms_vault *vault; /* the host key (sodium_malloc: locked, never in a core dump) */
	char *vault_path;
	struct stat vault_st;
	bool vault_wipeonfork;  /* its page comes zeroed in a child */
} cache = { .lock = PTHREAD_MUTEX_INITIALIZER, .sentinel = -1 };

/* Why this process refuses to open the stores (NULL: it does not). Set once,
 * never cleared: the process's sqlite state can no longer be trusted. */
static const char *volatile tainted;
/* Calls with stores of their own (the cache was busy) in progress. */
static int uncached_calls;
/* Without the fork handlers nothing is kept between calls (opened and closed
 * within each, as any PAM module does). */
static bool no_cache;

static void forget_stores(void)
{
	/* not closed: their descriptors are no longer known to be theirs */
	memset(&cache.ctx, 0, sizeof(cache.ctx));
	cache.open = false;
	cache.sentinel = -1;
}

static void drop_stores(void)
{
	if (cache.open)
		isms_ctx_close(&cache.ctx);
	cache.open = false;
	if (cache.sentinel >= 0)
		close(cache.sentinel);
	cache.sentinel = -1;
}

/* Whether the descriptors opened with the stores are still ours. */
static bool sentinel_intact(void)
{
	struct stat st;

	return cache.sentinel >= 0 && fstat(cache.sentinel, &st) == 0 &&
	       st.st_dev == cache.sentinel_st.st_dev && st.st_ino == cache.sentinel_st.st_ino;
}

static int sentinel_open(const char *store)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(store, '/');

	if (!slash || (size_t)(slash - store) >= sizeof(dir))
		return -1;
	memcpy(dir, store, (size_t)(slash - store));
	dir[slash - store] = '\0';
	cache.sentinel = open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cache.sentinel < 0 || fstat(cache.sentinel, &cache.sentinel_st) < 0)
		return -1;
	return 0;
}

static void drop_vault(void)
{
	sodium_free(cache.vault);   /* wipes it */
	cache.vault = NULL;
	free(cache.vault_path);
	cache.vault_path = NULL;
}

static void drop_all(void)
{
	drop_stores();
	drop_vault();
	isms_conf_free(cache.conf);
	cache.conf = NULL;
	free(cache.conf_path);
	cache.conf_path = NULL;
}

static void atfork_prepare(void)
{
	/* trylock: the forking thread may be inside a call (its conversation) */
	cache.fork_held = pthread_mutex_trylock(&cache.lock) == 0;
	if (cache.fork_held) {
		drop_stores();
		drop_vault();   /* no child inherits the key */
	}
	isms_db_fork_prepare();
	/* another thread's own stores, in use, would come along too */
	if (cache.fork_held && __atomic_load_n(&uncached_calls, __ATOMIC_SEQ_CST) > 0) {
		pthread_mutex_unlock(&cache.lock);
		cache.fork_held = false;
	}
}

static void atfork_parent(void)
{
	isms_db_fork_parent();
	if (cache.fork_held)
		pthread_mutex_unlock(&cache.lock);
	cache.fork_held = false;
}

static void atfork_child(void)
{
	isms_db_fork_child();
	if (!cache.fork_held) {
		/* a call was in progress: its connections came along, in use */
		tainted = "the process forked during a PAM call";
		return;
	}
	cache.pid = getpid();
	cache.calls = 0;
	cache.fork_held = false;
	pthread_mutex_unlock(&cache.lock);
}

__attribute__((constructor)) static void cache_init(void)
{
	cache.pid = getpid();
	if (pthread_atfork(atfork_prepare, atfork_parent, atfork_child) != 0)
		no_cache = true;
}

void module_cache_uncached(bool begin)
{
	__atomic_add_fetch(&uncached_calls, begin ? 1 : -1, __ATOMIC_SEQ_CST);
}

const char *module_cache_tainted(void)
{
	return tainted;
}

bool module_cache_acquire(void)
{
	if (tainted || no_cache || pthread_mutex_trylock(&cache.lock) != 0)
		return false;
	if (cache.pid != getpid()) {
		/* forked without the handlers (a raw clone): nothing inherited is ours.
		 * A key page that came zeroed (MADV_WIPEONFORK), sodium's canary with
		 * it, is let go of; sodium_free would take it for an overflow. */
		forget_stores();
		if (cache.vault_wipeonfork)
			cache.vault = NULL;
		drop_vault();
		cache.calls = 0;
		cache.pid = getpid();
	}
	return true;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mode == b->st_mode && a->st_uid == b->st_uid &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* The config for path: the cached one when the file is unchanged and still
 * passes the permission rules, else loaded afresh. */
static int cache_conf(const char *path, struct isms_err *err)
{
	struct stat st;
	int r;

	if (stat(path, &st) < 0) {
		drop_all();
		return isms_err_set(err, -errno, "%s: %s", path, strerror(errno));
	}
	if (cache.conf && strcmp(cache.conf_path, path) == 0 && same_file(&st, &cache.conf_st)) {
		r = isms_check_guard_st(&st, path, "config file", false, err);
		if (r < 0)
			drop_all();
		return r;
	}
	drop_all();
	/* the identity is taken before the read: a change in between is seen next time */
	cache.conf_path = strdup(path);
	if (!cache.conf_path)
		return isms_err_set(err, -ENOMEM, "out of memory");
	r = isms_conf_load(path, "", false, &cache.conf, err);
	if (r < 0) {
		drop_all();
		return r;
	}
	cache.conf_st = st;
	return 0;
}

int module_cache_open(const char *conf_path, struct isms_conf **conf, struct isms_ctx *ctx,
		      struct isms_err *err)
{
	int r = cache_conf(conf_path, err);

	if (r < 0)
		return r;
	*conf = cache.conf;
	if (cache.open && !sentinel_intact()) {
		forget_stores();
		drop_vault();
		tainted = "the application closed the descriptors of the stores";
		return isms_err_set(err, -EBADF, "%s; restart it", tainted);
	}
	if (cache.open && isms_ctx_reuse(&cache.ctx, err) < 0)
		drop_stores();
	if (!cache.open) {
		r = isms_ctx_open(&cache.ctx, cache.conf, ISMS_CTX_LOGIN, err);
		if (r < 0)
			return r;
		cache.open = true;
		if (sentinel_open(cache.conf->state_db) < 0)
			cache.once = true;   /* used for this call, then closed */
	}
	if (++cache.calls >= LONG_LIVED_CALLS)
		isms_db_login_checkpoint_frames(cache.ctx.state, LONG_LIVED_CHECKPOINT_FRAMES);
	*ctx = cache.ctx;
	return 0;
}

int module_cache_vault(const char *path, struct isms_vault *ret, struct isms_err *err)
{
	struct stat st;
	int r;

	if (lstat(path, &st) < 0) {   /* as the load's O_NOFOLLOW: a link is another file */
		drop_vault();
		return isms_err_set(err, -errno, "host key %s: %s", path, strerror(errno));
	}
	if (cache.vault && strcmp(cache.vault_path, path) == 0 && same_file(&st, &cache.vault_st)) {
		r = isms_vault_check_st(&st, path, err);
		if (r < 0) {
			drop_vault();
			return r;
		}
		*ret = *cache.vault;
		return 0;
	}
	drop_vault();
	/* the identity is the file read (fstat): a change after it is seen next time */
	r = isms_vault_load_st(path, ret, &st, err);
	if (r < 0)
		return r;
	cache.vault = sodium_malloc(sizeof(*cache.vault));
	cache.vault_path = strdup(path);
	if (!cache.vault || !cache.vault_path) {
		drop_vault();   /* kept or not, this call has its key */
		return 0;
	}
	/* a child forked without the fork handlers (mid-call, or a raw clone) sees zeros */
	cache.vault_wipeonfork =
		madvise((void *)((uintptr_t)cache.vault & ~(uintptr_t)(sysconf(_SC_PAGESIZE) - 1)),
			(size_t)sysconf(_SC_PAGESIZE), MADV_WIPEONFORK) == 0;
	*cache.vault = *ret;
	cache.vault_st = st;
	return 0;
}

void module_cache_release(void)
{
	if (cache.open && (isms_ctx_end(&cache.ctx) < 0 || cache.once))
		drop_stores();
	cache.once = false;
	pthread_mutex_unlock(&cache.lock);
}
