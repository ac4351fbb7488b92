#include <stdio.h>
#include <string.h>

#include "address.h"
#include "wallet.h"

static int
check_network(bc_wallet *w, int network, const char **err)
{
    static char msg[200];
    int test_keys = w->key.version->testnet;

    if (network < 0) {
        w->network = test_keys ? BC_TESTNET : BC_MAINNET;
        return 1;
    }
    w->network = (bc_network) network;
    if (bc_network_get(w->network)->test_keys != test_keys) {
        snprintf(msg, sizeof(msg), "a %s is a %s key and cannot pay on %s (%s)",
                 w->key.version->pub, test_keys ? "test-network" : "mainnet",
                 bc_network_get(w->network)->name,
                 test_keys ? "mainnet keys are xpub, ypub or zpub"
                           : "testnet, signet and regtest keys are tpub, upub or vpub");
        *err = msg;
        return 0;
    }
    return 1;
}

static int
parse_descriptor(bc_wallet *w, const char *text, const char **err)
{
    static char msg[200];
    bc_extpub k;
    size_t i;

    if (!bc_descriptor_parse(&w->desc, text, err)) {
        return 0;
    }
    if (!bc_extpub_parse(&w->key, w->desc.key, err)) {
        return 0;
    }
    if (strcmp(w->key.version->pub, "xpub") != 0 && strcmp(w->key.version->pub, "tpub") != 0) {
        snprintf(msg, sizeof(msg), "descriptors take an xpub or tpub, not a %s (the "
                 "descriptor, not the key's prefix, says the address type)",
                 w->key.version->pub);
        *err = msg;
        return 0;
    }
    w->type = w->desc.type;
    w->is_descriptor = 1;
    k = w->key;
    for (i = 0; i < w->desc.steps; i++) {
        if (!bc_extpub_derive(&k, &k, w->desc.path[i], err)) {
            return 0;
        }
    }
    w->chain[0] = k;
    w->chain[1] = k;
    return 1;
}

static int
parse_key(bc_wallet *w, const char *text, const char **err)
{
    if (!bc_extpub_parse(&w->key, text, err)) {
        return 0;
    }
    w->type = w->key.version->type;
    if (!bc_extpub_derive(&w->chain[0], &w->key, 0, err)
        || !bc_extpub_derive(&w->chain[1], &w->key, 1, err))
    {
        return 0;
    }
    /* the equivalent descriptor, for display: descriptors spell the key
     * with the plain xpub/tpub version */
    memset(&w->desc, 0, sizeof(w->desc));
    w->desc.type = w->type;
    w->desc.path[0] = 0;
    w->desc.steps = 1;
    return bc_extpub_serialize(w->desc.key, sizeof(w->desc.key), &w->key,
                               bc_extkey_version_named(w->key.version->testnet ? "tpub" : "xpub"));
}

int
bc_wallet_parse(bc_wallet *w, const char *text, int network, const char **err)
{
    memset(w, 0, sizeof(*w));
    if (network > (int) BC_REGTEST) {
        *err = "unknown network";
        return 0;
    }
    if (bc_descriptor_is(text) ? !parse_descriptor(w, text, err) : !parse_key(w, text, err)) {
        return 0;
    }
    return check_network(w, network, err);
}

int
bc_wallet_derive(char *address, size_t addrlen, unsigned char *spk, size_t *spklen,
                 const bc_wallet *w, int change, uint32_t index, const char **err)
{
    secp256k1_pubkey child;

    if (index & BC_HARDENED) {
        *err = "address index must be below 2^31 (hardened indexes need the private key)";
        return 0;
    }
    if (!bc_extpub_derive_pubkey(&child, &w->chain[change ? 1 : 0], index)) {
        *err = "child key invalid at this index (BIP32: use the next index)";
        return 0;
    }
    if (!bc_script_for_pubkey(spk, spklen, w->type, &child)) {
        *err = "scriptPubKey computation failed";
        return 0;
    }
    return bc_address_from_script(address, addrlen, spk, *spklen, w->network, err);
}

int
bc_wallet_descriptor(char *out, size_t outlen, const bc_wallet *w)
{
    return bc_descriptor_format(out, outlen, &w->desc);
}
