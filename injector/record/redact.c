// SPDX-License-Identifier: Apache-2.0
/* redact.c - replace secrets in the session's output before it is recorded
 * (docs/recording.md, "Redaction"). */
#include "injector/record/redact.h"

#include <stdint.h>
#include <string.h>

#include "common/membuf.h"
#include "common/xalloc.h"

/* The built-in patterns a policy names. */
static const struct {
	const char *name;
	const char *regex; /* NULL: the PEM block */
} builtins[] = {
	/* an HTTP bearer credential, as in an Authorization header or a curl -v */
	{"bearer", "[Bb][Ee][Aa][Rr][Ee][Rr][[:space:]]+[A-Za-z0-9._~+/=-]{8,}"},
	/* an access key id, and a secret key after its usual name */
	{"aws", "(AKIA|ASIA|AIDA|AROA)[A-Z0-9]{16}|[Aa][Ww][Ss]_[Ss][Ee][Cc][Rr][Ee][Tt]_["
		"Aa][Cc][Cc][Ee][Ss][Ss]_"
		"[Kk][Ee][Yy][\"']?[[:space:]]*[:=][[:space:]]*[\"']?[A-Za-z0-9/+=]{40}"},
	{"pem", NULL},
	{NULL, NULL},
};

static int add(struct redact_set *out, const char *name, const char *regex, bool pem,
	       struct dhi_err **err)
{
	struct redact_pattern *p;
	int rc;

	if (out->n == REDACT_MAX)
		return dhi_err_set(err, 0, "`redact`: more than %d patterns", REDACT_MAX);
	if (!*name || strlen(name) >= sizeof(p->name) ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_-.") != strlen(name))
		return dhi_err_set(err, 0,
				   "`redact`: invalid pattern name `%s` (a-z, 0-9, _-., up to 31)",
				   name);
	for (int i = 0; i < out->n; i++)
		if (strcmp(out->p[i].name, name) == 0)
			return dhi_err_set(err, 0, "`redact`: pattern `%s` given twice", name);
	p = &out->p[out->n];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->pem = pem;
	if (!pem && (rc = regcomp(&p->re, regex, REG_EXTENDED | REG_NEWLINE)) != 0) {
		char why[128];

		regerror(rc, &p->re, why, sizeof(why));
		return dhi_err_set(err, 0, "`redact`: pattern `%s`: invalid regular expression: %s",
				   name, why);
	}
	out->n++;
	return 0;
}

void redact_free(struct redact_set *s)
{
	for (int k = 0; k < s->n; k++)
		if (!s->p[k].pem)
			regfree(&s->p[k].re);
	s->n = 0;
}

int redact_parse(json_t *v, struct redact_set *out, struct dhi_err **err)
{
	size_t i;
	json_t *e;

	redact_free(out);
	if (!json_is_array(v))
		return dhi_err_set(err, 0,
				   "`redact` must be a list of pattern names and "
				   "{\"name\", \"regex\"} objects");
	json_array_foreach (v, i, e) {
		const char *name = json_string_value(e);

		if (name) {
			int b;

			for (b = 0; builtins[b].name && strcmp(builtins[b].name, name) != 0; b++)
				;
			if (!builtins[b].name)
				return dhi_err_set(
					err, 0,
					"`redact`: unknown pattern `%s` (bearer, aws, pem, "
					"or {\"name\", \"regex\"})",
					name);
			if (add(out, name, builtins[b].regex, !builtins[b].regex, err) < 0)
				return -1;
		} else if (json_is_object(e) && json_object_size(e) == 2 &&
			   json_is_string(json_object_get(e, "name")) &&
			   json_is_string(json_object_get(e, "regex"))) {
			if (add(out, json_string_value(json_object_get(e, "name")),
				json_string_value(json_object_get(e, "regex")), false, err) < 0)
				return -1;
		} else {
			return dhi_err_set(err, 0,
					   "`redact`: entry %zu is neither a pattern name nor "
					   "{\"name\", \"regex\"}",
					   i);
		}
	}
	return 0;
}

/* the output grows as it is rewritten (membuf keeps it NUL-terminated, which
 * regexec() under ASan reads as a string, REG_STARTEND or not) */
static void put(struct membuf *o, const char *s, size_t n)
{
	(void)membuf_append(o, s, n);
}

static void marker(struct membuf *o, const char *name)
{
	put(o, "[REDACTED:", 10);
	put(o, name, strlen(name));
	put(o, "]", 1);
}

static bool has(const char *s, size_t n, const char *what)
{
	return memmem(s, n, what, strlen(what)) != NULL;
}

/* One pattern over <in, n>, into o (REG_STARTEND: NUL bytes of the output are
 * text too). */
static void replace(const struct redact_pattern *p, const char *in, size_t n, struct membuf *o,
		    unsigned *count)
{
	size_t at = 0;

	while (at < n) {
		regmatch_t m = {.rm_so = (regoff_t)at, .rm_eo = (regoff_t)n};

		if (regexec(&p->re, in, 1, &m, REG_STARTEND | (at ? REG_NOTBOL : 0)) != 0 ||
		    m.rm_eo <= m.rm_so)
			break;
		put(o, in + at, (size_t)m.rm_so - at);
		marker(o, p->name);
		(*count)++;
		at = (size_t)m.rm_eo;
	}
	put(o, in + at, n - at);
}

char *redact_apply(const struct redact_set *s, struct redact_state *st, const char *in, size_t len,
		   size_t *out_len, unsigned counts[REDACT_MAX])
{
	struct membuf cur = { .max = SIZE_MAX }, next = { .max = SIZE_MAX };
	int pem = -1;

	for (int i = 0; i < s->n; i++)
		if (s->p[i].pem)
			pem = i;
	/* PEM blocks first, line by line (a block spans lines, and chunks) */
	for (const char *p = in, *end = in + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		/* the line so far: the last chunk's unfinished end, then this one's */
		size_t tl = st->tail_len, vl = tl + ll;
		char *v = xmalloc(vl + 1);
		const char *b, *e;

		memcpy(v, st->tail, tl);
		memcpy(v + tl, p, ll);
		if (pem >= 0 && !st->in_pem && has(v, vl, "-----BEGIN ") &&
		    has(v, vl, "PRIVATE KEY-----")) {
			/* from the BEGIN marker on (what of it came in the last chunk is out
       * already) */
			b = memmem(v, vl, "-----BEGIN ", 11);
			b = b < v + tl ? p : p + (b - v - tl);
			put(&cur, p, (size_t)(b - p));
			marker(&cur, s->p[pem].name);
			counts[pem]++;
			st->in_pem = true;
		}
		if (pem >= 0 && st->in_pem) {
			e = memmem(v, vl, "-----END ", 9);
			e = e ? memmem(e, vl - (size_t)(e - v), "PRIVATE KEY-----", 16) : NULL;
			if (e) {
				/* what follows the END marker on its line stays */
				st->in_pem = false;
				e = e + 16 < v + tl ? p : p + (e + 16 - v - tl);
				put(&cur, e, ll - (size_t)(e - p));
			}
			/* the block's other lines go, their line ends too: one marker line stays
       */
		} else {
			put(&cur, p, ll);
		}
		/* keep the end of an unfinished line for the next chunk */
		if (nl) {
			st->tail_len = 0;
		} else {
			size_t k = vl < sizeof(st->tail) ? vl : sizeof(st->tail);

			memcpy(st->tail, v + vl - k, k);
			st->tail_len = k;
		}
		free(v);
		p += ll;
	}
	/* then each line pattern, in the policy's order, over what the ones before
   * left */
	for (int i = 0; i < s->n; i++) {
		if (s->p[i].pem)
			continue;
		next.len = 0;
		replace(&s->p[i], cur.p ? cur.p : "", cur.len, &next, &counts[i]);
		struct membuf t = cur;

		cur = next;
		next = t;
	}
	free(next.p);
	*out_len = cur.len;
	return cur.p ? cur.p : xzalloc(1);
}
