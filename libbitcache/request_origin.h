/* Whether a browser sent a request from another site: what the wallet's
 * POST routes refuse when they are authenticated by the cookie
 * (docs/wallet.md). Outside input: the Origin and Sec-Fetch-Site headers
 * and the Host the client named. */
#ifndef BITCACHE_REQUEST_ORIGIN_H
#define BITCACHE_REQUEST_ORIGIN_H

#include <stddef.h>

/* 1 if the request comes from another site: Sec-Fetch-Site is
 * "cross-site" (any case), or an Origin is present and is not
 * "https://<host>" or, unless tls, "http://<host>" for this request (a
 * proxy that ends TLS in front of nginx forwards https Origins over plain
 * HTTP; host compared without case), "null" included; 0 otherwise, and when neither header is
 * present (scripts, old browsers: SameSite=Lax keeps the cookie off their
 * cross-site POSTs). A header is absent when its pointer is NULL; host
 * NULL (HTTP/1.0 without Host) makes any Origin foreign. */
int bc_request_cross_site(const char *origin, size_t origin_len,
    const char *fetch_site, size_t fetch_site_len, const char *host,
    size_t host_len, int tls);

#endif
