#include "base64url.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int
b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

void
bc_b64url_encode(char *out, const unsigned char *in, size_t len)
{
    size_t i;
    unsigned long v;
    char *p = out;

    for (i = 0; i + 3 <= len; i += 3) {
        v = (unsigned long) in[i] << 16 | (unsigned long) in[i + 1] << 8 | in[i + 2];
        *p++ = alphabet[v >> 18 & 63];
        *p++ = alphabet[v >> 12 & 63];
        *p++ = alphabet[v >> 6 & 63];
        *p++ = alphabet[v & 63];
    }
    if (len - i == 1) {
        v = (unsigned long) in[i] << 16;
        *p++ = alphabet[v >> 18 & 63];
        *p++ = alphabet[v >> 12 & 63];
    } else if (len - i == 2) {
        v = (unsigned long) in[i] << 16 | (unsigned long) in[i + 1] << 8;
        *p++ = alphabet[v >> 18 & 63];
        *p++ = alphabet[v >> 12 & 63];
        *p++ = alphabet[v >> 6 & 63];
    }
    *p = '\0';
}

int
bc_b64url_decode(unsigned char *out, size_t outcap, size_t *outlen,
    const char *in, size_t inlen)
{
    size_t i, n = 0, rest = inlen % 4;
    unsigned long acc = 0;
    int v, bits = 0;

    if (rest == 1) {
        return 0;
    }
    if (inlen / 4 * 3 + (rest ? rest - 1 : 0) > outcap) {
        return 0;
    }
    for (i = 0; i < inlen; i++) {
        v = b64url_value((unsigned char) in[i]);
        if (v < 0) {
            return 0;
        }
        acc = (acc << 6 | (unsigned long) v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char) (acc >> bits & 0xff);
        }
    }
    /* leftover bits must be zero: one canonical encoding per byte string */
    if (bits && (acc & ((1UL << bits) - 1)) != 0) {
        return 0;
    }
    *outlen = n;
    return 1;
}
