#include "hex.h"

static int
hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

void
bc_hex_encode(char *out, const unsigned char *in, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0x0f];
    }
    out[2 * len] = '\0';
}

int
bc_hex_decode(unsigned char *out, size_t outlen, const char *in, size_t inlen)
{
    size_t i;
    int hi, lo;

    if (inlen != 2 * outlen) {
        return 0;
    }
    for (i = 0; i < outlen; i++) {
        hi = hex_value(in[2 * i]);
        lo = hex_value(in[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return 0;
        }
        out[i] = (unsigned char) (hi << 4 | lo);
    }
    return 1;
}
