/* Where a sealed file's key is sold (docs/sealed.md, "The commands"): the
 * API URL its header names and the key route of its product, checked so
 * that a header (outside input: anyone can write one) yields only a plain
 * http(s) URL of that host, never one with a query, a fragment or user
 * info that would send the request elsewhere. */
#ifndef BITCACHE_SEALED_URL_H
#define BITCACHE_SEALED_URL_H

#include <stddef.h>

#include "sealed.h"

#define BC_SEALED_API_MAX   (BC_SEALED_FIELD_MAX + 1)
/* "<api>/keys" then the product percent-encoded, and a NUL */
#define BC_SEALED_KEYS_MAX  (BC_SEALED_FIELD_MAX + 5 + 3 * BC_SEALED_FIELD_MAX + 1)

/* From h: api, the host without trailing '/', and keys, "<api>/keys"
 * followed by the product as bc_path_escape writes it. Returns 1, or 0
 * with the reason in err: a host that is not "http://" or "https://", an
 * empty authority, '@' in it, '?', '#', a byte RFC 3986 has nowhere in
 * a URL (\ " < > ` { } | ^) or outside 0x21..0x7e anywhere; a product that does not start with '/'. */
int bc_sealed_urls(const bc_sealed_header *h, char api[BC_SEALED_API_MAX],
    char keys[BC_SEALED_KEYS_MAX], char *err, size_t errlen);

#endif
