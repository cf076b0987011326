// SPDX-License-Identifier: Apache-2.0
/* layer.c - unpack verified OCI layers with libarchive, never writing outside the root. */
#include "toolbox/layer.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/xalloc.h"
#include "common/path.h"

/* --- hashing --- */

struct layer_hash {
	EVP_MD_CTX *md;
};

struct layer_hash *layer_hash_new(void)
{
	struct layer_hash *h = xzalloc(sizeof(*h));

	h->md = EVP_MD_CTX_new();
	if (!h->md || EVP_DigestInit_ex(h->md, EVP_sha256(), NULL) != 1)
		abort(); /* out of memory, as xmalloc would */
	return h;
}

void layer_hash_update(struct layer_hash *h, const void *buf, size_t len)
{
	if (EVP_DigestUpdate(h->md, buf, len) != 1)
		abort();
}

char *layer_hash_end(struct layer_hash *h)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	char *out = xmalloc(7 + 64 + 1);

	if (EVP_DigestFinal_ex(h->md, md, &n) != 1 || n != 32)
		abort();
	memcpy(out, "sha256:", 7);
	for (unsigned int i = 0; i < n; i++) {
		out[7 + 2 * i] = "0123456789abcdef"[md[i] >> 4];
		out[7 + 2 * i + 1] = "0123456789abcdef"[md[i] & 15];
	}
	out[7 + 64] = '\0';
	EVP_MD_CTX_free(h->md);
	free(h);
	return out;
}

char *layer_sha256(const void *buf, size_t len)
{
	struct layer_hash *h = layer_hash_new();

	layer_hash_update(h, buf, len);
	return layer_hash_end(h);
}

/* --- the set of paths this layer created (an opaque dir keeps them) --- */

struct pathset {
	char **slot;
	size_t cap, n;
};

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static bool pathset_has(const struct pathset *s, const char *p)
{
	if (!s->cap)
		return false;
	for (size_t i = fnv1a(p) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
		if (!s->slot[i])
			return false;
		if (!strcmp(s->slot[i], p))
			return true;
	}
}

static void pathset_add(struct pathset *s, const char *p)
{
	if (pathset_has(s, p))
		return;
	if ((s->n + 1) * 2 > s->cap) {
		struct pathset bigger = { .cap = s->cap ? s->cap * 2 : 256 };

		bigger.slot = xzalloc(bigger.cap * sizeof(char *));
		for (size_t i = 0; i < s->cap; i++) {
			if (!s->slot[i])
				continue;
			for (size_t j = fnv1a(s->slot[i]) & (bigger.cap - 1);;
			     j = (j + 1) & (bigger.cap - 1)) {
				if (!bigger.slot[j]) {
					bigger.slot[j] = s->slot[i];
					break;
				}
			}
		}
		free(s->slot);
		bigger.n = s->n;
		*s = bigger;
	}
	for (size_t i = fnv1a(p) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
		if (!s->slot[i]) {
			s->slot[i] = xstrdup(p);
			s->n++;
			return;
		}
	}
}

static void pathset_free(struct pathset *s)
{
	for (size_t i = 0; i < s->cap; i++)
		free(s->slot[i]);
	free(s->slot);
	memset(s, 0, sizeof(*s));
}

/* --- removal, fd-relative, never following symlinks --- */

static int remove_children(int dirfd, struct dhi_err **err)
{
	DIR *d;
	struct dirent *de;
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return dhi_err_set(err, errno, "cannot open a directory to empty it");
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return dhi_err_set(err, errno, "cannot read a directory to empty it");
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (layer_remove_at(dirfd, de->d_name, err) < 0) {
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	return 0;
}

int layer_remove_at(int dirfd, const char *name, struct dhi_err **err)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		return dhi_err_set(err, errno, "cannot stat `%s`", name);
	}
	if (S_ISDIR(st.st_mode)) {
		dhi_autoclose int sub =
			openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

		if (sub < 0)
			return dhi_err_set(err, errno, "cannot open `%s`", name);
		if (remove_children(sub, err) < 0)
			return dhi_err_prefix(err, "`%s`", name);
		if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0)
			return dhi_err_set(err, errno, "cannot remove `%s`", name);
		return 0;
	}
	if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
		return dhi_err_set(err, errno, "cannot remove `%s`", name);
	return 0;
}

/* --- names --- */

/*
 * Cleans an archive path into "a/b/c" (no empty, `.` components). `..`
 * anywhere and absolute names are refused: a well-formed layer has neither,
 * and one that does is an attack on whoever unpacks it.
 */
static char *clean_path(const char *p, struct dhi_err **err)
{
	char *out, *o;
	const char *c = p;

	if (!p)
		return dhi_err_set(err, 0, "layer entry without a name"), NULL;
	if (p[0] == '/')
		return dhi_err_set(err, 0, "layer entry `%s` has an absolute name (refused)", p),
		       NULL;
	o = out = xmalloc(strlen(p) + 1);
	while (*c) {
		const char *e = strchr(c, '/');
		size_t n = e ? (size_t)(e - c) : strlen(c);

		if (n == 2 && c[0] == '.' && c[1] == '.') {
			free(out);
			return dhi_err_set(err, 0, "layer entry `%s` leaves the root with `..` (refused)",
					   p),
			       NULL;
		}
		if (n > 0 && !(n == 1 && c[0] == '.')) {
			if (o != out)
				*o++ = '/';
			memcpy(o, c, n);
			o += n;
		}
		c += n;
		if (*c == '/')
			c++;
	}
	*o = '\0';
	return out;
}

/*
 * Opens directory `dir` ("" = the root) inside rootfd, creating missing
 * components (0755, root-owned) one at a time; each lookup resolves in the root.
 */
static int open_dir_in_root(int rootfd, const char *dir, int *out, struct dhi_err **err)
{
	dhi_autofree char *prefix = NULL;
	dhi_autoclose int cur = -1;
	struct dhi_err *e = NULL;
	const char *c = dir;

	if (path_open_at(rootfd, *dir ? dir : ".", O_RDONLY | O_DIRECTORY, 0, out, &e) == 0)
		return 0;
	if (e->errnum != ENOENT) {
		dhi_err_clear(err);
		*err = e;
		return -1;
	}
	dhi_err_clear(&e);
	if (path_open_at(rootfd, ".", O_RDONLY | O_DIRECTORY, 0, &cur, err) < 0)
		return -1;
	prefix = xmalloc(strlen(dir) + 1);
	prefix[0] = '\0';
	while (*c) {
		const char *end = strchr(c, '/');
		size_t n = end ? (size_t)(end - c) : strlen(c);
		dhi_autofree char *comp = xstrndup(c, n);
		int next = -1;

		if (*prefix)
			strcat(prefix, "/");
		strncat(prefix, c, n);
		if (mkdirat(cur, comp, 0755) < 0 && errno != EEXIST)
			return dhi_err_set(err, errno, "cannot create directory `%s`", prefix);
		if (path_open_at(rootfd, prefix, O_RDONLY | O_DIRECTORY, 0, &next, err) < 0)
			return -1;
		dhi_close_reset(&cur);
		cur = next;
		c += n;
		if (*c == '/')
			c++;
	}
	*out = dhi_steal_fd(&cur);
	return 0;
}

static void split(char *path, const char **dir, const char **base)
{
	char *slash = strrchr(path, '/');

	if (slash) {
		*slash = '\0';
		*dir = path;
		*base = slash + 1;
	} else {
		*dir = "";
		*base = path;
	}
}

/* --- applying one entry --- */

struct unpack {
	int rootfd;
	struct archive *a;
	struct pathset created;
	struct layer_stats *st;
	const struct layer_want *w;
	const char *digest;	/* for messages */
};

/*
 * Takes `n` bytes of the unpacked budget before they are written: past the cap
 * nothing more is written, so a bomb fills no more than the cap of the disk.
 */
static int charge(struct unpack *u, unsigned long long n, struct dhi_err **err)
{
	if (u->w->max_unpacked && n > u->w->max_unpacked - u->st->unpacked) {
		u->st->over_cap = true;
		return dhi_err_set(err, 0, "layer `%.19s` unpacks to more than %llu bytes",
				   u->digest, u->w->max_unpacked);
	}
	u->st->unpacked += n;
	return 0;
}

/* One entry: its cost in bytes and in number. */
static int charge_entry(struct unpack *u, struct dhi_err **err)
{
	if (u->w->max_entries && u->st->headers >= u->w->max_entries) {
		u->st->over_cap = true;
		return dhi_err_set(err, 0, "layer `%.19s` holds more than %llu entries",
				   u->digest, u->w->max_entries);
	}
	u->st->headers++;
	return charge(u, LAYER_ENTRY_COST, err);
}

static int set_meta(int fd, struct archive_entry *e, bool is_link, int dirfd, const char *base,
		    struct dhi_err **err)
{
	struct timespec ts[2] = {
		{ .tv_sec = archive_entry_mtime(e), .tv_nsec = archive_entry_mtime_nsec(e) },
		{ .tv_sec = archive_entry_mtime(e), .tv_nsec = archive_entry_mtime_nsec(e) },
	};
	uid_t uid = (uid_t)archive_entry_uid(e);
	gid_t gid = (gid_t)archive_entry_gid(e);

	if (is_link) {
		if (fchownat(dirfd, base, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
			return dhi_err_set(err, errno, "cannot chown `%s`", base);
		(void)utimensat(dirfd, base, ts, AT_SYMLINK_NOFOLLOW);
		return 0;
	}
	/* chown first: it clears setuid and setgid bits that fchmod then sets */
	if (fchown(fd, uid, gid) < 0)
		return dhi_err_set(err, errno, "cannot chown `%s`", base);
	if (fchmod(fd, archive_entry_perm(e) & 07777) < 0)
		return dhi_err_set(err, errno, "cannot chmod `%s`", base);
	if (!S_ISDIR(archive_entry_filetype(e)))
		(void)futimens(fd, ts);
	return 0;
}

static int write_data(struct unpack *u, int fd, const char *name, struct dhi_err **err)
{
	const void *buf;
	size_t len;
	la_int64_t off;
	int r;

	while ((r = archive_read_data_block(u->a, &buf, &len, &off)) == ARCHIVE_OK) {
		const char *p = buf;

		if (charge(u, len, err) < 0)
			return -1;
		while (len > 0) {
			ssize_t w = pwrite(fd, p, len, off);

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return dhi_err_set(err, errno, "cannot write `%s`", name);
			p += w;
			len -= (size_t)w;
			off += w;
		}
	}
	if (r != ARCHIVE_EOF)
		return dhi_err_set(err, archive_errno(u->a), "cannot read `%s` from the layer: %s",
				   name, archive_error_string(u->a));
	return 0;
}

static int whiteout(struct unpack *u, const char *path, const char *dir, const char *base,
		    struct dhi_err **err)
{
	dhi_autoclose int dfd = -1;
	struct dhi_err *e = NULL;
	const char *victim = base + 4;

	/* the parent may not exist in the lower layers: then there is nothing to hide */
	if (path_open_at(u->rootfd, *dir ? dir : ".", O_RDONLY | O_DIRECTORY, 0, &dfd, &e) < 0) {
		dhi_err_clear(&e);
		return 0;
	}
	if (!strcmp(base, ".wh..wh..opq")) {
		DIR *d;
		struct dirent *de;
		int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (fd < 0 || !(d = fdopendir(fd))) {
			if (fd >= 0)
				close(fd);
			return dhi_err_set(err, errno, "cannot read `%s` for an opaque whiteout",
					   path);
		}
		while ((de = readdir(d))) {
			dhi_autofree char *child = NULL;

			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			child = *dir ? xasprintf("%s/%s", dir, de->d_name) : xstrdup(de->d_name);
			if (pathset_has(&u->created, child))
				continue;
			if (layer_remove_at(dfd, de->d_name, err) < 0) {
				closedir(d);
				return -1;
			}
		}
		closedir(d);
		return 0;
	}
	if (!*victim || !strcmp(victim, ".") || !strcmp(victim, ".."))
		return dhi_err_set(err, 0, "layer whiteout `%s` names `%s` (refused)", path, victim);
	return layer_remove_at(dfd, victim, err);
}

static int apply_entry(struct unpack *u, struct archive_entry *e, struct dhi_err **err)
{
	dhi_autofree char *path = clean_path(archive_entry_pathname(e), err);
	dhi_autofree char *created = NULL;
	dhi_autoclose int dfd = -1;
	dhi_autoclose int fd = -1;
	const char *dir, *base;
	const char *hardlink = archive_entry_hardlink(e);
	mode_t type = archive_entry_filetype(e);
	struct stat old;
	bool have_old;

	if (!path)
		return -1;
	if (!*path)
		return 0; /* "./": the root itself keeps the cache's owner and mode */
	created = xstrdup(path);
	split(path, &dir, &base);
	if (!strncmp(base, ".wh.", 4))
		return whiteout(u, created, dir, base, err);
	if (!hardlink && (type == AE_IFCHR || type == AE_IFBLK || type == AE_IFSOCK)) {
		u->st->skipped++; /* a toolbox has no business shipping device nodes */
		return 0;
	}
	if (open_dir_in_root(u->rootfd, dir, &dfd, err) < 0)
		return dhi_err_prefix(err, "layer entry `%s`", created);
	have_old = fstatat(dfd, base, &old, AT_SYMLINK_NOFOLLOW) == 0;
	if (have_old && !(S_ISDIR(old.st_mode) && type == AE_IFDIR && !hardlink)) {
		if (layer_remove_at(dfd, base, err) < 0)
			return dhi_err_prefix(err, "layer entry `%s`", created);
		have_old = false;
	}
	pathset_add(&u->created, created);
	u->st->entries++;

	if (hardlink) {
		dhi_autofree char *target = clean_path(hardlink, err);
		dhi_autoclose int tfd = -1;
		struct stat tst;

		if (!target)
			return -1;
		/* the target resolves inside the root; O_NOFOLLOW: a symlink is linked, not followed */
		if (path_open_at(u->rootfd, target, O_PATH | O_NOFOLLOW, 0, &tfd, err) < 0)
			return dhi_err_prefix(err, "hard link `%s`", created);
		if (fstat(tfd, &tst) < 0 || S_ISDIR(tst.st_mode))
			return dhi_err_set_kind(err, EPERM, "hard link `%s` to a directory (refused)",
					   created);
		if (linkat(tfd, "", dfd, base, AT_EMPTY_PATH) < 0)
			return dhi_err_set(err, errno, "cannot hard link `%s`", created);
		return 0;
	}
	switch (type) {
	case AE_IFREG:
		fd = openat(dfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return dhi_err_set(err, errno, "cannot create `%s`", created);
		if (write_data(u, fd, created, err) < 0)
			return -1;
		if (ftruncate(fd, archive_entry_size(e)) < 0)
			return dhi_err_set(err, errno, "cannot size `%s`", created);
		return set_meta(fd, e, false, dfd, base, err);
	case AE_IFDIR:
		if (!have_old && mkdirat(dfd, base, 0700) < 0)
			return dhi_err_set(err, errno, "cannot create directory `%s`", created);
		fd = openat(dfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return dhi_err_set(err, errno, "cannot open directory `%s`", created);
		return set_meta(fd, e, false, dfd, base, err);
	case AE_IFLNK:
		/* the link text is stored as is: it is only ever resolved inside the root */
		if (symlinkat(archive_entry_symlink(e) ? archive_entry_symlink(e) : "", dfd, base) <
		    0)
			return dhi_err_set(err, errno, "cannot create symlink `%s`", created);
		return set_meta(-1, e, true, dfd, base, err);
	case AE_IFIFO:
		if (mknodat(dfd, base, S_IFIFO | 0600, 0) < 0)
			return dhi_err_set(err, errno, "cannot create fifo `%s`", created);
		fd = openat(dfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fchownat(dfd, base, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e),
			     AT_SYMLINK_NOFOLLOW) < 0 ||
		    fchmodat(dfd, base, archive_entry_perm(e) & 0777, 0) < 0)
			return dhi_err_set(err, errno, "cannot set the owner of `%s`", created);
		return 0;
	default:
		u->st->skipped++;
		return 0;
	}
}

/* --- the stream: hashed as libarchive reads it --- */

struct reader {
	struct layer_src *src;
	struct layer_hash *hash;
	struct dhi_err *err;
	const struct layer_want *w;
	bool eof;
	unsigned long long bytes;
	void (*progress)(void *arg, unsigned long long bytes);
	void *arg;
};

static ssize_t reader_next(struct reader *r, const void **buf)
{
	ssize_t n;

	if (r->eof)
		return 0;
	n = r->src->read(r->src->ctx, buf, &r->err);
	if (n < 0)
		return -1;
	if (n == 0) {
		r->eof = true;
		return 0;
	}
	/* the descriptor says how long the blob is: no time limit stops a server that goes on */
	if (r->w->size >= 0 && (unsigned long long)n > (unsigned long long)r->w->size - r->bytes) {
		dhi_err_set(&r->err, 0, "blob `%s` is longer than the %lld bytes its descriptor says "
					"(refused)",
			    r->w->digest ? r->w->digest : "archive", r->w->size);
		return -1;
	}
	layer_hash_update(r->hash, *buf, (size_t)n);
	r->bytes += (unsigned long long)n;
	if (r->progress)
		r->progress(r->arg, r->bytes);
	return n;
}

static la_ssize_t archive_read_cb(struct archive *a, void *p, const void **buf)
{
	struct reader *r = p;
	ssize_t n = reader_next(r, buf);

	if (n < 0)
		archive_set_error(a, EIO, "download failed");
	return n;
}

int layer_unpack_at(int rootfd, struct layer_src *src, const struct layer_want *w,
		    void (*progress)(void *arg, unsigned long long bytes), void *arg,
		    struct layer_stats *st, struct dhi_err **err)
{
	const char *digest = w->digest;
	struct reader r = { .src = src, .w = w, .progress = progress, .arg = arg };
	struct unpack u = { .rootfd = rootfd, .st = st, .w = w,
			    .digest = digest ? digest : "archive" };
	struct archive_entry *e;
	dhi_autofree char *got = NULL;
	int rc = 0, ar;

	memset(st, 0, sizeof(*st));
	r.hash = layer_hash_new();
	u.a = archive_read_new();
	if (!u.a)
		abort();
	/* only what OCI layers use: less parser for hostile bytes to reach */
	archive_read_support_filter_gzip(u.a);
	archive_read_support_filter_zstd(u.a);
	archive_read_support_filter_none(u.a);
	archive_read_support_format_tar(u.a);
	if (archive_read_open(u.a, &r, NULL, archive_read_cb, NULL) != ARCHIVE_OK) {
		rc = dhi_err_set(err, archive_errno(u.a), "cannot read layer `%s`: %s",
				 digest ? digest : "archive", archive_error_string(u.a));
		goto out;
	}
	while ((ar = archive_read_next_header(u.a, &e)) == ARCHIVE_OK || ar == ARCHIVE_WARN) {
		if (charge_entry(&u, err) < 0 || apply_entry(&u, e, err) < 0) {
			rc = dhi_err_prefix(err, "layer `%.19s`", digest ? digest : "archive");
			goto out;
		}
	}
	if (ar != ARCHIVE_EOF) {
		rc = dhi_err_set(err, archive_errno(u.a), "cannot read layer `%s`: %s",
				 digest ? digest : "archive", archive_error_string(u.a));
		goto out;
	}
out:
	/*
	 * The digest covers the whole blob, including what follows the tar's end.
	 * It is read to its end even after an error: a tampered blob is reported
	 * as what it is, not as whatever the parser made of the changed bytes.
	 */
	while (!r.err) {
		const void *buf;

		if (reader_next(&r, &buf) <= 0)
			break;
	}
	archive_read_free(u.a);
	pathset_free(&u.created);
	if (r.err) {
		/* a failed download explains any error libarchive reported after it */
		dhi_err_clear(err);
		*err = r.err;
		rc = -1;
	}
	got = layer_hash_end(r.hash);
	st->bytes = r.bytes;
	if (!r.err && digest && strcmp(got, digest) != 0) {
		dhi_err_clear(err);
		rc = dhi_err_set(err, 0, "digest mismatch for layer: expected `%s`, got `%s`",
				 digest, got);
	}
	return rc;
}
