// SPDX-License-Identifier: Apache-2.0
/*
 * fuzz_runtime_oci.c - libFuzzer target: the files containerd, CRI-O, runc and crun write.
 * The first byte picks the parser (0 OCI config.json, 1 CRI-O state.json, 2 runc state.json,
 * 3 crun status, 4 a pid file, 5 an RFC 3339 time), the rest is the input.
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
	struct rt_target t = { 0 };
	size_t len = size - 1;
	unsigned long long start;
	pid_t pid;

	if (size < 1)
		return 0;
	switch (data[0] % 6) {
	case 0: {
		char *manager = NULL;
		bool sandbox;

		rt_oci_parse_config(buf, len, &t, &sandbox, &manager, &err);
		free(manager);
		break;
	}
	case 1: {
		char *bundle = NULL;

		rt_crio_parse_state(buf, len, &t, &bundle, &err);
		free(bundle);
		break;
	}
	case 2:
		rt_runc_parse_state(buf, len, "init_process_pid", "init_process_start", &pid, &start,
				    &err);
		break;
	case 3:
		rt_runc_parse_state(buf, len, "pid", "process-start-time", &pid, &start, &err);
		break;
	case 4:
		rt_parse_pidfile(buf, len, &pid, &err);
		break;
	case 5: {
		char *s = xstrndup(buf, len);
		long long at;

		rt_parse_time(s, &at);
		free(s);
		break;
	}
	}
	rt_target_free(&t);
	dhi_err_clear(&err);
	return 0;
}
