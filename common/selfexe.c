// SPDX-License-Identifier: Apache-2.0
/* selfexe.c - re-execute from a read-only overlay view (or a sealed memfd) of our own binary. */
#include "common/selfexe.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

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
	off_t off = 0;

	if (mfd < 0)
		return dhi_err_set(err, errno, "cannot create a memfd");
	if (fstat(exe, &st) < 0)
		return dhi_err_set(err, errno, "cannot stat our own binary");
	while (off < st.st_size) {
		ssize_t n = sendfile(mfd, exe, &off, (size_t)(st.st_size - off));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return dhi_err_set(err, n < 0 ? errno : EIO, "cannot copy our own binary");
	}
	if (fchmod(mfd, 0555) < 0 || fcntl(mfd, F_ADD_SEALS, SEALS) < 0)
		return dhi_err_set(err, errno, "cannot seal the copy of our own binary");
	return dhi_steal_fd(&mfd);
}

int selfexe_open_sealed(struct dhi_err **err)
{
	char path[PATH_MAX], copy[PATH_MAX];
	dhi_autoclose int exe = -1, dir = -1;
	struct dhi_err *ovl_err = NULL;
	int sealed = -1;
	ssize_t n;

	n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	if (n < 0)
		return dhi_err_set(err, errno, "cannot find our own binary");
	path[n] = '\0';
	exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (exe < 0)
		return dhi_err_set(err, errno, "cannot open our own binary");
	memcpy(copy, path, (size_t)n + 1);
	dir = open(dirname(copy), O_PATH | O_DIRECTORY | O_CLOEXEC);
	memcpy(copy, path, (size_t)n + 1);
	if (dir >= 0) {
		struct stat a, b;

		sealed = open_overlay_copy(dir, basename(copy), &ovl_err);
		/* the very file that runs, not one put at its path since */
		if (sealed >= 0 && (fstat(sealed, &a) < 0 || fstat(exe, &b) < 0 ||
				    a.st_ino != b.st_ino || a.st_size != b.st_size ||
				    a.st_mtime != b.st_mtime)) {
			dhi_close_reset(&sealed);
			dhi_err_set(&ovl_err, 0, "the binary changed under us");
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
