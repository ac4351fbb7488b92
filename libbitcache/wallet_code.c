/* The buyer's wallet secret, its recovery code (bech32m, hrp "bcw") and
 * the wallet id derived from it (docs/protocol.md, "Wallet records"). */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "bech32.h"
#include "hash.h"
#include "wallet_record.h"

#define CODE_GROUPS  32                 /* 20 bytes = 160 bits = 32 x 5 */

int
bc_wallet_secret_new(unsigned char secret[BC_WALLET_SECRET_LEN])
{
    return RAND_bytes(secret, BC_WALLET_SECRET_LEN) == 1;
}

void
bc_wallet_code_encode(char out[BC_WALLET_CODE_CHARS + 1],
    const unsigned char secret[BC_WALLET_SECRET_LEN])
{
    unsigned char five[CODE_GROUPS];
    uint32_t acc = 0;
    size_t i, n = 0;
    int bits = 0;

    for (i = 0; i < BC_WALLET_SECRET_LEN; i++) {
        acc = (acc << 8) | secret[i];
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            five[n++] = (acc >> bits) & 31;
        }
    }
    /* 160 bits leave nothing over; the hrp and groups are always valid */
    if (!bc_bech32_encode(out, BC_WALLET_CODE_CHARS + 1, BC_WALLET_HRP, five, n,
                          BC_BECH32M))
    {
        out[0] = '\0';
    }
    OPENSSL_cleanse(five, sizeof(five));
}

/* The code without the spaces, tabs and dashes people type into it, in
 * lower case (a checksum still catches a typo; mixed case is no typo). */
static size_t
code_squeeze(char out[BC_WALLET_CODE_CHARS + 1], const char *s, size_t len)
{
    size_t i, n = 0;
    char c;

    for (i = 0; i < len; i++) {
        c = s[i];
        if (c == ' ' || c == '\t' || c == '-') {
            continue;
        }
        if (n == BC_WALLET_CODE_CHARS) {
            return BC_WALLET_CODE_CHARS + 1;        /* too long */
        }
        out[n++] = (c >= 'A' && c <= 'Z') ? (char) (c - 'A' + 'a') : c;
    }
    out[n] = '\0';
    return n;
}

int
bc_wallet_code_decode(unsigned char secret[BC_WALLET_SECRET_LEN], const char *s,
    size_t len, char *err, size_t errlen)
{
    char code[BC_WALLET_CODE_CHARS + 1], hrp[BC_BECH32_MAX_HRP + 1];
    unsigned char five[BC_BECH32_MAX_LEN];
    const char *why;
    bc_bech32_variant variant;
    size_t n, i, datalen;
    uint32_t acc = 0;
    int bits = 0, ok = 0;

    if (len > BC_WALLET_CODE_INPUT_MAX) {
        snprintf(err, errlen, "not a recovery code: it is too long");
        return 0;
    }
    n = code_squeeze(code, s, len);
    if (n == 0) {
        snprintf(err, errlen, "no recovery code");
        return 0;
    }
    if (n < 4 || memcmp(code, BC_WALLET_HRP "1", 4) != 0) {
        snprintf(err, errlen, "not a recovery code: it starts with \"" BC_WALLET_HRP "1\"");
        goto done;
    }
    if (n != BC_WALLET_CODE_CHARS) {
        if (n > BC_WALLET_CODE_CHARS) {
            snprintf(err, errlen, "not a recovery code: it is longer than %d characters",
                     BC_WALLET_CODE_CHARS);
        } else {
            snprintf(err, errlen, "not a recovery code: it has %zu characters, not %d",
                     n, BC_WALLET_CODE_CHARS);
        }
        goto done;
    }
    if (!bc_bech32_decode(hrp, five, &datalen, &variant, code, &why)
        || variant != BC_BECH32M || strcmp(hrp, BC_WALLET_HRP) != 0
        || datalen != CODE_GROUPS)
    {
        snprintf(err, errlen, "not a recovery code: check it for typos");
        goto done;
    }
    for (i = 0, n = 0; i < datalen; i++) {
        acc = (acc << 5) | five[i];
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            secret[n++] = (acc >> bits) & 0xff;
        }
    }
    ok = 1;                                 /* 160 bits: no padding bits left */

done:
    OPENSSL_cleanse(code, sizeof(code));
    OPENSSL_cleanse(five, sizeof(five));
    return ok;
}

int
bc_wallet_id_of(unsigned char wid[BC_WALLET_ID_LEN],
    const unsigned char secret[BC_WALLET_SECRET_LEN])
{
    unsigned char h[32];

    if (!bc_tagged_hash(h, "bitcache/v1/wallet-id", secret, BC_WALLET_SECRET_LEN)) {
        return 0;
    }
    memcpy(wid, h, BC_WALLET_ID_LEN);
    return 1;
}
