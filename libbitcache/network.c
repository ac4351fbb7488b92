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
