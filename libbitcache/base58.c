/* Base58 as a big number in base 58, converted digit by digit; leading
 * zero bytes become leading '1's. Quadratic, which is nothing at the
 * lengths of keys and addresses. */
#include <stdio.h>
#include <string.h>

#include "base58.h"
#include "hash.h"

static const char alphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

#define MAX_BYTES 96

int
bc_base58_encode(char *out, size_t outlen, const unsigned char *data, size_t len)
{
    /* base-58 digits, most significant first; 138/100 > log(256)/log(58) */
    unsigned char digits[MAX_BYTES * 138 / 100 + 1];
    size_t zeros = 0, ndigits = 0, i, j;

    if (len > MAX_BYTES) {
        return 0;
    }
    while (zeros < len && data[zeros] == 0) {
        zeros++;
    }
    for (i = zeros; i < len; i++) {
        unsigned int carry = data[i];

        /* digits[] holds the number little-endian: multiply by 256, add */
        for (j = 0; j < ndigits; j++) {
            carry += (unsigned int) digits[j] << 8;
            digits[j] = carry % 58;
            carry /= 58;
        }
        while (carry > 0) {
            digits[ndigits++] = carry % 58;
            carry /= 58;
        }
    }
    if (zeros + ndigits + 1 > outlen) {
        return 0;
    }
    for (i = 0; i < zeros; i++) {
        out[i] = '1';
    }
    for (j = 0; j < ndigits; j++) {
        out[zeros + j] = alphabet[digits[ndigits - 1 - j]];
    }
    out[zeros + ndigits] = '\0';
    return 1;
}

static int
digit_value(char c)
{
    const char *p;

    if (c == '\0' || (p = strchr(alphabet, c)) == NULL) {
        return -1;
    }
    return (int) (p - alphabet);
}

int
bc_base58_decode(unsigned char *out, size_t *outlen, const char *in, size_t inlen,
                 const char **err)
{
    static char msg[96];
    unsigned char bytes[BC_BASE58_MAX_CHARS];   /* little-endian number */
    size_t ones = 0, nbytes = 0, i, j;

    if (inlen == 0) {
        *err = "empty base58 string";
        return 0;
    }
    if (inlen > BC_BASE58_MAX_CHARS) {
        *err = "base58 string too long";
        return 0;
    }
    while (ones < inlen && in[ones] == '1') {
        ones++;
    }
    for (i = ones; i < inlen; i++) {
        int v = digit_value(in[i]);
        unsigned int carry;

        if (v < 0) {
            unsigned char c = (unsigned char) in[i];

            if (c >= 0x21 && c < 0x7f) {
                snprintf(msg, sizeof(msg),
                         "invalid base58 character '%c' at position %zu", c, i + 1);
            } else {
                snprintf(msg, sizeof(msg),
                         "invalid base58 character 0x%02x at position %zu", c, i + 1);
            }
            *err = msg;
            return 0;
        }
        carry = (unsigned int) v;
        for (j = 0; j < nbytes; j++) {
            carry += (unsigned int) bytes[j] * 58;
            bytes[j] = carry & 0xff;
            carry >>= 8;
        }
        while (carry > 0) {
            bytes[nbytes++] = carry & 0xff;
            carry >>= 8;
        }
    }
    if (ones + nbytes > *outlen) {
        *err = "base58 string decodes to more bytes than expected";
        return 0;
    }
    memset(out, 0, ones);
    for (j = 0; j < nbytes; j++) {
        out[ones + j] = bytes[nbytes - 1 - j];
    }
    *outlen = ones + nbytes;
    return 1;
}

int
bc_base58check_encode(char *out, size_t outlen, const unsigned char *payload, size_t len)
{
    unsigned char buf[MAX_BYTES], check[32];

    if (len + 4 > sizeof(buf) || !bc_hash256(check, payload, len)) {
        return 0;
    }
    memcpy(buf, payload, len);
    memcpy(buf + len, check, 4);
    return bc_base58_encode(out, outlen, buf, len + 4);
}

int
bc_base58check_decode(unsigned char *out, size_t *outlen, const char *in, size_t inlen,
                      const char **err)
{
    unsigned char buf[BC_BASE58_MAX_CHARS], check[32];
    size_t n = sizeof(buf);

    if (!bc_base58_decode(buf, &n, in, inlen, err)) {
        return 0;
    }
    if (n < 4) {
        *err = "base58check string too short for its checksum";
        return 0;
    }
    if (!bc_hash256(check, buf, n - 4)) {
        *err = "hash unavailable";
        return 0;
    }
    if (memcmp(check, buf + n - 4, 4) != 0) {
        *err = "bad base58check checksum (a mistyped or truncated key or address?)";
        return 0;
    }
    if (n - 4 > *outlen) {
        *err = "base58check payload longer than expected";
        return 0;
    }
    memcpy(out, buf, n - 4);
    *outlen = n - 4;
    return 1;
}
