/* Bech32/Bech32m strings, segwit addresses and address <-> scriptPubKey:
 * no crash, and everything that decodes encodes back to the lower-case
 * input. */
#include <ctype.h>

#include "fuzz.h"

#include "address.h"
#include "bech32.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char hrp[BC_BECH32_MAX_HRP + 1], again[BC_BECH32_MAX_LEN + 1], *lower;
    unsigned char values[BC_BECH32_MAX_LEN], prog[40], spk[42];
    size_t n, proglen, spklen, i;
    bc_bech32_variant variant;
    const char *err = NULL;
    char *s = fuzz_string(data, size);
    static const char *hrps[] = { "bc", "tb", "bcrt" };
    int witver, net;

    if (s == NULL) {
        return 0;
    }
    lower = strdup(s);
    for (i = 0; lower[i]; i++) {
        lower[i] = (char) tolower((unsigned char) lower[i]);
    }
    if (bc_bech32_decode(hrp, values, &n, &variant, s, &err)) {
        FUZZ_ASSERT(bc_bech32_encode(again, sizeof(again), hrp, values, n, variant));
        FUZZ_ASSERT(strcmp(again, lower) == 0);
    }
    for (i = 0; i < 3; i++) {
        if (bc_segwit_decode(&witver, prog, &proglen, hrps[i], s, &err)) {
            FUZZ_ASSERT(bc_segwit_encode(again, sizeof(again), hrps[i], witver, prog, proglen));
            FUZZ_ASSERT(strcmp(again, lower) == 0);
        }
    }
    for (net = BC_MAINNET; net <= BC_REGTEST; net++) {
        if (bc_script_from_address(spk, &spklen, s, (bc_network) net, &err)) {
            char addr[BC_ADDRESS_MAX];

            FUZZ_ASSERT(bc_address_from_script(addr, sizeof(addr), spk, spklen,
                                               (bc_network) net, &err));
            FUZZ_ASSERT(strcmp(addr, s) == 0 || strcmp(addr, lower) == 0);
        }
    }
    /* and any bytes as a script */
    if (size <= 42) {
        char addr[BC_ADDRESS_MAX];

        (void) bc_address_from_script(addr, sizeof(addr), data, size, BC_MAINNET, &err);
    }
    free(lower);
    free(s);
    return 0;
}
