// SPDX-License-Identifier: Apache-2.0
/* tarin.c - `dhidebug cp - TARGET:DIR`: a tar stream into the container, member by member. */
#include "injector/copy/tarin.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/fdio.h"
#include "common/sha256.h"
#include "common/path.h"
#include "common/syscalls.h"
#include "common/xalloc.h"
#include "injector/copy/sink.h"
#include "injector/copy/walk.h"

static const unsigned char zeros[64 << 10];

/* `name` below `dirfd` as a directory, never through a symlink; created when missing */
static int enter_dir(int dirfd, const char *name, mode_t mode, int *out, struct dhi_err **err)
{
	struct open_how how = { .flags = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
				.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
					   RESOLVE_NO_MAGICLINKS };

	*out = dhi_sys_openat2(dirfd, name, &how, sizeof(how));
	if (*out < 0 && errno == ENOENT) {
		if (mkdirat(dirfd, name, mode) < 0 && errno != EEXIST)
			return dhi_err_set(err, errno, "cannot create the directory `%s`", name);
		*out = dhi_sys_openat2(dirfd, name, &how, sizeof(how));
	}
	if (*out < 0)
		return dhi_err_set(err, errno, "cannot open the directory `%s`%s", name,
				   errno == ELOOP ? " (a symlink)" : "");
	return 0;
}

/*
 * The member's directory (created as needed) and its last component, in
 * place in `path`. *last is NULL for a member that is the destination itself.
 */
static int member_parent(int top, char *path, const char *member, int *parent, char **last,
			 struct dhi_err **err)
{
	char *name, *next, *p = path;
	int cur = -1;

	*last = NULL;
	cur = fcntl(top, F_DUPFD_CLOEXEC, 3);
	if (cur < 0)
		return dhi_err_set(err, errno, "cannot open the destination");
	while (path_split_first(p, &name, &next)) {
		int fd;

		if (strcmp(name, "..") == 0) {
			close(cur);
			return dhi_err_set(err, 0, "tar member `%s` leaves the destination (`..`)",
					   member);
		}
		if (strcmp(name, ".") == 0) {
			p = next;
			continue;
		}
		if (!*next) {
			*last = name;
			break;
		}
		if (enter_dir(cur, name, 0755, &fd, err) < 0) {
			close(cur);
			return dhi_err_prefix(err, "tar member `%s`", member);
		}
		close(cur);
		cur = fd;
		p = next;
	}
	*parent = cur;
	return 0;
}

/*
 * -a: the member's `user.` extended attributes onto `handle` (a file of the
 * sink, or with fd >= 0 a directory), as the walk keeps them (walk.c: only
 * that namespace); one the destination refuses is a notice. *names: the
 * names kept (a JSON array), or NULL.
 */
static void member_xattrs(struct archive_entry *e, struct copy_sink *s, void *handle, int fd,
			  const char *member, bool quiet, json_t **names)
{
	const char *name;
	const void *value;
	size_t len;

	*names = NULL;
	if (!s->archive)
		return;
	archive_entry_xattr_reset(e);
	while (archive_entry_xattr_next(e, &name, &value, &len) == ARCHIVE_OK) {
		struct dhi_err *x = NULL;
		int r;

		if (strncmp(name, "user.", 5) != 0)
			continue;
		if (fd >= 0)
			r = fsetxattr(fd, name, value, len, 0) < 0
				    ? dhi_err_set(&x, errno, "cannot set the extended attribute `%s`",
						  name)
				    : 0;
		else
			r = s->ops->xattr(s, handle, false, name, value, len, &x);
		if (r < 0) {
			if (!quiet) {
				dhi_autofree char *why = dhi_err_string(x);
				dhi_autofree char *shown = dhi_printable(member);

				fprintf(stderr, "dhidebug: cp: notice: `%s`: %s\n", shown, why);
			}
			dhi_err_clear(&x);
			continue;
		}
		if (!*names)
			*names = json_array();
		if (json_array_append_new(*names, json_string(name)) < 0)
			json_array_append_new(*names, json_string("?"));
	}
}

/* A regular member's data (sparse members' holes stay holes), hashed, and -a its xattrs. */
static int unpack_file(struct archive *a, struct archive_entry *e, struct copy_sink *s,
		       const char *name, const char *member, const struct stat *st, bool quiet,
		       char hex[65], uint64_t *size, json_t **xattrs, struct dhi_err **err)
{
	struct dhi_sha256 md;
	unsigned char digest[32];
	void *file = NULL;
	const void *buf;
	size_t len;
	la_int64_t off;
	uint64_t at = 0;
	int r, ar;

	dhi_sha256_init(&md);
	r = s->ops->file_begin(s, sink_dir_handle(s), name, member, st, (uint64_t)st->st_size,
			       &file, err);
	while (r == 0 && (ar = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK) {
		for (; at < (uint64_t)off; ) {
			size_t n = (uint64_t)off - at > sizeof(zeros) ? sizeof(zeros)
								     : (size_t)((uint64_t)off - at);

			dhi_sha256_update(&md, zeros, n);
			at += n;
		}
		dhi_sha256_update(&md, buf, len);
		r = s->ops->file_data(s, file, (uint64_t)off, buf, len, err);
		at = (uint64_t)off + len;
	}
	if (r == 0 && ar != ARCHIVE_EOF)
		r = dhi_err_set(err, archive_errno(a) > 0 ? archive_errno(a) : 0,
				"tar member `%s`: %s", member,
				archive_error_string(a) ? archive_error_string(a) : "cannot read");
	/* a trailing hole */
	for (; r == 0 && at < (uint64_t)st->st_size;) {
		size_t n = (uint64_t)st->st_size - at > sizeof(zeros)
				   ? sizeof(zeros) : (size_t)((uint64_t)st->st_size - at);

		dhi_sha256_update(&md, zeros, n);
		at += n;
	}
	if (r == 0 && file)
		member_xattrs(e, s, file, -1, member, quiet, xattrs);
	if (file) {
		struct dhi_err *fe_err = NULL;
		int fe = s->ops->file_end(s, file, r == 0, at, st, r == 0 ? err : &fe_err);

		dhi_err_clear(&fe_err);
		if (r == 0)
			r = fe;
	}
	if (r == 0) {
		dhi_sha256_final(&md, digest);
		dhi_sha256_hex(digest, hex);
	}
	*size = at;
	return r;
}

/* A regular member placed, for the hard link members that name it later. */
struct placed {
	char *member;		/* its name in the stream, relative() */
	char *rel;		/* where it is, from the destination */
	char *dpath, *spath;	/* both sides' paths (records) */
	dev_t dev;
	ino_t ino;
	char hex[65];
};

struct tarin {
	const struct tarin_opts *o;
	char *top;		/* top_as: the first member's top component */
	struct placed *v;	/* the regular members placed, and an index of them by name */
	size_t n, cap;
	size_t *slot;		/* index + 1; nslots a power of two, at least twice cap */
	size_t nslots;
};

#define PLACED_MAX (1u << 20)

static size_t name_slot(const struct tarin *t, const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return (size_t)h & (t->nslots - 1);
}

static struct placed *placed_find(struct tarin *t, const char *member)
{
	if (!t->nslots)
		return NULL;
	for (size_t i = name_slot(t, member); t->slot[i]; i = (i + 1) & (t->nslots - 1))
		if (strcmp(t->v[t->slot[i] - 1].member, member) == 0)
			return &t->v[t->slot[i] - 1];
	return NULL;
}

static void placed_index(struct tarin *t, size_t k)
{
	size_t i = name_slot(t, t->v[k].member);

	while (t->slot[i])
		i = (i + 1) & (t->nslots - 1);
	t->slot[i] = k + 1;
}

/* Remembers a placed member (a later one of the same name replaces it, as in tar). */
static void placed_add(struct tarin *t, const char *member, const char *rel, const char *dpath,
		       const char *spath, const struct copy_sink *s, const char hex[65])
{
	struct placed *p = placed_find(t, member);

	if (!p) {
		if (t->n == PLACED_MAX)
			return;
		if (t->n == t->cap) {
			t->cap = t->cap ? 2 * t->cap : 64;
			t->v = xrealloc(t->v, t->cap * sizeof(*t->v));
			free(t->slot);
			t->nslots = 2 * t->cap;
			t->slot = xzalloc(t->nslots * sizeof(*t->slot));
			for (size_t k = 0; k < t->n; k++)
				placed_index(t, k);
		}
		p = &t->v[t->n];
		*p = (struct placed){ .member = xstrdup(member) };
		placed_index(t, t->n++);
	} else {
		free(p->rel);
		free(p->dpath);
		free(p->spath);
	}
	p->rel = xstrdup(rel);
	p->dpath = xstrdup(dpath);
	p->spath = xstrdup(spath);
	p->dev = s->placed_dev;
	p->ino = s->placed_ino;
	memcpy(p->hex, hex, 65);
}

static void placed_free(struct tarin *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].member);
		free(t->v[i].rel);
		free(t->v[i].dpath);
		free(t->v[i].spath);
	}
	free(t->v);
	free(t->slot);
}

/* "/a/./b" → "a/./b": a member name as it is placed, without its leading `/` and `./` */
static const char *relative(const char *member)
{
	while (*member == '/' || (member[0] == '.' && member[1] == '/'))
		member += *member == '/' ? 1 : 2;
	return member;
}

static char *join3(const char *dir, const char *rel)
{
	return *rel ? path_join(dir, rel) : xstrdup(dir);
}

/*
 * Where `member` goes below the destination (a new string): its name, or with
 * top_as its top component replaced, all members below the first one's.
 */
static int placed_name(struct tarin *t, const char *member, char **out, struct dhi_err **err)
{
	const char *rel = relative(member);
	size_t n = strcspn(rel, "/");

	*out = NULL;
	if (!t->o->top_as) {
		*out = xstrdup(member);
		return 0;
	}
	if (n == 0 || (n == 1 && rel[0] == '.') || (n == 2 && rel[0] == '.' && rel[1] == '.'))
		return dhi_err_set(err, 0, "tar member `%s` names no entry below the stream's top",
				   member);
	if (!t->top)
		t->top = xstrndup(rel, n);
	else if (strlen(t->top) != n || strncmp(rel, t->top, n) != 0)
		return dhi_err_set(err, 0, "tar member `%s` is not below the stream's first entry "
				   "`%s`", member, t->top);
	*out = xasprintf("%s%s", t->o->top_as, rel + n);
	return 0;
}

/*
 * A hard link member: another name, in `parent` as `last`, of a regular member
 * placed before (by its name in the stream). One that names no such member,
 * or cannot be a link there (sink_dir_link), is skipped with its reason: the
 * stream has no bytes for it.
 */
static int unpack_hardlink(struct archive_entry *e, int top, int parent, const char *last,
			   struct tarin *t, const char *member, const char *dpath,
			   const char *spath, const struct stat *st, struct custody *c,
			   struct dhi_err **err)
{
	const struct tarin_opts *o = t->o;
	const char *target = archive_entry_hardlink(e);
	struct placed *p = placed_find(t, relative(target));
	dhi_autofree char *why = NULL;
	int r;

	if (p) {
		r = sink_dir_link(top, &(struct copy_first){ .rel = p->rel, .dev = p->dev,
							      .ino = p->ino },
				  parent, last, member, o->force, err);
		if (r < 0)
			return -1;
		if (r == 0)
			return custody_file(c, &(struct custody_entry){
					.path = o->dest_is_container ? dpath : spath,
					.host_path = o->dest_is_container ? spath : dpath,
					.st = st, .sha256 = p->hex,
					.hardlink = o->dest_is_container ? p->dpath : p->spath },
				err);
		why = xasprintf("a hard link to `%s`, which cannot be linked there", target);
	} else {
		why = xasprintf("a hard link to `%s`, which the stream has not placed before",
				target);
	}
	if (!o->quiet) {
		dhi_autofree char *shown = dhi_printable(member), *shown_why = dhi_printable(why);

		fprintf(stderr, "dhidebug: cp: skipped `%s`: %s\n", shown, shown_why);
	}
	return custody_skip(c, o->dest_is_container ? dpath : spath, st, why, err);
}

/* One member: where it goes, then what it is. */
static int unpack_entry(struct archive *a, struct archive_entry *e, int top, struct tarin *t,
			struct custody *c, struct dhi_err **err)
{
	const struct tarin_opts *o = t->o;
	const char *member = archive_entry_pathname(e) ? archive_entry_pathname(e) : "";
	dhi_autofree char *name = NULL, *path = NULL, *dpath = NULL, *spath = NULL;
	const struct stat *st = archive_entry_stat(e);
	json_t *xattrs = NULL;
	struct copy_sink s;
	char *last = NULL, hex[65] = "";
	dhi_autoclose int parent = -1;
	uint64_t size = 0;
	int r = 0;

	if (placed_name(t, member, &name, err) < 0)
		return -1;
	path = xstrdup(name);
	if (member_parent(top, path, member, &parent, &last, err) < 0)
		return -1;
	/* the records: each side's path of the entry */
	dpath = last ? join3(o->dest, relative(name)) : xstrdup(o->dest);
	spath = o->src ? join3(o->src, relative(member)) : xstrdup(member);
	if (!last && !S_ISDIR(st->st_mode))
		return dhi_err_set(err, 0, "tar member `%s` names no file", member);
	/* (libarchive gives a link member the type of its target, or none) */
	if (archive_entry_hardlink(e) && !S_ISDIR(st->st_mode))
		return unpack_hardlink(e, top, parent, last, t, member, dpath, spath, st, c, err);
	sink_dir_init(&s, parent, o->archive, o->force);
	sink_dir_set_idmap(&s, o->idmap);
	s.as_user = o->as_user;
	switch (st->st_mode & S_IFMT) {
	case S_IFDIR: {
		dhi_autoclose int fd = -1;
		uid_t uid;
		gid_t gid;
		bool set = false;

		/* a directory that is there is merged into, as tar does */
		if (last && (enter_dir(parent, last, 0700, &fd, err) < 0 ||
			     sink_dir_owner(&s, st, dpath, &uid, &gid, &set, err) < 0)) {
			r = -1;
			break;
		}
		if (last && set) {
			dhi_autoclose int rfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

			if (rfd < 0 || fchown(rfd, uid, gid) < 0 ||
			    fchmod(rfd, st->st_mode & (o->archive ? 07777 : 0777)) < 0)
				r = dhi_err_set(err, errno, "cannot set the owner and mode of `%s`",
						dpath);
			else
				member_xattrs(e, &s, NULL, rfd, member, o->quiet, &xattrs);
		} else if (last) {
			dhi_autoclose int rfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

			if (rfd >= 0)
				fchmod(rfd, st->st_mode & 0777);
		}
		break;
	}
	case S_IFREG: {
		uint64_t cap = o->max_size ? o->max_size : COPY_MAX_SIZE_DEFAULT;

		/* the size it claims, before any of it is unpacked (attack_r4 finding 4) */
		if (archive_entry_size(e) < 0 || (uint64_t)archive_entry_size(e) > cap ||
		    (uint64_t)st->st_size > cap) {
			r = dhi_err_set(err, 0, "tar member `%s` claims %lld bytes, over --max-size "
					"(%llu bytes): the stream is refused", member,
					(long long)archive_entry_size(e), (unsigned long long)cap);
			break;
		}
		s.keep_placed = true;
		r = unpack_file(a, e, &s, last, member, st, o->quiet, hex, &size, &xattrs, err);
		if (r == 0)
			placed_add(t, relative(member), relative(name), dpath, spath, &s, hex);
		break;
	}
	case S_IFLNK:
		r = s.ops->symlink(&s, sink_dir_handle(&s), last, member,
				   archive_entry_symlink(e) ? archive_entry_symlink(e) : "", st, err);
		break;
	default: {
		dhi_autofree char *why = xasprintf("%s is not copied", fd_mode_name(st->st_mode));

		sink_dir_free(&s);
		if (!o->quiet) {
			dhi_autofree char *shown = dhi_printable(member);

			fprintf(stderr, "dhidebug: cp: skipped `%s`: %s\n", shown, why);
		}
		return custody_skip(c, o->dest_is_container ? dpath : spath, st, why, err);
	}
	}
	sink_dir_free(&s);
	if (r < 0) {
		json_decref(xattrs);
		return -1;
	}
	return custody_file(c,
			    &(struct custody_entry){ .path = o->dest_is_container ? dpath : spath,
						     .host_path = o->dest_is_container ? spath : dpath,
						     .st = st, .size = size,
						     .sha256 = *hex ? hex : NULL,
						     .link = S_ISLNK(st->st_mode)
								     ? archive_entry_symlink(e)
								     : NULL,
						     .xattrs = xattrs },
			    err);
}

int tarin_run(int fd, int dirfd, const struct tarin_opts *o, struct custody *c,
	      struct dhi_err **err)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	struct tarin t = { .o = o };
	int r = 0, ar;

	if (!a)
		return dhi_err_set(err, 0, "cannot read the tar stream (libarchive)");
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_zstd(a);
	if (archive_read_open_fd(a, fd, 64 << 10) != ARCHIVE_OK) {
		r = dhi_err_set(err, 0, "cannot read the tar stream: %s",
				archive_error_string(a) ? archive_error_string(a) : "?");
		archive_read_free(a);
		return r;
	}
	while (r == 0 && (ar = archive_read_next_header(a, &e)) != ARCHIVE_EOF) {
		if (ar < ARCHIVE_WARN) {
			r = dhi_err_set(err, 0, "cannot read the tar stream: %s",
					archive_error_string(a) ? archive_error_string(a) : "?");
			break;
		}
		r = unpack_entry(a, e, dirfd, &t, c, err);
	}
	/* a member's name is the stream's: what names it reaches a terminal escaped */
	if (r < 0 && *err && (*err)->msg) {
		char *shown = dhi_printable((*err)->msg);

		free((*err)->msg);
		(*err)->msg = shown;
	}
	archive_read_free(a);
	free(t.top);
	placed_free(&t);
	return r;
}
