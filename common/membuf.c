// SPDX-License-Identifier: Apache-2.0
/* membuf.c - a bounded byte buffer that grows as an answer arrives. */
#include "common/membuf.h"

#include <string.h>

#include "common/xalloc.h"

bool membuf_append(struct membuf *b, const void *data, size_t n)
{
	if (n > b->max - b->len) {
		b->too_big = true;
		return false;
	}
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return true;
}

size_t membuf_curl_write(char *data, size_t size, size_t nmemb, void *arg)
{
	size_t n = size * nmemb;

	return membuf_append(arg, data, n) ? n : 0;
}
