// SPDX-License-Identifier: Apache-2.0
/* sessions.c - list, show and verify recorded sessions (docs/recording.md, "Verifying"). */
#include "injector/record/sessions.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/rfc3339.h"
#include "common/xalloc.h"
#include "injector/policy/policy.h"
#include "injector/record/record.h"
#include "injector/record/ship.h"

/* Host-side files written by dhidebug itself; the bound only keeps a broken one from eating memory. */
#define AUDIT_MAX ((size_t)1 << 30)
#define HASH_CHUNK 65536

static inline void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}
#define autodir __attribute__((cleanup(closedirp)))

const char *session_state_name(enum session_state s)
{
	switch (s) {
	case SESSION_COMPLETE:
		return "complete";
	case SESSION_INCOMPLETE:
		return "incomplete";
	default:
		return "invalid";
	}
}

void session_check_free(struct session_check *c)
{
	free(c->problem);
	c->problem = NULL;
}

/* --- times --- */

int sessions_parse_time(const char *s, double now, double *out)
{
	char *end;

	if (!s || !*s)
		return -1;
	if (isdigit((unsigned char)*s) && strlen(s) < 12) {
		/* an age: 90s, 30m, 12h, 7d */
		unsigned long long v;

		errno = 0;
		v = strtoull(s, &end, 10);
		if (errno == 0 && end != s && end[0] && !end[1] && v < 100000000ULL) {
			double mul = *end == 's' ? 1 : *end == 'm' ? 60 : *end == 'h' ? 3600 : *end == 'd' ? 86400 : 0;

			if (mul > 0) {
				*out = now - (double)v * mul;
				return 0;
			}
		}
	}
	return rfc3339_parse(s, true, out);
}

double sessions_record_time(json_t *rec)
{
	double t;

	if (sessions_parse_time(json_string_value(json_object_get(rec, "time")), 0, &t) < 0)
		return -1;
	return t;
}

/* --- verification --- */

/* The fields every record of a type has (docs/recording.md, "audit.jsonl"). */
static const struct record_type {
	const char *type;
	const char *fields[10];
} record_types[] = {
	{ "session.start",
	  { "session", "operator", "target", "toolbox", "profile", "view", "command", "dhidebug" } },
	{ "line", { "text", "cwd" } },
	{ "line.end", { "text", "status", "duration" } },
	{ "exec", { "pid", "ppid", "path", "argv", "decision" } },
	{ "resize", { "width", "height" } },
	/* output replaced by the policy's `redact` patterns before it was recorded */
	{ "redact", { "pattern", "count", "cast_offset" } },
	{ "session.end", { "status", "duration", "bytes_in", "bytes_out", "reason" } },
	/* appended by the next session to start when this one's supervisor died */
	{ "session.lost", { "reason", "detected_by" } },
	/* dhidebug cp (docs/cp.md): a copy's chain of custody */
	{ "copy.start", { "direction", "target", "container_path", "host_path", "operator" } },
	{ "copy.file", { "path", "host_path", "file_type", "size", "mode", "uid", "gid", "mtime" } },
	{ "copy.skip", { "path", "file_type", "reason" } },
	{ "copy.end", { "files", "bytes", "skipped", "status" } },
	{ NULL, { NULL } },
};

static bool is_hex64(const char *s)
{
	return s && strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

/* Walks session.cast forward as the records' cast_bytes grow, hashing each prefix once. */
struct cast_hash {
	int fd;
	uint64_t size, done;
	struct dhi_sha256 md;
};

static int cast_hash_to(struct cast_hash *h, uint64_t upto, char out[65], struct dhi_err **err)
{
	unsigned char buf[HASH_CHUNK];

	while (h->done < upto) {
		size_t want = upto - h->done > sizeof(buf) ? sizeof(buf) : (size_t)(upto - h->done);
		ssize_t n = pread(h->fd, buf, want, (off_t)h->done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return dhi_err_set(err, errno, "cannot read `session.cast`");
		if (n == 0)
			return dhi_err_set(err, 0, "`session.cast` shrank while being verified");
		dhi_sha256_update(&h->md, buf, (size_t)n);
		h->done += (uint64_t)n;
	}
	record_sha256_so_far(&h->md, out);
	return 0;
}

static void invalid(struct session_check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void invalid(struct session_check *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	c->problem = xvasprintf(fmt, ap);
	va_end(ap);
	c->state = SESSION_INVALID;
}

/* Checks one record (line `n` of audit.jsonl); on failure fills c->problem. */
static int check_record(json_t *rec, size_t n, const char *prev_line, size_t prev_len,
			uint64_t *last_bytes, struct cast_hash *h, struct session_check *c,
			struct dhi_err **err)
{
	const char *type = json_string_value(json_object_get(rec, "type"));
	json_t *seq = json_object_get(rec, "seq"), *bytes = json_object_get(rec, "cast_bytes");
	const char *prev = json_string_value(json_object_get(rec, "prev"));
	const char *digest = json_string_value(json_object_get(rec, "cast_sha256"));
	char want[65], got[65];
	json_int_t cb;

	if (!json_is_integer(seq))
		return invalid(c, "audit.jsonl:%zu: no `seq`", n), 0;
	if (!type)
		return invalid(c, "audit.jsonl:%zu: no `type`", n), 0;
	if (sessions_record_time(rec) < 0)
		return invalid(c, "audit.jsonl:%zu: no valid `time`", n), 0;
	if (!is_hex64(prev))
		return invalid(c, "audit.jsonl:%zu: no valid `prev`", n), 0;
	if (!json_is_integer(bytes) || json_integer_value(bytes) < 0)
		return invalid(c, "audit.jsonl:%zu: no valid `cast_bytes`", n), 0;
	if (!is_hex64(digest))
		return invalid(c, "audit.jsonl:%zu: no valid `cast_sha256`", n), 0;
	for (const struct record_type *t = record_types; t->type; t++) {
		if (strcmp(t->type, type) != 0)
			continue;
		for (const char *const *f = t->fields; *f; f++)
			if (!json_object_get(rec, *f))
				return invalid(c, "audit.jsonl:%zu: %s record without `%s`", n, type, *f), 0;
	}
	if ((n == 1) != (strcmp(type, "session.start") == 0))
		return invalid(c, n == 1 ? "audit.jsonl:1: the first record is not session.start"
					 : "audit.jsonl:%zu: session.start after the first record",
			       n),
		       0;
	if (json_integer_value(seq) != (json_int_t)(n - 1))
		return invalid(c,
			       "audit.jsonl:%zu: seq is %" JSON_INTEGER_FORMAT
			       ", expected %zu (a record is missing or out of order)",
			       n, json_integer_value(seq), n - 1),
		       0;
	if (n == 1)
		memset(want, '0', 64), want[64] = '\0';
	else
		record_sha256_hex(prev_line, prev_len, want);
	if (strcmp(prev, want) != 0) {
		if (n == 1)
			return invalid(c, "audit.jsonl:1: prev of the first record is not 64 zeros"), 0;
		return invalid(c, "audit.jsonl:%zu: prev does not match record %zu", n, n - 1), 0;
	}
	cb = json_integer_value(bytes);
	if ((uint64_t)cb < *last_bytes)
		return invalid(c, "audit.jsonl:%zu: cast_bytes %" JSON_INTEGER_FORMAT
				  " is less than record %zu's %llu",
			       n, cb, n - 1, (unsigned long long)*last_bytes),
		       0;
	if ((uint64_t)cb > h->size)
		return invalid(c,
			       "audit.jsonl:%zu: cast_bytes %" JSON_INTEGER_FORMAT
			       " is beyond the end of session.cast (%llu bytes): the recording was truncated",
			       n, cb, (unsigned long long)h->size),
		       0;
	if (cast_hash_to(h, (uint64_t)cb, got, err) < 0)
		return -1;
	if (strcmp(got, digest) != 0)
		return invalid(c,
			       "audit.jsonl:%zu: cast_sha256 does not match the first %" JSON_INTEGER_FORMAT
			       " bytes of session.cast: the recording was changed",
			       n, cb),
		       0;
	*last_bytes = (uint64_t)cb;
	return 0;
}

static int open_at(int dirfd, const char *name, struct dhi_err **err)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0 && errno != ENOENT)
		return dhi_err_set(err, errno, "cannot open `%s`", name);
	return fd;
}

static int read_audit_at(int dirfd, char **buf, size_t *len, struct dhi_err **err)
{
	dhi_autoclose int fd = open_at(dirfd, "audit.jsonl", err);

	*buf = NULL;
	*len = 0;
	if (fd < 0)
		return *err ? -1 : 0;
	if (fd_read_file(fd, AUDIT_MAX, buf, len, err) < 0)
		return dhi_err_prefix(err, "`audit.jsonl`");
	return 0;
}

/* session_verify_at(); each record that verified is appended to `recs` when it is not NULL. */
static int verify_at(int dirfd, struct session_check *c, json_t *recs, struct dhi_err **err)
{
	dhi_autofree char *audit = NULL;
	dhi_autoclose int cast = -1;
	struct cast_hash h = { .fd = -1 };
	const char *prev = NULL, *p, *end;
	size_t len, prev_len = 0, n = 0;
	uint64_t last_bytes = 0;
	bool ended = false, lost = false;
	struct stat st;

	memset(c, 0, sizeof(*c));
	if (read_audit_at(dirfd, &audit, &len, err) < 0)
		return -1;
	if (!audit)
		return invalid(c, "audit.jsonl: missing"), 0;
	cast = open_at(dirfd, "session.cast", err);
	if (cast < 0 && *err)
		return -1;
	if (cast >= 0 && fstat(cast, &st) < 0)
		return dhi_err_set(err, errno, "cannot stat `session.cast`");
	h = (struct cast_hash){ .fd = cast, .size = cast >= 0 ? (uint64_t)st.st_size : 0 };
	dhi_sha256_init(&h.md);
	c->cast_size = h.size;

	for (p = audit, end = audit + len; p < end; p = p + (size_t)(strchrnul(p, '\n') - p) + 1) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
		json_auto_t *rec = NULL;
		json_error_t jerr;

		n++;
		if (ended || lost)
			return invalid(c, "audit.jsonl:%zu: record after %s", n,
				       lost ? "session.lost" : "session.end"),
			       0;
		rec = json_loadb(p, ll, JSON_REJECT_DUPLICATES, &jerr);
		if (!json_is_object(rec))
			return invalid(c, "audit.jsonl:%zu: not a JSON object%s%s", n, rec ? "" : ": ",
				       rec ? "" : jerr.text),
			       0;
		if (check_record(rec, n, prev, prev_len, &last_bytes, &h, c, err) < 0)
			return -1;
		if (c->problem)
			return 0;
		c->records = n;
		c->cast_covered = last_bytes;
		if (recs)
			json_array_append(recs, rec);
		ended = strcmp(json_string_value(json_object_get(rec, "type")), "session.end") == 0;
		lost = strcmp(json_string_value(json_object_get(rec, "type")), "session.lost") == 0;
		prev = p;
		prev_len = ll;
		if (!nl)
			break;
	}
	if (n == 0)
		return invalid(c, "audit.jsonl: empty (no session.start)"), 0;
	c->state = ended ? SESSION_COMPLETE : SESSION_INCOMPLETE;
	return 0;
}

int session_verify_at(int dirfd, struct session_check *c, struct dhi_err **err)
{
	return verify_at(dirfd, c, NULL, err);
}

json_t *sessions_load_records_at(int dirfd, struct dhi_err **err)
{
	dhi_autofree char *audit = NULL;
	json_t *a = json_array();
	size_t len;

	if (read_audit_at(dirfd, &audit, &len, err) < 0) {
		json_decref(a);
		return NULL;
	}
	for (const char *p = audit, *end = audit + len; audit && p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
		json_t *rec = json_loadb(p, ll, 0, NULL);

		if (json_is_object(rec))
			json_array_append_new(a, rec);
		else
			json_decref(rec);
		if (!nl)
			break;
		p = nl + 1;
	}
	return a;
}

/* --- finding sessions --- */

static int open_dir(const struct sessions_opts *o, bool missing_ok, struct dhi_err **err)
{
	const char *dir = o->dir ? o->dir : SESSIONS_DEFAULT_DIR;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 && !(missing_ok && errno == ENOENT))
		return dhi_err_set(err, errno, "cannot open the sessions folder `%s`", dir);
	return fd;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The session folders under `dirfd`, sorted (ids sort by start time); NULL-terminated. */
static char **list_ids(int dirfd, size_t *count, struct dhi_err **err)
{
	autodir DIR *d = NULL;
	char **v = NULL;
	size_t n = 0;
	struct dirent *e;
	int fd = dirfd >= 0 ? openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;

	*count = 0;
	if (dirfd < 0)
		return xzalloc(sizeof(char *));
	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		dhi_err_set(err, errno, "cannot list the sessions folder");
		return NULL;
	}
	while ((e = readdir(d))) {
		struct stat st;

		if (e->d_name[0] == '.' || fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(st.st_mode))
			continue;
		v = xrealloc(v, (n + 2) * sizeof(*v));
		v[n++] = xstrdup(e->d_name);
	}
	if (!v)
		v = xzalloc(sizeof(char *));
	v[n] = NULL;
	qsort(v, n, sizeof(*v), by_name);
	*count = n;
	return v;
}

static void free_ids(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

/*
 * Opens the session `id`: a folder path when it has a slash, else a session
 * id in the sessions folder or a prefix of exactly one. *name gets the id.
 */
int sessions_open(const struct sessions_opts *o, const char *id, char **name, struct dhi_err **err)
{
	dhi_autoclose int dirfd = -1;
	char **ids = NULL, *found = NULL;
	size_t n, matches = 0;
	int fd;

	if (strchr(id, '/')) {
		const char *base = strrchr(id, '/') + 1;

		fd = open(id, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return dhi_err_set(err, errno, "cannot open session folder `%s`", id);
		*name = xstrdup(*base ? base : id);
		return fd;
	}
	if (!*id || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
		return dhi_err_set(err, 0, "invalid session id `%s`", id);
	dirfd = open_dir(o, false, err);
	if (dirfd < 0)
		return -1;
	fd = openat(dirfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0) {
		*name = xstrdup(id);
		return fd;
	}
	if (errno != ENOENT)
		return dhi_err_set(err, errno, "cannot open session `%s`", id);
	ids = list_ids(dirfd, &n, err);
	if (!ids)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (strncmp(ids[i], id, strlen(id)) == 0) {
			matches++;
			found = ids[i];
		}
	if (matches != 1) {
		free_ids(ids);
		if (matches)
			return dhi_err_set(err, 0, "session id `%s` is ambiguous (%zu sessions start with it)",
					   id, matches);
		return dhi_err_set(err, 0, "no session `%s` in `%s`", id,
				   o->dir ? o->dir : SESSIONS_DEFAULT_DIR);
	}
	fd = openat(dirfd, found, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		dhi_err_set(err, errno, "cannot open session `%s`", found);
	else
		*name = xstrdup(found);
	free_ids(ids);
	return fd;
}

/* --- summaries --- */

struct summary {
	char *id;
	json_t *start, *end;	/* borrowed from recs */
	json_t *recs;		/* every record; from the cache: the start, the execs, the end */
	size_t nrecs;		/* how many records audit.jsonl has */
	double t0, t1;		/* first and last record times */
	struct session_check check;
};

static void summary_free(struct summary *s)
{
	free(s->id);
	json_decref(s->recs);
	session_check_free(&s->check);
}

static int summarize_at(int fd, const char *id, struct summary *s, struct dhi_err **err)
{
	size_t n;

	memset(s, 0, sizeof(*s));
	s->id = xstrdup(id);
	s->t0 = s->t1 = -1;
	/* the records verified are the records: each line is parsed once */
	s->recs = json_array();
	if (verify_at(fd, &s->check, s->recs, err) < 0)
		return -1;
	if (s->check.state == SESSION_INVALID) {
		/* the lines after the bad one too, as far as they parse */
		json_decref(s->recs);
		s->recs = sessions_load_records_at(fd, err);
		if (!s->recs)
			return -1;
	}
	n = s->nrecs = json_array_size(s->recs);
	if (n > 0 && json_is_string(json_object_get(json_array_get(s->recs, 0), "type")) &&
	    strcmp(json_string_value(json_object_get(json_array_get(s->recs, 0), "type")), "session.start") == 0)
		s->start = json_array_get(s->recs, 0);
	for (size_t i = 0; i < n; i++) {
		json_t *r = json_array_get(s->recs, i);
		const char *type = json_string_value(json_object_get(r, "type"));
		double t = sessions_record_time(r);

		if (type && strcmp(type, "session.end") == 0)
			s->end = r;
		if (t >= 0 && s->t0 < 0)
			s->t0 = t;
		if (t >= 0)
			s->t1 = t;
	}
	return 0;
}

static const char *str_at(json_t *o, const char *obj, const char *key)
{
	return json_string_value(json_object_get(obj ? json_object_get(o, obj) : o, key));
}

static char *target_of(const struct summary *s)
{
	const char *rt = str_at(s->start, "target", "runtime"), *name = str_at(s->start, "target", "name"),
		   *id = str_at(s->start, "target", "id");

	if (!rt && !name && !id)
		return xstrdup("-");
	return xasprintf("%s://%s", rt ? rt : "?", name && *name ? name : id ? id : "?");
}

static char *operator_of(const struct summary *s)
{
	json_t *op = json_object_get(s->start, "operator");
	const char *sudo = str_at(op, NULL, "sudo_user");
	json_t *uid = json_object_get(op, "uid"), *login = json_object_get(op, "loginuid");

	if (sudo && *sudo)
		return xstrdup(sudo);
	/* a number or its decimal string; 4294967295 is "unset" (no login session) */
	long long l = json_is_integer(login) ? (long long)json_integer_value(login)
			: json_is_string(login) ? strtoll(json_string_value(login), NULL, 10) : -1;

	if (l >= 0 && l != 4294967295LL)
		return xasprintf("loginuid %lld", l);
	if (json_is_integer(uid))
		return xasprintf("uid %" JSON_INTEGER_FORMAT, json_integer_value(uid));
	return xstrdup("-");
}

static double duration_of(const struct summary *s)
{
	json_t *d = json_object_get(s->end, "duration");

	if (json_is_number(d))
		return json_number_value(d);
	return s->t0 >= 0 && s->t1 >= s->t0 ? s->t1 - s->t0 : -1;
}

static void fmt_time(double t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t < 0 || !gmtime_r(&tt, &tm) || !strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, size, "-");
}

static bool target_matches(const struct summary *s, const char *want)
{
	const char *rt = str_at(s->start, "target", "runtime"), *name = str_at(s->start, "target", "name"),
		   *id = str_at(s->start, "target", "id");
	dhi_autofree char *by_id = xasprintf("%s://%s", rt ? rt : "", id ? id : "");
	dhi_autofree char *by_name = xasprintf("%s://%s", rt ? rt : "", name ? name : "");

	return (id && (strcmp(id, want) == 0 || (strlen(want) >= 4 && strncmp(id, want, strlen(want)) == 0))) ||
	       (name && strcmp(name, want) == 0) || strcmp(by_id, want) == 0 || strcmp(by_name, want) == 0;
}

/* A string of the record, or the decimal of a number: how a name or a uid given on the command line compares. */
static bool field_is(json_t *v, const char *want)
{
	char num[32];

	if (json_is_string(v))
		return strcmp(json_string_value(v), want) == 0;
	if (json_is_integer(v)) {
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return strcmp(num, want) == 0;
	}
	return false;
}

/*
 * --operator: who operator_of() names (sudo_user, else loginuid, else uid),
 * by that name or number or as shown ("loginuid 1000"), or the Kubernetes user.
 */
static bool operator_matches(const struct summary *s, const char *want)
{
	json_t *op = json_object_get(s->start, "operator");
	const char *sudo = str_at(op, NULL, "sudo_user");
	json_t *login = json_object_get(op, "loginuid");
	dhi_autofree char *shown = operator_of(s);

	if (strcmp(shown, want) == 0 || field_is(json_object_get(json_object_get(op, "kubernetes"), "username"), want))
		return true;
	if (sudo && *sudo)
		return strcmp(sudo, want) == 0;
	if (strncmp(shown, "loginuid ", 9) == 0)
		return field_is(login, want);
	return field_is(json_object_get(op, "uid"), want);
}

static const char *base_name(const char *p)
{
	const char *b = p ? strrchr(p, '/') : NULL;

	return b ? b + 1 : p;
}

/*
 * --exec: an exec record (allowed or denied) of PROG: with a slash, its path
 * or the file it led to; without, also their last component, the applet, or
 * argv[0]'s last component.
 */
static bool exec_matches(const struct summary *s, const char *want)
{
	bool by_name = !strchr(want, '/');
	size_t i;
	json_t *r;

	json_array_foreach(s->recs, i, r) {
		const char *type = json_string_value(json_object_get(r, "type"));
		const char *path = str_at(r, NULL, "path"), *file = str_at(r, NULL, "file");
		const char *argv0 = json_string_value(json_array_get(json_object_get(r, "argv"), 0));
		const char *applet = str_at(r, NULL, "applet");

		if (!type || strcmp(type, "exec") != 0)
			continue;
		if ((path && strcmp(path, want) == 0) || (file && strcmp(file, want) == 0))
			return true;
		if (by_name && ((path && strcmp(base_name(path), want) == 0) ||
				(file && strcmp(base_name(file), want) == 0) ||
				(applet && strcmp(applet, want) == 0) ||
				(argv0 && strcmp(base_name(argv0), want) == 0)))
			return true;
	}
	return false;
}

/* The repository of a reference: without its @digest and :tag (a colon after the last slash). */
static size_t repo_len(const char *ref)
{
	size_t n = strcspn(ref, "@");
	const char *slash = memrchr(ref, '/', n), *colon = memrchr(ref, ':', n);

	if (colon && (!slash || colon > slash))
		n = (size_t)(colon - ref);
	return n;
}

/*
 * --image: the target's image as recorded, its digest, or, for a reference
 * without a tag or digest, every tag and digest of that repository.
 */
static bool image_matches(const struct summary *s, const char *want)
{
	const char *img = str_at(s->start, "target", "image"), *digest = str_at(s->start, "target", "image_digest");
	size_t n = strlen(want);

	if ((img && strcmp(img, want) == 0) || (digest && strcmp(digest, want) == 0))
		return true;
	return img && repo_len(want) == n && repo_len(img) == n && strncmp(img, want, n) == 0;
}

/* The filters of ls and grep (--target, --since, --operator, --exec, --image, --state). */
static bool selected(const struct sessions_opts *o, const struct summary *s, double since)
{
	return (!o->target || target_matches(s, o->target)) &&
	       (!o->since || (s->t0 >= 0 && s->t0 >= since)) &&
	       (!o->operator || operator_matches(s, o->operator)) &&
	       (!o->exec || exec_matches(s, o->exec)) && (!o->image || image_matches(s, o->image)) &&
	       (!o->state || strcmp(session_state_name(s->check.state), o->state) == 0);
}

static bool has_filters(const struct sessions_opts *o)
{
	return o->target || o->since || o->operator || o->exec || o->image || o->state;
}

/* The filters' values are valid (bad input is exit 125); *since gets --since's time. */
static int check_filters(const struct sessions_opts *o, double *since, struct dhi_err **err)
{
	*since = 0;
	if (o->since && sessions_parse_time(o->since, (double)time(NULL), since) < 0)
		return dhi_err_set(err, 0, "invalid --since `%s` (use 2026-05-28, 2026-05-28T10:00:00Z or 12h)",
				   o->since);
	if (o->state && strcmp(o->state, "complete") != 0 && strcmp(o->state, "incomplete") != 0 &&
	    strcmp(o->state, "invalid") != 0)
		return dhi_err_set(err, 0, "invalid --state `%s` (use complete, incomplete or invalid)", o->state);
	return 0;
}

static json_t *summary_json(const struct summary *s)
{
	json_t *o = json_object(), *st = json_object_get(s->end, "status");
	dhi_autofree char *op = operator_of(s);
	char when[40];
	double d = duration_of(s);

	fmt_time(s->t0, when, sizeof(when));
	json_object_set_new(o, "id", json_string(s->id));
	json_object_set_new(o, "started", s->t0 >= 0 ? json_string(json_string_value(json_object_get(s->start ? s->start : json_array_get(s->recs, 0), "time"))) : json_null());
	json_object_set(o, "target", s->start && json_object_get(s->start, "target") ? json_object_get(s->start, "target") : json_null());
	json_object_set_new(o, "operator", json_string(op));
	json_object_set(o, "profile", json_object_get(json_object_get(s->start, "profile"), "name") ?: json_null());
	json_object_set_new(o, "duration", d >= 0 ? json_real(d) : json_null());
	json_object_set(o, "status", st ? st : json_null());
	json_object_set(o, "reason", json_object_get(s->end, "reason") ?: json_null());
	json_object_set_new(o, "state", json_string(session_state_name(s->check.state)));
	json_object_set_new(o, "records", json_integer((json_int_t)s->nrecs));
	json_object_set_new(o, "problem", s->check.problem ? json_string(s->check.problem) : json_null());
	return o;
}

/* The line `sessions ls` prints for a session; it ends with the state (grep_state() reads it). */
static char *row_text(const struct summary *s)
{
	dhi_autofree char *tgt = target_of(s), *op = operator_of(s);
	const char *prof = str_at(s->start, "profile", "name");
	json_t *st = json_object_get(s->end, "status");
	char when[40], dur[32] = "-", status[24] = "-";
	double d = duration_of(s);

	fmt_time(s->t0, when, sizeof(when));
	if (d >= 0)
		snprintf(dur, sizeof(dur), "%.1fs", d);
	if (json_is_integer(st))
		snprintf(status, sizeof(status), "%" JSON_INTEGER_FORMAT, json_integer_value(st));
	return xasprintf("%-26s  %-20s  %-24s  %-12s  %-10s  %9s  %6s  %s", s->id, when, tgt, op,
			 prof ? prof : "-", dur, status, session_state_name(s->check.state));
}

/* --- the summary cache (index.c) --- */

/* Copies of the fields of `from` named in `keys` that it has. */
static json_t *pick(json_t *from, const char *const *keys)
{
	json_t *o = json_object();

	for (; *keys; keys++)
		if (json_object_get(from, *keys))
			json_object_set(o, *keys, json_object_get(from, *keys));
	return o;
}

/*
 * What ls prints and its filters look at, of a session that verified: the start record's time,
 * operator, target and profile name, the end record's, each distinct exec identity (path, file,
 * applet, argv[0]), the record count, the first and last times and the verification.
 */
static json_t *entry_of(const struct summary *s)
{
	static const char *const start_keys[] = { "type", "time", "operator", "target", NULL };
	static const char *const end_keys[] = { "type", "time", "status", "reason", "duration", NULL };
	static const char *const exec_keys[] = { "type", "path", "file", "applet", NULL };
	json_t *start = pick(s->start, start_keys), *execs = json_array(), *r;
	size_t i;

	if (json_object_get(json_object_get(s->start, "profile"), "name"))
		json_object_set_new(start, "profile", json_pack("{s:O}", "name",
			json_object_get(json_object_get(s->start, "profile"), "name")));
	json_array_foreach(s->recs, i, r) {
		const char *type = json_string_value(json_object_get(r, "type"));
		json_t *e, *argv0 = json_array_get(json_object_get(r, "argv"), 0), *have;
		size_t j;
		bool dup = false;

		if (!type || strcmp(type, "exec") != 0)
			continue;
		e = pick(r, exec_keys);
		if (argv0)
			json_object_set_new(e, "argv", json_pack("[O]", argv0));
		json_array_foreach(execs, j, have)
			if ((dup = json_equal(have, e)))
				break;
		if (dup)
			json_decref(e);
		else
			json_array_append_new(execs, e);
	}
	return json_pack("{s:s, s:I, s:I, s:I, s:f, s:f, s:o, s:o, s:o}", "state",
			 session_state_name(s->check.state), "records", (json_int_t)s->nrecs,
			 "covered", (json_int_t)s->check.cast_covered, "size",
			 (json_int_t)s->check.cast_size, "t0", s->t0, "t1", s->t1, "start", start, "end",
			 s->end ? pick(s->end, end_keys) : json_null(), "execs", execs);
}

/* A summary from a cache entry (its JSON borrowed into s->recs). */
static void from_entry(json_t *e, const char *id, struct summary *s)
{
	json_t *start = json_object_get(e, "start"), *end = json_object_get(e, "end");
	const char *state = json_string_value(json_object_get(e, "state"));

	memset(s, 0, sizeof(*s));
	s->id = xstrdup(id);
	s->recs = json_array();
	json_array_append(s->recs, start);
	json_array_extend(s->recs, json_object_get(e, "execs"));
	s->start = start;
	if (json_is_object(end)) {
		json_array_append(s->recs, end);
		s->end = end;
	}
	s->nrecs = (size_t)json_integer_value(json_object_get(e, "records"));
	s->t0 = json_number_value(json_object_get(e, "t0"));
	s->t1 = json_number_value(json_object_get(e, "t1"));
	s->check.state = state && strcmp(state, "complete") == 0 ? SESSION_COMPLETE : SESSION_INCOMPLETE;
	s->check.records = s->nrecs;
	s->check.cast_covered = (uint64_t)json_integer_value(json_object_get(e, "covered"));
	s->check.cast_size = (uint64_t)json_integer_value(json_object_get(e, "size"));
}

/* The stat of both files of the session in `fd` (session.cast's zero when there is none). */
static bool session_stats(int fd, struct stat *audit, struct stat *cast)
{
	memset(cast, 0, sizeof(*cast));
	return fstatat(fd, "audit.jsonl", audit, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(audit->st_mode) &&
	       (fstatat(fd, "session.cast", cast, AT_SYMLINK_NOFOLLOW) == 0 || errno == ENOENT);
}

/* The cached `ls` row of the session in `fd`, when its files are as they were (borrowed). */
static bool cached_row(struct sessions_index *ix, int fd, const char *id, struct sessions_index_hit *hit)
{
	struct stat audit, cast;

	return session_stats(fd, &audit, &cast) && sessions_index_get(ix, id, &audit, &cast, hit);
}

/*
 * summarize_at() through the cache: a session whose two files are as they were when it
 * verified (device, inode, size, mtime and ctime) is not read again. Invalid sessions are
 * never cached, so their problem is always found afresh.
 */
static int summarize_cached(struct sessions_index *ix, int fd, const char *id, struct summary *s,
			    struct dhi_err **err)
{
	struct sessions_index_hit hit;
	struct stat audit, cast;
	bool stats = session_stats(fd, &audit, &cast);

	if (stats && sessions_index_get(ix, id, &audit, &cast, &hit)) {
		json_auto_t *e = json_loadb(hit.json, hit.json_len, 0, NULL);

		if (json_is_object(json_object_get(e, "start"))) {
			from_entry(e, id, s);
			return 0;
		}
	}
	if (summarize_at(fd, id, s, err) < 0)
		return -1;
	if (stats && s->check.state != SESSION_INVALID && s->start) {
		json_auto_t *e = entry_of(s);
		dhi_autofree char *row = row_text(s);

		sessions_index_put(ix, id, &audit, &cast, row, e);
	}
	return 0;
}

/*
 * Whether a session whose cached summary is the JSON text <json, len> can pass the filters:
 * false only when a string that every selected session's summary holds verbatim is not in
 * it. --operator `uid N` or `loginuid N` needs N; --exec, --image and --target their value
 * (a path, a name or a prefix of a value; for `RUNTIME://X`, what follows the last `://`,
 * a part of the id or name), since each matches a value of the summary that contains it.
 * jansson writes a string's bytes as they are but for `"`, `\` and control characters:
 * a value with one of those is not looked for. Only spares parsing the summary; the
 * filters themselves decide.
 */
static bool may_select(const struct sessions_opts *o, const char *json, size_t len)
{
	const char *want[4] = { o->operator, o->exec, o->image, o->target };

	if (o->operator && strncmp(o->operator, "uid ", 4) == 0)
		want[0] = o->operator + 4;
	else if (o->operator && strncmp(o->operator, "loginuid ", 9) == 0)
		want[0] = o->operator + 9;
	if (o->target) {
		for (const char *p = strstr(o->target, "://"); p; p = strstr(p + 1, "://"))
			want[3] = p + 3;
	}
	for (int i = 0; i < 4; i++) {
		bool plain = want[i] && *want[i];

		for (const char *c = want[i]; plain && *c; c++)
			plain = (unsigned char)*c >= 0x20 && *c != '"' && *c != '\\';
		if (plain && !memmem(json, len, want[i], strlen(want[i])))
			return false;
	}
	return true;
}

int sessions_ls(const struct sessions_opts *o, FILE *out, struct dhi_err **err)
{
	dhi_autoclose int dirfd = open_dir(o, true, err);
	struct sessions_index *ix = NULL;
	char **ids;
	size_t n;
	double since = 0;
	json_t *arr = json_array();

	if (dirfd < 0 && *err)
		return json_decref(arr), -1;
	if (check_filters(o, &since, err) < 0)
		return json_decref(arr), -1;
	ids = list_ids(dirfd, &n, err);
	if (!ids)
		return json_decref(arr), -1;
	ix = sessions_index_load(dirfd);
	if (!o->json)
		fprintf(out, "%-26s  %-20s  %-24s  %-12s  %-10s  %9s  %6s  %s\n", "ID", "STARTED", "TARGET",
			"OPERATOR", "PROFILE", "DURATION", "STATUS", "STATE");
	for (size_t i = 0; i < n; i++) {
		dhi_autoclose int fd = openat(dirfd, ids[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		struct sessions_index_hit hit;
		struct summary s;

		if (fd < 0)
			continue;
		/* unfiltered rows as cached: nothing of the session is parsed */
		if (!o->json && !has_filters(o) && cached_row(ix, fd, ids[i], &hit)) {
			fwrite(hit.row, 1, hit.row_len, out);
			fputc('\n', out);
			continue;
		}
		if (has_filters(o) && cached_row(ix, fd, ids[i], &hit) &&
		    !may_select(o, hit.json, hit.json_len))
			continue;
		if (summarize_cached(ix, fd, ids[i], &s, err) < 0) {
			summary_free(&s);
			free_ids(ids);
			json_decref(arr);
			sessions_index_free(ix);
			return dhi_err_prefix(err, "session `%s`", ids[i]);
		}
		if (!selected(o, &s, since)) {
			summary_free(&s);
			continue;
		}
		if (o->json) {
			json_array_append_new(arr, summary_json(&s));
		} else {
			dhi_autofree char *row = row_text(&s);

			fprintf(out, "%s\n", row);
		}
		summary_free(&s);
	}
	if (o->json) {
		char *js = json_dumps(arr, JSON_INDENT(2) | JSON_ENSURE_ASCII);

		fprintf(out, "%s\n", js ? js : "[]");
		free(js);
	}
	json_decref(arr);
	free_ids(ids);
	/* every session was looked at: entries of sessions no longer there go */
	sessions_index_save(ix, dirfd, true);
	sessions_index_free(ix);
	return 0;
}

/* --- show --- */

char *sessions_argv_string(json_t *argv)
{
	size_t i;
	json_t *a;
	char *s = xstrdup("");

	json_array_foreach(argv, i, a) {
		const char *w = json_string_value(a);
		char *q, *next;

		if (!w)
			w = "?";
		if (*w && strspn(w, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%") ==
				  strlen(w)) {
			q = xstrdup(w);
		} else {
			/* single quotes, each ' as '\'' (as a POSIX shell reads it back) */
			size_t cap = strlen(w) * 4 + 3, k = 0;

			q = xmalloc(cap);
			q[k++] = '\'';
			for (const char *c = w; *c; c++) {
				if (*c == '\'') {
					memcpy(q + k, "'\\''", 4);
					k += 4;
				} else {
					q[k++] = *c;
				}
			}
			q[k++] = '\'';
			q[k] = '\0';
		}
		next = xasprintf("%s%s%s", s, i ? " " : "", q);
		free(q);
		free(s);
		s = next;
	}
	return s;
}

/* Terminal control characters from the audit are shown escaped, never sent to the reviewer's tty. */
static void put_safe(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\x%02x", c);
		else
			fputc(c, out);
	}
}

/* copy.start, copy.file, copy.skip, copy.end (dhidebug cp) */
static void show_copy(json_t *r, const char *type, FILE *out)
{
	const char *ft = str_at(r, NULL, "file_type");

	if (strcmp(type, "copy.start") == 0) {
		bool in = str_at(r, NULL, "direction") && strcmp(str_at(r, NULL, "direction"), "in") == 0;

		fputs("copy      ", out);
		put_safe(out, in ? str_at(r, NULL, "host_path") : str_at(r, NULL, "target"));
		if (!in)
			fputc(':', out);
		put_safe(out, in ? "" : str_at(r, NULL, "container_path"));
		fputs(" -> ", out);
		put_safe(out, in ? str_at(r, NULL, "target") : str_at(r, NULL, "host_path"));
		if (in)
			fputc(':', out);
		put_safe(out, in ? str_at(r, NULL, "container_path") : "");
		fputc('\n', out);
	} else if (strcmp(type, "copy.file") == 0) {
		fprintf(out, "copied    %-9s ", ft ? ft : "?");
		put_safe(out, str_at(r, NULL, "path"));
		fputs("  ", out);
		put_safe(out, str_at(r, NULL, "mode"));
		fprintf(out, " %" JSON_INTEGER_FORMAT ":%" JSON_INTEGER_FORMAT,
			json_integer_value(json_object_get(r, "uid")),
			json_integer_value(json_object_get(r, "gid")));
		if (str_at(r, NULL, "link")) {
			fputs(" -> ", out);
			put_safe(out, str_at(r, NULL, "link"));
		}
		if (str_at(r, NULL, "sha256")) {
			fprintf(out, " %" JSON_INTEGER_FORMAT " bytes sha256 ",
				json_integer_value(json_object_get(r, "size")));
			put_safe(out, str_at(r, NULL, "sha256"));
		}
		fputc('\n', out);
	} else if (strcmp(type, "copy.skip") == 0) {
		fprintf(out, "skipped   %-9s ", ft ? ft : "?");
		put_safe(out, str_at(r, NULL, "path"));
		fputs(": ", out);
		put_safe(out, str_at(r, NULL, "reason"));
		fputc('\n', out);
	} else if (strcmp(type, "copy.end") == 0) {
		fputs("copy.end  ", out);
		put_safe(out, str_at(r, NULL, "status"));
		fprintf(out, ", %" JSON_INTEGER_FORMAT " entries, %" JSON_INTEGER_FORMAT
			" bytes, %" JSON_INTEGER_FORMAT " skipped",
			json_integer_value(json_object_get(r, "files")),
			json_integer_value(json_object_get(r, "bytes")),
			json_integer_value(json_object_get(r, "skipped")));
		if (str_at(r, NULL, "reason")) {
			fputs(": ", out);
			put_safe(out, str_at(r, NULL, "reason"));
		}
		fputc('\n', out);
	} else {
		put_safe(out, type);
		fputc('\n', out);
	}
}

void sessions_show_record(json_t *r, double t0, FILE *out)
{
	const char *type = json_string_value(json_object_get(r, "type"));
	double t = sessions_record_time(r);
	json_t *st = json_object_get(r, "status");

	fprintf(out, "%+10.3f  ", t >= 0 && t0 >= 0 ? t - t0 : 0.0);
	if (!type) {
		fputs("?\n", out);
	} else if (strcmp(type, "session.start") == 0) {
		fputs("start     ", out);
		put_safe(out, str_at(r, NULL, "session"));
		if (json_is_string(json_object_get(r, "command"))) {
			fputs("  -c ", out);
			put_safe(out, str_at(r, NULL, "command"));
		} else if (json_is_array(json_object_get(r, "command"))) {
			dhi_autofree char *a = sessions_argv_string(json_object_get(r, "command"));

			fputs("  -- ", out);
			put_safe(out, a);
		}
		fputc('\n', out);
	} else if (strcmp(type, "line") == 0) {
		fputs("line      ", out);
		put_safe(out, str_at(r, NULL, "text"));
		fputs("   (in ", out);
		put_safe(out, str_at(r, NULL, "cwd") ? str_at(r, NULL, "cwd") : "?");
		fputs(")\n", out);
	} else if (strcmp(type, "line.end") == 0) {
		json_t *d = json_object_get(r, "duration");

		fprintf(out, "line.end  status %s%" JSON_INTEGER_FORMAT ", %.3f s: ", json_is_integer(st) ? "" : "?",
			json_integer_value(st), json_number_value(d));
		put_safe(out, str_at(r, NULL, "text"));
		fputc('\n', out);
	} else if (strcmp(type, "exec") == 0) {
		dhi_autofree char *a = sessions_argv_string(json_object_get(r, "argv"));
		const char *dec = str_at(r, NULL, "decision");
		const char *path = str_at(r, NULL, "path"), *file = str_at(r, NULL, "file");

		fprintf(out, "exec      %-7s ", dec ? dec : "?");
		put_safe(out, path);
		/* what the path led to, and the applet a multi-call binary ran */
		if (file && (!path || strcmp(file, path) != 0)) {
			fputs(" -> ", out);
			put_safe(out, file);
		}
		if (str_at(r, NULL, "applet")) {
			fputs(" [applet ", out);
			put_safe(out, str_at(r, NULL, "applet"));
			fputc(']', out);
		}
		fputs(": ", out);
		put_safe(out, a);
		fprintf(out, "  (pid %" JSON_INTEGER_FORMAT ", ppid %" JSON_INTEGER_FORMAT ")",
			json_integer_value(json_object_get(r, "pid")), json_integer_value(json_object_get(r, "ppid")));
		if (str_at(r, NULL, "reason")) {
			fputs(": ", out);
			put_safe(out, str_at(r, NULL, "reason"));
		}
		fputc('\n', out);
	} else if (strcmp(type, "redact") == 0) {
		fputs("redact    ", out);
		put_safe(out, str_at(r, NULL, "pattern"));
		fprintf(out, ": %" JSON_INTEGER_FORMAT " replaced in the output (session.cast byte %" JSON_INTEGER_FORMAT ")\n",
			json_integer_value(json_object_get(r, "count")),
			json_integer_value(json_object_get(r, "cast_offset")));
	} else if (strcmp(type, "resize") == 0) {
		fprintf(out, "resize    %" JSON_INTEGER_FORMAT "x%" JSON_INTEGER_FORMAT "\n",
			json_integer_value(json_object_get(r, "width")),
			json_integer_value(json_object_get(r, "height")));
	} else if (strncmp(type, "copy.", 5) == 0) {
		show_copy(r, type, out);
	} else if (strcmp(type, "session.end") == 0) {
		fprintf(out, "end       status %" JSON_INTEGER_FORMAT ", reason ", json_integer_value(st));
		put_safe(out, str_at(r, NULL, "reason"));
		fprintf(out, ", %.3f s, %" JSON_INTEGER_FORMAT " bytes in, %" JSON_INTEGER_FORMAT " bytes out\n",
			json_number_value(json_object_get(r, "duration")),
			json_integer_value(json_object_get(r, "bytes_in")),
			json_integer_value(json_object_get(r, "bytes_out")));
	} else {
		put_safe(out, type);
		fputc('\n', out);
	}
}

void sessions_print_check(const char *id, const struct session_check *c, FILE *out)
{
	if (c->state == SESSION_INVALID) {
		fprintf(out, "%s: invalid: %s\n", id, c->problem);
		return;
	}
	fprintf(out, "%s: ok: %s%s, %zu records, %llu bytes of recording", id, session_state_name(c->state),
		c->state == SESSION_INCOMPLETE ? " (no session.end: the supervisor died; verified up to the last record)" : "",
		c->records, (unsigned long long)c->cast_covered);
	if (c->cast_size > c->cast_covered)
		fprintf(out, "; the last %llu bytes of session.cast are after the last record (not covered)",
			(unsigned long long)(c->cast_size - c->cast_covered));
	fputc('\n', out);
}

int sessions_show(const struct sessions_opts *o, FILE *out, struct dhi_err **err)
{
	dhi_autofree char *id = NULL, *tgt = NULL, *op = NULL;
	dhi_autoclose int fd = sessions_open(o, o->id, &id, err);
	struct summary s;
	char when[40];
	const char *v;

	if (fd < 0)
		return -1;
	if (summarize_at(fd, id, &s, err) < 0) {
		summary_free(&s);
		return -1;
	}
	tgt = target_of(&s);
	op = operator_of(&s);
	fmt_time(s.t0, when, sizeof(when));
	fprintf(out, "session   %s\nstarted   %s\ntarget    ", s.id, when);
	put_safe(out, tgt);
	if ((v = str_at(s.start, "target", "image"))) {
		fputs("  image ", out);
		put_safe(out, v);
	}
	fprintf(out, "  pid %" JSON_INTEGER_FORMAT "\noperator  ",
		json_integer_value(json_object_get(json_object_get(s.start, "target"), "pid")));
	put_safe(out, op);
	if ((v = str_at(s.start, "operator", "host"))) {
		fputs(" on ", out);
		put_safe(out, v);
	}
	if ((v = str_at(s.start, "operator", "tty"))) {
		fputs(", tty ", out);
		put_safe(out, v);
	}
	fputs("\nprofile   ", out);
	put_safe(out, str_at(s.start, "profile", "name") ? str_at(s.start, "profile", "name") : "-");
	fputs("\ntoolbox   ", out);
	put_safe(out, str_at(s.start, "toolbox", "ref") ? str_at(s.start, "toolbox", "ref") : "-");
	fputs("\n\n", out);
	for (size_t i = 0; i < json_array_size(s.recs); i++)
		sessions_show_record(json_array_get(s.recs, i), s.t0, out);
	fputc('\n', out);
	sessions_print_check(s.id, &s.check, out);
	summary_free(&s);
	return 0;
}

/* --- verify --- */

static int verify_one(int fd, const char *id, FILE *out, struct dhi_err **err)
{
	struct session_check c;
	int bad;

	if (session_verify_at(fd, &c, err) < 0)
		return dhi_err_prefix(err, "session `%s`", id);
	sessions_print_check(id, &c, out);
	bad = c.state == SESSION_INVALID;
	session_check_free(&c);
	return bad;
}

int sessions_verify(const struct sessions_opts *o, FILE *out, struct dhi_err **err)
{
	dhi_autoclose int dirfd = -1;
	char **ids;
	size_t n;
	int bad = 0;

	if (!o->all) {
		dhi_autofree char *id = NULL;
		dhi_autoclose int fd = sessions_open(o, o->id, &id, err);

		if (fd < 0)
			return -1;
		bad = o->against ? sessions_against_at(fd, id, o->against, out, err)
				 : verify_one(fd, id, out, err);
		return bad < 0 ? -1 : bad;
	}
	dirfd = open_dir(o, false, err);
	if (dirfd < 0)
		return -1;
	ids = list_ids(dirfd, &n, err);
	if (!ids)
		return -1;
	for (size_t i = 0; i < n && bad >= 0; i++) {
		dhi_autoclose int fd = openat(dirfd, ids[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		int r;

		if (fd < 0) {
			dhi_err_set(err, errno, "cannot open session `%s`", ids[i]);
			bad = -1;
			break;
		}
		r = verify_one(fd, ids[i], out, err);
		bad = r < 0 ? -1 : bad | r;
	}
	if (bad == 0 && n == 0)
		fprintf(out, "no sessions in `%s`\n", o->dir ? o->dir : SESSIONS_DEFAULT_DIR);
	free_ids(ids);
	return bad;
}

/* --- grep --- */

/*
 * The state of session `id` (folder `fd`) for grep --json: from `s` when `*have` (it was
 * summarized for the filters), else from the cache (an entry is a session that verified, its
 * row ending with the state), else from a summary into `s` (then *have is set). NULL with
 * err set when the session cannot be read.
 */
static const char *grep_state(struct sessions_index *ix, int fd, const char *id, struct summary *s,
			      bool *have, struct dhi_err **err)
{
	struct sessions_index_hit hit;
	static const char inc[] = "incomplete";

	if (*have)
		return session_state_name(s->check.state);
	if (cached_row(ix, fd, id, &hit))
		return hit.row_len >= strlen(inc) &&
				       memcmp(hit.row + hit.row_len - strlen(inc), inc, strlen(inc)) == 0
			       ? "incomplete"
			       : "complete";
	*have = true;
	if (summarize_cached(ix, fd, id, s, err) < 0)
		return NULL;
	return session_state_name(s->check.state);
}

/*
 * sessions grep: the matching lines of every session's output, in session
 * order; with filters, of the sessions they select. Exit 0 when a line
 * matched, 1 when none did (as grep).
 */
int sessions_grep(const struct sessions_opts *o, FILE *out, struct dhi_err **err)
{
	dhi_autoclose int dirfd = open_dir(o, true, err);
	json_auto_t *arr = o->json ? json_array() : NULL;
	struct sessions_index *ix = NULL;
	regex_t re;
	char **ids;
	size_t n;
	double since;
	int rc, found = 0;

	if (dirfd < 0 && *err)
		return -1;
	if (check_filters(o, &since, err) < 0)
		return -1;
	rc = regcomp(&re, o->pattern, REG_EXTENDED | REG_NOSUB);
	if (rc != 0) {
		char why[256];

		regerror(rc, &re, why, sizeof(why));
		return dhi_err_set(err, 0, "invalid pattern `%s`: %s", o->pattern, why);
	}
	ids = list_ids(dirfd, &n, err);
	ix = ids ? sessions_index_load(dirfd) : NULL;
	for (size_t i = 0; ids && i < n; i++) {
		dhi_autoclose int fd = openat(dirfd, ids[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		struct summary s = { 0 };
		bool have = false;
		int m;

		if (fd < 0)
			continue;
		if (has_filters(o)) {
			struct sessions_index_hit hit;
			bool want;

			if (cached_row(ix, fd, ids[i], &hit) && !may_select(o, hit.json, hit.json_len))
				continue;
			if (summarize_cached(ix, fd, ids[i], &s, err) < 0) {
				summary_free(&s);
				found = -1;
				dhi_err_prefix(err, "session `%s`", ids[i]);
				break;
			}
			have = true;
			want = selected(o, &s, since);
			if (!want) {
				summary_free(&s);
				continue;
			}
		}
		m = sessions_grep_cast_at(fd, ids[i], &re, out, arr, err);
		/* --json: each match says whether its session verifies (the lines are vouched for) */
		if (m > 0 && arr) {
			const char *state = grep_state(ix, fd, ids[i], &s, &have, err);

			if (!state)
				m = -1;
			for (size_t k = json_array_size(arr) - (size_t)(m > 0 ? m : 0); state && k < json_array_size(arr); k++)
				json_object_set_new(json_array_get(arr, k), "state", json_string(state));
		}
		if (have)
			summary_free(&s);
		if (m < 0) {
			found = -1;
			dhi_err_prefix(err, "session `%s`", ids[i]);
			break;
		}
		found += m;
	}
	/* with filters every session was looked at; without, only those that matched */
	if (found >= 0)
		sessions_index_save(ix, dirfd, has_filters(o));
	sessions_index_free(ix);
	regfree(&re);
	if (!ids)
		return -1;
	free_ids(ids);
	if (found < 0)
		return -1;
	if (arr) {
		char *js = json_dumps(arr, JSON_INDENT(2) | JSON_ENSURE_ASCII);

		fprintf(out, "%s\n", js ? js : "[]");
		free(js);
	}
	return found > 0 ? 0 : 1;
}

/* One session's pending records and recording to the collector; 1 when some stay. */
static int ship_one(int fd, const char *id, const struct collector *c, FILE *out)
{
	struct dhi_err *e = NULL;
	int n = ship_pending(fd, id, c, true, &e);

	if (n < 0) {
		char *why = dhi_err_string(e);

		fprintf(out, "%s: not shipped: %s\n", id, why);
		free(why);
		dhi_err_clear(&e);
		return 1;
	}
	if (n > 0)
		fprintf(out, "%s: shipped %d\n", id, n);
	return 0;
}

/*
 * sessions ship: sends what the policy's collector has not acknowledged yet,
 * in order (the session folders are the spool). Exit 1 while something stays.
 */
int sessions_ship(const struct sessions_opts *o, FILE *out, struct dhi_err **err)
{
	struct policy pol;
	dhi_autoclose int dirfd = -1;
	int bad = 0;

	if (policy_load(o->policy, &pol, err) < 0)
		return -1;
	if (!pol.collector.url)
		return dhi_err_set(err, 0, "the policy has no `collector` to ship to");
	if (!o->all) {
		dhi_autofree char *id = NULL;
		dhi_autoclose int fd = sessions_open(o, o->id, &id, err);

		return fd < 0 ? -1 : ship_one(fd, id, &pol.collector, out);
	}
	dirfd = open_dir(o, true, err);
	if (dirfd < 0)
		return *err ? -1 : 0;
	{
		size_t n;
		char **ids = list_ids(dirfd, &n, err);

		if (!ids)
			return -1;
		for (size_t i = 0; i < n; i++) {
			int fd = openat(dirfd, ids[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (fd < 0)
				continue;
			bad |= ship_one(fd, ids[i], &pol.collector, out);
			close(fd);
		}
		free_ids(ids);
	}
	return bad;
}
