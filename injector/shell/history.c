// SPDX-License-Identifier: Apache-2.0
/* history.c - dhish's history and the operator's inputrc, kept and read on the host. */
#include "injector/shell/history.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/xalloc.h"

/* Splits text into at most `keep` last lines (oldest first), NULL-terminated. */
static char **split_lines(char *buf, int keep)
{
	char **lines = xzalloc(sizeof(char *) * ((size_t)keep + 1));
	int n = 0;
	char *save = NULL;

	for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (n == keep) {
			free(lines[0]);
			memmove(lines, lines + 1, sizeof(char *) * (size_t)(keep - 1));
			n--;
		}
		lines[n++] = xstrdup(l);
	}
	lines[n] = NULL;
	return lines;
}

/* A file name from a runtime and a container name: nothing but [A-Za-z0-9._-]. */
static char *file_name(const char *runtime, const char *name)
{
	char *f = xasprintf("%s_%s", runtime, name);

	for (char *p = f; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == '_'))
			*p = '_';
	if (f[0] == '.')
		f[0] = '_';
	return f;
}

void history_open(const char *dir, const char *runtime, const char *name, struct history *h)
{
	dhi_autofree char *file = file_name(runtime, name);
	dhi_autoclose int dfd = -1;
	dhi_autofree char *buf = NULL;
	struct dhi_err *e = NULL;

	h->lines = NULL;
	h->fd = -1;
	/* root's own folder only: anyone else could read what operators typed */
	dfd = fd_open_private_dir(dir);
	if (dfd < 0)
		return;
	h->fd = openat(dfd, file, O_RDWR | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (h->fd < 0)
		return;
	if (fd_read_file(h->fd, 4 << 20, &buf, NULL, &e) < 0) {
		dhi_err_clear(&e);
		return;
	}
	h->lines = split_lines(buf, HISTORY_KEEP);
}

void history_append(struct history *h, const char *line)
{
	dhi_autofree char *l = NULL;

	if (h->fd < 0)
		return;
	l = xasprintf("%s\n", line);
	for (char *p = l; p[1]; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (fd_write_all(h->fd, l, strlen(l)) < 0)
		dhi_close_reset(&h->fd);
}

void history_close(struct history *h)
{
	dhi_close_reset(&h->fd);
	for (int i = 0; h->lines && h->lines[i]; i++)
		free(h->lines[i]);
	free(h->lines);
	h->lines = NULL;
}

char **inputrc_load(void)
{
	const char *env = getenv("INPUTRC"), *home = getenv("HOME");
	dhi_autofree char *path = NULL, *buf = NULL;
	dhi_autoclose int fd = -1;
	struct dhi_err *e = NULL;

	if (env && *env)
		path = xstrdup(env);
	else if (home && *home)
		path = xasprintf("%s/.inputrc", home);
	else
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fd_read_file(fd, 1 << 20, &buf, NULL, &e) < 0) {
		dhi_err_clear(&e);
		return NULL;
	}
	return split_lines(buf, 10000);
}
