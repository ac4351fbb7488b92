/* Hashes on libcrypto's EVP interface. The digests are fetched once per
 * process: an implicit fetch on every call costs more than hashing the
 * 33-byte keys that BIP32 feeds in (nginx workers and the CLI are
 * single-threaded, so the lazy fetch needs no lock). */
#include <string.h>

#include <openssl/evp.h>

#include "hash.h"

static EVP_MD *
fetch(EVP_MD **cache, const char *name)
{
    if (*cache == NULL) {
        *cache = EVP_MD_fetch(NULL, name, NULL);
    }
    return *cache;
}

static EVP_MD *
sha256_md(void)
{
    static EVP_MD *md;
    return fetch(&md, "SHA256");
}

static EVP_MD *
sha512_md(void)
{
    static EVP_MD *md;
    return fetch(&md, "SHA512");
}

static EVP_MD *
ripemd160_md(void)
{
    static EVP_MD *md;
    return fetch(&md, "RIPEMD160");
}

/* One digest over up to three pieces, so that callers need no buffer. */
static int
digest3(unsigned char *out, EVP_MD *md,
        const unsigned char *a, size_t alen, const unsigned char *b, size_t blen,
        const unsigned char *c, size_t clen)
{
    EVP_MD_CTX *ctx;
    int ok;

    if (md == NULL || (ctx = EVP_MD_CTX_new()) == NULL) {
        return 0;
    }
    ok = EVP_DigestInit_ex(ctx, md, NULL)
         && (alen == 0 || EVP_DigestUpdate(ctx, a, alen))
         && (blen == 0 || EVP_DigestUpdate(ctx, b, blen))
         && (clen == 0 || EVP_DigestUpdate(ctx, c, clen))
         && EVP_DigestFinal_ex(ctx, out, NULL);
    EVP_MD_CTX_free(ctx);
    return ok;
}

int
bc_sha256(unsigned char out[32], const unsigned char *data, size_t len)
{
    return digest3(out, sha256_md(), data, len, NULL, 0, NULL, 0);
}

int
bc_hash256(unsigned char out[32], const unsigned char *data, size_t len)
{
    unsigned char once[32];

    return bc_sha256(once, data, len) && bc_sha256(out, once, 32);
}

int
bc_hash160(unsigned char out[20], const unsigned char *data, size_t len)
{
    unsigned char sha[32];

    return bc_sha256(sha, data, len)
           && digest3(out, ripemd160_md(), sha, 32, NULL, 0, NULL, 0);
}

int
bc_tagged_hash(unsigned char out[32], const char *tag,
               const unsigned char *msg, size_t len)
{
    unsigned char th[32];

    if (!bc_sha256(th, (const unsigned char *) tag, strlen(tag))) {
        return 0;
    }
    return digest3(out, sha256_md(), th, 32, th, 32, msg, len);
}

int
bc_hmac_sha512(unsigned char out[64], const unsigned char *key, size_t keylen,
               const unsigned char *data, size_t len)
{
    /* RFC 2104 over the digest, which is cheaper than EVP_MAC's
     * per-call setup for the short keys and messages of BIP32. */
    unsigned char k[128], ipad[128], opad[128], inner[64];
    size_t i;

    memset(k, 0, sizeof(k));
    if (keylen > sizeof(k)) {
        if (!digest3(k, sha512_md(), key, keylen, NULL, 0, NULL, 0)) {
            return 0;
        }
    } else if (keylen > 0) {
        memcpy(k, key, keylen);
    }
    for (i = 0; i < sizeof(k); i++) {
        ipad[i] = k[i] ^ 0x36;
        opad[i] = k[i] ^ 0x5c;
    }
    return digest3(inner, sha512_md(), ipad, sizeof(ipad), data, len, NULL, 0)
           && digest3(out, sha512_md(), opad, sizeof(opad), inner, 64, NULL, 0);
}
