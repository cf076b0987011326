// SPDX-License-Identifier: Apache-2.0
/* selfexe.c - re-execute from a read-only overlay view (or a sealed memfd) of an exec-only copy. */
#include "common/selfexe.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdio.h"

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)
#define EXEC_ONLY 0111

/* Copies all of `from` (of `size` bytes) into `to`. */
static int copy_all(int to, int from, off_t size)
{
	off_t off = 0;

	while (off < size) {
		ssize_t n = sendfile(to, from, &off, (size_t)(size - off));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
	}
	return 0;
}

/* Whether `fd` is what an exec-only copy of a binary like `exe` must be: root's, 0111, whole. */
static bool exec_only_copy_of(int fd, const struct stat *exe)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == 0 &&
	       (st.st_mode & 07777) == EXEC_ONLY && st.st_size == exe->st_size;
}

/*
 * The exec-only copy of our binary `exe` in the private directory `dir`, named
 * after the binary's identity: made (whole, synced, then linked) the first
 * time a build runs, when the copies of earlier builds are removed. Its name
 * in `name`.
 */
static int exec_only_copy(int dir, int exe, char *name, size_t len, struct dhi_err **err)
{
	dhi_autoclose int fd = -1, tmp = -1;
	char path[64];
	struct stat st;

	if (fstat(exe, &st) < 0)
		return dhi_err_set(err, errno, "cannot stat our own binary");
	snprintf(name, len, "dhidebug-%llx-%llx-%lld-%lld.%09ld", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino, (long long)st.st_size, (long long)st.st_mtim.tv_sec,
		 st.st_mtim.tv_nsec);
	fd = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0)
		return exec_only_copy_of(fd, &st)
			       ? 0
			       : dhi_err_set(err, 0, "`%s/%s` is not what dhidebug made", SELFEXE_DIR,
					     name);
	tmp = openat(dir, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, EXEC_ONLY);
	if (tmp < 0 || copy_all(tmp, exe, st.st_size) < 0 || fchmod(tmp, EXEC_ONLY) < 0 ||
	    fsync(tmp) < 0)
		return dhi_err_set(err, errno, "cannot copy our own binary to %s", SELFEXE_DIR);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", tmp);
	if (linkat(AT_FDCWD, path, dir, name, AT_SYMLINK_FOLLOW) < 0 && errno != EEXIST)
		return dhi_err_set(err, errno, "cannot keep our own binary in %s", SELFEXE_DIR);
	{
		/* the copies of other builds are of no use from now on */
		dhi_autoclose int d = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		DIR *dp = d >= 0 ? fdopendir(d) : NULL;
		struct dirent *de;

		if (dp) {
			d = -1;
			while ((de = readdir(dp)))
				if (strncmp(de->d_name, "dhidebug-", 9) == 0 &&
				    strcmp(de->d_name, name) != 0)
					unlinkat(dir, de->d_name, 0);
			closedir(dp);
		}
	}
	return 0;
}

/* A detached, empty, read-only tmpfs: overlayfs wants two layers when it has no upper one. */
static int empty_dir(struct dhi_err **err)
{
	dhi_autoclose int fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
	int mnt;

	if (fs < 0 || fsconfig(fs, FSCONFIG_SET_STRING, "size", "4k", 0) < 0 ||
	    fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0555", 0) < 0 ||
	    fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return dhi_err_set(err, errno, "cannot create an empty tmpfs");
	mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
				   MOUNT_ATTR_NOEXEC);
	if (mnt < 0)
		return dhi_err_set(err, errno, "cannot mount an empty tmpfs");
	return mnt;
}

/*
 * The binary through a detached overlayfs whose layers are its directory and
 * an empty one: no upper layer, so the superblock itself is read-only and no
 * remount can change that; nfs_export and index off, so no file handle of it
 * can be decoded. Nothing is copied, and the mount is reachable only through
 * the fd we return (and the exe link of what runs it).
 */
static int open_overlay_copy(int dirfd, const char *name, struct dhi_err **err)
{
	static const char *const flags[][2] = {
		{ "xino", "off" }, { "index", "off" }, { "nfs_export", "off" },
		{ "metacopy", "off" }, { "redirect_dir", "off" },
	};
	dhi_autoclose int fs = -1, mnt = -1, empty = empty_dir(err);
	char lower[64];
	int fd;

	if (empty < 0)
		return -1;
	fs = fsopen("overlay", FSOPEN_CLOEXEC);
	if (fs < 0)
		return dhi_err_set(err, errno, "cannot open an overlay filesystem context");
	snprintf(lower, sizeof(lower), "/proc/self/fd/%d:/proc/self/fd/%d", dirfd, empty);
	if (fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir", lower, 0) < 0)
		return dhi_err_set(err, errno, "cannot set the overlay's layers");
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (fsconfig(fs, FSCONFIG_SET_STRING, flags[i][0], flags[i][1], 0) < 0)
			return dhi_err_set(err, errno, "cannot set overlay option `%s`", flags[i][0]);
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return dhi_err_set(err, errno, "cannot create the overlay");
	mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	if (mnt < 0)
		return dhi_err_set(err, errno, "cannot mount the overlay");
	fd = openat(mnt, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return dhi_err_set(err, errno, "cannot open `%s` on the overlay", name);
	return fd;
}

/* Where overlayfs cannot be mounted: a memfd copy, sealed so that nothing can write it. */
static int open_memfd_copy(int exe, struct dhi_err **err)
{
	dhi_autoclose int mfd = memfd_create("dhidebug", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	struct stat st;

	if (mfd < 0)
		return dhi_err_set(err, errno, "cannot create a memfd");
	if (fstat(exe, &st) < 0)
		return dhi_err_set(err, errno, "cannot stat our own binary");
	if (copy_all(mfd, exe, st.st_size) < 0)
		return dhi_err_set(err, errno, "cannot copy our own binary");
	if (fchmod(mfd, EXEC_ONLY) < 0 || fcntl(mfd, F_ADD_SEALS, SEALS) < 0)
		return dhi_err_set(err, errno, "cannot seal the copy of our own binary");
	return dhi_steal_fd(&mfd);
}

int selfexe_open_sealed(struct dhi_err **err)
{
	char name[128];
	dhi_autoclose int exe = -1, dir = -1;
	struct dhi_err *ovl_err = NULL;
	int sealed = -1;

	exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (exe < 0)
		return dhi_err_set(err, errno, "cannot open our own binary");
	dir = fd_open_private_dir(SELFEXE_DIR);
	if (dir > 0 && exec_only_copy(dir, exe, name, sizeof(name), &ovl_err) == 0) {
		struct stat st;

		sealed = open_overlay_copy(dir, name, &ovl_err);
		/* the copy that was checked, not one put at its name since */
		if (sealed >= 0 && (fstat(exe, &st) < 0 || !exec_only_copy_of(sealed, &st))) {
			dhi_close_reset(&sealed);
			dhi_err_set(&ovl_err, 0, "the copy changed under us");
		}
	}
	if (sealed >= 0)
		return sealed;
	dhi_err_clear(&ovl_err);
	sealed = open_memfd_copy(exe, err);
	if (sealed < 0)
		return dhi_err_prefix(err, "cannot make a sealed copy of dhidebug");
	return sealed;
}
