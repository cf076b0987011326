// SPDX-License-Identifier: Apache-2.0
/*
 * static_curl.c - the entry points of libraries that Debian's libcurl.a is
 * built against but that cannot be linked into a static PIE (see the STATIC
 * block of the Makefile): LDAP, RTMP and GSS-API. Linked only into the static
 * binary. dhidebug restricts libcurl to plain HTTP and never asks for
 * Negotiate authentication, so none of these can be reached; if one ever is,
 * it says which and aborts rather than pretend to work.
 *
 * The declarations are deliberately untyped: the linker matches names only,
 * and no caller here passes arguments that would need the real prototypes.
 * A libcurl update that calls a new function of these libraries fails the
 * link with an undefined reference: add its name here.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void unlinked(const char *name)
{
	static const char msg[] = "dhidebug: libcurl called `";

	/* async-signal-safe and allocation-free: nothing about our state is trusted here */
	(void)!write(2, msg, sizeof(msg) - 1);
	(void)!write(2, name, strlen(name));
	(void)!write(2, "`, which this static build leaves out\n", 38);
	abort();
}

#define UNLINKED(fn)           \
	void fn(void);         \
	void fn(void)          \
	{                      \
		unlinked(#fn); \
	}

/* RTMP (librtmp) */
UNLINKED(RTMP_Alloc)
UNLINKED(RTMP_Close)
UNLINKED(RTMP_Connect1)
UNLINKED(RTMP_ConnectStream)
UNLINKED(RTMP_Free)
UNLINKED(RTMP_Init)
UNLINKED(RTMP_Read)
UNLINKED(RTMP_SetBufferMS)
UNLINKED(RTMP_SetupURL)
UNLINKED(RTMP_Write)

/* LDAP (libldap, liblber) */
UNLINKED(ber_bvfree)
UNLINKED(ber_free)
UNLINKED(ber_memfree)
UNLINKED(ber_sockbuf_add_io)
UNLINKED(ldap_abandon_ext)
UNLINKED(ldap_err2string)
UNLINKED(ldap_free_urldesc)
UNLINKED(ldap_get_attribute_ber)
UNLINKED(ldap_get_dn_ber)
UNLINKED(ldap_get_option)
UNLINKED(ldap_init_fd)
UNLINKED(ldap_memfree)
UNLINKED(ldap_msgfree)
UNLINKED(ldap_msgtype)
UNLINKED(ldap_parse_result)
UNLINKED(ldap_parse_sasl_bind_result)
UNLINKED(ldap_pvt_url_scheme2proto)
UNLINKED(ldap_result)
UNLINKED(ldap_sasl_bind)
UNLINKED(ldap_search_ext)
UNLINKED(ldap_set_option)
UNLINKED(ldap_start_tls)
UNLINKED(ldap_unbind_ext)
UNLINKED(ldap_url_parse)

/* GSS-API (libgssapi_krb5): SPNEGO and Kerberos authentication */
UNLINKED(gss_delete_sec_context)
UNLINKED(gss_display_name)
UNLINKED(gss_display_status)
UNLINKED(gss_import_name)
UNLINKED(gss_init_sec_context)
UNLINKED(gss_inquire_context)
UNLINKED(gss_release_buffer)
UNLINKED(gss_release_name)
UNLINKED(gss_unwrap)
UNLINKED(gss_wrap)
/* a gss_OID constant libcurl takes the address of; never dereferenced here */
const void *GSS_C_NT_HOSTBASED_SERVICE;
