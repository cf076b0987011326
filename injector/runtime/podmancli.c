// SPDX-License-Identifier: Apache-2.0
/*
 * podmancli.c - podman without its API service: most podman hosts run no
 * `podman system service`, so podman:// falls back to podman's own CLI,
 * `podman container inspect`, `podman ps`, `podman mount`. The binary is
 * opened at a root-owned path (never looked up on PATH) and run directly, no
 * shell, with a fixed environment; its answers are as untrusted as the API's:
 * output capped, a deadline, every field checked by the same parsers.
 * containerd's ctr is run the same way, for containerd's images (containerd.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/membuf.h"
#include "common/trust.h"
#include "common/xalloc.h"
#include "injector/runtime/podmancli.h"

#define CLI_TIMEOUT_MS 20000L
#define CLI_ERR_MAX 4096
#define SAVE_TIMEOUT_MS (10L * 60 * 1000)	/* an image export may be gigabytes */

/* A CLI run this way: where it is installed (PATH is the caller's and is not believed) and
 * what it may take from dhidebug's environment. */
struct tool {
	const char *name;
	const char *const *paths;
	const char *const *env;
};

static const struct tool podman_tool = {
	"podman",
	(const char *const[]){ "/usr/bin/podman", "/usr/local/bin/podman", "/bin/podman", NULL },
	/* which containers it sees */
	(const char *const[]){ "CONTAINERS_CONF", "CONTAINERS_STORAGE_CONF",
			       "CONTAINERS_REGISTRIES_CONF", NULL },
};

static const struct tool ctr_tool = {
	"ctr",
	(const char *const[]){ "/usr/bin/ctr", "/usr/local/bin/ctr", "/bin/ctr", NULL },
	/* nothing: its socket and namespace are given as options (the socket dhidebug checked) */
	(const char *const[]){ NULL },
};

static int tool_open(const struct tool *t, int *fd, const char **path, struct dhi_err **err)
{
	for (int i = 0; t->paths[i]; i++) {
		int r = trust_open(t->paths[i], O_PATH, fd, err);

		if (r == 1)
			continue;
		if (r < 0)
			return dhi_err_prefix(err, "%s's CLI", t->name);
		if (path)
			*path = t->paths[i];
		return 0;
	}
	return 1;
}

int podman_cli_open(int *fd, const char **path, struct dhi_err **err)
{
	return tool_open(&podman_tool, fd, path, err);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void __attribute__((noreturn)) child(const struct tool *t, int exe, const char *const *args,
					     int out, int errfd)
{
	char *envp[8];
	int n = 0, null = open("/dev/null", O_RDONLY | O_CLOEXEC);

	envp[n++] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	envp[n++] = "HOME=/root";
	for (int i = 0; t->env[i] && n < 7; i++) {
		const char *v = getenv(t->env[i]);

		if (v)
			envp[n++] = xasprintf("%s=%s", t->env[i], v);
	}
	envp[n] = NULL;
	if (null < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(errfd, 2) < 0 ||
	    dup2(exe, 3) < 0)
		_exit(127);
	/* nothing of dhidebug's but the three pipes and the binary reaches podman */
	syscall(SYS_close_range, 4U, ~0U, 0U);
	syscall(SYS_execveat, 3, "", (char *const *)args, envp, AT_EMPTY_PATH);
	_exit(127);
}

/* The first line of podman's complaint, printable, for a one-line error. */
static char *first_line(const struct membuf *b)
{
	size_t n = 0;
	char *s;

	while (n < b->len && b->p[n] != '\n')
		n++;
	s = xstrndup(b->p ? b->p : "", n);
	for (char *c = s; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	if (!strncmp(s, "Error: ", 7))
		memmove(s, s + 7, strlen(s + 7) + 1);
	else if (!strncmp(s, "ctr: ", 5))
		memmove(s, s + 5, strlen(s + 5) + 1);
	return s;
}

/*
 * podman_cli_run(), its output kept in *out, or with outfd >= 0 copied there
 * (at most max bytes in both cases) within timeout_ms; `what` names the
 * command in errors ("podman image", "ctr images export").
 */
static int run(const struct tool *t, const char *const *args, const char *what,
	       unsigned long long max, char **out, size_t *len, int outfd, long timeout_ms,
	       struct dhi_err **err)
{
	dhi_autoclose int exe = -1;
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, status = 0, r;
	struct membuf o = { .max = outfd >= 0 ? 0 : (size_t)max }, e = { .max = CLI_ERR_MAX };
	long deadline = now_ms() + timeout_ms;
	unsigned long long copied = 0;
	bool too_big = false, late = false, write_failed = false;
	pid_t pid;

	*out = NULL;
	*len = 0;
	r = tool_open(t, &exe, NULL, err);
	if (r != 0)
		return r < 0 ? -1 : dhi_err_set_kind(err, ENOENT, "%s is not installed", t->name);
	if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		r = dhi_err_set(err, errno, "cannot create a pipe");
		goto close_pipes;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0)
		child(t, exe, args, outp[1], errp[1]);
	close(outp[1]);
	close(errp[1]);
	outp[1] = errp[1] = -1;
	if (pid < 0) {
		r = dhi_err_set(err, errno, "cannot fork");
		goto close_pipes;
	}
	for (int open_fds = 2; open_fds > 0 && !too_big;) {
		struct pollfd p[2] = { { outp[0], POLLIN, 0 }, { errp[0], POLLIN, 0 } };
		long left = deadline - now_ms();

		if (left <= 0 || poll(p, 2, (int)left) == 0) {
			late = true;
			break;
		}
		for (int i = 0; i < 2; i++) {
			char buf[65536];
			struct membuf *b = i ? &e : &o;
			ssize_t n;

			if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(p[i].fd, buf, sizeof(buf));
			if (n > 0 && i == 0 && outfd >= 0) {
				copied += (unsigned long long)n;
				if (copied > max)
					too_big = true;
				else if (fd_write_all(outfd, buf, (size_t)n) < 0)
					write_failed = too_big = true;
				continue;
			}
			if (n > 0) {
				if (!membuf_append(b, buf, (size_t)n) && i == 0)
					too_big = true;
				continue;
			}
			if (n < 0 && errno == EINTR)
				continue;
			close(i ? errp[0] : outp[0]);
			if (i)
				errp[0] = -1;
			else
				outp[0] = -1;
			open_fds--;
		}
	}
	if (late || too_big)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (late)
		r = dhi_err_set_kind(err, ETIMEDOUT, "%s did not answer within %ld s (killed it)",
				     what, timeout_ms / 1000);
	else if (write_failed)
		r = dhi_err_set(err, errno, "cannot write what %s printed", what);
	else if (too_big)
		r = dhi_err_set(err, 0, "%s printed more than %llu bytes", what, max);
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		dhi_autofree char *why = first_line(&e);

		/* podman's `no such container`, `no such object`: it is not podman's */
		r = t == &podman_tool && (strstr(why, "no such") || strstr(why, "image not known"))
			    ? 1
			    : dhi_err_set(err, 0, "%s failed: %s", what, *why ? why : "no message");
	} else {
		*out = o.p ? o.p : xstrdup("");
		*len = o.len;
		o.p = NULL;
		r = 0;
	}
	free(o.p);
	free(e.p);
close_pipes:
	for (int i = 0; i < 2; i++) {
		if (outp[i] >= 0)
			close(outp[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	return r;
}

int podman_cli_run(const char *const *args, size_t max, char **out, size_t *len,
		   struct dhi_err **err)
{
	dhi_autofree char *what = xasprintf("podman %s", args[1]);

	return run(&podman_tool, args, what, max, out, len, -1, CLI_TIMEOUT_MS, err);
}

int podman_cli_save(const char *ref, int fd, unsigned long long max, struct dhi_err **err)
{
	const char *args[] = { "podman", "image", "save", "--format", "docker-archive", ref, NULL };
	dhi_autofree char *none = NULL;
	size_t len;

	/* (an image podman does not have: "no such image" on stderr, exit 125) */
	return run(&podman_tool, args, "podman image", max, &none, &len, fd, SAVE_TIMEOUT_MS, err);
}

int ctr_cli_open(int *fd, struct dhi_err **err)
{
	return tool_open(&ctr_tool, fd, NULL, err);
}

int ctr_cli_run(const char *const *args, const char *what, unsigned long long max, char **out,
		size_t *len, int outfd, struct dhi_err **err)
{
	dhi_autofree char *none = NULL;
	size_t n;

	if (outfd >= 0)
		return run(&ctr_tool, args, what, max, &none, &n, outfd, SAVE_TIMEOUT_MS, err);
	return run(&ctr_tool, args, what, max, out, len, -1, CLI_TIMEOUT_MS, err);
}
