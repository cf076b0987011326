// SPDX-License-Identifier: Apache-2.0
/* hostuser.c - a delegated operator's copy: the host's side opened with their rights. */
#include "injector/copy/hostuser.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/xalloc.h"

#define MSG_MAX 8192
#define GROUPS_MAX 1024

static bool number(const char *s, unsigned long *out)
{
	char *end;

	if (!s || !*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 10)
		return false;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno == 0 && *out < (1ul << 32) - 1;
}

/* Field `n` (0-based) of a colon-separated line, in place; NULL when it has fewer. */
static char *field(char *line, int n, char **rest)
{
	char *p = line;

	for (int i = 0; i < n && p; i++) {
		p = strchr(p, ':');
		if (p)
			p++;
	}
	if (!p)
		return NULL;
	*rest = p + strcspn(p, ":\n");
	return p;
}

/* The host's /etc/passwd entry of `uid`: its name and gid. */
static void passwd_of(uid_t uid, char **name, long *gid)
{
	dhi_autofclose FILE *f = fopen("/etc/passwd", "re");
	dhi_autofree char *line = NULL;
	size_t cap = 0;

	*name = NULL;
	*gid = -1;
	while (f && getline(&line, &cap, f) > 0) {
		char *end, *u = field(line, 2, &end), *g, *gend;
		unsigned long v, gv;
		char save = 0;

		if (!u)
			continue;
		save = *end;
		*end = '\0';
		if (!number(u, &v) || v != uid) {
			*end = save;
			continue;
		}
		*end = save;
		g = field(line, 3, &gend);
		if (g) {
			*gend = '\0';
			if (number(g, &gv))
				*gid = (long)gv;
		}
		line[strcspn(line, ":")] = '\0';
		*name = xstrdup(line);
		return;
	}
}

/* The groups of /etc/group that list `name` as a member. */
static void groups_of(const char *name, struct host_user *u)
{
	dhi_autofclose FILE *f = fopen("/etc/group", "re");
	dhi_autofree char *line = NULL;
	size_t cap = 0;

	while (name && f && getline(&line, &cap, f) > 0 && u->ngroups < GROUPS_MAX) {
		char *gend, *mend, *g = field(line, 2, &gend), *m, *tok, *save = NULL;
		unsigned long gv;

		if (!g)
			continue;
		m = field(line, 3, &mend);
		*gend = '\0';
		if (!m || !number(g, &gv))
			continue;
		*mend = '\0';
		for (tok = strtok_r(m, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
			if (strcmp(tok, name) == 0 && (gid_t)gv != u->gid) {
				u->groups[u->ngroups++] = (gid_t)gv;
				break;
			}
	}
}

int host_user_resolve(long uid, struct host_user *u, struct dhi_err **err)
{
	unsigned long gv;
	long pw_gid;

	memset(u, 0, sizeof(*u));
	u->uid = uid >= 0 ? (uid_t)uid : getuid();
	if (u->uid == 0)
		return 0;
	passwd_of(u->uid, &u->name, &pw_gid);
	if (uid >= 0 && number(getenv("SUDO_GID"), &gv))
		u->gid = (gid_t)gv;
	else if (uid >= 0 && pw_gid >= 0)
		u->gid = (gid_t)pw_gid;
	else if (uid >= 0)
		return dhi_err_set(err, 0, "delegated mode: the group of uid %u is not known "
				   "(no SUDO_GID, no /etc/passwd entry)", (unsigned)u->uid);
	else
		u->gid = getgid();
	u->groups = xmalloc(GROUPS_MAX * sizeof(*u->groups));
	u->groups[u->ngroups++] = u->gid;
	groups_of(u->name, u);
	u->on = true;
	return 0;
}

void host_user_free(struct host_user *u)
{
	free(u->groups);
	free(u->name);
	memset(u, 0, sizeof(*u));
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

int host_user_become(const struct host_user *u, const int *keep, size_t nkeep)
{
	int sorted[16];
	unsigned int from = 3;

	if (nkeep > 16)
		return errno = EINVAL, -1;
	memcpy(sorted, keep, nkeep * sizeof(*keep));
	qsort(sorted, nkeep, sizeof(*sorted), cmp_int);
	for (size_t i = 0; i < nkeep; i++) {
		if ((unsigned int)sorted[i] > from &&
		    syscall(SYS_close_range, from, (unsigned int)sorted[i] - 1, 0) < 0)
			return -1;
		if ((unsigned int)sorted[i] >= from)
			from = (unsigned int)sorted[i] + 1;
	}
	if (syscall(SYS_close_range, from, ~0u, 0) < 0)
		return -1;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -1;
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return -1;
	if (setgroups(u->ngroups, u->groups) < 0 || setresgid(u->gid, u->gid, u->gid) < 0 ||
	    setresuid(u->uid, u->uid, u->uid) < 0)
		return -1;
	/* (from uid 0 to another, setresuid() cleared every capability set) */
	if (geteuid() != u->uid || getegid() != u->gid)
		return errno = EPERM, -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	/* not a core file, not a ptrace of the operator's */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	return 0;
}

int host_user_say(int ctl, char kind, const char *text, size_t len)
{
	char buf[MSG_MAX];

	if (len > sizeof(buf) - 1)
		len = sizeof(buf) - 1;
	buf[0] = kind;
	memcpy(buf + 1, text, len);
	return send(ctl, buf, len + 1, MSG_NOSIGNAL) < 0 ? -1 : 0;
}

/* reads one message, and an fd that came with it (-1: none) */
static ssize_t hear_fd(int ctl, char *buf, size_t cap, int *fd)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec iov = { .iov_base = buf, .iov_len = cap };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.b,
			     .msg_controllen = sizeof(cm.b) };
	ssize_t n;

	*fd = -1;
	do
		n = recvmsg(ctl, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(fd, CMSG_DATA(c), sizeof(int));
	return n;
}

int host_user_hear(int ctl, char *kind, char **text, size_t *len, struct dhi_err **err)
{
	char buf[MSG_MAX];
	int fd;
	ssize_t n = hear_fd(ctl, buf, sizeof(buf), &fd);

	if (fd >= 0)
		close(fd);
	*kind = 0;
	*text = NULL;
	*len = 0;
	if (n < 0)
		return dhi_err_set(err, errno, "cannot hear the host side's helper");
	if (n == 0)
		return 0;
	*kind = buf[0];
	*len = (size_t)n - 1;
	*text = xmalloc((size_t)n);
	memcpy(*text, buf + 1, (size_t)n - 1);
	(*text)[n - 1] = '\0';
	return 0;
}

int host_user_wait(pid_t pid)
{
	int ws;

	while (waitpid(pid, &ws, 0) < 0)
		if (errno != EINTR)
			return 125;
	return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + (WIFSIGNALED(ws) ? WTERMSIG(ws) : 0);
}

int host_user_spawn(const struct host_user *u, int (*fn)(void *arg, int ctl), void *arg,
		    const int *keep, size_t nkeep, pid_t *pid, int *ctl, struct dhi_err **err)
{
	int sp[2], all[16];

	if (nkeep > 15)
		return dhi_err_set(err, EINVAL, "cannot start the host side's helper");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return dhi_err_set(err, errno, "cannot start the host side's helper");
	fflush(NULL);
	*pid = fork();
	if (*pid < 0) {
		close(sp[0]);
		close(sp[1]);
		return dhi_err_set(err, errno, "cannot start the host side's helper");
	}
	if (*pid == 0) {
		memcpy(all, keep, nkeep * sizeof(*keep));
		all[nkeep] = sp[1];
		signal(SIGPIPE, SIG_DFL);
		if (host_user_become(u, all, nkeep + 1) < 0) {
			char why[256];
			int n = snprintf(why, sizeof(why), "cannot become uid %u: %s",
					 (unsigned)u->uid, strerror(errno));

			host_user_say(sp[1], 'e', why, n > 0 ? (size_t)n : 0);
			_exit(125);
		}
		_exit(fn(arg, sp[1]) < 0 ? 1 : 0);
	}
	close(sp[1]);
	*ctl = sp[0];
	return 0;
}

struct call {
	const char *path;
	int flags;
	mode_t mode;
	bool unlink;
};

static int call_main(void *arg, int ctl)
{
	const struct call *c = arg;
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} cm = { 0 };
	char kind = 'o';
	struct iovec iov = { .iov_base = &kind, .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	int fd, e;

	if (c->unlink)
		return unlink(c->path);
	fd = open(c->path, c->flags | O_CLOEXEC, c->mode);
	if (fd < 0) {
		e = errno;
		kind = e == EACCES || e == EPERM || e == EROFS ? 'r' : 'e';
		iov = (struct iovec){ .iov_base = (char[16]){ 0 }, .iov_len = 16 };
		snprintf(iov.iov_base, 16, "%c%d", kind, e);
		sendmsg(ctl, &mh, MSG_NOSIGNAL);
		return -1;
	}
	mh.msg_control = cm.b;
	mh.msg_controllen = sizeof(cm.b);
	CMSG_FIRSTHDR(&mh)->cmsg_level = SOL_SOCKET;
	CMSG_FIRSTHDR(&mh)->cmsg_type = SCM_RIGHTS;
	CMSG_FIRSTHDR(&mh)->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(CMSG_FIRSTHDR(&mh)), &fd, sizeof(int));
	return sendmsg(ctl, &mh, MSG_NOSIGNAL) < 0 ? -1 : 0;
}

int host_user_open(const struct host_user *u, const char *path, int flags, mode_t mode, int *fd,
		   bool *refused, struct dhi_err **err)
{
	struct call c = { .path = path, .flags = flags, .mode = mode };
	char buf[32] = "";
	dhi_autoclose int ctl = -1;
	pid_t pid;
	ssize_t n;
	int e = EIO;

	*fd = -1;
	*refused = false;
	if (host_user_spawn(u, call_main, &c, NULL, 0, &pid, &ctl, err) < 0)
		return -1;
	n = hear_fd(ctl, buf, sizeof(buf) - 1, fd);
	host_user_wait(pid);
	if (*fd >= 0)
		return 0;
	if (n > 1 && (buf[0] == 'r' || buf[0] == 'e')) {
		e = atoi(buf + 1);
		*refused = buf[0] == 'r';
	}
	return dhi_err_set(err, e, "cannot open `%s`", path);
}

void host_user_unlink(const struct host_user *u, const char *path)
{
	struct call c = { .path = path, .unlink = true };
	struct dhi_err *err = NULL;
	int ctl;
	pid_t pid;

	if (host_user_spawn(u, call_main, &c, NULL, 0, &pid, &ctl, &err) < 0) {
		dhi_err_clear(&err);
		return;
	}
	close(ctl);
	host_user_wait(pid);
}
