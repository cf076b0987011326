// SPDX-License-Identifier: Apache-2.0
/* fields.c - reading what runtimes write: bounded strings, checked numbers, safe files. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/rfc3339.h"
#include "common/trust.h"
#include "common/xalloc.h"
#include "injector/runtime/adapter.h"

static bool printable(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

char *rt_json_str(json_t *o, const char *key, size_t max)
{
	json_t *v = json_object_get(o, key);
	size_t n;

	if (!json_is_string(v))
		return NULL;
	n = json_string_length(v);
	/* json_string_length counts an embedded NUL; strlen would not: refuse those too */
	if (n == 0 || n > max || strlen(json_string_value(v)) != n ||
	    !printable(json_string_value(v), n))
		return NULL;
	return xstrdup(json_string_value(v));
}

static int parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
	unsigned long long v = 0;

	if (!*s || strlen(s) > 20)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (~0ull - 9) / 10)
			return -1;
		v = v * 10 + (unsigned long long)(*s - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

int rt_json_uint(json_t *o, const char *key, unsigned long long max, unsigned long long *out)
{
	json_t *v = json_object_get(o, key);
	json_int_t i;

	if (!json_is_integer(v))
		return -1;
	i = json_integer_value(v);
	if (i < 0 || (unsigned long long)i > max)
		return -1;
	*out = (unsigned long long)i;
	return 0;
}

int rt_json_uint_or_str(json_t *o, const char *key, unsigned long long max,
			unsigned long long *out)
{
	json_t *v = json_object_get(o, key);

	if (json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v))
		return parse_uint(json_string_value(v), max, out);
	return rt_json_uint(o, key, max, out);
}

char **rt_json_labels(json_t *o)
{
	const char *k;
	json_t *v;
	char **out = NULL;
	size_t n = 0;

	if (!json_is_object(o) || json_object_size(o) == 0)
		return NULL;
	out = xzalloc((RT_LABELS_MAX + 1) * sizeof(*out));
	json_object_foreach(o, k, v) {
		size_t kl = strlen(k);

		if (n == RT_LABELS_MAX)
			break;
		if (!json_is_string(v) || kl == 0 || kl > 256 || !printable(k, kl) ||
		    json_string_length(v) > 1024 ||
		    strlen(json_string_value(v)) != json_string_length(v) ||
		    !printable(json_string_value(v), json_string_length(v)))
			continue;
		out[n++] = xasprintf("%s=%s", k, json_string_value(v));
	}
	if (n == 0) {
		free(out);
		return NULL;
	}
	return out;
}

json_t *rt_json_parse(const char *buf, size_t len, const char *what, struct dhi_err **err)
{
	json_error_t jerr;
	/* a JSON nesting bomb is bounded by jansson's own depth limit (2048) */
	json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);

	if (!j) {
		dhi_err_set(err, 0, "%s is not valid JSON (line %d: %.80s)", what, jerr.line,
			    jerr.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		dhi_err_set(err, 0, "%s is not a JSON object", what);
		return NULL;
	}
	return j;
}

bool rt_valid_id(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > 1024 || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = id[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.' || c == '+'))
			return false;
	}
	return true;
}

static int read_at(int dirfd, const char *name, size_t max, bool state, char **buf, size_t *len,
		   struct dhi_err **err)
{
	/*
	 * O_PATH: a FIFO or a device planted under a name we read is never
	 * opened (no hang, no driver's open); only a regular file is reopened.
	 */
	dhi_autoclose int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	dhi_autoclose int rfd = -1;
	struct stat st;

	if (fd < 0) {
		if (errno == ENOENT)
			return 1;
		return dhi_err_set(err, errno, "cannot open `%s`", name);
	}
	if (fd_reopen_regular(fd, name, max, &rfd, &st, err) < 0)
		return -1;
	if (state && (trust_check_fd(dirfd, ".", err) < 0 || trust_check_stat(&st, name, err) < 0))
		return -1;
	if (fd_read_file(rfd, max, buf, len, err) < 0)
		return dhi_err_prefix(err, "`%s`", name);
	return 0;
}

int rt_read_file_at(int dirfd, const char *name, size_t max, char **buf, size_t *len,
		    struct dhi_err **err)
{
	return read_at(dirfd, name, max, false, buf, len, err);
}

int rt_read_state_at(int dirfd, const char *name, size_t max, char **buf, size_t *len,
		     struct dhi_err **err)
{
	return read_at(dirfd, name, max, true, buf, len, err);
}

int rt_open_state(const char *path, int flags, int *out, struct dhi_err **err)
{
	int r = trust_open(path, flags, out, err);

	/* a user's own `dhidebug ls`: what it cannot even reach is not there for it */
	if (r < 0 && (*err)->errnum == EACCES && geteuid() != 0) {
		dhi_err_clear(err);
		return 1;
	}
	return r < 0 ? dhi_err_prefix(err, "runtime state `%s`", path) : r;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_dir_entry(int dirfd, const struct dirent *e)
{
	struct stat st;

	if (e->d_type != DT_UNKNOWN)
		return e->d_type == DT_DIR;
	return fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

size_t rt_subdirs_at(int dirfd, const char *suffix, size_t max, char ***names)
{
	int fd = dup(dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	size_t n = 0, sl = suffix ? strlen(suffix) : 0;
	struct dirent *e;

	*names = NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	/* fdopendir shares the offset with dirfd's other dups: start from the top */
	rewinddir(d);
	while ((e = readdir(d)) && n < max) {
		size_t l = strlen(e->d_name);

		if (!rt_valid_id(e->d_name) || (suffix && (l <= sl || strcmp(e->d_name + l - sl,
									     suffix) != 0)) ||
		    !is_dir_entry(dirfd, e))
			continue;
		if (n % 64 == 0)
			*names = xrealloc(*names, (n + 64) * sizeof(**names));
		(*names)[n++] = xstrdup(e->d_name);
	}
	closedir(d);
	if (n)
		qsort(*names, n, sizeof(**names), cmp_names);
	return n;
}

void rt_names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

void rt_each_subdir2(int dirfd, const char *suffix, void (*fn)(int dirfd, const char *top,
								  const char *name, void *arg),
		     void *arg)
{
	char **tops = NULL;
	size_t n = rt_subdirs_at(dirfd, suffix, 1024, &tops);

	for (size_t i = 0; i < n; i++) {
		dhi_autoclose int fd =
			openat(dirfd, tops[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		char **names = NULL;
		size_t m = fd >= 0 ? rt_subdirs_at(fd, NULL, 65536, &names) : 0;

		for (size_t j = 0; j < m; j++)
			fn(dirfd, tops[i], names[j], arg);
		rt_names_free(names, m);
	}
	rt_names_free(tops, n);
}

void rt_set_unusable(struct rt_target *t, const char *fmt, ...)
{
	va_list ap;

	if (t->unusable)
		return;
	va_start(ap, fmt);
	t->unusable = xvasprintf(fmt, ap);
	va_end(ap);
}

int rt_parse_time(const char *s, long long *out)
{
	double t;

	/* a runtime's time always has a time of day; whole seconds are what is compared */
	if (rfc3339_parse(s, false, &t) < 0)
		return -1;
	*out = (long long)t;
	return 0;
}

int rt_parse_pidfile(const char *buf, size_t len, pid_t *pid, struct dhi_err **err)
{
	char tmp[16];
	unsigned long long v;

	while (len > 0 && (buf[len - 1] == '\n'))
		len--;
	if (len == 0 || len >= sizeof(tmp))
		return dhi_err_set(err, 0, "pid file is not a pid");
	memcpy(tmp, buf, len);
	tmp[len] = '\0';
	if (parse_uint(tmp, RT_PID_MAX, &v) < 0 || v == 0)
		return dhi_err_set(err, 0, "pid file is not a pid");
	*pid = (pid_t)v;
	return 0;
}
