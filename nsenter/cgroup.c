// SPDX-License-Identifier: Apache-2.0
/* cgroup.c - join the target's cgroups from the host side. */
#include "nsenter/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/xalloc.h"
#include "common/path.h"

#define MAX_HIER 32

struct hier {
	char *controllers;	/* "cpu,cpuacct", "name=systemd", "" for v2 */
	char *path;		/* cgroup path relative to the hierarchy root */
	int dirfd;
};

void cgroup_unescape_mountinfo(char *s)
{
	char *o = s;

	for (char *p = s; *p; p++) {
		if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' &&
		    p[3] >= '0' && p[3] <= '7') {
			*o++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
			p += 3;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
}

/* True when every controller of the comma list `want` is an option in `opts`. */
static bool has_controllers(const char *opts, const char *want)
{
	dhi_autofree char *w = xstrdup(want);
	char *save = NULL;

	for (char *c = strtok_r(w, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
		size_t n = strlen(c);
		const char *p = opts;
		bool found = false;

		while ((p = strstr(p, c)) != NULL) {
			if ((p == opts || p[-1] == ',') && (p[n] == ',' || p[n] == '\0')) {
				found = true;
				break;
			}
			p += n;
		}
		if (!found)
			return false;
	}
	return true;
}

/* Finds the host mount point of a hierarchy (its root mounted, not a bind of a subtree). */
static char *find_mount(const char *mountinfo, const char *controllers)
{
	dhi_autofree char *copy = xstrdup(mountinfo);
	char *save = NULL;

	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[6] = { 0 }, *p = line, *sep, *fstype, *opts;
		int i;

		for (i = 0; i < 5 && p; i++) {
			f[i] = p;
			p = strchr(p, ' ');
			if (p)
				*p++ = '\0';
		}
		if (i < 5 || !p || !(sep = strstr(p, " - ")))
			continue;
		fstype = sep + 3;
		p = strchr(fstype, ' ');
		if (!p)
			continue;
		*p++ = '\0';
		p = strchr(p, ' ');	/* skip the source */
		if (!p)
			continue;
		opts = p + 1;
		if (strcmp(f[3], "/") != 0)
			continue;
		if (controllers[0] == '\0' ? strcmp(fstype, "cgroup2") == 0
					   : (strcmp(fstype, "cgroup") == 0 &&
					      has_controllers(opts, controllers))) {
			cgroup_unescape_mountinfo(f[4]);
			return xstrdup(f[4]);
		}
	}
	return NULL;
}

static int read_small(int dirfd, const char *name, char **out, struct dhi_err **err)
{
	dhi_autoclose int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return dhi_err_set(err, errno, "cannot open `%s`", name);
	return fd_read_file(fd, 65536, out, NULL, err);
}

/* A cgroup is frozen when v1's freezer.state or v2's cgroup.events says so. */
static bool is_frozen(const struct hier *h)
{
	dhi_autofree char *buf = NULL;
	struct dhi_err *e = NULL;

	if (read_small(h->dirfd, "freezer.state", &buf, &e) == 0)
		return strncmp(buf, "FROZEN", 6) == 0 || strncmp(buf, "FREEZING", 8) == 0;
	dhi_err_clear(&e);
	if (read_small(h->dirfd, "cgroup.events", &buf, &e) == 0)
		return strstr(buf, "frozen 1") != NULL;
	dhi_err_clear(&e);
	return false;
}

static int join_one(const struct hier *h, pid_t pid, struct dhi_err **err)
{
	dhi_autoclose int fd = openat(h->dirfd, "cgroup.procs", O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	char buf[16];
	int n = snprintf(buf, sizeof(buf), "%d\n", (int)pid);

	/* "0" is the writing process itself, in v1 and v2 alike */
	if (fd < 0 || fd_write_all(fd, buf, (size_t)n) < 0)
		return dhi_err_set(err, errno,
				   "cannot join the target's cgroup `%s`%s%s (--no-cgroup skips this)",
				   h->path, h->controllers[0] ? " of " : "",
				   h->controllers[0] ? h->controllers : "");
	return 0;
}

int cgroup_join_target(int procfd, pid_t pid, struct dhi_err **err)
{
	dhi_autofree char *cg = NULL, *mountinfo = NULL;
	dhi_autoclose int mi = -1;
	struct hier h[MAX_HIER];
	int n = 0, ret = -1;
	char *save = NULL;

	if (read_small(procfd, "cgroup", &cg, err) < 0)
		return dhi_err_prefix(err, "cannot read the target's cgroups");
	mi = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	if (mi < 0)
		return dhi_err_set(err, errno, "cannot open /proc/self/mountinfo");
	if (fd_read_file(mi, 16 << 20, &mountinfo, NULL, err) < 0)
		return dhi_err_prefix(err, "cannot read /proc/self/mountinfo");

	for (char *line = strtok_r(cg, "\n", &save); line && n < MAX_HIER;
	     line = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		dhi_autofree char *mnt = NULL;
		dhi_autoclose int mfd = -1;
		const char *rel;

		if (!c2)
			continue;
		*c1 = *c2 = '\0';
		mnt = find_mount(mountinfo, c1 + 1);
		if (!mnt)
			continue;	/* hierarchy not mounted on the host: nothing to join */
		mfd = open(mnt, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (mfd < 0)
			continue;
		for (rel = c2 + 1; *rel == '/'; rel++)
			;
		h[n].controllers = c1 + 1;
		h[n].path = c2 + 1;
		if (path_open_at(mfd, *rel ? rel : ".", O_PATH | O_DIRECTORY, PATH_F_NO_SYMLINKS,
				 &h[n].dirfd, err) < 0) {
			dhi_err_prefix(err, "cannot find the target's cgroup");
			goto out;
		}
		n++;
	}
	for (int i = 0; i < n; i++) {
		if (is_frozen(&h[i])) {
			dhi_err_set(err, 0, "the target is paused (its cgroup is frozen)");
			goto out;
		}
	}
	for (int i = 0; i < n; i++) {
		if (join_one(&h[i], pid, err) < 0)
			goto out;
	}
	ret = 0;
out:
	for (int i = 0; i < n; i++)
		close(h[i].dirfd);
	return ret;
}
