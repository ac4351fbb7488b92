/* The hash functions that Bitcoin addresses and keys are built from,
 * on OpenSSL 3's libcrypto. */
#ifndef BITCACHE_HASH_H
#define BITCACHE_HASH_H

#include <stddef.h>

/* Each returns 1 on success, 0 when libcrypto fails (out of memory, or
 * an algorithm missing from the loaded providers). */
int bc_sha256(unsigned char out[32], const unsigned char *data, size_t len);

/* SHA256(SHA256(data)): the base58check checksum. */
int bc_hash256(unsigned char out[32], const unsigned char *data, size_t len);

/* RIPEMD160(SHA256(data)): key and script hashes in addresses. */
int bc_hash160(unsigned char out[20], const unsigned char *data, size_t len);

/* BIP340 tagged hash: SHA256(SHA256(tag) || SHA256(tag) || msg). */
int bc_tagged_hash(unsigned char out[32], const char *tag,
                   const unsigned char *msg, size_t len);

/* HMAC-SHA512 (BIP32 child derivation). */
int bc_hmac_sha512(unsigned char out[64], const unsigned char *key, size_t keylen,
                   const unsigned char *data, size_t len);

#endif
