/* Bitcoin networks and the address prefixes each one uses. */
#ifndef BITCACHE_NETWORK_H
#define BITCACHE_NETWORK_H

#include <stddef.h>

typedef enum {
    BC_MAINNET = 0,
    BC_TESTNET,
    BC_SIGNET,
    BC_REGTEST
} bc_network;

typedef struct {
    const char *name;
    const char *hrp;            /* bech32 human-readable part */
    unsigned char p2pkh;        /* base58check version bytes */
    unsigned char p2sh;
    int test_keys;              /* 1: extended keys use the tpub family */
} bc_network_params;

/* "mainnet", "testnet", "signet" or "regtest" (also "main", "test",
 * "bitcoin"). Returns 1, or 0 for another name. */
int bc_network_parse(bc_network *net, const char *name);

const bc_network_params *bc_network_get(bc_network net);

/* The hash of the network's genesis block, 32 bytes in the order
 * getblockhash shows it (mainnet: 000000000019d6...); attestations sign it,
 * so that one network's watcher cannot settle another's invoices. NULL for
 * an unknown network. */
const unsigned char *bc_network_genesis(unsigned net);

/* The network whose genesis block hash is hex (64 digits, as getblockhash
 * answers). Returns 1, or 0 for a chain Bitcache does not know. */
int bc_network_from_genesis(bc_network *net, const char *hex, size_t len);

#endif
