// SPDX-License-Identifier: Apache-2.0
/*
 * process.c - how a container's process is configured (env, user, working
 * directory) as images and OCI configs say, and where a stopped container's
 * files are as Docker's overlay2 driver says. All of it is untrusted input.
 */
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "injector/runtime/adapter.h"

#define ENV_MAX 4096		/* variables kept */
#define ENV_LEN_MAX 32768	/* bytes per "NAME=value" */
#define LAYERS_MAX 128		/* overlay lower layers (Docker's own limit is 125) */
#define ARGS_MAX 4096		/* arguments kept */

/* Bytes a terminal would act on: a value holding one is not kept (env prints it). */
static bool has_control(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return true;
	}
	return false;
}

/* "NAME=value" strings of a JSON array: NAME non-empty, no NUL, no control byte. */
static char **env_array(json_t *a)
{
	size_t i, n = 0;
	json_t *v;
	char **env;

	if (!json_is_array(a) || json_array_size(a) == 0)
		return NULL;
	env = xzalloc((json_array_size(a) < ENV_MAX ? json_array_size(a) : ENV_MAX) *
			      sizeof(char *) + sizeof(char *));
	json_array_foreach(a, i, v) {
		const char *s = json_string_value(v);
		size_t len = json_string_length(v);

		if (n == ENV_MAX)
			break;
		if (!s || len == 0 || len > ENV_LEN_MAX || strlen(s) != len || s[0] == '=' ||
		    !strchr(s, '=') || has_control(s, len))
			continue;
		env[n++] = xstrdup(s);
	}
	if (n == 0) {
		free(env);
		return NULL;
	}
	return env;
}

/*
 * `first` (a string, may be NULL) then the strings of array `a`: a program and
 * its arguments. NULL when an element is not a string without NUL and control
 * bytes (a partial command line would mislead), or when there is none.
 */
static char **args_array(json_t *first, json_t *a)
{
	size_t n = 0, max = json_array_size(a) + 1;
	char **args;
	json_t *v;
	size_t i;

	if (max > ARGS_MAX)
		return NULL;
	args = xzalloc((max + 1) * sizeof(char *));
	for (i = 0; i < max; i++) {
		const char *s;

		v = i == 0 ? first : json_array_get(a, i - 1);
		if (i == 0 && !v)
			continue;
		s = json_string_value(v);
		if (!s || strlen(s) != json_string_length(v) || has_control(s, strlen(s)))
			goto bad;
		args[n++] = xstrdup(s);
	}
	if (n)
		return args;
bad:
	for (i = 0; i < n; i++)
		free(args[i]);
	free(args);
	return NULL;
}

/* An absolute path of printable bytes, at most 4096 of them. */
static char *abs_path(json_t *o, const char *key)
{
	char *p = rt_json_str(o, key, 4096);

	if (p && p[0] != '/') {
		free(p);
		p = NULL;
	}
	return p;
}

static struct rt_process *process_or_null(struct rt_process *p)
{
	if (!p->args && !p->env && !p->user && !p->cwd) {
		free(p);
		return NULL;
	}
	return p;
}

/* Env, User and WorkingDir of an image config's or a container inspect's `config`. */
static void config_fields(json_t *config, struct rt_process *p)
{
	if (!json_is_object(config))
		return;
	p->env = env_array(json_object_get(config, "Env"));
	p->user = rt_json_str(config, "User", 256);
	p->cwd = abs_path(config, "WorkingDir");
}

struct rt_process *rt_process_from_inspect(json_t *inspect)
{
	struct rt_process *p = xzalloc(sizeof(*p));

	config_fields(json_object_get(inspect, "Config"), p);
	p->args = args_array(json_object_get(inspect, "Path"), json_object_get(inspect, "Args"));
	return process_or_null(p);
}

struct rt_process *rt_process_from_oci(json_t *process)
{
	unsigned long long uid, gid;
	json_t *user = json_object_get(process, "user");
	struct rt_process *p;

	if (!json_is_object(process))
		return NULL;
	p = xzalloc(sizeof(*p));
	p->args = args_array(NULL, json_object_get(process, "args"));
	p->env = env_array(json_object_get(process, "env"));
	if (json_is_object(user) && rt_json_uint(user, "uid", 0xfffffffeu, &uid) == 0) {
		if (rt_json_uint(user, "gid", 0xfffffffeu, &gid) < 0)
			gid = 0;
		p->user = xasprintf("%llu:%llu", uid, gid);
	}
	p->cwd = abs_path(process, "cwd");
	return process_or_null(p);
}

int rt_image_parse_process(const char *buf, size_t len, struct rt_process **out,
			   struct dhi_err **err)
{
	json_t *j = rt_json_parse(buf, len, "image config", err);

	*out = NULL;
	if (!j)
		return -1;
	*out = xzalloc(sizeof(**out));
	config_fields(json_object_get(j, "config"), *out);
	*out = process_or_null(*out);
	json_decref(j);
	return 0;
}

int rt_oci_parse_process(const char *buf, size_t len, struct rt_process **out,
			 struct dhi_err **err)
{
	json_t *j = rt_json_parse(buf, len, "config.json", err);

	*out = NULL;
	if (!j)
		return -1;
	*out = rt_process_from_oci(json_object_get(j, "process"));
	json_decref(j);
	return 0;
}

/* A directory path overlayfs can take as one layer: absolute, printable, no ':' or ','. */
static bool layer_path(const char *p, size_t n)
{
	return n > 1 && n <= 4096 && p[0] == '/' && !has_control(p, n) && !memchr(p, ',', n) &&
	       !memchr(p, ':', n) && !memchr(p, '\t', n);
}

static char *layer_str(json_t *o, const char *key)
{
	char *s = rt_json_str(o, key, 4096);

	if (s && !layer_path(s, strlen(s))) {
		free(s);
		s = NULL;
	}
	return s;
}

struct rt_fs *rt_fs_from_graphdriver(json_t *gd)
{
	json_t *data = json_object_get(gd, "Data");
	const char *name = json_string_value(json_object_get(gd, "Name"));
	const char *lower;
	struct rt_fs *fs;
	size_t n = 1;

	if (!name || (strcmp(name, "overlay2") != 0 && strcmp(name, "overlay") != 0) ||
	    !json_is_object(data))
		return NULL;
	fs = xzalloc(sizeof(*fs));
	fs->upper = layer_str(data, "UpperDir");
	fs->work = layer_str(data, "WorkDir");
	if (!fs->upper || !fs->work)
		goto bad;
	/* LowerDir: "a:b:c", top first; absent for a container of an image without layers */
	lower = json_string_value(json_object_get(data, "LowerDir"));
	fs->layers = xzalloc((LAYERS_MAX + 1) * sizeof(char *));
	if (lower && *lower) {
		for (const char *p = lower;;) {
			const char *colon = strchr(p, ':');
			size_t len = colon ? (size_t)(colon - p) : strlen(p);

			if (n > LAYERS_MAX || !layer_path(p, len))
				goto bad;
			fs->layers[n++ - 1] = xstrndup(p, len);
			if (!colon)
				break;
			p = colon + 1;
		}
	}
	return fs;
bad:
	for (size_t i = 0; fs->layers && fs->layers[i]; i++)
		free(fs->layers[i]);
	free(fs->layers);
	free(fs->upper);
	free(fs->work);
	free(fs);
	return NULL;
}

/* An absolute path of at most 4096 bytes without control characters; a destination has
 * no `.` or `..` component either (the holder resolves it in the container's root). */
static char *mount_path(json_t *o, const char *key, bool is_dest)
{
	char *s = rt_json_str(o, key, 4096);
	bool ok = s && s[0] == '/' && !has_control(s, strlen(s));

	for (const char *p = s; ok && is_dest && (p = strchr(p, '/')); p++)
		if ((p[1] == '.' && (p[2] == '/' || !p[2])) ||
		    (p[1] == '.' && p[2] == '.' && (p[3] == '/' || !p[3])))
			ok = false;
	if (!ok) {
		free(s);
		return NULL;
	}
	return s;
}

void rt_fs_add_mounts(struct rt_fs *fs, json_t *mounts)
{
	size_t i;
	json_t *m;

	if (!fs || !json_is_array(mounts))
		return;
	json_array_foreach(mounts, i, m) {
		const char *type = json_string_value(json_object_get(m, "Type"));
		char *src, *dst;

		if (fs->n_mounts >= RT_MOUNTS_MAX)
			break;
		if (!type || (strcmp(type, "volume") != 0 && strcmp(type, "bind") != 0))
			continue;
		src = mount_path(m, "Source", false);
		dst = mount_path(m, "Destination", true);
		if (!src || !dst || strcmp(dst, "/") == 0) {
			free(src);
			free(dst);
			continue;
		}
		fs->mounts = xrealloc(fs->mounts, (fs->n_mounts + 1) * sizeof(*fs->mounts));
		fs->mounts[fs->n_mounts++] = (struct rt_mount){
			.source = src, .destination = dst,
			.rw = json_is_true(json_object_get(m, "RW")) };
	}
}

struct rt_fs *rt_fs_dir(const char *root)
{
	struct rt_fs *fs = xzalloc(sizeof(*fs));

	fs->layers = xzalloc(2 * sizeof(char *));
	fs->layers[0] = xstrdup(root);
	return fs;
}
