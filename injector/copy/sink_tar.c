// SPDX-License-Identifier: Apache-2.0
/*
 * sink_tar.c - a copy's entries as a tar stream (POSIX pax: ustar headers, with
 * an extended header where a name, a link, a size or an id does not fit), for
 * `dhidebug cp TARGET:PATH -`. Written here rather than with libarchive: its
 * pax writer drags every other format (and their codecs) into a static link.
 */
#include "injector/copy/sink.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/xalloc.h"

#define BLOCK 512

struct tar_priv {
	int fd;
	uint64_t left;		/* bytes the current member's header declared, still to come */
	uint64_t written;	/* of the current member */
	/* -a: the next member's extended attributes, as pax records (SCHILY.xattr.NAME) */
	char *xattrs;
	size_t xattrs_len;
};

struct ustar {
	char name[100], mode[8], uid[8], gid[8], size[12], mtime[12], chksum[8], typeflag,
		linkname[100], magic[6], version[2], uname[32], gname[32], devmajor[8],
		devminor[8], prefix[155], pad[12];
};
_Static_assert(sizeof(struct ustar) == BLOCK, "a ustar header is one block");

static int put(struct tar_priv *p, const void *buf, size_t len, struct dhi_err **err)
{
	if (fd_write_all(p->fd, buf, len) < 0)
		return dhi_err_set(err, errno, "cannot write the tar stream");
	return 0;
}

static int pad(struct tar_priv *p, uint64_t len, struct dhi_err **err)
{
	static const char zero[BLOCK];
	size_t n = (size_t)((BLOCK - len % BLOCK) % BLOCK);

	return n ? put(p, zero, n, err) : 0;
}

/* `v` in octal in a field of `n` bytes (NUL-terminated); false when it does not fit */
static bool octal(char *field, size_t n, unsigned long long v)
{
	char tmp[32];
	int len = snprintf(tmp, sizeof(tmp), "%0*llo", (int)n - 1, v);

	if (len < 0 || (size_t)len >= n)
		return false;
	memcpy(field, tmp, (size_t)len + 1);
	return true;
}

/* One pax record, "<len> key=value\n", where <len> counts itself; the value may hold any byte. */
static void pax_record_bin(FILE *b, const char *key, const void *value, size_t vlen)
{
	size_t body = strlen(key) + vlen + 3, len = body + 1;

	while ((size_t)snprintf(NULL, 0, "%zu", len) + body > len)
		len++;
	fprintf(b, "%zu %s=", len, key);
	fwrite(value, 1, vlen, b);
	fputc('\n', b);
}

static void pax_record(FILE *b, const char *key, const char *value)
{
	pax_record_bin(b, key, value, strlen(value));
}

static bool ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

static void checksum(struct ustar *h)
{
	unsigned int sum = 0;
	const unsigned char *b = (const unsigned char *)h;

	memset(h->chksum, ' ', sizeof(h->chksum));
	for (size_t i = 0; i < sizeof(*h); i++)
		sum += b[i];
	snprintf(h->chksum, sizeof(h->chksum), "%06o", sum);
	h->chksum[7] = ' ';
}

static void fill(struct ustar *h, const char *name, char type, const struct stat *st,
		 uint64_t size, const char *link)
{
	memset(h, 0, sizeof(*h));
	snprintf(h->name, sizeof(h->name), "%s", name);
	octal(h->mode, sizeof(h->mode), st->st_mode & 07777);
	if (!octal(h->uid, sizeof(h->uid), st->st_uid))
		octal(h->uid, sizeof(h->uid), 0);
	if (!octal(h->gid, sizeof(h->gid), st->st_gid))
		octal(h->gid, sizeof(h->gid), 0);
	if (!octal(h->size, sizeof(h->size), size))
		octal(h->size, sizeof(h->size), 0);
	octal(h->mtime, sizeof(h->mtime),
	      st->st_mtim.tv_sec > 0 ? (unsigned long long)st->st_mtim.tv_sec : 0);
	h->typeflag = type;
	if (link)
		snprintf(h->linkname, sizeof(h->linkname), "%s", link);
	memcpy(h->magic, "ustar", 6);
	memcpy(h->version, "00", 2);
}

static int header(struct copy_sink *s, const char *rel, const struct stat *st, char type,
		  uint64_t size, const char *link, struct dhi_err **err)
{
	struct tar_priv *p = s->priv;
	dhi_autofree char *name = type == '5' ? xasprintf("%s/", rel) : xstrdup(rel);
	char *xbuf = NULL;
	size_t xlen = 0;
	FILE *x = open_memstream(&xbuf, &xlen);
	struct ustar h;
	char num[32];
	int r = 0;

	if (!x)
		return dhi_err_set(err, errno, "cannot write the tar stream");
	/* what ustar cannot say goes in a pax extended header first */
	if (strlen(name) >= sizeof(h.name) || !ascii(name))
		pax_record(x, "path", name);
	if (link && (strlen(link) >= sizeof(h.linkname) || !ascii(link)))
		pax_record(x, "linkpath", link);
	if (size > 077777777777ull) {
		snprintf(num, sizeof(num), "%llu", (unsigned long long)size);
		pax_record(x, "size", num);
	}
	if (st->st_uid > 07777777) {
		snprintf(num, sizeof(num), "%u", (unsigned)st->st_uid);
		pax_record(x, "uid", num);
	}
	if (st->st_gid > 07777777) {
		snprintf(num, sizeof(num), "%u", (unsigned)st->st_gid);
		pax_record(x, "gid", num);
	}
	snprintf(num, sizeof(num), "%lld.%09ld", (long long)st->st_mtim.tv_sec,
		 st->st_mtim.tv_nsec);
	pax_record(x, "mtime", num);
	if (p->xattrs_len)
		fwrite(p->xattrs, 1, p->xattrs_len, x);
	free(p->xattrs);
	p->xattrs = NULL;
	p->xattrs_len = 0;
	fclose(x);
	fill(&h, "PaxHeader", 'x', &(struct stat){ .st_mode = 0644, .st_mtim = st->st_mtim },
	     xlen, NULL);
	checksum(&h);
	r = put(p, &h, sizeof(h), err);
	if (r == 0)
		r = put(p, xbuf, xlen, err);
	if (r == 0)
		r = pad(p, xlen, err);
	free(xbuf);
	if (r < 0)
		return -1;
	fill(&h, name, type, st, size, link);
	checksum(&h);
	if (put(p, &h, sizeof(h), err) < 0)
		return -1;
	p->left = size;
	p->written = 0;
	return 0;
}

static int dir_begin(struct copy_sink *s, void *parent, const char *name, const char *rel,
		     const struct stat *st, void **dir, struct dhi_err **err)
{
	(void)parent;
	(void)name;
	*dir = NULL;
	return header(s, rel, st, '5', 0, NULL, err);
}

static int dir_end(struct copy_sink *s, void *dir, const struct stat *st, struct dhi_err **err)
{
	(void)s;
	(void)dir;
	(void)st;
	(void)err;
	return 0;
}

static int file_begin(struct copy_sink *s, void *parent, const char *name, const char *rel,
		      const struct stat *st, uint64_t size, void **file, struct dhi_err **err)
{
	(void)parent;
	(void)name;
	*file = s->priv;
	return header(s, rel, st, '0', size, NULL, err);
}

static int file_data(struct copy_sink *s, void *file, uint64_t off, const void *buf, size_t len,
		     struct dhi_err **err)
{
	struct tar_priv *p = s->priv;

	(void)file;
	(void)off;
	/* a file that grew since its header: the member has what the header said */
	if (len > p->left)
		len = (size_t)p->left;
	if (put(p, buf, len, err) < 0)
		return -1;
	p->left -= len;
	p->written += len;
	return 0;
}

static int file_end(struct copy_sink *s, void *file, bool ok, uint64_t size, const struct stat *st,
		    struct dhi_err **err)
{
	struct tar_priv *p = s->priv;

	(void)file;
	(void)size;
	(void)st;
	/* the walk pads a member that shrank; one cut short by an error ends the stream */
	if (!ok)
		return 0;
	return pad(p, p->written, err);
}

static int do_symlink(struct copy_sink *s, void *parent, const char *name, const char *rel,
		      const char *target, const struct stat *st, struct dhi_err **err)
{
	(void)parent;
	(void)name;
	return header(s, rel, st, '2', 0, target, err);
}

/* A hard link: a member of type 1 naming the first's member, no data. */
static int do_hardlink(struct copy_sink *s, void *parent, const char *name, const char *rel,
		       const struct copy_first *first, const struct stat *st, struct dhi_err **err)
{
	(void)parent;
	(void)name;
	return header(s, rel, st, '1', 0, first->rel, err);
}

/*
 * -a: an attribute of the next member (xattrs_first: the walk gives them
 * before the member begins), as GNU tar and libarchive read them: a pax
 * record SCHILY.xattr.NAME whose value is the attribute's bytes.
 */
static int set_xattr(struct copy_sink *s, void *handle, bool is_dir, const char *name,
		     const void *value, size_t len, struct dhi_err **err)
{
	struct tar_priv *p = s->priv;
	dhi_autofree char *key = xasprintf("SCHILY.xattr.%s", name);
	FILE *f;
	char *buf = NULL;
	size_t blen = 0;

	(void)handle;
	(void)is_dir;
	/* (a pax keyword ends at its `=`; a record, at its newline) */
	if (strpbrk(name, "=\n"))
		return dhi_err_set(err, 0, "the extended attribute `%s` cannot be named in a tar "
				   "stream", name);
	f = open_memstream(&buf, &blen);
	if (!f)
		return dhi_err_set(err, errno, "cannot write the tar stream");
	pax_record_bin(f, key, value, len);
	fclose(f);
	p->xattrs = xrealloc(p->xattrs, p->xattrs_len + blen);
	memcpy(p->xattrs + p->xattrs_len, buf, blen);
	p->xattrs_len += blen;
	free(buf);
	return 0;
}

static int tar_close(struct copy_sink *s, struct dhi_err **err)
{
	static const char end[2 * BLOCK];

	return put(s->priv, end, sizeof(end), err);
}

static const struct copy_sink_ops tar_ops = {
	.dir_begin = dir_begin,
	.dir_end = dir_end,
	.file_begin = file_begin,
	.file_data = file_data,
	.file_end = file_end,
	.symlink = do_symlink,
	.hardlink = do_hardlink,
	.xattr = set_xattr,
	.close = tar_close,
};

int sink_tar_init(struct copy_sink *s, int fd, bool archive, struct dhi_err **err)
{
	struct tar_priv *p = xzalloc(sizeof(*p));

	(void)err;
	p->fd = fd;
	*s = (struct copy_sink){ .ops = &tar_ops, .dense = true, .sized = true,
				 .archive = archive, .xattrs_first = true, .priv = p };
	return 0;
}

void sink_tar_free(struct copy_sink *s)
{
	free(((struct tar_priv *)s->priv)->xattrs);
	free(s->priv);
	s->priv = NULL;
}
