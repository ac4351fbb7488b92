/* A sealed file's content key as Redis keeps it, <prefix>sealkey:<product>:
 * its one definition (key, fields, the argv that writes it, the parser that
 * reads it), wrapped under seal_key (docs/sealed.md, "The key in Redis") so
 * that a Redis reader learns nothing and a writer cannot move one
 * product's key to another. */
#ifndef BITCACHE_SEALKEY_H
#define BITCACHE_SEALKEY_H

#include <stddef.h>
#include <stdint.h>

#include "sealed.h"
#include "secret.h"

#define BC_SEALKEY_KIND         "sealkey:"
#define BC_SEALKEY_F_V          "v"         /* "1" */
#define BC_SEALKEY_F_ID         "id"        /* key id, 32 hex digits */
#define BC_SEALKEY_F_KEY        "key"       /* the wrapped key, 120 hex digits */
#define BC_SEALKEY_F_CREATED    "created"   /* unix seconds */
#define BC_SEALKEY_VERSION      1
#define BC_SEALKEY_NONCE_LEN    12
/* nonce || AES-256-GCM(key) || tag */
#define BC_SEALKEY_WRAPPED_LEN  (BC_SEALKEY_NONCE_LEN + BC_SEALED_KEY_LEN + 16)

/* Longest Redis key: prefix (at most 128) + "sealkey:" + product (1024). */
#define BC_SEALKEY_KEY_MAX      (128 + 8 + BC_SEALED_FIELD_MAX + 1)

/* Writes <prefix>sealkey:<product> (NUL-terminated; the product must hold
 * no NUL) to out; returns its length, or 0 if it does not fit. */
size_t bc_sealkey_key(char *out, size_t outlen, const char *prefix,
    const unsigned char *product, size_t product_len);

/* Wraps key (whose id is id) for product under seal_key with nonce (12
 * bytes; NULL: fresh from RAND_bytes). Returns 1, or 0. */
int bc_sealkey_wrap(unsigned char out[BC_SEALKEY_WRAPPED_LEN],
    const unsigned char seal_key[32], const unsigned char *product, size_t product_len,
    const unsigned char id[BC_SEALED_ID_LEN], const unsigned char key[BC_SEALED_KEY_LEN],
    const unsigned char *nonce);

/* Unwraps into key: 1 only if the tag verifies for this product and id and
 * the key's own id is id. */
int bc_sealkey_unwrap(unsigned char key[BC_SEALED_KEY_LEN],
    const unsigned char seal_key[32], const unsigned char *product, size_t product_len,
    const unsigned char id[BC_SEALED_ID_LEN],
    const unsigned char in[BC_SEALKEY_WRAPPED_LEN]);

/* bc_sealkey_unwrap under keys' seal_key, or else (only if that fails)
 * under keys->old's: a key wrapped before a rotation of the secret. */
int bc_sealkey_unwrap_keys(unsigned char key[BC_SEALED_KEY_LEN],
    const bc_keys *keys, const unsigned char *product, size_t product_len,
    const unsigned char id[BC_SEALED_ID_LEN],
    const unsigned char in[BC_SEALKEY_WRAPPED_LEN]);

/* The argv of "HSET <key> v 1 id ID key WRAPPED created T" (10 strings);
 * strings point into w and key, which must outlive the argv. */
typedef struct {
    const char  *argv[10];
    size_t       argvlen[10];
    char         id[2 * BC_SEALED_ID_LEN + 1];
    char         wrapped[2 * BC_SEALKEY_WRAPPED_LEN + 1];
    char         created[21];
} bc_sealkey_write;

void bc_sealkey_hset(bc_sealkey_write *w, const char *key, size_t keylen,
    const unsigned char id[BC_SEALED_ID_LEN],
    const unsigned char wrapped[BC_SEALKEY_WRAPPED_LEN], uint64_t created);

/* Parses HGETALL's field/value strings (n of them): v 1, id, key and
 * created, each required and well-formed; other fields are ignored.
 * Returns 1, or 0 with the reason in err. */
typedef struct {
    unsigned char   id[BC_SEALED_ID_LEN];
    unsigned char   wrapped[BC_SEALKEY_WRAPPED_LEN];
    uint64_t        created;
} bc_sealkey_record;

int bc_sealkey_parse(bc_sealkey_record *r, const char *const *kv, const size_t *kvlen,
    size_t n, char *err, size_t errlen);

/* KEYS[1] = <prefix>tok:<id hex>, KEYS[2] = <prefix>sealkey:<product>;
 * ARGV[1] = the token's uses (its own, MAC'd; 0 = unlimited). One key
 * fetch (docs/sealed.md, "Selling a sealed file"): a product without a
 * key record counts nothing ({"not_sealed"}); an unknown token (no
 * "uses") or a revoked one is refused and nothing is created
 * ({"unknown", id}, {"revoked", id}); else "keys" goes up by one, and
 * back when that is more than uses ({"used_up", id}); else {"key",
 * fetches, v, id, key}, the record's fields as they are ("" if absent).
 * A "keys" that is not a number fails the script (HINCRBY): 503, never a
 * key. Every element is a string (bc_keyfetch_parse). */
#define BC_TOKREC_KEYS          "keys"      /* tok:<id>: key fetches made */

#define BC_SCRIPT_KEY_FETCH                                                   \
    "local id = redis.call('HGET', KEYS[2], 'id')\n"                          \
    "if not id then return {'not_sealed'} end\n"                              \
    "local r = redis.call('HMGET', KEYS[1], 'uses', 'revoked')\n"             \
    "if not r[1] then return {'unknown', id} end\n"                           \
    "if r[2] then return {'revoked', id} end\n"                               \
    "local n = redis.call('HINCRBY', KEYS[1], 'keys', 1)\n"                   \
    "local max = tonumber(ARGV[1])\n"                                         \
    "if max > 0 and n > max then\n"                                           \
    "  redis.call('HINCRBY', KEYS[1], 'keys', -1)\n"                          \
    "  return {'used_up', id}\n"                                              \
    "end\n"                                                                   \
    "local k = redis.call('HMGET', KEYS[2], 'v', 'id', 'key')\n"              \
    "return {'key', tostring(n), k[1] or '', k[2] or '', k[3] or ''}\n"

/* What BC_SCRIPT_KEY_FETCH answered. */
typedef enum {
    BC_KEYFETCH_KEY = 0,        /* fetches, id and wrapped set */
    BC_KEYFETCH_NOT_SEALED,     /* no key record: nothing counted */
    BC_KEYFETCH_UNKNOWN,        /* id set */
    BC_KEYFETCH_REVOKED,        /* id set */
    BC_KEYFETCH_USED_UP,        /* id set */
    BC_KEYFETCH_INVALID         /* the key record's v, id or key is not
                                   well-formed (a Redis writer) */
} bc_keyfetch_status;

typedef struct {
    bc_keyfetch_status  status;
    uint64_t            fetches;
    unsigned char       id[BC_SEALED_ID_LEN];
    unsigned char       wrapped[BC_SEALKEY_WRAPPED_LEN];
} bc_keyfetch;

/* Parses the script's reply, given as its n elements (strings; the
 * caller refuses a reply of another shape). Returns 1 with f->status
 * set, or 0 when the reply is none the script gives (reason in err). */
int bc_keyfetch_parse(bc_keyfetch *f, const char *const *s, const size_t *len,
    size_t n, char *err, size_t errlen);

/* The reason a refused fetch gives the buyer ("downloads used up"...). */
const char *bc_keyfetch_status_str(bc_keyfetch_status st);

#endif
