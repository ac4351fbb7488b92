/* Sealing as a stream. A whole chunk is held back until the next byte
 * (or the finish) says whether it is the last; a chunk arriving whole with
 * more input behind it goes straight from the caller's buffer, so large
 * writes are not copied. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "sealed.h"

struct bc_sealer_s {
    bc_sealed_cipher    c;
    bc_sealed_write     w;
    void               *arg;
    unsigned char      *pt;         /* chunk_size: the chunk held back */
    unsigned char      *ct;         /* chunk_size + 16: what is written */
    size_t              fill;
    uint64_t            index;      /* the next chunk's */
    int                 failed;
};

static int
fail(int *failed, char *err, size_t errlen, const char *msg)
{
    *failed = 1;
    snprintf(err, errlen, "%s", msg);
    return 0;
}

bc_sealer *
bc_sealer_new(const unsigned char key[BC_SEALED_KEY_LEN], bc_sealed_header *h,
    bc_sealed_write w, void *arg, char *err, size_t errlen)
{
    unsigned char hdr[BC_SEALED_HEADER_MAX];
    bc_sealer *s;
    size_t hlen;

    if (!bc_sealed_key_id(h->key_id, key)) {
        snprintf(err, errlen, "cannot hash the key");
        return NULL;
    }
    hlen = bc_sealed_header_encode(hdr, sizeof(hdr), h);
    if (hlen == 0) {
        snprintf(err, errlen, "a header field is out of bounds");
        return NULL;
    }
    s = calloc(1, sizeof(*s));
    if (s == NULL || (s->pt = malloc(h->chunk_size)) == NULL
        || (s->ct = malloc((size_t) h->chunk_size + BC_SEALED_TAG_LEN)) == NULL)
    {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (!bc_sealed_cipher_init(&s->c, key, h, hdr, hlen)) {
        snprintf(err, errlen, "OpenSSL's AES-256-GCM failed");
        goto fail;
    }
    s->w = w;
    s->arg = arg;
    if (!w(arg, hdr, hlen)) {
        snprintf(err, errlen, "cannot write the header");
        goto fail;
    }
    return s;

fail:
    bc_sealer_free(s);
    return NULL;
}

static int
seal_one(bc_sealer *s, const unsigned char *in, size_t n, int last, char *err, size_t errlen)
{
    if (s->index > UINT32_MAX) {
        return fail(&s->failed, err, errlen, "more than 2^32 chunks: use a larger chunk size");
    }
    if (!bc_sealed_chunk_seal(&s->c, (uint32_t) s->index, last, in, n, s->ct)) {
        return fail(&s->failed, err, errlen, "OpenSSL's AES-256-GCM failed");
    }
    if (!s->w(s->arg, s->ct, n + BC_SEALED_TAG_LEN)) {
        return fail(&s->failed, err, errlen, "cannot write the output");
    }
    s->index++;
    return 1;
}

int
bc_sealer_update(bc_sealer *s, const unsigned char *in, size_t n, char *err, size_t errlen)
{
    size_t size = s->c.chunk_size, take;

    if (s->failed) {
        return fail(&s->failed, err, errlen, "the sealer failed before");
    }
    while (n > 0) {
        if (s->fill == size) {
            if (!seal_one(s, s->pt, size, 0, err, errlen)) {
                return 0;
            }
            s->fill = 0;
        }
        if (s->fill == 0 && n > size) {
            if (!seal_one(s, in, size, 0, err, errlen)) {
                return 0;
            }
            in += size;
            n -= size;
            continue;
        }
        take = size - s->fill < n ? size - s->fill : n;
        memcpy(s->pt + s->fill, in, take);
        s->fill += take;
        in += take;
        n -= take;
    }
    return 1;
}

int
bc_sealer_finish(bc_sealer *s, char *err, size_t errlen)
{
    if (s->failed) {
        return fail(&s->failed, err, errlen, "the sealer failed before");
    }
    if (!seal_one(s, s->pt, s->fill, 1, err, errlen)) {
        return 0;
    }
    s->failed = 1;                  /* nothing more after the last chunk */
    return 1;
}

void
bc_sealer_free(bc_sealer *s)
{
    if (s == NULL) {
        return;
    }
    if (s->c.ctx != NULL) {
        bc_sealed_cipher_free(&s->c);
    }
    if (s->pt != NULL) {
        OPENSSL_cleanse(s->pt, s->c.chunk_size);
    }
    free(s->pt);
    free(s->ct);
    free(s);
}
