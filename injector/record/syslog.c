// SPDX-License-Identifier: Apache-2.0
/*
 * syslog.c - audit records to a syslog receiver: RFC 5424 messages over TLS
 * (RFC 5425), octet-counted (RFC 6587). ship.c keeps the spool and the
 * cursor; this sends one batch and says whether it was received.
 *
 * Syslog has no acknowledgements. A batch counts as received when, after our
 * close_notify and our FIN, the receiver closes its side cleanly: it read to
 * the end of what we sent (a socket closed with unread data answers with a
 * reset, which counts nothing). That is at-least-once, as with HTTP: a batch
 * not counted goes again whole, and the receiver's copy drops duplicates by
 * (session, seq), which every message carries in its structured data.
 */
#include "injector/record/ship.h"

#include <errno.h>
#include <jansson.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/xalloc.h"

/* authpriv.info: facility 10, severity 6 */
#define SYSLOG_PRI 86
/* the SD-ID: RFC 5612's example enterprise number (dhidebug has none of its own) */
#define SYSLOG_SDID "dhidebug@32473"
/* a batch has 10 s in all, the connection 2 s */
#define BATCH_MS 10000
#define CONNECT_MS 2000
#define CONNECT_TRIES 3

/* A field of PRINTUSASCII (33-126), at most `max` of them; "-" when empty. */
static void field(char *dst, size_t max, const char *src)
{
	size_t n = 0;

	for (; src && *src && n < max; src++)
		dst[n++] = (*src > 32 && *src < 127) ? *src : '_';
	if (n == 0)
		dst[n++] = '-';
	dst[n] = '\0';
}

/* The record's `time` when it is an RFC 3339 time (up to microseconds, as recorded), else "-". */
static void timestamp(char *dst, size_t size, json_t *t)
{
	const char *s = json_string_value(t);
	size_t n = s ? strlen(s) : 0;

	snprintf(dst, size, "-");
	if (n < 20 || n > 32 || s[4] != '-' || s[10] != 'T' || strspn(s, "0123456789-T:.Z+") != n)
		return;
	snprintf(dst, size, "%s", s);
}

char *syslog_frame(const char *id, long seq, const char *rec, const char *host, size_t *len)
{
	json_auto_t *r = json_loads(rec, 0, NULL);
	char ts[40], hn[256], msgid[33], sid[80];
	char *msg, *framed;
	int n;

	timestamp(ts, sizeof(ts), json_object_get(r, "time"));
	field(hn, 255, host);
	field(msgid, 32, json_string_value(json_object_get(r, "type")));
	/* a PARAM-VALUE escapes ", \ and ]; a session id has none, but a path might */
	field(sid, sizeof(sid) - 1, id);
	for (char *p = sid; *p; p++)
		if (*p == '"' || *p == '\\' || *p == ']')
			*p = '_';
	/* MSG-ANY, no BOM: the record's JSON as written to audit.jsonl */
	msg = xasprintf("<%d>1 %s %s dhidebug - %s [" SYSLOG_SDID " session=\"%s\" seq=\"%ld\"] %s",
			SYSLOG_PRI, ts, hn, msgid, sid, seq, rec);
	n = (int)strlen(msg);
	framed = xasprintf("%d %s", n, msg);
	free(msg);
	*len = strlen(framed);
	return framed;
}

static void set_timeout(int fd, long ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int dial(const struct collector *c, struct dhi_err **err)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
	struct addrinfo *res, *a;
	char port[16];
	int fd = -1, rc, saved = 0;

	snprintf(port, sizeof(port), "%d", c->port);
	rc = getaddrinfo(c->host, port, &hints, &res);
	if (rc != 0)
		return dhi_err_set(err, 0, "collector `%s`: %s", c->url, gai_strerror(rc));
	for (a = res; a; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (fd < 0)
			continue;
		/* (SO_SNDTIMEO bounds connect() too) */
		set_timeout(fd, CONNECT_MS);
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
			break;
		saved = errno == EINPROGRESS ? ETIMEDOUT : errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return dhi_err_set(err, saved, "collector `%s`: cannot connect", c->url);
	set_timeout(fd, BATCH_MS);
	return fd;
}

/* OpenSSL's first error, for the message. */
static const char *tls_why(void)
{
	static char buf[256];
	unsigned long e = ERR_get_error();

	if (!e)
		return "the connection failed";
	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return buf;
}

static SSL_CTX *context(const struct collector *c, struct dhi_err **err)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (!ctx) {
		dhi_err_set(err, 0, "collector `%s`: %s", c->url, tls_why());
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	/* a bare FIN after our close_notify ends the exchange as well as the receiver's own */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	/* the policy's CA only: never the system's as well */
	if (SSL_CTX_load_verify_locations(ctx, c->ca, NULL) != 1) {
		dhi_err_set(err, 0, "collector `%s`: cannot load the CA `%s`: %s", c->url, c->ca,
			    tls_why());
		goto fail;
	}
	if (c->cert && (SSL_CTX_use_certificate_chain_file(ctx, c->cert) != 1 ||
			SSL_CTX_use_PrivateKey_file(ctx, c->key, SSL_FILETYPE_PEM) != 1 ||
			SSL_CTX_check_private_key(ctx) != 1)) {
		dhi_err_set(err, 0, "collector `%s`: cannot load the client certificate `%s`: %s",
			    c->url, c->cert, tls_why());
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/* Writes all of buf; 0, or -1 with err. */
static int tls_write(SSL *ssl, const struct collector *c, const char *buf, size_t len,
		     struct dhi_err **err)
{
	size_t done;

	if (SSL_write_ex(ssl, buf, len, &done) != 1 || done != len)
		return dhi_err_set(err, errno, "collector `%s`: sending: %s", c->url, tls_why());
	return 0;
}

/*
 * Our side is done: close_notify, then FIN. The receiver has read it all when
 * its side then ends cleanly, with its close_notify or a bare FIN (a socket
 * closed with unread data answers with a reset); an alert (a client
 * certificate it refused, which TLS 1.3 says only after our first write) or a
 * reset counts nothing.
 */
static int received(int fd, SSL *ssl, const struct collector *c, long deadline,
		    struct dhi_err **err)
{
	char buf[4096];
	size_t n;

	if (SSL_shutdown(ssl) < 0)
		return dhi_err_set(err, errno, "collector `%s`: closing: %s", c->url, tls_why());
	if (shutdown(fd, SHUT_WR) < 0)
		return dhi_err_set(err, errno, "collector `%s`: closing", c->url);
	for (;;) {
		int rc = SSL_read_ex(ssl, buf, sizeof(buf), &n);
		int e = rc == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl, rc);

		if (e == SSL_ERROR_ZERO_RETURN)
			return 0;
		if (e == SSL_ERROR_SYSCALL && errno == EINTR)
			continue;
		if (e != SSL_ERROR_NONE)
			return dhi_err_set(err, e == SSL_ERROR_SYSCALL ? errno : 0,
					   "collector `%s`: not received: %s", c->url,
					   e == SSL_ERROR_SSL ? tls_why() : "the connection broke");
		if (now_ms() > deadline)
			return dhi_err_set(err, ETIMEDOUT, "collector `%s`: not received", c->url);
	}
}

/*
 * A connection and its TLS handshake, in *fd and *ssl: 0; -1 with err; 1 with
 * err when the receiver dropped it during the handshake (worth another try).
 */
static int handshake(SSL_CTX *ctx, const struct collector *c, int *fd, SSL **ssl,
		     struct dhi_err **err)
{
	struct addrinfo hints = {.ai_flags = AI_NUMERICHOST}, *res;
	int rc, e;
	long v;

	SSL_free(*ssl);
	*ssl = NULL;
	if (*fd >= 0)
		close(*fd);
	*fd = dial(c, err);
	if (*fd < 0)
		return -1;
	*ssl = SSL_new(ctx);
	if (!*ssl || SSL_set_fd(*ssl, *fd) != 1 || SSL_set1_host(*ssl, c->host) != 1)
		return dhi_err_set(err, 0, "collector `%s`: %s", c->url, tls_why());
	/* SNI for a name (an address is not one) */
	if (getaddrinfo(c->host, NULL, &hints, &res) == 0)
		freeaddrinfo(res);
	else
		SSL_set_tlsext_host_name(*ssl, c->host);
	rc = SSL_connect(*ssl);
	if (rc == 1)
		return 0;
	e = SSL_get_error(*ssl, rc);
	v = SSL_get_verify_result(*ssl);
	if (v != X509_V_OK)
		return dhi_err_set(err, 0, "collector `%s`: its certificate: %s", c->url,
				   X509_verify_cert_error_string(v));
	if (e == SSL_ERROR_SYSCALL) {
		int saved = errno;

		ERR_clear_error();
		dhi_err_set(err, saved, "collector `%s`: TLS: the connection was dropped", c->url);
		return saved == ECONNRESET || saved == 0 ? 1 : -1;
	}
	return dhi_err_set(err, 0, "collector `%s`: TLS: %s", c->url, tls_why());
}

int syslog_send(const struct collector *c, const char *id, long first, char *const *recs,
		size_t n, struct dhi_err **err)
{
	struct sigaction ign = {.sa_handler = SIG_IGN}, old;
	long deadline = now_ms() + BATCH_MS;
	char host[256] = "";
	SSL_CTX *ctx;
	SSL *ssl = NULL;
	int fd = -1, rc = -1;

	gethostname(host, sizeof(host) - 1);
	ctx = context(c, err);
	if (!ctx)
		return -1;
	/* a receiver gone mid-write is an error here, not a death (`sessions ship`) */
	sigaction(SIGPIPE, &ign, &old);
	/* a receiver that drops a connection in its handshake (rsyslog does, under
	 * many at once: "failed to process incoming connection") is asked again */
	for (int attempt = 1;; attempt++) {
		int h = handshake(ctx, c, &fd, &ssl, err);

		if (h == 0)
			break;
		if (h < 0 || attempt == CONNECT_TRIES)
			goto out;
		dhi_err_clear(err);
		usleep(100000u * (unsigned)attempt);
	}
	for (size_t i = 0; i < n; i++) {
		size_t len;
		dhi_autofree char *f = syslog_frame(id, first + (long)i, recs[i], host, &len);

		if (tls_write(ssl, c, f, len, err) < 0)
			goto out;
	}
	rc = received(fd, ssl, c, deadline, err);
out:
	SSL_free(ssl);
	if (fd >= 0)
		close(fd);
	SSL_CTX_free(ctx);
	ERR_clear_error();
	sigaction(SIGPIPE, &old, NULL);
	return rc;
}
