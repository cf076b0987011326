// SPDX-License-Identifier: Apache-2.0
/*
 * fuzz_toolbox.c - libFuzzer target: what a registry or an image reference hands dhidebug.
 * The first byte picks the parser (0 an image reference and the toolbox rule for it,
 * 1 an image manifest), the rest is the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "toolbox/ref.h"
#include "toolbox/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dhi_err *err = NULL;

	if (size < 1)
		return 0;
	if (data[0] % 2 == 0) {
		char *s = xstrndup((const char *)data + 1, size - 1);
		struct tb_ref r;
		struct tb_rule out;
		struct dhi_tag t;

		if (ref_parse(s, &r, &err) == 0) {
			char *f = ref_format(&r);
			struct tb_ref again;

			/* what we print parses back to the same thing */
			if (ref_parse(f, &again, &err) != 0 || strcmp(again.repo, r.repo) != 0)
				abort();
			ref_free(&again);
			free(f);
			/* every candidate is a reference that parses back */
			if (ref_toolbox_rule(&r, "busybox", &out, &err) == 0)
				for (int i = 0; i < out.n; i++) {
					char *c = ref_format(&out.cand[i]);

					if (ref_parse(c, &again, &err) != 0)
						abort();
					ref_free(&again);
					free(c);
				}
			ref_rule_free(&out);
			if (r.tag)
				(void)ref_dhi_tag_parse(r.tag, &t);
			ref_free(&r);
		}
		dhi_err_clear(&err);
		free(s);
	} else {
		struct reg_manifest m = { 0 };

		reg_manifest_parse((const char *)data + 1, size - 1, &m, &err);
		reg_manifest_free(&m);
		dhi_err_clear(&err);
	}
	return 0;
}
