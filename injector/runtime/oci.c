// SPDX-License-Identifier: Apache-2.0
/* oci.c - what the OCI config.json of a containerd or CRI-O container says about Kubernetes. */
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "injector/runtime/adapter.h"

/* The annotations each CRI implementation writes into the container's config.json. */
struct cri_keys {
	const char *type, *pod, *pod_ns, *container, *image, *image_ref;
};

static const struct cri_keys cri_keys[] = {
	/* containerd's CRI plugin */
	{ "io.kubernetes.cri.container-type", "io.kubernetes.cri.sandbox-name",
	  "io.kubernetes.cri.sandbox-namespace", "io.kubernetes.cri.container-name",
	  "io.kubernetes.cri.image-name", NULL },
	/* CRI-O (the io.kubernetes.pod.* ones are the kubelet's labels, copied) */
	{ "io.kubernetes.cri-o.ContainerType", "io.kubernetes.pod.name",
	  "io.kubernetes.pod.namespace", "io.kubernetes.container.name",
	  "io.kubernetes.cri-o.ImageName", "io.kubernetes.cri-o.ImageRef" },
};

static void take(char **dst, json_t *ann, const char *key, size_t max)
{
	if (!*dst && key)
		*dst = rt_json_str(ann, key, max);
}

/*
 * CRI-O's ImageRef is "repo@sha256:<hex>" when the image came from a registry,
 * else the image id (64 hex digits, no algorithm). Either way, a digest.
 */
static char *digest_of(const char *ref)
{
	const char *at = strrchr(ref, '@');
	const char *d = at ? at + 1 : ref;
	size_t n = strlen(d);

	if (strncmp(d, "sha256:", 7) == 0 && n == 71 && strspn(d + 7, "0123456789abcdef") == 64)
		return xstrdup(d);
	if (!at && n == 64 && strspn(d, "0123456789abcdef") == 64)
		return xasprintf("sha256:%s", d);
	return NULL;
}

int rt_oci_parse_config(const char *buf, size_t len, struct rt_target *out, bool *is_sandbox,
			char **manager, struct dhi_err **err)
{
	json_t *j = rt_json_parse(buf, len, "config.json", err), *ann;

	*is_sandbox = false;
	if (manager)
		*manager = NULL;
	if (!j)
		return -1;
	ann = json_object_get(j, "annotations");
	if (!json_is_object(ann)) {
		json_decref(j);
		return 0;	/* a container outside Kubernetes has none: not an error */
	}
	for (size_t i = 0; i < sizeof(cri_keys) / sizeof(cri_keys[0]); i++) {
		const struct cri_keys *k = &cri_keys[i];
		char *type = rt_json_str(ann, k->type, 64);
		char *ref = NULL;

		if (type && strcmp(type, "sandbox") == 0)
			*is_sandbox = true;
		free(type);
		take(&out->pod_name, ann, k->pod, 253);
		take(&out->pod_namespace, ann, k->pod_ns, 253);
		take(&out->container_name, ann, k->container, 253);
		take(&out->image_ref, ann, k->image, 1024);
		take(&ref, ann, k->image_ref, 1024);
		if (ref && !out->image_digest)
			out->image_digest = digest_of(ref);
		free(ref);
	}
	if (manager)
		*manager = rt_json_str(ann, "io.container.manager", 64);
	json_decref(j);
	return 0;
}
