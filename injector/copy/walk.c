// SPDX-License-Identifier: Apache-2.0
/* walk.c - the copy engine: a source tree, fd by fd, streamed and hashed into a sink. */
#include "injector/copy/walk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/path.h"
#include "common/sha256.h"
#include "common/syscalls.h"
#include "common/xalloc.h"

#define CHUNK (256u << 10)
#define LINKS_MAX (1u << 20)	/* files with several links remembered (then: copies) */

/*
 * The hasher: a thread that hashes what sendfile placed while the next chunk
 * is copied, so that the copy (the kernel's work) and the digest (ours) take
 * the time of the longer of the two rather than of both. One job at a time:
 * the walk hands over a chunk once the previous one is hashed. The thread
 * touches only the job's digest context and reads the job's file, our own
 * private one (an O_TMPFILE: nobody else can truncate it under the mapping).
 */
struct hasher {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool started, busy, quit;
	struct dhi_sha256 *ctx;
	int fd;
	uint64_t off;
	size_t len;
	const char *what;
	struct dhi_err *err;	/* the first failure, for the walk to take */
	unsigned char *buf;
};

static void hasher_stop(struct hasher *hs);

/* A file with more than one link, as first copied: its source inode, where it went. */
struct link_entry {
	dev_t dev;
	ino_t ino;
	char *rel;		/* from the top (the sink's struct copy_first) */
	char *path;		/* its record's `path` */
	dev_t placed_dev;	/* what the directory sink placed */
	ino_t placed_ino;
	char hex[65];		/* its SHA-256, which every other name of it has too */
};

/* The entries, and an open-addressing index of them by inode (slots hold index + 1). */
struct copy_links {
	struct hasher hasher;	/* (the walk's private state lives here, with the links) */
	struct link_entry *v;
	size_t n, cap;
	size_t *slot;
	size_t nslots;		/* a power of two, at least twice cap */
};

static size_t slot_of(const struct copy_links *l, dev_t dev, ino_t ino)
{
	uint64_t h = ((uint64_t)ino * 0x9e3779b97f4a7c15ull) ^ (uint64_t)dev;

	return (size_t)(h ^ (h >> 29)) & (l->nslots - 1);
}

static struct link_entry *links_find(struct copy_links *l, const struct stat *st)
{
	if (!l || !l->nslots)
		return NULL;
	for (size_t i = slot_of(l, st->st_dev, st->st_ino); l->slot[i]; i = (i + 1) & (l->nslots - 1)) {
		struct link_entry *e = &l->v[l->slot[i] - 1];

		if (e->dev == st->st_dev && e->ino == st->st_ino)
			return e;
	}
	return NULL;
}

static void links_index(struct copy_links *l, size_t k)
{
	size_t i = slot_of(l, l->v[k].dev, l->v[k].ino);

	while (l->slot[i])
		i = (i + 1) & (l->nslots - 1);
	l->slot[i] = k + 1;
}

static void links_add(struct copy_walk *w, const struct stat *st, const char *rel,
		      const char *path, const char hex[65])
{
	struct copy_links *l = w->links;

	if (l->n == LINKS_MAX)
		return;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
		free(l->slot);
		l->nslots = 2 * l->cap;
		l->slot = xzalloc(l->nslots * sizeof(*l->slot));
		for (size_t k = 0; k < l->n; k++)
			links_index(l, k);
	}
	l->v[l->n] = (struct link_entry){ .dev = st->st_dev, .ino = st->st_ino,
					  .rel = xstrdup(rel), .path = xstrdup(path),
					  .placed_dev = w->sink->placed_dev,
					  .placed_ino = w->sink->placed_ino };
	memcpy(l->v[l->n].hex, hex, 65);
	links_index(l, l->n);
	l->n++;
}

static void links_free(struct copy_links *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].rel);
		free(l->v[i].path);
	}
	free(l->v);
	free(l->slot);
	hasher_stop(&l->hasher);
}

static const unsigned char zeros[64 << 10];

/* One entry being copied: its paths on both sides. */
struct at {
	const char *name;	/* in the sink's parent */
	const char *rel;	/* from the top (messages, tar members) */
	const char *src;	/* on the source's side */
	const char *dst;	/* on the destination's side */
};

struct hashing {
	struct dhi_sha256 *ctx;
	struct copy_sink *sink;
	void *file;
	uint64_t off;
};

static const char *cside(const struct copy_walk *w, const struct at *a)
{
	return w->src_is_container ? a->src : a->dst;
}

static const char *hside(const struct copy_walk *w, const struct at *a)
{
	return w->src_is_container ? a->dst : a->src;
}

/* <buf, len> hashed and given to the sink at the running offset */
static int emit(struct hashing *h, const void *buf, size_t len, struct dhi_err **err)
{
	dhi_sha256_update(h->ctx, buf, len);
	if (h->sink->ops->file_data(h->sink, h->file, h->off, buf, len, err) < 0)
		return -1;
	h->off += len;
	return 0;
}

/* `len` bytes of hole: hashed as zeros; given to a dense sink as zeros, skipped otherwise */
static int hole(struct hashing *h, uint64_t len, struct dhi_err **err)
{
	while (len > 0) {
		size_t n = len > sizeof(zeros) ? sizeof(zeros) : (size_t)len;

		if (h->sink->dense) {
			if (emit(h, zeros, n, err) < 0)
				return -1;
		} else {
			dhi_sha256_update(h->ctx, zeros, n);
			h->off += n;
		}
		len -= n;
	}
	return 0;
}

/* [h->off, end) of `fd` by pread (less when it shrank) */
static int copy_range(struct hashing *h, int fd, uint64_t end, unsigned char *buf,
		      const char *rel, struct dhi_err **err)
{
	while (h->off < end) {
		size_t want = end - h->off > CHUNK ? CHUNK : (size_t)(end - h->off);
		ssize_t n = pread(fd, buf, want, (off_t)h->off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return dhi_err_set(err, errno, "cannot read `%s`", rel);
		if (n == 0)
			break;
		if (emit(h, buf, (size_t)n, err) < 0)
			return -1;
	}
	return 0;
}

#define SENDFILE_CHUNK (2u << 20)

/* Hashes <off, len> of `fd` (our own file, private until placed): mapped, else read back. */
static int hash_back(struct dhi_sha256 *ctx, int fd, uint64_t off, size_t len, unsigned char *buf,
		     const char *what, struct dhi_err **err)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t start = off & ~((uint64_t)page - 1);
	size_t span = len + (size_t)(off - start);
	void *m = mmap(NULL, span, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, (off_t)start);

	if (m != MAP_FAILED) {
		dhi_sha256_update(ctx, (const unsigned char *)m + (off - start), len);
		munmap(m, span);
		return 0;
	}
	while (len > 0) {
		ssize_t n = fd_pread_full(fd, buf, len > CHUNK ? CHUNK : len, (off_t)off);

		if (n <= 0)
			return dhi_err_set(err, n < 0 ? errno : EIO, "cannot read back `%s`", what);
		dhi_sha256_update(ctx, buf, (size_t)n);
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

static void *hasher_main(void *arg)
{
	struct hasher *hs = arg;

	pthread_mutex_lock(&hs->mu);
	for (;;) {
		while (!hs->busy && !hs->quit)
			pthread_cond_wait(&hs->cv, &hs->mu);
		if (!hs->busy && hs->quit)
			break;
		pthread_mutex_unlock(&hs->mu);
		{
			struct dhi_err *e = NULL;

			hash_back(hs->ctx, hs->fd, hs->off, hs->len, hs->buf, hs->what, &e);
			pthread_mutex_lock(&hs->mu);
			if (e && !hs->err)
				hs->err = e;
			else
				dhi_err_clear(&e);
		}
		hs->busy = false;
		pthread_cond_broadcast(&hs->cv);
	}
	pthread_mutex_unlock(&hs->mu);
	return NULL;
}

/* Waits for the job in hand; -1 with *err when a job failed (its error). */
static int hasher_wait(struct hasher *hs, struct dhi_err **err)
{
	int r = 0;

	pthread_mutex_lock(&hs->mu);
	while (hs->busy)
		pthread_cond_wait(&hs->cv, &hs->mu);
	if (hs->err) {
		*err = hs->err;
		hs->err = NULL;
		r = -1;
	}
	pthread_mutex_unlock(&hs->mu);
	return r;
}

/* Hands over <off, len> of `fd` to hash into `ctx`; 1 when there is no thread (hash here). */
static int hasher_post(struct hasher *hs, struct dhi_sha256 *ctx, int fd, uint64_t off, size_t len,
		       const char *what)
{
	if (!hs->started) {
		pthread_mutex_init(&hs->mu, NULL);
		pthread_cond_init(&hs->cv, NULL);
		hs->buf = xmalloc(CHUNK);
		if (pthread_create(&hs->th, NULL, hasher_main, hs) != 0) {
			pthread_mutex_destroy(&hs->mu);
			pthread_cond_destroy(&hs->cv);
			free(hs->buf);
			hs->buf = NULL;
			return 1;
		}
		hs->started = true;
	}
	pthread_mutex_lock(&hs->mu);
	hs->ctx = ctx;
	hs->fd = fd;
	hs->off = off;
	hs->len = len;
	hs->what = what;
	hs->busy = true;
	pthread_cond_broadcast(&hs->cv);
	pthread_mutex_unlock(&hs->mu);
	return 0;
}

static void hasher_stop(struct hasher *hs)
{
	if (!hs->started)
		return;
	pthread_mutex_lock(&hs->mu);
	hs->quit = true;
	pthread_cond_broadcast(&hs->cv);
	pthread_mutex_unlock(&hs->mu);
	pthread_join(hs->th, NULL);
	pthread_mutex_destroy(&hs->mu);
	pthread_cond_destroy(&hs->cv);
	dhi_err_clear(&hs->err);
	free(hs->buf);
	memset(hs, 0, sizeof(*hs));
}

/*
 * A dense file into a sink that gives its fd: copied in the kernel
 * (sendfile: no trip through our memory), and what landed in our file is
 * hashed (by the hasher, one chunk behind the copy), so the digest is of
 * exactly the bytes placed. 1 when sendfile cannot do it here (nothing
 * copied yet): the caller reads and writes instead.
 */
static int copy_kernel(struct hashing *h, struct hasher *hs, int in, int out, uint64_t size,
		       unsigned char *buf, const char *what, struct dhi_err **err)
{
	off_t in_off = 0;
	int r = 0;

	if (lseek(out, 0, SEEK_SET) < 0)
		return 1;
	/* the size it was found with: what it grows by meanwhile is not followed */
	while (h->off < size) {
		size_t want = size - h->off > SENDFILE_CHUNK ? SENDFILE_CHUNK
							      : (size_t)(size - h->off);
		ssize_t n = sendfile(out, in, &in_off, want);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && h->off == 0 && (errno == EINVAL || errno == ENOSYS ||
					     errno == EOPNOTSUPP))
			return 1;
		if (n < 0) {
			r = dhi_err_set(err, errno, "cannot copy `%s`", what);
			break;
		}
		if (n == 0)
			break;
		/* the previous chunk is hashed before the context takes this one */
		if (hasher_wait(hs, err) < 0) {
			r = -1;
			break;
		}
		if (hasher_post(hs, h->ctx, out, h->off, (size_t)n, what) == 1 &&
		    hash_back(h->ctx, out, h->off, (size_t)n, buf, what, err) < 0) {
			r = -1;
			break;
		}
		h->off += (uint64_t)n;
	}
	/* the last chunk hashed (or abandoned) before the caller finishes the digest */
	if (hasher_wait(hs, r < 0 ? &(struct dhi_err *){ NULL } : err) < 0 && r == 0)
		r = -1;
	return r;
}

/* Data and holes of a sparse file, holes left as holes in the sink. */
static int copy_sparse(struct hashing *h, int fd, uint64_t size, unsigned char *buf,
		       const char *rel, struct dhi_err **err)
{
	while (h->off < size) {
		off_t data = lseek(fd, (off_t)h->off, SEEK_DATA), end;

		if (data < 0 && errno == ENXIO)
			return hole(h, size - h->off, err);
		if (data < 0)	/* no SEEK_DATA here: all of it is data */
			return copy_range(h, fd, size, buf, rel, err);
		if (hole(h, (uint64_t)data - h->off, err) < 0)
			return -1;
		end = lseek(fd, data, SEEK_HOLE);
		if (end < 0)
			end = (off_t)size;
		if ((uint64_t)end > size)
			end = (off_t)size;
		if (copy_range(h, fd, (uint64_t)end, buf, rel, err) < 0)
			return -1;
		if (h->off < (uint64_t)end)	/* it shrank */
			break;
	}
	return 0;
}

#define XATTR_LIST_MAX_ (64u << 10)
#define XATTR_VALUE_MAX (64u << 10)

/*
 * -a: the `user.` extended attributes of `fd` onto the sink's `handle`. Only
 * those: security.* (file capabilities, SELinux labels), trusted.* and
 * system.* (ACLs) would carry a container's privileges onto the host, or the
 * host's into a container. One that the destination cannot take is said,
 * not fatal, as cp -a does. *names gets the names kept (a JSON array).
 */
static int copy_xattrs(struct copy_walk *w, int fd, void *handle, bool is_dir,
		       const struct at *a, json_t **names, struct dhi_err **err)
{
	dhi_autofree char *list = xmalloc(XATTR_LIST_MAX_);
	dhi_autofree char *value = xmalloc(XATTR_VALUE_MAX);
	ssize_t n = flistxattr(fd, list, XATTR_LIST_MAX_);

	*names = NULL;
	if (!w->sink->archive || !w->sink->ops->xattr || n <= 0)
		return 0;
	for (char *p = list; p < list + n; p += strlen(p) + 1) {
		struct dhi_err *e = NULL;
		ssize_t len;

		if (strncmp(p, "user.", 5) != 0)
			continue;
		len = fgetxattr(fd, p, value, XATTR_VALUE_MAX);
		if (len < 0)
			continue;	/* removed since it was listed, or larger than we take */
		if (w->sink->ops->xattr(w->sink, handle, is_dir, p, value, (size_t)len, &e) < 0) {
			if (!w->quiet) {
				dhi_autofree char *why = dhi_err_string(e);
				dhi_autofree char *path = dhi_printable(a->dst);

				fprintf(stderr, "dhidebug: cp: notice: `%s`: %s\n", path, why);
			}
			dhi_err_clear(&e);
			continue;
		}
		if (!*names)
			*names = json_array();
		if (json_array_append_new(*names, json_string(p)) < 0)
			json_array_append_new(*names, json_string("?"));
	}
	(void)err;
	return 0;
}

static void hex_of(struct dhi_sha256 *ctx, char out[65])
{
	unsigned char md[32];

	dhi_sha256_final(ctx, md);
	dhi_sha256_hex(md, out);
}

/* A whole /proc file in memory: a sized sink needs its length, which stat says is 0. */
static int read_whole(int fd, const char *rel, unsigned char **out, size_t *len,
		      struct dhi_err **err)
{
	char *buf = NULL;

	(void)rel;
	if (fd_read_file(fd, COPY_PROC_MAX, &buf, len, err) < 0)
		return -1;
	*out = (unsigned char *)buf;
	return 0;
}

/*
 * A regular file. 1 when it could not be read and is skipped instead (a /proc
 * file that refuses reading: mem, pagemap, clear_refs), 0 when copied.
 */
static int copy_file(struct copy_walk *w, int pathfd, void *parent, const struct at *a,
		     const struct stat *st, unsigned char *buf, char hexout[65],
		     struct dhi_err **err)
{
	dhi_autoclose int fd = -1;
	struct copy_sink *s = w->sink;
	struct dhi_sha256 md;
	struct hashing h = { .sink = s };
	struct statfs sfs;
	struct stat now;
	unsigned char *whole = NULL;
	size_t wlen = 0;
	bool is_proc, sparse, grew = false;
	struct stat after;
	json_t *xattrs = NULL;
	char hex[65] = "";
	int r;

	if (fd_reopen_regular(pathfd, a->src, 0, &fd, &now, err) < 0)
		return -1;
	/*
	 * Its logical size, capped before anything is read (attack_r4 finding
	 * 4): a hole of 4 EiB costs nothing to make and would be hashed as
	 * zeros (or written as zeros into a tar stream) for ever.
	 */
	{
		uint64_t cap = w->max_size ? w->max_size : COPY_MAX_SIZE_DEFAULT;

		if ((uint64_t)now.st_size > cap)
			return dhi_err_set(err, 0, "its size, %llu bytes, is over --max-size (%llu "
					   "bytes)", (unsigned long long)now.st_size,
					   (unsigned long long)cap), 1;
	}
	/*
	 * A /proc file says its size is 0 and may have no end (pagemap is the
	 * address space's): read whole, up to COPY_PROC_MAX, or skipped.
	 */
	is_proc = fstatfs(fd, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC;
	/* (as a file of size 0 elsewhere may hold more: sysfs, debugfs; both bounded) */
	if ((is_proc || now.st_size == 0) &&
	    read_whole(fd, a->src, &whole, &wlen, err) < 0)
		return is_proc ? 1 : -1;
	dhi_sha256_init(&md);
	h.ctx = &md;
	/* a tar stream's attributes go in the member's header: before it */
	if (s->xattrs_first)
		copy_xattrs(w, fd, NULL, false, a, &xattrs, err);
	r = s->ops->file_begin(s, parent, a->name, a->rel, st,
			       whole ? wlen : (uint64_t)now.st_size, &h.file, err);
	if (r == 0 && whole) {
		r = wlen ? emit(&h, whole, wlen, err) : 0;
	} else if (r == 0) {
		uint64_t size = (uint64_t)now.st_size;
		int ofd;

		sparse = !s->dense && !is_proc && size > 0 &&
			 (uint64_t)now.st_blocks * 512 < size;
		ofd = !sparse && s->ops->file_fd ? s->ops->file_fd(s, h.file) : -1;
		r = 1;
		/*
		 * Exactly the size fstat gave: a file the container grows while it
		 * is read (attack_r4 finding 3) would fill the destination's file
		 * system. Its growth is recorded ("grew"), not followed.
		 */
		if (ofd >= 0)
			r = copy_kernel(&h, &w->links->hasher, fd, ofd, size, buf, a->src, err);
		if (r == 1 && sparse)
			r = copy_sparse(&h, fd, size, buf, a->src, err);
		else if (r == 1)
			r = copy_range(&h, fd, size, buf, a->src, err);
		/* a sized member that shrank while it was read is padded, and so hashed */
		if (r == 0 && s->sized && h.off < size)
			r = hole(&h, size - h.off, err);
	}
	free(whole);
	grew = r == 0 && !is_proc && fstat(fd, &after) == 0 && after.st_size > now.st_size;
	if (r == 0 && h.file && !s->xattrs_first)
		r = copy_xattrs(w, fd, h.file, false, a, &xattrs, err);
	if (h.file) {
		int e = s->ops->file_end(s, h.file, r == 0, h.off, st, r == 0 ? err : &(struct dhi_err *){ NULL });

		if (r == 0)
			r = e;
	}
	if (r == 0)
		hex_of(h.ctx, hex);
	if (r < 0) {
		json_decref(xattrs);
		return -1;
	}
	memcpy(hexout, hex, sizeof(hex));
	return custody_file(w->custody,
			    &(struct custody_entry){ .path = cside(w, a), .host_path = hside(w, a),
						     .st = st, .size = h.off, .sha256 = hex,
						     .xattrs = xattrs, .grew = grew },
			    err);
}

static int copy_link(struct copy_walk *w, int pathfd, void *parent, const struct at *a,
		     const struct stat *st, struct dhi_err **err)
{
	char target[PATH_MAX + 1];
	ssize_t n = readlinkat(pathfd, "", target, PATH_MAX);

	if (n < 0)
		return dhi_err_set(err, errno, "cannot read the symlink `%s`", a->src);
	target[n] = '\0';
	if (w->sink->ops->symlink(w->sink, parent, a->name, a->rel, target, st, err) < 0)
		return -1;
	return custody_file(w->custody,
			    &(struct custody_entry){ .path = cside(w, a), .host_path = hside(w, a),
						     .st = st, .link = target },
			    err);
}

static int copy_entry(struct copy_walk *w, int pathfd, void *parent, const struct at *a,
		      int depth, unsigned char *buf, struct dhi_err **err);
static int copy_regular(struct copy_walk *w, int pathfd, void *parent, const struct at *a,
			const struct stat *st, unsigned char *buf, struct dhi_err **err);

static int copy_dir(struct copy_walk *w, int pathfd, void *parent, const struct at *a,
		    const struct stat *st, int depth, unsigned char *buf, struct dhi_err **err)
{
	int fd;
	DIR *d;
	void *dh = NULL;
	struct dirent *de;
	int r = 0;

	if (depth >= COPY_MAX_DEPTH)
		return dhi_err_set(err, 0, "`%s`: more than %d directory levels", a->src,
				   COPY_MAX_DEPTH);
	/* the pinned directory itself, readable: "." of an O_PATH fd is the same inode */
	fd = openat(pathfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return dhi_err_set(err, errno, "cannot open the directory `%s`", a->src);
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return dhi_err_set(err, errno, "cannot read the directory `%s`", a->src);
	}
	{
		json_t *xattrs = NULL;

		/* a tar stream's attributes go in the member's header: before it */
		if (w->sink->xattrs_first)
			copy_xattrs(w, dirfd(d), NULL, true, a, &xattrs, err);
		if (w->sink->ops->dir_begin(w->sink, parent, a->name, a->rel, st, &dh, err) < 0) {
			json_decref(xattrs);
			closedir(d);
			return -1;
		}
		if (!w->sink->xattrs_first)
			copy_xattrs(w, dirfd(d), dh, true, a, &xattrs, err);
		r = custody_file(w->custody,
				 &(struct custody_entry){ .path = cside(w, a),
							  .host_path = hside(w, a), .st = st,
							  .xattrs = xattrs },
				 err);
	}
	for (errno = 0; r == 0 && (de = readdir(d)); errno = 0) {
		struct open_how how = { .flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
					.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
						   RESOLVE_NO_MAGICLINKS };
		dhi_autofree char *rel = NULL, *src = NULL, *dst = NULL;
		dhi_autoclose int child = -1;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		rel = path_join(a->rel, de->d_name);
		src = path_join(a->src, de->d_name);
		dst = path_join(a->dst, de->d_name);
		child = dhi_sys_openat2(dirfd(d), de->d_name, &how, sizeof(how));
		if (child < 0 && errno == ENOENT)
			continue;	/* removed since it was listed */
		if (child < 0) {
			r = dhi_err_set(err, errno, "cannot open `%s`", src);
			break;
		}
		r = copy_entry(w, child, dh,
			       &(struct at){ .name = de->d_name, .rel = rel, .src = src, .dst = dst },
			       depth + 1, buf, err);
	}
	if (r == 0 && errno)
		r = dhi_err_set(err, errno, "cannot read the directory `%s`", a->src);
	closedir(d);
	if (r == 0)
		return w->sink->ops->dir_end(w->sink, dh, st, err);
	w->sink->ops->dir_end(w->sink, dh, st, &(struct dhi_err *){ NULL });
	return r;
}

static int skip(struct copy_walk *w, const struct at *a, const struct stat *st, const char *why,
		struct dhi_err **err)
{
	if (!w->quiet) {
		dhi_autofree char *p = dhi_printable(a->src);

		fprintf(stderr, "dhidebug: cp: skipped `%s`: %s\n", p, why);
	}
	return custody_skip(w->custody, cside(w, a), st, why, err);
}

static int copy_entry(struct copy_walk *w, int pathfd, void *parent, const struct at *a,
		      int depth, unsigned char *buf, struct dhi_err **err)
{
	struct stat st;

	if (fstatat(pathfd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
		return dhi_err_set(err, errno, "cannot stat `%s`", a->src);
	switch (st.st_mode & S_IFMT) {
	case S_IFDIR:
		return copy_dir(w, pathfd, parent, a, &st, depth, buf, err);
	case S_IFLNK:
		return copy_link(w, pathfd, parent, a, &st, err);
	case S_IFREG:
		return copy_regular(w, pathfd, parent, a, &st, buf, err);
	default: {
		dhi_autofree char *why = xasprintf("%s is not copied", fd_mode_name(st.st_mode));

		return skip(w, a, &st, why, err);
	}
	}
}

/*
 * A regular file: a hard link to its first copy when the walk has copied it
 * under another name already (and the sink can link it), else its bytes.
 */
static int copy_regular(struct copy_walk *w, int pathfd, void *parent, const struct at *a,
			const struct stat *st, unsigned char *buf, struct dhi_err **err)
{
	struct link_entry *first = NULL;
	char hex[65] = "";
	int r;

	if (st->st_nlink > 1 && w->sink->ops->hardlink)
		first = links_find(w->links, st);
	if (first) {
		r = w->sink->ops->hardlink(w->sink, parent, a->name, a->rel,
					   &(struct copy_first){ .rel = first->rel,
								 .dev = first->placed_dev,
								 .ino = first->placed_ino },
					   st, err);
		if (r < 0)
			return -1;
		if (r == 0)
			return custody_file(w->custody,
					    &(struct custody_entry){ .path = cside(w, a),
								     .host_path = hside(w, a),
								     .st = st, .sha256 = first->hex,
								     .hardlink = first->path },
					    err);
		/* (it cannot be a link there: a copy of its own) */
	}
	w->sink->keep_placed = st->st_nlink > 1 && !first;
	w->sink->placed_dev = 0;
	w->sink->placed_ino = 0;
	r = copy_file(w, pathfd, parent, a, st, buf, hex, err);
	w->sink->keep_placed = false;
	if (r == 0 && st->st_nlink > 1 && !first && w->sink->ops->hardlink)
		links_add(w, st, a->rel, cside(w, a), hex);
	if (r == 1) {
		dhi_autofree char *why = dhi_err_string(*err);

		dhi_err_clear(err);
		return skip(w, a, st, why, err);
	}
	return r;
}

int copy_walk_run(struct copy_walk *w, int srcfd, void *parent, const char *name,
		  struct dhi_err **err)
{
	dhi_autofree unsigned char *buf = xmalloc(CHUNK);
	struct copy_links links = { 0 };
	int r;

	w->links = &links;
	r = copy_entry(w, srcfd, parent,
		       &(struct at){ .name = name, .rel = name,
				     .src = w->src_is_container ? w->cside : w->hside,
				     .dst = w->src_is_container ? w->hside : w->cside },
		       0, buf, err);
	if (r == 0 && w->sink->ops->close)
		r = w->sink->ops->close(w->sink, err);
	/* the names in it are the source's: they reach a terminal escaped */
	if (r < 0 && *err && (*err)->msg) {
		char *shown = dhi_printable((*err)->msg);

		free((*err)->msg);
		(*err)->msg = shown;
	}
	links_free(&links);
	w->links = NULL;
	return r;
}
