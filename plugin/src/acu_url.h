/* acu_url.h - URL checks and building with libcurl's URL API.
 *
 * The plugin never glues user text into URLs by hand: values are escaped
 * with curl_easy_escape, URLs are parsed with curl_url. */
#ifndef ACU_URL_H
#define ACU_URL_H

#include <stddef.h>

#include "acu_buf.h"

/* Nonzero when `host` (as curl_url gives it: IPv6 in brackets) names the
 * local machine: "localhost", 127.0.0.0/8 or ::1. */
int acu_host_is_loopback(const char *host);

/* Check an absolute URL the plugin will connect to or send a browser to.
 * It must be http or https with a host, without user info or fragment, and
 * (require_no_query) without a query. Plain http is allowed only when
 * allow_http is nonzero and the host is a loopback address. On success
 * *normalized (when not NULL) receives a malloc'd copy without trailing
 * slashes and 0 is returned; otherwise -1 with a reason (a sentence
 * fragment, never containing the URL's user info) in why. */
int acu_url_check(const char *url, int allow_http, int require_no_query,
                  char **normalized, char *why, size_t whycap);

/* A malloc'd "<base><path>" where path starts with '/'. NULL when out of
 * memory. */
char *acu_url_join(const char *base, const char *path);

/* Append name=value to an application/x-www-form-urlencoded body (with '&'
 * when it is not empty), both escaped. */
acu_buf_rc acu_form_add(acu_buf *b, const char *name, const char *value);

/* Append "&name=value" (or "?name=value" when first is nonzero) to a URL
 * being built, value escaped. */
acu_buf_rc acu_query_add(acu_buf *b, int first, const char *name,
                         const char *value);

/* Find query parameter `name` in an absolute URL (or, when the text has no
 * scheme, in a bare "a=b&c=d" query). *value receives a malloc'd, unescaped
 * copy ('+' read as a space), or NULL when absent. Returns 0, or -1 when the
 * URL cannot be parsed or memory ran out. */
int acu_url_query_get(const char *url, const char *name, char **value);

#endif
