/* Base64url without padding (RFC 4648 section 5): tokens travel in
 * cookies and query strings untouched. */
#ifndef BITCACHE_BASE64URL_H
#define BITCACHE_BASE64URL_H

#include <stddef.h>

#define BC_B64URL_ENCODED_LEN(n) (((n) * 4 + 2) / 3)

/* Writes BC_B64URL_ENCODED_LEN(len) characters and a NUL to out. */
void bc_b64url_encode(char *out, const unsigned char *in, size_t len);

/* Decodes in[0..inlen) into out (room for outcap bytes), sets *outlen.
 * Returns 0 on a character outside the alphabet, an impossible length,
 * non-zero trailing bits (so that each token has one spelling) or
 * too little room. */
int bc_b64url_decode(unsigned char *out, size_t outcap, size_t *outlen,
    const char *in, size_t inlen);

#endif
