// SPDX-License-Identifier: Apache-2.0
/* imagetarget.c - image://REF as a session target: a holder process in fresh namespaces. */
#include "injector/imagetarget.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/xalloc.h"
#include "common/fdio.h"
#include "toolbox/cache.h"

#include <jansson.h>

#define SCRATCH "/tmp" /* in the keeper's private mount namespace only */

bool image_target_is(const char *spec)
{
	return strncmp(spec, "image://", 8) == 0;
}

static void __attribute__((noreturn, format(printf, 2, 3))) die(int sock, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int e = errno;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(msg) - 1)
		snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s", strerror(e));
	(void)!send(sock, msg, strlen(msg), MSG_NOSIGNAL);
	_exit(1);
}

/* An empty file at `dst` with the host's device `src` bind-mounted on it. */
static void bind_dev(int sock, const char *name)
{
	char src[64], dst[128];
	int fd;

	snprintf(src, sizeof(src), "/dev/%s", name);
	snprintf(dst, sizeof(dst), SCRATCH "/r/dev/%s", name);
	fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0666);
	if (fd < 0)
		die(sock, "cannot create `%s`", dst);
	close(fd);
	if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
		die(sock, "cannot bind `%s`", src);
}

static void lo_up(void)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return;
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		(void)ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
}

/*
 * PID 1 of the new pid namespace: finishes the root (proc of this pid
 * namespace, a /dev with the harmless devices), pivots into it, says so, and
 * waits to be killed. It runs no program of the image's: a session attaches
 * to it as to a container's init.
 */
static void __attribute__((noreturn)) holder(int sock)
{
	static const char *const devs[] = { "null", "zero", "full", "random", "urandom", "tty", NULL };

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		die(sock, "prctl");
	/* what `ps` in the session shows as PID 1 */
	(void)prctl(PR_SET_NAME, "dhi-image", 0, 0, 0);
	(void)mkdir(SCRATCH "/r/proc", 0555);
	if (mount("proc", SCRATCH "/r/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		die(sock, "cannot mount /proc in the image");
	(void)mkdir(SCRATCH "/r/dev", 0755);
	if (mount("tmpfs", SCRATCH "/r/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k") < 0)
		die(sock, "cannot mount /dev in the image");
	for (int i = 0; devs[i]; i++)
		bind_dev(sock, devs[i]);
	(void)!symlink("/proc/self/fd", SCRATCH "/r/dev/fd");
	(void)mkdir(SCRATCH "/r/tmp", 01777);
	lo_up();
	if (sethostname("image", 5) < 0)
		die(sock, "sethostname");
	if (chdir(SCRATCH "/r") < 0 || syscall(SYS_pivot_root, ".", ".") < 0 ||
	    umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		die(sock, "cannot pivot into the image's root");
	if (send(sock, "ok", 2, MSG_NOSIGNAL) < 0)
		_exit(1);
	close(sock);
	for (int fd = 0; fd < 3; fd++) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		if (null >= 0 && null != fd) {
			dup2(null, fd);
			close(null);
		}
	}
	for (;;)
		pause();
}

/*
 * Our child in the host's pid namespace: makes the namespaces and the
 * overlay, forks the holder (the new pid namespace applies to children) and
 * reports its pid, then waits. It dies with dhidebug and the holder with it.
 */
static void __attribute__((noreturn)) keeper(int sock, const char *rootfs, bool write, pid_t parent)
{
	dhi_autofree char *opts = NULL;
	int lower;
	pid_t pid;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(1);
	if (unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC) < 0)
		die(sock, "cannot create namespaces for the image");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		die(sock, "cannot make the mounts private");
	/*
	 * Held open before the tmpfs goes over SCRATCH, which may hide it (a
	 * cache under /tmp), and named as /proc/self/fd/N: no path parsing by
	 * overlayfs of a directory name with commas or colons either.
	 */
	lower = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (lower < 0)
		die(sock, "cannot open `%s`", rootfs);
	/* writes land in this tmpfs and go with it: the cached image is never written */
	if (mount("tmpfs", SCRATCH, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700") < 0)
		die(sock, "cannot mount a tmpfs at `%s`", SCRATCH);
	if (mkdir(SCRATCH "/u", 0755) < 0 || mkdir(SCRATCH "/w", 0700) < 0 ||
	    mkdir(SCRATCH "/r", 0755) < 0)
		die(sock, "mkdir");
	opts = xasprintf("lowerdir=/proc/self/fd/%d,upperdir=" SCRATCH "/u,workdir=" SCRATCH "/w", lower);
	if (write) {
		/* --write: the container's own root, so what the session writes stays */
		char *src = xasprintf("/proc/self/fd/%d", lower);

		if (mount(src, SCRATCH "/r", NULL, MS_BIND | MS_REC, NULL) < 0)
			die(sock, "cannot bind `%s`", rootfs);
		free(src);
	} else if (mount("overlay", SCRATCH "/r", "overlay", MS_NOSUID | MS_NODEV, opts) < 0) {
		die(sock, "cannot mount an overlay of `%s`", rootfs);
	}
	close(lower);
	pid = fork();
	if (pid < 0)
		die(sock, "fork");
	if (pid == 0)
		holder(sock);
	if (send(sock, &pid, sizeof(pid), MSG_NOSIGNAL) < 0)
		_exit(1);
	close(sock);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	_exit(0);
}

/* Starts the keeper and the holder on `rootfs`; *pid is the holder's. */
static int holder_start(const char *rootfs, bool write, const char *what, struct image_target *it,
			pid_t *pidp, struct dhi_err **err)
{
	const char *ref = what;
	char msg[513];
	pid_t pid = 0, parent = getpid();
	ssize_t n;
	int sv[2];

	it->keeper = -1;
	it->holder = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return dhi_err_set(err, errno, "socketpair");
	it->keeper = fork();
	if (it->keeper < 0) {
		close(sv[0]);
		close(sv[1]);
		return dhi_err_set(err, errno, "fork");
	}
	if (it->keeper == 0) {
		close(sv[0]);
		keeper(sv[1], rootfs, write, parent);
	}
	close(sv[1]);
	/* the keeper sends the holder's pid or an error; then the holder "ok" or an error */
	for (int step = 0; step < 2; step++) {
		do
			n = recv(sv[0], msg, sizeof(msg) - 1, 0);
		while (n < 0 && errno == EINTR);
		if (step == 0 && n == (ssize_t)sizeof(pid)) {
			memcpy(&pid, msg, sizeof(pid));
			it->holder = pid;
			continue;
		}
		if (step == 1 && n == 2 && !memcmp(msg, "ok", 2))
			break;
		close(sv[0]);
		image_target_stop(it);
		if (n > 0 && !(step == 0 && n == (ssize_t)sizeof(pid))) {
			msg[n] = 0;
			return dhi_err_set(err, 0, "`%s`: %s", ref, msg);
		}
		return dhi_err_set(err, 0, "`%s`: the namespace holder exited", ref);
	}
	close(sv[0]);
	*pidp = pid;
	return 0;
}

int image_target_start(const struct cli *cli, struct image_target *it, struct rt_target *rt,
		       struct dhi_err **err)
{
	struct cache_opts o = { .dir = cli->toolbox_cache,
				.quiet = cli->quiet,
				.reg = { .insecure = cli->insecure_registry } };
	const char *ref = cli->target + 8;
	dhi_autofree char *digest = NULL, *rootfs = NULL;
	pid_t pid = 0;

	memset(rt, 0, sizeof(*rt));
	it->keeper = -1;
	it->holder = -1;
	if (cache_pull(&o, ref, &digest, err) < 0 || cache_resolve(&o, digest, false, &rootfs, err) < 0)
		return dhi_err_prefix(err, "image `%s`", ref);
	if (holder_start(rootfs, false, ref, it, &pid, err) < 0)
		return -1;
	rt->runtime = xstrdup("image");
	rt->id = xstrdup(ref);
	rt->name = xstrdup(ref);
	rt->pid = pid;
	rt->image_ref = xstrdup(ref);
	rt->image_digest = xstrdup(digest);
	rt->state = xstrdup("running");
	return 0;
}

/* True when `pid` is not a live process that started at `start` (clock ticks). */
static bool init_gone(long long pid, unsigned long long start)
{
	char path[64], buf[1024], *p;
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%lld/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return true;
	n = fd_read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return true;
	buf[n] = 0;
	p = strrchr(buf, ')');
	if (!p)
		return true;
	/* field 3 is the state (Z: a zombie is gone too), field 22 the start time */
	if (p[2] == 'Z' || p[2] == 'X')
		return true;
	for (int f = 3; f < 22 && p; f++)
		p = strchr(p + 1, ' ');
	return !p || strtoull(p + 1, NULL, 10) != start;
}

int stopped_target_start(const struct cli *cli, struct image_target *it, struct rt_target *rt,
			 struct dhi_err **err)
{
	const char *id = cli->target + 7;
	const char *root = cli->runtime_root ? cli->runtime_root : "/run/runc";
	dhi_autofree char *dir = NULL, *buf = NULL;
	dhi_autoclose int dfd = -1, fd = -1;
	json_t *j = NULL;
	const char *rootfs;
	json_int_t pid;
	size_t len = 0;
	pid_t hpid = 0;
	int r;

	memset(rt, 0, sizeof(*rt));
	it->keeper = it->holder = -1;
	if (strncmp(cli->target, "runc://", 7) != 0 || !*id || strchr(id, '/') || id[0] == '.')
		return 1;
	dir = xasprintf("%s/%s", root, id);
	dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dfd < 0)
		return 1;
	fd = openat(dfd, "state.json", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fd_read_file(fd, 4u << 20, &buf, &len, err) < 0) {
		dhi_err_clear(err);
		return 1;
	}
	j = json_loadb(buf, len, 0, NULL);
	pid = json_integer_value(json_object_get(j, "init_process_pid"));
	rootfs = json_string_value(json_object_get(json_object_get(j, "config"), "rootfs"));
	if (!j || !rootfs || rootfs[0] != '/' || pid <= 0 ||
	    !init_gone((long long)pid,
		       (unsigned long long)json_integer_value(json_object_get(j, "init_process_start")))) {
		json_decref(j);
		return 1; /* not a stopped runc container: the caller's error stands */
	}
	r = holder_start(rootfs, cli->write, cli->target, it, &hpid, err);
	if (r == 0) {
		rt->runtime = xstrdup("runc");
		rt->id = xstrdup(id);
		rt->name = xstrdup(id);
		rt->pid = hpid;
		rt->state = xstrdup("stopped");
	}
	json_decref(j);
	return r;
}

void image_target_stop(struct image_target *it)
{
	if (it->keeper <= 0)
		return;
	/* the keeper reaps the holder and then exits; our wait covers both */
	if (it->holder <= 0 || kill(it->holder, SIGKILL) < 0)
		kill(it->keeper, SIGKILL);
	while (waitpid(it->keeper, NULL, 0) < 0 && errno == EINTR)
		;
	it->keeper = -1;
}
