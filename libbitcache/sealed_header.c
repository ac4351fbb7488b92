/* The sealed file's header: written once, read from anyone's copy. */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "bytes.h"
#include "hash.h"
#include "sealed.h"

static const char label_key_id[] = "bitcache/v1/sealed-key-id";

/* Printable ASCII after http:// or https://: the header's host travels
 * into requests and onto pages, so it holds nothing that could split one. */
static int
host_ok(const unsigned char *p, size_t len)
{
    size_t i, skip;

    if (len >= 8 && memcmp(p, "https://", 8) == 0) {
        skip = 8;
    } else if (len >= 7 && memcmp(p, "http://", 7) == 0) {
        skip = 7;
    } else {
        return 0;
    }
    if (len == skip) {
        return 0;
    }
    for (i = skip; i < len; i++) {
        if (p[i] <= 0x20 || p[i] >= 0x7f) {
            return 0;
        }
    }
    return 1;
}

/* Product and title: any bytes but control characters. */
static int
text_ok(const unsigned char *p, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (p[i] < 0x20 || p[i] == 0x7f) {
            return 0;
        }
    }
    return 1;
}

static const char *
fields_check(const bc_sealed_header *h)
{
    if (h->chunk_size < BC_SEALED_CHUNK_MIN || h->chunk_size > BC_SEALED_CHUNK_MAX) {
        return "chunk size out of 1024..16777216";
    }
    if (h->host_len == 0 || h->host_len > BC_SEALED_FIELD_MAX
        || !host_ok(h->host, h->host_len))
    {
        return "host is not an http(s) URL of 1024 printable bytes at most";
    }
    if (h->product_len == 0 || h->product_len > BC_SEALED_FIELD_MAX
        || !text_ok(h->product, h->product_len))
    {
        return "product is not 1 to 1024 bytes without control characters";
    }
    if (h->title_len > BC_SEALED_FIELD_MAX || !text_ok(h->title, h->title_len)) {
        return "title is not 0 to 1024 bytes without control characters";
    }
    return NULL;
}

size_t
bc_sealed_header_encode(unsigned char *out, size_t cap, const bc_sealed_header *h)
{
    bc_writer w;

    if (fields_check(h) != NULL) {
        return 0;
    }
    bc_writer_init(&w, out, cap);
    bc_put_bytes(&w, BC_SEALED_MAGIC, BC_SEALED_MAGIC_LEN);
    bc_put_uint(&w, BC_SEALED_VERSION, 1);
    bc_put_uint(&w, BC_SEALED_AES256GCM, 1);
    bc_put_uint(&w, h->chunk_size, 4);
    bc_put_bytes(&w, h->key_id, BC_SEALED_ID_LEN);
    bc_put_bytes(&w, h->nonce, BC_SEALED_NONCE_LEN);
    bc_put_lp(&w, h->host, h->host_len);
    bc_put_lp(&w, h->product, h->product_len);
    bc_put_lp(&w, h->title, h->title_len);
    return w.overflow ? 0 : w.len;
}

/* Reads lp(field) into dst; BC_SEALED_MORE if the input ends first. */
static int
get_field(bc_reader *r, unsigned char *dst, size_t *dlen, const char *name,
    char *err, size_t errlen)
{
    const unsigned char *b;
    size_t len;

    len = (size_t) bc_get_uint(r, 2);
    if (r->bad) {
        return BC_SEALED_MORE;
    }
    if (len > BC_SEALED_FIELD_MAX) {
        snprintf(err, errlen, "%s is %zu bytes, more than 1024", name, len);
        return BC_SEALED_BAD;
    }
    b = bc_get_bytes(r, len);
    if (b == NULL) {
        return BC_SEALED_MORE;
    }
    memcpy(dst, b, len);
    *dlen = len;
    return BC_SEALED_OK;
}

static int
parse_fixed(bc_sealed_header *h, bc_reader *r, char *err, size_t errlen)
{
    const unsigned char *b = bc_get_bytes(r, BC_SEALED_FIXED_LEN);
    unsigned version, cipher;

    if (b == NULL) {
        /* a short input is refused as soon as what it has is wrong */
        size_t n = r->len < BC_SEALED_MAGIC_LEN ? r->len : BC_SEALED_MAGIC_LEN;
        if (memcmp(r->p, BC_SEALED_MAGIC, n) != 0) {
            snprintf(err, errlen, "not a sealed file (no BCSEALED magic)");
            return BC_SEALED_BAD;
        }
        return BC_SEALED_MORE;
    }
    if (memcmp(b, BC_SEALED_MAGIC, BC_SEALED_MAGIC_LEN) != 0) {
        snprintf(err, errlen, "not a sealed file (no BCSEALED magic)");
        return BC_SEALED_BAD;
    }
    version = b[8];
    cipher = b[9];
    if (version != BC_SEALED_VERSION) {
        snprintf(err, errlen, "sealed file version %u (this reads version 1)", version);
        return BC_SEALED_BAD;
    }
    if (cipher != BC_SEALED_AES256GCM) {
        snprintf(err, errlen, "cipher %u unknown (1 is AES-256-GCM)", cipher);
        return BC_SEALED_BAD;
    }
    h->chunk_size = (uint32_t) b[10] << 24 | (uint32_t) b[11] << 16
                    | (uint32_t) b[12] << 8 | b[13];
    if (h->chunk_size < BC_SEALED_CHUNK_MIN || h->chunk_size > BC_SEALED_CHUNK_MAX) {
        snprintf(err, errlen, "chunk size %u out of 1024..16777216",
                 (unsigned) h->chunk_size);
        return BC_SEALED_BAD;
    }
    memcpy(h->key_id, b + 14, BC_SEALED_ID_LEN);
    memcpy(h->nonce, b + 30, BC_SEALED_NONCE_LEN);
    return BC_SEALED_OK;
}

int
bc_sealed_header_parse(bc_sealed_header *h, size_t *used,
    const unsigned char *in, size_t len, char *err, size_t errlen)
{
    const char *why;
    bc_reader r;
    int rc;

    bc_reader_init(&r, in, len);
    if ((rc = parse_fixed(h, &r, err, errlen)) != BC_SEALED_OK
        || (rc = get_field(&r, h->host, &h->host_len, "host", err, errlen)) != BC_SEALED_OK
        || (rc = get_field(&r, h->product, &h->product_len, "product", err, errlen))
           != BC_SEALED_OK
        || (rc = get_field(&r, h->title, &h->title_len, "title", err, errlen))
           != BC_SEALED_OK)
    {
        return rc;
    }
    if ((why = fields_check(h)) != NULL) {
        snprintf(err, errlen, "%s", why);
        return BC_SEALED_BAD;
    }
    *used = r.pos;
    return BC_SEALED_OK;
}

int
bc_sealed_key_id(unsigned char id[BC_SEALED_ID_LEN], const unsigned char key[BC_SEALED_KEY_LEN])
{
    unsigned char msg[sizeof(label_key_id) + BC_SEALED_KEY_LEN], md[32];
    int ok;

    /* the label's NUL is part of the message */
    memcpy(msg, label_key_id, sizeof(label_key_id));
    memcpy(msg + sizeof(label_key_id), key, BC_SEALED_KEY_LEN);
    ok = bc_sha256(md, msg, sizeof(msg));
    memcpy(id, md, BC_SEALED_ID_LEN);
    OPENSSL_cleanse(msg, sizeof(msg));
    return ok;
}
