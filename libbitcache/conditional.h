/* If-Match / If-None-Match: whether a list of entity tags names a
 * response's ETag, as nginx 1.22's not_modified filter decides it
 * (ngx_http_test_if_match), written again without nginx so that the access
 * phase can tell a request that nginx will answer 304 or 412 (no body:
 * nothing to draw), and so that it can be unit tested and fuzzed. */
#ifndef BITCACHE_CONDITIONAL_H
#define BITCACHE_CONDITIONAL_H

#include <stddef.h>

/* 1 if list (the header's value, len bytes) is "*" or holds etag; with
 * weak (If-None-Match) a "W/" before either side is ignored. etag is the
 * response's (NULL when it has none). */
int bc_etag_list_match(const char *list, size_t len, const char *etag,
    size_t etag_len, int weak);

#endif
