// SPDX-License-Identifier: Apache-2.0
/* err.c - the error object: set, prefix, print once. */
#include "common/err.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"

__attribute__((format(printf, 4, 0))) static int err_vset(struct dhi_err **err, int status,
							   int errnum, const char *fmt, va_list ap)
{
	char *msg = xvasprintf(fmt, ap);

	if (*err) {
		free((*err)->msg);
	} else {
		*err = xmalloc(sizeof(**err));
	}
	(*err)->errnum = errnum;
	(*err)->quiet_errnum = false;
	(*err)->status = status;
	(*err)->msg = msg;
	return -1;
}

int dhi_err_set(struct dhi_err **err, int errnum, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vset(err, 0, errnum, fmt, ap);
	va_end(ap);
	return -1;
}

int dhi_err_set_kind(struct dhi_err **err, int errnum, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vset(err, 0, errnum, fmt, ap);
	va_end(ap);
	(*err)->quiet_errnum = true;
	return -1;
}

int dhi_err_set_status(struct dhi_err **err, int status, int errnum, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vset(err, status, errnum, fmt, ap);
	va_end(ap);
	return -1;
}

int dhi_err_prefix(struct dhi_err **err, const char *fmt, ...)
{
	va_list ap;
	char *prefix, *msg;

	if (!*err)
		return -1;
	va_start(ap, fmt);
	prefix = xvasprintf(fmt, ap);
	va_end(ap);
	msg = xasprintf("%s: %s", prefix, (*err)->msg);
	free(prefix);
	free((*err)->msg);
	(*err)->msg = msg;
	return -1;
}

void dhi_err_clear(struct dhi_err **err)
{
	if (!*err)
		return;
	free((*err)->msg);
	free(*err);
	*err = NULL;
}

/* The length of the UTF-8 sequence at s and its code point, or 0 when it is not valid UTF-8. */
static size_t utf8_seq(const unsigned char *s, unsigned *cp)
{
	size_t n;
	unsigned c = s[0], min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, c &= 0x1f, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, c &= 0x0f, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, c &= 0x07, min = 0x10000;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

bool dhi_is_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned cp;
	size_t n;

	for (; *p; p += n)
		if (!(n = utf8_seq(p, &cp)))
			return false;
	return true;
}

char *dhi_utf8_escaped(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char *out, *o;
	unsigned cp;
	size_t n;

	if (dhi_is_utf8(s))
		return NULL;
	o = out = xmalloc(strlen(s) * 4 + 1);
	for (; *p; p += n) {
		n = utf8_seq(p, &cp);
		if (!n) {
			o += sprintf(o, "\\x%02x", *p);
			n = 1;
		} else if (*p == '\\') {
			*o++ = '\\';
			*o++ = '\\';
		} else {
			memcpy(o, p, n);
			o += n;
		}
	}
	*o = '\0';
	return out;
}

/*
 * What a terminal would take as a command rather than text: C0 and C1 controls
 * (ESC starts a sequence, CR/LF would forge a line, 0x9b is CSI), DEL, and
 * Unicode's line separators and bidirectional overrides, which reorder or
 * break what follows.
 */
static bool is_control(unsigned cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp == 0x2028 || cp == 0x2029 ||
	       (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

char *dhi_printable(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char *out = xmalloc(strlen(s) + 1), *o = out;

	while (*p) {
		unsigned cp;
		size_t n = utf8_seq(p, &cp);

		if (n == 0 || is_control(cp)) {
			*o++ = '?';
			p += n ? n : 1;
			continue;
		}
		memcpy(o, p, n);
		o += n;
		p += n;
	}
	*o = '\0';
	return out;
}

/*
 * The message is made printable here, where every error is turned into text:
 * names, media types, paths and messages of registries, runtimes, images and
 * containers end up in it, and they reach a terminal or a log only this way.
 */
char *dhi_err_string(const struct dhi_err *err)
{
	char *shown = dhi_printable(err->msg), *s;

	if (!err->errnum || err->quiet_errnum)
		return shown;
	s = xasprintf("%s: %s", shown, strerror(err->errnum));
	free(shown);
	return s;
}

int dhi_err_print(const struct dhi_err *err, const char *prog)
{
	char *s = dhi_err_string(err);

	fprintf(stderr, "%s: %s\n", prog, s);
	free(s);
	return err->status ? err->status : 125;
}
