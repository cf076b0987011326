// SPDX-License-Identifier: Apache-2.0
/*
 * test_sessions.c - verification of recorded sessions: hand-made recordings
 * (a tiny writer below follows docs/recording.md) and each kind of tampering.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <openssl/evp.h>
#include <regex.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/err.h"
#include "injector/cmd/cmd.h"
#include "injector/record/sessions.h"

static char tmpdir[] = "/tmp/test_sessions.XXXXXX";
static int case_no;

/* --- a tiny writer: one session folder, the chain computed as docs/recording.md says --- */

struct gen {
	char dir[256];
	char *cast, *audit;
	size_t cast_len, audit_len;
	char prev[65];
	int seq;
	double t;
};

static void sha256_hex(const void *p, size_t n, char out[65])
{
	unsigned char d[32];
	unsigned int dl = 0;

	assert_true(EVP_Digest(p, n, d, &dl, EVP_sha256(), NULL));
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static void append(char **buf, size_t *len, const char *s, size_t n)
{
	*buf = realloc(*buf, *len + n + 1);
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = '\0';
}

static void gen_init(struct gen *g)
{
	memset(g, 0, sizeof(*g));
	snprintf(g->dir, sizeof(g->dir), "%s/20260528T101112Z-%08x", tmpdir, ++case_no);
	assert_int_equal(mkdir(g->dir, 0700), 0);
	memset(g->prev, '0', 64);
	g->t = 1779963072.25; /* 2026-05-28T10:11:12.25Z */
	append(&g->cast, &g->cast_len,
	       "{\"version\": 2, \"width\": 80, \"height\": 24, \"timestamp\": 1779963072, "
	       "\"env\": {\"TERM\": \"xterm\", \"SHELL\": \"dhish\"}, \"title\": \"dhidebug runc://web\"}\n",
	       strlen("{\"version\": 2, \"width\": 80, \"height\": 24, \"timestamp\": 1779963072, "
		      "\"env\": {\"TERM\": \"xterm\", \"SHELL\": \"dhish\"}, \"title\": \"dhidebug runc://web\"}\n"));
}

static void gen_event(struct gen *g, double at, const char *code, const char *data)
{
	json_t *ev = json_pack("[f, s, s]", at, code, data);
	char *s = json_dumps(ev, JSON_COMPACT);

	append(&g->cast, &g->cast_len, s, strlen(s));
	append(&g->cast, &g->cast_len, "\n", 1);
	free(s);
	json_decref(ev);
}

/* Appends a record of `type` with `fields` (stolen) and the chain fields. */
static void gen_record(struct gen *g, const char *type, json_t *fields)
{
	char when[64], digest[65], *line;
	time_t sec = (time_t)g->t;
	struct tm tm;

	gmtime_r(&sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + strlen(when), sizeof(when) - strlen(when), ".%06dZ",
		 (int)((g->t - (double)sec) * 1e6));
	g->t += 0.5;
	sha256_hex(g->cast, g->cast_len, digest);
	json_object_set_new(fields, "seq", json_integer(g->seq++));
	json_object_set_new(fields, "time", json_string(when));
	json_object_set_new(fields, "type", json_string(type));
	json_object_set_new(fields, "prev", json_string(g->prev));
	json_object_set_new(fields, "cast_bytes", json_integer((json_int_t)g->cast_len));
	json_object_set_new(fields, "cast_sha256", json_string(digest));
	line = json_dumps(fields, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(fields);
	sha256_hex(line, strlen(line), g->prev);
	append(&g->audit, &g->audit_len, line, strlen(line));
	append(&g->audit, &g->audit_len, "\n", 1);
	free(line);
}

static void write_file(const char *dir, const char *name, const char *buf, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	fclose(f);
}

static void gen_flush(struct gen *g)
{
	write_file(g->dir, "session.cast", g->cast, g->cast_len);
	write_file(g->dir, "audit.jsonl", g->audit, g->audit_len);
}

static void gen_free(struct gen *g)
{
	free(g->cast);
	free(g->audit);
}

/*
 * A session of 8 records: start, line, exec, exec, line.end, resize, exec (denied),
 * and (when `end`) session.end.
 */
static void gen_session(struct gen *g, bool end)
{
	gen_init(g);
	gen_record(g, "session.start",
		   json_pack("{s:s, s:{s:i, s:i, s:n, s:s, s:s}, s:{s:s, s:s, s:s, s:n, s:n, s:i},"
			     " s:{s:s, s:n}, s:{s:s, s:s, s:s}, s:s, s:n, s:s}",
			     "session", "20260528T101112Z-00000001", "operator", "uid", 0, "loginuid", 1000,
			     "sudo_user", "host", "vm", "tty", "/dev/pts/1", "target", "runtime", "runc", "id",
			     "web", "name", "web", "image", "image_digest", "pid", 4242, "toolbox", "ref",
			     "/tb", "digest", "profile", "name", "general", "capabilities", "cap_kill",
			     "filter_sha256", "00", "view", "auto", "command", "dhidebug", "0.1.0"));
	gen_event(g, 0.1, "m", "ls /proc | wc -l");
	gen_record(g, "line", json_pack("{s:s, s:s}", "text", "ls /proc | wc -l", "cwd", "/"));
	gen_record(g, "exec", json_pack("{s:i, s:i, s:s, s:[s, s], s:s}", "pid", 10, "ppid", 9, "path",
					"/usr/bin/ls", "argv", "ls", "/proc", "decision", "allowed"));
	gen_record(g, "exec", json_pack("{s:i, s:i, s:s, s:[s, s], s:s}", "pid", 11, "ppid", 9, "path",
					"/usr/bin/wc", "argv", "wc", "-l", "decision", "allowed"));
	gen_event(g, 0.2, "o", "57\r\n");
	gen_record(g, "line.end", json_pack("{s:s, s:i, s:f}", "text", "ls /proc | wc -l", "status", 0,
					    "duration", 0.1));
	gen_event(g, 0.3, "r", "100x40");
	gen_record(g, "resize", json_pack("{s:i, s:i}", "width", 100, "height", 40));
	gen_event(g, 0.4, "o", "hello \xe2\x9c\x93\r\n");
	gen_record(g, "exec", json_pack("{s:i, s:i, s:s, s:[s], s:s, s:s}", "pid", 12, "ppid", 9, "path",
					"/bin/bash", "argv", "bash", "decision", "denied", "reason",
					"shells are not allowed"));
	if (end)
		gen_record(g, "session.end", json_pack("{s:i, s:f, s:i, s:i, s:s}", "status", 0, "duration",
						       3.5, "bytes_in", 20, "bytes_out", 17, "reason", "exit"));
	gen_flush(g);
}

/* --- editing the files the way an intruder would --- */

/* The lines of DIR/audit.jsonl (each with its newline), NULL-terminated. */
static char **read_lines(const char *dir, size_t *n)
{
	char path[512], *line = NULL, **v = NULL;
	size_t cap = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/audit.jsonl", dir);
	f = fopen(path, "r");
	assert_non_null(f);
	*n = 0;
	while (getline(&line, &cap, f) > 0) {
		v = realloc(v, (*n + 2) * sizeof(*v));
		v[(*n)++] = strdup(line);
	}
	v[*n] = NULL;
	free(line);
	fclose(f);
	return v;
}

static void write_lines(const char *dir, char **v, size_t n)
{
	char *buf = NULL;
	size_t len = 0;

	for (size_t i = 0; i < n; i++)
		if (v[i])
			append(&buf, &len, v[i], strlen(v[i]));
	write_file(dir, "audit.jsonl", buf ? buf : "", len);
	free(buf);
}

static void free_lines(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Verifies DIR; returns the state and copies the problem (or "") into `problem`. */
static enum session_state verify(const char *dir, char *problem, size_t size)
{
	struct dhi_err *err = NULL;
	struct session_check c;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	enum session_state s;

	assert_true(fd >= 0);
	assert_int_equal(session_verify_at(fd, &c, &err), 0);
	assert_null(err);
	close(fd);
	snprintf(problem, size, "%s", c.problem ? c.problem : "");
	s = c.state;
	session_check_free(&c);
	return s;
}

/* --- tests --- */

static void test_session_verify_complete(void **state)
{
	struct gen g;
	char p[256];
	struct dhi_err *err = NULL;
	struct session_check c;
	int fd;

	gen_session(&g, true);
	assert_int_equal(verify(g.dir, p, sizeof(p)), SESSION_COMPLETE);
	assert_string_equal(p, "");
	fd = open(g.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_int_equal(session_verify_at(fd, &c, &err), 0);
	assert_int_equal(c.records, 8);
	assert_int_equal(c.cast_covered, g.cast_len);
	assert_int_equal(c.cast_size, g.cast_len);
	session_check_free(&c);
	close(fd);
	gen_free(&g);
}

static void test_session_verify_incomplete(void **state)
{
	struct gen g;
	char p[256];

	gen_session(&g, false);
	assert_int_equal(verify(g.dir, p, sizeof(p)), SESSION_INCOMPLETE);
	assert_string_equal(p, "");
	gen_free(&g);
}

static void test_session_verify_edited_record(void **state)
{
	struct gen g;
	size_t n;
	char p[256], **v, *at;

	gen_session(&g, true);
	v = read_lines(g.dir, &n);
	at = strstr(v[1], "ls /proc");
	assert_non_null(at);
	memcpy(at, "ls /etc ", 8); /* the line record says something else now */
	write_lines(g.dir, v, n);
	assert_int_equal(verify(g.dir, p, sizeof(p)), SESSION_INVALID);
	assert_string_equal(p, "audit.jsonl:3: prev does not match record 2");
	free_lines(v, n);
	gen_free(&g);
}

static void test_session_verify_edited_last_record(void **state)
{
	struct gen g;
	size_t n;
	char p[256], **v, *at;

	/* no record follows the last one: its own cast digest still has to match */
	gen_session(&g, true);
	v = read_lines(g.dir, &n);
	at = strstr(v[n - 1], "\"cast_bytes\":");
	assert_non_null(at);
	at[strlen("\"cast_bytes\":")] = '1';
	write_lines(g.dir, v, n);
	assert_int_equal(verify(g.dir, p, sizeof(p)), SESSION_INVALID);
	assert_non_null(strstr(p, "audit.jsonl:8: cast_bytes"));
	free_lines(v, n);
	gen_free(&g);
}

static void test_session_verify_deleted_record(void **state)
{
	struct gen g;
	size_t n;
	char p[256], **v;

	gen_session(&g, true);
	v = read_lines(g.dir, &n);
	free(v[2]);
	v[2] = NULL;
	write_lines(g.dir, v, n);
	assert_int_equal(verify(g.dir, p, sizeof(p)), SESSION_INVALID);
	assert_string_equal(p, "audit.jsonl:3: seq is 3, expected 2 (a record is missing or out of order)");
	free_lines(v, n);
	gen_free(&g);
}

static void test_session_verify_deleted_end_is_incomplete(void **state)
{
	struct gen g;
	size_t n;
	char p[256], **v;

	/* indistinguishable from a supervisor killed before it wrote session.end */
	gen_session(&g, true);
	v = read_lines(g.dir, &n);
	free(v[n - 1]);
	v[n - 1] = NULL;
	write_lines(g.dir, v, n);
	assert_int_equal(verify(g.dir, p, sizeof(p)), SESSION_INCOMPLETE);
	free_lines(v, n);
	gen_free(&g);
}

static void test_session_verify_reordered_records(void **state)
{
	struct gen g;
	size_t n;
	char p[256], **v, *t;

	gen_session(&g, true);
	v = read_lines(g.dir, &n);
	t = v[2];
	v[2] = v[3];
	v[3] = t;
	write_lines(g.dir, v, n);
	assert_int_equal(verify(g.dir, p, sizeof(p)), SESSION_INVALID);
	assert_string_equal(p, "audit.jsonl:3: seq is 3, expected 2 (a record is missing or out of order)");
	free_lines(v, n);
	gen_free(&g);
}

static void test_session_verify_reordered_and_renumbered(void **state)
{
	struct gen g;
	size_t n;
	char p[256], **v, *t, *a, *b;

	gen_session(&g, true);
	v = read_lines(g.dir, &n);
	t = v[2];
	v[2] = v[3];
	v[3] = t;
	a = strstr(v[2], "\"seq\":3");
	b = strstr(v[3], "\"seq\":2");
	assert_non_null(a);
	assert_non_null(b);
	a[6] = '2';
	b[6] = '3';
	write_lines(g.dir, v, n);
	assert_int_equal(verify(g.dir, p, sizeof(p)), SESSION_INVALID);
	assert_string_equal(p, "audit.jsonl:3: prev does not match record 2");
	free_lines(v, n);
	gen_free(&g);
}

static void test_session_verify_record_after_end(void **state)
{
	struct gen g;
	char p[256];

	/* a well-formed, correctly chained record: only its place gives it away */
	gen_session(&g, true);
	gen_record(&g, "line", json_pack("{s:s, s:s}", "text", "rm -rf /evidence", "cwd", "/"));
	gen_flush(&g);
	assert_int_equal(verify(g.dir, p, sizeof(p)), SESSION_INVALID);
	assert_string_equal(p, "audit.jsonl:9: record after session.end");
	gen_free(&g);
}

static void test_session_verify_truncated_cast(void **state)
{
	struct gen g;
	char p[256], path[512];

	gen_session(&g, true);
	snprintf(path, sizeof(path), "%s/session.cast", g.dir);
	assert_int_equal(truncate(path, (off_t)g.cast_len - 5), 0);
	assert_int_equal(verify(g.dir, p, sizeof(p)), SESSION_INVALID);
	assert_non_null(strstr(p, "is beyond the end of session.cast"));
	assert_non_null(strstr(p, "truncated"));
	/* the first record whose prefix is gone is named */
	assert_non_null(strstr(p, "audit.jsonl:7: "));
	gen_free(&g);
}

static void test_session_verify_edited_cast(void **state)
{
	struct gen g;
	char p[256], *at;

	gen_session(&g, true);
	at = strstr(g.cast, "57\\r\\n");
	assert_non_null(at);
	at[0] = '5';
	at[1] = '8';
	write_file(g.dir, "session.cast", g.cast, g.cast_len);
	assert_int_equal(verify(g.dir, p, sizeof(p)), SESSION_INVALID);
	/* the output is covered from the line.end record (line 5) on */
	assert_non_null(strstr(p, "audit.jsonl:5: cast_sha256 does not match"));
	gen_free(&g);
}

static void test_session_verify_not_json(void **state)
{
	struct gen g;
	size_t n;
	char p[256], **v;

	gen_session(&g, true);
	v = read_lines(g.dir, &n);
	v[4][0] = 'x';
	write_lines(g.dir, v, n);
	assert_int_equal(verify(g.dir, p, sizeof(p)), SESSION_INVALID);
	assert_non_null(strstr(p, "audit.jsonl:5: not a JSON object"));
	free_lines(v, n);
	gen_free(&g);
}

static void test_session_verify_missing_field(void **state)
{
	struct gen g;
	char p[256];

	gen_init(&g);
	gen_record(&g, "session.start",
		   json_pack("{s:s, s:{}, s:{}, s:{}, s:{}, s:s, s:n, s:s}", "session", "x", "operator",
			     "target", "toolbox", "profile", "view", "auto", "command", "dhidebug", "0"));
	gen_record(&g, "exec", json_pack("{s:i, s:i, s:s, s:s}", "pid", 1, "ppid", 0, "path", "/bin/ls",
					 "decision", "allowed"));
	gen_flush(&g);
	assert_int_equal(verify(g.dir, p, sizeof(p)), SESSION_INVALID);
	assert_string_equal(p, "audit.jsonl:2: exec record without `argv`");
	gen_free(&g);
}

static void test_session_verify_first_not_start(void **state)
{
	struct gen g;
	char p[256];

	gen_init(&g);
	gen_record(&g, "resize", json_pack("{s:i, s:i}", "width", 1, "height", 1));
	gen_flush(&g);
	assert_int_equal(verify(g.dir, p, sizeof(p)), SESSION_INVALID);
	assert_string_equal(p, "audit.jsonl:1: the first record is not session.start");
	gen_free(&g);
}

static void test_session_verify_no_audit(void **state)
{
	char dir[300], p[256];

	snprintf(dir, sizeof(dir), "%s/empty-%d", tmpdir, ++case_no);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(verify(dir, p, sizeof(p)), SESSION_INVALID);
	assert_string_equal(p, "audit.jsonl: missing");
	write_file(dir, "audit.jsonl", "", 0);
	assert_int_equal(verify(dir, p, sizeof(p)), SESSION_INVALID);
	assert_string_equal(p, "audit.jsonl: empty (no session.start)");
}

static void test_sessions_parse_time_forms(void **state)
{
	double t;

	assert_int_equal(sessions_parse_time("2026-05-28T10:11:12.25Z", 0, &t), 0);
	assert_true(t == 1779963072.25);
	assert_int_equal(sessions_parse_time("2026-05-28T12:11:12+02:00", 0, &t), 0);
	assert_true(t == 1779963072);
	assert_int_equal(sessions_parse_time("2026-05-28", 0, &t), 0);
	assert_true(t == 1779926400);
	assert_int_equal(sessions_parse_time("12h", 100000, &t), 0);
	assert_true(t == 100000 - 12 * 3600);
	assert_int_equal(sessions_parse_time("7d", 1e9, &t), 0);
	assert_true(t == 1e9 - 7 * 86400);
	assert_int_equal(sessions_parse_time("2026-05-28T10:11", 0, &t), -1);
	assert_int_equal(sessions_parse_time("2026-13-28", 0, &t), -1);
	assert_int_equal(sessions_parse_time("12x", 0, &t), -1);
	assert_int_equal(sessions_parse_time("", 0, &t), -1);
	assert_int_equal(sessions_parse_time("2026-05-28T10:11:12.Z", 0, &t), -1);
}

static void test_sessions_argv_string_quotes(void **state)
{
	json_t *a = json_pack("[s, s, s, s]", "find", "/ x", "-name", "it's");
	char *s = sessions_argv_string(a);

	assert_string_equal(s, "find '/ x' -name 'it'\\''s'");
	free(s);
	json_decref(a);
}

/* --- the command line --- */

#define ARGV(...) ((char *[]){ "dhidebug", __VA_ARGS__, NULL })

static int parse(char **argv, struct sessions_opts *c, char **msg)
{
	struct dhi_err *err = NULL;
	int argc = 0, r;

	while (argv[argc])
		argc++;
	r = cmd_sessions_parse(argc - 1, argv + 1, c, &err);
	*msg = err ? strdup(err->msg) : NULL;
	dhi_err_clear(&err);
	return r;
}

static void test_cli_parse_sessions_ls(void **state)
{
	struct sessions_opts c;
	char *msg;

	assert_int_equal(parse(ARGV("sessions", "ls", "--json", "--since", "12h", "--target=runc://web",
				    "--dir", "/d"),
			       &c, &msg),
			 0);
	assert_int_equal(c.verb, SESSIONS_LS);
	assert_true(c.json);
	assert_string_equal(c.since, "12h");
	assert_string_equal(c.target, "runc://web");
	assert_string_equal(c.dir, "/d");
}

static void test_cli_parse_sessions_verify(void **state)
{
	struct sessions_opts c;
	char *msg;

	assert_int_equal(parse(ARGV("sessions", "verify", "--all"), &c, &msg), 0);
	assert_true(c.all);
	assert_null(c.id);
	assert_int_equal(parse(ARGV("sessions", "verify", "2026"), &c, &msg), 0);
	assert_string_equal(c.id, "2026");
	assert_int_equal(parse(ARGV("sessions", "verify"), &c, &msg), -1);
	assert_non_null(strstr(msg, "one session id or --all"));
	free(msg);
	assert_int_equal(parse(ARGV("sessions", "verify", "a", "--all"), &c, &msg), -1);
	free(msg);
}

static void test_cli_parse_sessions_export_needs_html(void **state)
{
	struct sessions_opts c;
	char *msg;

	assert_int_equal(parse(ARGV("sessions", "export", "x"), &c, &msg), -1);
	assert_non_null(strstr(msg, "--html"));
	free(msg);
	assert_int_equal(parse(ARGV("sessions", "export", "x", "--html", "/tmp/x.html"), &c, &msg), 0);
	assert_int_equal(c.verb, SESSIONS_EXPORT);
	assert_string_equal(c.html, "/tmp/x.html");
}

static void test_cli_parse_sessions_wrong_option(void **state)
{
	struct sessions_opts c;
	char *msg;

	assert_int_equal(parse(ARGV("sessions", "show", "x", "--json"), &c, &msg), -1);
	assert_string_equal(msg, "--json does not go with `show`");
	free(msg);
	assert_int_equal(parse(ARGV("sessions", "frob"), &c, &msg), -1);
	assert_non_null(strstr(msg, "`sessions frob`"));
	free(msg);
	assert_int_equal(parse(ARGV("replay", "x", "--html=y"), &c, &msg), -1);
	assert_string_equal(msg, "--html does not go with `replay`");
	free(msg);
}

static void test_cli_parse_replay(void **state)
{
	struct sessions_opts c;
	char *msg;

	assert_int_equal(parse(ARGV("replay", "2026", "--speed", "2.5", "--idle-limit=1"), &c, &msg), 0);
	assert_int_equal(c.verb, SESSIONS_REPLAY);
	assert_string_equal(c.id, "2026");
	assert_true(c.speed == 2.5);
	assert_true(c.idle_limit == 1);
	assert_int_equal(parse(ARGV("replay", "x", "--speed", "0"), &c, &msg), -1);
	free(msg);
	assert_int_equal(parse(ARGV("replay"), &c, &msg), -1);
	free(msg);
}

static void test_cli_parse_sessions_follow(void **state)
{
	struct sessions_opts c;
	char *msg;

	assert_int_equal(parse(ARGV("sessions", "follow", "2026", "--dir", "/d"), &c, &msg), 0);
	assert_int_equal(c.verb, SESSIONS_FOLLOW);
	assert_string_equal(c.id, "2026");
	assert_false(c.follow);
	assert_int_equal(parse(ARGV("replay", "--follow", "2026", "--speed", "2"), &c, &msg), 0);
	assert_int_equal(c.verb, SESSIONS_REPLAY);
	assert_true(c.follow);
	assert_string_equal(c.id, "2026");
	assert_int_equal(parse(ARGV("sessions", "follow"), &c, &msg), -1);
	assert_string_equal(msg, "`follow` takes one session id");
	free(msg);
	assert_int_equal(parse(ARGV("sessions", "follow", "x", "--json"), &c, &msg), -1);
	assert_string_equal(msg, "--json does not go with `follow`");
	free(msg);
	assert_int_equal(parse(ARGV("sessions", "ls", "--follow"), &c, &msg), -1);
	assert_string_equal(msg, "--follow does not go with `ls`");
	free(msg);
}

/*
 * grep's own reading of "o" events gives what jansson gives, and skips what jansson
 * refuses; output holding a NUL (\u0000) is read, the NUL dropped as a control
 */
static void test_sessions_grep_cast_decoding(void **state)
{
	static const char cast[] =
		"{\"version\": 2}\n"
		"[0.5, \"o\", \"plain\\n\"]\n"
		"[1e-3,\"o\",\"exp\\r\\n\"]\n"
		"[1.5, \"o\", \"sur-\\ud83d\\ude00\\n\"]\n"
		"[1.6, \"o\", \"acc-\\u00e9\\u20AC \xc3\xa9\\n\"]\n"
		"[1.8, \"o\", \"esc-\\/\\t\\\"\\\\\\n\"]\n"
		"[01, \"o\", \"lead-zero\\n\"]\n"
		"[1e400, \"o\", \"overflow\\n\"]\n"
		"[2.0, \"o\", \"lone-\\ud83d\\n\"]\n"
		"[2.1, \"o\", \"nul-\\u0000\\n\"]\n"
		"[-0, \"o\", \"neg-zero\\n\"]\n"
		"[ 2.2 , \"\\u006f\" , \"code-escaped\\n\" ] \n"
		"[2.3, \"i\", \"input\\n\"]\n"
		"[2.4, \"o\", \"trailing\\n\"], 1\n"
		"[0x10, \"o\", \"hex\\n\"]\n"
		"[2.5, \"o\", \"bad-\\x\\n\"]\n"
		"[2.6, \"o\", \"unterminated\\n]\n";
	static const char want[] =
		"[[\"plain\",0.5],[\"exp\",0.001],[\"sur-\xf0\x9f\x98\x80\",1.5],"
		"[\"acc-\xc3\xa9\xe2\x82\xac \xc3\xa9\",1.6],[\"esc-/\\t\\\"\\\\\",1.8],"
		"[\"nul-\",2.1],[\"neg-zero\",0.0],[\"code-escaped\",2.2]]";
	char dir[300], path[320];
	json_auto_t *got = json_array(), *pairs = json_array(), *expect = NULL;
	struct dhi_err *err = NULL;
	regex_t re;
	size_t i;
	json_t *m;
	int fd;
	FILE *f;

	snprintf(dir, sizeof(dir), "%s/grep", tmpdir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/session.cast", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(cast, f);
	fclose(f);
	assert_int_equal(regcomp(&re, ".", REG_EXTENDED | REG_NOSUB), 0);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_int_equal(sessions_grep_cast_at(fd, "x", &re, stdout, got, &err), 8);
	close(fd);
	regfree(&re);
	json_array_foreach(got, i, m)
		json_array_append_new(pairs, json_pack("[O, O]", json_object_get(m, "line"),
						       json_object_get(m, "offset")));
	expect = json_loads(want, 0, NULL);
	assert_non_null(expect);
	if (!json_equal(pairs, expect)) {
		char *s = json_dumps(pairs, 0);

		fail_msg("got %s", s);
		free(s);
	}
	/* -0 is jansson's integer 0 */
	assert_false(signbit(json_real_value(json_object_get(json_array_get(got, 6), "offset"))));
}

/* a stat of a file changed long ago (the index keeps no file changed in the last 2 s) */
static struct stat old_stat(ino_t ino, off_t size)
{
	struct stat st = { .st_dev = 7, .st_ino = ino, .st_size = size };

	st.st_mtim.tv_sec = st.st_ctim.tv_sec = 1700000000;
	st.st_mtim.tv_nsec = st.st_ctim.tv_nsec = 5;
	return st;
}

static void test_sessions_index_roundtrip(void **state)
{
	char dir[300], path[320];
	struct stat a1 = old_stat(1, 100), c1 = old_stat(2, 50), a2 = old_stat(3, 10), c2 = old_stat(4, 5);
	struct stat now = a1;
	struct sessions_index *ix;
	struct sessions_index_hit hit;
	json_auto_t *sum = json_pack("{s:s}", "state", "complete");
	int dfd;

	snprintf(dir, sizeof(dir), "%s/index", tmpdir);
	assert_int_equal(mkdir(dir, 0700), 0);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	ix = sessions_index_load(dfd);
	/* put out of order, saved sorted */
	sessions_index_put(ix, "b", &a2, &c2, "row b", sum);
	sessions_index_put(ix, "a", &a1, &c1, "row a", sum);
	/* changed just now: not kept */
	clock_gettime(CLOCK_REALTIME, &now.st_ctim);
	sessions_index_put(ix, "c", &now, &c1, "row c", sum);
	/* a row a line cannot hold: not kept */
	sessions_index_put(ix, "d", &a1, &c1, "row\td", sum);
	sessions_index_save(ix, dfd, false);
	sessions_index_free(ix);

	ix = sessions_index_load(dfd);
	assert_true(sessions_index_get(ix, "a", &a1, &c1, &hit));
	assert_int_equal(hit.row_len, 5);
	assert_memory_equal(hit.row, "row a", 5);
	assert_int_equal(hit.json_len, strlen("{\"state\":\"complete\"}"));
	assert_memory_equal(hit.json, "{\"state\":\"complete\"}", hit.json_len);
	assert_true(sessions_index_get(ix, "b", &a2, &c2, &hit));
	assert_false(sessions_index_get(ix, "c", &now, &c1, &hit));
	assert_false(sessions_index_get(ix, "d", &a1, &c1, &hit));
	/* any field of the key changed: a miss */
	c1.st_size++;
	assert_false(sessions_index_get(ix, "a", &a1, &c1, &hit));
	c1.st_size--;
	a1.st_ctim.tv_nsec++;
	assert_false(sessions_index_get(ix, "a", &a1, &c1, &hit));
	a1.st_ctim.tv_nsec--;
	a1.st_ino++;
	assert_false(sessions_index_get(ix, "a", &a1, &c1, &hit));
	a1.st_ino--;
	sessions_index_free(ix);
	/* pruned: only what this run got (a) stays */
	ix = sessions_index_load(dfd);
	assert_true(sessions_index_get(ix, "a", &a1, &c1, &hit));
	sessions_index_save(ix, dfd, true);
	sessions_index_free(ix);
	ix = sessions_index_load(dfd);
	assert_true(sessions_index_get(ix, "a", &a1, &c1, &hit));
	assert_false(sessions_index_get(ix, "b", &a2, &c2, &hit));
	sessions_index_free(ix);

	/* readable by others: not read */
	snprintf(path, sizeof(path), "%s/.index", dir);
	assert_int_equal(chmod(path, 0640), 0);
	ix = sessions_index_load(dfd);
	assert_false(sessions_index_get(ix, "a", &a1, &c1, &hit));
	sessions_index_free(ix);
	/* not what an index starts with: not read */
	assert_int_equal(chmod(path, 0600), 0);
	{
		FILE *f = fopen(path, "w");

		assert_non_null(f);
		fputs("something else\na\tx\ty\tz\n", f);
		fclose(f);
	}
	ix = sessions_index_load(dfd);
	assert_false(sessions_index_get(ix, "a", &a1, &c1, &hit));
	sessions_index_free(ix);
	close(dfd);
}

static int group_setup(void **state)
{
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	char *argv[] = { "rm", "-rf", tmpdir, NULL };
	pid_t pid = fork();

	if (pid == 0) {
		execvp("rm", argv);
		_exit(127);
	}
	return pid > 0 && waitpid(pid, NULL, 0) == pid ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_session_verify_complete),
		cmocka_unit_test(test_session_verify_incomplete),
		cmocka_unit_test(test_session_verify_edited_record),
		cmocka_unit_test(test_session_verify_edited_last_record),
		cmocka_unit_test(test_session_verify_deleted_record),
		cmocka_unit_test(test_session_verify_deleted_end_is_incomplete),
		cmocka_unit_test(test_session_verify_reordered_records),
		cmocka_unit_test(test_session_verify_reordered_and_renumbered),
		cmocka_unit_test(test_session_verify_record_after_end),
		cmocka_unit_test(test_session_verify_truncated_cast),
		cmocka_unit_test(test_session_verify_edited_cast),
		cmocka_unit_test(test_session_verify_not_json),
		cmocka_unit_test(test_session_verify_missing_field),
		cmocka_unit_test(test_session_verify_first_not_start),
		cmocka_unit_test(test_session_verify_no_audit),
		cmocka_unit_test(test_sessions_parse_time_forms),
		cmocka_unit_test(test_sessions_argv_string_quotes),
		cmocka_unit_test(test_cli_parse_sessions_ls),
		cmocka_unit_test(test_cli_parse_sessions_verify),
		cmocka_unit_test(test_cli_parse_sessions_export_needs_html),
		cmocka_unit_test(test_cli_parse_sessions_wrong_option),
		cmocka_unit_test(test_cli_parse_replay),
		cmocka_unit_test(test_cli_parse_sessions_follow),
		cmocka_unit_test(test_sessions_grep_cast_decoding),
		cmocka_unit_test(test_sessions_index_roundtrip),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
