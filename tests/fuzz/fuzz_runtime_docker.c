// SPDX-License-Identifier: Apache-2.0
/*
 * fuzz_runtime_docker.c - libFuzzer target: what a Docker or Podman engine answers, and
 * containerd's ctr. The first byte picks the parser (0 container inspect, 1 image inspect,
 * 2 container list, 3 DOCKER_HOST, 4 ctr images ls), the rest is the input. Everything a
 * parser returns is freed, so leaks are findings too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "injector/runtime/adapter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data + 1;
	struct dhi_err *err = NULL;
	size_t len = size - 1;

	if (size < 1)
		return 0;
	switch (data[0] % 5) {
	case 0: {
		struct rt_target t = { 0 };
		char *image_id = NULL;

		rt_docker_parse_inspect(buf, len, &t, &image_id, &err);
		free(image_id);
		rt_target_free(&t);
		break;
	}
	case 1: {
		char *digest = NULL, *tagged = NULL;

		rt_docker_parse_image(buf, len, "localhost/dhi-app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", &digest, &tagged,
				      &err);
		free(digest);
		free(tagged);
		break;
	}
	case 2: {
		char **ids = NULL;
		size_t n = 0;

		if (rt_docker_parse_list(buf, len, 64, &ids, &n, &err) == 0) {
			for (size_t i = 0; i < n; i++)
				free(ids[i]);
			free(ids);
		}
		break;
	}
	case 3: {
		char *s = xstrndup(buf, len), *path = NULL;

		rt_docker_parse_host("DOCKER_HOST", s, "/var/run/docker.sock", &path, &err);
		free(path);
		free(s);
		break;
	}
	case 4: {
		char *digest = NULL;

		rt_ctr_parse_images(buf, len, "localhost/dhi-app:1", &digest, &err);
		free(digest);
		break;
	}
	}
	dhi_err_clear(&err);
	return 0;
}
