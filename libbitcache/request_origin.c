/* Cross-site requests (see the header). */
#include <strings.h>

#include "request_origin.h"

static int
same_ci(const char *a, size_t alen, const char *b, size_t blen)
{
    return alen == blen && (alen == 0 || strncasecmp(a, b, alen) == 0);
}

int
bc_request_cross_site(const char *origin, size_t origin_len,
    const char *fetch_site, size_t fetch_site_len, const char *host,
    size_t host_len, int tls)
{
    size_t slen;

    if (fetch_site != NULL
        && same_ci(fetch_site, fetch_site_len, "cross-site", 10))
    {
        return 1;
    }
    if (origin == NULL) {
        return 0;
    }
    if (host == NULL || host_len == 0) {
        return 1;
    }

    /* over TLS only https; on plain HTTP https too, as a proxy that
     * ends TLS in front of nginx forwards the browser's https Origin */
    if (origin_len > 8 && strncasecmp(origin, "https://", 8) == 0) {
        slen = 8;
    } else if (!tls && origin_len > 7 && strncasecmp(origin, "http://", 7) == 0) {
        slen = 7;
    } else {
        return 1;
    }

    return !same_ci(origin + slen, origin_len - slen, host, host_len);
}
