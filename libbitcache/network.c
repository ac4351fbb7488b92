#include <string.h>

#include "network.h"

/* Bitcoin Core's chainparams: signet and regtest share testnet's base58
 * versions; regtest has its own bech32 prefix. */
static const bc_network_params params[] = {
    [BC_MAINNET] = { "mainnet", "bc", 0x00, 0x05, 0 },
    [BC_TESTNET] = { "testnet", "tb", 0x6f, 0xc4, 1 },
    [BC_SIGNET] = { "signet", "tb", 0x6f, 0xc4, 1 },
    [BC_REGTEST] = { "regtest", "bcrt", 0x6f, 0xc4, 1 },
};

int
bc_network_parse(bc_network *net, const char *name)
{
    if (strcmp(name, "mainnet") == 0 || strcmp(name, "main") == 0
        || strcmp(name, "bitcoin") == 0)
    {
        *net = BC_MAINNET;
    } else if (strcmp(name, "testnet") == 0 || strcmp(name, "test") == 0) {
        *net = BC_TESTNET;
    } else if (strcmp(name, "signet") == 0) {
        *net = BC_SIGNET;
    } else if (strcmp(name, "regtest") == 0) {
        *net = BC_REGTEST;
    } else {
        return 0;
    }
    return 1;
}

const bc_network_params *
bc_network_get(bc_network net)
{
    return &params[net];
}
