#include <stdio.h>
#include <string.h>

#include "escape.h"
#include "sealed_url.h"

static size_t
scheme_len(const unsigned char *s, size_t n)
{
    if (n >= 8 && memcmp(s, "https://", 8) == 0) {
        return 8;
    }
    if (n >= 7 && memcmp(s, "http://", 7) == 0) {
        return 7;
    }
    return 0;
}

static int
host_ok(const unsigned char *s, size_t n, char *err, size_t errlen)
{
    size_t i, start = scheme_len(s, n), slash = n;

    if (start == 0) {
        snprintf(err, errlen, "the host is not an http:// or https:// URL");
        return 0;
    }
    for (i = 0; i < n; i++) {
        /* a query or fragment would swallow "/keys/..."; the rest are
         * bytes RFC 3986 has nowhere in a URL */
        if (s[i] < 0x21 || s[i] > 0x7e || strchr("?#\\\"<>`{}|^", s[i]) != NULL) {
            snprintf(err, errlen, "the host URL holds a query, a fragment, a space "
                     "or a byte no URL has");
            return 0;
        }
        if (i >= start && s[i] == '/' && slash == n) {
            slash = i;
        }
    }
    if (slash == start) {
        snprintf(err, errlen, "the host URL names no host");
        return 0;
    }
    if (memchr(s + start, '@', slash - start) != NULL) {
        snprintf(err, errlen, "the host URL holds user info ('@')");
        return 0;
    }
    return 1;
}

int
bc_sealed_urls(const bc_sealed_header *h, char api[BC_SEALED_API_MAX],
    char keys[BC_SEALED_KEYS_MAX], char *err, size_t errlen)
{
    size_t n = h->host_len, k;

    if (n == 0 || n > BC_SEALED_FIELD_MAX || !host_ok(h->host, n, err, errlen)) {
        if (n == 0 || n > BC_SEALED_FIELD_MAX) {
            snprintf(err, errlen, "the host URL is empty or too long");
        }
        return 0;
    }
    if (h->product_len == 0 || h->product_len > BC_SEALED_FIELD_MAX
        || h->product[0] != '/')
    {
        snprintf(err, errlen, "the product is not a path on its host");
        return 0;
    }
    while (n > scheme_len(h->host, n) && h->host[n - 1] == '/') {
        n--;                            /* "<api>/" + "/keys" */
    }
    memcpy(api, h->host, n);
    api[n] = '\0';
    memcpy(keys, api, n);
    memcpy(keys + n, "/keys", 5);
    k = n + 5 + bc_path_escape(keys + n + 5, h->product, h->product_len);
    keys[k] = '\0';
    return 1;
}
