// SPDX-License-Identifier: Apache-2.0
/* osrelease.c - parse os-release(5) text; input may come from a hostile container. */
#include "common/osrelease.h"

#include <stdio.h>
#include <string.h>

/* Copies a value, dropping one level of '…' or "…" quoting and any control bytes. */
static void copy_value(const char *v, size_t n, char *dst, size_t dstlen)
{
	size_t o = 0;

	if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
		v++;
		n -= 2;
	}
	for (size_t i = 0; i < n && o + 1 < dstlen; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c == '\\' && i + 1 < n)
			c = (unsigned char)v[++i];
		if (c < 0x20 || c == 0x7f)
			continue;
		dst[o++] = (char)c;
	}
	dst[o] = '\0';
}

void os_release_parse(const char *buf, size_t len, struct os_release *out)
{
	const char *p = buf, *end = buf + len;

	memset(out, 0, sizeof(*out));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		const char *eq = memchr(p, '=', (size_t)(eol - p));

		if (eq) {
			size_t klen = (size_t)(eq - p);
			const char *v = eq + 1;
			size_t vlen = (size_t)(eol - v);

			if (vlen && v[vlen - 1] == '\r')
				vlen--;
			if (klen == 2 && memcmp(p, "ID", 2) == 0)
				copy_value(v, vlen, out->id, sizeof(out->id));
			else if (klen == 10 && memcmp(p, "VERSION_ID", 10) == 0)
				copy_value(v, vlen, out->version_id, sizeof(out->version_id));
		}
		p = eol + 1;
	}
}

/* The length of the first two dot-separated parts of a version: "3.21" of "3.21.3". */
static size_t major_minor(const char *v)
{
	const char *dot = strchr(v, '.');

	if (dot && (dot = strchr(dot + 1, '.')))
		return (size_t)(dot - v);
	return strlen(v);
}

int os_release_same(const struct os_release *a, const struct os_release *b)
{
	size_t na = major_minor(a->version_id), nb = major_minor(b->version_id);

	return a->id[0] && b->id[0] && strcmp(a->id, b->id) == 0 && na == nb &&
	       strncmp(a->version_id, b->version_id, na) == 0;
}

void os_release_describe(const struct os_release *o, char *buf, size_t len)
{
	if (!o->id[0])
		snprintf(buf, len, "of no known distribution (no os-release ID)");
	else
		snprintf(buf, len, "%s %s", o->id, o->version_id[0] ? o->version_id : "(no VERSION_ID)");
}
