/* A creator's wallet as the server knows it: an extended public key or a
 * descriptor, the address type and network it implies, and the chain keys
 * that addresses are derived from. This is what `bitcache_wallet` and
 * `bitcache derive` take. */
#ifndef BITCACHE_WALLET_H
#define BITCACHE_WALLET_H

#include <stddef.h>
#include <stdint.h>

#include "descriptor.h"
#include "extkey.h"
#include "network.h"
#include "script.h"

typedef struct {
    bc_addr_type type;
    bc_network network;
    bc_extpub key;          /* the key as given (account level) */
    bc_extpub chain[2];     /* receive and change parents: KEY/0 and KEY/1,
                             * or for a descriptor its own path, twice */
    int is_descriptor;
    bc_descriptor desc;     /* as given, or built from a bare key */
} bc_wallet;

/* Parses an extended public key (xpub/ypub/zpub, tpub/upub/vpub: the
 * prefix gives the address type) or a descriptor (see descriptor.h).
 * network < 0 takes the key's default: mainnet for the xpub family,
 * testnet for the tpub family; a network the key does not belong to is
 * an error. Returns 1, or 0 with *err saying what is wrong. */
int bc_wallet_parse(bc_wallet *w, const char *text, int network, const char **err);

/* The address (BC_ADDRESS_MAX bytes) and scriptPubKey (BC_SPK_MAX bytes)
 * at index on the receive (change = 0) or change chain. Returns 1, or 0
 * with *err (a hardened index; the 1 in 2^127 invalid child). */
int bc_wallet_derive(char *address, size_t addrlen, unsigned char *spk, size_t *spklen,
                     const bc_wallet *w, int change, uint32_t index, const char **err);

/* The checksummed descriptor of the receive chain (or the descriptor given). */
int bc_wallet_descriptor(char *out, size_t outlen, const bc_wallet *w);

#endif
