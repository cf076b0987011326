// SPDX-License-Identifier: Apache-2.0
/* execaudit.c - exec audit through seccomp user notification. */
#include "injector/record/execaudit.h"
#include "injector/record/execaudit_bpf.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/xalloc.h"

#define MAX_ARGS 256
#define MAX_ARG_LEN 4096
#define MAX_ENV (1 << 20)	/* envp pointers looked at: the kernel takes fewer (E2BIG) */
#define MAX_ENV_KEPT 64		/* entries kept, of those starting with a prefix asked for */
#define MAX_ENV_LEN (128 << 10)	/* the longest entry the kernel takes (MAX_ARG_STRLEN) */

#define NR64_EXECVEAT EXECAUDIT_NR64_EXECVEAT
#define NR32_EXECVEAT EXECAUDIT_NR32_EXECVEAT

int execaudit_install(int *listener, struct dhi_err **err)
{
	struct sock_filter prog[] = EXECAUDIT_FILTER;
	struct sock_fprog fp = { .len = sizeof(prog) / sizeof(prog[0]), .filter = prog };
	int fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
			      SECCOMP_FILTER_FLAG_NEW_LISTENER, &fp);

	if (fd < 0)
		return dhi_err_set(err, errno, "cannot install the exec audit filter");
	*listener = fd;
	return 0;
}

/*
 * Reads a NUL-terminated string at `addr` of process memory `mem`, at most
 * `len` - 1 bytes, a page at a time (a read across into an unmapped page fails).
 */
static int read_str(int mem, unsigned long long addr, char *buf, size_t len)
{
	size_t got = 0;

	while (got + 1 < len) {
		size_t room = 4096 - (size_t)((addr + got) & 4095);
		ssize_t n;

		if (room > len - 1 - got)
			room = len - 1 - got;
		n = pread(mem, buf + got, room, (off_t)(addr + got));
		if (n <= 0)
			break;
		if (memchr(buf + got, '\0', (size_t)n)) {
			got += (size_t)n;
			buf[got] = '\0';
			return 0;
		}
		got += (size_t)n;
	}
	buf[got] = '\0';
	return got ? 0 : -1;
}

static char **read_argv(int mem, unsigned long long addr, bool compat)
{
	char **argv = xzalloc(sizeof(char *) * (MAX_ARGS + 2));
	int n = 0;

	for (; n < MAX_ARGS; n++) {
		unsigned long long p = 0;
		char buf[MAX_ARG_LEN];
		size_t w = compat ? 4 : 8;

		if (pread(mem, &p, w, (off_t)(addr + (unsigned long long)n * w)) != (ssize_t)w || !p)
			break;
		if (read_str(mem, p, buf, sizeof(buf)) < 0)
			break;
		argv[n] = xstrdup(buf);
	}
	if (n == MAX_ARGS)
		argv[n++] = xstrdup("…");
	argv[n] = NULL;
	return argv;
}

/* Whether the entry at `p` starts with one of `prefixes` (each shorter than 32 bytes). */
static bool env_wanted(int mem, unsigned long long p, const char *const *prefixes, bool *bad)
{
	char head[32];

	if (read_str(mem, p, head, sizeof(head)) < 0) {
		*bad = true;
		return false;
	}
	for (int i = 0; prefixes[i]; i++)
		if (strncmp(head, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

/*
 * The entries of envp at `addr` that start with one of `prefixes`. Every
 * pointer is looked at, a chunk at a time (the loader reads the last of a
 * name, and a variable far down the list counts as much as the first);
 * *cut when something could not be read whole.
 */
static char **read_env(int mem, unsigned long long addr, bool compat, const char *const *prefixes,
		       bool *cut)
{
	char **env = xzalloc(sizeof(char *) * (MAX_ENV_KEPT + 1));
	const size_t w = compat ? 4 : 8;
	unsigned char chunk[4096];
	int kept = 0;

	*cut = false;
	if (!addr)
		return env;	/* (Linux takes a NULL envp for an empty one) */
	for (size_t n = 0; n < MAX_ENV; n += sizeof(chunk) / w) {
		ssize_t got = pread(mem, chunk, sizeof(chunk), (off_t)(addr + n * w));

		/* (a read that ends at an unmapped page is short, not failed) */
		if (got < (ssize_t)w) {
			*cut = true;
			return env;
		}
		for (size_t i = 0; i + w <= (size_t)got; i += w) {
			unsigned long long p = 0;
			char *buf;

			memcpy(&p, chunk + i, w);
			if (!p)
				return env;
			if (!env_wanted(mem, p, prefixes, cut))
				continue;
			buf = xmalloc(MAX_ENV_LEN + 1);
			if (kept == MAX_ENV_KEPT || read_str(mem, p, buf, MAX_ENV_LEN + 1) < 0 ||
			    strlen(buf) == MAX_ENV_LEN) {
				free(buf);
				*cut = true;
				continue;
			}
			env[kept++] = xrealloc(buf, strlen(buf) + 1);
		}
	}
	*cut = true;
	return env;
}

static pid_t ppid_of(pid_t pid)
{
	char path[64], buf[512], *p;
	dhi_autoclose int fd = -1;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || (n = fd_read(fd, buf, sizeof(buf) - 1)) <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && strlen(p) > 4 ? (pid_t)atoi(p + 4) : 0;
}

int execaudit_handle(int listener, const char *const *env_prefixes,
		     void (*decide)(struct exec_event *ev, void *arg), void *arg,
		     struct exec_event *ev)
{
	struct seccomp_notif req;
	struct seccomp_notif_resp resp;
	dhi_autoclose int mem = -1;
	char path[64];
	bool compat;

	memset(&req, 0, sizeof(req));
	memset(ev, 0, sizeof(*ev));
	ev->procdir = -1;
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0)
		return errno == ENOENT || errno == EINTR ? 0 : -1;
	compat = req.data.arch == AUDIT_ARCH_I386;
	ev->at = req.data.nr == (compat ? NR32_EXECVEAT : NR64_EXECVEAT);
	/* the syscall's int arguments are the low 32 bits of their registers */
	ev->dirfd = ev->at ? (int)(unsigned int)req.data.args[0] : AT_FDCWD;
	ev->flags = ev->at ? (int)(unsigned int)req.data.args[4] : 0;
	ev->pid = (pid_t)req.pid;
	ev->ppid = ppid_of(ev->pid);
	snprintf(path, sizeof(path), "/proc/%u", req.pid);
	ev->procdir = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (ev->procdir >= 0)
		mem = openat(ev->procdir, "mem", O_RDONLY | O_CLOEXEC);
	/* the process may have died meanwhile, and its pid been reused: check before trusting */
	if (mem >= 0 && ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &req.id) == 0) {
		ev->path_read = read_str(mem, req.data.args[ev->at ? 1 : 0], ev->path,
					 sizeof(ev->path)) == 0;
		if (!ev->path_read)
			snprintf(ev->path, sizeof(ev->path), "?");
		ev->argv = read_argv(mem, req.data.args[ev->at ? 2 : 1], compat);
		if (env_prefixes)
			ev->env = read_env(mem, req.data.args[ev->at ? 3 : 2], compat, env_prefixes,
					   &ev->env_cut);
	} else {
		snprintf(ev->path, sizeof(ev->path), "?");
		ev->argv = xzalloc(sizeof(char *));
	}
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &req.id) < 0)
		return 0;
	if (decide)
		decide(ev, arg);

	memset(&resp, 0, sizeof(resp));
	resp.id = req.id;
	if (ev->denied)
		resp.error = -EACCES;
	else if (ev->error)
		resp.error = -ev->error;
	else
		resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 && errno != ENOENT)
		return -1;
	return 1;
}

void execaudit_event_free(struct exec_event *ev)
{
	dhi_close_reset(&ev->procdir);
	for (int i = 0; ev->argv && ev->argv[i]; i++)
		free(ev->argv[i]);
	free(ev->argv);
	ev->argv = NULL;
	for (int i = 0; ev->env && ev->env[i]; i++)
		free(ev->env[i]);
	free(ev->env);
	ev->env = NULL;
}
