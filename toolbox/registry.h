/* SPDX-License-Identifier: Apache-2.0 */
/* registry.h - pull images with the OCI distribution API (libcurl, jansson). */
#ifndef TB_REGISTRY_H
#define TB_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "toolbox/layer.h"
#include "toolbox/ref.h"

struct reg_opts {
	const char *insecure;	/* comma-separated host[:port] that may use plain HTTP */
	const char *docker_config; /* directory of config.json; NULL: $DOCKER_CONFIG, ~/.docker */
	const char *certs_d;	/* <dir>/<host[:port]>/ca.crt; NULL: /etc/containers/certs.d
				   and /etc/docker/certs.d */
	long timeout;		/* seconds from reg_open() by which every request of the
				   client must be done; 0: REG_DEFAULT_TIMEOUT */
};

/* A pull that has not ended after this many seconds is stopped (--pull-timeout). */
#define REG_DEFAULT_TIMEOUT 600L

struct reg_layer {
	char *digest;
	char *media_type;
	long long size;
};

/* An image manifest (never an index: reg_fetch_manifest() resolves those). */
struct reg_manifest {
	char *digest;		/* sha256 of `body`: the cache key */
	char *index_digest;	/* the index it was picked from, NULL when none */
	char *body;
	size_t len;
	char *config_digest;
	struct reg_layer *layers;
	size_t nlayers;
};

struct reg_client;

/*
 * A client for the registry of `ref`. Credentials come from config.json's
 * `auths` for that registry; the scheme is HTTPS with the system CAs (plus
 * certs.d), and plain HTTP only for a loopback registry or one listed in
 * `insecure`, when HTTPS fails to connect. Its deadline starts now: every
 * request, retry and blob read after `o->timeout` seconds fails with an error
 * that says so. Free with reg_close().
 */
struct reg_client *reg_open(const struct tb_ref *ref, const struct reg_opts *o,
			    struct dhi_err **err);
void reg_close(struct reg_client *c);

/*
 * Fetches the manifest of the client's reference. An image index (OCI or
 * Docker manifest list) is resolved to linux/<host architecture>. Every
 * manifest is verified against the digest it was asked for (the reference's
 * digest, or the index's entry). Answers 401 by authenticating (Basic, or a
 * Bearer token from the WWW-Authenticate realm, which must be https unless it
 * is on the registry's own host and the registry itself speaks plain HTTP:
 * credentials never go in clear text to another host) and retrying; 429 and
 * 5xx are retried with backoff.
 */
int reg_fetch_manifest(struct reg_client *c, struct reg_manifest *m, struct dhi_err **err);

/* Fetches a small blob (the config) into memory and verifies it. */
int reg_fetch_blob_mem(struct reg_client *c, const char *digest, size_t max, char **out,
		       size_t *len, struct dhi_err **err);

/*
 * Opens a streaming download of blob `digest` of `size` bytes, the
 * descriptor's (redirects followed, retried while nothing has been
 * delivered). A body longer than `size` is cut off as an error. The stream
 * does not verify: the consumer does (layer_unpack_at()). Close with
 * reg_blob_close().
 */
int reg_blob_open(struct reg_client *c, const char *digest, long long size,
		  struct layer_src *src, struct dhi_err **err);
void reg_blob_close(struct layer_src *src);

/* Parses a manifest body (exposed for the OCI layout import and unit tests). */
int reg_manifest_parse(const char *body, size_t len, struct reg_manifest *m, struct dhi_err **err);

/* The host's architecture in OCI's words (amd64, arm64, ...). */
const char *reg_host_arch(void);

void reg_manifest_free(struct reg_manifest *m);

#endif
