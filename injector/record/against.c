// SPDX-License-Identifier: Apache-2.0
/*
 * against.c - compare a session's audit records on the host with a collected
 * copy
 * (`sessions verify ID --against FILE`, docs/recording.md, "Comparing with the
 * collector").
 */
#include "injector/record/sessions.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/xalloc.h"

/* The copy may hold many sessions (a collector's whole log); the bound only
 * keeps a broken one from eating memory. */
#define COPY_MAX ((size_t)1 << 31)
/* seq numbers beyond this are not a session's (a 1 GiB audit.jsonl holds
 * fewer records): the table of records by seq stays under 64 MiB */
#define SEQ_MAX (1 << 23)

/* Records by seq: rec[seq] borrowed from the array that holds them, NULL where
 * none. */
struct by_seq {
	json_t **rec;
	size_t n;      /* one past the highest seq */
	long conflict; /* a seq with two different records on this side, or -1 */
};

static void by_seq_free(struct by_seq *b)
{
	free(b->rec);
}

static void by_seq_put(struct by_seq *b, json_int_t seq, json_t *rec)
{
	size_t s = (size_t)seq;

	if (s >= b->n) {
		b->rec = xrealloc(b->rec, (s + 1) * sizeof(*b->rec));
		memset(b->rec + b->n, 0, (s + 1 - b->n) * sizeof(*b->rec));
		b->n = s + 1;
	}
	if (b->rec[s] && !json_equal(b->rec[s], rec)) {
		if (b->conflict < 0 || (long)s < b->conflict)
			b->conflict = (long)s;
		return;
	}
	if (!b->rec[s])
		b->rec[s] = rec;
}

static bool seq_of(json_t *rec, json_int_t *seq)
{
	json_t *v = json_object_get(rec, "seq");

	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > SEQ_MAX)
		return false;
	*seq = json_integer_value(v);
	return true;
}

/* A PARAM-VALUE's end: the closing quote, past escaped characters (RFC 5424 6.3.3). */
static const char *param_end(const char *p, const char *end)
{
	for (; p < end && *p != '"'; p++)
		if (*p == '\\' && p + 1 < end)
			p++;
	return p < end ? p : NULL;
}

/*
 * A line of a syslog receiver's file holding a message of syslog.c, as it
 * came (rsyslog's %rawmsg%, RFC 5424 with its framing gone) or as the
 * receiver wrote it again (RSYSLOG_SyslogProtocol23Format, anything that
 * keeps the structured data): [dhidebug@32473 session="ID" seq="N"], maybe
 * more SD-ELEMENTs, a space, the record's JSON to the end of the line. The
 * record when it is session `id`'s and its seq is the message's.
 */
static json_t *syslog_record(const char *p, size_t len, const char *id, json_int_t *seq)
{
	static const char sdid[] = "[dhidebug@32473 ";
	const char *end = p + len, *at = memmem(p, len, sdid, sizeof(sdid) - 1);
	const char *sess = NULL, *num = NULL;
	size_t sesslen = 0, numlen = 0;
	char buf[24];
	json_t *rec;
	json_int_t rs;

	if (!at)
		return NULL;
	for (p = at + sizeof(sdid) - 1; p < end && *p != ']';) {
		const char *name = p, *eq = memchr(p, '=', (size_t)(end - p)), *v, *ve;

		if (!eq || eq + 1 >= end || eq[1] != '"')
			return NULL;
		v = eq + 2;
		ve = param_end(v, end);
		if (!ve)
			return NULL;
		if (eq - name == 7 && memcmp(name, "session", 7) == 0) {
			sess = v;
			sesslen = (size_t)(ve - v);
		} else if (eq - name == 3 && memcmp(name, "seq", 3) == 0) {
			num = v;
			numlen = (size_t)(ve - v);
		}
		p = ve + 1;
		if (p < end && *p == ' ')
			p++;
	}
	if (p >= end || !sess || !num || sesslen != strlen(id) || memcmp(sess, id, sesslen) != 0 ||
	    numlen == 0 || numlen >= sizeof(buf) || strspn(num, "0123456789") < numlen)
		return NULL;
	memcpy(buf, num, numlen);
	buf[numlen] = '\0';
	/* other SD-ELEMENTs (a relay's), then SP MSG, maybe with its BOM */
	for (p++; p < end && *p == '[';) {
		for (p++; p < end && *p != ']'; p++)
			if (*p == '"' && !(p = param_end(p + 1, end)))
				return NULL;
		p++;
	}
	if (p >= end || *p != ' ')
		return NULL;
	p++;
	if (end - p >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	rec = json_loadb(p, (size_t)(end - p), 0, NULL);
	if (!json_is_object(rec) || !seq_of(rec, &rs) || rs != (json_int_t)strtoll(buf, NULL, 10)) {
		json_decref(rec);
		return NULL;
	}
	*seq = rs;
	return rec;
}

/*
 * The copy's records of session `id`, kept in `hold`. A collector log entry
 * is {"key": "<id>:<seq>", "record": {...}, "dup": ...}: entries of other
 * sessions, of the recording (":cast") and without a stored record (refused,
 * failed) are not records; a "dup" is the same body again. A line that is
 * itself a record (a copy of audit.jsonl) is taken as the session's, and so
 * is the record of a syslog message (syslog_record()).
 */
static int load_copy(const char *path, const char *id, json_t *hold, struct by_seq *b,
		     struct dhi_err **err)
{
	/* "-": stdin, opened by the caller (with its own rights, also under sudo) */
	dhi_autoclose int fd = strcmp(path, "-") == 0 ? fcntl(0, F_DUPFD_CLOEXEC, 3)
						      : open(path, O_RDONLY | O_CLOEXEC);
	dhi_autofree char *buf = NULL;
	size_t len, idlen = strlen(id);

	if (fd < 0)
		return dhi_err_set(err, errno, "cannot open the copy `%s`", path);
	if (fd_read_file(fd, COPY_MAX, &buf, &len, err) < 0)
		return dhi_err_prefix(err, "the copy `%s`", path);
	for (const char *p = buf, *end = buf + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
		json_t *line = json_loadb(p, ll, 0, NULL), *rec = NULL;
		const char *key = json_string_value(json_object_get(line, "key"));
		json_int_t seq;

		if (!json_is_object(line)) {
			json_decref(line);
			/* a syslog receiver's line */
			line = syslog_record(p, ll, id, &seq);
			p = nl ? nl + 1 : end;
			if (line) {
				json_array_append_new(hold, line);
				by_seq_put(b, seq, line);
			}
			continue;
		}
		p = nl ? nl + 1 : end;
		json_array_append_new(hold, line);
		if (key) {
			char *rest;
			unsigned long long k;

			if (strncmp(key, id, idlen) != 0 || key[idlen] != ':' ||
			    json_is_true(json_object_get(line, "dup")))
				continue;
			errno = 0;
			k = strtoull(key + idlen + 1, &rest, 10);
			rec = json_object_get(line, "record");
			/* the collector stores a record only under its own seq */
			if (errno || *rest || rest == key + idlen + 1 || !json_is_object(rec) ||
			    !seq_of(rec, &seq) || (unsigned long long)seq != k)
				continue;
		} else if (json_object_get(line, "type") && seq_of(line, &seq)) {
			rec = line;
		} else {
			continue;
		}
		by_seq_put(b, seq, rec);
	}
	return 0;
}

/* The shipped cursor (ship.c's `shipped`: records acknowledged), or -1 when
 * there is none. */
static long shipped_at(int dirfd)
{
	dhi_autoclose int fd = openat(dirfd, "shipped", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	char buf[32] = "";
	long n = -1;

	if (fd >= 0 && fd_read(fd, buf, sizeof(buf) - 1) > 0 && sscanf(buf, "%ld", &n) != 1)
		n = -1;
	return n;
}

static int by_key(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The first field, in name order, that the two records do not have alike;
 * *where says which has it. */
static const char *first_difference(json_t *h, json_t *c, const char **where)
{
	size_t n = json_object_size(h) + json_object_size(c), k = 0;
	dhi_autofree const char **keys = xmalloc((n + 1) * sizeof(*keys));
	const char *key, *found = NULL;
	json_t *v;

	json_object_foreach (h, key, v)
		keys[k++] = key;
	json_object_foreach (c, key, v)
		keys[k++] = key;
	qsort(keys, k, sizeof(*keys), by_key);
	for (size_t i = 0; i < k && !found; i++) {
		json_t *hv = json_object_get(h, keys[i]), *cv = json_object_get(c, keys[i]);

		if (hv && cv && json_equal(hv, cv))
			continue;
		found = keys[i];
		*where = !cv ? " (only on the host)" : !hv ? " (only in the copy)" : "";
	}
	return found;
}

/* The two records are alike but for their place in the chain (`seq` and
 * `prev`): one was renumbered. */
static bool same_but_place(json_t *a, json_t *b)
{
	json_auto_t *x = json_copy(a);
	json_auto_t *y = json_copy(b);

	if (!a || !b)
		return false;
	json_object_del(x, "seq");
	json_object_del(x, "prev");
	json_object_del(y, "seq");
	json_object_del(y, "prev");
	return json_equal(x, y);
}

static const char *type_of(json_t *rec)
{
	const char *t = json_string_value(json_object_get(rec, "type"));

	return t ? t : "?";
}

int sessions_against_at(int dirfd, const char *id, const char *path, FILE *out,
			struct dhi_err **err)
{
	json_auto_t *host = sessions_load_records_at(dirfd, err);
	json_auto_t *hold = json_array();
	struct by_seq h = {.conflict = -1}, c = {.conflict = -1};
	size_t i, n, same = 0;
	json_t *rec;
	json_int_t seq;
	int bad = 1;

	if (!host)
		return dhi_err_prefix(err, "session `%s`", id);
	if (load_copy(path, id, hold, &c, err) < 0)
		return -1;
	json_array_foreach (host, i, rec)
		if (seq_of(rec, &seq))
			by_seq_put(&h, seq, rec);
	fprintf(out, "%s: ", id);
	n = h.n > c.n ? h.n : c.n;
	for (i = 0; i < n; i++) {
		json_t *hr = i < h.n ? h.rec[i] : NULL, *cr = i < c.n ? c.rec[i] : NULL;
		const char *field, *where = "";
		long cursor;

		if ((long)i == h.conflict || (long)i == c.conflict) {
			fprintf(out,
				"differs from the copy `%s`: seq %zu: two different records %s\n",
				path, i, (long)i == h.conflict ? "on the host" : "in the copy");
			goto out;
		}
		if (!hr && !cr)
			continue;
		if (!hr) {
			fprintf(out,
				"differs from the copy `%s`: seq %zu (%s): in the copy, not on "
				"the host "
				"(removed from the host)\n",
				path, i, type_of(cr));
			goto out;
		}
		if (!cr) {
			cursor = shipped_at(dirfd);
			fprintf(out,
				"differs from the copy `%s`: seq %zu (%s): on the host, not in "
				"the copy ",
				path, i, type_of(hr));
			if (cursor >= 0 && (size_t)cursor <= i)
				fprintf(out,
					"(added on the host, or not shipped yet: the host counts "
					"%ld "
					"shipped)\n",
					cursor);
			else
				fputs("(added on the host)\n", out);
			goto out;
		}
		if (json_equal(hr, cr)) {
			same++;
			continue;
		}
		/* a record taken out or put in, and the chain after it rewritten */
		if (i + 1 < c.n && same_but_place(hr, c.rec[i + 1])) {
			fprintf(out,
				"differs from the copy `%s`: seq %zu (%s): in the copy, not on "
				"the host "
				"(removed from the host, the later records renumbered)\n",
				path, i, type_of(cr));
			goto out;
		}
		if (i + 1 < h.n && same_but_place(h.rec[i + 1], cr)) {
			fprintf(out,
				"differs from the copy `%s`: seq %zu (%s): on the host, not in "
				"the copy "
				"(added on the host, the later records renumbered)\n",
				path, i, type_of(hr));
			goto out;
		}
		field = first_difference(hr, cr, &where);
		fprintf(out,
			"differs from the copy `%s`: seq %zu (%s): changed: `%s`%s is not "
			"the same\n",
			path, i, type_of(hr), field ? field : "?", where);
		goto out;
	}
	if (same == 0) {
		fprintf(out, "differs from the copy `%s`: neither has a record of this session\n",
			path);
		goto out;
	}
	fprintf(out, "matches the copy `%s`: %zu records, seq 0 to %zu\n", path, same, n - 1);
	bad = 0;
out:
	by_seq_free(&h);
	by_seq_free(&c);
	return bad;
}
