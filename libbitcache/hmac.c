#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "hmac.h"

#define SHA256_BLOCK 64

struct bc_hmac_key_s {
    EVP_MD_CTX *inner;      /* SHA256 state after (key ^ ipad) */
    EVP_MD_CTX *outer;      /* SHA256 state after (key ^ opad) */
    EVP_MD_CTX *work;
};

static int
pad_state(EVP_MD_CTX *ctx, const unsigned char *key, size_t len,
    unsigned char pad)
{
    unsigned char block[SHA256_BLOCK];
    size_t i;
    int ok;

    memset(block, pad, sizeof(block));
    for (i = 0; i < len; i++) {
        block[i] ^= key[i];
    }
    ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)
         && EVP_DigestUpdate(ctx, block, sizeof(block));
    OPENSSL_cleanse(block, sizeof(block));
    return ok;
}

bc_hmac_key *
bc_hmac_key_new(const unsigned char *key, size_t len)
{
    unsigned char hashed[32];
    unsigned int hlen;
    bc_hmac_key *k;

    k = calloc(1, sizeof(*k));
    if (k == NULL) {
        return NULL;
    }
    k->inner = EVP_MD_CTX_new();
    k->outer = EVP_MD_CTX_new();
    k->work = EVP_MD_CTX_new();
    if (k->inner == NULL || k->outer == NULL || k->work == NULL) {
        goto failed;
    }
    /* RFC 2104: keys longer than a block are hashed first */
    if (len > SHA256_BLOCK) {
        if (!EVP_Digest(key, len, hashed, &hlen, EVP_sha256(), NULL)) {
            goto failed;
        }
        key = hashed;
        len = hlen;
    }
    if (!pad_state(k->inner, key, len, 0x36) || !pad_state(k->outer, key, len, 0x5c)) {
        goto failed;
    }
    OPENSSL_cleanse(hashed, sizeof(hashed));
    return k;

failed:
    OPENSSL_cleanse(hashed, sizeof(hashed));
    bc_hmac_key_free(k);
    return NULL;
}

void
bc_hmac_key_free(bc_hmac_key *k)
{
    if (k == NULL) {
        return;
    }
    EVP_MD_CTX_free(k->inner);
    EVP_MD_CTX_free(k->outer);
    EVP_MD_CTX_free(k->work);
    free(k);
}

int
bc_hmac_sha256(unsigned char out[32], bc_hmac_key *k, const unsigned char *msg,
    size_t len)
{
    unsigned char ih[32];
    int ok;

    ok = EVP_MD_CTX_copy_ex(k->work, k->inner)
         && EVP_DigestUpdate(k->work, msg, len)
         && EVP_DigestFinal_ex(k->work, ih, NULL)
         && EVP_MD_CTX_copy_ex(k->work, k->outer)
         && EVP_DigestUpdate(k->work, ih, sizeof(ih))
         && EVP_DigestFinal_ex(k->work, out, NULL);
    OPENSSL_cleanse(ih, sizeof(ih));
    return ok;
}
