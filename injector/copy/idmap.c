// SPDX-License-Identifier: Apache-2.0
/* idmap.c - parse a user namespace's uid_map and gid_map, and map an id through them. */
#include "injector/copy/idmap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/xalloc.h"

/* A decimal number of at most 10 digits, below 2^32: *p moves past it and its blanks. */
static bool number(const char **p, uint64_t *v)
{
	const char *s = *p;
	size_t n = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	*v = 0;
	for (; *s >= '0' && *s <= '9' && n < 11; s++, n++)
		*v = *v * 10 + (uint64_t)(*s - '0');
	if (n == 0 || n > 10 || *v > UINT32_MAX)
		return false;
	*p = s;
	return true;
}

int copy_idmap_parse(const char *text, struct copy_idmap_range **out, size_t *n,
		     struct dhi_err **err)
{
	struct copy_idmap_range *r = NULL;
	size_t k = 0;

	*out = NULL;
	*n = 0;
	for (const char *p = text; *p;) {
		uint64_t in, outside, count;

		if (!number(&p, &in) || !number(&p, &outside) || !number(&p, &count) ||
		    count == 0 || in + count > (uint64_t)UINT32_MAX + 1 ||
		    outside + count > (uint64_t)UINT32_MAX + 1)
			goto bad;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '\n' && *p)
			goto bad;
		if (*p)
			p++;
		if (k == COPY_IDMAP_LINES)
			goto bad;
		r = xrealloc(r, (k + 1) * sizeof(*r));
		r[k++] = (struct copy_idmap_range){ (uint32_t)in, (uint32_t)outside,
						    (uint32_t)count };
	}
	*out = r;
	*n = k;
	return 0;
bad:
	free(r);
	return dhi_err_set(err, 0, "an id map that is not lines of three numbers");
}

bool copy_idmap_is_identity(const struct copy_idmap_range *r, size_t n)
{
	/* the initial namespace's "0 0 4294967295"; what it misses (2^32-1) is never an id */
	return n == 1 && r[0].inside == 0 && r[0].outside == 0 && r[0].count >= UINT32_MAX;
}

bool copy_idmap_to_host(const struct copy_idmap_range *r, size_t n, uint32_t id, uint32_t *host)
{
	for (size_t i = 0; i < n; i++)
		if (id >= r[i].inside && (uint64_t)id - r[i].inside < r[i].count) {
			*host = r[i].outside + (id - r[i].inside);
			return true;
		}
	return false;
}

static int read_map(int procfd, const char *name, struct copy_idmap_range **out, size_t *n,
		    struct dhi_err **err)
{
	dhi_autoclose int fd = openat(procfd, name, O_RDONLY | O_CLOEXEC);
	dhi_autofree char *buf = NULL;
	size_t len;

	if (fd < 0)
		return dhi_err_set(err, errno, "cannot open the container's `%s`", name);
	if (fd_read_file(fd, 64u << 10, &buf, &len, err) < 0)
		return dhi_err_prefix(err, "the container's `%s`", name);
	if (copy_idmap_parse(buf, out, n, err) < 0)
		return dhi_err_prefix(err, "the container's `%s`", name);
	return 0;
}

int copy_idmap_read(int procfd, struct copy_idmap *m, struct dhi_err **err)
{
	memset(m, 0, sizeof(*m));
	if (read_map(procfd, "uid_map", &m->uid, &m->nuid, err) < 0)
		return -1;
	if (read_map(procfd, "gid_map", &m->gid, &m->ngid, err) < 0) {
		copy_idmap_free(m);
		return -1;
	}
	m->mapped = !copy_idmap_is_identity(m->uid, m->nuid) ||
		    !copy_idmap_is_identity(m->gid, m->ngid);
	return 0;
}

void copy_idmap_free(struct copy_idmap *m)
{
	free(m->uid);
	free(m->gid);
	memset(m, 0, sizeof(*m));
}
