#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "token.h"

static void
put_be(unsigned char *p, uint64_t v, int n)
{
    while (n-- > 0) {
        p[n] = (unsigned char) (v & 0xff);
        v >>= 8;
    }
}

static uint64_t
get_be(const unsigned char *p, int n)
{
    uint64_t v = 0;
    int i;

    for (i = 0; i < n; i++) {
        v = v << 8 | p[i];
    }
    return v;
}

static int
token_mac(unsigned char *mac, const unsigned char *body, size_t len,
    const bc_keys *keys)
{
    return bc_hmac_sha256(mac, keys->token_hmac, body, len);
}

size_t
bc_token_encode(char *out, const bc_token *t, const bc_keys *keys)
{
    unsigned char buf[BC_TOKEN_MAX_BYTES], *p = buf;
    size_t len;

    if (t->product_len == 0 || t->product_len > BC_TOKEN_PRODUCT_MAX) {
        return 0;
    }
    *p++ = BC_TOKEN_VERSION;
    memcpy(p, t->id, BC_TOKEN_ID_LEN);
    p += BC_TOKEN_ID_LEN;
    put_be(p, t->expires, 8);
    p += 8;
    put_be(p, t->uses, 4);
    p += 4;
    put_be(p, t->product_len, 2);
    p += 2;
    memcpy(p, t->product, t->product_len);
    p += t->product_len;
    if (!token_mac(p, buf, (size_t) (p - buf), keys)) {
        return 0;
    }
    len = (size_t) (p - buf) + BC_TOKEN_MAC_LEN;
    bc_b64url_encode(out, buf, len);
    return BC_B64URL_ENCODED_LEN(len);
}

int
bc_token_parse(bc_token *t, unsigned char *buf, const char *s, size_t len)
{
    size_t n;

    if (len > BC_TOKEN_MAX_CHARS
        || !bc_b64url_decode(buf, BC_TOKEN_MAX_BYTES, &n, s, len)
        || n < BC_TOKEN_HEADER_LEN + 1 + BC_TOKEN_MAC_LEN
        || buf[0] != BC_TOKEN_VERSION)
    {
        return 0;
    }
    memcpy(t->id, buf + 1, BC_TOKEN_ID_LEN);
    t->expires = get_be(buf + 1 + BC_TOKEN_ID_LEN, 8);
    t->uses = (uint32_t) get_be(buf + 1 + BC_TOKEN_ID_LEN + 8, 4);
    t->product_len = (size_t) get_be(buf + BC_TOKEN_HEADER_LEN - 2, 2);
    t->product = buf + BC_TOKEN_HEADER_LEN;
    return t->product_len > 0
           && BC_TOKEN_HEADER_LEN + t->product_len + BC_TOKEN_MAC_LEN == n;
}

bc_token_status
bc_token_verify(bc_token *t, unsigned char *buf, const char *s, size_t len,
    const bc_keys *keys, uint64_t now, const unsigned char *product,
    size_t product_len)
{
    unsigned char mac[BC_TOKEN_MAC_LEN];
    size_t body;

    if (!bc_token_parse(t, buf, s, len)) {
        return BC_TOKEN_MALFORMED;
    }
    body = BC_TOKEN_HEADER_LEN + t->product_len;
    /* the old secret's keys only when the current ones fail */
    for ( ;; ) {
        if (token_mac(mac, buf, body, keys)
            && CRYPTO_memcmp(mac, buf + body, BC_TOKEN_MAC_LEN) == 0)
        {
            break;
        }
        keys = keys->old;
        if (keys == NULL) {
            return BC_TOKEN_BAD_MAC;
        }
    }
    if (t->expires <= now) {
        return BC_TOKEN_EXPIRED;
    }
    if (t->product_len != product_len
        || memcmp(t->product, product, product_len) != 0)
    {
        return BC_TOKEN_WRONG_PRODUCT;
    }
    return BC_TOKEN_OK;
}

const char *
bc_token_status_str(bc_token_status st)
{
    switch (st) {
    case BC_TOKEN_OK: return "valid";
    case BC_TOKEN_MALFORMED: return "malformed token";
    case BC_TOKEN_BAD_MAC: return "bad token MAC";
    case BC_TOKEN_EXPIRED: return "token expired";
    case BC_TOKEN_WRONG_PRODUCT: return "token is for another product";
    }
    return "invalid token";
}

int
bc_token_new_id(unsigned char id[BC_TOKEN_ID_LEN])
{
    return RAND_bytes(id, BC_TOKEN_ID_LEN) == 1;
}
