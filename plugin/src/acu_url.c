/* acu_url.c - URL checks and building with libcurl's URL API. */
#include "acu_url.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int acu_host_is_loopback(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;
    char tmp[64];
    size_t n;

    if (host == NULL)
        return 0;
    if (strcasecmp(host, "localhost") == 0)
        return 1;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    n = strlen(host);
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof(tmp)) {
        memcpy(tmp, host + 1, n - 2);
        tmp[n - 2] = '\0';
        if (inet_pton(AF_INET6, tmp, &a6) == 1)
            return IN6_IS_ADDR_LOOPBACK(&a6);
    }
    return 0;
}

int acu_url_check(const char *url, int allow_http, int require_no_query,
                  char **normalized, char *why, size_t whycap)
{
    CURLU *u = NULL;
    char *scheme = NULL, *host = NULL, *user = NULL, *query = NULL,
         *frag = NULL, *copy = NULL;
    int rc = -1;
    size_t n;

    if (normalized != NULL)
        *normalized = NULL;
    u = curl_url();
    if (u == NULL) {
        snprintf(why, whycap, "out of memory");
        goto out;
    }
    /* No CURLU_GUESS_SCHEME: a URL without a scheme is refused. */
    if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK) {
        snprintf(why, whycap, "is not an absolute URL (expected https://host/site)");
        goto out;
    }
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || host[0] == '\0') {
        snprintf(why, whycap, "has no host name");
        goto out;
    }
    if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
        snprintf(why, whycap, "must not contain a user name or password");
        goto out;
    }
    if (curl_url_get(u, CURLUPART_FRAGMENT, &frag, 0) == CURLUE_OK) {
        snprintf(why, whycap, "must not contain a #fragment");
        goto out;
    }
    if (require_no_query && curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_OK) {
        snprintf(why, whycap, "must not contain a ?query");
        goto out;
    }
    if (strcasecmp(scheme, "https") == 0) {
        /* fine */
    } else if (strcasecmp(scheme, "http") == 0) {
        if (!acu_host_is_loopback(host)) {
            snprintf(why, whycap,
                     "uses plain http to %s; only https is allowed (plain http is "
                     "accepted only for a loopback address such as 127.0.0.1)", host);
            goto out;
        }
        if (!allow_http) {
            snprintf(why, whycap,
                     "uses plain http; set allow_http_loopback to true to allow "
                     "http to this loopback address");
            goto out;
        }
    } else {
        snprintf(why, whycap, "uses the scheme \"%s\"; only https is allowed", scheme);
        goto out;
    }
    if (normalized != NULL) {
        copy = strdup(url);
        if (copy == NULL) {
            snprintf(why, whycap, "out of memory");
            goto out;
        }
        n = strlen(copy);
        while (n > 0 && copy[n - 1] == '/')
            copy[--n] = '\0';
        *normalized = copy;
        copy = NULL;
    }
    rc = 0;
out:
    free(copy);
    curl_free(scheme);
    curl_free(host);
    curl_free(user);
    curl_free(query);
    curl_free(frag);
    curl_url_cleanup(u);
    return rc;
}

char *acu_url_join(const char *base, const char *path)
{
    size_t a = strlen(base), b = strlen(path);
    char *s = malloc(a + b + 1);

    if (s == NULL)
        return NULL;
    memcpy(s, base, a);
    memcpy(s + a, path, b + 1);
    return s;
}

static acu_buf_rc add_escaped(acu_buf *b, const char *value)
{
    char *esc = curl_easy_escape(NULL, value, 0);
    acu_buf_rc rc;

    if (esc == NULL)
        return ACU_BUF_NOMEM;
    rc = acu_buf_adds(b, esc);
    curl_free(esc);
    return rc;
}

acu_buf_rc acu_form_add(acu_buf *b, const char *name, const char *value)
{
    acu_buf_rc rc = ACU_BUF_OK;

    if (b->len > 0)
        rc = acu_buf_add(b, "&", 1);
    if (rc == ACU_BUF_OK)
        rc = add_escaped(b, name);
    if (rc == ACU_BUF_OK)
        rc = acu_buf_add(b, "=", 1);
    if (rc == ACU_BUF_OK)
        rc = add_escaped(b, value);
    return rc;
}

acu_buf_rc acu_query_add(acu_buf *b, int first, const char *name,
                         const char *value)
{
    acu_buf_rc rc = acu_buf_add(b, first ? "?" : "&", 1);

    if (rc == ACU_BUF_OK)
        rc = add_escaped(b, name);
    if (rc == ACU_BUF_OK)
        rc = acu_buf_add(b, "=", 1);
    if (rc == ACU_BUF_OK)
        rc = add_escaped(b, value);
    return rc;
}

/* Unescape one query component: '+' is a space, %XX a byte. */
static char *unescape_component(const char *s, size_t n)
{
    char *tmp = malloc(n + 1), *res = NULL, *dec;
    int outlen = 0;

    if (tmp == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        tmp[i] = s[i] == '+' ? ' ' : s[i];
    tmp[n] = '\0';
    dec = curl_easy_unescape(NULL, tmp, (int)n, &outlen);
    if (dec != NULL) {
        res = malloc((size_t)outlen + 1);
        if (res != NULL) {
            memcpy(res, dec, (size_t)outlen);
            res[outlen] = '\0';
        }
        curl_free(dec);
    }
    free(tmp);
    return res;
}

int acu_url_query_get(const char *url, const char *name, char **value)
{
    CURLU *u = NULL;
    char *query = NULL;
    const char *q, *p;
    size_t nlen = strlen(name);
    int rc = -1;

    *value = NULL;
    if (strstr(url, "://") != NULL) {
        u = curl_url();
        if (u == NULL)
            return -1;
        if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK)
            goto out;
        if (curl_url_get(u, CURLUPART_QUERY, &query, 0) != CURLUE_OK) {
            rc = 0; /* no query: the parameter is absent */
            goto out;
        }
        q = query;
    } else {
        q = url[0] == '?' ? url + 1 : url;
    }
    if (strlen(q) > 65536)
        goto out;
    for (p = q; *p != '\0';) {
        const char *amp = strchr(p, '&');
        const char *end = amp != NULL ? amp : p + strlen(p);
        const char *eq = memchr(p, '=', (size_t)(end - p));
        const char *kend = eq != NULL ? eq : end;

        if ((size_t)(kend - p) == nlen && memcmp(p, name, nlen) == 0) {
            const char *v = eq != NULL ? eq + 1 : end;

            *value = unescape_component(v, (size_t)(end - v));
            rc = *value != NULL ? 0 : -1;
            goto out;
        }
        p = amp != NULL ? amp + 1 : end;
    }
    rc = 0;
out:
    curl_free(query);
    curl_url_cleanup(u);
    return rc;
}
