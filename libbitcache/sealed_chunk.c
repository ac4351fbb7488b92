/* One chunk of a sealed file: AES-256-GCM with nonce = file nonce || u32
 * index and AAD = SHA256(header) || last, so that a chunk opens only in
 * its own file, at its own place, with its own "last" mark. */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "hash.h"
#include "sealed.h"

int
bc_sealed_cipher_init(bc_sealed_cipher *c, const unsigned char key[BC_SEALED_KEY_LEN],
    const bc_sealed_header *h, const unsigned char *hdr, size_t hdrlen)
{
    EVP_CIPHER_CTX *ctx;

    memset(c, 0, sizeof(*c));
    if (!bc_sha256(c->aad, hdr, hdrlen)) {
        return 0;
    }
    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL) {
        return 0;
    }
    /* the key schedule once; each chunk then sets only its nonce */
    if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, NULL, 1) != 1) {
        EVP_CIPHER_CTX_free(ctx);
        return 0;
    }
    c->ctx = ctx;
    memcpy(c->iv, h->nonce, BC_SEALED_NONCE_LEN);
    c->chunk_size = h->chunk_size;
    return 1;
}

void
bc_sealed_cipher_free(bc_sealed_cipher *c)
{
    EVP_CIPHER_CTX_free(c->ctx);     /* wipes the key schedule */
    OPENSSL_cleanse(c, sizeof(*c));
}

static int
chunk_start(bc_sealed_cipher *c, uint32_t index, int last, int enc)
{
    int outl;

    c->iv[8] = (unsigned char) (index >> 24);
    c->iv[9] = (unsigned char) (index >> 16);
    c->iv[10] = (unsigned char) (index >> 8);
    c->iv[11] = (unsigned char) index;
    c->aad[32] = last ? 1 : 0;
    return EVP_CipherInit_ex(c->ctx, NULL, NULL, NULL, c->iv, enc) == 1
           && EVP_CipherUpdate(c->ctx, NULL, &outl, c->aad, sizeof(c->aad)) == 1;
}

int
bc_sealed_chunk_seal(bc_sealed_cipher *c, uint32_t index, int last,
    const unsigned char *in, size_t n, unsigned char *out)
{
    int outl, finl;

    if (n > c->chunk_size || !chunk_start(c, index, last, 1)) {
        return 0;
    }
    outl = 0;
    if (n > 0 && EVP_CipherUpdate(c->ctx, out, &outl, in, (int) n) != 1) {
        return 0;
    }
    if (EVP_CipherFinal_ex(c->ctx, out + outl, &finl) != 1) {
        return 0;
    }
    return EVP_CIPHER_CTX_ctrl(c->ctx, EVP_CTRL_GCM_GET_TAG, BC_SEALED_TAG_LEN, out + n) == 1;
}

int
bc_sealed_chunk_open(bc_sealed_cipher *c, uint32_t index, int last,
    const unsigned char *in, size_t n, unsigned char *out)
{
    unsigned char tag[BC_SEALED_TAG_LEN];
    size_t len;
    int outl, finl;

    if (n < BC_SEALED_TAG_LEN || n - BC_SEALED_TAG_LEN > c->chunk_size
        || !chunk_start(c, index, last, 0))
    {
        return 0;
    }
    len = n - BC_SEALED_TAG_LEN;
    /* copied first: out may be in, and decryption overwrites the text
     * before the tag */
    memcpy(tag, in + len, BC_SEALED_TAG_LEN);
    outl = 0;
    if (len > 0 && EVP_CipherUpdate(c->ctx, out, &outl, in, (int) len) != 1) {
        return 0;
    }
    if (EVP_CIPHER_CTX_ctrl(c->ctx, EVP_CTRL_GCM_SET_TAG, BC_SEALED_TAG_LEN, tag) != 1) {
        return 0;
    }
    /* OpenSSL compares the tag in constant time */
    if (EVP_CipherFinal_ex(c->ctx, out + outl, &finl) != 1) {
        OPENSSL_cleanse(out, len);
        return 0;
    }
    return 1;
}

int
bc_sealed_chunk_at(uint64_t file_size, size_t hdrlen, uint32_t chunk_size,
    uint64_t index, uint64_t *offset, size_t *len, int *last)
{
    uint64_t body, full = (uint64_t) chunk_size + BC_SEALED_TAG_LEN, count, tail;

    if (file_size <= hdrlen || chunk_size == 0) {
        return 0;
    }
    body = file_size - hdrlen;
    count = (body + full - 1) / full;
    tail = body - (count - 1) * full;
    if (tail < BC_SEALED_TAG_LEN || (tail == BC_SEALED_TAG_LEN && count > 1)
        || count > (uint64_t) UINT32_MAX + 1 || index >= count)
    {
        return 0;
    }
    *offset = hdrlen + index * full;
    *last = index == count - 1;
    *len = (size_t) (*last ? tail : full);
    return 1;
}
