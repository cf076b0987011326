/* SPDX-License-Identifier: Apache-2.0 */
/* execid.h - what an exec in the session runs: resolved in the session's root, known by content. */
#ifndef INJ_EXECID_H
#define INJ_EXECID_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * The exec policy's view of a program. A path is resolved the way the kernel
 * resolves it for the process that execs: from that process's root (absolute
 * paths, absolute symlinks) or its working directory or execveat's dirfd
 * (relative ones), ".." stopping at its root, its /proc/self being itself; the
 * host's filesystem never answers. Then the file is judged by what it is:
 *
 *   - the toolbox's shells, found when the session starts (sh, bash, dash,
 *     …), by device and inode, or by size and SHA-256 (a copy under another
 *     name, a view whose mount shows another device); a file the toolbox
 *     names as a shell, whatever the path that reached it;
 *   - a multi-call binary (busybox, toybox: the toolbox's by identity, any
 *     other by the banner it carries) runs the applet its argv names: the
 *     basename of argv[0], or of argv[1] when argv[0] names the binary itself;
 *   - a `#!` script runs its interpreter, which is judged with the argv the
 *     kernel gives it;
 *   - the dynamic loader (glibc's ld.so, musl's libc.so: a shared object with
 *     an entry point, no PT_INTERP and no PIE flag) with a program argument
 *     runs that program, which is judged after the loader's own options;
 *   - an ELF program whose PT_INTERP is a shell is a shell;
 *   - a file on none of the process's own mounts (reached through another
 *     process's /proc links: the container's own files) is outside the view.
 *
 * Outside EXECID_ANYWHERE the libraries and directories the loader is told to
 * load or search (ld.so's --preload, --audit, --library-path; LD_PRELOAD,
 * LD_AUDIT, LD_LIBRARY_PATH and GCONV_PATH in envp) must be the toolbox's:
 * in the view and on a mount of it that allows execution. A path reached
 * through another process's magic links (/proc/1/root/evil.so) is on the
 * container's own mount, whose code the kernel would map.
 *
 * Anything that cannot be judged (unreadable, gone while it was read, a loop
 * of interpreters) is undecidable: refused unless the profile runs shells
 * anyway. This decides; it cannot enforce (docs/security.md, "What runs: the
 * exec policy"): another thread may change the path after the check.
 */

/* What the toolbox's shells and multi-call binaries are, and the files judged so far. */
struct execid;

/*
 * Collects, from the toolbox tree `toolbox_dirfd` (its root, an O_PATH or
 * directory fd, borrowed and kept; -1: none, then files are judged by content
 * and name alone), the shells and multi-call binaries under its bin
 * directories. `procfd` is a procfs on which "self" is the caller (borrowed
 * and kept): an O_PATH fd of a file is reopened for reading through it. The
 * caller keeps both open until execid_free(). Never fails: what cannot be read
 * is left out (and judged by content when it is executed).
 */
struct execid *execid_new(int toolbox_dirfd, int procfd);
void execid_free(struct execid *x);

/* The process that execs, as the caller reaches it. All fds are owned. */
struct execid_proc {
	int root;	/* its root directory */
	int cwd;	/* its working directory */
	int self;	/* its /proc/<pid> directory: what "self" and "thread-self" name in the
			 * session's procfs; -1 when unknown (those then cannot be resolved) */
};

/*
 * Opens root, cwd and self of the process whose /proc/<pid> directory is
 * `piddir` (kept as self; the fd passes to `p`). Returns 0, or -1 with errno
 * when the process is gone.
 */
int execid_proc_of(int piddir, struct execid_proc *p);

/* The caller's own: "/", ".", and `procfd`'s "self". Returns 0, or -1 with errno. */
int execid_proc_self(int procfd, struct execid_proc *p);

void execid_proc_close(struct execid_proc *p);

/* One exec, as the process asked for it. */
struct execid_exec {
	const char *path;
	int dirfd;		/* execveat's dirfd as an O_PATH fd of the caller's; -1: AT_FDCWD */
	int flags;		/* execveat's AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW */
	char *const *argv;	/* NULL-terminated; may be empty */
	char *const *envp;	/* NULL-terminated, or NULL: not judged. Only the entries
				 * that start with EXECID_ENV_PREFIXES need be there */
	bool envp_cut;		/* envp is not all there (unreadable, too long): undecidable */
};

/* What the loader and libc read to decide what to load: entries starting with one of these. */
#define EXECID_ENV_PREFIXES { "LD_", "GCONV_PATH=", NULL }

struct execid_verdict {
	bool denied;
	int error;		/* the path leads to no file that runs (ENOENT, ENOTDIR,
				 * EACCES for a directory): the exec fails with this errno
				 * whatever is decided; 0 otherwise */
	char reason[512];	/* why it was denied: what runs, a noun phrase */
	char file[PATH_MAX];	/* the file executed, as the session names it; "" if none */
	char applet[64];	/* the multi-call binary's applet that runs; "" if none */
};

/* What the profile allows beyond the rules (`allow` of execid_decide()). */
enum {
	EXECID_SHELLS = 1 << 0,		/* shells, and what cannot be judged (sysadmin) */
	EXECID_ANYWHERE = 1 << 1,	/* files outside the process's own mounts: what another
					 * process's root or fds lead to (sysadmin) */
};

/* Decides `e` for process `p` under `allow` (EXECID_*). Fills `v`; never fails. */
void execid_decide(struct execid *x, const struct execid_proc *p, const struct execid_exec *e,
		   unsigned int allow, struct execid_verdict *v);

/* True when `name` (a basename) is one of the shells' names. */
bool execid_is_shell_name(const char *name);

/*
 * The applet a multi-call binary runs for `argv`: the basename of argv[0]
 * (a leading "-", a login shell's mark, dropped), or of the next argument as
 * long as the name is the binary's own (`prefix`: "busybox" or "toybox",
 * which take any name starting with it). The binary's own name when it is
 * given nothing to run or an option (`busybox --list`). Writes into `out`.
 */
void execid_applet(char *const *argv, const char *prefix, char *out, size_t len);

#endif
