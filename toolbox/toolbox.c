// SPDX-License-Identifier: Apache-2.0
/* toolbox.c - open a toolbox directory and learn what it is. */
#include "toolbox/toolbox.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/xalloc.h"
#include "common/path.h"

/* os-release(5) is a few hundred bytes */
#define OS_RELEASE_MAX (64 * 1024)

void toolbox_read_os_release(int rootfd, struct os_release *out, char **notice)
{
	static const char *const paths[] = { "/etc/os-release", "/usr/lib/os-release", NULL };

	memset(out, 0, sizeof(*out));
	for (int i = 0; paths[i]; i++) {
		dhi_autofree char *buf = NULL;
		struct dhi_err *e = NULL;
		size_t len;

		if (path_read_regular_at(rootfd, paths[i], OS_RELEASE_MAX, &buf, &len, &e) < 0) {
			/* there but unusable: as if missing, and said once */
			if (e->errnum != ENOENT && notice && !*notice)
				*notice = dhi_err_string(e);
			dhi_err_clear(&e);
			continue;
		}
		os_release_parse(buf, len, out);
		return;
	}
}

static bool is_dir_at(int rootfd, const char *path)
{
	dhi_autoclose int fd = -1;
	struct dhi_err *e = NULL;

	if (path_open_at(rootfd, path, O_PATH | O_DIRECTORY, 0, &fd, &e) < 0) {
		dhi_err_clear(&e);
		return false;
	}
	return true;
}

static bool is_executable_at(int rootfd, const char *path)
{
	dhi_autoclose int fd = -1;
	struct dhi_err *e = NULL;
	struct stat st;

	if (path_open_at(rootfd, path, O_PATH, 0, &fd, &e) < 0) {
		dhi_err_clear(&e);
		return false;
	}
	return fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
}

int toolbox_open_dir(const char *path, struct toolbox *tb, struct dhi_err **err)
{
	static const char *const shells[] = { "/bin/bash", "/bin/sh", NULL };
	struct stat st;

	memset(tb, 0, sizeof(*tb));
	tb->dirfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (tb->dirfd < 0)
		return dhi_err_set(err, errno, "cannot open toolbox `%s`", path);
	if (fstat(tb->dirfd, &st) < 0 || !S_ISDIR(st.st_mode)) {
		toolbox_close(tb);
		return dhi_err_set(err, ENOTDIR, "cannot open toolbox `%s`", path);
	}
	{
		/* the host's own root would hand every host file and binary to the session */
		struct stat root;

		if (stat("/", &root) == 0 && root.st_dev == st.st_dev && root.st_ino == st.st_ino) {
			toolbox_close(tb);
			return dhi_err_set(err, 0, "`%s` is the host's root directory, not a toolbox",
					   path);
		}
	}
	tb->ref = xstrdup(path);
	toolbox_read_os_release(tb->dirfd, &tb->os, &tb->os_notice);
	for (int i = 0; shells[i] && !tb->shell; i++)
		if (is_executable_at(tb->dirfd, shells[i]))
			tb->shell = shells[i];
	/* any directory would do otherwise, and the session then finds no program at all */
	if (!tb->shell && !is_dir_at(tb->dirfd, "/bin") && !is_dir_at(tb->dirfd, "/usr/bin")) {
		toolbox_close(tb);
		return dhi_err_set(err, 0, "`%s` is not a toolbox (no shell, no `/bin` or "
				   "`/usr/bin`: a toolbox is a root filesystem of programs)", path);
	}
	return 0;
}

void toolbox_close(struct toolbox *tb)
{
	dhi_close_reset(&tb->dirfd);
	free(tb->ref);
	tb->ref = NULL;
	free(tb->os_notice);
	tb->os_notice = NULL;
}
