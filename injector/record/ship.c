// SPDX-License-Identifier: Apache-2.0
/* ship.c - POST audit records and the recording to the policy's collector, in order. */
#include "injector/record/ship.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/xalloc.h"

#define AUDIT_MAX (256u << 20)
#define CAST_MAX (1u << 30)
/* records per syslog connection */
#define SYSLOG_BATCH 256

/*
 * The `shipped` file: "<records acknowledged> <1 when the recording was>
 * [<first record a syslog receiver has counted once only>]".
 */
struct cursor {
	long records;
	int cast;
	long again;	/* syslog: records from here on go again with the next connection */
};

static void read_cursor(int dirfd, struct cursor *c)
{
	dhi_autoclose int fd = openat(dirfd, "shipped", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	char buf[96] = "";
	ssize_t n;
	int got;

	*c = (struct cursor){ 0 };
	if (fd < 0)
		return;
	n = fd_read(fd, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	got = sscanf(buf, "%ld %d %ld", &c->records, &c->cast, &c->again);
	if (got < 1 || c->records < 0)
		c->records = 0;
	/* at most the last connection's records go again */
	if (got < 3 || c->again > c->records || c->again < c->records - SYSLOG_BATCH)
		c->again = c->records;
}

static int write_cursor(int dirfd, const struct cursor *c)
{
	char buf[96];
	int n = c->again == c->records
			? snprintf(buf, sizeof(buf), "%ld %d\n", c->records, c->cast)
			: snprintf(buf, sizeof(buf), "%ld %d %ld\n", c->records, c->cast, c->again);
	int fd = openat(dirfd, ".shipped.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
			0600);
	int ok;

	if (fd < 0)
		return -1;
	ok = fd_write_all(fd, buf, (size_t)n) == 0 && fsync(fd) == 0;
	close(fd);
	/* renamed into place: a crash never leaves a cursor that counts too far */
	if (!ok || renameat(dirfd, ".shipped.tmp", dirfd, "shipped") < 0)
		return -1;
	return 0;
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/*
 * One POST. A record (small, sent while the session runs) has 10 s in all; the
 * recording (up to CAST_MAX, at the end) as long as it needs while it moves:
 * only a transfer that stalls (under 1 KiB/s for 10 s, as waiting for an answer
 * that never comes) is given up.
 */
static int post(const struct collector *c, const char *key, const char *kind, const char *type,
		const char *body, size_t len, bool bulk, struct dhi_err **err)
{
	CURL *h = curl_easy_init();
	struct curl_slist *hdrs = NULL;
	char *k, *t, *w;
	long code = 0;
	CURLcode rc;

	if (!h)
		return dhi_err_set(err, ENOMEM, "cannot start an HTTP request");
	k = xasprintf("Idempotency-Key: %s", key);
	t = xasprintf("Content-Type: %s", type);
	w = xasprintf("X-Dhidebug-Kind: %s", kind);
	hdrs = curl_slist_append(hdrs, k);
	hdrs = curl_slist_append(hdrs, t);
	hdrs = curl_slist_append(hdrs, w);
	for (int i = 0; c->headers[i]; i++)
		hdrs = curl_slist_append(hdrs, c->headers[i]);
	curl_easy_setopt(h, CURLOPT_URL, c->url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
	if (bulk) {
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1024L);
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 10L);
	} else {
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
	}
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	if (c->ca) {
		/* the policy's CA only: not the system's as well (libcurl's default CA path) */
		curl_easy_setopt(h, CURLOPT_CAINFO, c->ca);
		curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
	}
	rc = curl_easy_perform(h);
	if (rc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	free(k);
	free(t);
	free(w);
	if (rc != CURLE_OK)
		return dhi_err_set(err, 0, "collector `%s`: %s", c->url, curl_easy_strerror(rc));
	if (code < 200 || code > 299)
		return dhi_err_set(err, 0, "collector `%s` answered %ld", c->url, code);
	return 0;
}

static int read_all_at(int dirfd, const char *name, size_t max, char **out, size_t *len,
		       struct dhi_err **err)
{
	dhi_autoclose int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return dhi_err_set(err, errno, "cannot open `%s`", name);
	return fd_read_file(fd, max, out, len, err);
}

/*
 * The syslog collector's batch: the records before seq `end`, sent over one
 * connection; counted (the cursor moves past them) once the receiver has read
 * them all, as a 2xx counts a POST. Reading them is not storing them: a
 * receiver that stops (rsyslog on SIGTERM) can close the connection cleanly
 * with the last messages it read still unwritten. So the records counted once
 * go again at the head of the next connection (the receiver's copy drops them
 * by session and seq), which a receiver that stopped does not accept: each
 * record is counted by two connections, the first one's loss made good by the
 * second, except for the last connection's records: counted once.
 */
static int flush_syslog(int dirfd, const char *id, const struct collector *c, char **batch,
			size_t *n, size_t resent, long end, struct cursor *cur, int *sent,
			struct dhi_err **err)
{
	long first = end - (long)*n;

	if (*n == resent)
		return 0;	/* nothing new */
	if (syslog_send(c, id, first, batch, *n, err) < 0)
		return -1;
	cur->again = first + (long)resent;
	cur->records = end;
	cur->cast = 0;
	if (write_cursor(dirfd, cur) < 0)
		return dhi_err_set(err, errno, "cannot update the ship cursor");
	*sent += (int)(*n - resent);
	*n = 0;
	return 0;
}

int ship_pending(int dirfd, const char *id, const struct collector *c, bool final,
		 struct dhi_err **err)
{
	dhi_autofree char *audit = NULL;
	struct cursor cur;
	long seq = 0;
	int sent = 0;
	/* what the last connection counted, then up to a batch of new records */
	char *batch[2 * SYSLOG_BATCH];
	size_t nbatch = 0, resent = 0;
	bool ended = false;
	size_t len;
	char *line, *next;

	if (!c || !c->url)
		return 0;
	read_cursor(dirfd, &cur);
	if (read_all_at(dirfd, "audit.jsonl", AUDIT_MAX, &audit, &len, err) < 0)
		return -1;
	for (line = audit; *line; line = next, seq++) {
		char key[96];
		char *nl = strchr(line, '\n');

		if (!nl)
			break;	/* a record still being written */
		*nl = '\0';
		next = nl + 1;
		/* (a session whose supervisor died is ended by the session.lost another wrote) */
		ended = strstr(line, "\"type\":\"session.end\"") != NULL ||
			strstr(line, "\"type\":\"session.lost\"") != NULL;
		if (c->kind == COLLECTOR_SYSLOG) {
			if (seq < cur.again)
				continue;
			/* the same records, in the same order: a batch per connection */
			if (nbatch - resent == SYSLOG_BATCH) {
				size_t from = resent;

				if (flush_syslog(dirfd, id, c, batch, &nbatch, resent, seq, &cur,
						 &sent, err) < 0)
					return -1;
				/* the batch just counted goes again with the next one */
				memmove(batch, batch + from, SYSLOG_BATCH * sizeof(*batch));
				nbatch = resent = SYSLOG_BATCH;
			}
			if (seq < cur.records)
				resent++;
			batch[nbatch++] = line;
			continue;
		}
		if (seq < cur.records)
			continue;
		snprintf(key, sizeof(key), "%s:%ld", id, seq);
		if (post(c, key, "record", "application/json", line, strlen(line), false, err) < 0)
			return -1;
		/* acknowledged: counted before the next one goes, so it never goes twice */
		cur.records = cur.again = seq + 1;
		if (write_cursor(dirfd, &cur) < 0)
			return dhi_err_set(err, errno, "cannot update the ship cursor");
		sent++;
	}
	if (c->kind == COLLECTOR_SYSLOG) {
		/* the recording stays on the host: its digests are in the records */
		if (flush_syslog(dirfd, id, c, batch, &nbatch, resent, seq, &cur, &sent, err) < 0)
			return -1;
		return sent;
	}
	if (final && ended && !cur.cast) {
		dhi_autofree char *cast = NULL;
		char key[96];

		if (read_all_at(dirfd, "session.cast", CAST_MAX, &cast, &len, err) < 0)
			return -1;
		snprintf(key, sizeof(key), "%s:cast", id);
		if (post(c, key, "recording", "application/x-asciicast", cast, len, true, err) < 0)
			return -1;
		cur.records = cur.again = seq;
		cur.cast = 1;
		if (write_cursor(dirfd, &cur) < 0)
			return dhi_err_set(err, errno, "cannot update the ship cursor");
		sent++;
	}
	return sent;
}

/* A syslog collector's keys (`kind` is read by the caller). */
static int parse_syslog(json_t *o, struct collector *out, struct dhi_err **err)
{
	const char *key;
	json_t *v;

	out->kind = COLLECTOR_SYSLOG;
	out->port = 6514;	/* RFC 5425's */
	json_object_foreach(o, key, v) {
		if (strcmp(key, "kind") == 0) {
			continue;
		} else if (strcmp(key, "host") == 0 && json_is_string(v) &&
			   json_string_length(v) > 0 && json_string_length(v) < 254 &&
			   !strpbrk(json_string_value(v), " /[]")) {
			out->host = xstrdup(json_string_value(v));
		} else if (strcmp(key, "port") == 0 && json_is_integer(v) &&
			   json_integer_value(v) > 0 && json_integer_value(v) < 65536) {
			out->port = (int)json_integer_value(v);
		} else if ((strcmp(key, "ca") == 0 || strcmp(key, "cert") == 0 ||
			    strcmp(key, "key") == 0) && json_is_string(v) &&
			   json_string_value(v)[0] == '/') {
			char **f = key[0] == 'c' ? (key[1] == 'a' ? &out->ca : &out->cert) : &out->key;

			*f = xstrdup(json_string_value(v));
		} else {
			return dhi_err_set(err, 0, "collector: unknown or invalid key `%s`", key);
		}
	}
	if (!out->host)
		return dhi_err_set(err, 0, "collector: a syslog collector needs its `host`");
	if (!out->ca)
		return dhi_err_set(err, 0,
				   "collector: a syslog collector needs the `ca` (an absolute path) that "
				   "signed the receiver's certificate (RFC 5425: TLS, the receiver authenticated)");
	if (!out->cert != !out->key)
		return dhi_err_set(err, 0, "collector: `cert` and `key` go together");
	out->url = strchr(out->host, ':') ? xasprintf("syslog://[%s]:%d", out->host, out->port)
					  : xasprintf("syslog://%s:%d", out->host, out->port);
	return 0;
}

int ship_parse_collector(json_t *o, struct collector *out, struct dhi_err **err)
{
	const char *key;
	json_t *v;
	int n = 0;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(o))
		return dhi_err_set(err, 0, "`collector` must be an object");
	v = json_object_get(o, "kind");
	if (v && (!json_is_string(v) || (strcmp(json_string_value(v), "http") != 0 &&
					  strcmp(json_string_value(v), "syslog") != 0)))
		return dhi_err_set(err, 0, "collector: `kind` is `http` or `syslog`");
	if (v && strcmp(json_string_value(v), "syslog") == 0)
		return parse_syslog(o, out, err);
	json_object_foreach(o, key, v) {
		if (strcmp(key, "kind") == 0) {
			continue;
		} else if (strcmp(key, "url") == 0 && json_is_string(v) &&
		    (strncmp(json_string_value(v), "http://", 7) == 0 ||
		     strncmp(json_string_value(v), "https://", 8) == 0)) {
			out->url = xstrdup(json_string_value(v));
		} else if (strcmp(key, "ca") == 0 && json_is_string(v)) {
			out->ca = xstrdup(json_string_value(v));
		} else if (strcmp(key, "headers") == 0 && json_is_object(v)) {
			const char *hk;
			json_t *hv;

			json_object_foreach(v, hk, hv) {
				if (!json_is_string(hv) || n == SHIP_MAX_HEADERS ||
				    strpbrk(hk, ":\r\n") || strpbrk(json_string_value(hv), "\r\n"))
					return dhi_err_set(err, 0, "collector header `%s` is not valid",
							   hk);
				out->headers[n++] = xasprintf("%s: %s", hk, json_string_value(hv));
			}
		} else {
			return dhi_err_set(err, 0, "collector: unknown or invalid key `%s`", key);
		}
	}
	if (!out->url)
		return dhi_err_set(err, 0, "collector: `url` (http:// or https://) is required");
	return 0;
}

void ship_collector_free(struct collector *c)
{
	free(c->url);
	free(c->ca);
	free(c->host);
	free(c->cert);
	free(c->key);
	for (int i = 0; c->headers[i]; i++)
		free(c->headers[i]);
	memset(c, 0, sizeof(*c));
}
