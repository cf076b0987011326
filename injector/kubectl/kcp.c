// SPDX-License-Identifier: Apache-2.0
/* kcp.c - `kubectl dhidebug cp`: the tar stream over `kubectl attach -i`, hashed and recorded here. */
#include "injector/kubectl/kcp.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/path.h"
#include "common/fdio.h"
#include "common/xalloc.h"
#include "injector/copy/custody.h"
#include "injector/copy/sink.h"
#include "injector/copy/tarin.h"
#include "injector/copy/walk.h"
#include "injector/kubectl/attach.h"
#include "injector/record/record.h"

#ifndef DHIDEBUG_VERSION
#define DHIDEBUG_VERSION "0.0.0"
#endif

struct kube_cp {
	const struct kube_cp_spec *s;
	struct kube_cp_opts o;
	int srcfd;		/* in: the source, O_PATH | O_NOFOLLOW */
	int dstdir;		/* out: the directory the top entry lands in */
	char *top;		/* out: the top entry's name there */
	char *hdir;		/* out: that directory's path */
	char *hside;		/* the operator's path of the top entry */
	char *cside;		/* the pod's path of the top entry */
	struct custody c;
	char id[40];
	char *failure;		/* why the copy failed on this side, for copy.end */
};

/* A DNS label or subdomain as Kubernetes names pods and namespaces: [a-z0-9.-], alnum at the ends. */
static bool is_dns_name(const char *s, size_t n)
{
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";

	if (n == 0 || n > 253 || !strchr(alnum, s[0]) || !strchr(alnum, s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr(alnum, s[i]) && s[i] != '-' && s[i] != '.')
			return false;
	return true;
}

/* `[NS/]POD:PATH`: 1 (filled), 0 an operator's path. */
static int pod_operand(const char *w, char **ns, char **pod, char **path)
{
	const char *colon = strchr(w, ':'), *slash;

	if (!colon)
		return 0;
	slash = memchr(w, '/', (size_t)(colon - w));
	if (slash ? !is_dns_name(w, (size_t)(slash - w)) ||
			    !is_dns_name(slash + 1, (size_t)(colon - slash - 1))
		  : !is_dns_name(w, (size_t)(colon - w)))
		return 0;
	*ns = slash ? xstrndup(w, (size_t)(slash - w)) : NULL;
	*pod = slash ? xstrndup(slash + 1, (size_t)(colon - slash - 1))
		     : xstrndup(w, (size_t)(colon - w));
	*path = colon[1] == '/' ? xstrdup(colon + 1) : xasprintf("/%s", colon + 1);
	return 1;
}

static bool is_name(const char *s)
{
	return *s && strcmp(s, ".") != 0 && strcmp(s, "..") != 0 && strcmp(s, "/") != 0;
}

int kube_cp_parse(const char *src, const char *dst, struct kube_cp_spec *s, struct dhi_err **err)
{
	char *ns = NULL, *pod = NULL, *path = NULL;
	int in_src = pod_operand(src, &ns, &pod, &path);

	memset(s, 0, sizeof(*s));
	if (in_src) {
		dhi_autofree char *ns2 = NULL, *pod2 = NULL, *path2 = NULL;

		if (pod_operand(dst, &ns2, &pod2, &path2)) {
			free(ns);
			free(pod);
			free(path);
			return dhi_err_set_status(err, 2, 0, "both operands name a pod; one is a "
						  "path here (write one with a `:` as `./a:b`)");
		}
	}
	if (!in_src && !pod_operand(dst, &ns, &pod, &path))
		return dhi_err_set_status(err, 2, 0, "neither operand is `[<namespace>/]<pod>:<path>`");
	s->out = in_src;
	s->namespace = ns;
	s->pod = pod;
	s->cpath = path;
	s->hpath = xstrdup(in_src ? dst : src);
	if (!*s->hpath)
		return dhi_err_set_status(err, 2, 0, "an empty path");
	if (s->out) {
		dhi_autofree char *name = path_base(s->cpath);

		if (!is_name(name))
			return dhi_err_set_status(err, 2, 0, "`%s`: the pod's path must end in a name",
						  s->cpath);
		return 0;
	}
	{
		dhi_autofree char *src_name = path_base(s->hpath);
		size_t n = strlen(s->cpath);

		if (s->cpath[n - 1] == '/') {
			/* into that directory, under the source's own name */
			if (!is_name(src_name))
				return dhi_err_set_status(err, 2, 0, "`%s`: the source must end in a "
							  "name", s->hpath);
			s->in_dir = path_strip_slashes(s->cpath);
			s->in_name = xstrdup(src_name);
		} else {
			s->in_name = path_base(s->cpath);
			s->in_dir = path_dir(s->cpath);
			if (!is_name(s->in_name))
				return dhi_err_set_status(err, 2, 0, "`%s`: the pod's path must end in a "
							  "name, or in `/` for a directory",
							  s->cpath);
		}
	}
	return 0;
}

void kube_cp_spec_free(struct kube_cp_spec *s)
{
	free(s->namespace);
	free(s->pod);
	free(s->cpath);
	free(s->hpath);
	free(s->in_dir);
	free(s->in_name);
	memset(s, 0, sizeof(*s));
}

json_t *kube_cp_command(const struct kube_cp_spec *s, const char *profile, const char *target,
			bool archive, bool force)
{
	json_t *cmd = json_pack("[s, s, s, s]", "dhidebug", "cp", "--profile", profile);
	dhi_autofree char *operand = xasprintf("%s:%s", target, s->out ? s->cpath : s->in_dir);

	if (archive)
		json_array_append_new(cmd, json_string("-a"));
	if (force)
		json_array_append_new(cmd, json_string("--force"));
	if (s->out) {
		json_array_append_new(cmd, json_string("--wait-stdin"));
		json_array_append_new(cmd, json_string(operand));
		json_array_append_new(cmd, json_string("-"));
	} else {
		json_array_append_new(cmd, json_string("-"));
		json_array_append_new(cmd, json_string(operand));
	}
	return cmd;
}

static FILE *manifest_open(const char *path, bool force, struct dhi_err **err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW |
				    (force ? O_TRUNC : O_EXCL), 0644);
	FILE *f;

	if (fd < 0)
		return dhi_err_set(err, errno, "cannot create the manifest `%s`%s", path,
				   errno == EEXIST ? " (--force replaces it)" : ""), NULL;
	f = fdopen(fd, "w");
	if (!f)
		close(fd);
	return f;
}

static void cp_free(struct kube_cp *k)
{
	if (k->srcfd >= 0)
		close(k->srcfd);
	if (k->dstdir >= 0)
		close(k->dstdir);
	free(k->top);
	free(k->hdir);
	free(k->hside);
	free(k->cside);
	free(k->failure);
	free(k);
}

/* Where a copy out lands: into DEST when it is a directory, else DEST itself, as cp(1). */
static int place_out(struct kube_cp *k, struct dhi_err **err)
{
	const char *dest = k->s->hpath;
	struct stat st;

	k->dstdir = open(dest, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (k->dstdir >= 0) {
		k->top = path_base(k->s->cpath);
		k->hdir = path_strip_slashes(dest);
		k->hside = path_join(dest, k->top);
	} else {
		dhi_autofree char *dir = path_dir(dest);

		k->top = path_base(dest);
		if (!is_name(k->top))
			return dhi_err_set(err, 0, "`%s`: the destination must end in a name", dest);
		k->dstdir = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (k->dstdir < 0)
			return dhi_err_set(err, errno, "destination: cannot open the directory `%s`",
					   dir);
		k->hdir = xstrdup(dir);
		k->hside = xstrdup(dest);
	}
	if (fstatat(k->dstdir, k->top, &st, AT_SYMLINK_NOFOLLOW) == 0 && !k->o.force)
		return dhi_err_set(err, 0, "`%s` exists (--force replaces it)", k->hside);
	k->cside = xstrdup(k->s->cpath);
	return 0;
}

struct kube_cp *kube_cp_prepare(const struct kube_cp_spec *s, const struct kube_cp_opts *o,
				struct dhi_err **err)
{
	struct kube_cp *k = xzalloc(sizeof(*k));

	k->s = s;
	k->o = *o;
	k->srcfd = k->dstdir = -1;
	if (s->out) {
		if (place_out(k, err) < 0)
			goto fail;
	} else {
		k->srcfd = open(s->hpath, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (k->srcfd < 0) {
			dhi_err_set(err, errno, "cannot open `%s`", s->hpath);
			goto fail;
		}
		k->hside = xstrdup(s->hpath);
		k->cside = path_join(s->in_dir, s->in_name);
	}
	if (o->manifest && !(k->c.manifest = manifest_open(o->manifest, o->force, err)))
		goto fail;
	return k;
fail:
	cp_free(k);
	return NULL;
}

int kube_cp_record(struct kube_cp *k, const char *dir, json_t *start, const char *target,
		   struct dhi_err **err)
{
	dhi_autofree char *title = xasprintf("kubectl dhidebug cp %s", k->s->pod);
	json_t *f, *op;

	if (!dir) {
		json_decref(start);
		return custody_start(&k->c, NULL, err);
	}
	k->c.rec = kube_record_open(dir, title, k->id, err);
	if (!k->c.rec) {
		json_decref(start);
		return dhi_err_prefix(err, "recording on this side");
	}
	op = kube_attach_operator(json_object_get(start, "operator"));
	json_object_set_new(start, "session", json_string(k->id));
	json_object_set_new(start, "kind", json_string("copy"));
	json_object_set(start, "operator", op);
	json_object_set_new(start, "dhidebug", json_string(DHIDEBUG_VERSION));
	if (record_audit(k->c.rec, "session.start", start, true) < 0) {
		json_decref(op);
		return dhi_err_set(err, errno, "cannot write the audit log");
	}
	f = json_pack("{s:s, s:o, s:b, s:b}", "direction", k->s->out ? "out" : "in", "operator",
		      op, "archive", k->o.archive, "force", k->o.force);
	custody_set_text(f, "target", target);
	custody_set_text(f, "container_path", k->s->cpath);
	custody_set_text(f, "host_path", k->s->hpath);
	if (custody_start(&k->c, f, err) < 0)
		return -1;
	if (!k->o.quiet)
		fprintf(stderr, "kubectl-dhidebug: recording session %s in %s\n", k->id, dir);
	return 0;
}

/* --- the stream ------------------------------------------------------------------------- */

static volatile sig_atomic_t stop_signal;
static volatile pid_t stream_child;

/* A stop signal during the copy: kubectl's process group goes, and with it the stream. */
static void on_stop(int sig)
{
	int e = errno;

	if (!stop_signal)
		stop_signal = sig;
	if (stream_child > 0)
		kill(-stream_child, SIGTERM);
	errno = e;
}

static const int stop_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
#define N_STOP (sizeof(stop_signals) / sizeof(stop_signals[0]))

struct saved_signals {
	struct sigaction act[N_STOP], pipe;
	sigset_t mask;
};

static void catch_stops(struct saved_signals *sv)
{
	struct sigaction sa = { .sa_handler = on_stop };
	sigset_t unblock;

	stop_signal = 0;
	stream_child = 0;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&unblock);
	for (size_t i = 0; i < N_STOP; i++) {
		struct sigaction old;

		sigaction(stop_signals[i], NULL, &old);
		sv->act[i] = old;
		/* (one the caller's caller set to be ignored stays ignored) */
		if (old.sa_handler != SIG_IGN)
			sigaction(stop_signals[i], &sa, NULL);
		sigaddset(&unblock, stop_signals[i]);
	}
	/* a write to a kubectl that is gone is EPIPE, not our death */
	sigaction(SIGPIPE, &(struct sigaction){ .sa_handler = SIG_IGN }, &sv->pipe);
	sigprocmask(SIG_UNBLOCK, &unblock, &sv->mask);
}

static void restore_stops(struct saved_signals *sv)
{
	sigprocmask(SIG_SETMASK, &sv->mask, NULL);
	for (size_t i = 0; i < N_STOP; i++)
		sigaction(stop_signals[i], &sv->act[i], NULL);
	sigaction(SIGPIPE, &sv->pipe, NULL);
}

/* In the child: its own process group (a stop signal ends all of it), the pipes, kubectl. */
static void __attribute__((noreturn)) child_exec(int in, int out, char *const argv[])
{
	sigset_t none;

	setpgid(0, 0);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (dup2(in, 0) < 0 || (out >= 0 && dup2(out, 1) < 0))
		_exit(126);
	execvp(argv[0], argv);
	fprintf(stderr, "kubectl-dhidebug: cannot run `%s`: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Out: the byte that starts the pod's dhidebug, then its tar stream into the destination. */
static int stream_out(struct kube_cp *k, int to, int from, struct dhi_err **err)
{
	dhi_autofree char *src = path_dir(k->s->cpath);
	int r;

	r = fd_write_all(to, "\n", 1);
	close(to);
	if (r < 0)
		return dhi_err_set(err, errno, "cannot start the copy in the pod (kubectl attach's "
				   "stdin)");
	return tarin_run(from, k->dstdir,
			 &(struct tarin_opts){ .dest = k->hdir, .src = src, .top_as = k->top,
					       .archive = k->o.archive, .force = k->o.force,
					       .quiet = k->o.quiet },
			 &k->c, err);
}

/* In: the source as a tar stream on kubectl's stdin, its top entry named for the pod. */
static int stream_in(struct kube_cp *k, int to, struct dhi_err **err)
{
	struct copy_sink sink;
	struct copy_walk w = { .sink = &sink, .custody = &k->c, .cside = k->cside,
			       .hside = k->hside, .src_is_container = false, .quiet = k->o.quiet };
	int r;

	if (sink_tar_init(&sink, to, k->o.archive, err) < 0) {
		close(to);
		return -1;
	}
	r = copy_walk_run(&w, k->srcfd, NULL, k->s->in_name, err);
	sink_tar_free(&sink);
	close(to);
	return r;
}

int kube_cp_stream(struct kube_cp *k, char *const argv[], int *kstatus, int *stopped_by,
		   struct dhi_err **err)
{
	struct saved_signals sv;
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, ws = 0, r;
	pid_t pid;

	*kstatus = 0;
	*stopped_by = 0;
	if (pipe2(in, O_CLOEXEC) < 0 || (k->s->out && pipe2(out, O_CLOEXEC) < 0)) {
		r = dhi_err_set(err, errno, "cannot make a pipe");
		goto fail_pipes;
	}
	catch_stops(&sv);
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		restore_stops(&sv);
		r = dhi_err_set(err, errno, "cannot fork");
		goto fail_pipes;
	}
	if (pid == 0)
		child_exec(in[0], out[1], argv);
	stream_child = pid;
	/* (a signal that came before the child was known) */
	if (stop_signal)
		kill(-pid, SIGTERM);
	close(in[0]);
	if (out[1] >= 0)
		close(out[1]);
	r = k->s->out ? stream_out(k, in[1], out[0], err) : stream_in(k, in[1], err);
	if (out[0] >= 0)
		close(out[0]);
	/* a copy that failed here ends the attach: the pod's side gets a cut stream */
	if (r < 0)
		kill(-pid, SIGTERM);
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	stream_child = 0;
	*stopped_by = stop_signal;
	restore_stops(&sv);
	*kstatus = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	if (r < 0 && *stopped_by) {
		dhi_err_clear(err);
		r = dhi_err_set(err, 0, "stopped by SIG%s", sigabbrev_np(*stopped_by));
	}
	if (r < 0)
		k->failure = dhi_err_string(*err);
	return r;
fail_pipes:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
	}
	k->failure = dhi_err_string(*err);
	return r;
}

void kube_cp_end(struct kube_cp *k, const char *failure, int status)
{
	struct dhi_err *e = NULL;
	const char *why = failure ? failure : k->failure;
	bool ok = !why;

	if (custody_end(&k->c, why, &e) < 0 && ok) {
		ok = false;
		why = "the audit log could not be written";
	}
	dhi_err_clear(&e);
	if (k->c.rec) {
		record_audit(k->c.rec, "session.end",
			     json_pack("{s:i, s:f, s:i, s:i, s:s}", "status",
				       ok ? status : (status ? status : 125),
				       "duration", record_elapsed(k->c.rec), "bytes_in", 0,
				       "bytes_out", 0, "reason", ok ? "copied" : why),
			     true);
		record_close(k->c.rec);
	}
	if (k->c.manifest) {
		if (fclose(k->c.manifest) != 0 && ok) {
			fprintf(stderr, "kubectl-dhidebug: cannot write the manifest `%s`: %s\n",
				k->o.manifest, strerror(errno));
			ok = false;
		}
		if (!ok)
			unlink(k->o.manifest);
	}
	if (ok && !k->o.quiet)
		fprintf(stderr, "kubectl-dhidebug: cp: %llu %s, %llu bytes%s%s\n",
			(unsigned long long)k->c.files, k->c.files == 1 ? "entry" : "entries",
			(unsigned long long)k->c.bytes, *k->id ? ", session " : " (not recorded)",
			k->id);
	cp_free(k);
}
