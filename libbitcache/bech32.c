/* Bech32 and Bech32m, written from BIP173 and BIP350. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bech32.h"

static const char charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

#define BECH32M_CONST 0x2bc830a3u

static uint32_t
polymod_step(uint32_t chk, unsigned v)
{
    static const uint32_t gen[5] = {
        0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3
    };
    uint32_t top = chk >> 25;
    int i;

    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (i = 0; i < 5; i++) {
        if ((top >> i) & 1) {
            chk ^= gen[i];
        }
    }
    return chk;
}

/* polymod over hrp_expand(hrp) || data (|| six zeros when creating) */
static uint32_t
polymod(const char *hrp, const unsigned char *data, size_t len, int pad)
{
    uint32_t chk = 1;
    size_t i, hlen = strlen(hrp);

    for (i = 0; i < hlen; i++) {
        chk = polymod_step(chk, (unsigned char) hrp[i] >> 5);
    }
    chk = polymod_step(chk, 0);
    for (i = 0; i < hlen; i++) {
        chk = polymod_step(chk, (unsigned char) hrp[i] & 31);
    }
    for (i = 0; i < len; i++) {
        chk = polymod_step(chk, data[i]);
    }
    for (i = 0; pad && i < 6; i++) {
        chk = polymod_step(chk, 0);
    }
    return chk;
}

static uint32_t
variant_const(bc_bech32_variant v)
{
    return v == BC_BECH32M ? BECH32M_CONST : 1;
}

int
bc_bech32_encode(char *out, size_t outlen, const char *hrp,
                 const unsigned char *data, size_t len, bc_bech32_variant variant)
{
    size_t hlen = strlen(hrp), i;
    uint32_t chk;

    if (hlen < 1 || hlen > BC_BECH32_MAX_HRP || hlen + 1 + len + 6 > BC_BECH32_MAX_LEN
        || hlen + 1 + len + 6 + 1 > outlen)
    {
        return 0;
    }
    for (i = 0; i < hlen; i++) {
        unsigned char c = (unsigned char) hrp[i];

        if (c < 33 || c > 126 || (c >= 'A' && c <= 'Z')) {
            return 0;
        }
        out[i] = (char) c;
    }
    out[hlen] = '1';
    for (i = 0; i < len; i++) {
        if (data[i] > 31) {
            return 0;
        }
        out[hlen + 1 + i] = charset[data[i]];
    }
    chk = polymod(hrp, data, len, 1) ^ variant_const(variant);
    for (i = 0; i < 6; i++) {
        out[hlen + 1 + len + i] = charset[(chk >> (5 * (5 - i))) & 31];
    }
    out[hlen + 1 + len + 6] = '\0';
    return 1;
}

int
bc_bech32_decode(char *hrp, unsigned char *data, size_t *datalen,
                 bc_bech32_variant *variant, const char *str, const char **err)
{
    static char msg[96];
    size_t len = strlen(str), sep, i;
    int lower = 0, upper = 0;
    uint32_t chk;

    if (len > BC_BECH32_MAX_LEN) {
        *err = "bech32 string longer than 90 characters";
        return 0;
    }
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char) str[i];

        if (c < 33 || c > 126) {
            snprintf(msg, sizeof(msg),
                     "bech32 character 0x%02x out of range at position %zu", c, i + 1);
            *err = msg;
            return 0;
        }
        lower |= c >= 'a' && c <= 'z';
        upper |= c >= 'A' && c <= 'Z';
    }
    if (lower && upper) {
        *err = "bech32 string mixes upper and lower case";
        return 0;
    }
    sep = len;
    for (i = len; i > 0; i--) {
        if (str[i - 1] == '1') {
            sep = i - 1;
            break;
        }
    }
    if (sep == len) {
        *err = "bech32 string has no separator '1'";
        return 0;
    }
    if (sep == 0) {
        *err = "bech32 string has an empty human-readable part";
        return 0;
    }
    if (len - sep - 1 < 6) {
        *err = "bech32 checksum too short (fewer than 6 characters after the '1')";
        return 0;
    }
    for (i = 0; i < sep; i++) {
        char c = str[i];

        hrp[i] = (char) (c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    hrp[sep] = '\0';
    for (i = sep + 1; i < len; i++) {
        char c = str[i];
        const char *p;

        c = (char) (c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
        if ((p = strchr(charset, c)) == NULL || c == '\0') {
            snprintf(msg, sizeof(msg), "invalid bech32 %s character '%c' at position %zu",
                     i >= len - 6 ? "checksum" : "data", str[i], i + 1);
            *err = msg;
            return 0;
        }
        data[i - sep - 1] = (unsigned char) (p - charset);
    }
    chk = polymod(hrp, data, len - sep - 1, 0);
    if (chk == 1) {
        *variant = BC_BECH32;
    } else if (chk == BECH32M_CONST) {
        *variant = BC_BECH32M;
    } else {
        *err = "bad bech32 checksum (a mistyped or truncated address?)";
        return 0;
    }
    *datalen = len - sep - 1 - 6;
    return 1;
}

/* Regroups bits: frombits-wide values to tobits-wide values. When decoding
 * (pad == 0) the leftover must be under frombits bits and all zero. */
static int
convert_bits(unsigned char *out, size_t *outlen, size_t outcap, int tobits,
             const unsigned char *in, size_t inlen, int frombits, int pad,
             const char **err)
{
    uint32_t acc = 0, maxv = (1u << tobits) - 1;
    int bits = 0;
    size_t i, n = 0;

    for (i = 0; i < inlen; i++) {
        acc = ((acc << frombits) | in[i]) & 0xffffff;
        bits += frombits;
        while (bits >= tobits) {
            bits -= tobits;
            if (n == outcap) {
                *err = "witness program too long";
                return 0;
            }
            out[n++] = (acc >> bits) & maxv;
        }
    }
    if (pad) {
        if (bits > 0) {
            if (n == outcap) {
                *err = "witness program too long";
                return 0;
            }
            out[n++] = (acc << (tobits - bits)) & maxv;
        }
    } else if (bits >= frombits) {
        *err = "bech32 data has more than 4 bits of padding";
        return 0;
    } else if ((acc << (tobits - bits)) & maxv) {
        *err = "bech32 data has non-zero padding bits";
        return 0;
    }
    *outlen = n;
    return 1;
}

int
bc_segwit_encode(char *out, size_t outlen, const char *hrp, int witver,
                 const unsigned char *prog, size_t proglen)
{
    unsigned char data[1 + 65];
    size_t n;
    const char *err;

    if (witver < 0 || witver > 16 || proglen < 2 || proglen > 40
        || (witver == 0 && proglen != 20 && proglen != 32))
    {
        return 0;
    }
    data[0] = (unsigned char) witver;
    if (!convert_bits(data + 1, &n, sizeof(data) - 1, 5, prog, proglen, 8, 1, &err)) {
        return 0;
    }
    return bc_bech32_encode(out, outlen, hrp, data, n + 1,
                            witver == 0 ? BC_BECH32 : BC_BECH32M);
}

int
bc_segwit_decode(int *witver, unsigned char *prog, size_t *proglen, const char *hrp,
                 const char *addr, const char **err)
{
    static char msg[160];
    char got[BC_BECH32_MAX_HRP + 1];
    unsigned char data[BC_BECH32_MAX_LEN], bytes[64];
    size_t n;
    bc_bech32_variant variant;

    if (!bc_bech32_decode(got, data, &n, &variant, addr, err)) {
        return 0;
    }
    if (strcmp(got, hrp) != 0) {
        snprintf(msg, sizeof(msg), "address prefix '%.20s' is not '%s' (another network?)",
                 got, hrp);
        *err = msg;
        return 0;
    }
    if (n == 0) {
        *err = "segwit address has an empty data part (no witness version)";
        return 0;
    }
    if (data[0] > 16) {
        snprintf(msg, sizeof(msg), "invalid witness version %u (0 to 16)", data[0]);
        *err = msg;
        return 0;
    }
    if (!convert_bits(bytes, proglen, sizeof(bytes), 8, data + 1, n - 1, 5, 0, err)) {
        return 0;
    }
    if (*proglen < 2 || *proglen > 40) {
        snprintf(msg, sizeof(msg), "invalid witness program length %zu (2 to 40 bytes)",
                 *proglen);
        *err = msg;
        return 0;
    }
    if (data[0] == 0 && *proglen != 20 && *proglen != 32) {
        snprintf(msg, sizeof(msg),
                 "invalid witness program length %zu for version 0 (20 or 32 bytes)",
                 *proglen);
        *err = msg;
        return 0;
    }
    if (data[0] == 0 && variant != BC_BECH32) {
        *err = "witness version 0 address with a Bech32m checksum (must be Bech32)";
        return 0;
    }
    if (data[0] != 0 && variant != BC_BECH32M) {
        *err = "witness version 1+ address with a Bech32 checksum (must be Bech32m, BIP350)";
        return 0;
    }
    memcpy(prog, bytes, *proglen);
    *witver = data[0];
    return 1;
}
