// SPDX-License-Identifier: Apache-2.0
/* portfwd.c - dhidebug port-forward: host listeners relayed into a target's network namespace. */
#include "injector/portfwd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/xalloc.h"

#define PF_MAX_CONNS 1024	/* beyond this, new connections wait in the listen backlog */
#define PF_BUF 16384		/* per direction and connection */

static int port_parse(const char *s, size_t len, int min, unsigned short *out)
{
	unsigned long v = 0;

	if (len == 0 || len > 5)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v < (unsigned long)min || v > 65535)
		return -1;
	*out = (unsigned short)v;
	return 0;
}

int portfwd_parse(const char *s, struct portfwd_spec *out, struct dhi_err **err)
{
	const char *last = strrchr(s, ':'), *lport = s;

	memset(out, 0, sizeof(*out));
	out->local_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (!last)
		goto bad;
	if (last != strchr(s, ':')) {
		/* LOCAL_ADDR:LOCAL_PORT:REMOTE_PORT */
		const char *mid = memchr(s, ':', (size_t)(last - s));
		dhi_autofree char *addr = xstrndup(s, (size_t)(mid - s));

		if (strchr(mid + 1, ':') != last)
			goto bad;
		if (strcmp(addr, "localhost") != 0 && inet_pton(AF_INET, addr, &out->local_addr) != 1)
			return dhi_err_set(err, 0, "invalid local address `%s` in `%s` (an IPv4 address)",
					   addr, s);
		lport = mid + 1;
	}
	if (port_parse(lport, (size_t)(last - lport), 0, &out->local_port) < 0 ||
	    port_parse(last + 1, strlen(last + 1), 1, &out->remote_port) < 0)
		goto bad;
	return 0;
bad:
	return dhi_err_set(err, 0, "invalid port forward `%s` (use [<addr>:]<local-port>:<remote-port>)",
			   s);
}

/* --- the helper: a child in the target's network namespace that makes sockets there --- */

/*
 * A socket belongs to the network namespace it was created in, whoever uses it
 * later: the helper only creates them and the parent, which stays in the host's
 * namespaces, connects and relays. The helper joins the network namespace and
 * nothing else (no mount, pid or user namespace: it reads no file of the
 * target's), and answers each one-byte request with an errno (0: the socket
 * comes with it as SCM_RIGHTS).
 */
static void __attribute__((noreturn)) helper_main(struct ns_target *t, int sock)
{
	struct dhi_err *err = NULL;
	char req;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() == 1)
		_exit(1);
	if (ns_target_join(t, NS_BIT(NS_NET), &err) < 0) {
		char *msg = dhi_err_string(err);
		size_t len = strlen(msg);
		char buf[512];

		buf[0] = 1;
		if (len > sizeof(buf) - 1)
			len = sizeof(buf) - 1;
		memcpy(buf + 1, msg, len);
		(void)!send(sock, buf, len + 1, MSG_NOSIGNAL);
		_exit(1);
	}
	req = 0;
	if (send(sock, &req, 1, MSG_NOSIGNAL) != 1)
		_exit(1);
	for (;;) {
		ssize_t n = recv(sock, &req, 1, 0);
		int fd, e = 0;
		char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
		struct iovec iov = { .iov_base = &e, .iov_len = sizeof(e) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(0);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0) {
			e = errno;
		} else {
			struct cmsghdr *c;

			mh.msg_control = cbuf;
			mh.msg_controllen = sizeof(cbuf);
			c = CMSG_FIRSTHDR(&mh);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(c), &fd, sizeof(int));
		}
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
		if (fd >= 0)
			close(fd);
		if (n < 0)
			_exit(1);
	}
}

/* Starts the helper; reads its first answer, which says whether it joined. */
static int helper_start(struct ns_target *t, pid_t *pid, int *sock, struct dhi_err **err)
{
	int sv[2];
	char buf[513];
	ssize_t n;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return dhi_err_set(err, errno, "cannot create the helper's socket pair");
	*pid = fork();
	if (*pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return dhi_err_set(err, errno, "cannot fork the network namespace helper");
	}
	if (*pid == 0) {
		close(sv[0]);
		helper_main(t, sv[1]);
	}
	close(sv[1]);
	*sock = sv[0];
	do
		n = recv(*sock, buf, sizeof(buf) - 1, 0);
	while (n < 0 && errno == EINTR);
	if (n == 1 && buf[0] == 0)
		return 0;
	if (n > 1) {
		buf[n] = 0;
		dhi_err_set(err, 0, "%s", buf + 1);
	} else {
		dhi_err_set(err, n < 0 ? errno : 0, "the network namespace helper exited");
	}
	return -1;
}

/* A socket inside the target's network namespace, from the helper. */
static int helper_socket(int sock, int *out, struct dhi_err **err)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	int e = 0;
	struct iovec iov = { .iov_base = &e, .iov_len = sizeof(e) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	char req = 1;
	ssize_t n;

	if (send(sock, &req, 1, MSG_NOSIGNAL) != 1)
		return dhi_err_set(err, errno, "the network namespace helper is gone");
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(e))
		return dhi_err_set(err, n < 0 ? errno : 0, "the network namespace helper is gone");
	if (e)
		return dhi_err_set(err, e, "cannot create a socket in the target's network namespace");
	c = CMSG_FIRSTHDR(&mh);
	if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
	    c->cmsg_len != CMSG_LEN(sizeof(int)))
		return dhi_err_set(err, 0, "the network namespace helper sent no socket");
	memcpy(out, CMSG_DATA(c), sizeof(int));
	return 0;
}

/* --- the relay --- */

struct conn {
	int fd[2];		/* 0: the client on the host, 1: the socket in the target */
	bool connecting;	/* fd[1]'s connect() has not completed */
	unsigned short remote_port;
	/* dir 0: fd[0] → fd[1], dir 1: fd[1] → fd[0] */
	char *buf[2];
	size_t len[2], off[2];
	bool eof[2];
};

struct relay {
	struct conn *v;
	size_t n;
	bool quiet;
};

static void conn_close(struct relay *r, size_t i)
{
	struct conn *c = &r->v[i];

	close(c->fd[0]);
	close(c->fd[1]);
	free(c->buf[0]);
	free(c->buf[1]);
	r->v[i] = r->v[--r->n];
}

static void notice(const struct relay *r, const char *what, unsigned short port, int e)
{
	if (!r->quiet)
		fprintf(stderr, "dhidebug: port-forward: %s %u: %s\n", what, port, strerror(e));
}

/* Accepts one client and starts its connection inside the target; -1 only when the helper is gone. */
static int conn_accept(struct relay *r, int lfd, unsigned short remote_port, int helper,
		       struct dhi_err **err)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				  .sin_port = htons(remote_port) };
	dhi_autoclose int cfd = -1, tfd = -1;
	struct conn *c;

	cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (cfd < 0)
		return 0; /* EAGAIN, or a client that went away before we took it */
	if (helper_socket(helper, &tfd, err) < 0)
		return -1;
	if (connect(tfd, (struct sockaddr *)&to, sizeof(to)) < 0 && errno != EINPROGRESS) {
		notice(r, "cannot connect to port", remote_port, errno);
		return 0;
	}
	c = &r->v[r->n++];
	*c = (struct conn){ .fd = { dhi_steal_fd(&cfd), dhi_steal_fd(&tfd) },
			    .connecting = true,
			    .remote_port = remote_port,
			    .buf = { xmalloc(PF_BUF), xmalloc(PF_BUF) } };
	return 0;
}

static short conn_events(const struct conn *c, int side)
{
	short ev = 0;

	if (c->connecting)
		return side == 1 ? POLLOUT : 0;
	/* read from `side` when its outgoing buffer is empty; write to it what the other side sent */
	if (!c->eof[side] && c->len[side] == 0)
		ev |= POLLIN;
	if (c->len[!side] > 0)
		ev |= POLLOUT;
	return ev;
}

/* Moves what it can; returns false when the connection is finished (either side closed or failed). */
static bool conn_step(struct relay *r, struct conn *c, const short rev[2])
{
	if (c->connecting) {
		int e = 0;
		socklen_t l = sizeof(e);

		if (!(rev[1] & (POLLOUT | POLLERR | POLLHUP)))
			return !(rev[0] & (POLLERR | POLLHUP));
		if (getsockopt(c->fd[1], SOL_SOCKET, SO_ERROR, &e, &l) < 0)
			e = errno;
		if (e) {
			notice(r, "cannot connect to port", c->remote_port, e);
			return false;
		}
		c->connecting = false;
		return true;
	}
	for (int d = 0; d < 2; d++) {
		int src = c->fd[d], dst = c->fd[!d];
		ssize_t n;

		if ((rev[d] & (POLLIN | POLLHUP | POLLERR)) && c->len[d] == 0 && !c->eof[d]) {
			n = recv(src, c->buf[d], PF_BUF, MSG_DONTWAIT);
			if (n > 0) {
				c->len[d] = (size_t)n;
				c->off[d] = 0;
			} else if (n == 0) {
				c->eof[d] = true;
			} else if (errno != EAGAIN && errno != EINTR) {
				return false;
			}
		}
		while (c->len[d] > 0) {
			n = send(dst, c->buf[d] + c->off[d], c->len[d], MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n < 0) {
				if (errno == EAGAIN || errno == EINTR)
					break;
				return false;
			}
			c->off[d] += (size_t)n;
			c->len[d] -= (size_t)n;
		}
	}
	/*
	 * Once one side has closed and what it sent has been delivered, the other
	 * is closed too: a client that hangs up ends the connection in the
	 * target, and a server that closes ends the client's.
	 */
	for (int d = 0; d < 2; d++)
		if (c->eof[d] && c->len[d] == 0)
			return false;
	if (((rev[0] | rev[1]) & POLLERR))
		return false;
	return true;
}

/* --- the loop --- */

struct listener {
	int fd;
	unsigned short remote_port;
};

static int listen_on(const struct portfwd_spec *s, const char *name, bool quiet, int *out,
		     struct dhi_err **err)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr = s->local_addr,
				 .sin_port = htons(s->local_port) };
	socklen_t alen = sizeof(a);
	char addr[INET_ADDRSTRLEN];
	dhi_autoclose int fd = -1;
	int one = 1;

	inet_ntop(AF_INET, &s->local_addr, addr, sizeof(addr));
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return dhi_err_set(err, errno, "cannot create a socket");
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		return dhi_err_set(err, errno, "cannot set SO_REUSEADDR");
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		return dhi_err_set(err, errno, "cannot listen on `%s:%u`", addr, s->local_port);
	if (listen(fd, 128) < 0)
		return dhi_err_set(err, errno, "cannot listen on `%s:%u`", addr, s->local_port);
	if (getsockname(fd, (struct sockaddr *)&a, &alen) < 0)
		return dhi_err_set(err, errno, "getsockname");
	if (!quiet)
		fprintf(stderr, "dhidebug: forwarding %s:%u -> %s:%u\n", addr, ntohs(a.sin_port),
			name, s->remote_port);
	*out = dhi_steal_fd(&fd);
	return 0;
}

static int sigfd_open(sigset_t *old, struct dhi_err **err)
{
	sigset_t set;
	struct sigaction ign;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (sigaction(SIGHUP, NULL, &ign) == 0 && ign.sa_handler != SIG_IGN)
		sigaddset(&set, SIGHUP); /* nohup keeps it running */
	if (sigprocmask(SIG_BLOCK, &set, old) < 0)
		return dhi_err_set(err, errno, "sigprocmask");
	/*
	 * A shell starts background jobs with SIGINT ignored, and an ignored
	 * signal is discarded rather than queued for the signalfd. Blocked, the
	 * default action cannot run, so restoring it only lets the signal reach us.
	 */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0) {
		sigprocmask(SIG_SETMASK, old, NULL);
		return dhi_err_set(err, errno, "signalfd");
	}
	return fd;
}

static int relay_loop(struct ns_target *t, struct listener *ls, size_t nl, int helper, int sigfd,
		      struct relay *r, struct dhi_err **err)
{
	/* signalfd, pidfd, listeners, then two per connection */
	size_t cap = 2 + nl + 2 * PF_MAX_CONNS;
	dhi_autofree struct pollfd *pfd = xmalloc(cap * sizeof(*pfd));
	dhi_autofree short *rev = xmalloc(2 * PF_MAX_CONNS * sizeof(*rev));

	for (;;) {
		size_t np = 0, base, nconn = r->n;
		int n;

		pfd[np++] = (struct pollfd){ .fd = sigfd, .events = POLLIN };
		pfd[np++] = (struct pollfd){ .fd = t->pidfd, .events = POLLIN };
		for (size_t i = 0; i < nl; i++)
			pfd[np++] = (struct pollfd){ .fd = r->n < PF_MAX_CONNS ? ls[i].fd : -1,
						     .events = POLLIN };
		base = np;
		for (size_t i = 0; i < nconn; i++)
			for (int s = 0; s < 2; s++)
				pfd[np++] = (struct pollfd){ .fd = r->v[i].fd[s],
							     .events = conn_events(&r->v[i], s) };
		n = poll(pfd, (nfds_t)np, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return dhi_err_set(err, errno, "poll");
		}
		if (pfd[0].revents) {
			struct signalfd_siginfo si;

			/* consumed here, or it would kill us when the mask is restored */
			while (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
				;
			return 0;
		}
		if (pfd[1].revents)
			return dhi_err_set(err, 0, "the target (pid %d) exited", (int)t->pid);
		for (size_t i = 0; i < 2 * nconn; i++)
			rev[i] = pfd[base + i].revents;
		/* backwards: conn_close() moves the last connection into the freed slot */
		for (size_t i = nconn; i-- > 0;)
			if ((rev[2 * i] || rev[2 * i + 1]) && !conn_step(r, &r->v[i], &rev[2 * i]))
				conn_close(r, i);
		for (size_t i = 0; i < nl; i++) {
			if (!(pfd[2 + i].revents & POLLIN))
				continue;
			while (r->n < PF_MAX_CONNS) {
				size_t before = r->n;

				if (conn_accept(r, ls[i].fd, ls[i].remote_port, helper, err) < 0) {
					/* the helper is gone: say so, or that the target is */
					ns_target_check_alive(t, err);
					return -1;
				}
				if (r->n == before)
					break;
			}
		}
	}
}

int portfwd_run(struct ns_target *t, const char *name, const struct portfwd_spec *specs,
		size_t n, bool quiet, struct dhi_err **err)
{
	dhi_autofree struct listener *ls = xzalloc(n * sizeof(*ls));
	struct relay r = { .v = xmalloc(PF_MAX_CONNS * sizeof(struct conn)), .quiet = quiet };
	dhi_autoclose int helper = -1, sigfd = -1;
	pid_t hpid = -1;
	sigset_t old;
	int ret = -1;

	for (size_t i = 0; i < n; i++)
		ls[i].fd = -1;
	/* signals first: the helper inherits the blocked mask and outlives a Ctrl-C to our group */
	sigfd = sigfd_open(&old, err);
	if (sigfd < 0)
		goto out_free;
	if (helper_start(t, &hpid, &helper, err) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (listen_on(&specs[i], name, quiet, &ls[i].fd, err) < 0)
			goto out;
		ls[i].remote_port = specs[i].remote_port;
	}
	ret = relay_loop(t, ls, n, helper, sigfd, &r, err);
out:
	while (r.n > 0)
		conn_close(&r, r.n - 1);
	for (size_t i = 0; i < n; i++)
		dhi_close_reset(&ls[i].fd);
	if (hpid > 0) {
		dhi_close_reset(&helper); /* the helper exits when its socket closes */
		while (waitpid(hpid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
out_free:
	free(r.v);
	return ret;
}
