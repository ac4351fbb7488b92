/* Opening a sealed file as a stream: the header, then each chunk held back
 * until the next byte (or the finish) says whether it must be the last.
 * Nothing is written that did not verify; whether the file was whole only
 * the finish can tell. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "hex.h"
#include "sealed.h"

struct bc_opener_s {
    unsigned char       key[BC_SEALED_KEY_LEN];
    bc_sealed_write     w;
    void               *arg;
    bc_sealed_cipher    c;
    bc_sealed_header    h;
    int                 have_header, failed;
    unsigned char       hdr[BC_SEALED_HEADER_MAX];
    size_t              hfill, full;    /* full: chunk_size + 16 */
    unsigned char      *ct;             /* full: the chunk held back */
    unsigned char      *pt;             /* chunk_size: a chunk's plaintext */
    size_t              fill;
    uint64_t            index, written;
};

bc_opener *
bc_opener_new(const unsigned char key[BC_SEALED_KEY_LEN], bc_sealed_write w, void *arg)
{
    bc_opener *o = calloc(1, sizeof(*o));

    if (o == NULL) {
        return NULL;
    }
    memcpy(o->key, key, BC_SEALED_KEY_LEN);
    o->w = w;
    o->arg = arg;
    return o;
}

static int
refuse(bc_opener *o, char *err, size_t errlen, const char *fmt, unsigned long long i)
{
    o->failed = 1;
    snprintf(err, errlen, fmt, i);
    return 0;
}

static int
refuse_s(bc_opener *o, char *err, size_t errlen, const char *msg)
{
    o->failed = 1;
    snprintf(err, errlen, "%s", msg);
    return 0;
}

static int
open_one(bc_opener *o, const unsigned char *in, size_t n, int last, char *err, size_t errlen)
{
    if (o->index > UINT32_MAX) {
        return refuse(o, err, errlen, "more than 2^32 chunks (%llu)", o->index);
    }
    if (!bc_sealed_chunk_open(&o->c, (uint32_t) o->index, last, in, n, o->pt)) {
        return refuse(o, err, errlen, last
                      ? "chunk %llu, the last, does not verify: the file is cut, "
                        "changed or followed by other bytes"
                      : "chunk %llu does not verify: the file is changed, "
                        "reordered or cut", o->index);
    }
    if (n > BC_SEALED_TAG_LEN && !o->w(o->arg, o->pt, n - BC_SEALED_TAG_LEN)) {
        return refuse(o, err, errlen, "cannot write chunk %llu", o->index);
    }
    o->written += n - BC_SEALED_TAG_LEN;
    o->index++;
    return 1;
}

static int
chunks(bc_opener *o, const unsigned char *in, size_t n, char *err, size_t errlen)
{
    size_t take;

    while (n > 0) {
        if (o->fill == o->full) {
            if (!open_one(o, o->ct, o->full, 0, err, errlen)) {
                return 0;
            }
            o->fill = 0;
        }
        if (o->fill == 0 && n > o->full) {
            if (!open_one(o, in, o->full, 0, err, errlen)) {
                return 0;
            }
            in += o->full;
            n -= o->full;
            continue;
        }
        take = o->full - o->fill < n ? o->full - o->fill : n;
        memcpy(o->ct + o->fill, in, take);
        o->fill += take;
        in += take;
        n -= take;
    }
    return 1;
}

/* The header is complete: check the key against it, set up the cipher. */
static int
start(bc_opener *o, size_t hlen, char *err, size_t errlen)
{
    unsigned char id[BC_SEALED_ID_LEN];
    char hex[2 * BC_SEALED_ID_LEN + 1];

    if (!bc_sealed_key_id(id, o->key)) {
        return refuse_s(o, err, errlen, "cannot hash the key");
    }
    if (CRYPTO_memcmp(id, o->h.key_id, BC_SEALED_ID_LEN) != 0) {
        o->failed = 1;
        bc_hex_encode(hex, o->h.key_id, BC_SEALED_ID_LEN);
        snprintf(err, errlen, "the key is not this file's (the file's key id is %s)", hex);
        return 0;
    }
    o->full = (size_t) o->h.chunk_size + BC_SEALED_TAG_LEN;
    o->ct = malloc(o->full);
    o->pt = malloc(o->h.chunk_size);
    if (o->ct == NULL || o->pt == NULL) {
        return refuse_s(o, err, errlen, "out of memory");
    }
    if (!bc_sealed_cipher_init(&o->c, o->key, &o->h, o->hdr, hlen)) {
        return refuse_s(o, err, errlen, "OpenSSL's AES-256-GCM failed");
    }
    o->have_header = 1;
    return 1;
}

int
bc_opener_update(bc_opener *o, const unsigned char *in, size_t n, char *err, size_t errlen)
{
    size_t take, hlen;
    char why[160];
    int rc;

    if (o->failed) {
        return refuse_s(o, err, errlen, "the file was refused before");
    }
    if (o->have_header) {
        return chunks(o, in, n, err, errlen);
    }
    take = sizeof(o->hdr) - o->hfill < n ? sizeof(o->hdr) - o->hfill : n;
    memcpy(o->hdr + o->hfill, in, take);
    o->hfill += take;
    rc = bc_sealed_header_parse(&o->h, &hlen, o->hdr, o->hfill, why, sizeof(why));
    if (rc == BC_SEALED_MORE) {
        return 1;
    }
    if (rc != BC_SEALED_OK) {
        o->failed = 1;
        snprintf(err, errlen, "header: %s", why);
        return 0;
    }
    if (!start(o, hlen, err, errlen)) {
        return 0;
    }
    /* what was read past the header is the first chunks' */
    return chunks(o, o->hdr + hlen, o->hfill - hlen, err, errlen)
           && chunks(o, in + take, n - take, err, errlen);
}

int
bc_opener_finish(bc_opener *o, char *err, size_t errlen)
{
    if (o->failed) {
        return refuse_s(o, err, errlen, "the file was refused before");
    }
    if (!o->have_header) {
        return refuse_s(o, err, errlen, "the file ends inside its header");
    }
    if (o->fill < BC_SEALED_TAG_LEN) {
        return refuse(o, err, errlen, o->fill == 0
                      ? "the file ends before chunk %llu: cut before its last chunk"
                      : "the file ends inside chunk %llu: cut", o->index);
    }
    if (o->fill == BC_SEALED_TAG_LEN && o->index > 0) {
        return refuse(o, err, errlen, "chunk %llu, the last, is empty after others "
                      "(no sealer writes that)", o->index);
    }
    if (!open_one(o, o->ct, o->fill, 1, err, errlen)) {
        return 0;
    }
    o->failed = 1;                  /* nothing may follow the last chunk */
    return 1;
}

const bc_sealed_header *
bc_opener_header(const bc_opener *o)
{
    return o->have_header ? &o->h : NULL;
}

uint64_t
bc_opener_written(const bc_opener *o)
{
    return o->written;
}

void
bc_opener_free(bc_opener *o)
{
    if (o == NULL) {
        return;
    }
    if (o->c.ctx != NULL) {
        bc_sealed_cipher_free(&o->c);
    }
    if (o->pt != NULL) {
        OPENSSL_cleanse(o->pt, o->h.chunk_size);
    }
    free(o->pt);
    free(o->ct);
    OPENSSL_cleanse(o, sizeof(*o));
    free(o);
}
