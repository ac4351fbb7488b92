/* BIP32 extended public keys: parsing (with the SLIP-132 versions that
 * name an address type), serialization and non-hardened derivation. */
#ifndef BITCACHE_EXTKEY_H
#define BITCACHE_EXTKEY_H

#include <stddef.h>
#include <stdint.h>

#include <secp256k1.h>

#include "script.h"

#define BC_EXTKEY_LEN 78        /* serialized bytes, before base58check */
#define BC_EXTKEY_STR_MAX 112   /* 111 base58 characters and a NUL */
#define BC_HARDENED 0x80000000u

/* The words every refusal of a private key carries. */
#define BC_NEVER_PRIVATE "the server must never hold a private key"

typedef struct {
    const char *pub;            /* "xpub" */
    uint32_t pub_version;
    uint32_t prv_version;
    bc_addr_type type;          /* the address type the prefix stands for */
    int testnet;                /* 1: tpub family (testnet, signet, regtest) */
} bc_extkey_version;

typedef struct {
    const bc_extkey_version *version;
    unsigned char depth;
    unsigned char parent_fingerprint[4];
    uint32_t child_number;
    unsigned char chain_code[32];
    secp256k1_pubkey pubkey;    /* parsed once: derivation starts from here */
} bc_extpub;

/* Parses a base58check extended public key of one of the versions
 * xpub/ypub/zpub/tpub/upub/vpub. Returns 1, or 0 with *err: checksum,
 * length, unknown version bytes, depth/fingerprint/index inconsistency,
 * a key that is not on the curve, and every private key (xprv and the
 * other private versions, WIF keys, or private key data under a public
 * version), which is refused with BC_NEVER_PRIVATE in the message. */
int bc_extpub_parse(bc_extpub *key, const char *str, const char **err);

/* 1 (with *err carrying BC_NEVER_PRIVATE) if str is a private key of any
 * kind: an extended private key version, SLIP-132 private versions, WIF.
 * Used to refuse private keys before anything else is said about them. */
int bc_key_is_private(const char *str, const char **err);

/* Base58check serialization with key->version (or as_version when not
 * NULL, e.g. to write a zpub as the xpub that descriptors take). */
int bc_extpub_serialize(char *out, size_t outlen, const bc_extpub *key,
                        const bc_extkey_version *as_version);

/* CKDpub: the child at a non-hardened index. Returns 1, or 0 with *err for a
 * hardened index (which needs the private key), depth 255, or the 1 in 2^127
 * index whose tweak is out of range (the caller skips to the next index). */
int bc_extpub_derive(bc_extpub *child, const bc_extpub *parent, uint32_t index,
                     const char **err);

/* CKDpub without the child's metadata (fingerprint, depth), for the hot path
 * of handing out addresses. */
int bc_extpub_derive_pubkey(secp256k1_pubkey *child, const bc_extpub *parent, uint32_t index);

/* First 4 bytes of hash160 of the compressed public key. */
int bc_extpub_fingerprint(unsigned char fp[4], const bc_extpub *key);

/* The version entry whose prefix is name ("xpub", "tpub", ...), or NULL. */
const bc_extkey_version *bc_extkey_version_named(const char *name);

#endif
