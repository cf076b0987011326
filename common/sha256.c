// SPDX-License-Identifier: Apache-2.0
/* sha256.c - SHA-256 with libcrypto's direct functions (see sha256.h for why). */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "common/sha256.h"

#include <openssl/sha.h>
#include <string.h>

_Static_assert(sizeof(SHA256_CTX) <= sizeof(((struct dhi_sha256 *)0)->state),
	       "struct dhi_sha256 holds a SHA256_CTX");

static SHA256_CTX *ctx_of(struct dhi_sha256 *h)
{
	return (SHA256_CTX *)(void *)h->state;
}

void dhi_sha256_init(struct dhi_sha256 *h)
{
	memset(h, 0, sizeof(*h));
	SHA256_Init(ctx_of(h));
}

void dhi_sha256_update(struct dhi_sha256 *h, const void *data, size_t len)
{
	SHA256_Update(ctx_of(h), data, len);
}

void dhi_sha256_final(struct dhi_sha256 *h, unsigned char out[32])
{
	SHA256_Final(out, ctx_of(h));
}

void dhi_sha256_peek(const struct dhi_sha256 *h, unsigned char out[32])
{
	struct dhi_sha256 copy = *h;

	dhi_sha256_final(&copy, out);
}

void dhi_sha256(const void *data, size_t len, unsigned char out[32])
{
	struct dhi_sha256 h;

	dhi_sha256_init(&h);
	dhi_sha256_update(&h, data, len);
	dhi_sha256_final(&h, out);
}

void dhi_sha256_hex(const unsigned char md[32], char out[65])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < 32; i++) {
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 15];
	}
	out[64] = '\0';
}
