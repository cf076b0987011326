// SPDX-License-Identifier: Apache-2.0
/* rfc3339.c - parse RFC 3339 times. */
#include "common/rfc3339.h"

#include <ctype.h>
#include <string.h>
#include <time.h>

/* Two digits at s, or -1 (a NUL stops it: s[1] is never read past the end). */
static int two(const char *s)
{
	return isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1])
		       ? (s[0] - '0') * 10 + (s[1] - '0')
		       : -1;
}

int rfc3339_parse(const char *s, bool date_ok, double *out)
{
	struct tm tm = { 0 };
	double frac = 0, off = 0;
	int y = 0, mo, d, h = 0, mi = 0, sec = 0;

	if (!s || strlen(s) < 10)
		return -1;
	for (int i = 0; i < 4; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		y = y * 10 + (s[i] - '0');
	}
	if (y < 1 || s[4] != '-' || (mo = two(s + 5)) < 1 || mo > 12 || s[7] != '-' ||
	    (d = two(s + 8)) < 1 || d > 31)
		return -1;
	s += 10;
	if (*s == 'T' || *s == 't' || *s == ' ') {
		if ((h = two(s + 1)) < 0 || h > 23 || s[3] != ':' || (mi = two(s + 4)) < 0 ||
		    mi > 59 || s[6] != ':' || (sec = two(s + 7)) < 0 || sec > 60)
			return -1;
		s += 9;
		if (*s == '.') {
			double scale = 0.1;

			if (!isdigit((unsigned char)s[1]))
				return -1;
			for (s++; isdigit((unsigned char)*s); s++, scale /= 10)
				frac += (*s - '0') * scale;
		}
		if (*s == 'Z' || *s == 'z') {
			s++;
		} else if (*s == '+' || *s == '-') {
			int oh = two(s + 1), om = oh >= 0 && s[3] == ':' ? two(s + 4) : -1;

			if (oh < 0 || oh > 23 || om < 0 || om > 59)
				return -1;
			off = (oh * 3600 + om * 60) * (*s == '+' ? 1 : -1);
			s += 6;
		} else {
			return -1;
		}
	} else if (!date_ok) {
		return -1;
	}
	if (*s)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*out = (double)timegm(&tm) + frac - off;
	return 0;
}
