// SPDX-License-Identifier: Apache-2.0
/* export.c - `dhidebug sessions export ID --html FILE`: one self-contained page for a review. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/xalloc.h"
#include "injector/record/sessions.h"

/* The page holds the whole recording; beyond this a terminal replay is the better tool. */
#define EXPORT_CAST_MAX ((size_t)256 << 20)

/* Text from the audit, escaped for HTML; control characters shown as \xNN. */
static void html(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			if (c < 0x20 || c == 0x7f)
				fprintf(f, "\\x%02x", c);
			else
				fputc(c, f);
		}
	}
}

/*
 * <buf, len> as a JavaScript string literal that is safe inside <script>:
 * `<`, `>` and `&` are escaped, so no `</script>` can close the element early.
 */
static void js_string(FILE *f, const char *buf, size_t len)
{
	fputc('"', f);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f || c == '<' || c == '>' || c == '&')
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* The time of the last event of the recording (the poster shows the screen then). */
static double cast_duration(const char *cast, size_t len)
{
	const char *last = NULL;
	double t = 0;

	for (const char *p = cast; p < cast + len;) {
		const char *nl = memchr(p, '\n', (size_t)(cast + len - p));

		if (p != cast && p[0] == '[')
			last = p;
		if (!nl)
			break;
		p = nl + 1;
	}
	if (last) {
		json_auto_t *ev = json_loadb(last, (size_t)(cast + len - last), JSON_DISABLE_EOF_CHECK, NULL);

		t = json_number_value(json_array_get(ev, 0));
	}
	return t;
}

static void timeline_item(FILE *f, json_t *r, double t0)
{
	const char *type = json_string_value(json_object_get(r, "type"));
	double t = sessions_record_time(r), rel = t >= 0 && t0 >= 0 ? t - t0 : 0;
	json_t *st = json_object_get(r, "status");

	if (!type)
		return;
	fprintf(f, "<li class=\"%s\" data-t=\"%.3f\"><time>+%.3f</time> ",
		strcmp(type, "exec") == 0 ? "exec" : strcmp(type, "line") == 0 ? "line" : "other", rel, rel);
	if (strcmp(type, "line") == 0) {
		fputs("<span class=\"kind\">line</span> <code>", f);
		html(f, json_string_value(json_object_get(r, "text")));
		fputs("</code> <span class=\"cwd\">in ", f);
		html(f, json_string_value(json_object_get(r, "cwd")));
		fputs("</span>", f);
	} else if (strcmp(type, "line.end") == 0) {
		fprintf(f, "<span class=\"kind\">done</span> status %" JSON_INTEGER_FORMAT ", %.3f s",
			json_integer_value(st), json_number_value(json_object_get(r, "duration")));
	} else if (strcmp(type, "exec") == 0) {
		const char *dec = json_string_value(json_object_get(r, "decision"));
		dhi_autofree char *argv = sessions_argv_string(json_object_get(r, "argv"));

		fputs("<span class=\"kind\">exec</span> <span class=\"", f);
		fputs(dec && strcmp(dec, "allowed") == 0 ? "allowed" : "denied", f);
		fputs("\">", f);
		html(f, dec ? dec : "?");
		fputs("</span> <code>", f);
		html(f, json_string_value(json_object_get(r, "path")));
		fputs("</code> <code>", f);
		html(f, argv);
		fputs("</code>", f);
		if (json_string_value(json_object_get(r, "reason"))) {
			fputs(" ", f);
			html(f, json_string_value(json_object_get(r, "reason")));
		}
	} else if (strcmp(type, "resize") == 0) {
		fprintf(f, "<span class=\"kind\">resize</span> %" JSON_INTEGER_FORMAT "x%" JSON_INTEGER_FORMAT,
			json_integer_value(json_object_get(r, "width")),
			json_integer_value(json_object_get(r, "height")));
	} else if (strcmp(type, "session.start") == 0) {
		fputs("<span class=\"kind\">start</span>", f);
	} else if (strcmp(type, "session.end") == 0) {
		fprintf(f, "<span class=\"kind\">end</span> status %" JSON_INTEGER_FORMAT ", ", json_integer_value(st));
		html(f, json_string_value(json_object_get(r, "reason")));
	} else {
		html(f, type);
	}
	fputs("</li>\n", f);
}

static const char page_css[] =
	"body{font-family:system-ui,sans-serif;margin:1em;background:#fafafa;color:#222}"
	"h1{font-size:1.2em;margin:0 0 .3em}header p{margin:.2em 0;font-size:.9em}"
	".invalid{color:#b00;font-weight:bold}.ok{color:#070}"
	"main{display:flex;gap:1em;align-items:flex-start}#player{flex:3;min-width:0}"
	"aside{flex:2;max-height:90vh;overflow:auto;font-size:.85em}"
	"#timeline{list-style:none;padding:0;margin:0}#timeline li{padding:.15em .3em;border-bottom:1px solid #ddd;"
	"cursor:pointer}#timeline li:hover{background:#eef}time{color:#666;font-variant-numeric:tabular-nums}"
	".kind{font-weight:bold}.line code{font-weight:bold}.denied{color:#b00;font-weight:bold}"
	".allowed{color:#070}.cwd{color:#666}";

static void page(FILE *f, const char *id, json_t *recs, const struct session_check *c, const char *cast,
		 size_t cast_len)
{
	json_t *start = json_array_get(recs, 0), *tgt = json_object_get(start, "target");
	double t0 = sessions_record_time(start);
	json_t *op = json_object_get(start, "operator");
	bool no_tty = json_is_object(op) && json_is_null(json_object_get(op, "tty"));

	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      /* nothing is fetched: the page works offline and leaks nothing when opened */
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "script-src 'unsafe-inline' 'wasm-unsafe-eval'; style-src 'unsafe-inline'; img-src data:; "
	      "font-src data:\">\n<title>dhidebug session ",
	      f);
	html(f, id);
	fputs("</title>\n<style>\n", f);
	fwrite(sessions_player_css, 1, sessions_player_css_len, f);
	fprintf(f, "\n</style>\n<style>%s</style>\n</head><body>\n<header><h1>dhidebug session ", page_css);
	html(f, id);
	fputs("</h1>\n<p>target <code>", f);
	html(f, json_string_value(json_object_get(tgt, "runtime")));
	fputs("://", f);
	html(f, json_string_value(json_object_get(tgt, json_string_value(json_object_get(tgt, "name")) ? "name" : "id")));
	if (json_string_value(json_object_get(tgt, "image"))) {
		fputs("</code> image <code>", f);
		html(f, json_string_value(json_object_get(tgt, "image")));
	}
	fputs("</code> started <time>", f);
	html(f, json_string_value(json_object_get(start, "time")));
	fputs("</time> profile <code>", f);
	html(f, json_string_value(json_object_get(json_object_get(start, "profile"), "name")));
	fputs("</code></p>\n<p id=\"state\" class=\"", f);
	if (c->state == SESSION_INVALID) {
		fputs("invalid\">does not verify: ", f);
		html(f, c->problem);
	} else {
		fprintf(f, "ok\">verified: %s, %zu records", session_state_name(c->state), c->records);
	}
	fputs("</p></header>\n<main><div id=\"player\"></div>\n"
	      "<aside><h2>Timeline</h2><ol id=\"timeline\">\n",
	      f);
	for (size_t i = 0; i < json_array_size(recs); i++)
		timeline_item(f, json_array_get(recs, i), t0);
	fputs("</ol></aside></main>\n<script>\n", f);
	fwrite(sessions_player_js, 1, sessions_player_js_len, f);
	fputs("\n</script>\n<script>\nconst recorded = ", f);
	js_string(f, cast, cast_len);
	/*
	 * Without a terminal (pipes), programs wrote bare line feeds and no tty turned them
	 * into CR LF; the player is a terminal, so it is given what a terminal would have shown.
	 */
	fprintf(f, ";\nconst pipes = %s;\n", no_tty ? "true" : "false");
	fputs("const cast = !pipes ? recorded : recorded.split('\\n').map((l, i) => {\n"
	      "  if (i === 0 || !l) return l;\n"
	      "  try { const e = JSON.parse(l); if (e[1] === 'o') e[2] = e[2].replace(/\\r?\\n/g, '\\r\\n');"
	      " return JSON.stringify(e); } catch (x) { return l; }\n"
	      "}).join('\\n');\n", f);
	fprintf(f,
		"const player = AsciinemaPlayer.create({data: cast}, document.getElementById('player'),"
		" {fit: 'width', idleTimeLimit: 2, poster: 'npt:%.3f'});\n"
		"document.querySelectorAll('#timeline li').forEach(li => li.addEventListener('click', () => {\n"
		"  const t = parseFloat(li.dataset.t); player.seek(t).then(() => player.play());\n"
		"}));\n</script>\n</body></html>\n",
		cast_duration(cast, cast_len));
}

int sessions_export_html_at(int dirfd, const char *id, const char *path, struct dhi_err **err)
{
	dhi_autofree char *cast = NULL, *tmp = xasprintf("%s.tmp", path);
	dhi_autoclose int cfd = openat(dirfd, "session.cast", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	json_auto_t *recs = NULL;
	struct session_check c;
	size_t len;
	FILE *f;
	int fd, bad;

	if (cfd < 0)
		return dhi_err_set(err, errno, "cannot open `session.cast`");
	if (fd_read_file(cfd, EXPORT_CAST_MAX, &cast, &len, err) < 0)
		return dhi_err_prefix(err, "`session.cast`");
	recs = sessions_load_records_at(dirfd, err);
	if (!recs)
		return -1;
	if (session_verify_at(dirfd, &c, err) < 0)
		return -1;
	/* 0600: the page holds everything the session showed, like the recording itself */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		dhi_err_set(err, errno, "cannot create `%s`", tmp);
		if (fd >= 0)
			close(fd);
		session_check_free(&c);
		return -1;
	}
	page(f, id, recs, &c, cast, len);
	session_check_free(&c);
	bad = ferror(f);
	if (fclose(f) != 0 || bad) {
		dhi_err_set(err, errno, "cannot write `%s`", tmp);
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) < 0) {
		dhi_err_set(err, errno, "cannot rename `%s` to `%s`", tmp, path);
		unlink(tmp);
		return -1;
	}
	return 0;
}
