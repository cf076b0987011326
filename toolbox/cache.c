// SPDX-License-Identifier: Apache-2.0
/* cache.c - pull into, resolve from and tidy the content-addressed toolbox cache. */
#include "toolbox/cache.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/xalloc.h"
#include "common/path.h"
#include "toolbox/layer.h"

#define CONFIG_MAX (16 << 20)

static const char *cache_dir(const struct cache_opts *o)
{
	return o->dir ? o->dir : CACHE_DEFAULT_DIR;
}

static int open_cache(const struct cache_opts *o, int *out, struct dhi_err **err)
{
	static const char *const subdirs[] = { "sha256", "refs", "tmp", "locks", "local", NULL };
	int fd = fd_open_private_dir(cache_dir(o));

	if (fd < 0)
		return dhi_err_set(err, errno,
				   "cannot use toolbox cache `%s` (it must be a directory owned "
				   "by root with mode 0700)",
				   cache_dir(o));
	for (int i = 0; subdirs[i]; i++)
		if (mkdirat(fd, subdirs[i], 0700) < 0 && errno != EEXIST) {
			close(fd);
			return dhi_err_set(err, errno, "cannot create `%s/%s`", cache_dir(o),
					   subdirs[i]);
		}
	*out = fd;
	return 0;
}

/* A reference as one file name: `/` → %2F, `%` → %25 (nothing else can occur). */
static char *ref_file(const char *canonical)
{
	char *out = xmalloc(3 * strlen(canonical) + 6), *o = out;

	o += sprintf(o, "refs/");
	for (const char *p = canonical; *p; p++) {
		if (*p == '/')
			o += sprintf(o, "%%2F");
		else if (*p == '%')
			o += sprintf(o, "%%25");
		else
			*o++ = *p;
	}
	*o = '\0';
	return out;
}

static char *unescape_ref(const char *name)
{
	char *out = xmalloc(strlen(name) + 1), *o = out;

	for (const char *p = name; *p; p++) {
		if (!strncmp(p, "%2F", 3)) {
			*o++ = '/';
			p += 2;
		} else if (!strncmp(p, "%25", 3)) {
			*o++ = '%';
			p += 2;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	return out;
}

static int write_file_at(int dirfd, const char *name, const void *buf, size_t len,
			 struct dhi_err **err)
{
	dhi_autoclose int fd =
		openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);

	if (fd < 0 || fd_write_all(fd, buf, len) < 0)
		return dhi_err_set(err, errno, "cannot write `%s`", name);
	return 0;
}

/* <name> := "digest\n" below the cache, replaced atomically; -1 with errno set */
static int write_digest_at(int cfd, const char *name, const char *digest, struct dhi_err **err)
{
	dhi_autofree char *tmp = xasprintf("%s.tmp.%d", name, (int)getpid());
	dhi_autofree char *line = xasprintf("%s\n", digest);

	if (write_file_at(cfd, tmp, line, strlen(line), err) < 0)
		return -1;
	if (renameat(cfd, tmp, cfd, name) < 0) {
		int e = errno;

		unlinkat(cfd, tmp, 0);
		errno = e;
		return -1;
	}
	return 0;
}

/* The digest in <name> below the cache, or NULL. */
static char *read_digest_at(int cfd, const char *name)
{
	dhi_autoclose int fd = openat(cfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	char buf[80];
	ssize_t n;

	if (fd < 0)
		return NULL;
	n = fd_read(fd, buf, sizeof(buf) - 1);
	if (n < 71)
		return NULL;
	buf[71] = '\0';
	return ref_is_digest(buf) ? xstrdup(buf) : NULL;
}

/* refs/<ref> := digest, replaced atomically */
static int write_ref(int cfd, const char *canonical, const char *digest, struct dhi_err **err)
{
	dhi_autofree char *name = ref_file(canonical);

	if (write_digest_at(cfd, name, digest, err) < 0)
		return *err ? -1 : dhi_err_set(err, errno, "cannot record reference `%s`", canonical);
	return 0;
}

static char *read_ref(int cfd, const char *canonical)
{
	dhi_autofree char *name = ref_file(canonical);

	return read_digest_at(cfd, name);
}

static bool entry_exists(int cfd, const char *digest)
{
	dhi_autofree char *p = xasprintf("sha256/%s/rootfs", digest + 7);
	struct stat st;

	return fstatat(cfd, p, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

static int lock_digest(int cfd, const char *digest, bool quiet, int *out, struct dhi_err **err)
{
	dhi_autofree char *name = xasprintf("locks/%s.lock", digest + 7);
	int fd = openat(cfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0)
		return dhi_err_set(err, errno, "cannot open lock `%s`", name);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (!quiet)
			fprintf(stderr, "dhidebug: waiting for another pull of `%.19s`\n", digest);
		while (flock(fd, LOCK_EX) < 0) {
			if (errno != EINTR) {
				close(fd);
				return dhi_err_set(err, errno, "cannot lock `%s`", name);
			}
		}
	}
	*out = fd;
	return 0;
}

/* tmp/<hex>.*: a pull of <hex> that died (the caller holds <hex>'s lock) */
static void remove_stale(int cfd, const char *hex)
{
	dhi_autoclose int tfd = openat(cfd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;
	struct dirent *de;
	size_t n = strlen(hex);

	if (tfd < 0 || !(d = fdopendir(dup(tfd))))
		return;
	while ((de = readdir(d))) {
		struct dhi_err *e = NULL;

		if (!strncmp(de->d_name, hex, n) && de->d_name[n] == '.' &&
		    layer_remove_at(tfd, de->d_name, &e) < 0)
			dhi_err_clear(&e);
	}
	closedir(d);
}

/* --- progress on a terminal --- */

struct progress {
	bool on;
	bool json;
	size_t i, n;
	const char *digest;
	long long size;
	struct timespec start, last;
};

static double since(const struct timespec *a)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - a->tv_sec) + (double)(now.tv_nsec - a->tv_nsec) / 1e9;
}

static void progress_print(struct progress *p, unsigned long long bytes, bool final)
{
	double t = since(&p->start);

	if (p->json) {
		/* one object per line, for programs that drive pulls */
		fprintf(stderr,
			"{\"layer\": %zu, \"layers\": %zu, \"digest\": \"%s\", \"bytes\": %llu, "
			"\"size\": %lld, \"rate\": %.0f, \"done\": %s}\n",
			p->i + 1, p->n, p->digest, bytes, p->size, t > 0 ? (double)bytes / t : 0.0,
			final ? "true" : "false");
		return;
	}
	fprintf(stderr, "\r\033[Klayer %zu/%zu %.19s  %.1f/%.1f MB  %.1f MB/s%s", p->i + 1, p->n,
		p->digest, (double)bytes / 1e6, (double)p->size / 1e6,
		t > 0 ? (double)bytes / 1e6 / t : 0.0, final ? "\n" : "");
}

static void progress_cb(void *arg, unsigned long long bytes)
{
	struct progress *p = arg;

	if (since(&p->last) < 0.1)
		return;
	clock_gettime(CLOCK_MONOTONIC, &p->last);
	progress_print(p, bytes, false);
}

/* --- pulling --- */

static long long tree_size_at(int dirfd, int depth)
{
	DIR *d;
	struct dirent *de;
	long long sum = 0;
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || depth > 256 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((de = readdir(d))) {
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		sum += (long long)st.st_blocks * 512;
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd, de->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (sub >= 0) {
				sum += tree_size_at(sub, depth + 1);
				close(sub);
			}
		}
	}
	closedir(d);
	return sum;
}

/* Where an entry's blobs come from: a registry, or the files of an OCI layout or docker-archive. */
struct blobs {
	int (*config)(void *ctx, const char *digest, char **out, size_t *len, struct dhi_err **err);
	int (*open)(void *ctx, const char *digest, long long size, struct layer_src *src,
		    struct dhi_err **err);
	void (*close)(struct layer_src *src);
	void *ctx;
};

static int reg_config(void *ctx, const char *digest, char **out, size_t *len,
		      struct dhi_err **err)
{
	return reg_fetch_blob_mem(ctx, digest, CONFIG_MAX, out, len, err);
}

static int reg_open_blob(void *ctx, const char *digest, long long size, struct layer_src *src,
			 struct dhi_err **err)
{
	return reg_blob_open(ctx, digest, size, src, err);
}

/* --- the unpacked budget --- */

static char *mib(unsigned long long n)
{
	return xasprintf("%.1f MiB", (double)n / 1048576.0);
}

unsigned long long cache_unpack_cap(unsigned long long compressed, unsigned long long configured,
				    unsigned long long avail, char **why)
{
	unsigned long long cap, room = avail / 100 * CACHE_FREE_SHARE;
	dhi_autofree char *c = mib(compressed), *f = mib(avail);

	if (configured) {
		cap = configured;
		*why = xstrdup("--max-unpacked or the policy's `toolbox_max_unpacked`");
	} else {
		/* (a ratio no real toolbox comes near: tar+gzip of a distribution is 2 to 4) */
		cap = compressed > ~0ULL / CACHE_UNPACK_RATIO ? ~0ULL
							       : compressed * CACHE_UNPACK_RATIO;
		if (cap < CACHE_UNPACK_MIN)
			cap = CACHE_UNPACK_MIN;
		*why = xasprintf("%llu × its %s of layers, at least %llu MiB; --max-unpacked "
				 "sets another", CACHE_UNPACK_RATIO, c, CACHE_UNPACK_MIN >> 20);
	}
	if (room < cap) {
		free(*why);
		*why = xasprintf("%llu%% of the %s free on the cache's filesystem", CACHE_FREE_SHARE,
				 f);
		cap = room;
	}
	return cap;
}

/* What an image may still take: bytes and entries, and how the caps came about. */
struct budget {
	unsigned long long cap, used;
	unsigned long long max_entries, entries; /* max_entries 0: the filesystem has no limit */
	char *why;
};

/* The caps of an image of `compressed` bytes unpacked below `dirfd`, from statvfs(2) there. */
static int budget_init(const struct cache_opts *o, int dirfd, unsigned long long compressed,
		       struct budget *b, struct dhi_err **err)
{
	struct statvfs sv;

	memset(b, 0, sizeof(*b));
	if (fstatvfs(dirfd, &sv) < 0)
		return dhi_err_set(err, errno, "cannot learn the free space of `%s`", cache_dir(o));
	b->cap = cache_unpack_cap(compressed, o->max_unpacked,
				  (unsigned long long)sv.f_bavail * sv.f_frsize, &b->why);
	/* (btrfs and some others count no inodes: f_files is 0 there) */
	if (sv.f_files > 0)
		b->max_entries = (unsigned long long)sv.f_favail / 100 * CACHE_FREE_SHARE + 1;
	return 0;
}

/* The part of the budget one layer may take (its descriptor's digest and size). */
static int budget_want(struct budget *b, const char *digest, long long size,
		       struct layer_want *w, struct dhi_err **err);

/* Replaces a layer's over-cap error with the image's, which names the cap and its origin. */
static int budget_error(const struct budget *b, const struct layer_stats *st,
			struct dhi_err **err)
{
	dhi_autofree char *c = mib(b->cap);

	dhi_err_clear(err);
	if (b->max_entries && b->entries + st->headers >= b->max_entries)
		return dhi_err_set(err, 0, "the image has more than %llu entries, %llu%% of the "
					       "free inodes of the cache's filesystem; nothing of it "
					       "is kept", b->max_entries, CACHE_FREE_SHARE);
	return dhi_err_set(err, 0, "the image unpacks to more than %s (%llu bytes), its cap "
				       "(%s); nothing of it is kept", c, b->cap, b->why);
}

static int budget_want(struct budget *b, const char *digest, long long size,
		       struct layer_want *w, struct dhi_err **err)
{
	struct layer_stats none = { 0 };

	*w = (struct layer_want){ .digest = digest, .size = size };
	if (b->used >= b->cap || (b->max_entries && b->entries >= b->max_entries))
		return budget_error(b, &none, err);
	w->max_unpacked = b->cap - b->used;
	w->max_entries = b->max_entries ? b->max_entries - b->entries : 0;
	return 0;
}

/* Builds tmp/<hex>.<pid> from `b` and renames it to sha256/<hex>. */
static int build_entry(const struct cache_opts *o, int cfd, const struct blobs *b,
		       const struct reg_manifest *m, struct dhi_err **err)
{
	const char *hex = m->digest + 7;
	dhi_autofree char *tmp = xasprintf("tmp/%s.%d", hex, (int)getpid());
	dhi_autofree char *final = xasprintf("sha256/%s", hex);
	dhi_autofree char *config = NULL, *meta = NULL;
	dhi_autoclose int tfd = -1, rootfd = -1, sfd = -1;
	struct progress pr = { .on = o->json || (!o->quiet && isatty(2)), .json = o->json,
			       .n = m->nlayers };
	struct budget bud = { 0 };
	unsigned long long compressed = 0;
	json_auto_t *cj = NULL;
	size_t clen;
	int rc = -1;

	remove_stale(cfd, hex);
	if (mkdirat(cfd, tmp, 0700) < 0)
		return dhi_err_set(err, errno, "cannot create `%s/%s`", cache_dir(o), tmp);
	tfd = openat(cfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (tfd < 0 || mkdirat(tfd, "rootfs", 0755) < 0 ||
	    (rootfd = openat(tfd, "rootfs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		dhi_err_set(err, errno, "cannot create `%s/%s/rootfs`", cache_dir(o), tmp);
		goto out;
	}
	if (b->config(b->ctx, m->config_digest, &config, &clen, err) < 0)
		goto out;
	/* whoever reads config.json later (users, environment) may take it for JSON */
	cj = json_loadb(config, clen, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(cj)) {
		dhi_err_set(err, 0, "the image config `%s` is not a JSON object", m->config_digest);
		goto out;
	}
	if (write_file_at(tfd, "config.json", config, clen, err) < 0 ||
	    write_file_at(tfd, "manifest.json", m->body, m->len, err) < 0)
		goto out;
	for (size_t i = 0; i < m->nlayers; i++)
		compressed += (unsigned long long)m->layers[i].size;
	if (budget_init(o, tfd, compressed, &bud, err) < 0)
		goto out;
	for (size_t i = 0; i < m->nlayers; i++) {
		struct layer_src src = { 0 };
		struct layer_stats st;
		struct layer_want want;
		int r;

		pr.i = i;
		pr.digest = m->layers[i].digest;
		pr.size = m->layers[i].size;
		clock_gettime(CLOCK_MONOTONIC, &pr.start);
		if (budget_want(&bud, m->layers[i].digest, m->layers[i].size, &want, err) < 0)
			goto out;
		if (b->open(b->ctx, m->layers[i].digest, m->layers[i].size, &src, err) < 0)
			goto out;
		r = layer_unpack_at(rootfd, &src, &want, pr.on ? progress_cb : NULL, &pr, &st, err);
		b->close(&src);
		if (pr.on && !pr.json && r < 0)
			fputc('\n', stderr); /* (the error goes on a line of its own) */
		if (r < 0 && st.over_cap)
			budget_error(&bud, &st, err);
		if (r < 0)
			goto out;
		bud.used += st.unpacked;
		bud.entries += st.headers;
		if (pr.on)
			progress_print(&pr, st.bytes, true);
	}
	meta = xasprintf("{\"size\": %lld, \"created\": %lld}\n", tree_size_at(rootfd, 0),
			 (long long)time(NULL));
	if (write_file_at(tfd, "meta.json", meta, strlen(meta), err) < 0 ||
	    write_file_at(tfd, "used", "", 0, err) < 0)
		goto out;
	/* whole on disk before it is visible: a crash after the rename finds a full entry */
	if (syncfs(tfd) < 0) {
		dhi_err_set(err, errno, "cannot sync `%s`", cache_dir(o));
		goto out;
	}
	/* the entry is never changed again: only root may even enter it, nobody writes */
	if (fchmod(tfd, 0555) < 0) {
		dhi_err_set(err, errno, "cannot make `%s` read-only", tmp);
		goto out;
	}
	if (renameat2(cfd, tmp, cfd, final, RENAME_NOREPLACE) < 0) {
		dhi_err_set(err, errno, "cannot publish `%s/%s`", cache_dir(o), final);
		goto out;
	}
	sfd = openat(cfd, "sha256", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sfd >= 0)
		(void)fsync(sfd);
	rc = 0;
out:
	if (rc < 0) {
		struct dhi_err *e = NULL;

		if (layer_remove_at(cfd, tmp, &e) < 0)
			dhi_err_clear(&e);
	}
	free(bud.why);
	return rc;
}

static int import_archive(const struct cache_opts *o, const char *path, const char *name,
			  const char *want, char **digest_out, struct dhi_err **err);

/* The most a local store's archive of one image may be: what it may unpack to. */
#define LOCAL_ARCHIVE_MAX (16ULL << 30)

/*
 * local/<hex of the store's image id> := the entry it was imported as, so that
 * an image the store still has is exported once, not at every session.
 */
static char *local_seen(int cfd, const char *id)
{
	dhi_autofree char *name = xasprintf("local/%s", id + 7);
	char *digest = read_digest_at(cfd, name);

	if (digest && !entry_exists(cfd, digest)) {
		free(digest);
		digest = NULL;
	}
	return digest;
}

static void local_remember(int cfd, const char *id, const char *digest)
{
	dhi_autofree char *name = xasprintf("local/%s", id + 7);
	struct dhi_err *e = NULL;

	/* (a memo that cannot be written costs one more export later, nothing else) */
	write_digest_at(cfd, name, digest, &e);
	dhi_err_clear(&e);
}

/*
 * `ref` from o->local: the entry of an image id seen before, or its archive in
 * an unnamed file of the cache's own, imported under `canonical`. 1 done, 0 the
 * store has no such image, -1 error.
 */
static int pull_local(const struct cache_opts *o, int cfd, const char *refstr,
		      const char *canonical, char **digest_out, struct dhi_err **err)
{
	struct cache_opts q = *o;
	dhi_autoclose int fd = -1;
	dhi_autofree char *digest = NULL, *id = NULL, *from = NULL;
	unsigned long long max = o->max_unpacked ? o->max_unpacked : LOCAL_ARCHIVE_MAX;
	struct statvfs sv;
	char path[64];
	int r;

	/* and never the cache's whole filesystem: its unpacked copy needs room too */
	if (fstatvfs(cfd, &sv) == 0 &&
	    max > (unsigned long long)sv.f_bavail * sv.f_frsize / 100 * CACHE_FREE_SHARE / 2)
		max = (unsigned long long)sv.f_bavail * sv.f_frsize / 100 * CACHE_FREE_SHARE / 2;

	r = o->local(refstr, o->local_hint, &id, -1, max, &from, err);
	if (r <= 0)
		return r < 0 ? dhi_err_prefix(err, "cannot read `%s` from %s", canonical,
					      from ? from : "a local store")
			     : 0;
	digest = local_seen(cfd, id);
	if (digest) {
		if (write_ref(cfd, canonical, digest, err) < 0)
			return -1;
		if (!o->quiet)
			fprintf(stderr, "dhidebug: `%s` from %s is cached as %s\n", canonical,
				from ? from : "a local store", digest);
		goto done;
	}
	free(id);
	free(from);
	id = from = NULL;
	fd = openat(cfd, "tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		return dhi_err_set(err, errno, "cannot create a file in the toolbox cache");
	r = o->local(refstr, o->local_hint, &id, fd, max, &from, err);
	if (!from)
		from = xstrdup("a local store");
	if (r <= 0)
		return r < 0 ? dhi_err_prefix(err, "cannot read `%s` from %s", canonical, from) : 0;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	q.quiet = true;
	q.local = NULL;
	/* the archive must hold the image the store named, that one alone */
	if (import_archive(&q, path, canonical, id, &digest, err) < 0)
		return dhi_err_prefix(err, "`%s` from %s", canonical, from);
	local_remember(cfd, id, digest);
	if (!o->quiet)
		fprintf(stderr, "dhidebug: `%s` from %s, cached as %s\n", canonical, from, digest);
done:
	if (digest_out)
		*digest_out = xstrdup(digest);
	return 1;
}

int cache_pull(const struct cache_opts *o, const char *refstr, char **digest_out,
	       struct dhi_err **err)
{
	struct tb_ref ref;
	struct reg_manifest m = { 0 };
	struct reg_client *c = NULL;
	dhi_autoclose int cfd = -1, lockfd = -1;
	dhi_autofree char *canonical = NULL;
	int rc = -1;

	if (ref_parse(refstr, &ref, err) < 0)
		return -1;
	canonical = ref_format(&ref);
	if (open_cache(o, &cfd, err) < 0)
		goto out;
	/* the host's own images first, as Docker Debug and cdebug do */
	if (o->local) {
		int r = pull_local(o, cfd, refstr, canonical, digest_out, err);

		if (r != 0) {
			rc = r < 0 ? -1 : 0;
			goto out;
		}
	}
	c = reg_open(&ref, &o->reg, err);
	if (!c || reg_fetch_manifest(c, &m, err) < 0)
		goto prefix;
	if (lock_digest(cfd, m.digest, o->quiet, &lockfd, err) < 0)
		goto out;
	if (entry_exists(cfd, m.digest)) {
		if (!o->quiet)
			fprintf(stderr, "dhidebug: `%s` is cached as %s\n", canonical, m.digest);
	} else {
		struct blobs b = { reg_config, reg_open_blob, reg_blob_close, c };

		if (build_entry(o, cfd, &b, &m, err) < 0)
			goto prefix;
		if (!o->quiet)
			fprintf(stderr, "dhidebug: pulled `%s` as %s (%zu layers)\n", canonical,
				m.digest, m.nlayers);
	}
	if (write_ref(cfd, canonical, m.digest, err) < 0)
		goto out;
	if (digest_out)
		*digest_out = xstrdup(m.digest);
	rc = 0;
	goto out;
prefix:
	dhi_err_prefix(err, "cannot pull `%s`", canonical);
out:
	reg_manifest_free(&m);
	reg_close(c);
	ref_free(&ref);
	return rc;
}

/* --- looking things up --- */

/* A full digest or a unique prefix of one (at least 12 hex digits) among the entries. */
static int find_digest(int cfd, const char *what, char **out, struct dhi_err **err)
{
	const char *hex = !strncmp(what, "sha256:", 7) ? what + 7 : what;
	size_t n = strlen(hex);
	dhi_autofree char *found = NULL;
	DIR *d;
	struct dirent *de;
	int sfd;

	if (n < 12 || n > 64 || strspn(hex, "0123456789abcdef") != n)
		return 0;
	sfd = openat(cfd, "sha256", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sfd < 0 || !(d = fdopendir(sfd))) {
		if (sfd >= 0)
			close(sfd);
		return 0;
	}
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, hex, n) != 0 || strlen(de->d_name) != 64)
			continue;
		if (found) {
			closedir(d);
			return dhi_err_set(err, 0, "digest prefix `%s` is ambiguous", what);
		}
		found = xasprintf("sha256:%s", de->d_name);
	}
	closedir(d);
	*out = dhi_steal_ptr(&found);
	return 0;
}

/* What `what` (a reference or digest) names in the cache; *out NULL when nothing. */
static int lookup(int cfd, const char *what, char **out, struct dhi_err **err)
{
	struct tb_ref ref;
	struct dhi_err *e = NULL;
	dhi_autofree char *canonical = NULL;

	*out = NULL;
	if (find_digest(cfd, what, out, err) < 0)
		return -1;
	if (*out)
		return 0;
	if (ref_parse(what, &ref, &e) < 0) {
		if (!strncmp(what, "sha256:", 7)) {
			dhi_err_clear(&e);
			return 0;
		}
		*err ? dhi_err_clear(err) : (void)0;
		*err = e;
		return -1;
	}
	canonical = ref_format(&ref);
	if (ref.digest && entry_exists(cfd, ref.digest))
		*out = xstrdup(ref.digest);
	else
		*out = read_ref(cfd, canonical);
	if (*out && !entry_exists(cfd, *out)) {
		free(*out);
		*out = NULL;
	}
	ref_free(&ref);
	return 0;
}

int cache_resolve(const struct cache_opts *o, const char *what, bool pull, char **path,
		  struct dhi_err **err)
{
	dhi_autoclose int cfd = -1;
	dhi_autofree char *digest = NULL, *used = NULL;

	if (open_cache(o, &cfd, err) < 0 || lookup(cfd, what, &digest, err) < 0)
		return -1;
	if (!digest) {
		if (!pull)
			return dhi_err_set_kind(err, ENOENT, "toolbox `%s` is not in the cache", what);
		if (cache_pull(o, what, &digest, err) < 0)
			return -1;
	}
	used = xasprintf("sha256/%s/used", digest + 7);
	(void)utimensat(cfd, used, NULL, AT_SYMLINK_NOFOLLOW);
	*path = xasprintf("%s/sha256/%s/rootfs", cache_dir(o), digest + 7);
	return 0;
}

/* --- ls, rm, prune --- */

struct refent {
	char *ref;
	char *digest;
};

static size_t read_refs(int cfd, struct refent **out)
{
	dhi_autoclose int rfd = openat(cfd, "refs", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct refent *v = NULL;
	size_t n = 0;
	DIR *d;
	struct dirent *de;

	*out = NULL;
	if (rfd < 0 || !(d = fdopendir(dup(rfd))))
		return 0;
	while ((de = readdir(d))) {
		dhi_autofree char *name = NULL;
		char *ref, *dg;

		if (de->d_name[0] == '.' || strstr(de->d_name, ".tmp."))
			continue;
		ref = unescape_ref(de->d_name);
		dg = read_ref(cfd, ref);
		if (!dg) {
			free(ref);
			continue;
		}
		v = xrealloc(v, (n + 1) * sizeof(*v));
		v[n].ref = ref;
		v[n].digest = dg;
		n++;
	}
	closedir(d);
	*out = v;
	return n;
}

static void refs_free(struct refent *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].ref);
		free(v[i].digest);
	}
	free(v);
}

static long long entry_size(int cfd, const char *hex)
{
	dhi_autofree char *p = xasprintf("sha256/%s/meta.json", hex);
	dhi_autofree char *buf = NULL;
	dhi_autoclose int fd = openat(cfd, p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct dhi_err *e = NULL;
	json_auto_t *j = NULL;
	size_t len;

	if (fd < 0 || fd_read_file(fd, 4096, &buf, &len, &e) < 0) {
		dhi_err_clear(&e);
		return -1;
	}
	j = json_loadb(buf, len, 0, NULL);
	return json_is_integer(json_object_get(j, "size"))
		       ? (long long)json_integer_value(json_object_get(j, "size"))
		       : -1;
}

int cache_list(const struct cache_opts *o, bool json, FILE *f, struct dhi_err **err)
{
	dhi_autoclose int cfd = -1;
	struct refent *refs = NULL;
	size_t nrefs;
	json_auto_t *arr = json_array();
	DIR *d;
	struct dirent *de;
	int sfd;

	if (open_cache(o, &cfd, err) < 0)
		return -1;
	nrefs = read_refs(cfd, &refs);
	sfd = openat(cfd, "sha256", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sfd < 0 || !(d = fdopendir(sfd))) {
		refs_free(refs, nrefs);
		return dhi_err_set(err, errno, "cannot read `%s/sha256`", cache_dir(o));
	}
	if (!json)
		fprintf(f, "%-60s %-19s %10s  %s\n", "REFERENCE", "DIGEST", "SIZE", "LAST USE");
	while ((de = readdir(d))) {
		dhi_autofree char *digest = NULL, *used = NULL;
		json_t *jrefs = json_array();
		struct stat st;
		char when[32] = "-";
		long long size;
		int shown = 0;

		if (strlen(de->d_name) != 64)
			continue;
		digest = xasprintf("sha256:%s", de->d_name);
		used = xasprintf("%s/used", de->d_name);
		if (fstatat(dirfd(d), used, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			struct tm tm;

			gmtime_r(&st.st_mtime, &tm);
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		}
		size = entry_size(cfd, de->d_name);
		for (size_t i = 0; i < nrefs; i++) {
			if (strcmp(refs[i].digest, digest) != 0)
				continue;
			json_array_append_new(jrefs, json_string(refs[i].ref));
			if (!json)
				fprintf(f, "%-60s %.19s %9.1fM  %s\n", refs[i].ref, digest,
					(double)size / 1048576.0, when);
			shown++;
		}
		if (!json && !shown)
			fprintf(f, "%-60s %.19s %9.1fM  %s\n", "<none>", digest,
				(double)size / 1048576.0, when);
		if (json)
			json_array_append_new(arr, json_pack("{s:s, s:o, s:I, s:s}", "digest",
							     digest, "references", jrefs, "size",
							     (json_int_t)size, "last_used", when));
		else
			json_decref(jrefs);
	}
	closedir(d);
	refs_free(refs, nrefs);
	if (json) {
		json_dumpf(arr, f, JSON_INDENT(2));
		fputc('\n', f);
	}
	return 0;
}

/* Unpublishes (one rename) then deletes an entry; the caller holds no lock. */
static int drop_entry(const struct cache_opts *o, int cfd, const char *digest,
		      struct dhi_err **err)
{
	dhi_autoclose int lockfd = -1;
	dhi_autofree char *from = xasprintf("sha256/%s", digest + 7);
	dhi_autofree char *to = xasprintf("tmp/%s.rm.%d", digest + 7, (int)getpid());
	dhi_autoclose int tfd = -1;

	if (lock_digest(cfd, digest, true, &lockfd, err) < 0)
		return -1;
	if (renameat(cfd, from, cfd, to) < 0)
		return dhi_err_set(err, errno, "cannot remove `%s`", from);
	tfd = openat(cfd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return layer_remove_at(tfd, to + 4, err);
}

int cache_remove(const struct cache_opts *o, const char *what, struct dhi_err **err)
{
	dhi_autoclose int cfd = -1;
	dhi_autofree char *digest = NULL;
	struct refent *refs = NULL;
	size_t nrefs;

	if (open_cache(o, &cfd, err) < 0 || lookup(cfd, what, &digest, err) < 0)
		return -1;
	if (!digest)
		return dhi_err_set_kind(err, ENOENT, "toolbox `%s` is not in the cache", what);
	nrefs = read_refs(cfd, &refs);
	for (size_t i = 0; i < nrefs; i++) {
		if (strcmp(refs[i].digest, digest) == 0) {
			dhi_autofree char *name = ref_file(refs[i].ref);

			unlinkat(cfd, name, 0);
		}
	}
	refs_free(refs, nrefs);
	return drop_entry(o, cfd, digest, err);
}

/*
 * An entry that a pull or import is working on holds its lock; one that a
 * session or lint uses holds its `.use` lock shared (cache_hold()). Not busy:
 * *use holds `.use` exclusively, so that no session takes the entry while
 * prune removes it (close it after).
 */
static bool entry_busy(int cfd, const char *digest, int *use)
{
	dhi_autofree char *name = xasprintf("locks/%s.lock", digest + 7);
	dhi_autofree char *uname = xasprintf("locks/%s.use", digest + 7);
	dhi_autoclose int fd = openat(cfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd >= 0 && flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK)
		return true;
	*use = openat(cfd, uname, O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	return *use >= 0 && flock(*use, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK;
}

int cache_hold(const struct cache_opts *o, const char *rootfs, struct dhi_err **err)
{
	const char *dir = cache_dir(o), *hex;
	size_t n = strlen(dir);
	dhi_autoclose int cfd = -1;
	dhi_autofree char *use = NULL;
	int fd;

	/* <cache>/sha256/<hex>/rootfs, as cache_resolve() gives it; anything else is no entry */
	if (strncmp(rootfs, dir, n) != 0 || strncmp(rootfs + n, "/sha256/", 8) != 0)
		return -1;
	hex = rootfs + n + 8;
	if (strspn(hex, "0123456789abcdef") != 64 || strcmp(hex + 64, "/rootfs") != 0)
		return -1;
	if (open_cache(o, &cfd, err) < 0)
		return -1;
	use = xasprintf("locks/%.64s.use", hex);
	fd = openat(cfd, use, O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_SH) < 0) {
		if (fd >= 0)
			close(fd);
		return dhi_err_set(err, errno, "cannot hold toolbox cache entry `sha256:%.12s`", hex);
	}
	return fd;
}

int cache_prune(const struct cache_opts *o, bool dry_run, FILE *f, struct dhi_err **err)
{
	dhi_autoclose int cfd = -1;
	struct refent *refs = NULL;
	size_t nrefs;
	DIR *d;
	struct dirent *de;
	int sfd, rc = 0;

	if (open_cache(o, &cfd, err) < 0)
		return -1;
	nrefs = read_refs(cfd, &refs);
	sfd = openat(cfd, "sha256", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sfd >= 0 && (d = fdopendir(sfd))) {
		while ((de = readdir(d)) && rc == 0) {
			dhi_autofree char *digest = NULL;
			dhi_autoclose int use = -1;
			bool used = false;

			if (strlen(de->d_name) != 64)
				continue;
			digest = xasprintf("sha256:%s", de->d_name);
			for (size_t i = 0; i < nrefs && !used; i++)
				used = !strcmp(refs[i].digest, digest);
			if (used)
				continue;
			if (entry_busy(cfd, digest, &use)) {
				fprintf(f, "kept %s (a pull, an import or a session is using it)\n",
					digest);
				continue;
			}
			if (dry_run) {
				fprintf(f, "would remove %s (%.1fM, no name)\n", digest,
					(double)entry_size(cfd, de->d_name) / 1048576.0);
				continue;
			}
			{
				long long size = entry_size(cfd, de->d_name);

				rc = drop_entry(o, cfd, digest, err);
				if (rc == 0)
					fprintf(f, "removed %s (%.1fM, no name)\n", digest,
						(double)size / 1048576.0);
			}
		}
		closedir(d);
	}
	refs_free(refs, nrefs);
	/* leftovers of interrupted pulls: their lock is free */
	sfd = openat(cfd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rc == 0 && sfd >= 0 && (d = fdopendir(sfd))) {
		while ((de = readdir(d))) {
			dhi_autofree char *hex = xstrndup(de->d_name, 64);
			dhi_autofree char *lock = xasprintf("locks/%s.lock", hex);
			dhi_autoclose int lfd = -1;
			struct dhi_err *e = NULL;

			if (de->d_name[0] == '.' || strlen(de->d_name) < 65)
				continue;
			lfd = openat(cfd, lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
			if (lfd < 0 || flock(lfd, LOCK_EX | LOCK_NB) < 0)
				continue;
			if (dry_run)
				fprintf(f, "would remove unfinished %s\n", de->d_name);
			else if (layer_remove_at(dirfd(d), de->d_name, &e) < 0)
				dhi_err_clear(&e);
			else
				fprintf(f, "removed unfinished %s\n", de->d_name);
		}
		closedir(d);
	}
	return rc;
}

/* --- import: OCI image layouts (directory or tar) and docker-archives --- */

#define INDEX_MAX (4 << 20)

struct file_src {
	int fd;
	char buf[1 << 16];
};

static ssize_t file_read(void *ctx, const void **out, struct dhi_err **err)
{
	struct file_src *f = ctx;
	ssize_t n = fd_read(f->fd, f->buf, sizeof(f->buf));

	if (n < 0)
		return dhi_err_set(err, errno, "cannot read an imported file");
	*out = f->buf;
	return n;
}

static void file_close(struct layer_src *src)
{
	struct file_src *f = src->ctx;

	if (f) {
		close(f->fd);
		free(f);
	}
	src->ctx = NULL;
}

/*
 * Opens `name` inside the import's root: a hostile layout cannot point outside
 * it, nor make us open a FIFO or a device it holds instead of a file.
 */
static int open_in(int dirfd, const char *name, int *fd, struct dhi_err **err)
{
	if (path_open_regular_at(dirfd, name, 0, fd, err) < 0)
		return dhi_err_prefix(err, "import");
	return 0;
}

/* ... and reads it whole when it is at most `max` bytes. */
static int read_in(int dirfd, const char *name, size_t max, char **out, size_t *len,
		   struct dhi_err **err)
{
	if (path_read_regular_at(dirfd, name, max, out, len, err) < 0)
		return dhi_err_prefix(err, "import");
	return 0;
}

/* A blob of the layout, verified against its digest. */
static int layout_blob(int dirfd, const char *digest, size_t max, char **out, size_t *len,
		       struct dhi_err **err)
{
	dhi_autofree char *name = xasprintf("blobs/sha256/%s", digest + 7);
	dhi_autofree char *got = NULL;

	if (read_in(dirfd, name, max, out, len, err) < 0)
		return -1;
	got = layer_sha256(*out, *len);
	if (strcmp(got, digest) != 0) {
		free(*out);
		*out = NULL;
		return dhi_err_set(err, 0, "digest mismatch for `%s`: got `%s`", name, got);
	}
	return 0;
}

struct import {
	int dirfd;
	char *config;		/* docker-archive: the config, read and hashed already */
	size_t config_len;
	char **digests;		/* docker-archive: layer digest → file */
	char **files;
	size_t n;
};

static int import_config(void *ctx, const char *digest, char **out, size_t *len,
			 struct dhi_err **err)
{
	struct import *im = ctx;

	if (im->config) {
		*out = xmalloc(im->config_len + 1);
		memcpy(*out, im->config, im->config_len);
		*len = im->config_len;
		return 0;
	}
	return layout_blob(im->dirfd, digest, CONFIG_MAX, out, len, err);
}

static int import_open(void *ctx, const char *digest, long long size, struct layer_src *src,
		       struct dhi_err **err)
{
	struct import *im = ctx;
	dhi_autofree char *name = xasprintf("blobs/sha256/%s", digest + 7);
	const char *file = name;
	struct file_src *f;
	int fd = -1;

	(void)size; /* (layer_unpack_at enforces it) */
	for (size_t i = 0; i < im->n; i++)
		if (!strcmp(im->digests[i], digest))
			file = im->files[i];
	if (open_in(im->dirfd, file, &fd, err) < 0)
		return -1;
	f = xzalloc(sizeof(*f));
	f->fd = fd;
	src->read = file_read;
	src->ctx = f;
	return 0;
}

static const char *str_at(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* The descriptor for linux/<host arch> (or the only one) in an index's `manifests`. */
static json_t *pick(json_t *manifests, struct dhi_err **err)
{
	json_t *e, *only = NULL;
	size_t i;

	if (json_array_size(manifests) == 1)
		only = json_array_get(manifests, 0);
	json_array_foreach (manifests, i, e) {
		json_t *p = json_object_get(e, "platform");

		if (json_is_object(p) && !strcmp(str_at(p, "os") ?: "", "linux") &&
		    !strcmp(str_at(p, "architecture") ?: "", reg_host_arch()))
			return e;
	}
	if (only)
		return only;
	dhi_err_set_kind(err, ENOENT, "the image index has no manifest for linux/%s", reg_host_arch());
	return NULL;
}

/*
 * With `want` (a local store's id of the image it exported), the archive must
 * hold that image alone: one entry in its index.json, which has that digest
 * or whose manifest's config has it (a store that exported another image, or
 * more, than the one it named is not believed).
 */
static int check_want(const char *want, size_t entries, const char *top, const char *config,
		      struct dhi_err **err)
{
	if (!want)
		return 0;
	if (entries != 1)
		return dhi_err_set(err, 0,
				   "the store's archive holds %zu images, not the one asked for",
				   entries);
	if (strcmp(want, top ? top : "") != 0 && strcmp(want, config ? config : "") != 0)
		return dhi_err_set(err, 0,
				   "the store's archive holds image `%s`, not `%s` as it said",
				   top ? top : config ? config : "?", want);
	return 0;
}

/* OCI image layout: index.json (and nested indexes) → the manifest for this host. */
static int import_oci(int dirfd, const char *want, struct reg_manifest *m, char **refname,
		      struct dhi_err **err)
{
	dhi_autofree char *buf = NULL, *top = NULL;
	json_auto_t *idx = NULL;
	json_t *d;
	size_t len, entries;
	const char *name;

	if (read_in(dirfd, "index.json", INDEX_MAX, &buf, &len, err) < 0)
		return -1;
	idx = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
	entries = json_array_size(json_object_get(idx, "manifests"));
	if (want && entries != 1)
		return check_want(want, entries, NULL, NULL, err);
	if (!(d = pick(json_object_get(idx, "manifests"), err)))
		return -1;
	top = str_at(d, "digest") ? xstrdup(str_at(d, "digest")) : NULL;
	/* containerd's export has the full name beside the tag */
	name = str_at(json_object_get(d, "annotations"), "io.containerd.image.name");
	if (!name)
		name = str_at(json_object_get(d, "annotations"), "org.opencontainers.image.ref.name");
	*refname = name ? xstrdup(name) : NULL;
	for (int depth = 0;; depth++) {
		const char *digest = str_at(d, "digest"), *mt = str_at(d, "mediaType");
		dhi_autofree char *body = NULL;
		json_auto_t *j = NULL;
		size_t blen;

		if (!ref_is_digest(digest))
			return dhi_err_set(err, 0, "index entry without a valid sha256 digest");
		if (layout_blob(dirfd, digest, INDEX_MAX, &body, &blen, err) < 0)
			return -1;
		j = json_loadb(body, blen, JSON_REJECT_DUPLICATES, NULL);
		if ((mt && strstr(mt, "index")) || json_is_array(json_object_get(j, "manifests"))) {
			if (depth > 4)
				return dhi_err_set(err, 0, "image indexes nested too deeply");
			json_decref(idx);
			idx = dhi_steal_ptr(&j);
			if (!(d = pick(json_object_get(idx, "manifests"), err)))
				return -1;
			continue;
		}
		if (reg_manifest_parse(body, blen, m, err) < 0)
			return -1;
		m->digest = xstrdup(digest);
		m->body = dhi_steal_ptr(&body);
		m->len = blen;
		return check_want(want, entries, top, m->config_digest, err);
	}
}

/*
 * docker-archive (`docker save`, `skopeo copy … docker-archive:`): manifest.json names
 * the config and uncompressed layer tars; the config's diff_ids are their digests. The
 * entry's key is the digest of an OCI manifest made from them.
 */
static int import_docker(int dirfd, const char *want, struct import *im, struct reg_manifest *m,
			 char **refname, struct dhi_err **err)
{
	dhi_autofree char *buf = NULL, *cdigest = NULL, *body = NULL;
	json_auto_t *man = NULL, *cfg = NULL, *layers = json_array(), *out = NULL;
	json_t *e, *files, *diffs, *tags;
	size_t len, i;

	if (read_in(dirfd, "manifest.json", INDEX_MAX, &buf, &len, err) < 0)
		return -1;
	man = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
	e = json_array_get(man, 0);
	if (!json_is_object(e) || !str_at(e, "Config") || !json_is_array(json_object_get(e, "Layers")))
		return dhi_err_set(err, 0, "docker-archive manifest.json has no Config and Layers");
	if (json_array_size(man) > 1)
		return dhi_err_set(err, 0, "docker-archive holds %zu images (import one at a time)",
				   json_array_size(man));
	if (read_in(dirfd, str_at(e, "Config"), CONFIG_MAX, &im->config, &im->config_len, err) < 0)
		return -1;
	cdigest = layer_sha256(im->config, im->config_len);
	/* a docker-archive's image is its config: the image id of the engines that save them */
	if (check_want(want, json_array_size(man), NULL, cdigest, err) < 0)
		return -1;
	cfg = json_loadb(im->config, im->config_len, 0, NULL);
	diffs = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
	files = json_object_get(e, "Layers");
	if (json_array_size(diffs) != json_array_size(files) || json_array_size(files) > 512)
		return dhi_err_set(err, 0, "docker-archive config has %zu diff_ids for %zu layers",
				   json_array_size(diffs), json_array_size(files));
	im->digests = xzalloc((json_array_size(files) + 1) * sizeof(char *));
	im->files = xzalloc((json_array_size(files) + 1) * sizeof(char *));
	json_array_foreach (files, i, e) {
		const char *d = json_string_value(json_array_get(diffs, i));
		dhi_autoclose int fd = -1;
		struct stat st;

		if (!json_is_string(e) || !ref_is_digest(d))
			return dhi_err_set(err, 0, "docker-archive layer %zu is malformed", i);
		if (open_in(dirfd, json_string_value(e), &fd, err) < 0 || fstat(fd, &st) < 0)
			return -1;
		im->digests[i] = xstrdup(d);
		im->files[i] = xstrdup(json_string_value(e));
		im->n++;
		json_array_append_new(layers, json_pack("{s:s, s:s, s:I}", "mediaType",
						       "application/vnd.oci.image.layer.v1.tar",
						       "digest", d, "size", (json_int_t)st.st_size));
	}
	out = json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:O}", "schemaVersion", 2, "mediaType",
			"application/vnd.oci.image.manifest.v1+json", "config", "mediaType",
			"application/vnd.oci.image.config.v1+json", "digest", cdigest, "size",
			(json_int_t)im->config_len, "layers", layers);
	body = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
	if (!body || reg_manifest_parse(body, strlen(body), m, err) < 0)
		return -1;
	m->digest = layer_sha256(body, strlen(body));
	m->len = strlen(body);
	m->body = dhi_steal_ptr(&body);
	tags = json_object_get(json_array_get(man, 0), "RepoTags");
	*refname = json_is_string(json_array_get(tags, 0))
			   ? xstrdup(json_string_value(json_array_get(tags, 0)))
			   : NULL;
	return 0;
}

static void import_free(struct import *im)
{
	free(im->config);
	for (size_t i = 0; i < im->n; i++) {
		free(im->digests[i]);
		free(im->files[i]);
	}
	free(im->digests);
	free(im->files);
}

/* A tar (oci-archive, docker-archive) unpacked into tmp/ like a layer, inside its root. */
static int unpack_archive(const struct cache_opts *o, int cfd, const char *path, char **tmpname,
			  int *dirfd, struct dhi_err **err)
{
	struct file_src *f = xzalloc(sizeof(*f));
	struct layer_src src = { file_read, f };
	struct layer_stats st;
	struct layer_want want;
	struct budget bud = { 0 };
	struct stat fst;
	int r;

	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0 || fstat(f->fd, &fst) < 0) {
		r = dhi_err_set(err, errno, "cannot open `%s`", path);
		file_close(&src);
		return r;
	}
	*tmpname = xasprintf("tmp/import.%d", (int)getpid());
	if (mkdirat(cfd, *tmpname, 0700) < 0 ||
	    (*dirfd = openat(cfd, *tmpname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		file_close(&src);
		return dhi_err_set(err, errno, "cannot create `%s/%s`", cache_dir(o), *tmpname);
	}
	/* the archive may be compressed too: it gets an image's budget, its size the compressed */
	if (budget_init(o, *dirfd, (unsigned long long)fst.st_size, &bud, err) < 0 ||
	    budget_want(&bud, NULL, -1, &want, err) < 0) {
		file_close(&src);
		free(bud.why);
		return -1;
	}
	r = layer_unpack_at(*dirfd, &src, &want, NULL, NULL, &st, err);
	file_close(&src);
	if (r < 0 && st.over_cap)
		budget_error(&bud, &st, err);
	free(bud.why);
	return r < 0 ? dhi_err_prefix(err, "`%s`", path) : 0;
}

/*
 * The name an import is kept under: `name` (the operator's --name) if given; else
 * the image's own, a reference as written (RepoTags' `nginx:1.27`, a layout's
 * full ref.name); a layout naming only a tag (skopeo's `oci:DIR:TAG`) is
 * localhost/<file name>:<tag>, as podman names what it did not pull. NULL when
 * nothing names it (`toolbox ls` shows `<none>`).
 */
static int name_import(const char *path, const char *own, const char *name, char **out,
		       struct dhi_err **err)
{
	dhi_autofree char *guess = NULL;
	struct tb_ref r;

	*out = NULL;
	if (!name && own && (strchr(own, '/') || strchr(own, ':'))) {
		/* the image's own name: one that does not parse names nothing */
		if (ref_parse(own, &r, err) < 0) {
			dhi_err_clear(err);
			return 0;
		}
		*out = ref_format(&r);
		ref_free(&r);
		return 0;
	}
	if (!name && own) {
		const char *base = strrchr(path, '/');
		char *dot;

		base = base && base[1] ? base + 1 : path;
		guess = xasprintf("localhost/%s", base);
		/* small.oci.tar → small */
		if ((dot = strchr(guess + 10, '.')))
			*dot = '\0';
		for (char *c = guess + 10; *c; c++)
			*c = isalnum((unsigned char)*c) || *c == '-' || *c == '_' ? (char)tolower(*c) : '-';
		dot = xasprintf("%s:%s", guess, own);
		free(guess);
		guess = dot;
		if (ref_parse(guess, &r, err) < 0) {
			dhi_err_clear(err);
			return 0; /* nothing sensible to call it: unnamed */
		}
		*out = ref_format(&r);
		ref_free(&r);
		return 0;
	}
	if (!name)
		return 0;
	if (ref_parse(name, &r, err) < 0)
		return -1; /* (checked before the import began) */
	*out = ref_format(&r);
	ref_free(&r);
	return 0;
}

int cache_import(const struct cache_opts *o, const char *path, const char *name,
		 char **digest_out, struct dhi_err **err)
{
	return import_archive(o, path, name, NULL, digest_out, err);
}

/* cache_import(), with the image a local store named (check_want()) when `want` */
static int import_archive(const struct cache_opts *o, const char *path, const char *name,
			  const char *want, char **digest_out, struct dhi_err **err)
{
	dhi_autoclose int cfd = -1, dirfd = -1, lockfd = -1;
	dhi_autofree char *tmpname = NULL, *refname = NULL, *canonical = NULL;
	struct import im = { .dirfd = -1 };
	struct reg_manifest m = { 0 };
	struct stat st;
	int rc = -1;

	if (name) {
		struct tb_ref r;

		if (ref_parse(name, &r, err) < 0)
			return dhi_err_prefix(err, "--name `%s`", name);
		ref_free(&r);
	}
	if (open_cache(o, &cfd, err) < 0)
		return -1;
	if (stat(path, &st) < 0)
		return dhi_err_set(err, errno, "cannot import `%s`", path);
	if (S_ISDIR(st.st_mode)) {
		dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dirfd < 0)
			return dhi_err_set(err, errno, "cannot open `%s`", path);
	} else if (unpack_archive(o, cfd, path, &tmpname, &dirfd, err) < 0) {
		goto out;
	}
	im.dirfd = dirfd;
	if (faccessat(dirfd, "index.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		if (import_oci(dirfd, want, &m, &refname, err) < 0)
			goto fail;
	} else if (faccessat(dirfd, "manifest.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		if (import_docker(dirfd, want, &im, &m, &refname, err) < 0)
			goto fail;
	} else {
		dhi_err_set(err, 0, "neither an OCI image layout (index.json) nor a docker-archive "
				    "(manifest.json)");
		goto fail;
	}
	if (lock_digest(cfd, m.digest, o->quiet, &lockfd, err) < 0)
		goto out;
	if (!entry_exists(cfd, m.digest)) {
		struct blobs b = { import_config, import_open, file_close, &im };

		if (build_entry(o, cfd, &b, &m, err) < 0)
			goto fail;
	}
	if (name_import(path, refname, name, &canonical, err) < 0)
		goto fail;
	if (canonical && write_ref(cfd, canonical, m.digest, err) < 0)
		goto out;
	if (!o->quiet)
		fprintf(stderr, "dhidebug: imported `%s` as %s%s%s\n", path,
			canonical ? canonical : "", canonical ? " " : "", m.digest);
	if (digest_out)
		*digest_out = xstrdup(m.digest);
	rc = 0;
	goto out;
fail:
	dhi_err_prefix(err, "cannot import `%s`", path);
out:
	if (tmpname) {
		struct dhi_err *e = NULL;

		if (layer_remove_at(cfd, tmpname, &e) < 0)
			dhi_err_clear(&e);
	}
	import_free(&im);
	reg_manifest_free(&m);
	return rc;
}
