/* Sealed files (docs/sealed.md): a header naming the product and the host
 * that sells its key, then the content in AES-256-GCM chunks, each bound
 * to the header, its index and whether it is the last, so that a copy can
 * be opened as a stream or seeked into, and any change, reordering,
 * truncation or appended byte is refused. */
#ifndef BITCACHE_SEALED_H
#define BITCACHE_SEALED_H

#include <stddef.h>
#include <stdint.h>

#define BC_SEALED_MAGIC         "BCSEALED"
#define BC_SEALED_MAGIC_LEN     8
#define BC_SEALED_VERSION       1
#define BC_SEALED_AES256GCM     1
#define BC_SEALED_CHUNK_DEFAULT 65536
#define BC_SEALED_CHUNK_MIN     1024
#define BC_SEALED_CHUNK_MAX     (16u << 20)
#define BC_SEALED_FIELD_MAX     1024        /* host, product, title */
#define BC_SEALED_KEY_LEN       32
#define BC_SEALED_ID_LEN        16
#define BC_SEALED_NONCE_LEN     8           /* the file's; chunks add u32 i */
#define BC_SEALED_TAG_LEN       16
/* magic, version, cipher, chunk size, key id, nonce, three lp fields */
#define BC_SEALED_FIXED_LEN     (8 + 1 + 1 + 4 + 16 + 8)
#define BC_SEALED_HEADER_MAX    (BC_SEALED_FIXED_LEN + 3 * (2 + BC_SEALED_FIELD_MAX))

typedef struct {
    uint32_t        chunk_size;
    unsigned char   key_id[BC_SEALED_ID_LEN];
    unsigned char   nonce[BC_SEALED_NONCE_LEN];
    size_t          host_len, product_len, title_len;   /* title 0: none */
    unsigned char   host[BC_SEALED_FIELD_MAX];
    unsigned char   product[BC_SEALED_FIELD_MAX];
    unsigned char   title[BC_SEALED_FIELD_MAX];
} bc_sealed_header;

/* Results of the parsers: the input is refused, fine, or too short yet. */
#define BC_SEALED_BAD   0
#define BC_SEALED_OK    1
#define BC_SEALED_MORE  (-1)

/* Writes the header's bytes to out (BC_SEALED_HEADER_MAX is enough).
 * Returns their length, or 0 if a field is out of bounds. */
size_t bc_sealed_header_encode(unsigned char *out, size_t cap,
    const bc_sealed_header *h);

/* Parses a header at the start of in[0..len): BC_SEALED_OK with its length
 * in *used, BC_SEALED_MORE if in ends before the header does (and nothing
 * seen so far is wrong), BC_SEALED_BAD with the reason in err. */
int bc_sealed_header_parse(bc_sealed_header *h, size_t *used,
    const unsigned char *in, size_t len, char *err, size_t errlen);

/* The key's id: SHA256("bitcache/v1/sealed-key-id" 0x00 || key)[0..16). */
int bc_sealed_key_id(unsigned char id[BC_SEALED_ID_LEN],
    const unsigned char key[BC_SEALED_KEY_LEN]);

/* One file's chunk cipher: the key schedule is set up once, each chunk
 * only sets its nonce, so that the hot loop allocates nothing. */
typedef struct {
    void           *ctx;                    /* EVP_CIPHER_CTX */
    unsigned char   aad[33];                /* SHA256(header) || last */
    unsigned char   iv[12];                 /* file nonce || u32 index */
    uint32_t        chunk_size;
} bc_sealed_cipher;

/* Sets c up for the file whose header bytes are hdr[0..hdrlen) (chunk size
 * and nonce from h). 0 on an OpenSSL failure. bc_sealed_cipher_free wipes. */
int bc_sealed_cipher_init(bc_sealed_cipher *c, const unsigned char key[BC_SEALED_KEY_LEN],
    const bc_sealed_header *h, const unsigned char *hdr, size_t hdrlen);
void bc_sealed_cipher_free(bc_sealed_cipher *c);

/* Chunk index of n <= chunk_size plaintext bytes: writes n + 16 bytes
 * (ciphertext, tag) to out, which may be in. */
int bc_sealed_chunk_seal(bc_sealed_cipher *c, uint32_t index, int last,
    const unsigned char *in, size_t n, unsigned char *out);

/* Opens a chunk of n bytes (16 .. chunk_size + 16) into n - 16 bytes at out
 * (which may be in). 0 if the tag does not verify: another key, header,
 * index, or last flag, or changed bytes. */
int bc_sealed_chunk_open(bc_sealed_cipher *c, uint32_t index, int last,
    const unsigned char *in, size_t n, unsigned char *out);

/* Where chunk index lies in a sealed file of file_size bytes whose header
 * is hdrlen bytes: its offset, length (tag included) and last flag.
 * Returns 0 if the file cannot be a sealed file of that header (no chunk,
 * a last chunk under 16 bytes, an empty last chunk after others, more than
 * 2^32 chunks) or index is past its last chunk. */
int bc_sealed_chunk_at(uint64_t file_size, size_t hdrlen, uint32_t chunk_size,
    uint64_t index, uint64_t *offset, size_t *len, int *last);

/* Where the sealer and the opener send their output; returns 1, or 0 to
 * stop (the stream then fails). */
typedef int (*bc_sealed_write)(void *arg, const unsigned char *p, size_t n);

typedef struct bc_sealer_s bc_sealer;
typedef struct bc_opener_s bc_opener;

/* A sealer for h (whose key_id is set from key here) writing through w:
 * the header first, then each chunk once the next byte (or the finish)
 * tells whether it is the last. NULL with the reason in err. */
bc_sealer *bc_sealer_new(const unsigned char key[BC_SEALED_KEY_LEN],
    bc_sealed_header *h, bc_sealed_write w, void *arg, char *err, size_t errlen);
int bc_sealer_update(bc_sealer *s, const unsigned char *in, size_t n,
    char *err, size_t errlen);
/* Writes the last chunk. Returns 1, or 0 with the reason. */
int bc_sealer_finish(bc_sealer *s, char *err, size_t errlen);
void bc_sealer_free(bc_sealer *s);

/* An opener with key, writing the plaintext of each verified chunk through
 * w. Only bc_opener_finish tells that the file was whole: a caller must
 * not use what was written before it returns 1. */
bc_opener *bc_opener_new(const unsigned char key[BC_SEALED_KEY_LEN],
    bc_sealed_write w, void *arg);
/* 1, or 0 with the reason (which chunk, and why) in err; after a failure
 * every call fails. */
int bc_opener_update(bc_opener *o, const unsigned char *in, size_t n,
    char *err, size_t errlen);
int bc_opener_finish(bc_opener *o, char *err, size_t errlen);
/* The parsed header once the opener has read it, else NULL. */
const bc_sealed_header *bc_opener_header(const bc_opener *o);
/* Plaintext bytes written so far. */
uint64_t bc_opener_written(const bc_opener *o);
void bc_opener_free(bc_opener *o);

#endif
