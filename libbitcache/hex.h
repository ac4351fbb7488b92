/* Lower-case hexadecimal, for ids, keys and scriptPubKeys. */
#ifndef BITCACHE_HEX_H
#define BITCACHE_HEX_H

#include <stddef.h>

/* Writes 2*len hex digits and a NUL to out (2*len+1 bytes). */
void bc_hex_encode(char *out, const unsigned char *in, size_t len);

/* Decodes exactly 2*outlen hex digits (either case) from in[0..inlen).
 * Returns 1 on success, 0 on a wrong length or a non-hex digit. */
int bc_hex_decode(unsigned char *out, size_t outlen, const char *in, size_t inlen);

#endif
