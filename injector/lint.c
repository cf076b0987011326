// SPDX-License-Identifier: Apache-2.0
/* lint.c - dhidebug lint: the DHI migration checks on a running target or an image. */
#include "injector/lint.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/xalloc.h"
#include "injector/imagetarget.h"
#include "injector/runtime/runtime.h"
#include "injector/session.h"
#include "common/path.h"
#include "nsenter/target.h"
#include "injector/toolbox_cmd.h"
#include "toolbox/cache.h"
#include "toolbox/ref.h"

#define LINT_MAX_ARGS 256
#define LINT_MAX_LIBS 256
#define LINT_CONFIG_MAX (4u << 20)
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* --- ELF: PT_INTERP, DT_NEEDED, DT_RUNPATH (64-bit and 32-bit, little-endian) --- */

/* all of `len` bytes at `off`, or -1 (a short file is as bad as an error here) */
static int pread_all(int fd, void *buf, size_t len, off_t off)
{
	return fd_pread_full(fd, buf, len, off) == (ssize_t)len ? 0 : -1;
}

/* A NUL-terminated string of at most `max` bytes at `off`, or NULL. */
static char *pread_str(int fd, off_t off, size_t max, off_t size)
{
	char *s;

	if (off < 0 || off >= size)
		return NULL;
	if ((off_t)max > size - off)
		max = (size_t)(size - off);
	s = xzalloc(max + 1);
	if (pread_all(fd, s, max, off) < 0 || !memchr(s, 0, max)) {
		free(s);
		return NULL;
	}
	return s;
}

struct elf_ph {
	uint32_t type;
	uint64_t offset, vaddr, filesz;
};

struct elf_dyn {
	int64_t tag;
	uint64_t val;
};

static int elf_phdrs(int fd, const unsigned char *id, off_t size, struct elf_ph **out, size_t *n,
		     unsigned *machine)
{
	bool is64 = id[EI_CLASS] == ELFCLASS64;
	uint64_t phoff;
	size_t phnum, phsz;

	if (is64) {
		Elf64_Ehdr e;

		if (pread_all(fd, &e, sizeof(e), 0) < 0)
			return -1;
		phoff = e.e_phoff, phnum = e.e_phnum, phsz = e.e_phentsize;
		*machine = e.e_machine;
		if (phsz != sizeof(Elf64_Phdr))
			return -1;
	} else {
		Elf32_Ehdr e;

		if (pread_all(fd, &e, sizeof(e), 0) < 0)
			return -1;
		phoff = e.e_phoff, phnum = e.e_phnum, phsz = e.e_phentsize;
		*machine = e.e_machine;
		if (phsz != sizeof(Elf32_Phdr))
			return -1;
	}
	if (phnum > 512 || phoff > (uint64_t)size || phnum * phsz > (uint64_t)size - phoff)
		return -1;
	*out = xzalloc((phnum ? phnum : 1) * sizeof(**out));
	*n = phnum;
	for (size_t i = 0; i < phnum; i++) {
		if (is64) {
			Elf64_Phdr p;

			if (pread_all(fd, &p, sizeof(p), (off_t)(phoff + i * phsz)) < 0)
				return -1;
			(*out)[i] = (struct elf_ph){ p.p_type, p.p_offset, p.p_vaddr, p.p_filesz };
		} else {
			Elf32_Phdr p;

			if (pread_all(fd, &p, sizeof(p), (off_t)(phoff + i * phsz)) < 0)
				return -1;
			(*out)[i] = (struct elf_ph){ p.p_type, p.p_offset, p.p_vaddr, p.p_filesz };
		}
	}
	return 0;
}

/* The file offset of virtual address `va`, through the PT_LOAD segments. */
static int64_t elf_va_to_off(const struct elf_ph *ph, size_t n, uint64_t va)
{
	for (size_t i = 0; i < n; i++)
		if (ph[i].type == PT_LOAD && va >= ph[i].vaddr && va - ph[i].vaddr < ph[i].filesz)
			return (int64_t)(ph[i].offset + (va - ph[i].vaddr));
	return -1;
}

int lint_elf_read(int fd, char **interp, char ***needed, char **runpath, unsigned *machine,
		  struct dhi_err **err)
{
	unsigned char id[EI_NIDENT];
	dhi_autofree struct elf_ph *ph = NULL;
	dhi_autofree struct elf_dyn *dyn = NULL;
	size_t nph = 0, ndyn = 0, nneed = 0;
	uint64_t strtab = 0, strsz = 0;
	int64_t stroff;
	struct stat st;
	bool is64;

	*interp = NULL, *needed = NULL, *runpath = NULL;
	if (fstat(fd, &st) < 0)
		return dhi_err_set(err, errno, "fstat");
	if (pread_all(fd, id, sizeof(id), 0) < 0 || memcmp(id, ELFMAG, SELFMAG) != 0)
		return dhi_err_set(err, 0, "not an ELF file");
	if ((id[EI_CLASS] != ELFCLASS64 && id[EI_CLASS] != ELFCLASS32) ||
	    id[EI_DATA] != ELFDATA2LSB)
		return dhi_err_set(err, 0, "an ELF class or byte order this check does not read");
	is64 = id[EI_CLASS] == ELFCLASS64;
	if (elf_phdrs(fd, id, st.st_size, &ph, &nph, machine) < 0)
		return dhi_err_set(err, 0, "malformed ELF program headers");
	for (size_t i = 0; i < nph; i++) {
		if (ph[i].type == PT_INTERP && !*interp) {
			if (ph[i].filesz == 0 || ph[i].filesz > 4096 ||
			    !(*interp = pread_str(fd, (off_t)ph[i].offset, ph[i].filesz, st.st_size)))
				return dhi_err_set(err, 0, "malformed PT_INTERP");
		} else if (ph[i].type == PT_DYNAMIC && !dyn) {
			size_t esz = is64 ? sizeof(Elf64_Dyn) : sizeof(Elf32_Dyn);

			if (ph[i].offset > (uint64_t)st.st_size ||
			    ph[i].filesz > (uint64_t)st.st_size - ph[i].offset || ph[i].filesz > (1u << 20))
				return dhi_err_set(err, 0, "malformed PT_DYNAMIC");
			ndyn = ph[i].filesz / esz;
			dyn = xzalloc((ndyn ? ndyn : 1) * sizeof(*dyn));
			for (size_t k = 0; k < ndyn; k++) {
				off_t o = (off_t)(ph[i].offset + k * esz);

				if (is64) {
					Elf64_Dyn d;

					if (pread_all(fd, &d, sizeof(d), o) < 0)
						return dhi_err_set(err, 0, "malformed PT_DYNAMIC");
					dyn[k] = (struct elf_dyn){ d.d_tag, d.d_un.d_val };
				} else {
					Elf32_Dyn d;

					if (pread_all(fd, &d, sizeof(d), o) < 0)
						return dhi_err_set(err, 0, "malformed PT_DYNAMIC");
					dyn[k] = (struct elf_dyn){ d.d_tag, d.d_un.d_val };
				}
				if (dyn[k].tag == DT_NULL) {
					ndyn = k;
					break;
				}
			}
		}
	}
	for (size_t k = 0; k < ndyn; k++) {
		if (dyn[k].tag == DT_STRTAB)
			strtab = dyn[k].val;
		else if (dyn[k].tag == DT_STRSZ)
			strsz = dyn[k].val;
	}
	if (!ndyn || !strtab)
		return 0;
	stroff = elf_va_to_off(ph, nph, strtab);
	if (stroff < 0 || strsz == 0 || strsz > (uint64_t)st.st_size)
		return dhi_err_set(err, 0, "malformed DT_STRTAB");
	*needed = xzalloc(sizeof(char *));
	for (size_t k = 0; k < ndyn; k++) {
		char *s;

		if (dyn[k].tag != DT_NEEDED && dyn[k].tag != DT_RUNPATH && dyn[k].tag != DT_RPATH)
			continue;
		if (dyn[k].val >= strsz ||
		    !(s = pread_str(fd, stroff + (off_t)dyn[k].val, 4096, st.st_size)))
			return dhi_err_set(err, 0, "malformed dynamic string");
		if (dyn[k].tag == DT_NEEDED && nneed < LINT_MAX_LIBS) {
			*needed = xrealloc(*needed, (nneed + 2) * sizeof(char *));
			(*needed)[nneed++] = s;
			(*needed)[nneed] = NULL;
		} else if (dyn[k].tag != DT_NEEDED && (!*runpath || dyn[k].tag == DT_RUNPATH)) {
			free(*runpath);
			*runpath = s;
		} else {
			free(s);
		}
	}
	return 0;
}

static void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* --- what is checked: a root, the process's argv, user, env, and the image reference --- */

struct lint_input {
	int rootfd;		/* O_PATH: the image's or the target's root */
	char **args;		/* ENTRYPOINT + CMD (NULL-terminated) */
	char *user;		/* USER, or the uid as text; "" = not set */
	char **env;		/* "K=V", NULL-terminated */
	char *cwd;		/* WorkingDir, NULL = / */
	char *ref;		/* the image reference as given or as the runtime says; NULL = unknown */
	char *digest;		/* the image's digest when known */
	const char *source;	/* where the config came from, for the output */
};

enum verdict { V_PASS, V_WARN, V_FAIL, V_SKIP };
static const char *const verdict_names[] = { "pass", "warn", "fail", "skip" };

struct finding {
	const char *check;
	enum verdict v;
	char *msg, *hint;
};

struct report {
	struct finding f[16];
	size_t n;
};

static void __attribute__((format(printf, 4, 5)))
add(struct report *r, const char *check, enum verdict v, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (r->n >= sizeof(r->f) / sizeof(r->f[0]))
		return;
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	/* names and paths from the image or container: text, whether printed or in JSON */
	r->f[r->n] = (struct finding){ .check = check, .v = v, .msg = dhi_printable(msg) };
	free(msg);
	r->n++;
}

/* Sets the fix hint of the last finding. */
static void __attribute__((format(printf, 2, 3))) hint(struct report *r, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	free(r->f[r->n - 1].hint);
	r->f[r->n - 1].hint = dhi_printable(msg);
	free(msg);
}

static const char *env_get(char **env, const char *key)
{
	size_t kl = strlen(key);

	for (size_t i = 0; env && env[i]; i++)
		if (strncmp(env[i], key, kl) == 0 && env[i][kl] == '=')
			return env[i] + kl + 1;
	return NULL;
}

/* Opens `path` inside the root (symlinks resolved inside it); -1 when it is not there. */
static int open_in(const struct lint_input *in, const char *path, int flags)
{
	struct dhi_err *e = NULL;
	int fd = -1;

	if (path_open_at(in->rootfd, path, flags, 0, &fd, &e) < 0) {
		dhi_err_clear(&e);
		return -1;
	}
	return fd;
}

/*
 * Opens the regular file `path` inside the root for reading (a FIFO or a
 * device of the image is never opened); -1 with `*why` set (the caller frees
 * it) when it is there but not a regular file, -1 alone when it is not there.
 */
static int open_file_in(const struct lint_input *in, const char *path, char **why)
{
	struct dhi_err *e = NULL;
	int fd = -1;

	*why = NULL;
	if (path_open_regular_at(in->rootfd, path, 0, &fd, &e) < 0) {
		if (e->errnum != ENOENT)
			*why = dhi_err_string(e);
		dhi_err_clear(&e);
		return -1;
	}
	return fd;
}

static bool exists_in(const struct lint_input *in, const char *path)
{
	dhi_autoclose int fd = open_in(in, path, O_PATH);

	return fd >= 0;
}

/* A program name as execvp() would find it: absolute, relative to the cwd, or on PATH. */
static char *resolve_prog(const struct lint_input *in, const char *name)
{
	const char *path = env_get(in->env, "PATH");
	dhi_autofree char *copy = NULL;
	char *save = NULL;

	if (name[0] == '/')
		return xstrdup(name);
	if (strchr(name, '/'))
		return xasprintf("%s/%s", in->cwd && *in->cwd ? in->cwd : "", name);
	copy = xstrdup(path ? path : DEFAULT_PATH);
	for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		char *p = xasprintf("%s/%s", d, name);

		if (exists_in(in, p))
			return p;
		free(p);
	}
	return NULL;
}

static const char *triplet(unsigned machine)
{
	switch (machine) {
	case EM_X86_64:
		return "x86_64-linux-gnu";
	case EM_AARCH64:
		return "aarch64-linux-gnu";
	case EM_386:
		return "i386-linux-gnu";
	case EM_ARM:
		return "arm-linux-gnueabihf";
	case EM_S390:
		return "s390x-linux-gnu";
	case EM_PPC64:
		return "powerpc64le-linux-gnu";
	default:
		return "";
	}
}

/* --- musl (Alpine): its loader is its libc, and has its own search path --- */

/* True for musl's loader, /lib/ld-musl-<arch>.so.1; *arch gets <arch>. */
static bool is_musl_loader(const char *interp, char *arch, size_t len)
{
	const char *base = strrchr(interp, '/'), *end;

	base = base ? base + 1 : interp;
	if (strncmp(base, "ld-musl-", 8) != 0 || !(end = strstr(base + 8, ".so.1")) ||
	    end[5] != '\0' || end == base + 8 || (size_t)(end - base - 8) >= len)
		return false;
	snprintf(arch, len, "%.*s", (int)(end - base - 8), base + 8);
	return strspn(arch, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(arch);
}

/* libc, libm, libpthread, librt, libdl, libutil, libxnet: musl's loader provides them itself. */
static bool musl_builtin(const char *name)
{
	static const char *const libs[] = { "c", "m", "pthread", "rt", "dl", "util", "xnet" };
	const char *dot = strchr(name, '.');

	if (strncmp(name, "lib", 3) != 0 || !dot)
		return false;
	for (size_t i = 0; i < sizeof(libs) / sizeof(libs[0]); i++)
		if ((size_t)(dot - name - 3) == strlen(libs[i]) && !strncmp(name + 3, libs[i], strlen(libs[i])))
			return true;
	return false;
}

/*
 * musl's library path: the image's /etc/ld-musl-<arch>.path (directories separated by
 * colons or newlines), else its built-in /lib:/usr/local/lib:/usr/lib.
 */
static char *musl_path(const struct lint_input *in, const char *arch)
{
	dhi_autofree char *file = xasprintf("/etc/ld-musl-%s.path", arch), *why = NULL;
	dhi_autoclose int fd = open_file_in(in, file, &why);
	char buf[4096];
	ssize_t n;

	/* (not a regular file: the default path, as for a missing file) */
	if (fd < 0 || (n = read(fd, buf, sizeof(buf) - 1)) <= 0)
		return xstrdup("/lib:/usr/local/lib:/usr/lib");
	buf[n] = '\0';
	for (char *c = buf; *c; c++)
		if (*c == '\n' || *c == '\r')
			*c = ':';
	return xstrdup(buf);
}

/*
 * Finds library `name` as the loader would: RUNPATH, LD_LIBRARY_PATH, then glibc's default
 * directories, or musl's path (`musl_dirs`, with the libraries musl itself provides).
 */
static char *find_lib(const struct lint_input *in, const char *name, const char *runpath,
		      const char *origin, unsigned machine, const char *musl_dirs)
{
	const char *tri = triplet(machine);
	dhi_autofree char *dirs = NULL;
	const char *llp = env_get(in->env, "LD_LIBRARY_PATH");
	char *save = NULL;

	if (strchr(name, '/'))
		return exists_in(in, name) ? xstrdup(name) : NULL;
	if (musl_dirs && musl_builtin(name))
		return xstrdup("");
	if (musl_dirs)
		dirs = xasprintf("%s:%s:%s", runpath ? runpath : "", llp ? llp : "", musl_dirs);
	else
		dirs = xasprintf("%s:%s:/lib/%s:/usr/lib/%s:/lib64:/usr/lib64:/lib:/usr/lib:"
				 "/usr/local/lib",
				 runpath ? runpath : "", llp ? llp : "", tri, tri);
	for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		dhi_autofree char *dir = NULL;
		char *p;

		if (strncmp(d, "$ORIGIN", 7) == 0)
			dir = xasprintf("%s%s", origin, d + 7);
		else if (strncmp(d, "${ORIGIN}", 9) == 0)
			dir = xasprintf("%s%s", origin, d + 9);
		else
			dir = xstrdup(d);
		p = xasprintf("%s/%s", dir, name);
		if (exists_in(in, p))
			return p;
		free(p);
	}
	return NULL;
}

/*
 * The ELF check of `prog` (a path inside the root): its interpreter and every
 * DT_NEEDED library, transitively, must be in the image.
 */
static void check_elf(struct report *r, const struct lint_input *in, const char *prog)
{
	char *queue[LINT_MAX_LIBS + 1] = { 0 }, *seen[LINT_MAX_LIBS + 1] = { 0 };
	size_t nq = 0, nseen = 0, head = 0;
	dhi_autofree char *missing = xstrdup(""), *interp = NULL, *musl_dirs = NULL;
	bool has_interp_missing = false, is_static = false;
	unsigned machine = 0;
	char arch[32];

	queue[nq++] = xstrdup(prog);
	while (head < nq) {
		dhi_autofree char *path = queue[head++], *ip = NULL, *rp = NULL, *origin = NULL;
		dhi_autofree char *why = NULL;
		dhi_autoclose int fd = open_file_in(in, path, &why);
		char **needed = NULL;
		struct dhi_err *e = NULL;
		char *slash;

		if (fd < 0 && why && head == 1) {
			add(r, "elf", V_WARN, "cannot read `%s` as ELF: %s", path, why);
			goto out;
		}
		if (fd < 0 && why) {
			/* there, and not a file the loader could map: as good as missing */
			char *m = xasprintf("%s%s%s", missing, *missing ? ", " : "", why);

			free(missing);
			missing = m;
			continue;
		}
		if (fd < 0)
			continue;
		if (lint_elf_read(fd, &ip, &needed, &rp, &machine, &e) < 0) {
			if (head == 1) {
				add(r, "elf", V_WARN, "cannot read `%s` as ELF: %s", path, e->msg);
				dhi_err_clear(&e);
				goto out;
			}
			dhi_err_clear(&e);
			continue;
		}
		origin = xstrdup(path);
		slash = strrchr(origin, '/');
		*(slash ? slash : origin) = 0;
		if (head == 1) {
			is_static = !ip && !needed;
			if (ip) {
				interp = xstrdup(ip);
				has_interp_missing = !exists_in(in, ip);
				if (is_musl_loader(ip, arch, sizeof(arch)))
					musl_dirs = musl_path(in, arch);
			}
		}
		for (size_t i = 0; needed && needed[i]; i++) {
			bool dup = false;
			char *found;

			for (size_t k = 0; k < nseen && !dup; k++)
				dup = strcmp(seen[k], needed[i]) == 0;
			if (dup || nseen >= LINT_MAX_LIBS)
				continue;
			seen[nseen++] = xstrdup(needed[i]);
			found = find_lib(in, needed[i], rp, origin, machine, musl_dirs);
			if (found && !*found) {
				/* one of musl's own: its loader, checked above */
				free(found);
				continue;
			}
			if (!found) {
				char *m = xasprintf("%s%s%s", missing, *missing ? ", " : "", needed[i]);

				free(missing);
				missing = m;
			} else if (nq < LINT_MAX_LIBS) {
				queue[nq++] = found;
			} else {
				free(found);
			}
		}
		strv_free(needed);
	}
	if (is_static) {
		add(r, "elf", V_PASS, "`%s` is statically linked", prog);
	} else if (has_interp_missing || *missing) {
		add(r, "elf", V_FAIL, "`%s`%s%s%s%s%s", prog,
		    has_interp_missing ? " needs the interpreter `" : "",
		    has_interp_missing ? interp : "", has_interp_missing ? "`, missing" : "",
		    *missing ? (has_interp_missing ? "; and missing libraries: " : " needs libraries missing from the image: ")
			     : "",
		    missing);
		hint(r, "copy the missing files from the build stage (the -dev image) into the final "
			"image, or link the program statically");
	} else {
		add(r, "elf", V_PASS, "`%s`: interpreter `%s`%s and every needed library are present",
		    prog, interp ? interp : "(none)", musl_dirs ? " (musl)" : "");
	}
out:
	for (size_t i = head; i < nq; i++)
		free(queue[i]);
	for (size_t i = 0; i < nseen; i++)
		free(seen[i]);
}

static bool is_shell(const char *p)
{
	const char *b = strrchr(p, '/');

	b = b ? b + 1 : p;
	return !strcmp(b, "sh") || !strcmp(b, "bash") || !strcmp(b, "dash") || !strcmp(b, "ash") ||
	       !strcmp(b, "zsh") || !strcmp(b, "ksh");
}

static void check_entrypoint(struct report *r, const struct lint_input *in)
{
	dhi_autofree char *prog = NULL, *line = NULL, *why = NULL;
	dhi_autoclose int fd = -1;
	unsigned char magic[4] = { 0 };

	if (!in->args || !in->args[0]) {
		add(r, "entrypoint", V_FAIL, "no ENTRYPOINT or CMD");
		hint(r, "set an exec-form ENTRYPOINT: ENTRYPOINT [\"/path/to/app\"]");
		return;
	}
	if (is_shell(in->args[0]) && in->args[1] && strcmp(in->args[1], "-c") == 0) {
		prog = resolve_prog(in, in->args[0]);
		if (!prog || !exists_in(in, prog)) {
			add(r, "entrypoint", V_FAIL,
			    "shell form (`%s -c …`), and the image has no `%s`", in->args[0],
			    in->args[0]);
			hint(r, "use the exec form, ENTRYPOINT [\"/app\", \"arg\"]: hardened images "
				"have no shell");
			return;
		}
		add(r, "entrypoint", V_WARN, "shell form (`%s -c …`): works only while the image "
					     "keeps a shell", in->args[0]);
		hint(r, "use the exec form, ENTRYPOINT [\"/app\", \"arg\"]");
		check_elf(r, in, prog);
		return;
	}
	prog = resolve_prog(in, in->args[0]);
	if (prog)
		fd = open_file_in(in, prog, &why);
	if (fd < 0 && why) {
		add(r, "entrypoint", V_FAIL, "%s", why);
		hint(r, "the entrypoint must be a program file of the image");
		return;
	}
	if (fd < 0) {
		add(r, "entrypoint", V_FAIL, "`%s` is not in the image", in->args[0]);
		hint(r, "copy the program into the final image, or fix the path in ENTRYPOINT");
		return;
	}
	if (pread_all(fd, magic, sizeof(magic), 0) < 0)
		memset(magic, 0, sizeof(magic));
	if (magic[0] == '#' && magic[1] == '!') {
		char buf[256] = { 0 }, *p, *end, *interp;

		(void)!pread(fd, buf, sizeof(buf) - 1, 2);
		buf[strcspn(buf, "\n")] = 0;
		for (p = buf; *p == ' ' || *p == '\t'; p++)
			;
		end = p + strcspn(p, " \t");
		interp = xstrndup(p, (size_t)(end - p));
		if (!strcmp(interp, "/usr/bin/env") || !strcmp(interp, "/bin/env")) {
			char *arg = end + strspn(end, " \t"), *word;

			word = xstrndup(arg, strcspn(arg, " \t"));
			if (!exists_in(in, interp)) {
				/* keep `/usr/bin/env` as what is missing */
				free(word);
			} else {
				char *found = resolve_prog(in, word);

				free(interp);
				interp = found ? found : xstrdup(word);
				free(word);
			}
		}
		line = interp;
		if (!*line || !exists_in(in, line)) {
			add(r, "entrypoint", V_FAIL, "`%s` is a script for `%s`, which the image does "
						     "not have",
			    prog, *line ? line : "(no interpreter)");
			hint(r, "run the program itself in exec form, or do the script's work at build "
				"time; hardened images have no shell");
			return;
		}
		add(r, "entrypoint", V_WARN, "`%s` is a script run by `%s`", prog, line);
		hint(r, "prefer the program itself in exec form");
		check_elf(r, in, line);
		return;
	}
	if (memcmp(magic, ELFMAG, SELFMAG) != 0) {
		add(r, "entrypoint", V_FAIL, "`%s` is neither ELF nor a `#!` script", prog);
		hint(r, "point ENTRYPOINT at an executable");
		return;
	}
	add(r, "entrypoint", V_PASS, "exec form: `%s`", prog);
	check_elf(r, in, prog);
}

static void check_user(struct report *r, const struct lint_input *in)
{
	const char *u = in->user ? in->user : "";
	size_t n = strcspn(u, ":");

	if (!*u || (n == 1 && u[0] == '0') || (n == 4 && !strncmp(u, "root", 4))) {
		add(r, "user", V_FAIL, "runs as root%s", *u ? "" : " (no USER)");
		hint(r, "add USER 65532 (nonroot) or another non-zero uid");
		return;
	}
	add(r, "user", V_PASS, "runs as `%s`", u);
}

static bool is_dev_tag(const char *t)
{
	static const char *const v[] = { "dev", "sdk" };
	size_t len = strlen(t);

	for (size_t i = 0; i < 2; i++) {
		char mid[8];

		snprintf(mid, sizeof(mid), "-%s-", v[i]);
		if (!strcmp(t, v[i]) || strstr(t, mid) ||
		    (len > 4 && t[len - 4] == '-' && !strcmp(t + len - 3, v[i])) ||
		    (len > 4 && !strncmp(t, v[i], 3) && t[3] == '-'))
			return true;
	}
	return false;
}

static void check_ref(struct report *r, const struct lint_input *in)
{
	struct dhi_err *e = NULL;
	struct tb_ref ref;
	const char *last, *tag_part;
	bool has_tag;

	if (!in->ref) {
		add(r, "reference", V_SKIP, "the image reference is not known");
		add(r, "variant", V_SKIP, "the image reference is not known");
		return;
	}
	if (ref_parse(in->ref, &ref, &e) < 0) {
		add(r, "reference", V_WARN, "cannot parse `%s`: %s", in->ref, e->msg);
		add(r, "variant", V_SKIP, "the image reference cannot be parsed");
		dhi_err_clear(&e);
		return;
	}
	last = strrchr(in->ref, '/');
	tag_part = strchr(last ? last : in->ref, ':');
	has_tag = tag_part && (!strchr(in->ref, '@') || tag_part < strchr(in->ref, '@'));
	if (ref.digest) {
		add(r, "reference", V_PASS, "pinned by digest");
	} else if (!has_tag || !strcmp(ref.tag, "latest")) {
		add(r, "reference", V_FAIL, "`%s`: %s", in->ref,
		    has_tag ? "the `latest` tag moves" : "no tag (means `latest`) and no digest");
		hint(r, "pin a version tag and its digest: %s/%s:<version>@%s", ref.registry, ref.repo,
		     in->digest ? in->digest : "sha256:…");
	} else {
		add(r, "reference", V_WARN, "`%s` is pinned by tag only", in->ref);
		hint(r, "add the digest: %s@%s", in->ref, in->digest ? in->digest : "sha256:…");
	}
	if (ref.tag && is_dev_tag(ref.tag)) {
		add(r, "variant", V_FAIL, "`%s` is a -dev/-sdk variant (shell, package manager, "
					  "compilers) used as the final image",
		    ref.tag);
		hint(r, "build in the -dev/-sdk image, copy the result into the runtime variant "
			"(the same tag without -dev/-sdk)");
	} else {
		add(r, "variant", V_PASS, "not a -dev/-sdk variant");
	}
	ref_free(&ref);
}

/* --- where the input comes from --- */

static char **strv_dup(char *const *v)
{
	size_t n = 0;
	char **d;

	while (v && v[n])
		n++;
	d = xzalloc((n + 1) * sizeof(char *));
	for (size_t i = 0; i < n; i++)
		d[i] = xstrdup(v[i]);
	return d;
}

static char **json_strv(json_t *a, size_t max)
{
	size_t n = json_is_array(a) ? json_array_size(a) : 0, k = 0;
	char **v;

	if (n > max)
		n = max;
	v = xzalloc((n + 1) * sizeof(char *));
	for (size_t i = 0; i < n; i++)
		if (json_is_string(json_array_get(a, i)))
			v[k++] = xstrdup(json_string_value(json_array_get(a, i)));
	return v;
}

/* ENTRYPOINT + CMD of an OCI image config ("config": {...}). */
static void input_from_image_config(json_t *cfg, struct lint_input *in)
{
	char **ep = json_strv(json_object_get(cfg, "Entrypoint"), LINT_MAX_ARGS);
	char **cmd = json_strv(json_object_get(cfg, "Cmd"), LINT_MAX_ARGS);
	size_t n = 0;

	for (size_t i = 0; ep[i]; i++)
		n++;
	for (size_t i = 0; cmd[i]; i++)
		n++;
	in->args = xzalloc((n + 1) * sizeof(char *));
	n = 0;
	for (size_t i = 0; ep[i]; i++)
		in->args[n++] = ep[i];
	for (size_t i = 0; cmd[i]; i++)
		in->args[n++] = cmd[i];
	free(ep);
	free(cmd);
	in->env = json_strv(json_object_get(cfg, "Env"), 1024);
	in->user = xstrdup(json_string_value(json_object_get(cfg, "User")) ?: "");
	if (json_string_value(json_object_get(cfg, "WorkingDir")))
		in->cwd = xstrdup(json_string_value(json_object_get(cfg, "WorkingDir")));
}

/* A runtime's state, a bundle's or an image's config: not our files, regular or refused. */
static int read_json_file(int dirfd, const char *name, json_t **out, struct dhi_err **err)
{
	dhi_autofree char *buf = NULL;
	size_t len = 0;
	json_error_t je;

	if (fd_read_regular_at(dirfd, name, LINT_CONFIG_MAX, &buf, &len, err) < 0)
		return -1;
	*out = json_loadb(buf, len, 0, &je);
	if (!*out)
		return dhi_err_set(err, 0, "`%s` is not JSON: %s", name, je.text);
	return 0;
}

static int input_from_image(const struct lint_opts *lo, const char *ref, struct lint_input *in,
			    struct dhi_err **err)
{
	struct cache_opts o;
	dhi_autofree char *rootfs = NULL, *entry = NULL;
	dhi_autoclose int entryfd = -1;
	json_t *j = NULL;
	char *slash;

	if (geteuid() != 0)
		return dhi_err_set(err, 0, "must run as root (the image cache is root's)");
	if (toolbox_cache_opts(&lo->tb, &o, err) < 0)
		return -1;
	o.json = false; /* (--json is lint's report) */
	if (cache_pull(&o, ref, &in->digest, err) < 0 ||
	    cache_resolve(&o, in->digest, false, &rootfs, err) < 0)
		return -1;
	entry = xstrdup(rootfs);
	slash = strrchr(entry, '/');
	if (slash)
		*slash = 0;
	entryfd = open(entry, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (entryfd < 0)
		return dhi_err_set(err, errno, "cannot open `%s`", entry);
	if (read_json_file(entryfd, "config.json", &j, err) < 0)
		return dhi_err_prefix(err, "image `%s`", ref);
	input_from_image_config(json_object_get(j, "config"), in);
	json_decref(j);
	in->rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (in->rootfd < 0)
		return dhi_err_set(err, errno, "cannot open `%s`", rootfs);
	in->ref = xstrdup(ref);
	in->source = "image config";
	return 0;
}

/* A runc/crun container's bundle, from the runtime's state; NULL when not found. */
static char *oci_bundle(const struct rt_target *rt, const struct lint_opts *lo)
{
	bool is_crun = !strcmp(rt->runtime, "crun");
	const char *root = lo->ro.runtime_root ? lo->ro.runtime_root : is_crun ? "/run/crun" : "/run/runc";
	dhi_autofree char *dir = xasprintf("%s/%s", root, rt->id);
	dhi_autoclose int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	struct dhi_err *e = NULL;
	json_t *j = NULL, *labels;
	char *bundle = NULL;

	if (dfd < 0 || read_json_file(dfd, is_crun ? "status" : "state.json", &j, &e) < 0) {
		dhi_err_clear(&e);
		return NULL;
	}
	if (is_crun) {
		if (json_string_value(json_object_get(j, "bundle")))
			bundle = xstrdup(json_string_value(json_object_get(j, "bundle")));
	} else {
		labels = json_object_get(json_object_get(j, "config"), "labels");
		for (size_t i = 0; i < json_array_size(labels); i++) {
			const char *l = json_string_value(json_array_get(labels, i));

			if (l && !strncmp(l, "bundle=", 7)) {
				bundle = xstrdup(l + 7);
				break;
			}
		}
	}
	json_decref(j);
	return bundle;
}

/* NUL-separated /proc/<pid>/<name> as a string vector. */
static char **proc_strv(int procfd, const char *name)
{
	dhi_autofree char *buf = NULL;
	struct dhi_err *e = NULL;
	size_t len = 0, n = 0;
	char **v;

	if (fd_read_proc_at(procfd, name, 1u << 20, &buf, &len, &e) < 0) {
		dhi_err_clear(&e);
		return xzalloc(sizeof(char *));
	}
	v = xzalloc((LINT_MAX_ARGS + 1) * sizeof(char *));
	for (size_t off = 0; off < len && n < LINT_MAX_ARGS; off += strlen(buf + off) + 1)
		v[n++] = xstrdup(buf + off);
	return v;
}

static int input_from_target(const struct lint_opts *lo, struct lint_input *in, struct rt_target *rt,
			     struct ns_target *t, struct dhi_err **err)
{
	dhi_autofree char *bundle = NULL;
	json_t *j = NULL;

	if (geteuid() != 0)
		return dhi_err_set(err, 0, "must run as root (it reads the target's files)");
	struct rt_opts ro = lo->ro;

	ro.stopped = true;
	if (rt_resolve(lo->target, &ro, rt, err) < 0)
		return -1;
	/*
	 * A stopped or created container (one that fails at start is the one to
	 * lint): its files through the holder a session would get, read-only
	 * to us; the root fd keeps them once the holder is gone.
	 */
	if (rt->exited) {
		struct image_target holder = { -1, -1 };
		int r;

		if (stopped_target_start(false, false, &holder, rt, err) < 0)
			return -1;
		r = ns_target_open(rt->pid, 0, t, err) < 0 ||
		    ns_target_open_root(t, &in->rootfd, err) < 0 ? -1 : 0;
		image_target_stop(&holder);
		if (r < 0) {
			dhi_autofree char *label = rt_target_label(rt);

			return dhi_err_prefix(err, "container `%s`", label);
		}
	} else if (ns_target_open(rt->pid, rt->start_time, t, err) < 0 ||
		   ns_target_open_root(t, &in->rootfd, err) < 0) {
		dhi_autofree char *label = rt_target_label(rt);

		return dhi_err_prefix(err, "container `%s`", label);
	}
	/* its files would be the host's */
	if (!rt->exited &&
	    session_check_host(lo->allow_host, lo->quiet, t, rt, &(bool){ false }, err) < 0)
		return -1;
	if (rt->image_ref)
		in->ref = xstrdup(rt->image_ref);
	if (rt->image_digest)
		in->digest = xstrdup(rt->image_digest);
	/*
	 * runc and crun keep the OCI config in the bundle: process.args is what
	 * was asked for (a script's name, where /proc shows its interpreter).
	 */
	if ((!strcmp(rt->runtime, "runc") || !strcmp(rt->runtime, "crun")) &&
	    (bundle = oci_bundle(rt, lo))) {
		dhi_autoclose int bfd = open(bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
		struct dhi_err *e = NULL;

		if (bfd >= 0 && read_json_file(bfd, "config.json", &j, &e) == 0) {
			json_t *p = json_object_get(j, "process");
			json_t *uid = json_object_get(json_object_get(p, "user"), "uid");

			in->args = json_strv(json_object_get(p, "args"), LINT_MAX_ARGS);
			in->env = json_strv(json_object_get(p, "env"), 1024);
			in->user = xasprintf("%lld", json_is_integer(uid) ? json_integer_value(uid) : 0);
			if (json_string_value(json_object_get(p, "cwd")))
				in->cwd = xstrdup(json_string_value(json_object_get(p, "cwd")));
			in->source = "the bundle's config.json";
			json_decref(j);
			return 0;
		}
		/* the bundle's owner may have put anything there: the next source, said so */
		if (e && e->errnum != ENOENT && !lo->quiet) {
			dhi_autofree char *why = dhi_err_string(e), *dir = dhi_printable(bundle);

			fprintf(stderr, "dhidebug: notice: bundle `%s`: %s (taken as missing)\n", dir,
				why);
		}
		dhi_err_clear(&e);
	}
	/* docker and podman: the engine's record of it (a script by its name, not its interpreter) */
	if (rt->proc && rt->proc->args) {
		in->args = strv_dup(rt->proc->args);
		in->env = strv_dup(rt->proc->env);
		in->user = xstrdup(rt->proc->user ? rt->proc->user : "");
		if (rt->proc->cwd)
			in->cwd = xstrdup(rt->proc->cwd);
		in->source = "the engine's container inspect";
		return 0;
	}
	/* other runtimes: what the process runs, as the kernel shows it */
	if (rt->exited) {
		dhi_autofree char *label = rt_target_label(rt);

		return dhi_err_set(err, 0, "container `%s` is not running and its runtime records "
				   "no command line for it", label);
	}
	in->args = proc_strv(t->procfd, "cmdline");
	in->env = proc_strv(t->procfd, "environ");
	{
		dhi_autofree char *buf = NULL;
		size_t len = 0;
		char *u;

		if (fd_read_proc_at(t->procfd, "status", 1u << 16, &buf, &len, err) < 0)
			return dhi_err_prefix(err, "cannot read the status of pid %d", (int)rt->pid);
		u = strstr(buf, "\nUid:");
		in->user = xasprintf("%u", u ? (unsigned)strtoul(u + 5, NULL, 10) : 0);
	}
	in->source = "/proc";
	return 0;
}

static void input_free(struct lint_input *in)
{
	dhi_close_reset(&in->rootfd);
	strv_free(in->args);
	strv_free(in->env);
	free(in->user);
	free(in->cwd);
	free(in->ref);
	free(in->digest);
}

static int report_print(const struct report *r, const char *target, const struct lint_input *in,
			bool json, FILE *out)
{
	size_t failed = 0, warned = 0, passed = 0;

	for (size_t i = 0; i < r->n; i++) {
		failed += r->f[i].v == V_FAIL;
		warned += r->f[i].v == V_WARN;
		passed += r->f[i].v == V_PASS;
	}
	if (json) {
		json_t *o = json_object(), *a = json_array();
		char *s;

		json_object_set_new(o, "target", json_string(target));
		json_object_set_new(o, "source", json_string(in->source));
		json_object_set_new(o, "digest", in->digest ? json_string(in->digest) : json_null());
		for (size_t i = 0; i < r->n; i++) {
			json_t *c = json_object();

			json_object_set_new(c, "check", json_string(r->f[i].check));
			json_object_set_new(c, "verdict", json_string(verdict_names[r->f[i].v]));
			/* strings from the image may be any bytes: never invalid UTF-8 out */
			json_object_set_new(c, "message", json_string(r->f[i].msg) ?: json_string("?"));
			json_object_set_new(c, "hint", r->f[i].hint ? (json_string(r->f[i].hint) ?: json_string("?"))
								    : json_null());
			json_array_append_new(a, c);
		}
		json_object_set_new(o, "checks", a);
		json_object_set_new(o, "failed", json_integer((json_int_t)failed));
		s = json_dumps(o, JSON_INDENT(2));
		fprintf(out, "%s\n", s);
		free(s);
		json_decref(o);
	} else {
		fprintf(out, "%s (%s)\n", target, in->source);
		for (size_t i = 0; i < r->n; i++) {
			const char *v = verdict_names[r->f[i].v];

			fprintf(out, "%-4s  %-10s  %s\n", v, r->f[i].check, r->f[i].msg);
			if (r->f[i].hint && r->f[i].v != V_PASS)
				fprintf(out, "      %-10s  fix: %s\n", "", r->f[i].hint);
		}
		fprintf(out, "%zu failed, %zu warnings, %zu passed\n", failed, warned, passed);
	}
	return failed ? 1 : 0;
}

int lint_run(const struct lint_opts *lo, FILE *out, struct dhi_err **err)
{
	struct lint_input in = { .rootfd = -1 };
	struct rt_target rt = { 0 };
	struct ns_target t = { .pidfd = -1, .procfd = -1 };
	struct report r = { .n = 0 };
	bool is_image = !strncmp(lo->target, "image://", 8);
	int ret;

	ret = is_image ? input_from_image(lo, lo->target + 8, &in, err)
		       : input_from_target(lo, &in, &rt, &t, err);
	if (ret == 0) {
		check_entrypoint(&r, &in);
		check_user(&r, &in);
		check_ref(&r, &in);
		ret = report_print(&r, lo->target, &in, lo->json, out);
	}
	for (size_t i = 0; i < r.n; i++) {
		free(r.f[i].msg);
		free(r.f[i].hint);
	}
	input_free(&in);
	if (!is_image) {
		ns_target_close(&t);
		if (rt.runtime)
			rt_target_free(&rt);
	}
	return ret;
}
