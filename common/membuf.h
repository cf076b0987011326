/* SPDX-License-Identifier: Apache-2.0 */
/* membuf.h - a bounded byte buffer that grows as an answer arrives (HTTP bodies from libcurl). */
#ifndef DHI_MEMBUF_H
#define DHI_MEMBUF_H

#include <stdbool.h>
#include <stddef.h>

struct membuf {
	char *p;	/* NUL-terminated once anything arrived; NULL before; the caller frees */
	size_t len, cap;
	size_t max;	/* what the sender may send in all: the rest of an answer is hostile */
	bool too_big;	/* more than max was offered (nothing of it was kept) */
};

/* Appends <data, n>; false, with too_big set and nothing appended, when it would pass max. */
bool membuf_append(struct membuf *b, const void *data, size_t n);

/* CURLOPT_WRITEFUNCTION over a struct membuf: 0 (which aborts the transfer) past max. */
size_t membuf_curl_write(char *data, size_t size, size_t nmemb, void *arg);

#endif
