// SPDX-License-Identifier: Apache-2.0
/* imagetarget.c - image://REF as a session target: a holder process in fresh namespaces. */
#include "injector/imagetarget.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <poll.h>
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
#include "injector/init/init.h"
#include "common/path.h"
#include "injector/toolbox_cmd.h"
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

/* What the keeper builds the root from, and how. */
struct holder_spec {
	const struct rt_fs *fs;	/* the layers */
	bool write;		/* --write: the container's own writable layer takes the writes */
	bool host_net;		/* --net host: no network namespace of our own */
	const char *hostname;
};

/*
 * The holder's life once its namespaces are ready. It is PID 1 of the
 * session's pid namespace, where a profile with CAP_SYS_PTRACE may trace it,
 * or open its /proc/1/exe: so nothing privileged stays, and it is not
 * dhidebug's binary. Every capability goes (bounding set too), it becomes
 * nobody with no_new_privs, and then it runs dhidebug-init `hold` from its
 * sealed memfd, which enters seccomp's strict mode (read(2), write(2) and
 * _exit(2) only), says "ok" and blocks in read(2) until it is killed.
 * Ptracing it gains nothing.
 */
static void __attribute__((noreturn)) holder_idle(int sock, int init)
{
	char arg[16];
	char *argv[] = { "dhidebug-init", INIT_ROLE_HOLD, arg, NULL };
	char *envp[] = { NULL };
	int fl;

	for (int cap = 0; cap < 64; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			die(sock, "cannot drop the bounding set");
	if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
	    setresuid(65534, 65534, 65534) < 0)
		die(sock, "cannot become nobody");
	/* a change of credentials clears the parent-death signal: again, then is dhidebug still there? */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		die(sock, "prctl");
	{
		struct pollfd pfd = { .fd = sock, .events = POLLRDHUP };

		if (poll(&pfd, 1, 0) != 0)
			_exit(1);
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		die(sock, "cannot confine the namespace holder");
	/* the socket is the one fd dhidebug-init keeps */
	snprintf(arg, sizeof(arg), "%d", sock);
	fl = fcntl(sock, F_GETFD);
	if (fl < 0 || fcntl(sock, F_SETFD, fl & ~FD_CLOEXEC) < 0)
		die(sock, "fcntl");
	syscall(SYS_execveat, init, "", argv, envp, AT_EMPTY_PATH);
	die(sock, "cannot run dhidebug-init");
}

/*
 * PID 1 of the new pid namespace: finishes the root (proc of this pid
 * namespace, a /dev with the harmless devices), pivots into it, says so, and
 * waits to be killed. It runs no program of the image's: a session attaches
 * to it as to a container's init.
 */
static void __attribute__((noreturn)) holder(int sock, int init, const struct holder_spec *h)
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
	/* nodev: the bound devices keep their own mounts' flags; a node made here opens nothing */
	if (mount("tmpfs", SCRATCH "/r/dev", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "mode=0755,size=64k") < 0)
		die(sock, "cannot mount /dev in the image");
	for (int i = 0; devs[i]; i++)
		bind_dev(sock, devs[i]);
	(void)!symlink("/proc/self/fd", SCRATCH "/r/dev/fd");
	(void)mkdir(SCRATCH "/r/tmp", 01777);
	if (!h->host_net)
		lo_up();
	if (sethostname(h->hostname, strlen(h->hostname)) < 0)
		die(sock, "sethostname");
	if (chdir(SCRATCH "/r") < 0 || syscall(SYS_pivot_root, ".", ".") < 0 ||
	    umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		die(sock, "cannot pivot into the image's root");
	for (int fd = 0; fd < 3; fd++) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		if (null >= 0 && null != fd) {
			dup2(null, fd);
			close(null);
		}
	}
	holder_idle(sock, init);
}

/* An O_PATH fd of directory `dir`, named /proc/self/fd/N in overlay options. */
static int open_layer(int sock, const struct rt_fs *fs, const char *dir)
{
	struct dhi_err *err = NULL;
	int fd = -1, root;

	if (!fs->no_symlinks) {
		fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			die(sock, "cannot open `%s`", dir);
		return fd;
	}
	root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0 || path_open_at(root, dir, O_PATH | O_DIRECTORY, PATH_F_NO_SYMLINKS, &fd, &err) < 0) {
		errno = err ? err->errnum : errno;
		dhi_err_clear(&err);
		die(sock, "cannot open `%s` (no symlink may lead there)", dir);
	}
	close(root);
	return fd;
}

/* Appends "/proc/self/fd/N" for each layer to the lowerdir= list in `opts`. */
static char *lowerdirs(int sock, const struct rt_fs *fs, char *opts, char *const *layers)
{
	for (size_t i = 0; layers && layers[i]; i++) {
		char *n = xasprintf("%s%s/proc/self/fd/%d", opts,
				    opts[strlen(opts) - 1] == '=' ? "" : ":", open_layer(sock, fs, layers[i]));

		free(opts);
		opts = n;
	}
	return opts;
}

/* The container's volumes and bind mounts, their sources held open (rt_fs.mounts). */
struct volumes {
	const struct rt_mount *m[RT_MOUNTS_MAX];
	int src[RT_MOUNTS_MAX];
	size_t n;
};

static size_t depth_of(const char *path)
{
	size_t n = 0;

	for (const char *p = path; *p; p++)
		if (*p == '/' && p[1] && p[1] != '/')
			n++;
	return n;
}

/*
 * Opens each source now, before the tmpfs goes over SCRATCH (a source may be
 * under it), ordered as the runtime mounts them: a parent before what is
 * mounted inside it.
 */
static void open_volumes(int sock, const struct rt_fs *fs, struct volumes *v)
{
	v->n = 0;
	for (size_t i = 0; i < fs->n_mounts && v->n < RT_MOUNTS_MAX; i++) {
		size_t at = v->n, d = depth_of(fs->mounts[i].destination);
		int fd = open(fs->mounts[i].source, O_PATH | O_CLOEXEC);

		if (fd < 0)
			die(sock, "cannot open the volume `%s`", fs->mounts[i].source);
		while (at > 0 && depth_of(v->m[at - 1]->destination) > d) {
			v->m[at] = v->m[at - 1];
			v->src[at] = v->src[at - 1];
			at--;
		}
		v->m[at] = &fs->mounts[i];
		v->src[at] = fd;
		v->n++;
	}
}

/*
 * `path` inside `root` (the container's root being built, whose own symlinks
 * resolve inside it), created when missing as the runtime creates a mount
 * point: a directory, or an empty file for a file's bind mount. The container
 * is not running: nothing races this.
 */
static int mount_point(int sock, int root, const char *path, bool is_dir)
{
	struct dhi_err *err = NULL;
	int fd = -1, dir = -1;

	if (path_open_at(root, path, O_PATH, 0, &fd, &err) == 0)
		return fd;
	if (err->errnum != ENOENT) {
		errno = err->errnum;
		die(sock, "cannot open the mount point `%s`", path);
	}
	dhi_err_clear(&err);
	{
		dhi_autofree char *parent = xstrdup(path);
		char *slash = strrchr(parent, '/'), *name = slash + 1;

		*slash = '\0';
		dir = *parent ? mount_point(sock, root, parent, true) : openat(root, ".", O_PATH | O_CLOEXEC);
		if (dir < 0)
			die(sock, "cannot open `/`");
		if (is_dir ? mkdirat(dir, name, 0755) < 0
			   : (fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
						     O_CLOEXEC, 0644)) < 0)
			die(sock, "cannot create the mount point `%s`", path);
		if (fd >= 0)
			close(fd);
		close(dir);
	}
	if (path_open_at(root, path, O_PATH, 0, &fd, &err) < 0) {
		errno = err->errnum;
		die(sock, "cannot open the mount point `%s`", path);
	}
	return fd;
}

/*
 * The volumes on the root at SCRATCH/r, where the runtime would mount them:
 * each destination resolved inside the root, a copy of the source's mount
 * tree (open_tree) moved onto it. Read-only unless --write and the container
 * has it read-write: without --write what the session writes is discarded,
 * and a volume has no layer of ours to take the writes.
 */
static void mount_volumes(int sock, struct volumes *v, bool write)
{
	int root;

	if (!v->n)
		return;
	root = open(SCRATCH "/r", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		die(sock, "cannot open the container's root");
	for (size_t i = 0; i < v->n; i++) {
		struct stat st;
		int dst, tree;

		if (fstat(v->src[i], &st) < 0)
			die(sock, "cannot stat the volume `%s`", v->m[i]->source);
		dst = mount_point(sock, root, v->m[i]->destination, S_ISDIR(st.st_mode));
		tree = open_tree(v->src[i], "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE |
						      AT_EMPTY_PATH);
		if (tree < 0)
			die(sock, "cannot copy the mount of the volume `%s`%s", v->m[i]->source,
			    errno == ENOSYS ? " (open_tree needs Linux 5.2)" : "");
		if (!(write && v->m[i]->rw) &&
		    mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE,
				  &(struct mount_attr){ .attr_set = MOUNT_ATTR_RDONLY },
				  sizeof(struct mount_attr)) < 0)
			die(sock, "cannot make the volume `%s` read-only%s", v->m[i]->source,
			    errno == ENOSYS ? " (mount_setattr needs Linux 5.12)" : "");
		if (move_mount(tree, "", dst, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
			die(sock, "cannot mount the volume `%s` at `%s`", v->m[i]->source,
			    v->m[i]->destination);
		close(tree);
		close(dst);
		close(v->src[i]);
	}
	close(root);
}

/*
 * The root at SCRATCH/r. A root that is one directory is bound (--write) or
 * the lower layer of an overlay whose upper layer is a tmpfs; a container with
 * its own overlay layers gets an overlay of them with its writable layer as
 * the upper one (--write) or as the top read-only one under a tmpfs. Every
 * directory is held open before the tmpfs goes over SCRATCH, which may hide
 * it, and named as /proc/self/fd/N: no path parsing by overlayfs of a
 * directory name with commas or colons either.
 */
static void build_layers(int sock, const struct holder_spec *h)
{
	const struct rt_fs *fs = h->fs;
	dhi_autofree char *opts = xstrdup("lowerdir=");
	int upper = -1, work = -1, top = -1;

	if (!fs->upper)
		top = open_layer(sock, fs, fs->layers[0]);
	else if (h->write) {
		upper = open_layer(sock, fs, fs->upper);
		work = open_layer(sock, fs, fs->work);
	} else {
		top = open_layer(sock, fs, fs->upper);
	}
	if (top >= 0) {
		char *n = xasprintf("%s/proc/self/fd/%d", opts, top);

		free(opts);
		opts = n;
	}
	if (fs->upper)
		opts = lowerdirs(sock, fs, opts, fs->layers);
	if (strlen(opts) > 3000)
		die(sock, "the container has too many layers");
	/* writes land in this tmpfs and go with it: the container's files are never written */
	if (mount("tmpfs", SCRATCH, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700") < 0)
		die(sock, "cannot mount a tmpfs at `%s`", SCRATCH);
	if (mkdir(SCRATCH "/u", 0755) < 0 || mkdir(SCRATCH "/w", 0700) < 0 ||
	    mkdir(SCRATCH "/r", 0755) < 0)
		die(sock, "mkdir");
	if (h->write && !fs->upper) {
		/* --write on a plain root: the root itself, so what the session writes stays */
		char *src = xasprintf("/proc/self/fd/%d", top);

		if (mount(src, SCRATCH "/r", NULL, MS_BIND | MS_REC, NULL) < 0)
			die(sock, "cannot bind `%s`", fs->layers[0]);
		free(src);
		return;
	}
	if (h->write && strcmp(opts, "lowerdir=") == 0) {
		/* a container without image layers: its writable layer is all there is */
		char *src = xasprintf("/proc/self/fd/%d", upper);

		if (mount(src, SCRATCH "/r", NULL, MS_BIND, NULL) < 0)
			die(sock, "cannot bind `%s`", fs->upper);
		free(src);
		return;
	}
	{
		char *n = h->write ? xasprintf("%s,upperdir=/proc/self/fd/%d,workdir=/proc/self/fd/%d",
					       opts, upper, work)
				   : xasprintf("%s,upperdir=" SCRATCH "/u,workdir=" SCRATCH "/w", opts);

		free(opts);
		opts = n;
	}
	if (mount("overlay", SCRATCH "/r", "overlay", MS_NOSUID | MS_NODEV, opts) < 0)
		die(sock, "cannot mount an overlay of the container's files");
}

/* The root at SCRATCH/r: the container's layers, then its volumes on them. */
static void build_root(int sock, const struct holder_spec *h)
{
	struct volumes v;

	open_volumes(sock, h->fs, &v);
	build_layers(sock, h);
	mount_volumes(sock, &v, h->write);
}

/*
 * Our child in the host's pid namespace: makes the namespaces and the root,
 * forks the holder (the new pid namespace applies to children) and reports
 * its pid, then waits. It dies with dhidebug and the holder with it.
 */
static void __attribute__((noreturn)) keeper(int sock, int init, const struct holder_spec *h,
					      pid_t parent)
{
	int flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC;
	pid_t pid;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(1);
	if (!h->host_net)
		flags |= CLONE_NEWNET;
	if (unshare(flags) < 0)
		die(sock, "cannot create namespaces for the image");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		die(sock, "cannot make the mounts private");
	build_root(sock, h);
	/* the layers' fds go (all but the socket and dhidebug-init): none goes further */
	fd_close_all_but((const int[]){ sock, init }, 2);
	pid = fork();
	if (pid < 0)
		die(sock, "fork");
	if (pid == 0)
		holder(sock, init, h);
	if (send(sock, &pid, sizeof(pid), MSG_NOSIGNAL) < 0)
		_exit(1);
	close(sock);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	_exit(0);
}

/* Starts the keeper and the holder on the root `h` describes; *pid is the holder's. */
static int holder_start(const struct holder_spec *h, const char *what, struct image_target *it,
			pid_t *pidp, struct dhi_err **err)
{
	char msg[513];
	pid_t pid = 0, parent = getpid();
	ssize_t n;
	int sv[2];

	dhi_autoclose int init = -1;

	it->keeper = -1;
	it->holder = -1;
	init = init_memfd(err);
	if (init < 0)
		return -1;
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
		keeper(sv[1], init, h, parent);
	}
	close(sv[1]);
	/*
	 * The keeper sends the holder's pid (sizeof(pid_t) bytes), the holder
	 * "ok" once it is ready, either in any order (they are two processes);
	 * any other message is an error's text, and EOF means both are gone.
	 */
	for (bool have_pid = false, ready = false; !have_pid || !ready;) {
		do
			n = recv(sv[0], msg, sizeof(msg) - 1, 0);
		while (n < 0 && errno == EINTR);
		if (n == (ssize_t)sizeof(pid) && !have_pid) {
			memcpy(&pid, msg, sizeof(pid));
			it->holder = pid;
			have_pid = true;
			continue;
		}
		if (n == 2 && !memcmp(msg, "ok", 2) && !ready) {
			ready = true;
			continue;
		}
		close(sv[0]);
		image_target_stop(it);
		if (n > 0) {
			msg[n] = 0;
			return dhi_err_set(err, 0, "`%s`: %s", what, msg);
		}
		return dhi_err_set(err, 0, "`%s`: the namespace holder exited", what);
	}
	close(sv[0]);
	*pidp = pid;
	return 0;
}

/*
 * The image's config.json beside its cached rootfs: Env, User, WorkingDir.
 * None when it is missing; one that is there but not a regular file is an
 * error (the session would start as root instead of the image's user).
 */
static int image_process(const char *rootfs, struct rt_process **out, struct dhi_err **err)
{
	/* the entry's directory: cache_resolve() gives an absolute <entry>/rootfs */
	const char *slash = strrchr(rootfs, '/');
	dhi_autofree char *path = xasprintf("%.*s/config.json", (int)(slash ? slash - rootfs : 0),
					    rootfs), *buf = NULL;
	struct dhi_err *e = NULL;
	size_t len;

	*out = NULL;
	if (fd_read_regular_at(AT_FDCWD, path, 4u << 20, &buf, &len, err) < 0) {
		if ((*err)->errnum != ENOENT)
			return -1;
		dhi_err_clear(err);
		return 0;
	}
	rt_image_parse_process(buf, len, out, &e);
	dhi_err_clear(&e);
	return 0;
}

int image_target_start(const char *ref, const struct toolbox_args *ta, bool host_net,
		       struct image_target *it, struct rt_target *rt, struct dhi_err **err)
{
	struct cache_opts o;
	dhi_autofree char *digest = NULL, *rootfs = NULL;
	struct rt_fs *fs;
	pid_t pid = 0;
	int r;

	memset(rt, 0, sizeof(*rt));
	it->keeper = -1;
	it->holder = -1;
	if (toolbox_cache_opts(ta, &o, err) < 0)
		return -1;
	o.json = false;
	/* (the entry is held, for prune, until dhidebug exits) */
	if (cache_pull(&o, ref, &digest, err) < 0 ||
	    cache_resolve(&o, digest, false, &rootfs, err) < 0 ||
	    (cache_hold(&o, rootfs, err) < 0 && *err))
		return dhi_err_prefix(err, "image `%s`", ref);
	fs = rt_fs_dir(rootfs);
	r = holder_start(&(struct holder_spec){ .fs = fs, .host_net = host_net,
						.hostname = "image" },
			 ref, it, &pid, err);
	rt_fs_free(fs);
	if (r < 0)
		return -1;
	rt->runtime = xstrdup("image");
	rt->id = xstrdup(ref);
	rt->name = xstrdup(ref);
	rt->pid = pid;
	rt->image_ref = xstrdup(ref);
	rt->image_digest = xstrdup(digest);
	rt->state = xstrdup("running");
	if (image_process(rootfs, &rt->proc, err) < 0) {
		image_target_stop(it);
		return dhi_err_prefix(err, "image `%s`", ref);
	}
	return 0;
}

/* The container's name as a hostname: [A-Za-z0-9-], at most 63 bytes; "stopped" if none is left. */
static char *hostname_of(const char *name)
{
	char *h = xzalloc(64);
	size_t n = 0;

	for (const char *p = name; *p && n < 63; p++)
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    (*p == '-' && n > 0))
			h[n++] = *p;
	if (!n)
		strcpy(h, "stopped");
	return h;
}

int stopped_target_start(bool write, bool host_net, struct image_target *it, struct rt_target *rt,
			 struct dhi_err **err)
{
	dhi_autofree char *uri = rt_target_uri(rt), *mounted = NULL, *host = hostname_of(rt->name);
	struct holder_spec h = { .fs = rt->fs, .write = write, .host_net = host_net,
				 .hostname = host };
	struct rt_fs *engine_fs = NULL;
	pid_t pid = 0;
	int r;

	it->keeper = it->holder = -1;
	if (rt->fs->engine_mount) {
		if (rt_engine_mount(rt, true, &mounted, err) < 0)
			return dhi_err_prefix(err, "container `%s`", uri);
		h.fs = engine_fs = rt_fs_dir(mounted);
	}
	r = holder_start(&h, uri, it, &pid, err);
	if (engine_fs) {
		struct dhi_err *uerr = NULL;

		/* the keeper's mount namespace holds its own copy of the mount by now */
		if (rt_engine_mount(rt, false, NULL, &uerr) < 0 && r == 0) {
			dhi_err_prefix(&uerr, "container `%s`", uri);
			dhi_err_print(uerr, "dhidebug");
		}
		dhi_err_clear(&uerr);
		rt_fs_free(engine_fs);
	}
	if (r < 0)
		return -1;
	rt->pid = pid;
	rt->start_time = 0;
	rt->started_by = 0;
	free(rt->state);
	rt->state = xstrdup("stopped");
	free(rt->unusable);
	rt->unusable = NULL;
	return 0;
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
