/* Bech32 (BIP173) and Bech32m (BIP350) strings, and segwit addresses. */
#ifndef BITCACHE_BECH32_H
#define BITCACHE_BECH32_H

#include <stddef.h>

typedef enum {
    BC_BECH32 = 1,      /* checksum constant 1: witness version 0 */
    BC_BECH32M = 2      /* checksum constant 0x2bc830a3: versions 1 to 16 */
} bc_bech32_variant;

#define BC_BECH32_MAX_LEN 90     /* characters in a whole string */
#define BC_BECH32_MAX_HRP 83

/* Encodes hrp (lower case) and 5-bit values data[0..len) with a checksum
 * of the given variant. Returns 1, or 0 when out (outlen bytes, NUL
 * included) is too small, the result would pass 90 characters, or the
 * hrp or a value is invalid. */
int bc_bech32_encode(char *out, size_t outlen, const char *hrp,
                     const unsigned char *data, size_t len, bc_bech32_variant variant);

/* Decodes str: hrp (lower-cased, NUL-terminated, BC_BECH32_MAX_HRP+1 bytes)
 * and the 5-bit data values without the checksum (up to BC_BECH32_MAX_LEN
 * bytes) into *datalen; *variant says which checksum matched. Returns 1, or
 * 0 with *err saying what is wrong. */
int bc_bech32_decode(char *hrp, unsigned char *data, size_t *datalen,
                     bc_bech32_variant *variant, const char *str, const char **err);

/* Segwit address of witness version witver (0..16) and program prog
 * (2..40 bytes; 20 or 32 for version 0); Bech32 for v0, Bech32m above. */
int bc_segwit_encode(char *out, size_t outlen, const char *hrp, int witver,
                     const unsigned char *prog, size_t proglen);

/* Decodes a segwit address whose hrp must equal hrp (lower case). prog
 * holds 40 bytes. Returns 1, or 0 with *err (wrong hrp, checksum or
 * variant for the version, witness version, program length, padding). */
int bc_segwit_decode(int *witver, unsigned char *prog, size_t *proglen, const char *hrp,
                     const char *addr, const char **err);

#endif
