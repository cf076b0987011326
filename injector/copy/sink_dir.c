// SPDX-License-Identifier: Apache-2.0
/* sink_dir.c - a copy's entries into a directory, fd-relative, complete or not at all. */
#include "injector/copy/sink.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/syscalls.h"
#include "common/xalloc.h"
#include "injector/copy/idmap.h"

struct dir_node {
	int fd;
	bool owned;	/* the top's parent is borrowed */
};

struct file_node {
	int fd;
	int parent;
	char *name;
	char *rel;
	char *tmpname;	/* a dot-temp name; NULL for an O_TMPFILE */
};

struct dir_priv {
	struct dir_node top;
	const struct copy_idmap *idmap;	/* NULL: none */
};

/* `name` below `dirfd`, never through a symlink nor out of it. */
static int open_beneath(int dirfd, const char *name, int flags)
{
	struct open_how how = { .flags = (uint64_t)(flags | O_CLOEXEC | O_NOFOLLOW),
				.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
					   RESOLVE_NO_MAGICLINKS };

	return dhi_sys_openat2(dirfd, name, &how, sizeof(how));
}

/* ".<name>.dhicp-<random>": a name beside `name` that nothing else uses. */
static char *temp_name(const char *name)
{
	unsigned int r = 0;

	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (unsigned int)getpid() ^ (unsigned int)rand();
	return xasprintf(".%.200s.dhicp-%08x", name, r);
}

/* Puts the complete `tmp` (a dot-temp name) at `name`: replacing only with --force. */
static int place(int dirfd, const char *tmp, const char *name, bool force)
{
	if (force)
		return renameat(dirfd, tmp, dirfd, name);
	if (renameat2(dirfd, tmp, dirfd, name, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	/* a filesystem without RENAME_NOREPLACE: a link cannot replace either */
	if (linkat(dirfd, tmp, dirfd, name, 0) < 0)
		return -1;
	unlinkat(dirfd, tmp, 0);
	return 0;
}

static int exists_error(const char *rel, struct dhi_err **err)
{
	return dhi_err_set(err, 0, "`%s` exists (--force replaces it)", rel);
}

static void set_times(int fd, const struct stat *st)
{
	struct timespec ts[2] = { st->st_atim, st->st_mtim };

	futimens(fd, ts);
}

int sink_dir_owner(struct copy_sink *s, const struct stat *st, const char *rel, uid_t *uid,
		   gid_t *gid, bool *set, struct dhi_err **err)
{
	const struct copy_idmap *m = ((struct dir_priv *)s->priv)->idmap;
	uint32_t u = s->archive ? st->st_uid : 0, g = s->archive ? st->st_gid : 0;

	*set = !s->as_user && (s->archive || (m && m->mapped));
	if (s->as_user) {
		*uid = (uid_t)-1;
		*gid = (gid_t)-1;
		return 0;
	}
	if (m && m->mapped) {
		if (!copy_idmap_to_host(m->uid, m->nuid, u, &u))
			return dhi_err_set(err, 0, "`%s`: uid %u has no mapping in the container's "
					   "user namespace", rel, (unsigned)u);
		if (!copy_idmap_to_host(m->gid, m->ngid, g, &g))
			return dhi_err_set(err, 0, "`%s`: gid %u has no mapping in the container's "
					   "user namespace", rel, (unsigned)g);
	}
	*uid = u;
	*gid = g;
	return 0;
}

/* mode, owner (-a, or a container's id maps: sink_dir_owner) and times (-a) on an fd of it */
static int set_meta(struct copy_sink *s, int fd, const char *rel, const struct stat *st,
		    struct dhi_err **err)
{
	uid_t uid;
	gid_t gid;
	bool set;

	if (sink_dir_owner(s, st, rel, &uid, &gid, &set, err) < 0)
		return -1;
	if (set && fchown(fd, uid, gid) < 0)
		return dhi_err_set(err, errno, "cannot set the owner of `%s`", rel);
	/* fchown clears set-id bits: the mode comes after it */
	if (fchmod(fd, !s->archive ? st->st_mode & 0777
				   : s->as_user ? st->st_mode & 01777 : st->st_mode & 07777) < 0)
		return dhi_err_set(err, errno, "cannot set the mode of `%s`", rel);
	if (s->archive)
		set_times(fd, st);
	return 0;
}

static int dir_begin(struct copy_sink *s, void *parent, const char *name, const char *rel,
		     const struct stat *st, void **dir, struct dhi_err **err)
{
	struct dir_node *p = parent, *d;
	int fd;

	(void)st;
	if (mkdirat(p->fd, name, 0700) < 0) {
		if (errno != EEXIST)
			return dhi_err_set(err, errno, "cannot create the directory `%s`", rel);
		if (!s->force)
			return exists_error(rel, err);
	}
	fd = open_beneath(p->fd, name, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return dhi_err_set(err, errno, "cannot open the directory `%s`%s", rel,
				   errno == ELOOP ? " (it is a symlink now)" : "");
	d = xzalloc(sizeof(*d));
	d->fd = fd;
	d->owned = true;
	*dir = d;
	return 0;
}

static int dir_end(struct copy_sink *s, void *dir, const struct stat *st, struct dhi_err **err)
{
	struct dir_node *d = dir;
	int r = set_meta(s, d->fd, "a directory", st, err);

	if (d->owned) {
		close(d->fd);
		free(d);
	}
	return r;
}

static int file_begin(struct copy_sink *s, void *parent, const char *name, const char *rel,
		      const struct stat *st, uint64_t size, void **file, struct dhi_err **err)
{
	struct dir_node *p = parent;
	struct file_node *f;
	int fd;

	(void)s;
	(void)st;
	(void)size;
	f = xzalloc(sizeof(*f));
	f->parent = p->fd;
	f->name = xstrdup(name);
	f->rel = xstrdup(rel);
	/* readable too: the walk hashes what landed (sink.h, file_fd) */
	fd = openat(p->fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == ENOENT ||
		       errno == EINVAL)) {
		for (int i = 0; i < 16 && fd < 0; i++) {
			free(f->tmpname);
			f->tmpname = temp_name(name);
			fd = openat(p->fd, f->tmpname,
				    O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
			if (fd < 0 && errno != EEXIST)
				break;
		}
	}
	if (fd < 0) {
		int e = errno;

		free(f->tmpname);
		free(f->name);
		free(f->rel);
		free(f);
		return dhi_err_set(err, e, "cannot create `%s`", rel);
	}
	f->fd = fd;
	*file = f;
	return 0;
}

static int file_data(struct copy_sink *s, void *file, uint64_t off, const void *buf, size_t len,
		     struct dhi_err **err)
{
	struct file_node *f = file;
	const char *p = buf;

	(void)s;
	while (len > 0) {
		ssize_t n = pwrite(f->fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return dhi_err_set(err, errno, "cannot write `%s`", f->rel);
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

/* An O_TMPFILE's link into place, replacing what is there only with --force. */
static int link_tmpfile(struct copy_sink *s, struct file_node *f)
{
	char *tmp;
	int r;

	if (linkat(f->fd, "", f->parent, f->name, AT_EMPTY_PATH) == 0)
		return 0;
	if (errno != EEXIST || !s->force)
		return -1;
	tmp = temp_name(f->name);
	r = linkat(f->fd, "", f->parent, tmp, AT_EMPTY_PATH);
	if (r == 0 && (r = renameat(f->parent, tmp, f->parent, f->name)) < 0) {
		int e = errno;

		unlinkat(f->parent, tmp, 0);
		errno = e;
	}
	free(tmp);
	return r;
}

static int file_end(struct copy_sink *s, void *file, bool ok, uint64_t size, const struct stat *st,
		    struct dhi_err **err)
{
	struct file_node *f = file;
	int r = 0;

	if (ok && ftruncate(f->fd, (off_t)size) < 0)
		r = dhi_err_set(err, errno, "cannot write `%s`", f->rel);
	if (ok && r == 0)
		r = set_meta(s, f->fd, f->rel, st, err);
	if (ok && r == 0) {
		int placed = f->tmpname ? place(f->parent, f->tmpname, f->name, s->force)
					: link_tmpfile(s, f);

		if (placed < 0 && errno == EEXIST)
			r = exists_error(f->rel, err);
		else if (placed < 0)
			r = dhi_err_set(err, errno, "cannot put `%s` in place", f->rel);
		else if (f->tmpname) {
			free(f->tmpname);
			f->tmpname = NULL;
		}
	}
	if (ok && r == 0 && s->keep_placed) {
		struct stat placed;

		if (fstat(f->fd, &placed) == 0) {
			s->placed_dev = placed.st_dev;
			s->placed_ino = placed.st_ino;
		}
	}
	/* a file that is not complete leaves nothing behind */
	if (f->tmpname)
		unlinkat(f->parent, f->tmpname, 0);
	close(f->fd);
	free(f->tmpname);
	free(f->name);
	free(f->rel);
	free(f);
	return r;
}

static int do_symlink(struct copy_sink *s, void *parent, const char *name, const char *rel,
		      const char *target, const struct stat *st, struct dhi_err **err)
{
	struct dir_node *p = parent;
	const char *at = name;
	char *tmp = NULL;
	int r = 0;

	if (symlinkat(target, p->fd, name) < 0) {
		if (errno != EEXIST)
			return dhi_err_set(err, errno, "cannot create the symlink `%s`", rel);
		if (!s->force)
			return exists_error(rel, err);
		tmp = temp_name(name);
		if (symlinkat(target, p->fd, tmp) < 0) {
			free(tmp);
			return dhi_err_set(err, errno, "cannot create the symlink `%s`", rel);
		}
		at = tmp;
	}
	{
		struct timespec ts[2] = { st->st_atim, st->st_mtim };
		uid_t uid;
		gid_t gid;
		bool set;

		if (sink_dir_owner(s, st, rel, &uid, &gid, &set, err) < 0)
			r = -1;
		else if (set && fchownat(p->fd, at, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
			r = dhi_err_set(err, errno, "cannot set the owner of `%s`", rel);
		if (s->archive)
			utimensat(p->fd, at, ts, AT_SYMLINK_NOFOLLOW);
	}
	if (tmp) {
		if (r == 0 && renameat(p->fd, tmp, p->fd, name) < 0)
			r = dhi_err_set(err, errno, "cannot put `%s` in place", rel);
		if (r < 0)
			unlinkat(p->fd, tmp, 0);
		free(tmp);
	}
	return r;
}

int sink_dir_link(int topfd, const struct copy_first *first, int parentfd, const char *name,
		  const char *rel, bool force, struct dhi_err **err)
{
	struct open_how how = { .flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
				.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
					   RESOLVE_NO_MAGICLINKS };
	char proc[64];
	struct stat st;
	char *tmp = NULL;
	int fd, r = 0;

	/* the first by its path, never through a symlink: only the inode placed is linked */
	fd = dhi_sys_openat2(topfd, first->rel, &how, sizeof(how));
	if (fd < 0)
		return 1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_dev != first->dev ||
	    st.st_ino != first->ino) {
		close(fd);
		return 1;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (linkat(AT_FDCWD, proc, parentfd, name, AT_SYMLINK_FOLLOW) == 0)
		goto out;
	if (errno == EEXIST && force) {
		tmp = temp_name(name);
		if (linkat(AT_FDCWD, proc, parentfd, tmp, AT_SYMLINK_FOLLOW) == 0) {
			if (renameat(parentfd, tmp, parentfd, name) < 0) {
				r = dhi_err_set(err, errno, "cannot put `%s` in place", rel);
				unlinkat(parentfd, tmp, 0);
			}
			goto out;
		}
	}
	if (errno == EEXIST)
		r = exists_error(rel, err);
	else if (errno == EXDEV || errno == EPERM || errno == EMLINK)
		r = 1; /* another filesystem, protected_hardlinks, too many links: a copy */
	else
		r = dhi_err_set(err, errno, "cannot link `%s`", rel);
out:
	free(tmp);
	close(fd);
	return r;
}

static int do_hardlink(struct copy_sink *s, void *parent, const char *name, const char *rel,
		       const struct copy_first *first, const struct stat *st, struct dhi_err **err)
{
	struct dir_priv *p = s->priv;

	(void)st;
	return sink_dir_link(p->top.fd, first, ((struct dir_node *)parent)->fd, name, rel,
			     s->force, err);
}

static int set_xattr(struct copy_sink *s, void *handle, bool is_dir, const char *name,
		     const void *value, size_t len, struct dhi_err **err)
{
	int fd = is_dir ? ((struct dir_node *)handle)->fd : ((struct file_node *)handle)->fd;

	(void)s;
	if (fsetxattr(fd, name, value, len, 0) < 0)
		return dhi_err_set(err, errno, "cannot set the extended attribute `%s`", name);
	return 0;
}

/*
 * Only an O_TMPFILE, which nobody else can open: a dot-temp name in a
 * container's directory could be truncated by the container while the walk
 * has it mapped (SIGBUS), so its bytes go through file_data instead.
 */
static int file_fd(struct copy_sink *s, void *file)
{
	struct file_node *f = file;

	(void)s;
	return f->tmpname ? -1 : f->fd;
}

static const struct copy_sink_ops dir_ops = {
	.file_fd = file_fd,
	.xattr = set_xattr,
	.dir_begin = dir_begin,
	.dir_end = dir_end,
	.file_begin = file_begin,
	.file_data = file_data,
	.file_end = file_end,
	.symlink = do_symlink,
	.hardlink = do_hardlink,
};

void sink_dir_init(struct copy_sink *s, int parentfd, bool archive, bool force)
{
	struct dir_priv *p = xzalloc(sizeof(*p));

	p->top.fd = parentfd;
	p->top.owned = false;
	*s = (struct copy_sink){ .ops = &dir_ops, .archive = archive, .force = force, .priv = p };
}

void sink_dir_set_idmap(struct copy_sink *s, const struct copy_idmap *map)
{
	((struct dir_priv *)s->priv)->idmap = map;
}

void *sink_dir_handle(struct copy_sink *s)
{
	return &((struct dir_priv *)s->priv)->top;
}

void sink_dir_free(struct copy_sink *s)
{
	free(s->priv);
	s->priv = NULL;
}
