/* bitcache derive: the addresses (and scriptPubKeys) of a wallet, to check
 * a creator's xpub or descriptor before it goes into nginx.conf. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "commands.h"
#include "hex.h"
#include "network.h"
#include "wallet.h"

#define CMD "derive"

static int
parse_u31(uint32_t *out, const char *s)
{
    char *end;
    unsigned long v;

    errno = 0;
    if (*s < '0' || *s > '9') {
        return 0;
    }
    v = strtoul(s, &end, 10);
    if (errno != 0 || *end != '\0' || v >= BC_HARDENED) {
        return 0;
    }
    *out = (uint32_t) v;
    return 1;
}

int
cmd_derive(int argc, char **argv)
{
    const char *key = NULL, *err = NULL;
    int network = -1, change = 0, show_spk = 0, only_descriptor = 0, i;
    uint32_t from = 0, count = 10, n;
    bc_wallet w;
    char desc[BC_DESC_MAX_LEN + 16];

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (strcmp(a, "--network") == 0 && i + 1 < argc) {
            bc_network net;

            if (!bc_network_parse(&net, argv[++i])) {
                return usage_error(CMD, "unknown network '%s' (mainnet, testnet, signet, "
                                   "regtest)", argv[i]);
            }
            network = (int) net;
        } else if (strcmp(a, "--from") == 0 && i + 1 < argc) {
            if (!parse_u31(&from, argv[++i])) {
                return usage_error(CMD, "--from takes an index from 0 to 2147483647");
            }
        } else if (strcmp(a, "--count") == 0 && i + 1 < argc) {
            if (!parse_u31(&count, argv[++i])) {
                return usage_error(CMD, "--count takes a number from 0 to 2147483647");
            }
        } else if (strcmp(a, "--change") == 0) {
            change = 1;
        } else if (strcmp(a, "--spk") == 0) {
            show_spk = 1;
        } else if (strcmp(a, "--descriptor") == 0) {
            only_descriptor = 1;
        } else if (a[0] == '-' && a[1] == '-') {
            return usage_error(CMD, "unknown option '%s' (or its value is missing)", a);
        } else if (key == NULL) {
            key = a;
        } else {
            return usage_error(CMD, "one KEY only; '%s' is extra", a);
        }
    }
    if (key == NULL) {
        return usage_error(CMD, "usage: bitcache derive KEY|DESCRIPTOR [--network NET] "
                           "[--from N] [--count M] [--change] [--spk] [--descriptor]");
    }
    if ((uint64_t) from + count > BC_HARDENED) {
        return usage_error(CMD, "--from + --count passes the last non-hardened index "
                           "2147483647");
    }
    if (!bc_wallet_parse(&w, key, network, &err)) {
        return usage_error(CMD, "%s", err);
    }
    if (change && w.is_descriptor) {
        return usage_error(CMD, "--change with a descriptor: the descriptor names its own "
                           "chain; write KEY/1/* for the change chain");
    }
    if (!bc_wallet_descriptor(desc, sizeof(desc), &w)) {
        return run_error(CMD, "cannot format the descriptor");
    }
    if (only_descriptor) {
        printf("%s\n", desc);
        return 0;
    }
    if (w.is_descriptor && !w.desc.has_checksum) {
        fprintf(stderr, "descriptor with checksum: %s\n", desc);
    }
    for (n = 0; n < count; n++) {
        char addr[BC_ADDRESS_MAX], spkhex[2 * BC_SPK_MAX + 1];
        unsigned char spk[BC_SPK_MAX];
        size_t spklen;

        if (!bc_wallet_derive(addr, sizeof(addr), spk, &spklen, &w, change, from + n, &err)) {
            /* BIP32's invalid child: say so and go on with the next index */
            fprintf(stderr, "bitcache derive: index %u: %s\n", (unsigned) (from + n), err);
            continue;
        }
        if (show_spk) {
            bc_hex_encode(spkhex, spk, spklen);
            printf("%u %s %s\n", (unsigned) (from + n), addr, spkhex);
        } else {
            printf("%u %s\n", (unsigned) (from + n), addr);
        }
    }
    return fflush(stdout) == 0 ? 0 : run_error(CMD, "write error");
}
