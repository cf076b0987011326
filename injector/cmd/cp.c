// SPDX-License-Identifier: Apache-2.0
/* cp.c - `dhidebug cp`: options, the target's root, the copy as a recorded session. */
#include "injector/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <jansson.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/path.h"
#include "common/syscalls.h"
#include "common/xalloc.h"
#include "injector/cli.h"
#include "injector/toolbox_cmd.h"
#include "injector/copy/custody.h"
#include "injector/copy/hostuser.h"
#include "injector/copy/idmap.h"
#include "injector/copy/sink.h"
#include "injector/copy/spec.h"
#include "injector/copy/tarin.h"
#include "injector/copy/walk.h"
#include "injector/delegate.h"
#include "injector/imagetarget.h"
#include "injector/policy/policy.h"
#include "injector/record/record.h"
#include "injector/runtime/runtime.h"
#include "injector/session.h"
#include "nsenter/target.h"

#ifndef DHIDEBUG_VERSION
#define DHIDEBUG_VERSION "0.0.0"
#endif

struct cp_opts {
	bool archive;		/* -a */
	bool force;		/* -f, --force */
	bool quiet;		/* -q */
	bool no_record;		/* --no-record */
	bool wait_stdin;	/* --wait-stdin */
	bool help;
	bool delegated;		/* delegated mode (injector/delegate.h), not an option */
	const struct host_user *hu;	/* delegated: who the host's side is done as */
	unsigned long long max_size;	/* --max-size SIZE (0: the default) */
	const char *manifest;	/* --manifest FILE */
	const char *profile;	/* --profile NAME */
	const char *policy;	/* --policy FILE */
	const char *sessions_dir;	/* --sessions-dir DIR */
	const char *runtime_root;	/* --runtime-root DIR */
	const char *toolbox_cache;	/* --toolbox-cache DIR (image://) */
	const char *src, *dst;
};

/* The container's side, pinned: its process, its root, and a holder that stands in for it. */
struct cp_target {
	struct rt_target rt;
	struct ns_target t;
	struct image_target holder;	/* a stopped container's or an image's (keeper -1: none) */
	int root;		/* O_PATH fd of its root directory */
	struct copy_idmap idmap;	/* a copy in: its user namespace's maps (mapped false: none) */
	bool resolved;
};

/* Both ends of the copy, opened. */
struct cp_ends {
	int srcfd;		/* O_PATH | O_NOFOLLOW: the top entry */
	int dstdir;		/* the directory the top entry is created in; -1 for a tar stream */
	char *name;		/* the top entry's name there (the tar stream's first member) */
	char *cside;		/* the top entry's path in the container */
	char *hside;		/* its path on the host (a tar stream: its member name) */
};

static void cp_usage(FILE *f)
{
	fputs("usage: dhidebug cp [-a] [--force] [--manifest=<file>] [--max-size=<size>]\n"
	      "                   <target>:<path> <dest>|-\n"
	      "       dhidebug cp [-a] [--force] [--manifest=<file>] [--max-size=<size>]\n"
	      "                   <src>|- <target>:<path>\n"
	      "\n"
	      "  -a, --archive          keep mode, owner, times and user.* xattrs\n"
	      "  -f, --force            replace what exists at the destination\n"
	      "  --manifest=<file>      write a `sha256sum -c` list of the files copied\n"
	      "  --max-size=<size>      skip (out) or refuse (in) a file larger than this\n"
	      "                         (512M, 64G, bytes; default 64G)\n"
	      "  --profile=<name>       the profile whose write rules a copy in obeys\n"
	      "  --policy=<file>        another policy file\n"
	      "  --sessions-dir=<dir>   where the copy's session is recorded\n"
	      "  --no-record            do not record (where the policy allows it)\n"
	      "  --runtime-root=<dir>   the runc/crun state directory\n"
	      "  --toolbox-cache=<dir>  the cache that holds image:// targets\n"
	      "  -q, --quiet            no notices\n"
	      "  --wait-stdin           wait for one byte on stdin before anything else (kubectl\n"
	      "                         dhidebug cp: nothing is written before its attach reads)\n"
	      "\n"
	      "<dest> `-` writes a tar stream to stdout, <src> `-` reads one from stdin into\n"
	      "the directory <path>. See docs/cp.md.\n",
	      f);
}

static int cp_parse(int argc, char **argv, struct cp_opts *o, struct dhi_err **err)
{
	enum { O_MANIFEST = 256, O_PROFILE, O_POLICY, O_SDIR, O_NOREC, O_RTROOT, O_TBCACHE,
	       O_WAIT_STDIN, O_MAX_SIZE };
	static const struct option opts[] = {
		{ "archive", no_argument, NULL, 'a' },
		{ "force", no_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "manifest", required_argument, NULL, O_MANIFEST },
		{ "profile", required_argument, NULL, O_PROFILE },
		{ "policy", required_argument, NULL, O_POLICY },
		{ "sessions-dir", required_argument, NULL, O_SDIR },
		{ "no-record", no_argument, NULL, O_NOREC },
		{ "runtime-root", required_argument, NULL, O_RTROOT },
		{ "toolbox-cache", required_argument, NULL, O_TBCACHE },
		{ "wait-stdin", no_argument, NULL, O_WAIT_STDIN },
		{ "max-size", required_argument, NULL, O_MAX_SIZE },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":afqh", opts, NULL)) != -1) {
		switch (c) {
		case 'a': o->archive = true; break;
		case 'f': o->force = true; break;
		case 'q': o->quiet = true; break;
		case 'h': o->help = true; return 0;
		case O_MANIFEST: o->manifest = optarg; break;
		case O_PROFILE: o->profile = optarg; break;
		case O_POLICY: o->policy = optarg; break;
		case O_SDIR: o->sessions_dir = optarg; break;
		case O_NOREC: o->no_record = true; break;
		case O_RTROOT: o->runtime_root = optarg; break;
		case O_TBCACHE: o->toolbox_cache = optarg; break;
		case O_WAIT_STDIN: o->wait_stdin = true; break;
		case O_MAX_SIZE:
			if (cli_parse_size(optarg, &o->max_size, err) < 0) {
				dhi_err_clear(err);
				return dhi_err_set(err, 0, "invalid --max-size `%s` (a size: 512M, "
						   "64G, or bytes)", optarg);
			}
			break;
		case ':':
			return dhi_err_set(err, 0, "`%s` needs a value", argv[optind - 1]);
		default:
			return dhi_err_set(err, 0, "unknown option `%s`", argv[optind - 1]);
		}
	}
	if (argc - optind != 2)
		return dhi_err_set(err, 0, "expected a source and a destination, got %d operand%s "
				   "(dhidebug cp --help)", argc - optind,
				   argc - optind == 1 ? "" : "s");
	o->src = argv[optind];
	o->dst = argv[optind + 1];
	return 0;
}

/* `name` (one component) below `dirfd`, not followed when it is a symlink */
static int open_entry_at(int dirfd, const char *name, const char *what, int *out,
			 struct dhi_err **err)
{
	struct open_how how = { .flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
				.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
					   RESOLVE_NO_MAGICLINKS };

	*out = dhi_sys_openat2(dirfd, name, &how, sizeof(how));
	if (*out < 0)
		return dhi_err_set(err, errno, "cannot open `%s`", what);
	return 0;
}

static bool is_dot(const char *name)
{
	return strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
}

/*
 * A copy in: the user namespace of the container's process, whose maps give
 * what is written there its owner on the host (sink_dir_set_idmap). That of
 * the runtime, which owns its pid namespace: a process in a namespace it
 * made itself (its maps are its own choice, within its range) is refused.
 */
static int open_idmap(struct cp_target *ct, struct dhi_err **err)
{
	struct stat st;

	if (ct->t.has_owner && fstatat(ct->t.procfd, "ns/user", &st, 0) == 0 &&
	    (st.st_dev != ct->t.owner_dev || st.st_ino != ct->t.owner_ino))
		return dhi_err_set(err, 0, "the container's process is in a user namespace of its "
				   "own, not the one its runtime gave it: whose its files are is not "
				   "known, and copying in is refused");
	return copy_idmap_read(ct->t.procfd, &ct->idmap, err);
}

/*
 * The container's root: a running container's (its process pinned by pidfd),
 * a stopped one's files or an image's through the holder a session would get
 * (with --write's mount for a copy in: the container's own files, plain root
 * or writable layer). The holder lives until the copy is over: the root fd
 * alone would keep the root's own mount, not the volumes mounted on it, which
 * go with the holder's mount namespace.
 */
static int open_target(const struct cp_opts *o, const struct copy_spec *spec,
		       struct cp_target *ct, struct dhi_err **err)
{
	struct toolbox_args ta = { .toolbox_cache = o->toolbox_cache, .policy = o->policy,
				   .quiet = true };
	struct image_target *holder = &ct->holder;
	bool image = image_target_is(spec->target);
	int r;

	*holder = (struct image_target){ .keeper = -1, .holder = -1 };
	ct->root = -1;
	ct->t = (struct ns_target){ .pidfd = -1, .procfd = -1 };
	if (image) {
		if (spec->dir == COPY_IN)
			return dhi_err_set(err, 0, "`%s`: an image's files are never written",
					   spec->target);
		if (image_target_start(spec->target + 8, &ta, false, holder, &ct->rt, err) < 0)
			return -1;
	} else {
		if (rt_resolve(spec->target,
			       &(struct rt_opts){ .runtime_root = o->runtime_root, .stopped = true },
			       &ct->rt, err) < 0)
			return -1;
		/* a stopped container's holder on its own files, written only by a copy in */
		if (ct->rt.exited &&
		    stopped_target_start(spec->dir == COPY_IN, false, holder, &ct->rt, err) < 0) {
			rt_target_free(&ct->rt);
			return -1;
		}
	}
	ct->resolved = true;
	r = ns_target_open(ct->rt.pid, holder->keeper > 0 ? 0 : ct->rt.start_time, &ct->t, err) < 0 ||
	    ns_target_open_root(&ct->t, &ct->root, err) < 0 ? -1 : 0;
	if (r < 0) {
		dhi_autofree char *label = rt_target_label(&ct->rt);

		return dhi_err_prefix(err, "container `%s`", label);
	}
	/* its files would be the host's */
	if (session_check_host(false, true, &ct->t, &ct->rt, &(bool){ false }, err) < 0)
		return -1;
	return spec->dir == COPY_IN && holder->keeper <= 0 ? open_idmap(ct, err) : 0;
}

static void close_target(struct cp_target *ct)
{
	copy_idmap_free(&ct->idmap);
	image_target_stop(&ct->holder);
	if (ct->root >= 0)
		close(ct->root);
	if (ct->t.procfd >= 0 || ct->t.pidfd >= 0)
		ns_target_close(&ct->t);
	if (ct->resolved)
		rt_target_free(&ct->rt);
}

/* The container's entry at `cpath` (its last component not followed), from `root`. */
static int open_container_src(int root, const char *cpath, struct cp_ends *e,
			      struct dhi_err **err)
{
	dhi_autofree char *dir = path_dir(cpath);
	dhi_autoclose int dfd = -1;

	e->name = path_base(cpath);
	if (strcmp(e->name, "/") == 0) {
		free(e->name);
		e->name = NULL;
		e->srcfd = openat(root, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
		return e->srcfd < 0 ? dhi_err_set(err, errno, "cannot open `/`") : 0;
	}
	if (is_dot(e->name))
		return dhi_err_set(err, 0, "`%s`: the path must end in a name, not `%s`", cpath,
				   e->name);
	if (path_open_at(root, dir, O_PATH | O_DIRECTORY, 0, &dfd, err) < 0)
		return dhi_err_prefix(err, "`%s`", dir);
	return open_entry_at(dfd, e->name, cpath, &e->srcfd, err);
}

/*
 * Where the top entry goes, as cp(1) decides: into DEST when it is a
 * directory, else DEST itself; what is there already is refused without
 * --force. `root` >= 0: DEST is the container's, resolved inside that root;
 * -1: the host's (the operator's own path, followed as cp(1) does).
 */
static int place_dest(int root, const char *dest, const char *src_name, bool force,
		      struct cp_ends *e, struct dhi_err **err)
{
	dhi_autofree char *dir = NULL;
	struct dhi_err *e2 = NULL;
	struct stat st;
	int fd = -1;

	/* DEST is a directory: the entry goes in it under its own name */
	if (root >= 0 ? path_open_at(root, dest, O_PATH | O_DIRECTORY, 0, &fd, &e2) == 0
		      : (fd = open(dest, O_PATH | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		if (!src_name) {
			close(fd);
			return dhi_err_set(err, 0, "`%s` exists: copying a whole root needs a "
					   "destination that does not", dest);
		}
		e->dstdir = fd;
		e->name = xstrdup(src_name);
		e->hside = path_join(dest, src_name);
	} else {
		dhi_autofree char *name = path_base(dest);

		dhi_err_clear(&e2);
		dir = path_dir(dest);
		if (is_dot(name) || strcmp(name, "/") == 0)
			return dhi_err_set(err, 0, "`%s`: the destination must end in a name", dest);
		if (root >= 0 ? path_open_at(root, dir, O_PATH | O_DIRECTORY, 0, &fd, err) < 0
			      : (fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
			if (root < 0)
				dhi_err_set(err, errno, "cannot open the directory `%s`", dir);
			return dhi_err_prefix(err, "destination");
		}
		e->dstdir = fd;
		e->name = xstrdup(name);
		e->hside = xstrdup(dest);
	}
	if (fstatat(e->dstdir, e->name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !force)
		return dhi_err_set(err, 0, "`%s` exists (--force replaces it)", e->hside);
	return 0;
}

static int open_ends(const struct cp_opts *o, const struct copy_spec *spec, int root,
		     struct cp_ends *e, struct dhi_err **err)
{
	e->srcfd = e->dstdir = -1;
	if (spec->dir == COPY_OUT) {
		dhi_autofree char *src_name = NULL;

		if (open_container_src(root, spec->cpath, e, err) < 0)
			return -1;
		src_name = e->name;
		e->name = NULL;
		if (strcmp(spec->hpath, "-") == 0) {
			if (isatty(STDOUT_FILENO))
				return dhi_err_set(err, 0, "`-` writes a tar stream: stdout is a "
						   "terminal");
			e->name = xstrdup(src_name ? src_name : ".");
			e->hside = xstrdup(e->name);
		} else if (o->hu->on) {
			/* the user's helper places it (start_user_side) */
			e->name = src_name ? xstrdup(src_name) : NULL;
		} else if (place_dest(-1, spec->hpath, src_name, o->force, e, err) < 0) {
			return -1;
		}
		e->cside = xstrdup(spec->cpath);
		return 0;
	}
	if (strcmp(spec->hpath, "-") == 0) {
		/* a tar stream goes into a directory that is there, as with docker cp */
		if (isatty(STDIN_FILENO))
			return dhi_err_set(err, 0, "`-` reads a tar stream: stdin is a terminal");
		if (path_open_at(root, spec->cpath, O_PATH | O_DIRECTORY, 0, &e->dstdir, err) < 0)
			return dhi_err_prefix(err, "`%s` (a tar stream is unpacked into a "
					      "directory)", spec->cpath);
		e->cside = xstrdup(spec->cpath);
		e->hside = xstrdup("-");
		return 0;
	}
	{
		dhi_autofree char *name = path_base(spec->hpath);

		/* (a delegated operator's source is opened by their helper: start_user_side) */
		e->srcfd = o->hu->on ? -1 : open(spec->hpath, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (e->srcfd < 0 && !o->hu->on)
			return dhi_err_set(err, errno, "cannot open `%s`", spec->hpath);
		if (place_dest(root, spec->cpath, strcmp(name, "/") == 0 ? NULL : name, o->force,
			       e, err) < 0)
			return -1;
		/* place_dest() named the destination's side: here the container's */
		e->cside = e->hside;
		e->hside = xstrdup(spec->hpath);
	}
	return 0;
}

static void close_ends(struct cp_ends *e)
{
	if (e->srcfd >= 0)
		close(e->srcfd);
	if (e->dstdir >= 0)
		close(e->dstdir);
	free(e->name);
	free(e->cside);
	free(e->hside);
}

/* The site's (and --policy's) word on the copy: direction, profile, recording. */
static int check_policy(const struct cp_opts *o, const struct copy_spec *spec,
			const struct policy *site, const struct policy *pol,
			const struct profile **prof, struct dhi_err **err)
{
	unsigned int want = spec->dir == COPY_IN ? POLICY_CP_IN : POLICY_CP_OUT;

	/* the site's `cp` holds whatever --policy says (a delegated operator's is listed) */
	for (const struct policy *p = site; p; p = p == pol ? NULL : pol)
		if (!(p->cp & want))
			return dhi_err_set(err, 0, "policy `%s` forbids copying %s (`cp`)",
					   p->source ? p->source : "built-in",
					   spec->dir == COPY_IN ? "into containers"
								: "out of containers");
	if (policy_select(pol, o->profile, prof, err) < 0)
		return -1;
	if (spec->dir == COPY_IN && (*prof)->container_ro)
		return dhi_err_set(err, 0, "profile `%s` does not write the container's files "
				   "(`container_readonly`): copying in is refused", (*prof)->name);
	if (o->no_record && pol->record == POLICY_RECORD_REQUIRED)
		return dhi_err_set(err, 0, "--no-record: the policy requires recording");
	return 0;
}

static json_t *command_json(int argc, char **argv)
{
	json_t *a = json_array();

	json_array_append_new(a, json_string("dhidebug"));
	for (int i = 0; i < argc; i++) {
		json_t *s = json_string(argv[i]);

		json_array_append_new(a, s ? s : json_string("?"));
	}
	return a;
}

/* The copy's own session: session.start, as a session's, with "kind": "copy". */
static struct recorder *record_begin(const struct cp_opts *o, const struct policy *pol,
				     const struct profile *prof, const struct cp_target *ct,
				     int argc, char **argv, char id[40], struct dhi_err **err)
{
	dhi_autofree char *title = xasprintf("dhidebug cp %s://%s", ct->rt.runtime, ct->rt.id);
	struct recorder *rec;
	json_t *f;

	if (pol->record == POLICY_RECORD_OFF || o->no_record)
		return NULL;
	rec = record_open(o->sessions_dir ? o->sessions_dir : RECORD_DIR, 80, 24, NULL, title, id,
			  err);
	if (!rec) {
		if (pol->record == POLICY_RECORD_REQUIRED)
			return dhi_err_prefix(err, "recording is required"), NULL;
		/* a delegated operator's unrecorded copy is never silent about it */
		if (!o->quiet || o->delegated) {
			dhi_autofree char *why = dhi_err_string(*err);

			fprintf(stderr, "dhidebug: cp: not recording: %s\n", why);
		}
		dhi_err_clear(err);
		return NULL;
	}
	f = json_pack("{s:s, s:s, s:o, s:{s:s, s:s, s:s?, s:s?, s:s?, s:i, s:s?}, s:n,"
		      " s:{s:s}, s:n, s:o, s:s}",
		      "session", id, "kind", "copy", "operator", session_operator_json(o->delegated),
		      "target", "runtime", ct->rt.runtime, "id", ct->rt.id, "name", ct->rt.name,
		      "image", ct->rt.image_ref, "image_digest", ct->rt.image_digest, "pid",
		      (int)ct->rt.pid, "state", ct->rt.state, "toolbox", "profile", "name",
		      prof->name, "view", "command", command_json(argc, argv), "dhidebug",
		      DHIDEBUG_VERSION);
	if (pol->source && pol->text) {
		char hex[65];

		record_sha256_hex(pol->text, pol->text_len, hex);
		json_object_set_new(f, "policy", json_pack("{s:s, s:s}", "file", pol->source,
							   "sha256", hex));
	}
	if (record_audit(rec, "session.start", f, true) < 0) {
		dhi_err_set(err, errno, "cannot write the copy's start record");
		record_close(rec);
		return NULL;
	}
	return rec;
}

static void record_finish(struct recorder *rec, int status, const char *reason)
{
	if (!rec)
		return;
	record_audit(rec, "session.end",
		     json_pack("{s:i, s:f, s:i, s:i, s:s}", "status", status, "duration",
			       record_elapsed(rec), "bytes_in", 0, "bytes_out", 0, "reason",
			       reason),
		     true);
	record_close(rec);
}

/* The refusal of what a delegated operator may not open on the host (a refusal: recorded). */
static int user_refused(const struct host_user *u, const char *what, struct dhi_err **err)
{
	dhi_autofree char *why = dhi_err_string(*err);
	dhi_autofree char *who = u->name ? xasprintf("`%s`", u->name)
					 : xasprintf("uid %u", (unsigned)u->uid);

	return dhi_err_set(err, 0, "%s is refused in delegated mode: the host's side of a copy "
			   "is done as %s, who may not: %s", what, who, why);
}

/* -1 with *refused when the delegated operator may not create it */
static FILE *manifest_open(const struct cp_opts *o, bool *refused, struct dhi_err **err)
{
	int flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (o->force ? O_TRUNC : O_EXCL);
	int fd;
	FILE *f;

	*refused = false;
	if (o->hu->on) {
		if (host_user_open(o->hu, o->manifest, flags, 0644, &fd, refused, err) < 0) {
			if (*refused)
				user_refused(o->hu, "--manifest", err);
			return NULL;
		}
	} else {
		fd = open(o->manifest, flags, 0644);
		if (fd < 0)
			dhi_err_set(err, errno, "cannot open `%s`", o->manifest);
	}
	if (fd < 0)
		return dhi_err_prefix(err, "cannot create the manifest%s",
				      (*err)->errnum == EEXIST ? " (--force replaces it)" : ""),
		       NULL;
	f = fdopen(fd, "w");
	if (!f)
		close(fd);
	return f;
}

/* The copy itself, between copy.start and copy.end. */
static int run_copy(const struct cp_opts *o, const struct copy_spec *spec, struct cp_ends *e,
		    const struct copy_idmap *idmap, struct custody *c, struct dhi_err **err)
{
	struct copy_sink sink;
	struct copy_walk w = { .sink = &sink, .custody = c, .cside = e->cside, .hside = e->hside,
			       .src_is_container = spec->dir == COPY_OUT, .quiet = o->quiet,
			       .max_size = o->max_size };
	void *parent;
	int r;

	if (e->srcfd < 0)
		return tarin_run(STDIN_FILENO, e->dstdir,
				 &(struct tarin_opts){ .dest = e->cside, .dest_is_container = true,
						       .idmap = idmap, .archive = o->archive,
						       .force = o->force, .quiet = o->quiet,
						       .max_size = o->max_size },
				 c, err);
	if (e->dstdir < 0) {
		if (sink_tar_init(&sink, STDOUT_FILENO, o->archive, err) < 0)
			return -1;
		parent = NULL;
	} else {
		sink_dir_init(&sink, e->dstdir, o->archive, o->force);
		if (spec->dir == COPY_IN)
			sink_dir_set_idmap(&sink, idmap);
		parent = sink_dir_handle(&sink);
	}
	r = copy_walk_run(&w, e->srcfd, parent, e->name, err);
	if (e->dstdir < 0)
		sink_tar_free(&sink);
	else
		sink_dir_free(&sink);
	return r;
}

/*
 * A delegated operator's copy from or to a host path: the host's side is a
 * helper that is the operator (hostuser.h), joined to ours by a tar stream on
 * a pipe. In: it opens and walks the source, a tar stream that we unpack into
 * the container (tarin.c, as `cp -` would). Out: it places the destination
 * and unpacks the stream that our walk of the container's files writes. Its
 * messages on `ctl`: the first says whether it could open its side ('r': the
 * operator may not), the last how its side ended.
 */
struct user_side {
	pid_t pid;
	int ctl;
	int data;	/* our end of the pipe */
};

struct user_job {
	const struct cp_opts *o;
	const struct copy_spec *spec;
	struct cp_ends *e;
	int data;	/* the helper's end */
};

/* the helper's word on `err`: refused when it is the kernel's no to the operator */
static int user_say_err(int ctl, struct dhi_err *err)
{
	dhi_autofree char *why = dhi_err_string(err);
	int e = err ? err->errnum : 0;

	host_user_say(ctl, e == EACCES || e == EPERM || e == EROFS ? 'r' : 'e', why, strlen(why));
	dhi_err_clear(&err);
	return -1;
}

static int user_say_end(int ctl, int r, struct dhi_err *err)
{
	if (r < 0)
		return user_say_err(ctl, err);
	host_user_say(ctl, 'o', "", 0);
	return 0;
}

static int user_in(void *arg, int ctl)
{
	struct user_job *j = arg;
	struct dhi_err *err = NULL;
	struct custody none = { 0 };
	struct copy_sink sink;
	struct stat st;
	dhi_autofree char *name = path_base(j->spec->hpath);
	struct copy_walk w = { .sink = &sink, .custody = &none, .cside = j->e->cside,
			       .hside = j->spec->hpath, .quiet = j->o->quiet,
			       .max_size = j->o->max_size };
	int srcfd = open(j->spec->hpath, O_PATH | O_NOFOLLOW | O_CLOEXEC), r;

	/* (what the walk would find it cannot read, said before it begins) */
	if (srcfd < 0 || fstat(srcfd, &st) < 0 ||
	    ((S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) &&
	     faccessat(AT_FDCWD, j->spec->hpath, S_ISDIR(st.st_mode) ? R_OK | X_OK : R_OK,
		       AT_EACCESS) < 0))
	{
		dhi_err_set(&err, errno, "cannot open `%s`", j->spec->hpath);
		return user_say_err(ctl, err);
	}
	host_user_say(ctl, 'o', "", 0);
	if (sink_tar_init(&sink, j->data, j->o->archive, &err) < 0)
		return user_say_err(ctl, err);
	r = copy_walk_run(&w, srcfd, NULL, strcmp(name, "/") == 0 ? j->e->name : name, &err);
	sink_tar_free(&sink);
	close(j->data);
	return user_say_end(ctl, r, err);
}

static int user_out(void *arg, int ctl)
{
	struct user_job *j = arg;
	struct cp_ends *e = j->e;
	struct dhi_err *err = NULL;
	struct custody none = { 0 };
	dhi_autofree char *src_name = e->name, *dir = NULL, *msg = NULL;
	int r;

	e->name = NULL;
	if (place_dest(-1, j->spec->hpath, src_name, j->o->force, e, &err) < 0)
		return user_say_err(ctl, err);
	dir = path_dir(e->hside);
	if (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) < 0) {
		dhi_err_set(&err, errno, "cannot write in `%s`", dir);
		return user_say_err(ctl, err);
	}
	msg = xasprintf("%s%c%s", e->name, '\0', e->hside);
	host_user_say(ctl, 'o', msg, strlen(e->name) + 1 + strlen(e->hside));
	r = tarin_run(j->data, e->dstdir,
		      &(struct tarin_opts){ .dest = dir, .top_as = e->name, .as_user = true,
					    .archive = j->o->archive, .force = j->o->force,
					    .quiet = j->o->quiet, .max_size = j->o->max_size },
		      &none, &err);
	close(j->data);
	return user_say_end(ctl, r, err);
}

/* The helper's last word and its end; its error in *err when it failed (and we did not). */
static int user_side_end(struct user_side *u, int r, struct dhi_err **err)
{
	struct dhi_err *herr = NULL;
	dhi_autofree char *text = NULL;
	size_t len;
	char kind = 0;
	int st;

	if (u->pid <= 0)
		return r;
	if (u->data >= 0)
		close(u->data);
	u->data = -1;
	if (host_user_hear(u->ctl, &kind, &text, &len, &herr) < 0)
		dhi_err_clear(&herr);
	close(u->ctl);
	u->ctl = -1;
	st = host_user_wait(u->pid);
	u->pid = 0;
	if (kind == 'o' && st == 0)
		return r;
	/* its failure is the cause of ours (a stream cut short) */
	if (kind == 'e' || kind == 'r')
		dhi_err_set(err, 0, "the host's side: %s", text);
	else
		dhi_err_set(err, 0, "the host's side ended (status %d)", st);
	return -1;
}

static int start_user_side(const struct cp_opts *o, const struct copy_spec *spec,
			   struct cp_ends *e, struct user_side *u, bool *refused,
			   struct dhi_err **err)
{
	struct user_job j = { .o = o, .spec = spec, .e = e };
	dhi_autofree char *text = NULL;
	size_t len;
	char kind;
	int p[2];

	*refused = false;
	if (pipe2(p, O_CLOEXEC) < 0)
		return dhi_err_set(err, errno, "cannot make a pipe");
	j.data = spec->dir == COPY_IN ? p[1] : p[0];
	u->data = spec->dir == COPY_IN ? p[0] : p[1];
	if (host_user_spawn(o->hu, spec->dir == COPY_IN ? user_in : user_out, &j, &j.data, 1,
			    &u->pid, &u->ctl, err) < 0) {
		close(p[0]);
		close(p[1]);
		u->data = -1;
		return -1;
	}
	close(j.data);
	if (host_user_hear(u->ctl, &kind, &text, &len, err) < 0)
		return -1;
	if (kind == 'o' && spec->dir == COPY_OUT) {
		size_t n = strnlen(text, len);

		if (n == 0 || n >= len)
			return dhi_err_set(err, 0, "the host's side: a message it should not send");
		free(e->name);
		e->name = xstrdup(text);
		e->hside = xstrdup(text + n + 1);
	}
	if (kind == 'o')
		return 0;
	if (kind == 'r') {
		*refused = true;
		dhi_err_set(err, 0, "%s", text);
		return user_refused(o->hu, spec->hpath, err);
	}
	return dhi_err_set(err, 0, "%s", kind == 'e' ? text : "the host's side ended");
}

/* A delegated operator's copy: our side of the stream, the helper has the host's. */
static int run_user_copy(const struct cp_opts *o, const struct copy_spec *spec,
			 struct cp_ends *e, const struct copy_idmap *idmap, struct user_side *u,
			 struct custody *c, struct dhi_err **err)
{
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	int r;

	/* (a helper that failed closes its end: EPIPE, and its reason) */
	sigaction(SIGPIPE, &ign, &old);
	if (spec->dir == COPY_IN) {
		dhi_autofree char *dest = path_dir(e->cside), *src = path_dir(spec->hpath);

		r = tarin_run(u->data, e->dstdir,
			      &(struct tarin_opts){ .dest = dest, .src = src, .top_as = e->name,
						    .dest_is_container = true, .idmap = idmap,
						    .archive = o->archive, .force = o->force,
						    .quiet = o->quiet, .max_size = o->max_size },
			      c, err);
	} else {
		struct copy_sink sink;
		struct copy_walk w = { .sink = &sink, .custody = c, .cside = e->cside,
				       .hside = e->hside, .src_is_container = true,
				       .quiet = o->quiet, .max_size = o->max_size };

		r = sink_tar_init(&sink, u->data, o->archive, err);
		if (r == 0) {
			r = copy_walk_run(&w, e->srcfd, NULL, e->name, err);
			sink_tar_free(&sink);
		}
	}
	{
		struct dhi_err *herr = NULL;

		/* the helper's failure is the cause of ours when it cut the stream short */
		if (user_side_end(u, 0, &herr) < 0 &&
		    (r == 0 || ((*err)->errnum == EPIPE || spec->dir == COPY_IN))) {
			dhi_err_clear(err);
			*err = herr;
			herr = NULL;
			r = -1;
		}
		dhi_err_clear(&herr);
	}
	sigaction(SIGPIPE, &old, NULL);
	return r;
}

/*
 * --wait-stdin: one byte on stdin before anything else, so that what the copy
 * writes (the tar stream, an error) is written once someone reads it. An
 * attach (kubectl dhidebug cp) connects to a container's streams only after
 * the container has started: bytes written before would be lost. A stream
 * from stdin (`-`) begins after that byte.
 */
static int wait_stdin(struct dhi_err **err)
{
	unsigned char b;
	ssize_t n;

	do
		n = read(STDIN_FILENO, &b, 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return dhi_err_set(err, errno, "--wait-stdin: cannot read stdin");
	if (n == 0)
		return dhi_err_set(err, 0, "--wait-stdin: stdin closed before the copy began");
	return 0;
}

static int cp_fail(struct dhi_err *err)
{
	int code;

	dhi_err_prefix(&err, "cp");
	code = dhi_err_print(err, "dhidebug");
	dhi_err_clear(&err);
	return code;
}

int cmd_cp(int argc, char **argv)
{
	struct dhi_err *err = NULL, *end_err = NULL;
	struct cp_opts o;
	struct copy_spec spec = { 0 };
	struct policy site, other;
	const struct policy *pol = &site;
	const struct profile *prof = NULL;
	struct delegate d;
	struct delegate_ask ask;
	struct rt_opts dro;
	struct cp_target ct = { .root = -1, .holder = { .keeper = -1, .holder = -1 } };
	struct cp_ends e = { .srcfd = -1, .dstdir = -1 };
	struct custody c = { 0 };
	struct host_user hu = { 0 };
	struct user_side us = { .ctl = -1, .data = -1 };
	bool refused = false, host_path;
	dhi_autofree char *reason = NULL;
	char id[40] = "";
	int r;

	/* the whole command line comes (injector/cli.h): its words from `cp` on */
	argc--;
	argv++;
	if (cp_parse(argc, argv, &o, &err) < 0)
		return cp_fail(err);
	if (o.help) {
		cp_usage(stdout);
		return 0;
	}
	if (o.wait_stdin && wait_stdin(&err) < 0)
		return cp_fail(err);
	if (copy_spec_parse(o.src, o.dst, &spec, &err) < 0)
		return cp_fail(err);
	if (policy_load(NULL, &site, &err) < 0)
		goto fail;
	/*
	 * Delegated mode (sudo): the options a session's command line would be
	 * held to are, by the same rules (docs/security.md), and a refusal is
	 * recorded in the site's sessions folder.
	 */
	delegate_detect(&site, &d);
	o.delegated = d.on;
	o.hu = &hu;
	dro = (struct rt_opts){ .runtime_root = o.runtime_root };
	ask = (struct delegate_ask){ .target = spec.target, .command = "cp",
				     .profile = o.profile, .checks_target = true,
				     .policy = o.policy, .sessions_dir = o.sessions_dir,
				     .toolbox_cache = o.toolbox_cache, .ro = &dro,
				     .no_record = o.no_record, .quiet = o.quiet };
	if (delegate_check_ask(&d, &site, &ask, &err) < 0)
		goto refuse;
	if (o.policy) {
		if (policy_load(o.policy, &other, &err) < 0)
			goto fail;
		pol = &other;
	}
	if (check_policy(&o, &spec, &site, pol, &prof, &err) < 0 ||
	    delegate_check_session(&d, &site, prof, NULL, prof->has_user ? prof->uid : 0,
				   prof->has_user ? prof->gid : 0, &err) < 0)
		goto refuse;
	if (geteuid() != 0) {
		dhi_err_set(&err, 0, "must run as root (it reads another mount namespace's files)");
		goto fail;
	}
	/* the host's side of a delegated operator's copy is done as them (docs/cp.md) */
	if (d.on && host_user_resolve(d.uid, &hu, &err) < 0)
		goto refuse;
	host_path = strcmp(spec.hpath, "-") != 0;
	if (open_target(&o, &spec, &ct, &err) < 0 ||
	    open_ends(&o, &spec, ct.root, &e, &err) < 0)
		goto fail;
	if (o.manifest && !(c.manifest = manifest_open(&o, &refused, &err)))
		goto fail_refused;
	if (hu.on && host_path && start_user_side(&o, &spec, &e, &us, &refused, &err) < 0)
		goto fail_refused;
	c.rec = record_begin(&o, pol, prof, &ct, argc, argv, id, &err);
	if (!c.rec && err)
		goto fail;
	{
		dhi_autofree char *uri = rt_target_uri(&ct.rt);
		json_t *f = json_pack("{s:s, s:o, s:b, s:b}", "direction",
				      spec.dir == COPY_OUT ? "out" : "in", "operator",
				      session_operator_json(d.on), "archive", o.archive, "force",
				      o.force);

		custody_set_text(f, "target", uri);
		custody_set_text(f, "container_path", spec.cpath);
		custody_set_text(f, "host_path", spec.hpath);
		r = custody_start(&c, f, &err);
	}
	if (r == 0 && us.pid > 0)
		r = run_user_copy(&o, &spec, &e, &ct.idmap, &us, &c, &err);
	else if (r == 0)
		r = run_copy(&o, &spec, &e, &ct.idmap, &c, &err);
	user_side_end(&us, 0, &(struct dhi_err *){ NULL });
	if (r < 0)
		reason = dhi_err_string(err);
	if (custody_end(&c, reason, &end_err) < 0 && r == 0) {
		err = end_err;
		end_err = NULL;
		r = -1;
		reason = dhi_err_string(err);
	}
	dhi_err_clear(&end_err);
	record_finish(c.rec, r < 0 ? 125 : 0, reason ? reason : "copied");
	if (c.manifest && (fclose(c.manifest) != 0 && r == 0)) {
		r = dhi_err_set(&err, errno, "cannot write the manifest `%s`", o.manifest);
	}
	c.manifest = NULL;
	if (r < 0 && o.manifest && hu.on)
		host_user_unlink(&hu, o.manifest);
	else if (r < 0 && o.manifest)
		unlink(o.manifest);
	if (r == 0 && !o.quiet)
		fprintf(stderr, "dhidebug: cp: %llu %s, %llu bytes%s%s\n",
			(unsigned long long)c.files, c.files == 1 ? "entry" : "entries",
			(unsigned long long)c.bytes,
			*id ? ", session " : " (not recorded)", id);
	close_ends(&e);
	close_target(&ct);
	copy_spec_free(&spec);
	host_user_free(&hu);
	return r < 0 ? cp_fail(err) : 0;
fail_refused:
	if (!refused)
		goto fail;
refuse:
	delegate_record_refusal(&d, &site, &ask, err);
fail:
	user_side_end(&us, 0, &(struct dhi_err *){ NULL });
	if (c.manifest) {
		fclose(c.manifest);
		if (hu.on)
			host_user_unlink(&hu, o.manifest);
		else
			unlink(o.manifest);
	}
	close_ends(&e);
	close_target(&ct);
	copy_spec_free(&spec);
	host_user_free(&hu);
	return cp_fail(err);
}
