// SPDX-License-Identifier: Apache-2.0
/* grep.c - search the recorded output of a session (`sessions grep`,
 * docs/recording.md, "Searching"). */
#include "injector/record/sessions.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/xalloc.h"

/* A longer line is searched in pieces of this size (output without line feeds,
 * as a progress bar). */
#define LINE_MAX_BYTES 65536

/*
 * The text of the output as a reader of the terminal saw it, line by line:
 * escape sequences (CSI, OSC, and two-byte ESC ones) and control characters
 * other than tab are dropped, across event boundaries.
 */
struct liner {
	enum { L_TEXT, L_ESC, L_CSI, L_OSC, L_OSC_ESC } state;
	char *buf;
	size_t len;
	double start; /* the time of the event the line began in; < 0 before its first
                   byte */
	const char *id;
	const regex_t *re;
	FILE *out;
	json_t *json;
	int matches;
};

static void line_end(struct liner *l)
{
	if (l->start < 0)
		return;
	l->buf[l->len] = '\0';
	if (regexec(l->re, l->buf, 0, NULL, 0) == 0) {
		l->matches++;
		if (l->json) {
			json_t *m = json_object();

			json_object_set_new(m, "session", json_string(l->id));
			json_object_set_new(m, "offset", json_real(l->start));
			json_object_set_new(m, "line", json_stringn(l->buf, l->len));
			json_array_append_new(l->json, m);
		} else {
			fprintf(l->out, "%s  %10.3f  %s\n", l->id, l->start, l->buf);
		}
	}
	l->len = 0;
	l->start = -1;
}

static void line_feed(struct liner *l, double t, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (l->state) {
		case L_ESC:
			l->state = c == '[' ? L_CSI : c == ']' ? L_OSC : L_TEXT;
			continue;
		case L_CSI:
			/* parameters and intermediates, up to the final byte */
			if (c >= 0x40 && c <= 0x7e)
				l->state = L_TEXT;
			continue;
		case L_OSC:
			if (c == 0x07)
				l->state = L_TEXT;
			else if (c == 0x1b)
				l->state = L_OSC_ESC;
			continue;
		case L_OSC_ESC:
			l->state = c == '\\' ? L_TEXT : L_OSC;
			continue;
		case L_TEXT:
			break;
		}
		if (c == '\n') {
			line_end(l);
			continue;
		}
		if (c == 0x1b) {
			l->state = L_ESC;
			continue;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			continue;
		if (l->start < 0)
			l->start = t;
		/* cut before a character, never inside one: the pieces stay UTF-8 */
		if (l->len >= LINE_MAX_BYTES && (c & 0xc0) != 0x80) {
			double t0 = l->start;

			line_end(l);
			l->start = t0;
		}
		l->buf[l->len++] = (char)c;
	}
}

int sessions_grep_cast_at(int dirfd, const char *id, const regex_t *re, FILE *out, json_t *json,
			  struct dhi_err **err)
{
	int fd = openat(dirfd, "session.cast", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	dhi_autofclose FILE *f = NULL;
	dhi_autofree char *line = NULL;
	dhi_autofree char *buf = xmalloc(LINE_MAX_BYTES + 8);
	struct liner l = {.buf = buf, .start = -1, .id = id, .re = re, .out = out, .json = json};
	size_t cap = 0;
	ssize_t n;
	bool header = true;

	if (fd < 0)
		return errno == ENOENT ? 0 : dhi_err_set(err, errno, "cannot open `session.cast`");
	f = fdopen(fd, "re");
	if (!f) {
		close(fd);
		return dhi_err_set(err, errno, "cannot read `session.cast`");
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		json_auto_t *ev = NULL;
		const char *code;

		if (header) {
			/* line 1 is the header object */
			header = false;
			continue;
		}
		ev = json_loadb(line, (size_t)n, 0, NULL);
		code = json_string_value(json_array_get(ev, 1));
		if (!json_is_array(ev) || !code || strcmp(code, "o") != 0 ||
		    !json_is_number(json_array_get(ev, 0)) ||
		    !json_is_string(json_array_get(ev, 2)))
			continue;
		line_feed(&l, json_number_value(json_array_get(ev, 0)),
			  json_string_value(json_array_get(ev, 2)),
			  json_string_length(json_array_get(ev, 2)));
	}
	if (ferror(f))
		return dhi_err_set(err, errno, "cannot read `session.cast`");
	line_end(&l);
	return l.matches;
}
