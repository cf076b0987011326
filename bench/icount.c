// SPDX-License-Identifier: Apache-2.0
/*
 * icount: count the user-space instructions a command and every process it forks or execs
 * execute, one ptrace single-step each, and attribute each to a phase by the function it runs
 * in, for bench/phases. valgrind's callgrind would do the counting, but the Debian 12 valgrind
 * (3.19) answers ENOSYS to open_tree, move_mount, mount_setattr and the other mount API calls
 * an attach is made of, and dhidebug stops there; a tracer runs every call natively.
 *
 *   icount -m MAP -o OUT [-s SYSCALLS] -- COMMAND [ARG...]
 *
 * MAP has one line per tracked function: `FUNCTION PHASE [after=P2] [child=P3] [parent=P4]`. An
 * instruction counts to the phase of the innermost tracked function on its thread's stack
 * (entered at the symbol's address, left when the return address read at entry is reached
 * with the stack above the entry's), or outside all of them to the thread's base phase,
 * `start-up` at first. PHASE `-` names the function in the output but counts it to its
 * caller's phase (a library function several phases call). after=P2: once FUNCTION has
 * returned, its caller's own instructions count to P2 (`main start-up after=exit`: the exit
 * handlers are exit). child=P3: in a child forked while FUNCTION was the innermost,
 * FUNCTION's own instructions count to P3 (what the compiler inlined there is the child's
 * work); parent=P4: the same in the parent, after the fork. A fork or vfork child gets a copy
 * of its parent's stack, a thread its creator's phase as its base. Functions are looked up
 * (ELF .symtab, so static functions the compiler inlined count to their caller) in the
 * command's own executable only; an image exec'd later (another program, a memfd) counts
 * whole to the phase its exec was called in.
 *
 * OUT gets one tab-separated line per process image, phase and function:
 *   PROC  PARENT  IMAGE  PHASE  FUNCTION  COUNT
 * PROC is the process's path in the tree (1 the command, 1.2 its second child or thread,
 * and so on, in the order they were created), the same from run to run whatever the pids;
 * FUNCTION is the innermost tracked function, or `-` for the base phase. SYSCALLS, when
 * given, gets `PROC PHASE NR` for every system call made, in order (bench/phases lines an
 * strace of another run up against it).
 *
 * The command's exit status is icount's; 125 when the tracing itself fails.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_NAMES 256
#define MAX_DEPTH 512

struct entry {
	uint64_t addr;
	int name;		/* index into names[] */
};

struct frame {
	uint64_t ret, sp;
	int name, phase;	/* the phase of the function's own instructions, now */
};

/* one executable image of a process: its counts, kept when the process execs another */
struct image {
	char proc[64], parent[64], exe[128];
	uint64_t *count;	/* [phase * (MAX_NAMES + 1) + name + 1] */
	bool tracked;		/* the command's own executable: functions are looked up */
	struct image *next;
};

struct task {
	pid_t pid;
	char proc[64];
	int children;		/* forks and threads created so far, for their paths */
	bool pending;		/* stopped before its creator's event said whose it is */
	bool known;		/* its creator's event has come */
	int base;		/* phase outside every tracked function */
	int depth;
	struct frame stack[MAX_DEPTH];
	struct image *img;
	struct entry *ent;	/* this image's entry points, sorted, or NULL */
	size_t nent;
	struct task *next;
};

static const char *names[MAX_NAMES];	/* tracked functions */
static int name_phase[MAX_NAMES], name_after[MAX_NAMES], name_child[MAX_NAMES],
	name_parent[MAX_NAMES], nnames;
static const char *phases[32];
static int nphases;
static struct task *tasks;
static struct image *images;
static char tracked_exe[4096];
static FILE *sysout;

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("icount: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(125);
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (!p)
		die("out of memory");
	return p;
}

static int phase_id(const char *name)
{
	for (int i = 0; i < nphases; i++)
		if (strcmp(phases[i], name) == 0)
			return i;
	if (nphases == (int)(sizeof(phases) / sizeof(phases[0])))
		die("too many phases");
	phases[nphases] = strdup(name);
	return nphases++;
}

static void read_map(const char *path)
{
	char line[512], fn[256], ph[64], opt[3][64];
	FILE *f = fopen(path, "re");

	if (!f)
		die("%s: %s", path, strerror(errno));
	phase_id("start-up");
	while (fgets(line, sizeof(line), f)) {
		int n;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		n = sscanf(line, "%255s %63s %63s %63s %63s", fn, ph, opt[0], opt[1], opt[2]);
		if (n < 2)
			die("%s: `%s` is not FUNCTION PHASE [after=P] [child=P] [parent=P]", path,
			    line);
		if (nnames == MAX_NAMES)
			die("%s: too many functions", path);
		names[nnames] = strdup(fn);
		name_phase[nnames] = strcmp(ph, "-") == 0 ? -1 : phase_id(ph);
		name_after[nnames] = name_child[nnames] = name_parent[nnames] = -1;
		for (int i = 0; i < n - 2; i++) {
			if (strncmp(opt[i], "after=", 6) == 0)
				name_after[nnames] = phase_id(opt[i] + 6);
			else if (strncmp(opt[i], "child=", 6) == 0)
				name_child[nnames] = phase_id(opt[i] + 6);
			else if (strncmp(opt[i], "parent=", 7) == 0)
				name_parent[nnames] = phase_id(opt[i] + 7);
			else
				die("%s: `%s`: after=, child= or parent=PHASE", path, opt[i]);
		}
		nnames++;
	}
	fclose(f);
}

static int cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* The load bias of the image /proc/PID/exe names: its mapping at file offset 0. */
static uint64_t load_bias(pid_t pid, const Elf64_Ehdr *eh)
{
	char path[64], line[4608];
	struct stat st;
	uint64_t lo = 0, bias = 0;
	FILE *f;

	if (eh->e_type != ET_DYN)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	if (stat(path, &st) < 0)
		die("stat %s: %s", path, strerror(errno));
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		die("%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		unsigned long long start, off, ino;

		if (sscanf(line, "%llx-%*x %*s %llx %*s %llu", &start, &off, &ino) == 3 &&
		    ino == (unsigned long long)st.st_ino && off == 0) {
			lo = start;
			break;
		}
	}
	fclose(f);
	if (!lo)
		die("no mapping of pid %d's executable", pid);
	/* the first PT_LOAD's vaddr (0 for a PIE) lies at the mapping of offset 0 */
	for (int i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = (const void *)((const char *)eh + eh->e_phoff) + i;

		if (ph->p_type == PT_LOAD) {
			bias = lo - (ph->p_vaddr & ~(uint64_t)0xfff);
			break;
		}
	}
	return bias;
}

/* The tracked functions' entry points in PID's executable (the command's own). */
static void load_entries(struct task *t)
{
	char path[64];
	struct stat st;
	const Elf64_Ehdr *eh;
	const Elf64_Shdr *sh;
	uint64_t bias;
	size_t cap = 64;
	void *m;
	int fd;

	t->ent = NULL;
	t->nent = 0;
	snprintf(path, sizeof(path), "/proc/%d/exe", t->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		die("%s: %s", path, strerror(errno));
	m = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		die("mmap %s: %s", path, strerror(errno));
	eh = m;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64)
		die("%s is not a 64-bit ELF file", path);
	bias = load_bias(t->pid, eh);
	sh = (const void *)((const char *)m + eh->e_shoff);
	t->ent = xcalloc(cap, sizeof(*t->ent));
	for (int i = 0; i < eh->e_shnum; i++) {
		const Elf64_Sym *sym;
		const char *str;
		size_t n;

		if (sh[i].sh_type != SHT_SYMTAB)
			continue;
		sym = (const void *)((const char *)m + sh[i].sh_offset);
		str = (const char *)m + sh[sh[i].sh_link].sh_offset;
		n = sh[i].sh_size / sizeof(*sym);
		for (size_t j = 0; j < n; j++) {
			if (ELF64_ST_TYPE(sym[j].st_info) != STT_FUNC || !sym[j].st_value)
				continue;
			for (int k = 0; k < nnames; k++) {
				if (strcmp(str + sym[j].st_name, names[k]) != 0)
					continue;
				if (t->nent == cap) {
					cap *= 2;
					t->ent = realloc(t->ent, cap * sizeof(*t->ent));
					if (!t->ent)
						die("out of memory");
				}
				t->ent[t->nent++] = (struct entry){ sym[j].st_value + bias, k };
			}
		}
	}
	munmap(m, st.st_size);
	if (!t->nent)
		fprintf(stderr, "icount: none of the map's functions is in %s (no .symtab?)\n",
			tracked_exe);
	qsort(t->ent, t->nent, sizeof(*t->ent), cmp_entry);
}

static struct image *image_new(struct task *t, const char *parent)
{
	struct image *img = xcalloc(1, sizeof(*img));
	char path[64], exe[4096];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/exe", t->pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	snprintf(img->proc, sizeof(img->proc), "%s", t->proc);
	snprintf(img->parent, sizeof(img->parent), "%s", parent);
	snprintf(img->exe, sizeof(img->exe), "%.*s", (int)sizeof(img->exe) - 1,
		 strrchr(exe, '/') ? strrchr(exe, '/') + 1 : exe);
	img->tracked = strcmp(exe, tracked_exe) == 0;
	img->count = xcalloc((size_t)32 * (MAX_NAMES + 1), sizeof(uint64_t));
	img->next = images;
	images = img;
	return img;
}

static struct task *task_find(pid_t pid)
{
	static struct task *last;

	if (last && last->pid == pid)
		return last;
	for (struct task *t = tasks; t; t = t->next)
		if (t->pid == pid)
			return last = t;
	return NULL;
}

static struct task *task_new(pid_t pid)
{
	struct task *t = xcalloc(1, sizeof(*t));

	t->pid = pid;
	t->next = tasks;
	tasks = t;
	return t;
}

static void task_free(struct task *t)
{
	for (struct task **p = &tasks; *p; p = &(*p)->next) {
		if (*p == t) {
			*p = t->next;
			break;
		}
	}
	free(t);
}

static int cur_phase(const struct task *t)
{
	return t->depth ? t->stack[t->depth - 1].phase : t->base;
}

/*
 * After a fork, the forking function's own instructions are the child's part (child=) or the
 * parent's (parent=): the innermost frame with a phase of its own (fork itself may be `-`).
 */
static void forked(struct task *t, const int *rule)
{
	for (int i = t->depth - 1; i >= 0; i--) {
		int nm = t->stack[i].name;

		if (name_phase[nm] < 0)
			continue;
		if (rule[nm] >= 0)
			t->stack[i].phase = rule[nm];
		break;
	}
}

/* A new process or thread, from its creator's state. */
static void task_from(struct task *child, struct task *parent, bool thread)
{
	struct image *pimg = parent->img;

	snprintf(child->proc, sizeof(child->proc), "%.48s.%d", parent->proc,
		 ++parent->children);
	if (thread) {
		child->base = cur_phase(parent);
		child->depth = 0;
	} else {
		child->base = parent->base;
		child->depth = parent->depth;
		memcpy(child->stack, parent->stack, sizeof(parent->stack[0]) * parent->depth);
		forked(child, name_child);
		forked(parent, name_parent);
	}
	child->img = image_new(child, parent->proc);
	/* the same executable: the same entry points (a fork shares the layout) */
	child->ent = parent->ent;
	child->nent = parent->nent;
	child->img->tracked = pimg->tracked;
	child->known = true;
}

static void step(pid_t pid, int sig)
{
	if (ptrace(PTRACE_SINGLESTEP, pid, 0, (void *)(long)sig) < 0 && errno != ESRCH)
		die("PTRACE_SINGLESTEP %d: %s", pid, strerror(errno));
}

static const struct entry *entry_at(const struct task *t, uint64_t rip)
{
	size_t lo = 0, hi = t->nent;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (t->ent[mid].addr < rip)
			lo = mid + 1;
		else if (t->ent[mid].addr > rip)
			hi = mid;
		else
			return &t->ent[mid];
	}
	return NULL;
}

/* One instruction about to run at regs' rip: account for it. */
static void account(struct task *t, const struct user_regs_struct *r)
{
	int name;

	if (t->nent) {
		const struct entry *e;

		/* returns first: a tail call enters the next function at the same return address */
		while (t->depth && r->rip == t->stack[t->depth - 1].ret &&
		       r->rsp > t->stack[t->depth - 1].sp) {
			int left = t->stack[--t->depth].name;

			/* what its caller does after it belongs to another phase */
			if (name_after[left] >= 0 && t->depth)
				t->stack[t->depth - 1].phase = name_after[left];
			else if (name_after[left] >= 0)
				t->base = name_after[left];
		}
		e = entry_at(t, r->rip);
		if (e && t->depth < MAX_DEPTH) {
			long ret;

			/* a symbol may have aliases: the first entry of that address will do */
			errno = 0;
			ret = ptrace(PTRACE_PEEKDATA, t->pid, (void *)r->rsp, 0);
			if (errno == 0) {
				int ph = name_phase[e->name];

				/* `-`: named in the function column, counted to the caller's phase */
				t->stack[t->depth] = (struct frame){ (uint64_t)ret, r->rsp, e->name,
								     ph >= 0 ? ph : cur_phase(t) };
				t->depth++;
			}
		}
	}
	name = t->depth ? t->stack[t->depth - 1].name : -1;
	t->img->count[(size_t)cur_phase(t) * (MAX_NAMES + 1) + name + 1]++;
	/* the instruction that just ran was a system call (orig_rax is -1 after a trap) */
	if (sysout && (long long)r->orig_rax >= 0)
		fprintf(sysout, "%s\t%s\t%lld\n", t->proc, phases[cur_phase(t)],
			(long long)r->orig_rax);
}

static void write_out(const char *path)
{
	FILE *f = fopen(path, "we");

	if (!f)
		die("%s: %s", path, strerror(errno));
	for (struct image *img = images; img; img = img->next)
		for (int p = 0; p < nphases; p++)
			for (int n = -1; n < nnames; n++) {
				uint64_t c = img->count[(size_t)p * (MAX_NAMES + 1) + n + 1];

				if (c)
					fprintf(f, "%s\t%s\t%s\t%s\t%s\t%llu\n", img->proc,
						img->parent[0] ? img->parent : "-", img->exe,
						phases[p], n < 0 ? "-" : names[n],
						(unsigned long long)c);
			}
	if (fclose(f) != 0)
		die("%s: %s", path, strerror(errno));
}

int main(int argc, char **argv)
{
	const char *map = NULL, *out = NULL, *sys = NULL;
	int opt, status, code = 125;
	pid_t child, pid;
	struct task *t;

	while ((opt = getopt(argc, argv, "+m:o:s:")) != -1) {
		switch (opt) {
		case 'm':
			map = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 's':
			sys = optarg;
			break;
		default:
			goto usage;
		}
	}
	/* getopt has taken the `--` */
	if (!map || !out || optind >= argc || strcmp(argv[optind - 1], "--") != 0) {
usage:
		fputs("usage: icount -m MAP -o OUT [-s SYSCALLS] -- COMMAND [ARG...]\n", stderr);
		return 2;
	}
	read_map(map);
	if (sys && !(sysout = fopen(sys, "we")))
		die("%s: %s", sys, strerror(errno));
	argv += optind;

	child = fork();
	if (child < 0)
		die("fork: %s", strerror(errno));
	if (child == 0) {
		if (ptrace(PTRACE_TRACEME, 0, 0, 0) < 0)
			_exit(126);
		execvp(argv[0], argv);
		fprintf(stderr, "icount: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	/* stopped with SIGTRAP after its exec */
	if (waitpid(child, &status, 0) != child || !WIFSTOPPED(status))
		die("%s did not start", argv[0]);
	if (ptrace(PTRACE_SETOPTIONS, child, 0,
		   (void *)(long)(PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE |
				  PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL)) < 0)
		die("PTRACE_SETOPTIONS: %s", strerror(errno));
	{
		char path[64];
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/%d/exe", child);
		n = readlink(path, tracked_exe, sizeof(tracked_exe) - 1);
		if (n <= 0)
			die("%s: %s", path, strerror(errno));
		tracked_exe[n] = '\0';
	}
	t = task_new(child);
	snprintf(t->proc, sizeof(t->proc), "1");
	t->known = true;
	t->img = image_new(t, "");
	load_entries(t);
	step(child, 0);

	while ((pid = waitpid(-1, &status, __WALL)) > 0) {
		struct user_regs_struct regs;
		unsigned event = (unsigned)status >> 16;

		t = task_find(pid);
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			if (pid == child)
				code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
			if (t)
				task_free(t);
			continue;
		}
		if (!WIFSTOPPED(status))
			continue;
		if (!t) {
			/* a new tracee stopped before its creator's event: wait for that */
			t = task_new(pid);
			t->pending = true;
			continue;
		}
		if (!t->known) {
			/* its creator's event came first; this is its initial stop */
			t->known = true;
			step(pid, 0);
			continue;
		}
		if (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK ||
		    event == PTRACE_EVENT_CLONE) {
			unsigned long msg;
			struct task *c;
			bool thread = false;

			if (ptrace(PTRACE_GETEVENTMSG, pid, 0, &msg) < 0)
				die("PTRACE_GETEVENTMSG: %s", strerror(errno));
			if (event == PTRACE_EVENT_CLONE) {
				/* CLONE_THREAD: the new task shares the thread group */
				char path[64], line[128];
				FILE *f;
				long tgid = 0;

				snprintf(path, sizeof(path), "/proc/%lu/status", msg);
				if ((f = fopen(path, "re"))) {
					while (fgets(line, sizeof(line), f))
						if (sscanf(line, "Tgid: %ld", &tgid) == 1)
							break;
					fclose(f);
				}
				thread = tgid != (long)msg;
			}
			c = task_find((pid_t)msg);
			if (c && c->pending) {
				task_from(c, t, thread);
				c->pending = false;
				step(c->pid, 0);
			} else if (!c) {
				c = task_new((pid_t)msg);
				task_from(c, t, thread);
				c->known = false;	/* its initial stop is still to come */
			}
			step(pid, 0);
			continue;
		}
		if (event == PTRACE_EVENT_EXEC) {
			/* a new image: what it runs counts to the phase its exec was called in */
			char parent[64];

			snprintf(parent, sizeof(parent), "%s", t->img->parent);
			t->base = cur_phase(t);
			t->depth = 0;
			t->img = image_new(t, parent);
			if (t->img->tracked)
				load_entries(t);
			else
				t->nent = 0;
			step(pid, 0);
			continue;
		}
		if (event) {
			/* PTRACE_EVENT_STOP and the like: nothing to count */
			step(pid, 0);
			continue;
		}
		if (WSTOPSIG(status) != SIGTRAP) {
			/* a signal for the tracee: delivered, its handler counted from the next step */
			step(pid, WSTOPSIG(status));
			continue;
		}
		if (ptrace(PTRACE_GETREGS, pid, 0, &regs) < 0) {
			if (errno == ESRCH)
				continue;
			die("PTRACE_GETREGS %d: %s", pid, strerror(errno));
		}
		account(t, &regs);
		step(pid, 0);
	}
	write_out(out);
	if (sysout && fclose(sysout) != 0)
		die("%s: %s", sys, strerror(errno));
	return code;
}
