// SPDX-License-Identifier: Apache-2.0
/* view.c - build the session's private mount view (union or toolbox) and enter it. */
#include "nsenter/view.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/xalloc.h"
#include "nsenter/cgroup.h"
#include "common/path.h"

/*
 * Layout while building, all on a private staging tmpfs that becomes our root
 * first and is detached when we pivot into the finished view:
 *   /all    the target's root with every submount (recursive clone)
 *   /top    the target's root mount alone (the union's upper lower layer)
 *   /tbsrc  the toolbox directory, read-only (a clone of the host's mount)
 *   /empty  an empty read-only tmpfs, the toolbox overlay's second layer
 *   /tb     the toolbox served by its own overlayfs superblock (/tbsrc + /empty)
 *   /mask   the union's top layer: the toolbox's loader inputs (see build_mask)
 *   /skel   empty mount points that the union root must offer
 *   /view   the view being built
 */
#define S_ALL "/all"
#define S_TOP "/top"
#define S_TBSRC "/tbsrc"
#define S_EMPTY "/empty"
#define S_TB "/tb"
#define S_MASK "/mask"
#define S_SKEL "/skel"
#define S_VIEW "/view"

#if defined(__x86_64__)
#define LIB_TRIPLET "x86_64-linux-gnu"
#define MUSL_ARCH "x86_64"
#define GLIBC_LOADER "/lib64/ld-linux-x86-64.so.2"
#elif defined(__aarch64__)
#define LIB_TRIPLET "aarch64-linux-gnu"
#define MUSL_ARCH "aarch64"
#define GLIBC_LOADER "/lib/ld-linux-aarch64.so.1"
#else
#error "add this architecture's loader, musl name and multiarch triplet"
#endif
#define MUSL_LOADER "/lib/ld-musl-" MUSL_ARCH ".so.1"
#define MUSL_PATH_FILE "/etc/ld-musl-" MUSL_ARCH ".path"

static const struct {
	const char *name;
	enum view_mode mode;
} view_modes[] = {
	{ "auto", VIEW_AUTO },
	{ "union", VIEW_UNION },
	{ "toolbox", VIEW_TOOLBOX },
	{ NULL, 0 },
};

int view_mode_parse(const char *s, enum view_mode *out)
{
	for (int i = 0; view_modes[i].name; i++) {
		if (strcmp(s, view_modes[i].name) == 0) {
			*out = view_modes[i].mode;
			return 0;
		}
	}
	return -1;
}

const char *view_mode_name(enum view_mode m)
{
	for (int i = 0; view_modes[i].name; i++)
		if (view_modes[i].mode == m)
			return view_modes[i].name;
	return "?";
}

/* --- mount primitives: the new mount API, with mount(2) where the kernel lacks it --- */

static int clone_tree_at(int dirfd, const char *path, int recursive, int *out, struct dhi_err **err)
{
	unsigned int fl = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0);

	if (!*path)
		fl |= AT_EMPTY_PATH;
	*out = open_tree(dirfd, path, fl);
	if (*out < 0)
		return dhi_err_set(err, errno, "cannot clone mount `%s`%s", *path ? path : ".",
				   errno == ENOSYS ? " (open_tree needs Linux 5.2 or later)" : "");
	return 0;
}

/* Attaches a detached tree at `path` (ours, on the staging tmpfs) and stops all propagation. */
static int attach(int tree, const char *path, struct dhi_err **err)
{
	if (move_mount(tree, "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return dhi_err_set(err, errno, "cannot attach a mount at `%s`", path);
	/*
	 * A clone of a shared mount joins its peer group: anything mounted under
	 * it later would propagate back to the target or the host. Cut it now.
	 */
	if (mount(NULL, path, NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return dhi_err_set(err, errno, "cannot make `%s` private", path);
	return 0;
}

/* Attaches a detached tree on `target_fd` (an O_PATH fd inside the view). */
static int attach_at(int tree, int target_fd, const char *what, struct dhi_err **err)
{
	if (move_mount(tree, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return dhi_err_set(err, errno, "cannot mount `%s` in the view", what);
	return 0;
}

static int make_ro(const char *path, struct dhi_err **err)
{
	if (mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
		return dhi_err_set(err, errno, "cannot make `%s` read-only", path);
	return 0;
}

/*
 * Mounts a new filesystem at `target`: fsopen/fsconfig/fsmount/move_mount
 * (5.2+), or mount(2) with the same options joined by commas.
 * `opts` is a NULL-terminated list of "key=value" or "flag" strings; `attr`
 * is MOUNT_ATTR_RDONLY and/or MOUNT_ATTR_NOEXEC (nosuid and nodev always).
 */
static int new_fs(const char *fstype, const char *const *opts, unsigned int attr,
		  const char *target, struct dhi_err **err)
{
	dhi_autoclose int fs = fsopen(fstype, FSOPEN_CLOEXEC);
	dhi_autoclose int mnt = -1;
	dhi_autofree char *joined = NULL;

	if (fs >= 0) {
		for (int i = 0; opts[i]; i++) {
			dhi_autofree char *key = xstrdup(opts[i]);
			char *val = strchr(key, '=');
			int r;

			if (val) {
				*val++ = '\0';
				r = fsconfig(fs, FSCONFIG_SET_STRING, key, val, 0);
			} else {
				r = fsconfig(fs, FSCONFIG_SET_FLAG, key, NULL, 0);
			}
			if (r < 0)
				return dhi_err_set(err, errno, "cannot set %s option `%s`", fstype,
						   opts[i]);
		}
		if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
			return dhi_err_set(err, errno, "cannot create a %s filesystem", fstype);
		mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | attr);
		if (mnt < 0)
			return dhi_err_set(err, errno, "cannot mount a %s filesystem", fstype);
		if (move_mount(mnt, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
			return dhi_err_set(err, errno, "cannot attach %s at `%s`", fstype, target);
		return 0;
	}
	if (errno != ENOSYS)
		return dhi_err_set(err, errno, "cannot open a %s filesystem context", fstype);

	joined = xstrdup("");
	for (int i = 0; opts[i]; i++) {
		char *j = xasprintf("%s%s%s", joined, i ? "," : "", opts[i]);

		free(joined);
		joined = j;
	}
	if (mount(fstype, target, fstype,
		  MS_NOSUID | MS_NODEV | (attr & MOUNT_ATTR_RDONLY ? MS_RDONLY : 0) |
			  (attr & MOUNT_ATTR_NOEXEC ? MS_NOEXEC : 0),
		  joined) < 0)
		return dhi_err_set(err, errno, "cannot mount %s at `%s`", fstype, target);
	return 0;
}

/* Makes `dir` (a mount point in our namespace) the root and detaches the old one. */
static int enter_root(const char *dir, struct dhi_err **err)
{
	if (chdir(dir) < 0)
		return dhi_err_set(err, errno, "cannot enter `%s`", dir);
	/* pivot_root(".", ".") stacks the old root on the new one; umount detaches it. */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return dhi_err_set(err, errno, "cannot pivot into `%s`", dir);
	if (umount2(".", MNT_DETACH) < 0)
		return dhi_err_set(err, errno, "cannot detach the old root");
	if (chdir("/") < 0)
		return dhi_err_set(err, errno, "cannot enter the new root");
	return 0;
}

/*
 * Moves us onto a fresh private tmpfs. It needs a directory to be mounted on:
 * any directory of the copy will do, since the copy is ours and about to go.
 */
static int enter_staging(struct dhi_err **err)
{
	static const char *const dirs[] = { "/proc", "/dev", "/sys", "/tmp", "/run",
					    "/mnt", "/etc", "/var", "/usr", NULL };
	static const char *const opts[] = { "mode=0700", "size=1m", NULL };
	const char *dir = NULL;
	dhi_autoclose int root = -1;
	struct stat st;

	for (int i = 0; dirs[i] && !dir; i++)
		if (fstatat(AT_FDCWD, dirs[i], &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
			dir = dirs[i];
	if (!dir)
		return dhi_err_set(err, 0, "the target's mount namespace has no directory to stage on");
	if (new_fs("tmpfs", opts, 0, dir, err) < 0)
		return -1;
	if (enter_root(dir, err) < 0)
		return -1;
	/* a container racing a symlink in place of `dir` would land us elsewhere: check */
	root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return dhi_err_set(err, errno, "cannot open the staging root");
	return path_check_fs(root, TMPFS_MAGIC, "the staging root", err);
}

/* --- the target's flags: read-only, noexec --- */

static bool restrict_by_setattr = true;
/* restrict_tree() made the target's mounts nodev, so graft() gives its /dev devices back */
static bool restricted_nodev;

/* On the detached clones (5.12+); clones made from them later inherit the flags. */
static int restrict_tree(int tree, const struct view_spec *spec, struct dhi_err **err)
{
	struct mount_attr attr = { 0 };

	if (spec->target_ro)
		attr.attr_set |= MOUNT_ATTR_RDONLY;
	if (spec->target_noexec)
		attr.attr_set |= MOUNT_ATTR_NOEXEC;
	/* no device cgroup confines the session: no device node of the target's opens */
	if (spec->host_devs)
		attr.attr_set |= MOUNT_ATTR_NODEV;
	if (!attr.attr_set)
		return 0;
	attr.attr_set |= MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;	/* graft() clears nodev on /dev */
	if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) == 0) {
		restricted_nodev = true;
		return 0;
	}
	if (errno != ENOSYS)
		return dhi_err_set(err, errno, "cannot restrict the target's mounts");
	restrict_by_setattr = false;
	return 0;
}

/* The per-mount flags of a mountinfo options field ("ro,nosuid,relatime"). */
static unsigned long mount_flags(const char *opts)
{
	static const struct {
		const char *name;
		unsigned long flag;
	} table[] = {
		{ "ro", MS_RDONLY },	     { "nosuid", MS_NOSUID },
		{ "nodev", MS_NODEV },	     { "noexec", MS_NOEXEC },
		{ "noatime", MS_NOATIME },   { "nodiratime", MS_NODIRATIME },
		{ "relatime", MS_RELATIME }, { NULL, 0 },
	};
	unsigned long fl = 0;
	char buf[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", opts);
	for (char *o = strtok_r(buf, ",", &save); o; o = strtok_r(NULL, ",", &save))
		for (int i = 0; table[i].name; i++)
			if (strcmp(o, table[i].name) == 0)
				fl |= table[i].flag;
	return fl;
}

/*
 * Without mount_setattr: remount each mount under /all and /top once they
 * are attached, read from our mountinfo (mount(2) has no recursive remount).
 * nodev is left as the target had it here (see graft()).
 */
static int restrict_attached(const struct view_spec *spec, int host_procself, struct dhi_err **err)
{
	unsigned long fl = MS_REMOUNT | MS_BIND | MS_NOSUID;
	dhi_autoclose int fd = -1;
	dhi_autofree char *buf = NULL;
	char *save = NULL;

	if (restrict_by_setattr || !(spec->target_ro || spec->target_noexec || spec->host_devs))
		return 0;
	fl |= (spec->target_ro ? MS_RDONLY : 0) | (spec->target_noexec ? MS_NOEXEC : 0) |
	      (spec->host_devs ? MS_NODEV : 0);
	fd = openat(host_procself, "mountinfo", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fd_read_file(fd, 16 << 20, &buf, NULL, err) < 0)
		return dhi_err_set(err, errno, "cannot read our mountinfo");
	for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char mp[PATH_MAX + 1], opts[256];

		if (sscanf(l, "%*d %*d %*s %*s %4096s %255s", mp, opts) != 2)
			continue;
		cgroup_unescape_mountinfo(mp);
		if (strncmp(mp, S_ALL, sizeof(S_ALL) - 1) != 0 &&
		    strncmp(mp, S_TOP, sizeof(S_TOP) - 1) != 0)
			continue;
		/* a bind remount sets exactly the flags given: keep what the mount had */
		if (mount(NULL, mp, NULL, fl | mount_flags(opts), NULL) < 0)
			return dhi_err_set(err, errno, "cannot restrict `%s`", mp);
	}
	return 0;
}

/* --- the view --- */

static int mkdirs(const char *base, const char *const *names, struct dhi_err **err)
{
	for (int i = 0; names[i]; i++) {
		dhi_autofree char *p = xasprintf("%s/%s", base, names[i]);

		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return dhi_err_set(err, errno, "cannot create `%s`", p);
	}
	return 0;
}

/*
 * Clones `src_rel` below `src_dir` (recursively) onto `dst_rel` below `view_fd`.
 * The target's files are nodev in the view (a node the container planted must
 * not open a host device to the session), except its /dev itself, which is
 * where its own device nodes are meant to be used.
 */
const char *const view_host_devices[VIEW_HOST_DEVS] = { "null", "zero",    "full",
							   "random", "urandom", "tty" };

/* view_build()'s spec->host_devs, for graft() of /dev */
static const int *host_devs;

/* The host's devices over the target's nodev /dev entries of their names (where it has them). */
static int bind_host_devices(int view_fd, const char *dst_rel, struct dhi_err **err)
{
	dhi_autoclose int dev = -1;

	if (path_open_at(view_fd, dst_rel, O_PATH | O_DIRECTORY, PATH_F_NO_SYMLINKS, &dev, err) < 0)
		return -1;
	for (int i = 0; i < VIEW_HOST_DEVS; i++) {
		struct stat st;

		/* (a directory or a symlink there is not a device to stand in for) */
		if (host_devs[i] < 0 ||
		    fstatat(dev, view_host_devices[i], &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !(S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISREG(st.st_mode)))
			continue;
		if (move_mount(host_devs[i], "", dev, view_host_devices[i],
			       MOVE_MOUNT_F_EMPTY_PATH) < 0)
			return dhi_err_set(err, errno, "cannot put the host's /dev/%s in the view",
					   view_host_devices[i]);
		/* a clone of the host's shared /dev would propagate what is mounted on it */
		{
			dhi_autofree char *at = xasprintf("%s/%s/%s", S_VIEW, dst_rel,
							  view_host_devices[i]);

			if (mount(NULL, at, NULL, MS_PRIVATE, NULL) < 0)
				return dhi_err_set(err, errno, "cannot make `%s` private", at);
		}
	}
	return 0;
}

static int graft(int src_dir, const char *src_rel, int view_fd, const char *dst_rel,
		 struct dhi_err **err)
{
	struct mount_attr dev = { .attr_clr = MOUNT_ATTR_NODEV };
	dhi_autoclose int src = -1, tree = -1, dst = -1;

	if (path_open_at(src_dir, src_rel, O_PATH, PATH_F_NO_SYMLINKS, &src, err) < 0)
		return -1;
	if (clone_tree_at(src, "", 1, &tree, err) < 0)
		return -1;
	if (path_open_at(view_fd, dst_rel, O_PATH, PATH_F_NO_SYMLINKS, &dst, err) < 0)
		return -1;
	if (attach_at(tree, dst, dst_rel, err) < 0)
		return -1;
	/* outside the target's device cgroup its device nodes stay unusable */
	if (strcmp(dst_rel, "dev") == 0 && host_devs)
		return bind_host_devices(view_fd, dst_rel, err);
	/* (only what restrict_tree() set: a /dev the target made nodev itself stays so) */
	if (strcmp(dst_rel, "dev") == 0 && restrict_by_setattr && restricted_nodev &&
	    mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &dev, sizeof(dev)) < 0)
		return dhi_err_set(err, errno, "cannot allow devices on the target's /dev");
	return 0;
}

/*
 * Whether the mask (build_mask) has something at or under `rel`: a submount
 * of the target's grafted there would lie over the toolbox's loader files and
 * bring the target's ld.so.preload, ld.so.cache or library directory back (a
 * tmpfs or a volume at /etc, say). Every directory on the way to a masked
 * entry is in the mask, so an ancestor is found too. Anything but "not there"
 * counts as masked.
 */
static bool under_mask(int mask_fd, const char *rel)
{
	struct stat st;

	return mask_fd >= 0 && (fstatat(mask_fd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 ||
				errno != ENOENT);
}

/*
 * The target's direct submounts (volumes, /proc, /dev, /sys, secrets), read
 * from our own mountinfo: the children of the mount at /all. Their children
 * come along with each recursive clone. One that the mask would lie under
 * stays at /target only (`mask_fd`: the mask, or -1 where the union has none).
 */
static int graft_submounts(int host_procself, int all_fd, int view_fd, int mask_fd,
			   struct dhi_err **err)
{
	dhi_autoclose int fd = openat(host_procself, "mountinfo", O_RDONLY | O_CLOEXEC);
	dhi_autofree char *buf = NULL;
	char *save = NULL;
	long all_id = -1;

	if (fd < 0)
		return dhi_err_set(err, errno, "cannot open our mountinfo");
	if (fd_read_file(fd, 16 << 20, &buf, NULL, err) < 0)
		return dhi_err_prefix(err, "cannot read our mountinfo");

	for (int pass = 0; pass < 2; pass++) {
		dhi_autofree char *copy = xstrdup(buf);

		for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			long id, parent;
			char mp[PATH_MAX + 1];
			struct dhi_err *e = NULL;

			/* id parent major:minor root mountpoint … (paths are octal-escaped, no spaces) */
			if (sscanf(l, "%ld %ld %*s %*s %4096s", &id, &parent, mp) != 3)
				continue;
			cgroup_unescape_mountinfo(mp);
			if (pass == 0) {
				if (strcmp(mp, S_ALL) == 0)
					all_id = id;
				continue;
			}
			if (parent != all_id || strncmp(mp, S_ALL "/", sizeof(S_ALL)) != 0 ||
			    under_mask(mask_fd, mp + sizeof(S_ALL)))
				continue;
			if (graft(all_fd, mp + sizeof(S_ALL), view_fd, mp + sizeof(S_ALL), &e) < 0) {
				/* the view keeps the directory under it; the mount stays at /target */
				dhi_err_clear(&e);
			}
		}
		if (pass == 0 && all_id < 0)
			return dhi_err_set(err, 0, "cannot find the target's mounts in our mountinfo");
	}
	return 0;
}

/* --- the toolbox's own superblock --- */

/*
 * /tb: the toolbox through an overlayfs of its own, whose layers are the
 * toolbox directory and an empty tmpfs (an overlay without an upper layer
 * needs two). A bind of the directory would share the host filesystem's
 * superblock: open_by_handle_at() with any handle, inode 2 for one, on a
 * mount of it opens that filesystem's root, wherever the toolbox lies in it.
 * This superblock holds the toolbox only, and with nfs_export and index off it
 * decodes no file handle at all. No upper layer: read-only whatever a remount
 * says.
 */
static int build_toolbox_fs(struct dhi_err **err)
{
	static const char *const empty[] = { "mode=0555", "size=4k", NULL };
	static const char *const opts[] = { "lowerdir=" S_TBSRC ":" S_EMPTY, "xino=off",
					    "index=off", "nfs_export=off", "metacopy=off",
					    "redirect_dir=off", NULL };

	if (new_fs("tmpfs", empty, MOUNT_ATTR_RDONLY, S_EMPTY, err) < 0 ||
	    new_fs("overlay", opts, MOUNT_ATTR_RDONLY, S_TB, err) < 0)
		return dhi_err_prefix(err, "cannot serve the toolbox from its own filesystem");
	return 0;
}

/* --- the union's mask: what the toolbox's loader and libc read, from the toolbox --- */

/*
 * Paths inside the toolbox are walked here by hand, component by component,
 * with its symlinks spliced in as they would resolve were the toolbox the
 * root (an absolute target starts again at the toolbox's root, ".." stops
 * there). The kernel never follows a link of the toolbox for us, so nothing
 * leaves it. `cur` is the resolved path so far, without a leading slash.
 */
enum mask_do {
	MASK_WALK,		/* resolve only */
	MASK_LINK,		/* the toolbox's file, through /.dhi; nothing where it has none */
	MASK_LINK_OR_HIDE,	/* the toolbox's file, or a whiteout where it has none */
	MASK_HIDE,		/* a whiteout: the target's file is not there either */
};

#define MASK_MAX_LINKS 40

static void pop_component(char *cur)
{
	char *slash = strrchr(cur, '/');

	if (slash)
		*slash = '\0';
	else
		*cur = '\0';
}

/*
 * Walks `path` in the toolbox `tb`. With a mask fd, every directory on the way
 * is made in the mask and every symlink on the way copied there (so that the
 * path resolves in the union through the mask only, never through a directory
 * or link of the target's), and the last component gets `what`. With
 * MASK_WALK, the last component is followed too and `resolved` gets the
 * toolbox path it leads to. Returns 1 when that exists in the toolbox, 0
 * when not, -1 on an error of the mask's.
 */
static int mask_walk(int tb, int mask, const char *path, enum mask_do what, char *resolved,
		     size_t rsize, struct dhi_err **err)
{
	char todo[PATH_MAX], cur[PATH_MAX] = "", child[PATH_MAX];
	int links = 0;

	if (snprintf(todo, sizeof(todo), "%s", path) >= (int)sizeof(todo))
		return 0;
	for (;;) {
		char *p = todo, *c, *rest;
		bool last;
		struct stat st;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		c = p;
		rest = strchr(c, '/');
		if (rest)
			*rest++ = '\0';
		else
			rest = c + strlen(c);
		while (*rest == '/')
			rest++;
		last = !*rest;
		if (strcmp(c, ".") == 0 || strcmp(c, "..") == 0) {
			if (c[1] == '.')
				pop_component(cur);
			memmove(todo, rest, strlen(rest) + 1);
			continue;
		}
		if (snprintf(child, sizeof(child), "%s%s%s", cur, *cur ? "/" : "", c) >=
		    (int)sizeof(child))
			return 0;
		if (fstatat(tb, child, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			st.st_mode = 0;
			if (!last || what == MASK_WALK)
				return 0;
		}
		if (last && what != MASK_WALK) {
			char full[PATH_MAX];
			int has = st.st_mode ? mask_walk(tb, -1, child, MASK_WALK, full,
							 sizeof(full), err) : 0;

			if (has && what != MASK_HIDE) {
				dhi_autofree char *to = xasprintf(VIEW_TOOLBOX_DIR "/%s", full);

				if (symlinkat(to, mask, child) < 0 && errno != EEXIST)
					return dhi_err_set(err, errno, "cannot mask `/%s`", child);
				return 1;
			}
			if (what == MASK_LINK)
				return 0;
			if (mknodat(mask, child, S_IFCHR | 0600, makedev(0, 0)) < 0 && errno != EEXIST)
				return dhi_err_set(err, errno, "cannot hide `/%s`", child);
			return has;
		}
		if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX], next[PATH_MAX];
			ssize_t n = readlinkat(tb, child, target, sizeof(target) - 1);

			if (n <= 0 || ++links > MASK_MAX_LINKS)
				return 0;
			target[n] = '\0';
			if (mask >= 0 && symlinkat(target, mask, child) < 0 && errno != EEXIST)
				return dhi_err_set(err, errno, "cannot mask `/%s`", child);
			if (snprintf(next, sizeof(next), "%s/%s", target, rest) >= (int)sizeof(next))
				return 0;
			memcpy(todo, next, strlen(next) + 1);
			if (target[0] == '/')
				*cur = '\0';
			continue;
		}
		if (!S_ISDIR(st.st_mode) && !last)
			return 0;
		if (S_ISDIR(st.st_mode) && mask >= 0 && mkdirat(mask, child, 0755) < 0 &&
		    errno != EEXIST)
			return dhi_err_set(err, errno, "cannot mask `/%s`", child);
		memcpy(cur, child, strlen(child) + 1);
		memmove(todo, rest, strlen(rest) + 1);
	}
	if (resolved)
		snprintf(resolved, rsize, "%s", cur);
	return 1;
}

static int mask_add(int tb, int mask, const char *path, enum mask_do what, struct dhi_err **err)
{
	return mask_walk(tb, mask, path, what, NULL, 0, err) < 0 ? -1 : 0;
}

/* The toolbox's library directories, as /.dhi paths joined by ':' (glibc's order). */
static void toolbox_lib_path(int tb, char *out, size_t size)
{
	static const char *const dirs[] = {
		"/lib/" LIB_TRIPLET, "/usr/lib/" LIB_TRIPLET, "/lib64", "/usr/lib64", "/lib",
		"/usr/lib", "/usr/local/lib/" LIB_TRIPLET, "/usr/local/lib", NULL,
	};
	char seen[8][PATH_MAX];
	int n = 0;
	size_t len = 0;

	*out = '\0';
	for (int i = 0; dirs[i]; i++) {
		char r[PATH_MAX];
		bool dup = false;
		struct stat st;

		if (mask_walk(tb, -1, dirs[i], MASK_WALK, r, sizeof(r), NULL) != 1 ||
		    fstatat(tb, *r ? r : ".", &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
			continue;
		for (int j = 0; j < n && !dup; j++)
			dup = strcmp(seen[j], r) == 0;
		if (dup)
			continue;
		memcpy(seen[n++], r, sizeof(r));
		len += (size_t)snprintf(out + len, size - len, "%s" VIEW_TOOLBOX_DIR "/%s",
					len ? ":" : "", r);
		if (len >= size) {
			out[size - 1] = '\0';
			break;
		}
	}
}

/*
 * musl reads its library path from /etc/ld-musl-ARCH.path: the toolbox's own
 * (or musl's default), each directory under /.dhi.
 */
static int mask_musl_path(int tb, int mask, struct dhi_err **err)
{
	char buf[2048] = "/lib\n/usr/local/lib\n/usr/lib\n", out[4096];
	dhi_autoclose int fd = -1;
	size_t len = 0;
	char *save = NULL;
	ssize_t n;

	fd = openat(tb, MUSL_PATH_FILE + 1, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0 && (n = read(fd, buf, sizeof(buf) - 1)) > 0)
		buf[n] = '\0';
	dhi_close_reset(&fd);
	*out = '\0';
	for (char *d = strtok_r(buf, ":\n", &save); d; d = strtok_r(NULL, ":\n", &save))
		if (d[0] == '/' && len < sizeof(out))
			len += (size_t)snprintf(out + len, sizeof(out) - len,
						VIEW_TOOLBOX_DIR "%s\n", d);
	if (mask_add(tb, mask, MUSL_PATH_FILE, MASK_HIDE, err) < 0)
		return -1;
	/* the whiteout made the parent directories; the file replaces it */
	if (unlinkat(mask, MUSL_PATH_FILE + 1, 0) < 0 && errno != ENOENT)
		return dhi_err_set(err, errno, "cannot mask `%s`", MUSL_PATH_FILE);
	fd = openat(mask, MUSL_PATH_FILE + 1, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || fd_write_all(fd, out, strlen(out)) < 0)
		return dhi_err_set(err, errno, "cannot write `%s` in the mask", MUSL_PATH_FILE);
	return 0;
}

/*
 * Absolute symlinks in the toolbox's program directories (/usr/sbin/ip ->
 * /bin/ip) would be resolved in the union, among the target's files: their
 * targets are masked with the toolbox's.
 */
static int mask_program_links(int tb, int mask, struct dhi_err **err)
{
	static const char *const dirs[] = { "/usr/local/sbin", "/usr/local/bin", "/usr/sbin",
					    "/usr/bin", "/sbin", "/bin", NULL };
	char seen[6][PATH_MAX];
	int n = 0;

	for (int i = 0; dirs[i]; i++) {
		char r[PATH_MAX];
		bool dup = false;
		dhi_autoclose int dfd = -1;
		DIR *d;
		struct dirent *de;

		if (mask_walk(tb, -1, dirs[i], MASK_WALK, r, sizeof(r), NULL) != 1 || !*r)
			continue;
		for (int j = 0; j < n && !dup; j++)
			dup = strcmp(seen[j], r) == 0;
		if (dup)
			continue;
		memcpy(seen[n++], r, sizeof(r));
		dfd = openat(tb, r, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dfd < 0 || !(d = fdopendir(dfd)))
			continue;
		dfd = -1;	/* owned by d now */
		while ((de = readdir(d))) {
			char target[PATH_MAX];
			ssize_t len;

			if (de->d_type != DT_LNK && de->d_type != DT_UNKNOWN)
				continue;
			len = readlinkat(dirfd(d), de->d_name, target, sizeof(target) - 1);
			if (len <= 0 || target[0] != '/')
				continue;
			target[len] = '\0';
			if (mask_add(tb, mask, target, MASK_LINK, err) < 0) {
				closedir(d);
				return -1;
			}
		}
		closedir(d);
	}
	return 0;
}

/*
 * The union's top layer, where the target's files must not run. The merge is
 * noexec, so the toolbox's programs run from /.dhi (PATH), find their
 * libraries there (LD_LIBRARY_PATH), and the kernel finds their loader and
 * their scripts' interpreters at paths that the mask leads to /.dhi. What the
 * toolbox's loader and libc read at fixed paths is the toolbox's here, or
 * nothing: a preload list, the library cache and the loader's configuration,
 * nsswitch.conf (it names NSS modules to load), the gconv modules. Without the
 * mask the target would name the code those load, and /proc/<pid>/root leads
 * to its own mounts, where our noexec does not apply.
 */
static int build_mask(int tb, struct view_result *res, struct dhi_err **err)
{
	static const char *const opts[] = { "mode=0755", "size=1m", NULL };
	static const struct {
		const char *path;
		enum mask_do what;
	} entries[] = {
		{ GLIBC_LOADER, MASK_LINK },
		{ MUSL_LOADER, MASK_LINK },
		{ "/etc/ld.so.preload", MASK_HIDE },
		{ "/etc/ld.so.cache", MASK_HIDE },
		{ "/etc/ld.so.conf", MASK_LINK_OR_HIDE },
		{ "/etc/ld.so.conf.d", MASK_LINK_OR_HIDE },
		{ "/etc/nsswitch.conf", MASK_LINK_OR_HIDE },
		{ "/usr/lib/" LIB_TRIPLET "/gconv", MASK_LINK_OR_HIDE },
		{ "/usr/lib64/gconv", MASK_LINK },
		{ "/usr/lib/gconv", MASK_LINK },
		/* the interpreters of the toolbox's own scripts */
		{ "/bin/sh", MASK_LINK },
		{ "/bin/bash", MASK_LINK },
		{ "/usr/bin/env", MASK_LINK },
		{ "/usr/bin/perl", MASK_LINK },
		{ "/usr/bin/python3", MASK_LINK },
		{ NULL, 0 },
	};
	dhi_autoclose int mask = -1;

	if (new_fs("tmpfs", opts, 0, S_MASK, err) < 0)
		return dhi_err_prefix(err, "cannot mask the target's loader files");
	mask = open(S_MASK, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (mask < 0)
		return dhi_err_set(err, errno, "cannot open the mask");
	for (int i = 0; entries[i].path; i++)
		if (mask_add(tb, mask, entries[i].path, entries[i].what, err) < 0)
			return dhi_err_prefix(err, "cannot mask the target's loader files");
	if (mask_walk(tb, -1, MUSL_LOADER, MASK_WALK, NULL, 0, NULL) == 1 &&
	    mask_musl_path(tb, mask, err) < 0)
		return -1;
	if (mask_program_links(tb, mask, err) < 0)
		return -1;
	snprintf(res->path, sizeof(res->path), "%s", VIEW_TOOLBOX_PATH);
	toolbox_lib_path(tb, res->lib_path, sizeof(res->lib_path));
	return 0;
}

/*
 * Read-only overlay: the target's files first, the toolbox filling in the
 * rest; no file handle of it can be decoded (nfs_export, index off). Where the
 * target's files must not run, the whole merge is noexec, and the mask layer
 * (build_mask) lies over the target's files.
 */
static int build_union(bool noexec, struct dhi_err **err)
{
	static const char *const plain[] = { "lowerdir=" S_SKEL ":" S_TOP ":" S_TBSRC,
					     "redirect_dir=nofollow", "xino=off", "index=off",
					     "nfs_export=off", NULL };
	static const char *const masked[] = { "lowerdir=" S_MASK ":" S_SKEL ":" S_TOP ":" S_TBSRC,
					      "redirect_dir=nofollow", "xino=off", "index=off",
					      "nfs_export=off", NULL };

	return new_fs("overlay", noexec ? masked : plain,
		      MOUNT_ATTR_RDONLY | (noexec ? MOUNT_ATTR_NOEXEC : 0), S_VIEW, err);
}

/* The toolbox as root: a read-only tmpfs whose top-level entries bind the toolbox's. */
static int build_toolbox(int tb_fd, struct dhi_err **err)
{
	static const char *const opts[] = { "mode=0755", "size=1m", NULL };
	dhi_autoclose int dfd = -1;
	DIR *d;
	struct dirent *de;
	int ret = 0;

	if (new_fs("tmpfs", opts, 0, S_VIEW, err) < 0)
		return -1;
	dfd = openat(tb_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || !(d = fdopendir(dfd)))
		return dhi_err_set(err, errno, "cannot list the toolbox");
	dfd = -1;	/* owned by d now */
	while (ret == 0 && (de = readdir(d))) {
		dhi_autofree char *dst = xasprintf(S_VIEW "/%s", de->d_name);
		dhi_autoclose int tree = -1;
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(tb_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISLNK(st.st_mode)) {
			char link[PATH_MAX];
			ssize_t n = readlinkat(tb_fd, de->d_name, link, sizeof(link) - 1);

			if (n < 0)
				continue;
			link[n] = '\0';
			if (symlink(link, dst) < 0)
				ret = dhi_err_set(err, errno, "cannot create `%s`", dst);
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			if (mkdir(dst, st.st_mode & 07777) < 0) {
				ret = dhi_err_set(err, errno, "cannot create `%s`", dst);
				continue;
			}
		} else if (S_ISREG(st.st_mode)) {
			int f = open(dst, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);

			if (f < 0) {
				ret = dhi_err_set(err, errno, "cannot create `%s`", dst);
				continue;
			}
			close(f);
		} else {
			continue;
		}
		if (clone_tree_at(tb_fd, de->d_name, 1, &tree, err) < 0 ||
		    move_mount(tree, "", AT_FDCWD, dst, MOVE_MOUNT_F_EMPTY_PATH) < 0) {
			if (!*err)
				dhi_err_set(err, errno, "cannot mount `%s`", dst);
			ret = -1;
		}
	}
	closedir(d);
	if (ret < 0)
		return -1;
	{
		static const char *const points[] = { "target", ".dhi", ".dhi-scratch", "proc",
						      "dev", "sys", NULL };

		if (mkdirs(S_VIEW, points, err) < 0)
			return -1;
	}
	return 0;
}

/* Mounts the parts every view has: /target, /.dhi, the scratch tmpfs. */
static int graft_common(int all_fd, int tb_fd, int view_fd, bool noexec, struct dhi_err **err)
{
	static const char *const scratch[] = { "mode=1777", "size=64m", NULL };
	dhi_autofree char *scratch_path = xstrdup(S_VIEW VIEW_SCRATCH_DIR);

	if (graft(all_fd, ".", view_fd, VIEW_TARGET_DIR + 1, err) < 0)
		return dhi_err_prefix(err, "cannot mount the target at " VIEW_TARGET_DIR);
	if (graft(tb_fd, ".", view_fd, VIEW_TOOLBOX_DIR + 1, err) < 0)
		return dhi_err_prefix(err, "cannot mount the toolbox at " VIEW_TOOLBOX_DIR);
	if (new_fs("tmpfs", scratch, 0, scratch_path, err) < 0)
		return dhi_err_prefix(err, "cannot mount the scratch space");
	/* what the operator drops in the scratch space runs only where the target may */
	if (noexec && mount(NULL, scratch_path, NULL,
			    MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return dhi_err_set(err, errno, "cannot make the scratch space noexec");
	return 0;
}

/* In the toolbox view only /proc, /dev and /sys of the target are at their paths. */
static int graft_system(int all_fd, int view_fd, struct dhi_err **err)
{
	static const char *const sys[] = { "proc", "dev", "sys", NULL };

	for (int i = 0; sys[i]; i++) {
		struct dhi_err *e = NULL;

		if (graft(all_fd, sys[i], view_fd, sys[i], &e) < 0) {
			if (strcmp(sys[i], "sys") != 0) {
				*err = e;
				return dhi_err_prefix(err, "cannot mount the target's /%s", sys[i]);
			}
			dhi_err_clear(&e);
		}
	}
	return 0;
}

/* Builds the union; where the target may not run code, under the mask and noexec. */
static int union_view(const struct view_spec *spec, int tbsrc_fd, struct view_result *res,
		      struct dhi_err **err)
{
	if (spec->target_noexec && build_mask(tbsrc_fd, res, err) < 0)
		return -1;
	if (build_union(spec->target_noexec, err) < 0) {
		res->path[0] = res->lib_path[0] = '\0';
		return -1;
	}
	return 0;
}

int view_build(const struct view_spec *spec, struct view_result *res, struct dhi_err **err)
{
	static const char *const stage_dirs[] = { "all",  "top",  "tbsrc", "empty", "tb",
						  "mask", "skel", "view",  NULL };
	static const char *const skel_dirs[] = { "target", ".dhi", ".dhi-scratch", NULL };
	dhi_autoclose int all = -1, top = -1, all_fd = -1, tb_fd = -1, tbsrc_fd = -1;
	dhi_autoclose int view_fd = -1, proc = -1;
	enum view_mode mode = spec->mode;

	memset(res, 0, sizeof(*res));
	host_devs = spec->host_devs;

	/* Clone while still in the target's namespace: open_tree clones only our own mounts. */
	if (clone_tree_at(spec->target_root, "", 1, &all, err) < 0 ||
	    clone_tree_at(spec->target_root, "", 0, &top, err) < 0)
		return dhi_err_prefix(err, "cannot copy the target's mounts");
	/* every graft of the target is cloned from these two, so it inherits their flags */
	if (restrict_tree(all, spec, err) < 0 || restrict_tree(top, spec, err) < 0)
		return -1;

	if (unshare(CLONE_NEWNS) < 0)
		return dhi_err_set(err, errno, "cannot create a mount namespace");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return dhi_err_set(err, errno, "cannot make the mount namespace private");
	if (enter_staging(err) < 0)
		return dhi_err_prefix(err, "cannot build the view");
	if (mkdirs("", stage_dirs, err) < 0 || mkdirs(S_SKEL, skel_dirs, err) < 0)
		return -1;
	if (attach(all, S_ALL, err) < 0 || attach(top, S_TOP, err) < 0 ||
	    attach(spec->toolbox_tree, S_TBSRC, err) < 0)
		return dhi_err_prefix(err, "cannot build the view");
	/* mount_setattr made it read-only already where the kernel has it (5.12+) */
	if (make_ro(S_TBSRC, err) < 0 || build_toolbox_fs(err) < 0)
		return -1;

	if (restrict_attached(spec, spec->host_procself, err) < 0)
		return -1;
	all_fd = open(S_ALL, O_PATH | O_DIRECTORY | O_CLOEXEC);
	tb_fd = open(S_TB, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	tbsrc_fd = open(S_TBSRC, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (all_fd < 0 || tb_fd < 0 || tbsrc_fd < 0)
		return dhi_err_set(err, errno, "cannot open the staging mounts");

	if (mode == VIEW_AUTO) {
		if (!spec->same_release) {
			mode = VIEW_TOOLBOX;
			snprintf(res->reason, sizeof(res->reason), "%s",
				 spec->release_why && spec->release_why[0]
					 ? spec->release_why
					 : "toolbox and target are not the same distribution and "
					   "release");
		} else if (union_view(spec, tbsrc_fd, res, err) < 0) {
			char *why = dhi_err_string(*err);

			dhi_err_clear(err);
			mode = VIEW_TOOLBOX;
			snprintf(res->reason, sizeof(res->reason), "%s", why);
			free(why);
		} else {
			mode = VIEW_UNION;
			snprintf(res->reason, sizeof(res->reason),
				 "toolbox and target are the same distribution and release");
		}
	} else if (mode == VIEW_UNION && union_view(spec, tbsrc_fd, res, err) < 0) {
		return dhi_err_prefix(err, "cannot build the union view");
	}
	if (mode == VIEW_TOOLBOX && build_toolbox(tb_fd, err) < 0)
		return dhi_err_prefix(err, "cannot build the toolbox view");

	view_fd = open(S_VIEW, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (view_fd < 0)
		return dhi_err_set(err, errno, "cannot open the view");
	if (mode == VIEW_UNION) {
		dhi_autoclose int mask = -1;

		if (spec->target_noexec) {
			mask = open(S_MASK, O_PATH | O_DIRECTORY | O_CLOEXEC);
			if (mask < 0)
				return dhi_err_set(err, errno, "cannot open the mask");
		}
		if (graft_submounts(spec->host_procself, all_fd, view_fd, mask, err) < 0)
			return -1;
	} else if (graft_system(all_fd, view_fd, err) < 0) {
		return -1;
	}
	if (graft_common(all_fd, tb_fd, view_fd, spec->target_noexec, err) < 0)
		return -1;
	if (mode == VIEW_TOOLBOX && make_ro(S_VIEW, err) < 0)
		return -1;
	if (mount(NULL, S_VIEW, NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return dhi_err_set(err, errno, "cannot make the view private");

	dhi_close_reset(&all_fd);
	dhi_close_reset(&tb_fd);
	dhi_close_reset(&tbsrc_fd);
	dhi_close_reset(&view_fd);
	if (enter_root(S_VIEW, err) < 0)
		return dhi_err_prefix(err, "cannot enter the view");

	/* A container can put anything over its /proc; only a real procfs is trusted. */
	proc = open("/proc", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (proc < 0)
		return dhi_err_set(err, errno, "the target has no /proc");
	if (path_check_fs(proc, PROC_SUPER_MAGIC, "the target's /proc", err) < 0)
		return -1;
	res->mode = mode;
	return 0;
}

int view_open_host_devices(int out[VIEW_HOST_DEVS], struct dhi_err **err)
{
	for (int i = 0; i < VIEW_HOST_DEVS; i++)
		out[i] = -1;
	for (int i = 0; i < VIEW_HOST_DEVS; i++) {
		dhi_autofree char *path = xasprintf("/dev/%s", view_host_devices[i]);
		dhi_autoclose int fd = -1;
		struct stat st;

		/* (the host's own /dev, where dhidebug runs: no container path) */
		fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			dhi_err_set(err, errno, "cannot open `%s`", path);
			goto fail;
		}
		if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode)) {
			dhi_err_set(err, 0, "the host's `%s` is not a character device", path);
			goto fail;
		}
		if (clone_tree_at(fd, "", 0, &out[i], err) < 0)
			goto fail;
	}
	return 0;
fail:
	for (int i = 0; i < VIEW_HOST_DEVS; i++)
		dhi_close_reset(&out[i]);
	return dhi_err_prefix(err, "cannot take the host's devices for the session");
}

int view_open_toolbox(int toolbox_dir, int *out, struct dhi_err **err)
{
	struct mount_attr attr = {
		.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
		.propagation = MS_PRIVATE,
	};
	dhi_autoclose int tree = -1;

	if (clone_tree_at(toolbox_dir, "", 1, &tree, err) < 0)
		return dhi_err_prefix(err, "cannot use the toolbox");
	/* 5.12+; older kernels get the same from make_ro() once the tree is attached */
	if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0 &&
	    errno != ENOSYS)
		return dhi_err_set(err, errno, "cannot make the toolbox read-only");
	*out = dhi_steal_fd(&tree);
	return 0;
}
