#include <string.h>
#include <strings.h>

#include "address.h"
#include "base58.h"
#include "bech32.h"

int
bc_address_from_script(char *out, size_t outlen, const unsigned char *spk, size_t spklen,
                       bc_network net, const char **err)
{
    const bc_network_params *p = bc_network_get(net);
    unsigned char payload[21];

    if (spklen == 25 && spk[0] == 0x76 && spk[1] == 0xa9 && spk[2] == 20
        && spk[23] == 0x88 && spk[24] == 0xac)
    {
        payload[0] = p->p2pkh;
        memcpy(payload + 1, spk + 3, 20);
    } else if (spklen == 23 && spk[0] == 0xa9 && spk[1] == 20 && spk[22] == 0x87) {
        payload[0] = p->p2sh;
        memcpy(payload + 1, spk + 2, 20);
    } else if (spklen >= 4 && spklen <= 42 && (spk[0] == 0 || (spk[0] >= 0x51 && spk[0] <= 0x60))
               && spk[1] == spklen - 2)
    {
        int witver = spk[0] == 0 ? 0 : spk[0] - 0x50;

        if (!bc_segwit_encode(out, outlen, p->hrp, witver, spk + 2, spklen - 2)) {
            *err = "not a valid witness program, or the buffer is too small";
            return 0;
        }
        return 1;
    } else {
        *err = "script has no address form (not P2PKH, P2SH or segwit)";
        return 0;
    }
    if (!bc_base58check_encode(out, outlen, payload, sizeof(payload))) {
        *err = "address buffer too small";
        return 0;
    }
    return 1;
}

int
bc_script_from_address(unsigned char *spk, size_t *spklen, const char *address,
                       bc_network net, const char **err)
{
    const bc_network_params *p = bc_network_get(net);
    unsigned char payload[21], prog[40];
    size_t n = sizeof(payload), proglen;
    size_t hlen = strlen(p->hrp);
    int witver;

    if (strncasecmp(address, p->hrp, hlen) == 0 && address[hlen] == '1') {
        if (!bc_segwit_decode(&witver, prog, &proglen, p->hrp, address, err)) {
            return 0;
        }
        spk[0] = witver == 0 ? 0 : (unsigned char) (0x50 + witver);
        spk[1] = (unsigned char) proglen;
        memcpy(spk + 2, prog, proglen);
        *spklen = proglen + 2;
        return 1;
    }
    if (!bc_base58check_decode(payload, &n, address, strlen(address), err)) {
        return 0;
    }
    if (n != 21) {
        *err = "base58 address payload is not 21 bytes";
        return 0;
    }
    if (payload[0] == p->p2pkh) {
        spk[0] = 0x76;
        spk[1] = 0xa9;
        spk[2] = 20;
        memcpy(spk + 3, payload + 1, 20);
        spk[23] = 0x88;
        spk[24] = 0xac;
        *spklen = 25;
    } else if (payload[0] == p->p2sh) {
        spk[0] = 0xa9;
        spk[1] = 20;
        memcpy(spk + 2, payload + 1, 20);
        spk[22] = 0x87;
        *spklen = 23;
    } else {
        *err = "address version byte is not P2PKH or P2SH on this network";
        return 0;
    }
    return 1;
}
