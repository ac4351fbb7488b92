/* bitcache_cors_origins (docs/creators.md): which other sites' scripts may
 * read the API's public product descriptions. An origin is written as
 * browsers send it, so that matching is a byte comparison. */
#ifndef BITCACHE_CORS_H
#define BITCACHE_CORS_H

#include <stddef.h>

/* 1 if s[0..len) is an origin as browsers send it: "http" or "https",
 * "://", a host (lower-case letters, digits, '-' and '.', or an IPv6
 * literal in brackets), an optional ":port" (1..65535, no leading zero),
 * nothing after. Otherwise 0 and a reason in err. */
int bc_cors_origin_check(const char *s, size_t len, char *err, size_t errlen);

#endif
