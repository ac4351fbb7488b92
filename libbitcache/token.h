/* Download tokens, format v1 (docs/protocol.md):
 *   base64url( 0x01 | id[16] | expires u64be | uses u32be |
 *              product_len u16be | product | HMAC-SHA256(token_key, all before) )
 * The MAC makes a token unforgeable without the secret; the id keys
 * tok:<id hex> in Redis, where spent uses and revocation live. */
#ifndef BITCACHE_TOKEN_H
#define BITCACHE_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "base64url.h"
#include "secret.h"

#define BC_TOKEN_VERSION      1
#define BC_TOKEN_ID_LEN       16
#define BC_TOKEN_MAC_LEN      32
#define BC_TOKEN_PRODUCT_MAX  1024
#define BC_TOKEN_HEADER_LEN   (1 + BC_TOKEN_ID_LEN + 8 + 4 + 2)
#define BC_TOKEN_MAX_BYTES    (BC_TOKEN_HEADER_LEN + BC_TOKEN_PRODUCT_MAX + BC_TOKEN_MAC_LEN)
#define BC_TOKEN_MAX_CHARS    BC_B64URL_ENCODED_LEN(BC_TOKEN_MAX_BYTES)

typedef struct {
    unsigned char         id[BC_TOKEN_ID_LEN];
    uint64_t              expires;      /* unix seconds */
    uint32_t              uses;         /* allowed downloads, 0 = unlimited */
    const unsigned char  *product;      /* not NUL-terminated */
    size_t                product_len;
} bc_token;

typedef enum {
    BC_TOKEN_OK = 0,
    BC_TOKEN_MALFORMED,        /* not base64url, wrong version or layout, too long */
    BC_TOKEN_BAD_MAC,          /* forged, tampered, or made under another secret */
    BC_TOKEN_EXPIRED,
    BC_TOKEN_WRONG_PRODUCT     /* genuine, but for another file */
} bc_token_status;

/* Encodes t under keys into out (room for BC_TOKEN_MAX_CHARS + 1).
 * Returns the string length, or 0 if the product is empty or too long. */
size_t bc_token_encode(char *out, const bc_token *t, const bc_keys *keys);

/* Decodes the layout only, without checking the MAC (for `revoke`).
 * buf (BC_TOKEN_MAX_BYTES) receives the bytes t->product points into. */
int bc_token_parse(bc_token *t, unsigned char *buf, const char *s, size_t len);

/* Full check, cheapest first: layout, MAC (constant time), expiry, product. */
bc_token_status bc_token_verify(bc_token *t, unsigned char *buf, const char *s,
    size_t len, const bc_keys *keys, uint64_t now,
    const unsigned char *product, size_t product_len);

/* A short reason for logs and 402 bodies ("expired", "bad MAC", ...). */
const char *bc_token_status_str(bc_token_status st);

/* Fresh random token id from RAND_bytes. */
int bc_token_new_id(unsigned char id[BC_TOKEN_ID_LEN]);

#endif
