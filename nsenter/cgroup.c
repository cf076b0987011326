// SPDX-License-Identifier: Apache-2.0
/* cgroup.c - join the target's cgroups from the host side. */
#include "nsenter/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/xalloc.h"
#include "common/path.h"

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

/*
 * A cgroup is frozen when v1's freezer.state (the freezer hierarchy's) or
 * v2's cgroup.events says so; `controllers` is the hierarchy's ("" for v2).
 */
static bool is_frozen(int dirfd, const char *controllers)
{
	dhi_autofree char *buf = NULL;
	struct dhi_err *e = NULL;

	if (!controllers[0]) {
		if (read_small(dirfd, "cgroup.events", &buf, &e) == 0)
			return strstr(buf, "frozen 1") != NULL;
	} else if (has_controllers(controllers, "freezer")) {
		if (read_small(dirfd, "freezer.state", &buf, &e) == 0)
			return strncmp(buf, "FROZEN", 6) == 0 || strncmp(buf, "FREEZING", 8) == 0;
	}
	dhi_err_clear(&e);
	return false;
}

static int join_error(struct dhi_err **err, int e, const char *name)
{
	return dhi_err_set(err, e, "cannot join the target's cgroup %s (--no-cgroup skips this)",
			   name);
}

void cgroup_plan_init(struct cgroup_plan *p)
{
	*p = (struct cgroup_plan){ .v2 = -1 };
}

void cgroup_plan_close(struct cgroup_plan *p)
{
	for (int i = 0; i < p->nv1; i++) {
		dhi_close_reset(&p->tasks[i]);
		free(p->v1_name[i]);
	}
	dhi_close_reset(&p->v2);
	free(p->v2_name);
	cgroup_plan_init(p);
}

/* One hierarchy's line of /proc/<pid>/cgroup ("ID:CONTROLLERS:/PATH"), opened into the plan. */
static int plan_add(struct cgroup_plan *p, const char *mountinfo, char *line, struct dhi_err **err)
{
	char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	dhi_autofree char *mnt = NULL, *name = NULL;
	dhi_autoclose int mfd = -1, dir = -1;
	const char *controllers, *rel;

	if (!c2)
		return 0;
	*c1 = *c2 = '\0';
	controllers = c1 + 1;
	mnt = find_mount(mountinfo, controllers);
	if (!mnt)
		return 0;	/* hierarchy not mounted on the host: nothing to join */
	mfd = open(mnt, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (mfd < 0)
		return 0;
	for (rel = c2 + 1; *rel == '/'; rel++)
		;
	name = controllers[0] ? xasprintf("`%s` of %s", c2 + 1, controllers)
			      : xasprintf("`%s`", c2 + 1);
	if (path_open_at(mfd, *rel ? rel : ".", O_PATH | O_DIRECTORY, PATH_F_NO_SYMLINKS, &dir,
			 err) < 0)
		return dhi_err_prefix(err, "cannot find the target's cgroup");
	if (is_frozen(dir, controllers))
		return dhi_err_set(err, 0, "the target is paused (its cgroup is frozen)");
	if (!controllers[0]) {
		if (p->v2 >= 0)
			return 0;
		p->v2 = dhi_steal_fd(&dir);
		p->v2_name = dhi_steal_ptr(&name);
		return 0;
	}
	if (p->nv1 == CGROUP_MAX_HIER)
		return 0;
	p->tasks[p->nv1] = openat(dir, "tasks", O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (p->tasks[p->nv1] < 0)
		return join_error(err, errno, name);
	p->v1_name[p->nv1++] = dhi_steal_ptr(&name);
	return 0;
}

int cgroup_plan_open(int procfd, struct cgroup_plan *p, struct dhi_err **err)
{
	dhi_autofree char *cg = NULL, *mountinfo = NULL;
	dhi_autoclose int mi = -1;
	char *save = NULL;

	cgroup_plan_init(p);
	if (read_small(procfd, "cgroup", &cg, err) < 0)
		return dhi_err_prefix(err, "cannot read the target's cgroups");
	mi = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	if (mi < 0)
		return dhi_err_set(err, errno, "cannot open /proc/self/mountinfo");
	if (fd_read_file(mi, 16 << 20, &mountinfo, NULL, err) < 0)
		return dhi_err_prefix(err, "cannot read /proc/self/mountinfo");
	for (char *line = strtok_r(cg, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (plan_add(p, mountinfo, line, err) < 0) {
			cgroup_plan_close(p);
			return -1;
		}
	}
	return 0;
}

/* Whether this process has one thread: /proc/self/task's link count is 2 + threads. */
static bool single_threaded(void)
{
	struct stat st;

	return stat("/proc/self/task", &st) == 0 && st.st_nlink == 3;
}

pid_t cgroup_plan_fork(struct cgroup_plan *p)
{
	p->v2_born = false;
	if (p->v2 >= 0 && single_threaded()) {
		struct clone_args ca = {
			.flags = CLONE_INTO_CGROUP,
			.exit_signal = SIGCHLD,
			.cgroup = (__u64)p->v2,
		};
		/*
		 * Like fork(2) without libc's fork handlers, which a process with one
		 * thread does not need: no lock can be held by another thread.
		 */
		long pid = syscall(SYS_clone3, &ca, sizeof(ca));

		if (pid >= 0) {
			p->v2_born = true;
			return (pid_t)pid;
		}
		/* ENOSYS (before 5.3), E2BIG or EINVAL (no CLONE_INTO_CGROUP before 5.7), … */
		if (errno == EAGAIN || errno == ENOMEM)
			return -1;
	}
	return fork();
}

int cgroup_plan_join_self(struct cgroup_plan *p, struct dhi_err **err)
{
	for (int i = 0; i < p->nv1; i++) {
		/* "0": the writing thread itself, without the global lock a migration takes */
		if (fd_write_all(p->tasks[i], "0\n", 2) < 0)
			return join_error(err, errno, p->v1_name[i]);
	}
	return 0;
}

int cgroup_plan_join_rest(struct cgroup_plan *p, pid_t pid, struct dhi_err **err)
{
	dhi_autoclose int fd = -1;
	char buf[16];
	int n;

	if (p->v2 < 0 || p->v2_born)
		return 0;
	fd = openat(p->v2, "cgroup.procs", O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	n = snprintf(buf, sizeof(buf), "%d\n", (int)pid);
	if (fd < 0 || fd_write_all(fd, buf, (size_t)n) < 0)
		return join_error(err, errno, p->v2_name);
	return 0;
}
