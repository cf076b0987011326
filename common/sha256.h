/* SPDX-License-Identifier: Apache-2.0 */
/* sha256.h - SHA-256 with libcrypto's direct functions, for the records, the cast and files. */
#ifndef DHI_SHA256_H
#define DHI_SHA256_H

#include <stddef.h>

/*
 * Why not EVP: OpenSSL 3's first EVP digest of a process fetches it by name,
 * and the first fetch fills libcrypto's whole name map from every legacy
 * cipher and digest name: about 3 million instructions (0.7 ms here) in
 * every dhidebug process that hashes, the session's first process included.
 * SHA256_Init/Update/Final, deprecated in 3.0 but kept through 3.x, run the
 * same block function (SHA-NI where the CPU has it) with nothing to set up.
 * This module is their one user, so a move back to EVP is one file.
 */
struct dhi_sha256 {
	_Alignas(8) unsigned char state[128];	/* a SHA256_CTX (sha256.c checks the size) */
};

void dhi_sha256_init(struct dhi_sha256 *h);
void dhi_sha256_update(struct dhi_sha256 *h, const void *data, size_t len);
/* The digest of everything so far; `h` is done with. */
void dhi_sha256_final(struct dhi_sha256 *h, unsigned char out[32]);
/* The digest of everything so far; `h` goes on. */
void dhi_sha256_peek(const struct dhi_sha256 *h, unsigned char out[32]);
/* One buffer's digest. */
void dhi_sha256(const void *data, size_t len, unsigned char out[32]);
/* 32 bytes as 64 lower-case hex digits and a NUL. */
void dhi_sha256_hex(const unsigned char md[32], char out[65]);

#endif
