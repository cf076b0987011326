// SPDX-License-Identifier: Apache-2.0
/* proc.c - check a runtime's pid against what the host's /proc says about it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdio.h"
#include "injector/runtime/adapter.h"

/*
 * Clocks differ by up to a second or two: /proc/stat's btime is whole seconds
 * and follows wall-clock steps, a pid file's mtime is the file system's, and
 * an API's StartedAt is taken after the process was created.
 */
#define STARTED_BY_SLACK 2

static int read_small(const char *path, char **buf)
{
	dhi_autoclose int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct dhi_err *err = NULL;

	if (fd < 0)
		return -1;
	if (fd_read_file(fd, 64 * 1024, buf, NULL, &err) < 0) {
		dhi_err_clear(&err);
		return -1;
	}
	return 0;
}

/* State (field 3) and start time (field 22) of /proc/<pid>/stat; comm may hold any byte. */
static int proc_stat(pid_t pid, char *state, unsigned long long *start)
{
	dhi_autofree char *buf = NULL;
	char path[64];
	char *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_small(path, &buf) < 0)
		return -1;
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || !p[2])
		return -1;
	p += 2;
	*state = *p;
	for (int field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (!p)
			return -1;
		p++;
	}
	*start = strtoull(p, NULL, 10);
	return 0;
}

static long long boot_time(void)
{
	dhi_autofree char *buf = NULL;
	char *p;

	if (read_small("/proc/stat", &buf) < 0)
		return 0;
	p = strstr(buf, "\nbtime ");
	return p ? strtoll(p + 7, NULL, 10) : 0;
}

long long rt_process_started(unsigned long long ticks)
{
	long hz = sysconf(_SC_CLK_TCK);
	long long bt = boot_time();

	if (bt <= 0 || hz <= 0 || ticks == 0)
		return 0;
	return bt + (long long)(ticks / (unsigned long long)hz);
}

/* A cgroup path from /proc/<pid>/cgroup that stays below the hierarchy's mount. */
static bool safe_cgroup_path(const char *p)
{
	size_t n = strlen(p);

	if (p[0] != '/' || n > 2048)
		return false;
	return !strstr(p, "/../") && !(n >= 3 && strcmp(p + n - 3, "/..") == 0);
}

/* Whether file `path` contains `what` or, when not NULL, `or`. */
static bool file_says(const char *path, const char *what, const char *or)
{
	dhi_autofree char *buf = NULL;

	return read_small(path, &buf) == 0 && (strstr(buf, what) || (or && strstr(buf, or)));
}

/*
 * Whether the process sits in a frozen cgroup (a paused container): v1's
 * freezer.state, v2's cgroup.events. Joining it would freeze the session.
 */
static bool frozen(pid_t pid)
{
	dhi_autofree char *buf = NULL;
	char path[64], *line, *save = NULL;
	bool v2_root = access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	if (read_small(path, &buf) < 0)
		return false;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *ctl = strchr(line, ':'), *cg;
		char *file;
		bool yes = false;

		if (!ctl || !(cg = strchr(ctl + 1, ':')))
			continue;
		*cg++ = '\0';
		ctl++;
		if (!safe_cgroup_path(cg))
			continue;
		if (strcmp(line, "0") == 0 && !*ctl) {
			file = NULL;
			if (asprintf(&file, "%s%s/cgroup.events",
				     v2_root ? "/sys/fs/cgroup" : "/sys/fs/cgroup/unified", cg) < 0)
				continue;
			yes = file_says(file, "frozen 1", NULL);
		} else if (strstr(ctl, "freezer")) {
			file = NULL;
			if (asprintf(&file, "/sys/fs/cgroup/freezer%s/freezer.state", cg) < 0)
				continue;
			yes = file_says(file, "FROZEN", "FREEZING");
		} else {
			continue;
		}
		free(file);
		if (yes)
			return true;
	}
	return false;
}

void rt_check_process(struct rt_target *t)
{
	unsigned long long start;
	char state;

	if (t->unusable)
		return;
	if (t->pid <= 0) {
		rt_set_unusable(t, "it has no process");
		return;
	}
	if (proc_stat(t->pid, &state, &start) < 0 || state == 'Z' || state == 'X') {
		rt_set_unusable(t, "its process `%d` has exited", (int)t->pid);
		t->exited = true;
		return;
	}
	if (t->start_time) {
		if (t->start_time != start) {
			rt_set_unusable(t, "its pid `%d` belongs to another process now "
					"(the pid was reused)", (int)t->pid);
			t->exited = true;
			return;
		}
	} else {
		long long began = rt_process_started(start);

		if (t->started_by > 0 && began > t->started_by + STARTED_BY_SLACK) {
			rt_set_unusable(t,
					"its pid `%d` belongs to a process that started after "
					"the container (the pid was reused)",
					(int)t->pid);
			t->exited = true;
			return;
		}
		/* from here on the attach pins exactly the process checked here */
		t->start_time = start;
	}
	if (frozen(t->pid))
		rt_set_unusable(t, "it is paused (its cgroup is frozen)");
}
