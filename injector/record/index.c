// SPDX-License-Identifier: Apache-2.0
/* index.c - the sessions folder's summary cache `.index` for `sessions ls` and `grep`
 * (docs/recording.md, "The summary cache"). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/xalloc.h"
#include "injector/record/sessions.h"

#define INDEX_NAME ".index"
#define INDEX_MAGIC "dhidebug-sessions-index 1\n"
/* What a cache of some 100,000 sessions takes, with room; a larger file is not read. */
#define INDEX_MAX ((size_t)512 << 20)
/*
 * A file changed less than this long ago is not cached: a second change within the file
 * system's timestamp granularity (a jiffy on ext4, a second or two elsewhere) can leave size,
 * mtime and ctime as they were (git's "racily clean" index entries are the same problem).
 */
#define RACY_NS (2LL * 1000000000LL)

/*
 * One line per session, sorted by id: ID TAB KEY TAB ROW TAB JSON. KEY is what identifies
 * the two files' content (device, inode, size, mtime and ctime of audit.jsonl, then of
 * session.cast), ROW the `sessions ls` line, JSON the summary the filters and --json read.
 */
struct entry {
	const char *line;	/* in the loaded text, or `own` */
	size_t len;		/* without the newline */
	size_t idlen;
	char *own;
	bool seen;		/* got or put by this run */
};

struct sessions_index {
	char *text;
	struct entry *v;
	size_t n, cap;
	bool dirty;
};

static long long ns_of(const struct timespec *t)
{
	return (long long)t->tv_sec * 1000000000LL + t->tv_nsec;
}

static void key_of(const struct stat *a, const struct stat *c, char *buf, size_t size)
{
	snprintf(buf, size, "%llu,%llu,%lld,%lld,%lld,%llu,%llu,%lld,%lld,%lld",
		 (unsigned long long)a->st_dev, (unsigned long long)a->st_ino, (long long)a->st_size,
		 ns_of(&a->st_mtim), ns_of(&a->st_ctim), (unsigned long long)c->st_dev,
		 (unsigned long long)c->st_ino, (long long)c->st_size, ns_of(&c->st_mtim),
		 ns_of(&c->st_ctim));
}

/* The index of the first entry whose id is not below `id` (where it is or would go). */
static size_t find(const struct sessions_index *ix, const char *id, size_t idlen, bool *found)
{
	size_t lo = 0, hi = ix->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct entry *e = &ix->v[mid];
		int c = memcmp(e->line, id, e->idlen < idlen ? e->idlen : idlen);

		if (c == 0)
			c = e->idlen < idlen ? -1 : e->idlen > idlen ? 1 : 0;
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

static void insert_at(struct sessions_index *ix, size_t at, struct entry e)
{
	if (ix->n == ix->cap) {
		ix->cap = ix->cap ? ix->cap * 2 : 1024;
		ix->v = xrealloc(ix->v, ix->cap * sizeof(*ix->v));
	}
	memmove(&ix->v[at + 1], &ix->v[at], (ix->n - at) * sizeof(*ix->v));
	ix->v[at] = e;
	ix->n++;
}

/* Splits an entry's line at its tabs: the four fields, or false when it has not four. */
static bool fields(const struct entry *e, const char *f[4], size_t l[4])
{
	const char *p = e->line, *end = e->line + e->len;

	for (int i = 0; i < 4; i++) {
		const char *tab = i < 3 ? memchr(p, '\t', (size_t)(end - p)) : end;

		if (!tab)
			return false;
		f[i] = p;
		l[i] = (size_t)(tab - p);
		p = tab + 1;
	}
	return true;
}

struct sessions_index *sessions_index_load(int dirfd)
{
	struct sessions_index *ix = xzalloc(sizeof(*ix));
	dhi_autoclose int fd = -1;
	struct dhi_err *err = NULL;
	struct stat st;
	size_t len;

	if (dirfd < 0)
		return ix;
	fd = openat(dirfd, INDEX_NAME, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	/* only our own file, and nobody else's to write: else as if there were none */
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077) || (size_t)st.st_size > INDEX_MAX)
		return ix;
	if (fd_read_file(fd, INDEX_MAX, &ix->text, &len, &err) < 0) {
		/* a cache that cannot be read is rebuilt */
		dhi_err_clear(&err);
		return ix;
	}
	if (len < strlen(INDEX_MAGIC) || memcmp(ix->text, INDEX_MAGIC, strlen(INDEX_MAGIC)) != 0)
		return ix;
	for (const char *p = ix->text + strlen(INDEX_MAGIC), *end = ix->text + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		struct entry e = { .line = p, .len = nl ? (size_t)(nl - p) : (size_t)(end - p) };
		const char *tab = memchr(p, '\t', e.len);
		const char *f[4];
		size_t l[4];
		bool dup;

		p += e.len + 1;
		e.idlen = tab ? (size_t)(tab - e.line) : 0;
		if (!nl || !tab || e.idlen == 0 || !fields(&e, f, l)) {
			ix->dirty = true;
			continue;
		}
		/* written sorted: appending is the rule, a lookup only checks the order */
		if (ix->n == 0 || find(ix, e.line, e.idlen, &dup) == ix->n)
			insert_at(ix, ix->n, e);
		else
			ix->dirty = true;
	}
	return ix;
}

bool sessions_index_get(struct sessions_index *ix, const char *id, const struct stat *audit,
			const struct stat *cast, struct sessions_index_hit *hit)
{
	char key[256];
	const char *f[4];
	size_t l[4], at;
	bool found;

	at = find(ix, id, strlen(id), &found);
	if (!found || !fields(&ix->v[at], f, l))
		return false;
	key_of(audit, cast, key, sizeof(key));
	if (l[1] != strlen(key) || memcmp(f[1], key, l[1]) != 0)
		return false;
	ix->v[at].seen = true;
	hit->row = f[2];
	hit->row_len = l[2];
	hit->json = f[3];
	hit->json_len = l[3];
	return true;
}

static bool is_plain(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

void sessions_index_put(struct sessions_index *ix, const char *id, const struct stat *audit,
			const struct stat *cast, const char *row, json_t *summary)
{
	struct timespec now;
	long long newest = ns_of(&audit->st_ctim) > ns_of(&cast->st_ctim) ? ns_of(&audit->st_ctim)
									   : ns_of(&cast->st_ctim);
	dhi_autofree char *text = json_dumps(summary, JSON_COMPACT);
	char key[256];
	bool found;
	size_t at = find(ix, id, strlen(id), &found);

	clock_gettime(CLOCK_REALTIME, &now);
	/* racy, or a name or row that a line cannot hold (JSON_COMPACT escapes its own) */
	if (ns_of(&now) - newest < RACY_NS || !text || !*id || !is_plain(id) || !is_plain(row)) {
		if (found) {
			free(ix->v[at].own);
			memmove(&ix->v[at], &ix->v[at + 1], (ix->n - at - 1) * sizeof(*ix->v));
			ix->n--;
			ix->dirty = true;
		}
		return;
	}
	key_of(audit, cast, key, sizeof(key));
	{
		struct entry e = { .idlen = strlen(id), .seen = true };

		e.own = xasprintf("%s\t%s\t%s\t%s", id, key, row, text);
		e.line = e.own;
		e.len = strlen(e.own);
		if (found) {
			free(ix->v[at].own);
			ix->v[at] = e;
		} else {
			insert_at(ix, at, e);
		}
	}
	ix->dirty = true;
}

void sessions_index_save(struct sessions_index *ix, int dirfd, bool prune)
{
	dhi_autofclose FILE *f = NULL;
	char tmp[64];
	struct stat st;
	bool ok;
	int fd;

	for (size_t i = 0; prune && i < ix->n; i++)
		ix->dirty |= !ix->v[i].seen;
	/*
	 * Only into a folder that is ours and nobody else's to write; a cache that cannot be
	 * written is not an error (the next run verifies again).
	 */
	if (!ix->dirty || dirfd < 0 || fstat(dirfd, &st) < 0 || st.st_uid != geteuid() ||
	    (st.st_mode & 022))
		return;
	snprintf(tmp, sizeof(tmp), INDEX_NAME ".%ld.tmp", (long)getpid());
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		(void)unlinkat(dirfd, tmp, 0);
		return;
	}
	fputs(INDEX_MAGIC, f);
	for (size_t i = 0; i < ix->n; i++) {
		if (prune && !ix->v[i].seen)
			continue;
		fwrite(ix->v[i].line, 1, ix->v[i].len, f);
		fputc('\n', f);
	}
	ok = fflush(f) == 0 && !ferror(f);
	ok &= fclose(f) == 0;
	f = NULL;
	if (!ok || renameat(dirfd, tmp, dirfd, INDEX_NAME) < 0)
		(void)unlinkat(dirfd, tmp, 0);
}

void sessions_index_free(struct sessions_index *ix)
{
	if (!ix)
		return;
	for (size_t i = 0; i < ix->n; i++)
		free(ix->v[i].own);
	free(ix->v);
	free(ix->text);
	free(ix);
}
