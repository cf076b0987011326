// SPDX-License-Identifier: Apache-2.0
/* custody.c - copy.start, copy.file, copy.skip and copy.end records; the manifest. */
#include "injector/copy/custody.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cleanup.h"

static int audit(struct custody *c, const char *type, json_t *fields, bool sync,
		 struct dhi_err **err)
{
	if (!c->rec) {
		json_decref(fields);
		return 0;
	}
	if (record_audit(c->rec, type, fields, sync) < 0) {
		c->failed_write = true;
		return dhi_err_set(err, errno, "cannot write the `%s` record", type);
	}
	return 0;
}

/*
 * A name from either side as a record's string: as it is when it is UTF-8,
 * else escaped as exec records are (docs/recording.md: each byte that is not
 * UTF-8 as `\\xNN`, backslashes doubled) and `field` listed in `escaped`. A
 * hostile name must neither vanish nor stop the copy.
 */
void custody_set_text(json_t *rec, const char *field, const char *s)
{
	dhi_autofree char *esc = dhi_utf8_escaped(s);
	json_t *list;

	if (!esc) {
		json_object_set_new(rec, field, json_string(s));
		return;
	}
	json_object_set_new(rec, field, json_string(esc));
	list = json_object_get(rec, "escaped");
	if (!list) {
		list = json_array();
		json_object_set_new(rec, "escaped", list);
	}
	json_array_append_new(list, json_string(field));
}

const char *custody_type_name(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return "file";
	case S_IFDIR:
		return "directory";
	case S_IFLNK:
		return "symlink";
	case S_IFIFO:
		return "fifo";
	case S_IFSOCK:
		return "socket";
	case S_IFCHR:
		return "char-device";
	case S_IFBLK:
		return "block-device";
	}
	return "unknown";
}

static void iso_time(const struct timespec *ts, char out[40])
{
	struct tm tm;
	time_t s = ts->tv_sec;

	gmtime_r(&s, &tm);
	strftime(out, 24, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + strlen(out), 16, ".%09ldZ", ts->tv_nsec);
}

int custody_start(struct custody *c, json_t *fields, struct dhi_err **err)
{
	return audit(c, "copy.start", fields, true, err);
}

void custody_manifest_name(FILE *f, const char *name, bool *escaped)
{
	*escaped = strpbrk(name, "\\\n\r") != NULL;
	for (const char *p = name; *p; p++) {
		if (*escaped && *p == '\\')
			fputs("\\\\", f);
		else if (*escaped && *p == '\n')
			fputs("\\n", f);
		else if (*escaped && *p == '\r')
			fputs("\\r", f);
		else
			fputc(*p, f);
	}
}

static void manifest_line(FILE *f, const char *sha256, const char *name)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	bool escaped = false;

	if (!m)
		return;
	custody_manifest_name(m, name, &escaped);
	fclose(m);
	fprintf(f, "%s%s  %s\n", escaped ? "\\" : "", sha256, buf);
	free(buf);
}

int custody_file(struct custody *c, const struct custody_entry *e, struct dhi_err **err)
{
	char mtime[40], mode[8];
	json_t *f;

	iso_time(&e->st->st_mtim, mtime);
	snprintf(mode, sizeof(mode), "%04o", (unsigned)(e->st->st_mode & 07777));
	f = json_pack("{s:s, s:I, s:s, s:I, s:I, s:s}", "file_type",
		      custody_type_name(e->st->st_mode), "size", (json_int_t)e->size, "mode", mode,
		      "uid", (json_int_t)e->st->st_uid, "gid", (json_int_t)e->st->st_gid, "mtime",
		      mtime);
	custody_set_text(f, "path", e->path);
	custody_set_text(f, "host_path", e->host_path);
	if (e->sha256)
		json_object_set_new(f, "sha256", json_string(e->sha256));
	if (e->link)
		custody_set_text(f, "link", e->link);
	if (e->hardlink)
		custody_set_text(f, "hardlink", e->hardlink);
	if (e->xattrs)
		json_object_set_new(f, "xattrs", e->xattrs);
	if (e->grew)
		json_object_set_new(f, "grew", json_true());
	c->files++;
	c->bytes += e->size;
	if (c->manifest && e->sha256)
		manifest_line(c->manifest, e->sha256, e->host_path);
	return audit(c, "copy.file", f, false, err);
}

int custody_skip(struct custody *c, const char *path, const struct stat *st, const char *why,
		 struct dhi_err **err)
{
	json_t *f = json_pack("{s:s}", "file_type", custody_type_name(st->st_mode));

	c->skipped++;
	custody_set_text(f, "path", path);
	custody_set_text(f, "reason", why);
	return audit(c, "copy.skip", f, false, err);
}

int custody_end(struct custody *c, const char *reason, struct dhi_err **err)
{
	json_t *f = json_pack("{s:I, s:I, s:I, s:s}", "files", (json_int_t)c->files, "bytes",
			      (json_int_t)c->bytes, "skipped", (json_int_t)c->skipped, "status",
			      reason ? "failed" : "ok");

	if (reason)
		json_object_set_new(f, "reason", json_string(reason));
	return audit(c, "copy.end", f, true, err);
}
