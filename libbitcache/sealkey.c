#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "bytes.h"
#include "hex.h"
#include "sealkey.h"
#include "token_record.h"

static const char label_sealkey[] = "bitcache/v1/sealkey";

size_t
bc_sealkey_key(char *out, size_t outlen, const char *prefix,
    const unsigned char *product, size_t product_len)
{
    int n;

    if (product_len > BC_SEALED_FIELD_MAX || memchr(product, 0, product_len) != NULL) {
        return 0;
    }
    n = snprintf(out, outlen, "%s" BC_SEALKEY_KIND "%.*s", prefix, (int) product_len,
                 (const char *) product);
    return n > 0 && (size_t) n < outlen ? (size_t) n : 0;
}

/* "bitcache/v1/sealkey" 0x00 || lp(product) || key id */
static size_t
wrap_aad(unsigned char *out, size_t cap, const unsigned char *product, size_t product_len,
    const unsigned char id[BC_SEALED_ID_LEN])
{
    bc_writer w;

    bc_writer_init(&w, out, cap);
    bc_put_bytes(&w, label_sealkey, sizeof(label_sealkey));
    bc_put_lp(&w, product, product_len);
    bc_put_bytes(&w, id, BC_SEALED_ID_LEN);
    return w.overflow ? 0 : w.len;
}

/* AES-256-GCM of 32 bytes, one shot, in either direction. */
static int
gcm32(int enc, const unsigned char k[32], const unsigned char nonce[12],
    const unsigned char *aad, size_t aadlen, const unsigned char *in, unsigned char *out,
    unsigned char tag[16])
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int ok, outl, finl;

    ok = ctx != NULL
         && EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, k, nonce, enc) == 1
         && EVP_CipherUpdate(ctx, NULL, &outl, aad, (int) aadlen) == 1
         && EVP_CipherUpdate(ctx, out, &outl, in, 32) == 1
         && (enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, tag) == 1)
         && EVP_CipherFinal_ex(ctx, out + outl, &finl) == 1     /* checks the tag */
         && (!enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1);
    EVP_CIPHER_CTX_free(ctx);
    return ok;
}

int
bc_sealkey_wrap(unsigned char out[BC_SEALKEY_WRAPPED_LEN],
    const unsigned char seal_key[32], const unsigned char *product, size_t product_len,
    const unsigned char id[BC_SEALED_ID_LEN], const unsigned char key[BC_SEALED_KEY_LEN],
    const unsigned char *nonce)
{
    unsigned char aad[sizeof(label_sealkey) + 2 + BC_SEALED_FIELD_MAX + BC_SEALED_ID_LEN];
    size_t aadlen = wrap_aad(aad, sizeof(aad), product, product_len, id);

    if (aadlen == 0 || product_len > BC_SEALED_FIELD_MAX) {
        return 0;
    }
    if (nonce != NULL) {
        memcpy(out, nonce, BC_SEALKEY_NONCE_LEN);
    } else if (RAND_bytes(out, BC_SEALKEY_NONCE_LEN) != 1) {
        return 0;
    }
    return gcm32(1, seal_key, out, aad, aadlen, key, out + BC_SEALKEY_NONCE_LEN,
                 out + BC_SEALKEY_NONCE_LEN + BC_SEALED_KEY_LEN);
}

int
bc_sealkey_unwrap(unsigned char key[BC_SEALED_KEY_LEN],
    const unsigned char seal_key[32], const unsigned char *product, size_t product_len,
    const unsigned char id[BC_SEALED_ID_LEN], const unsigned char in[BC_SEALKEY_WRAPPED_LEN])
{
    unsigned char aad[sizeof(label_sealkey) + 2 + BC_SEALED_FIELD_MAX + BC_SEALED_ID_LEN];
    unsigned char tag[16], own[BC_SEALED_ID_LEN];
    size_t aadlen = wrap_aad(aad, sizeof(aad), product, product_len, id);

    if (aadlen == 0 || product_len > BC_SEALED_FIELD_MAX) {
        return 0;
    }
    memcpy(tag, in + BC_SEALKEY_NONCE_LEN + BC_SEALED_KEY_LEN, 16);
    if (!gcm32(0, seal_key, in, aad, aadlen, in + BC_SEALKEY_NONCE_LEN, key, tag)
        || !bc_sealed_key_id(own, key) || CRYPTO_memcmp(own, id, BC_SEALED_ID_LEN) != 0)
    {
        OPENSSL_cleanse(key, BC_SEALED_KEY_LEN);
        return 0;
    }
    return 1;
}

int
bc_sealkey_unwrap_keys(unsigned char key[BC_SEALED_KEY_LEN], const bc_keys *keys,
    const unsigned char *product, size_t product_len,
    const unsigned char id[BC_SEALED_ID_LEN], const unsigned char in[BC_SEALKEY_WRAPPED_LEN])
{
    for ( ; keys != NULL; keys = keys->old) {
        if (bc_sealkey_unwrap(key, keys->seal_key, product, product_len, id, in)) {
            return 1;
        }
    }
    return 0;
}

void
bc_sealkey_hset(bc_sealkey_write *w, const char *key, size_t keylen,
    const unsigned char id[BC_SEALED_ID_LEN],
    const unsigned char wrapped[BC_SEALKEY_WRAPPED_LEN], uint64_t created)
{
    int i;

    bc_hex_encode(w->id, id, BC_SEALED_ID_LEN);
    bc_hex_encode(w->wrapped, wrapped, BC_SEALKEY_WRAPPED_LEN);
    snprintf(w->created, sizeof(w->created), "%llu", (unsigned long long) created);
    w->argv[0] = "HSET";
    w->argv[1] = key;
    w->argv[2] = BC_SEALKEY_F_V;
    w->argv[3] = "1";
    w->argv[4] = BC_SEALKEY_F_ID;
    w->argv[5] = w->id;
    w->argv[6] = BC_SEALKEY_F_KEY;
    w->argv[7] = w->wrapped;
    w->argv[8] = BC_SEALKEY_F_CREATED;
    w->argv[9] = w->created;
    for (i = 0; i < 10; i++) {
        w->argvlen[i] = i == 1 ? keylen : strlen(w->argv[i]);
    }
}

static int
field_is(const char *f, size_t len, const char *name)
{
    return len == strlen(name) && memcmp(f, name, len) == 0;
}

/* decimal, no sign or leading zero, at most 20 digits, below 2^64 */
static int
parse_u64(uint64_t *out, const char *s, size_t len)
{
    uint64_t v = 0;
    size_t i;

    if (len == 0 || len > 20 || (len > 1 && s[0] == '0')) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - (uint64_t) (s[i] - '0')) / 10) {
            return 0;
        }
        v = v * 10 + (uint64_t) (s[i] - '0');
    }
    *out = v;
    return 1;
}

int
bc_sealkey_parse(bc_sealkey_record *r, const char *const *kv, const size_t *kvlen,
    size_t n, char *err, size_t errlen)
{
    int seen_v = 0, seen_id = 0, seen_key = 0, seen_created = 0;
    size_t i;

    for (i = 0; i + 1 < n; i += 2) {
        const char *f = kv[i], *v = kv[i + 1];
        size_t fl = kvlen[i], vl = kvlen[i + 1];

        if (field_is(f, fl, BC_SEALKEY_F_V)) {
            seen_v = vl == 1 && v[0] == '1' ? 1 : -1;
        } else if (field_is(f, fl, BC_SEALKEY_F_ID)) {
            seen_id = bc_hex_decode(r->id, BC_SEALED_ID_LEN, v, vl) ? 1 : -1;
        } else if (field_is(f, fl, BC_SEALKEY_F_KEY)) {
            seen_key = bc_hex_decode(r->wrapped, BC_SEALKEY_WRAPPED_LEN, v, vl) ? 1 : -1;
        } else if (field_is(f, fl, BC_SEALKEY_F_CREATED)) {
            seen_created = parse_u64(&r->created, v, vl) ? 1 : -1;
        }
    }
    if (seen_v != 1) {
        snprintf(err, errlen, seen_v ? "v is not 1" : "no v field");
    } else if (seen_id != 1) {
        snprintf(err, errlen, seen_id ? "id is not 32 hex digits" : "no id field");
    } else if (seen_key != 1) {
        snprintf(err, errlen, seen_key ? "key is not 120 hex digits" : "no key field");
    } else if (seen_created != 1) {
        snprintf(err, errlen, seen_created ? "created is not a number" : "no created field");
    } else {
        return 1;
    }
    return 0;
}

static int
is_str(const char *s, size_t len, const char *lit)
{
    return len == strlen(lit) && memcmp(s, lit, len) == 0;
}

/* fetches: decimal, 1 or more (the script counted this one) */
static int
parse_fetches(uint64_t *out, const char *s, size_t len)
{
    return parse_u64(out, s, len) && *out > 0;
}

int
bc_keyfetch_parse(bc_keyfetch *f, const char *const *s, const size_t *len,
    size_t n, char *err, size_t errlen)
{
    static const struct {
        const char          *word;
        bc_keyfetch_status   status;
    } refusals[] = {
        { "unknown", BC_KEYFETCH_UNKNOWN },
        { "revoked", BC_KEYFETCH_REVOKED },
        { "used_up", BC_KEYFETCH_USED_UP },
    };
    size_t i;

    memset(f, 0, sizeof(*f));

    if (n == 1 && is_str(s[0], len[0], "not_sealed")) {
        f->status = BC_KEYFETCH_NOT_SEALED;
        return 1;
    }

    for (i = 0; n == 2 && i < sizeof(refusals) / sizeof(refusals[0]); i++) {
        if (is_str(s[0], len[0], refusals[i].word)) {
            /* the id as Redis holds it: a bad one is the record's fault */
            f->status = bc_hex_decode(f->id, BC_SEALED_ID_LEN, s[1], len[1])
                        ? refusals[i].status : BC_KEYFETCH_INVALID;
            return 1;
        }
    }

    if (n == 5 && is_str(s[0], len[0], "key")) {
        if (!parse_fetches(&f->fetches, s[1], len[1])) {
            snprintf(err, errlen, "the fetch count is not a positive number");
            return 0;
        }
        f->status = is_str(s[2], len[2], "1")
                    && bc_hex_decode(f->id, BC_SEALED_ID_LEN, s[3], len[3])
                    && bc_hex_decode(f->wrapped, BC_SEALKEY_WRAPPED_LEN, s[4], len[4])
                    ? BC_KEYFETCH_KEY : BC_KEYFETCH_INVALID;
        return 1;
    }

    snprintf(err, errlen, "not a reply of the key fetch script (%zu elements)", n);
    return 0;
}

const char *
bc_keyfetch_status_str(bc_keyfetch_status st)
{
    switch (st) {
    case BC_KEYFETCH_KEY: return "allowed";
    case BC_KEYFETCH_NOT_SEALED: return "not sealed";
    case BC_KEYFETCH_UNKNOWN: return bc_record_status_str(BC_RECORD_UNKNOWN);
    case BC_KEYFETCH_REVOKED: return bc_record_status_str(BC_RECORD_REVOKED);
    case BC_KEYFETCH_USED_UP: return bc_record_status_str(BC_RECORD_USED_UP);
    case BC_KEYFETCH_INVALID: return "key record invalid";
    }
    return "?";
}
