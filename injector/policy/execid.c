// SPDX-License-Identifier: Apache-2.0
/* execid.c - resolve an exec in the session's root and judge the file by what it is. */
#include "injector/policy/execid.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/syscalls.h"
#include "common/xalloc.h"
#include "common/path.h"
#include "common/sha256.h"

#ifndef STATX_MNT_ID
#define STATX_MNT_ID 0x00001000U
#endif

#define MAX_KNOWN 96		/* the toolbox's shells and multi-call binaries */
#define MAX_SEEN 512		/* files judged, by identity */
#define MAX_LEVELS 6		/* script → interpreter → loader → program … */
#define MAX_STACK 256		/* directories deep, in a walk */
#define MAX_LINKS 40		/* symlinks followed in one walk, as the kernel allows */
#define HEAD_LEN 4096		/* enough for an ELF header and its program headers, and `#!` */
#define SHEBANG_LEN 256		/* what the kernel reads of a `#!` line (BINPRM_BUF_SIZE) */
#define SCAN_MAX (4 << 20)	/* no multi-call binary is larger (busybox, all applets: 2.3 MiB) */
#define SCAN_CHUNK (64 << 10)
#define PROC_ROOT_INO 1

/* Every shell's name (a basename). A multi-call binary's applet of that name is a shell too. */
static const char *const shell_names[] = {
	"sh",	 "bash", "dash", "ash",	 "hush", "msh",	 "lash", "ksh",	 "ksh93", "mksh",
	"pdksh", "oksh", "loksh", "zsh", "csh",	 "tcsh", "fish", "yash", "rbash", "posh",
	"toysh", NULL,
};

/* Where a toolbox keeps its programs (distroless's :debug keeps busybox in /busybox). */
static const char *const bin_dirs[] = { "bin", "usr/bin", "sbin", "usr/sbin", "usr/local/bin",
					"busybox", NULL };

enum kind {
	K_PROGRAM,	/* anything else that runs */
	K_SHELL,
	K_BUSYBOX,	/* multi-call: the applet decides */
	K_TOYBOX,
	K_LOADER_GLIBC,	/* ld.so: runs its program argument */
	K_LOADER_MUSL,
	K_SCRIPT,	/* `#!`: runs its interpreter */
	K_OTHER,	/* neither ELF nor `#!`: the kernel refuses it (ENOEXEC) */
	K_UNJUDGED,	/* an ELF interpreter's name too long to be kept: cannot be judged */
};

/* What makes a file the same file: a view may show another device for it. */
struct ident {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
};

struct known {
	struct ident id;
	enum kind kind;		/* K_SHELL, K_BUSYBOX or K_TOYBOX */
	char path[320];		/* inside the toolbox tree, to hash it when a size matches */
	int hashed;		/* 0: not yet; 1: sha is set; -1: cannot be read */
	unsigned char sha[32];
};

struct seen {
	struct ident id;
	enum kind kind;
	bool copies_checked;	/* K_PROGRAM: compared with the toolbox's shells already */
	size_t len;
	char text[SHEBANG_LEN + 1];	/* K_PROGRAM: its PT_INTERP ("" when none); K_SCRIPT:
					 * what the kernel reads of it, NUL-terminated */
};

struct execid {
	int toolbox;
	int procfd;
	ino_t mntns;		/* the mount namespace whose mounts are below (0: none read) */
	int n_mnts;
	unsigned long long *mnts;	/* its mount ids, from the process's mountinfo */
	struct known known[MAX_KNOWN];
	int n_known;
	struct seen seen[MAX_SEEN];
	int n_seen, next_seen;
};

bool execid_is_shell_name(const char *name)
{
	for (int i = 0; shell_names[i]; i++)
		if (strcmp(name, shell_names[i]) == 0)
			return true;
	return false;
}

static const char *base_of(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* --- identities --- */

static void ident_of(const struct stat *st, struct ident *id)
{
	*id = (struct ident){ .dev = st->st_dev, .ino = st->st_ino, .size = st->st_size,
			      .mtime = st->st_mtim, .ctime = st->st_ctim };
}

static bool ts_eq(struct timespec a, struct timespec b)
{
	return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

/* The same file seen through the same mount: nothing about it changed. */
static bool ident_same(const struct ident *a, const struct ident *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       ts_eq(a->mtime, b->mtime) && ts_eq(a->ctime, b->ctime);
}

/*
 * The same toolbox file seen through another mount: an overlayfs of layers on
 * several filesystems (the union view) reports its own device for a lower
 * file, with the file's inode number, size and times. Only ever used to find
 * more shells, never fewer.
 */
static bool ident_alike(const struct ident *a, const struct ident *b)
{
	return a->ino == b->ino && a->size == b->size && ts_eq(a->mtime, b->mtime);
}

static void add_known(struct execid *x, const struct stat *st, enum kind kind, const char *path)
{
	struct known *k;

	for (int i = 0; i < x->n_known; i++)
		if (x->known[i].id.dev == st->st_dev && x->known[i].id.ino == st->st_ino)
			return;
	if (x->n_known == MAX_KNOWN)
		return;
	k = &x->known[x->n_known++];
	memset(k, 0, sizeof(*k));
	ident_of(st, &k->id);
	k->kind = kind;
	snprintf(k->path, sizeof(k->path), "%s", path);
}

/* A name of a bin directory, if it names a shell or a multi-call binary. */
static enum kind kind_of_name(const char *name)
{
	if (strcmp(name, "busybox") == 0)
		return K_BUSYBOX;
	if (strcmp(name, "toybox") == 0)
		return K_TOYBOX;
	return execid_is_shell_name(name) ? K_SHELL : K_PROGRAM;
}

/* `path` in the toolbox, a regular file (symlinks followed inside the toolbox). */
static void collect_path(struct execid *x, const char *path, enum kind kind)
{
	struct dhi_err *err = NULL;
	dhi_autoclose int fd = -1;
	struct stat st;

	if (path_open_at(x->toolbox, path, O_PATH, 0, &fd, &err) < 0) {
		dhi_err_clear(&err);
		return;
	}
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		add_known(x, &st, kind, path);
}

/*
 * The shells and multi-call binaries in the toolbox's bin directories, by
 * their names, each looked up where it would be (no listing: a toolbox's
 * /usr/bin has hundreds of entries, the names a few dozen, and a lookup
 * that finds nothing is a cached negative dentry from the second session
 * on); multi-call binaries first, so that a shell's name leading to one
 * (/bin/sh -> busybox) is that binary, whose applet decides.
 */
static void collect(struct execid *x)
{
	static const char *const multi[] = { "busybox", "toybox", NULL };
	struct stat dirs[8];
	char found[MAX_KNOWN][320];
	enum kind kinds[MAX_KNOWN];
	int n_dirs = 0, n = 0;

	for (int i = 0; bin_dirs[i]; i++) {
		struct dhi_err *err = NULL;
		dhi_autoclose int fd = -1;
		struct stat st;
		bool dup = false;

		if (path_open_at(x->toolbox, bin_dirs[i], O_PATH | O_DIRECTORY, 0, &fd, &err) < 0) {
			dhi_err_clear(&err);
			continue;
		}
		/* merged /usr: bin is usr/bin */
		if (fstat(fd, &st) < 0)
			continue;
		for (int j = 0; j < n_dirs && !dup; j++)
			dup = dirs[j].st_dev == st.st_dev && dirs[j].st_ino == st.st_ino;
		if (dup || n_dirs == 8)
			continue;
		dirs[n_dirs++] = st;
		for (int set = 0; set < 2; set++) {
			const char *const *names = set ? shell_names : multi;

			for (int k = 0; names[k] && n < MAX_KNOWN; k++) {
				struct stat e;

				if (fstatat(fd, names[k], &e, AT_SYMLINK_NOFOLLOW) < 0 ||
				    !(S_ISREG(e.st_mode) || S_ISLNK(e.st_mode)))
					continue;
				kinds[n] = kind_of_name(names[k]);
				snprintf(found[n++], sizeof(found[0]), "%s/%s", bin_dirs[i], names[k]);
			}
		}
	}
	for (int i = 0; i < n; i++)
		if (kinds[i] != K_SHELL)
			collect_path(x, found[i], kinds[i]);
	for (int i = 0; i < n; i++)
		if (kinds[i] == K_SHELL)
			collect_path(x, found[i], kinds[i]);
}

struct execid *execid_new(int toolbox_dirfd, int procfd)
{
	struct execid *x = xzalloc(sizeof(*x));

	x->toolbox = toolbox_dirfd;
	x->procfd = procfd;
	if (toolbox_dirfd >= 0)
		collect(x);
	return x;
}

void execid_free(struct execid *x)
{
	if (x)
		free(x->mnts);
	free(x);
}

/* --- the process --- */

int execid_proc_of(int piddir, struct execid_proc *p)
{
	*p = (struct execid_proc){ -1, -1, piddir };
	/* magic links of our own procfs: the process's root and cwd as it holds them */
	p->root = openat(piddir, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
	p->cwd = openat(piddir, "cwd", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (p->root < 0 || p->cwd < 0) {
		int e = errno;

		execid_proc_close(p);
		errno = e;
		return -1;
	}
	return 0;
}

int execid_proc_self(int procfd, struct execid_proc *p)
{
	*p = (struct execid_proc){ -1, -1, -1 };
	p->root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	p->cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	p->self = openat(procfd, "self", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (p->root < 0 || p->cwd < 0 || p->self < 0) {
		int e = errno;

		execid_proc_close(p);
		errno = e;
		return -1;
	}
	return 0;
}

void execid_proc_close(struct execid_proc *p)
{
	dhi_close_reset(&p->root);
	dhi_close_reset(&p->cwd);
	dhi_close_reset(&p->self);
}

/* --- resolution, as the kernel does it for the process --- */

static bool is_fs(int fd, long magic)
{
	struct statfs sfs;

	return fstatfs(fd, &sfs) == 0 && (long)sfs.f_type == magic;
}

static bool same_dir(int a, int b)
{
	struct stat sa, sb;

	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

struct walk {
	int stack[MAX_STACK];	/* stack[0]: where the walk started (or the root) */
	int depth;
};

static void walk_drop(struct walk *w)
{
	while (w->depth > 0)
		close(w->stack[--w->depth]);
}

static int walk_push(struct walk *w, int fd)
{
	if (w->depth == MAX_STACK) {
		close(fd);
		errno = ENAMETOOLONG;
		return -1;
	}
	w->stack[w->depth++] = fd;
	return 0;
}

static int walk_restart(struct walk *w, int from)
{
	int fd = fcntl(from, F_DUPFD_CLOEXEC, 3);

	walk_drop(w);
	return fd < 0 ? -1 : walk_push(w, fd);
}

/* "..": never above the process's root; past where the walk started, the real parent. */
static int walk_up(struct walk *w, const struct execid_proc *p)
{
	int top = w->stack[w->depth - 1], up;

	if (same_dir(top, p->root))
		return 0;
	if (w->depth > 1) {
		close(w->stack[--w->depth]);
		return 0;
	}
	up = openat(top, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (up < 0)
		return -1;
	close(w->stack[0]);
	w->stack[0] = up;
	return 0;
}

/*
 * Follows a magic link of procfs (a process's exe, cwd, root, fd/N): the
 * kernel hands the object the process holds. `name` in `dir` is one.
 */
static int follow_magic(struct walk *w, int dir, const char *name, bool last, bool nofollow)
{
	struct stat st;
	int fd;

	if (last && nofollow) {
		errno = ELOOP;
		return -1;
	}
	fd = openat(dir, name, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (last)
		return fd;
	if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode)) {
		close(fd);
		errno = ENOTDIR;
		return -1;
	}
	return walk_push(w, fd) < 0 ? -1 : -2;
}

/*
 * Component by component, each opened O_NOFOLLOW, symlinks spliced in front of
 * what is left (absolute ones from the process's root). In a procfs, "self"
 * and "thread-self" are the process itself (we are not in its pid namespace,
 * where they would mean us) and the links below a pid are followed as the
 * kernel follows them. Returns an O_PATH fd, or -1 with errno.
 */
static int walk_path(const struct execid_proc *p, int start, const char *path, bool nofollow)
{
	struct walk w = { .depth = 0 };
	dhi_autofree char *rest = xstrdup(path);
	int links = 0, ret = -1;

	if (walk_restart(&w, path[0] == '/' ? p->root : start) < 0)
		return -1;
	for (;;) {
		int top = w.stack[w.depth - 1], fd;
		char *name, *next;
		struct stat st;
		bool last;

		if (!path_split_first(rest, &name, &next)) {
			ret = fcntl(top, F_DUPFD_CLOEXEC, 3);
			break;
		}
		last = *next == '\0';
		if (strcmp(name, ".") == 0 || (strcmp(name, "..") == 0 && walk_up(&w, p) == 0)) {
			memmove(rest, next, strlen(next) + 1);
			continue;
		}
		if (strcmp(name, "..") == 0)
			break;
		fd = openat(top, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st) < 0) {
			if (fd >= 0)
				close(fd);
			break;
		}
		if (S_ISLNK(st.st_mode) && is_fs(top, PROC_SUPER_MAGIC)) {
			struct stat dst;
			bool proc_root = fstat(top, &dst) == 0 && dst.st_ino == PROC_ROOT_INO;

			if (proc_root &&
			    (strcmp(name, "self") == 0 || strcmp(name, "thread-self") == 0)) {
				close(fd);
				if (p->self < 0) {
					errno = ENOENT;
					break;
				}
				fd = fcntl(p->self, F_DUPFD_CLOEXEC, 3);
				if (fd < 0)
					break;
				if (last) {
					ret = fd;
					break;
				}
				if (walk_push(&w, fd) < 0)
					break;
				memmove(rest, next, strlen(next) + 1);
				continue;
			}
			if (!proc_root) {
				int r;

				close(fd);
				r = follow_magic(&w, top, name, last, nofollow);
				if (r != -2) {
					ret = r;
					break;
				}
				memmove(rest, next, strlen(next) + 1);
				continue;
			}
			/* /proc/mounts, /proc/net: ordinary links ("self/…") */
		}
		if (S_ISLNK(st.st_mode)) {
			int r;

			if ((last && nofollow) || ++links > MAX_LINKS) {
				close(fd);
				errno = ELOOP;
				break;
			}
			r = path_follow_link(fd, next, &rest);
			if (r < 0 || (r > 0 && walk_restart(&w, p->root) < 0))
				break;
			continue;
		}
		if (last) {
			ret = fd;
			break;
		}
		if (!S_ISDIR(st.st_mode)) {
			close(fd);
			errno = ENOTDIR;
			break;
		}
		if (walk_push(&w, fd) < 0)
			break;
		memmove(rest, next, strlen(next) + 1);
	}
	{
		int saved = errno;

		walk_drop(&w);
		errno = saved;
	}
	return ret;
}

/*
 * The O_PATH fd of what `path` names for process `p`, from `start` when it is
 * relative. openat2 answers most paths at once (RESOLVE_IN_ROOT from the root
 * is the kernel's own lookup for the process; RESOLVE_BENEATH from `start` is
 * exact as long as it stays beneath it); anything else (magic links, "self",
 * ".." or an absolute symlink out of `start`, a kernel before 5.6) takes the walk.
 * *in_root: the file was reached from the root without a magic link, so it is
 * on a mount of the root's tree (a working directory or a dirfd may be
 * anywhere the process went: `cd /proc/1/root`).
 */
static int resolve(const struct execid_proc *p, int start, const char *path, bool nofollow,
		   bool *in_root)
{
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0),
		.resolve = RESOLVE_NO_MAGICLINKS |
			   (path[0] == '/' ? RESOLVE_IN_ROOT : RESOLVE_BENEATH),
	};
	int fd, tries = 0;

	if (!*path) {
		errno = ENOENT;
		return -1;
	}
	*in_root = false;
	do
		fd = dhi_sys_openat2(path[0] == '/' ? p->root : start, path, &how, sizeof(how));
	while (fd < 0 && (errno == EAGAIN || errno == EINTR) && ++tries < 16);
	if (fd >= 0) {
		/* from the root, no magic link: on the root's own mounts, nowhere else */
		*in_root = path[0] == '/';
		return fd;
	}
	return walk_path(p, start, path, nofollow);
}

/* --- reading what the file is --- */

/* A readable fd of the file behind O_PATH `fd` (regular files only: no device is opened). */
static int reopen(const struct execid *x, int fd)
{
	char path[32];

	snprintf(path, sizeof(path), "self/fd/%d", fd);
	return openat(x->procfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
}

static void name_of(const struct execid *x, int fd, char *out, size_t len)
{
	char path[32];
	ssize_t n;

	snprintf(path, sizeof(path), "self/fd/%d", fd);
	n = readlinkat(x->procfd, path, out, len - 1);
	out[n > 0 ? n : 0] = '\0';
}

static int sha256_fd(int fd, off_t size, unsigned char out[32])
{
	dhi_autofree unsigned char *buf = xmalloc(SCAN_CHUNK);
	struct dhi_sha256 h;
	off_t off = 0;

	dhi_sha256_init(&h);
	while (off < size) {
		ssize_t got = fd_pread_full(fd, buf, SCAN_CHUNK, off);

		if (got <= 0)
			return -1;
		dhi_sha256_update(&h, buf, (size_t)got);
		off += got;
	}
	dhi_sha256_final(&h, out);
	return 0;
}

/* Which multi-call binary `fd` is by the banner it carries; K_PROGRAM when none. */
static enum kind scan_banner(int fd, off_t size)
{
	static const struct {
		const char *text;
		enum kind kind;
	} banners[] = { { "BusyBox v", K_BUSYBOX }, { "Toybox %s multicall binary", K_TOYBOX } };
	dhi_autofree char *buf = NULL;
	const size_t keep = 32;	/* longer than every banner: a banner across two chunks is found */
	size_t have = 0;
	off_t off = 0;

	if (size > SCAN_MAX)
		return K_PROGRAM;
	buf = xmalloc(SCAN_CHUNK + keep);
	while (off < size) {
		ssize_t got = fd_pread_full(fd, buf + have, SCAN_CHUNK, off);

		if (got <= 0)
			break;
		have += (size_t)got;
		off += got;
		for (size_t i = 0; i < sizeof(banners) / sizeof(banners[0]); i++)
			if (memmem(buf, have, banners[i].text, strlen(banners[i].text)))
				return banners[i].kind;
		if (have > keep) {
			memmove(buf, buf + have - keep, keep);
			have = keep;
		}
	}
	return K_PROGRAM;
}

/* What an ELF file says of itself: the parts that decide how it runs. */
struct elf_info {
	bool valid;
	bool dyn;		/* ET_DYN */
	bool pie;		/* DF_1_PIE */
	bool has_interp;
	bool has_soname;
	bool entry;		/* a non-zero entry point */
	char interp[SHEBANG_LEN + 1];
	bool interp_too_long;
	char soname[64];
};

/* One program header, either class. */
struct phdr {
	uint32_t type;
	uint64_t offset, vaddr, filesz;
};

static int elf_phdrs(const unsigned char *head, size_t len, int fd, bool is64, struct phdr *out,
		     int max)
{
	uint64_t phoff;
	unsigned int num, entsize;
	dhi_autofree unsigned char *tab = NULL;
	size_t tablen;

	if (is64) {
		const Elf64_Ehdr *e = (const void *)head;

		phoff = e->e_phoff;
		num = e->e_phnum;
		entsize = e->e_phentsize;
		if (entsize != sizeof(Elf64_Phdr))
			return -1;
	} else {
		const Elf32_Ehdr *e = (const void *)head;

		phoff = e->e_phoff;
		num = e->e_phnum;
		entsize = e->e_phentsize;
		if (entsize != sizeof(Elf32_Phdr))
			return -1;
	}
	if (num > (unsigned int)max)
		return -1;
	tablen = (size_t)num * entsize;
	tab = xmalloc(tablen ? tablen : 1);
	if (phoff + tablen <= len)
		memcpy(tab, head + phoff, tablen);
	else if (fd_pread_full(fd, tab, tablen, (off_t)phoff) != (ssize_t)tablen)
		return -1;
	for (unsigned int i = 0; i < num; i++) {
		if (is64) {
			Elf64_Phdr ph;

			memcpy(&ph, tab + (size_t)i * entsize, sizeof(ph));
			out[i] = (struct phdr){ ph.p_type, ph.p_offset, ph.p_vaddr, ph.p_filesz };
		} else {
			Elf32_Phdr ph;

			memcpy(&ph, tab + (size_t)i * entsize, sizeof(ph));
			out[i] = (struct phdr){ ph.p_type, ph.p_offset, ph.p_vaddr, ph.p_filesz };
		}
	}
	return (int)num;
}

/* A string at virtual address `vaddr` + `off`, found through the PT_LOAD segments. */
static void elf_string(int fd, const struct phdr *ph, int n, uint64_t vaddr, char *out, size_t len)
{
	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		ssize_t got;

		if (ph[i].type != PT_LOAD || vaddr < ph[i].vaddr ||
		    vaddr >= ph[i].vaddr + ph[i].filesz)
			continue;
		got = fd_pread_full(fd, out, len - 1, (off_t)(ph[i].offset + (vaddr - ph[i].vaddr)));
		out[got > 0 ? got : 0] = '\0';
		out[strnlen(out, len - 1)] = '\0';
		return;
	}
}

/* The dynamic section: DT_SONAME and DT_FLAGS_1 (DF_1_PIE). */
static void elf_dynamic(int fd, bool is64, const struct phdr *ph, int n, const struct phdr *dyn,
			struct elf_info *info)
{
	size_t entsize = is64 ? sizeof(Elf64_Dyn) : sizeof(Elf32_Dyn);
	size_t len = dyn->filesz > 65536 ? 65536 : (size_t)dyn->filesz;
	dhi_autofree unsigned char *buf = xmalloc(len ? len : 1);
	uint64_t strtab = 0, soname = 0;
	bool has_strtab = false;
	ssize_t got = fd_pread_full(fd, buf, len, (off_t)dyn->offset);

	for (size_t off = 0; got > 0 && off + entsize <= (size_t)got; off += entsize) {
		int64_t tag;
		uint64_t val;

		if (is64) {
			Elf64_Dyn d;

			memcpy(&d, buf + off, sizeof(d));
			tag = d.d_tag;
			val = d.d_un.d_val;
		} else {
			Elf32_Dyn d;

			memcpy(&d, buf + off, sizeof(d));
			tag = d.d_tag;
			val = d.d_un.d_val;
		}
		if (tag == DT_NULL)
			break;
		if (tag == DT_SONAME) {
			info->has_soname = true;
			soname = val;
		} else if (tag == DT_STRTAB) {
			has_strtab = true;
			strtab = val;
		} else if (tag == DT_FLAGS_1 && (val & DF_1_PIE)) {
			info->pie = true;
		}
	}
	if (info->has_soname && has_strtab)
		elf_string(fd, ph, n, strtab + soname, info->soname, sizeof(info->soname));
}

static void elf_read(int fd, const unsigned char *head, size_t len, struct elf_info *info)
{
	struct phdr ph[128];
	bool is64;
	int n;

	memset(info, 0, sizeof(*info));
	if (len < sizeof(Elf32_Ehdr) || memcmp(head, ELFMAG, SELFMAG) != 0)
		return;
	is64 = head[EI_CLASS] == ELFCLASS64;
	if ((!is64 && head[EI_CLASS] != ELFCLASS32) || (is64 && len < sizeof(Elf64_Ehdr)) ||
	    head[EI_DATA] != ELFDATA2LSB)
		return;
	if (is64) {
		const Elf64_Ehdr *e = (const void *)head;

		info->dyn = e->e_type == ET_DYN;
		info->entry = e->e_entry != 0;
	} else {
		const Elf32_Ehdr *e = (const void *)head;

		info->dyn = e->e_type == ET_DYN;
		info->entry = e->e_entry != 0;
	}
	n = elf_phdrs(head, len, fd, is64, ph, 128);
	if (n < 0)
		return;
	info->valid = true;
	for (int i = 0; i < n; i++) {
		if (ph[i].type == PT_INTERP && ph[i].filesz > 1 &&
		    ph[i].filesz < sizeof(info->interp)) {
			ssize_t got = fd_pread_full(fd, info->interp, (size_t)ph[i].filesz,
						 (off_t)ph[i].offset);

			info->interp[got > 0 ? got : 0] = '\0';
			info->has_interp = info->interp[0] != '\0';
		} else if (ph[i].type == PT_INTERP && ph[i].filesz >= sizeof(info->interp)) {
			info->has_interp = info->interp_too_long = true;
		} else if (ph[i].type == PT_INTERP) {
			/* an empty name: the kernel refuses the program (ENOEXEC) */
			info->has_interp = true;
		}
	}
	/* only a shared object without an interpreter can be a loader: look no further otherwise */
	if (info->dyn && !info->has_interp)
		for (int i = 0; i < n; i++)
			if (ph[i].type == PT_DYNAMIC)
				elf_dynamic(fd, is64, ph, n, &ph[i], info);
}

/*
 * The dynamic loader run as a program: a shared object with an entry point,
 * no interpreter of its own, and not a (static) PIE. glibc's names itself
 * ld-linux…; musl's is its libc.so, which has no soname.
 */
static enum kind loader_kind(const struct elf_info *e)
{
	if (!e->valid || !e->dyn || e->has_interp || e->pie || !e->entry)
		return K_PROGRAM;
	if (e->has_soname && strstr(e->soname, "musl") == NULL && has_prefix(e->soname, "ld"))
		return K_LOADER_GLIBC;
	return K_LOADER_MUSL;
}

/* --- judging files --- */

static struct known *known_match(struct execid *x, const struct ident *id, bool alike)
{
	for (int i = 0; i < x->n_known; i++) {
		struct known *k = &x->known[i];

		if ((k->id.dev == id->dev && k->id.ino == id->ino) ||
		    (alike && ident_alike(&k->id, id)))
			return k;
	}
	return NULL;
}

/* A copy of one of the toolbox's shells, under any name: same size, same bytes. */
static bool is_shell_copy(struct execid *x, int rfd, const struct ident *id)
{
	unsigned char sha[32];
	bool have = false;

	for (int i = 0; i < x->n_known; i++) {
		struct known *k = &x->known[i];

		if (k->kind != K_SHELL || k->id.size != id->size)
			continue;
		if (k->hashed == 0) {
			struct dhi_err *err = NULL;
			dhi_autoclose int fd = -1;

			k->hashed = -1;
			if (path_open_at(x->toolbox, k->path, O_RDONLY | O_NONBLOCK, 0, &fd, &err) ==
				    0 &&
			    sha256_fd(fd, k->id.size, k->sha) == 0)
				k->hashed = 1;
			dhi_err_clear(&err);
		}
		if (k->hashed != 1)
			continue;
		if (!have) {
			if (sha256_fd(rfd, id->size, sha) < 0)
				return false;
			have = true;
		}
		if (memcmp(sha, k->sha, 32) == 0)
			return true;
	}
	return false;
}

static struct seen *seen_find(struct execid *x, const struct ident *id)
{
	for (int i = 0; i < x->n_seen; i++)
		if (ident_same(&x->seen[i].id, id))
			return &x->seen[i];
	return NULL;
}

static struct seen *remember(struct execid *x, const struct ident *id, enum kind kind,
			     const char *text, size_t len)
{
	struct seen *s;

	if (x->n_seen < MAX_SEEN) {
		s = &x->seen[x->n_seen++];
	} else {
		s = &x->seen[x->next_seen];
		x->next_seen = (x->next_seen + 1) % MAX_SEEN;
	}
	memset(s, 0, sizeof(*s));
	s->id = *id;
	s->kind = kind;
	s->len = len < SHEBANG_LEN ? len : SHEBANG_LEN;
	memcpy(s->text, text, s->len);
	s->text[s->len] = '\0';
	return s;
}

/* An ELF file's kind, by content: loader, multi-call binary, the toolbox's shell, program. */
static enum kind classify_elf(struct execid *x, int rfd, const struct ident *id,
			      const struct elf_info *elf)
{
	enum kind kind = loader_kind(elf);
	struct known *k;

	if (kind != K_PROGRAM)
		return kind;
	/* the toolbox's own busybox or toybox, exactly; any other shows its banner */
	k = known_match(x, id, false);
	if (k && k->kind != K_SHELL)
		return k->kind;
	kind = scan_banner(rfd, id->size);
	if (kind != K_PROGRAM)
		return kind;
	k = known_match(x, id, true);
	return k && k->kind == K_SHELL ? K_SHELL : K_PROGRAM;
}

/*
 * What a file is, judged once per file (by identity: a hit costs nothing
 * but the fstat already made); a copy of a shell, which costs a hash when
 * the size matches one, only where shells are refused. Returns the entry,
 * or NULL when the file cannot be read: it cannot be judged.
 */
static const struct seen *classify(struct execid *x, int fd, const struct stat *st,
				   bool look_for_copies)
{
	dhi_autoclose int rfd = -1;
	struct ident id;
	struct seen *s;

	ident_of(st, &id);
	s = seen_find(x, &id);
	if (s && (s->kind != K_PROGRAM || s->copies_checked || !look_for_copies))
		return s;
	rfd = reopen(x, fd);
	if (rfd < 0)
		return NULL;
	if (!s) {
		dhi_autofree unsigned char *head = xmalloc(HEAD_LEN);
		ssize_t n = fd_pread_full(rfd, head, HEAD_LEN, 0);
		struct elf_info elf;

		if (n < 0)
			return NULL;
		if (n >= 2 && head[0] == '#' && head[1] == '!')
			return remember(x, &id, K_SCRIPT, (const char *)head, (size_t)n);
		elf_read(rfd, head, (size_t)n, &elf);
		s = remember(x, &id,
			     !elf.valid ? K_OTHER
			     : elf.interp_too_long ? K_UNJUDGED
						    : classify_elf(x, rfd, &id, &elf),
			     elf.has_interp ? elf.interp : "",
			     elf.has_interp ? strlen(elf.interp) : 0);
	}
	if (s->kind == K_PROGRAM && look_for_copies && !s->copies_checked) {
		if (is_shell_copy(x, rfd, &id))
			s->kind = K_SHELL;
		s->copies_checked = true;
	}
	return s;
}

void execid_applet(char *const *argv, const char *prefix, char *out, size_t len)
{
	const char *name = argv && argv[0] ? argv[0] : "";
	int i = 0;

	if (name[0] == '-')
		name++;
	name = base_of(name);
	while (has_prefix(name, prefix) && argv[i + 1] && argv[i + 1][0] != '-') {
		i++;
		name = base_of(argv[i]);
	}
	snprintf(out, len, "%s", name);
}

/* --- the decision --- */

struct judge {
	struct execid *x;
	const struct execid_proc *p;
	bool allow_shells;	/* EXECID_SHELLS */
	bool anywhere;		/* EXECID_ANYWHERE */
	struct execid_verdict *v;
};

/* The mount ids of the process's mount namespace (the view), read once per namespace. */
static void read_mounts(struct execid *x, int self)
{
	dhi_autoclose int fd = -1;
	dhi_autofree char *buf = NULL;
	struct stat st;
	size_t len = 0, cap = 1 << 16;
	ssize_t n;

	if (fstatat(self, "ns/mnt", &st, 0) < 0 || (x->mntns && st.st_ino == x->mntns))
		return;
	fd = openat(self, "mountinfo", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	buf = xmalloc(cap + 1);
	/* bounded: a view has tens of mounts, a hostile mount table no say in our memory */
	while ((n = read(fd, buf + len, cap - len)) > 0 || (n < 0 && errno == EINTR)) {
		if (n < 0)
			continue;
		len += (size_t)n;
		if (len == cap) {
			if (cap >= (1 << 22))
				return;
			cap *= 2;
			buf = xrealloc(buf, cap + 1);
		}
	}
	buf[len] = '\0';
	free(x->mnts);
	x->mnts = NULL;
	x->n_mnts = 0;
	for (char *line = buf; line && *line;) {
		char *nl = strchr(line, '\n');

		x->mnts = xrealloc(x->mnts, sizeof(*x->mnts) * (size_t)(x->n_mnts + 1));
		x->mnts[x->n_mnts++] = strtoull(line, NULL, 10);
		line = nl ? nl + 1 : NULL;
	}
	x->mntns = st.st_ino;
}

/*
 * The file is on one of the process's own mounts: the view. Not so for what
 * another process's magic links lead to (/proc/1/root/…, /proc/1/fd/N: the
 * container's own mounts, without the view's noexec). True when it cannot be
 * told (statx without mount ids, before 5.8; no mountinfo).
 */
static bool in_view(struct judge *j, int fd)
{
	struct statx sx;

	if (j->p->self < 0 || statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &sx) < 0 ||
	    !(sx.stx_mask & STATX_MNT_ID))
		return true;
	read_mounts(j->x, j->p->self);
	if (!j->x->mntns)
		return true;
	for (int i = 0; i < j->x->n_mnts; i++)
		if (j->x->mnts[i] == sx.stx_mnt_id)
			return true;
	return false;
}

/* What cannot be judged is refused unless the profile runs shells anyway. */
static void undecidable(struct judge *j, const char *what, const char *path, int e)
{
	j->v->denied = !j->allow_shells;
	/* (a long path is cut: the reason is for a record and a message) */
	if (snprintf(j->v->reason, sizeof(j->v->reason),
		     "a file that cannot be judged (%s `%s`%s%s)", what, path, e ? ": " : "",
		     e ? strerror(e) : "") < 0)
		j->v->reason[0] = '\0';
}

static void __attribute__((format(printf, 2, 3))) deny(struct judge *j, const char *fmt, ...)
{
	va_list ap;

	j->v->denied = true;
	va_start(ap, fmt);
	vsnprintf(j->v->reason, sizeof(j->v->reason), fmt, ap);
	va_end(ap);
}

/* "<outer>, which is <what the inner level found>" */
static void __attribute__((format(printf, 2, 3))) wrap_reason(struct judge *j, const char *fmt, ...)
{
	char inner[sizeof(j->v->reason)], outer[sizeof(j->v->reason)];
	va_list ap;

	if (!j->v->denied)
		return;
	snprintf(inner, sizeof(inner), "%s", j->v->reason);
	va_start(ap, fmt);
	vsnprintf(outer, sizeof(outer), fmt, ap);
	va_end(ap);
	/* a reason longer than the record's field is cut: its start says what ran */
	if (snprintf(j->v->reason, sizeof(j->v->reason), "%s, which is %s", outer, inner) < 0)
		j->v->reason[0] = '\0';
}

static void judge_file(struct judge *j, int start, const char *path, int flags, char *const *argv,
		       int level, bool as_interp);

/*
 * What a loader option or variable names to load or search, and how the
 * loader splits its list: glibc's rtld (LD_PRELOAD and --preload on blanks
 * and colons, LD_AUDIT on colons, a library path on colons and semicolons,
 * an empty entry there being the working directory), musl's the same or fewer.
 */
static const struct lib_list {
	const char *name;
	const char *seps;
	bool dirs;	/* directories searched, not libraries loaded */
} lib_lists[] = {
	{ "--preload", " :", false },	  { "--audit", ":", false },
	{ "--library-path", ":;", true }, { "LD_PRELOAD", " :", false },
	{ "LD_AUDIT", ":", false },	  { "LD_LIBRARY_PATH", ":;", true },
	{ "GCONV_PATH", ":", true },	  { NULL, NULL, false },
};

static const struct lib_list *lib_list_of(const char *name, size_t len)
{
	for (const struct lib_list *l = lib_lists; l->name; l++)
		if (strlen(l->name) == len && strncmp(l->name, name, len) == 0)
			return l;
	return NULL;
}

/*
 * One entry of a list: a library (or directory) the loader opens from the
 * process's working directory, following symlinks, must be the toolbox's.
 * A name without a slash is looked up in the library path, which is judged
 * the same way. What the loader would expand ($ORIGIN, $LIB) or split
 * otherwise (musl splits a library path on newlines too) is not judged:
 * refused.
 */
static void judge_lib(struct judge *j, const char *who, const char *what, const char *path,
		      bool dir)
{
	dhi_autoclose int fd = -1;
	struct statvfs vfs;
	const char *why = NULL;
	bool in_root = false;

	if (strpbrk(path, "$\n")) {
		deny(j, "%s whose `%s` names `%s` (what the loader would expand there is not "
		     "judged)", who, what, path);
		return;
	}
	if (!*path && !dir)
		return;
	if (!dir && !strchr(path, '/'))
		return;
	fd = resolve(j->p, j->p->cwd, *path ? path : ".", false, &in_root);
	if (fd < 0) {
		int e = errno;

		/* the loader finds nothing there either */
		if (e != ENOENT && e != ENOTDIR && e != EACCES)
			undecidable(j, "cannot resolve the loader's", path, e);
		return;
	}
	if (!in_root && !in_view(j, fd))
		why = "reached through another process";
	else if (fstatvfs(fd, &vfs) < 0)
		why = "on a mount that cannot be told";
	else if (vfs.f_flag & ST_NOEXEC)
		why = "on a noexec mount";
	if (why)
		deny(j, "%s whose `%s` names `%s`, not the toolbox's (%s)", who, what, path, why);
}

/* Each entry of `value`, a list named `l->name` (an option, a variable). */
static void judge_lib_list(struct judge *j, const struct lib_list *l, const char *value)
{
	dhi_autofree char *copy = xstrdup(value);
	char *e = copy;

	if (j->anywhere)
		return;
	while (e && !j->v->denied) {
		char *end = e + strcspn(e, l->seps);
		char sep = *end;

		*end = '\0';
		judge_lib(j, l->name[0] == '-' ? "the dynamic loader" : "a program", l->name, e,
			  l->dirs);
		e = sep ? end + 1 : NULL;
	}
}

/* The loader's variables of the exec's environment. */
static void judge_env(struct judge *j, const struct execid_exec *e)
{
	if (j->anywhere || !e->envp)
		return;
	if (e->envp_cut) {
		deny(j, "an exec whose environment cannot be read whole");
		return;
	}
	for (int i = 0; e->envp[i] && !j->v->denied; i++) {
		const char *eq = strchr(e->envp[i], '=');
		const struct lib_list *l = eq ? lib_list_of(e->envp[i],
							     (size_t)(eq - e->envp[i])) : NULL;

		if (l && l->name[0] != '-')
			judge_lib_list(j, l, eq + 1);
	}
}

/*
 * `#!INTERP [ARG]`, as the kernel reads it (fs/binfmt_script.c): the first
 * 256 bytes, the interpreter up to the first blank or NUL, one optional
 * argument (the rest of the line, trimmed). The interpreter runs with argv
 * INTERP [ARG] PATH ARGV[1]…, found from the process's working directory.
 */
static void judge_script(struct judge *j, const struct seen *w, const char *path, char *const *argv,
			 int level)
{
	char line[SHEBANG_LEN + 1], *interp, *arg, *end;
	char **nargv;
	size_t n = 0, argc = 0;

	memcpy(line, w->text, w->len + 1);
	end = memchr(line, '\n', w->len);
	if (end) {
		*end = '\0';
	} else if (w->len == SHEBANG_LEN && strlen(line) == SHEBANG_LEN) {
		/* no end within what the kernel reads: it refuses a cut interpreter name */
		char *p = line + 2;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!strpbrk(p, " \t"))
			return;
	}
	interp = line + 2;
	while (*interp == ' ' || *interp == '\t')
		interp++;
	end = interp + strlen(interp);
	while (end > interp && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	if (!*interp)
		return;	/* ENOEXEC: nothing runs */
	arg = interp + strcspn(interp, " \t");
	if (*arg) {
		*arg++ = '\0';
		while (*arg == ' ' || *arg == '\t')
			arg++;
	}
	while (argv && argv[argc])
		argc++;
	nargv = xzalloc((argc + 4) * sizeof(char *));
	nargv[n++] = interp;
	if (*arg)
		nargv[n++] = arg;
	nargv[n++] = (char *)path;
	for (size_t i = 1; i < argc; i++)
		nargv[n++] = argv[i];
	nargv[n] = NULL;
	judge_file(j, j->p->cwd, interp, 0, nargv, level + 1, false);
	free(nargv);
	wrap_reason(j, "a script run by `%s`", interp);
}

/*
 * The loader's own options, then the program it runs (glibc's: ld.so
 * --help; musl's: ldso/dynlink.c). An option that takes a value takes the
 * next argument (musl also takes --opt=value); musl's "--" ends them. Any
 * other `--option` is a usage error for both today, but an older loader
 * took it as the program's name: it is judged as one. The values of
 * --preload, --audit and --library-path are judged as they come
 * (judge_lib_list; j->v->denied then says). Returns the index of the
 * program in `argv`, -1 when there is none.
 */
static int loader_program(struct judge *j, enum kind kind, char *const *argv, const char **argv0)
{
	static const char *const glibc_value[] = { "--library-path", "--inhibit-rpath", "--audit",
						   "--preload", "--argv0", "--glibc-hwcaps-prepend",
						   "--glibc-hwcaps-mask", NULL };
	static const char *const glibc_flag[] = { "--list", "--verify", "--inhibit-cache",
						  "--list-tunables", "--list-diagnostics",
						  "--help", "--version", NULL };
	static const char *const musl_value[] = { "--library-path", "--preload", "--argv0", NULL };
	static const char *const musl_flag[] = { "--list", NULL };
	const char *const *values = kind == K_LOADER_GLIBC ? glibc_value : musl_value;
	const char *const *flags = kind == K_LOADER_GLIBC ? glibc_flag : musl_flag;
	int i = 1;

	*argv0 = NULL;
	if (!argv[0])
		return -1;
	while (argv[i] && argv[i][0] == '-' && argv[i][1] == '-') {
		const char *a = argv[i];
		bool known = false;

		if (kind == K_LOADER_MUSL && a[2] == '\0')
			return argv[i + 1] ? i + 1 : -1;
		for (int k = 0; flags[k] && !known; k++)
			known = strcmp(a, flags[k]) == 0;
		if (known) {
			i++;
			continue;
		}
		for (int k = 0; values[k] && !known; k++) {
			size_t l = strlen(values[k]);
			const char *value = NULL;

			if (strncmp(a, values[k], l) != 0)
				continue;
			if (a[l] == '\0' && argv[i + 1]) {
				value = argv[i + 1];
				i += 2;
			} else if (kind == K_LOADER_MUSL && a[l] == '=') {
				value = a + l + 1;
				i++;
			}
			if (!value)
				continue;
			known = true;
			if (strcmp(values[k], "--argv0") == 0)
				*argv0 = value;
			else if (lib_list_of(values[k], l))
				judge_lib_list(j, lib_list_of(values[k], l), value);
		}
		if (!known)
			return i;
	}
	return argv[i] ? i : -1;
}

/* glibc looks a program named without a slash up as a library: in its system directories. */
static const char *const glibc_dirs[] = { "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
					  "/lib64", "/usr/lib64", "/lib", "/usr/lib", NULL };

static void judge_loader(struct judge *j, enum kind kind, char *const *argv, int level)
{
	const char *argv0;
	int i = loader_program(j, kind, argv, &argv0);
	char **nargv;
	size_t argc = 0;

	/* the loader's own options first: what it is told to load runs before the program */
	if (j->v->denied)
		return;
	if (i < 0)
		return;	/* no program: the loader prints its usage or its lists */
	while (argv[i + argc])
		argc++;
	nargv = xzalloc((argc + 1) * sizeof(char *));
	for (size_t k = 0; k < argc; k++)
		nargv[k] = argv[i + k];
	if (argv0)
		nargv[0] = (char *)argv0;
	if (kind == K_LOADER_GLIBC && !strchr(argv[i], '/')) {
		bool found = false;

		for (int d = 0; glibc_dirs[d] && !j->v->denied; d++) {
			char *cand = xasprintf("%s/%s", glibc_dirs[d], argv[i]);
			bool in_root;
			dhi_autoclose int fd = resolve(j->p, j->p->root, cand, false, &in_root);

			if (fd >= 0) {
				found = true;
				judge_file(j, j->p->root, cand, 0, nargv, level + 1, false);
			}
			free(cand);
		}
		/* elsewhere, ld.so.cache may name it: what that would run is not known here */
		if (!found)
			undecidable(j, "the loader looks up by name", argv[i], 0);
	} else {
		judge_file(j, j->p->cwd, argv[i], 0, nargv, level + 1, false);
	}
	free(nargv);
	wrap_reason(j, "the dynamic loader running `%s`", argv[i]);
}

static void judge_file(struct judge *j, int start, const char *path, int flags, char *const *argv,
		       int level, bool as_interp)
{
	struct execid_verdict *v = j->v;
	dhi_autoclose int fd = -1;
	bool in_root = false;
	char name[PATH_MAX];
	struct stat st;
	const struct seen *w;

	if (level > MAX_LEVELS) {
		undecidable(j, "too many interpreters at", path, 0);
		return;
	}
	if (!*path && (flags & AT_EMPTY_PATH))
		fd = fcntl(start, F_DUPFD_CLOEXEC, 3);
	else
		fd = resolve(j->p, start, path, flags & AT_SYMLINK_NOFOLLOW, &in_root);
	if (fd < 0) {
		int e = errno;

		/* nothing runs: the kernel (or the loader) fails the same way */
		if (e == ENOENT || e == ENOTDIR) {
			if (level == 0)
				v->error = e;
			return;
		}
		undecidable(j, "cannot resolve", path, e);
		return;
	}
	if (fstat(fd, &st) < 0) {
		undecidable(j, "cannot stat", path, errno);
		return;
	}
	/* (an ELF interpreter is judged by what it is alone: its name costs a lookup each exec) */
	if (as_interp)
		snprintf(name, sizeof(name), "%s", path);
	else
		name_of(j->x, fd, name, sizeof(name));
	if (level == 0)
		snprintf(v->file, sizeof(v->file), "%s", name);
	if (!S_ISREG(st.st_mode)) {
		if (level == 0)
			v->error = EACCES;	/* what execve says of anything else */
		return;
	}
	if (!j->anywhere && !in_root && !in_view(j, fd)) {
		deny(j, "a file outside the session's view (`%s`, reached through another process)",
		     name);
		return;
	}
	w = classify(j->x, fd, &st, !j->allow_shells);
	if (!w) {
		undecidable(j, "cannot read", name, errno);
		return;
	}
	switch (w->kind) {
	case K_SCRIPT:
		/* as an ELF interpreter: the kernel takes ELF files only */
		if (!as_interp)
			judge_script(j, w, path, argv, level);
		return;
	case K_LOADER_GLIBC:
	case K_LOADER_MUSL:
		/* as an ELF interpreter: it loads the program the kernel mapped, not an argument */
		if (!as_interp)
			judge_loader(j, w->kind, argv, level);
		return;
	case K_BUSYBOX:
	case K_TOYBOX: {
		char applet[64];

		execid_applet(argv, w->kind == K_BUSYBOX ? "busybox" : "toybox", applet,
			      sizeof(applet));
		snprintf(v->applet, sizeof(v->applet), "%s", applet);
		if (execid_is_shell_name(applet) && !j->allow_shells)
			deny(j, "the shell applet `%s` of a multi-call binary (`%s`)", applet,
			     name);
		return;
	}
	case K_SHELL:
		if (!j->allow_shells)
			deny(j, "a shell (`%s`)", name);
		return;
	case K_OTHER:
		return;	/* ENOEXEC, after which execvp runs /bin/sh, which is decided */
	case K_UNJUDGED:
		undecidable(j, "an ELF interpreter's name too long in", name, 0);
		return;
	case K_PROGRAM:
		break;
	}
	/* the file's own name, not the path that reached it: the toolbox names its shells */
	if (!as_interp && execid_is_shell_name(base_of(name))) {
		if (!j->allow_shells)
			deny(j, "a shell (`%s`)", name);
		return;
	}
	/* a program that the kernel starts through its PT_INTERP */
	if (w->text[0] && !as_interp) {
		/* (a copy: the entry may be reused while the interpreter is judged) */
		char interp[SHEBANG_LEN + 1];

		snprintf(interp, sizeof(interp), "%s", w->text);
		judge_file(j, j->p->cwd, interp, 0, argv, level + 1, true);
		wrap_reason(j, "a program whose ELF interpreter is `%s`", interp);
	}
}

void execid_decide(struct execid *x, const struct execid_proc *p, const struct execid_exec *e,
		   unsigned int allow, struct execid_verdict *v)
{
	struct judge j = { x, p, allow & EXECID_SHELLS, allow & EXECID_ANYWHERE, v };
	char *const none[] = { NULL };

	memset(v, 0, sizeof(*v));
	judge_file(&j, e->dirfd >= 0 ? e->dirfd : p->cwd, e->path ? e->path : "", e->flags,
		   e->argv ? e->argv : none, 0, false);
	/* what the program's loader is told by its environment */
	if (!v->denied && !v->error)
		judge_env(&j, e);
	/* a path that leads nowhere fails the exec whatever is behind it */
	if (v->error)
		v->denied = false;
}
