/* BIP340 Schnorr signatures and x-only public keys: the watcher signs the
 * payments it attests, nginx verifies them with the watcher's x-only key. */
#ifndef BITCACHE_SCHNORR_H
#define BITCACHE_SCHNORR_H

#include <stddef.h>

/* Signs the 32-byte msg32. aux32 is BIP340's auxiliary randomness; NULL
 * takes 32 fresh bytes from OpenSSL's RAND_bytes. Returns 1, or 0 for an
 * invalid secret key (0 or >= n) or a failure of the randomness. */
int bc_schnorr_sign(unsigned char sig64[64], const unsigned char msg32[32],
                    const unsigned char seckey32[32], const unsigned char *aux32);

/* A secret key made ready for many signatures (the watcher signs one
 * attestation per invoice change): keypair_create costs as much as the
 * signature itself. Opaque; wipe it with bc_schnorr_signer_clear. */
typedef struct {
    unsigned char keypair[96];        /* a secp256k1_keypair */
} bc_schnorr_signer;

/* Returns 1, or 0 for an invalid secret key. */
int bc_schnorr_signer_init(bc_schnorr_signer *s, const unsigned char seckey32[32]);

/* bc_schnorr_sign with fresh auxiliary randomness, for a prepared key. */
int bc_schnorr_signer_sign(const bc_schnorr_signer *s, unsigned char sig64[64],
                           const unsigned char msg32[32]);

void bc_schnorr_signer_clear(bc_schnorr_signer *s);

/* The same for a message of any length (BIP340 allows it). */
int bc_schnorr_sign_msg(unsigned char sig64[64], const unsigned char *msg, size_t msglen,
                        const unsigned char seckey32[32], const unsigned char *aux32);

/* 1 if sig64 is a valid signature of msg[0..msglen) by the x-only key. */
int bc_schnorr_verify(const unsigned char sig64[64], const unsigned char *msg, size_t msglen,
                      const unsigned char xonly32[32]);

/* The x-only public key of a secret key. Returns 1, or 0 if it is invalid. */
int bc_xonly_from_seckey(unsigned char xonly32[32], const unsigned char seckey32[32]);

/* Parses 64 hex digits into an x-only key that is on the curve. Returns 1,
 * or 0 with *err (length, hex digit, not a curve point). */
int bc_xonly_from_hex(unsigned char xonly32[32], const char *hex, const char **err);

#endif
