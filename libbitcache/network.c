#include <string.h>

#include "hex.h"
#include "network.h"

/* Bitcoin Core's chainparams: signet and regtest share testnet's base58
 * versions; regtest has its own bech32 prefix. */
static const bc_network_params params[] = {
    [BC_MAINNET] = { "mainnet", "bc", 0x00, 0x05, 0 },
    [BC_TESTNET] = { "testnet", "tb", 0x6f, 0xc4, 1 },
    [BC_SIGNET] = { "signet", "tb", 0x6f, 0xc4, 1 },
    [BC_REGTEST] = { "regtest", "bcrt", 0x6f, 0xc4, 1 },
};

/* the names nginx.conf and the CLI accept, with the usual aliases */
static const struct {
    const char *name;
    bc_network net;
} names[] = {
    { "mainnet", BC_MAINNET }, { "main", BC_MAINNET }, { "bitcoin", BC_MAINNET },
    { "testnet", BC_TESTNET }, { "test", BC_TESTNET },
    { "signet", BC_SIGNET },
    { "regtest", BC_REGTEST },
};

int
bc_network_parse(bc_network *net, const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(name, names[i].name) == 0) {
            *net = names[i].net;
            return 1;
        }
    }
    return 0;
}

const bc_network_params *
bc_network_get(bc_network net)
{
    return &params[net];
}

/* Bitcoin Core's chainparams (signet: the default signet's, which every
 * signet shares; bcoin's regtest has Core's). */
static const unsigned char genesis[][32] = {
    [BC_MAINNET] = {
        0x00, 0x00, 0x00, 0x00, 0x00, 0x19, 0xd6, 0x68, 0x9c, 0x08, 0x5a, 0xe1, 0x65, 0x83,
        0x1e, 0x93, 0x4f, 0xf7, 0x63, 0xae, 0x46, 0xa2, 0xa6, 0xc1, 0x72, 0xb3, 0xf1, 0xb6,
        0x0a, 0x8c, 0xe2, 0x6f },
    [BC_TESTNET] = {
        0x00, 0x00, 0x00, 0x00, 0x09, 0x33, 0xea, 0x01, 0xad, 0x0e, 0xe9, 0x84, 0x20, 0x97,
        0x79, 0xba, 0xae, 0xc3, 0xce, 0xd9, 0x0f, 0xa3, 0xf4, 0x08, 0x71, 0x95, 0x26, 0xf8,
        0xd7, 0x7f, 0x49, 0x43 },
    [BC_SIGNET] = {
        0x00, 0x00, 0x00, 0x08, 0x81, 0x98, 0x73, 0xe9, 0x25, 0x42, 0x2c, 0x1f, 0xf0, 0xf9,
        0x9f, 0x7c, 0xc9, 0xbb, 0xb2, 0x32, 0xaf, 0x63, 0xa0, 0x77, 0xa4, 0x80, 0xa3, 0x63,
        0x3b, 0xee, 0x1e, 0xf6 },
    [BC_REGTEST] = {
        0x0f, 0x91, 0x88, 0xf1, 0x3c, 0xb7, 0xb2, 0xc7, 0x1f, 0x2a, 0x33, 0x5e, 0x3a, 0x4f,
        0xc3, 0x28, 0xbf, 0x5b, 0xeb, 0x43, 0x60, 0x12, 0xaf, 0xca, 0x59, 0x0b, 0x1a, 0x11,
        0x46, 0x6e, 0x22, 0x06 },
};

const unsigned char *
bc_network_genesis(unsigned net)
{
    return net < sizeof(genesis) / sizeof(genesis[0]) ? genesis[net] : NULL;
}

int
bc_network_from_genesis(bc_network *net, const char *hex, size_t len)
{
    unsigned char h[32];
    unsigned i;

    if (len != 64 || !bc_hex_decode(h, 32, hex, 64)) {
        return 0;
    }
    for (i = 0; i < sizeof(genesis) / sizeof(genesis[0]); i++) {
        if (memcmp(h, genesis[i], 32) == 0) {
            *net = (bc_network) i;
            return 1;
        }
    }
    return 0;
}
