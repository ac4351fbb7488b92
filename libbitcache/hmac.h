/* HMAC-SHA256 with the key's pads hashed once: a token check on the hot
 * path costs two SHA256 finishes instead of a whole HMAC setup. */
#ifndef BITCACHE_HMAC_H
#define BITCACHE_HMAC_H

#include <stddef.h>

typedef struct bc_hmac_key_s bc_hmac_key;

/* NULL on allocation failure. The key is not kept, only its pad states. */
bc_hmac_key *bc_hmac_key_new(const unsigned char *key, size_t len);
void bc_hmac_key_free(bc_hmac_key *k);

/* out = HMAC-SHA256(key, msg). Uses a scratch context inside k, so one
 * key must not be used by two threads at once (nginx workers and the CLI
 * are single-threaded). Returns 1, or 0 on an OpenSSL failure. */
int bc_hmac_sha256(unsigned char out[32], bc_hmac_key *k,
    const unsigned char *msg, size_t len);

#endif
