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
    const char *scheme = tls ? "https://" : "http://";
    size_t slen = tls ? 8 : 7;

    if (fetch_site != NULL
        && same_ci(fetch_site, fetch_site_len, "cross-site", 10))
    {
        return 1;
    }
    if (origin == NULL) {
        return 0;
    }
    if (host == NULL || host_len == 0 || origin_len <= slen
        || strncasecmp(origin, scheme, slen) != 0)
    {
        return 1;
    }
    return !same_ci(origin + slen, origin_len - slen, host, host_len);
}
