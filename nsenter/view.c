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
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/xalloc.h"
#include "nsenter/cgroup.h"
#include "nsenter/path.h"

/*
 * Layout while building, all on a private staging tmpfs that becomes our root
 * first and is detached when we pivot into the finished view:
 *   /all   the target's root with every submount (recursive clone)
 *   /top   the target's root mount alone (the union's upper lower layer)
 *   /tb    the toolbox, read-only
 *   /skel  empty mount points that the union root must offer
 *   /view  the view being built
 */
#define S_ALL "/all"
#define S_TOP "/top"
#define S_TB "/tb"
#define S_SKEL "/skel"
#define S_VIEW "/view"

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
 * `opts` is a NULL-terminated list of "key=value" or "flag" strings.
 */
static int new_fs(const char *fstype, const char *const *opts, int ro, const char *target,
		  struct dhi_err **err)
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
		mnt = fsmount(fs, FSMOUNT_CLOEXEC,
			      MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (ro ? MOUNT_ATTR_RDONLY : 0));
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
	if (mount(fstype, target, fstype, MS_NOSUID | MS_NODEV | (ro ? MS_RDONLY : 0), joined) < 0)
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

	if (restrict_by_setattr || !(spec->target_ro || spec->target_noexec))
		return 0;
	fl |= (spec->target_ro ? MS_RDONLY : 0) | (spec->target_noexec ? MS_NOEXEC : 0);
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
	/* (only what restrict_tree() set: a /dev the target made nodev itself stays so) */
	if (strcmp(dst_rel, "dev") == 0 && restrict_by_setattr && restricted_nodev &&
	    mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &dev, sizeof(dev)) < 0)
		return dhi_err_set(err, errno, "cannot allow devices on the target's /dev");
	return 0;
}

/*
 * The target's direct submounts (volumes, /proc, /dev, /sys, secrets), read
 * from our own mountinfo: the children of the mount at /all. Their children
 * come along with each recursive clone.
 */
static int graft_submounts(int host_procself, int all_fd, int view_fd, struct dhi_err **err)
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
			if (parent != all_id || strncmp(mp, S_ALL "/", sizeof(S_ALL)) != 0)
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

static int build_union(struct dhi_err **err)
{
	static const char *const opts[] = { "lowerdir=" S_SKEL ":" S_TOP ":" S_TB,
					    "redirect_dir=nofollow", "xino=off", NULL };

	/* read-only overlay: the target's files first, the toolbox filling in the rest */
	return new_fs("overlay", opts, 1, S_VIEW, err);
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

int view_build(const struct view_spec *spec, struct view_result *res, struct dhi_err **err)
{
	static const char *const stage_dirs[] = { "all", "top", "tb", "skel", "view", NULL };
	static const char *const skel_dirs[] = { "target", ".dhi", ".dhi-scratch", NULL };
	dhi_autoclose int all = -1, top = -1, all_fd = -1, tb_fd = -1, view_fd = -1, proc = -1;
	enum view_mode mode = spec->mode;

	memset(res, 0, sizeof(*res));

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
	    attach(spec->toolbox_tree, S_TB, err) < 0)
		return dhi_err_prefix(err, "cannot build the view");
	/* mount_setattr made it read-only already where the kernel has it (5.12+) */
	if (make_ro(S_TB, err) < 0)
		return -1;

	if (restrict_attached(spec, spec->host_procself, err) < 0)
		return -1;
	all_fd = open(S_ALL, O_PATH | O_DIRECTORY | O_CLOEXEC);
	tb_fd = open(S_TB, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (all_fd < 0 || tb_fd < 0)
		return dhi_err_set(err, errno, "cannot open the staging mounts");

	if (mode == VIEW_AUTO) {
		if (!spec->same_release) {
			mode = VIEW_TOOLBOX;
			snprintf(res->reason, sizeof(res->reason), "%s",
				 spec->release_why && spec->release_why[0]
					 ? spec->release_why
					 : "toolbox and target are not the same distribution and "
					   "release");
		} else if (build_union(err) < 0) {
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
	} else if (mode == VIEW_UNION && build_union(err) < 0) {
		return dhi_err_prefix(err, "cannot build the union view");
	}
	if (mode == VIEW_TOOLBOX && build_toolbox(tb_fd, err) < 0)
		return dhi_err_prefix(err, "cannot build the toolbox view");

	view_fd = open(S_VIEW, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (view_fd < 0)
		return dhi_err_set(err, errno, "cannot open the view");
	if (mode == VIEW_UNION) {
		if (graft_submounts(spec->host_procself, all_fd, view_fd, err) < 0)
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
