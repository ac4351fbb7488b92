/* Base58 and Base58Check (Bitcoin's alphabet), for extended keys and
 * legacy addresses. */
#ifndef BITCACHE_BASE58_H
#define BITCACHE_BASE58_H

#include <stddef.h>

/* Longest input the decoders accept: an extended key is 111 characters. */
#define BC_BASE58_MAX_CHARS 128

/* Writes the encoding of data[0..len) and a NUL to out (outlen bytes).
 * Returns 1, or 0 when out is too small or len > 96. */
int bc_base58_encode(char *out, size_t outlen, const unsigned char *data, size_t len);

/* Decodes in[0..inlen) into out; *outlen is the room in out on entry and the
 * decoded length on return. Returns 1, or 0 with *err set (bad character
 * and its position, too long, out too small). */
int bc_base58_decode(unsigned char *out, size_t *outlen, const char *in, size_t inlen,
                     const char **err);

/* payload || first 4 bytes of hash256(payload), base58-encoded. */
int bc_base58check_encode(char *out, size_t outlen, const unsigned char *payload,
                          size_t len);

/* As bc_base58_decode, then checks and strips the 4-byte checksum. */
int bc_base58check_decode(unsigned char *out, size_t *outlen, const char *in, size_t inlen,
                          const char **err);

#endif
