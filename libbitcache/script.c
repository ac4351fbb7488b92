#include <string.h>

#include <secp256k1_extrakeys.h>

#include "hash.h"
#include "script.h"
#include "secp_context.h"

#define OP_0 0x00
#define OP_1 0x51
#define OP_DUP 0x76
#define OP_HASH160 0xa9
#define OP_EQUAL 0x87
#define OP_EQUALVERIFY 0x88
#define OP_CHECKSIG 0xac

const char *
bc_addr_type_name(bc_addr_type type)
{
    switch (type) {
    case BC_P2PKH: return "p2pkh";
    case BC_P2SH_P2WPKH: return "p2sh-p2wpkh";
    case BC_P2WPKH: return "p2wpkh";
    case BC_P2TR: return "p2tr";
    }
    return "?";
}

int
bc_taproot_output_key(unsigned char out32[32], const secp256k1_pubkey *internal)
{
    const secp256k1_context *ctx = bc_secp_context();
    secp256k1_xonly_pubkey xonly;
    secp256k1_pubkey tweaked;
    unsigned char x[32], tweak[32];

    /* the internal key's parity is dropped: BIP86 works on x(P) only */
    return ctx != NULL
           && secp256k1_xonly_pubkey_from_pubkey(ctx, &xonly, NULL, internal)
           && secp256k1_xonly_pubkey_serialize(ctx, x, &xonly)
           && bc_tagged_hash(tweak, "TapTweak", x, 32)
           && secp256k1_xonly_pubkey_tweak_add(ctx, &tweaked, &xonly, tweak)
           && secp256k1_xonly_pubkey_from_pubkey(ctx, &xonly, NULL, &tweaked)
           && secp256k1_xonly_pubkey_serialize(ctx, out32, &xonly);
}

int
bc_script_for_pubkey(unsigned char *spk, size_t *spklen, bc_addr_type type,
                     const secp256k1_pubkey *pubkey)
{
    const secp256k1_context *ctx = bc_secp_context();
    unsigned char ser[33], keyhash[20], redeem[22];
    size_t serlen = sizeof(ser);

    if (ctx == NULL) {
        return 0;
    }
    if (type == BC_P2TR) {
        spk[0] = OP_1;
        spk[1] = 32;
        *spklen = 34;
        return bc_taproot_output_key(spk + 2, pubkey);
    }
    if (!secp256k1_ec_pubkey_serialize(ctx, ser, &serlen, pubkey, SECP256K1_EC_COMPRESSED)
        || !bc_hash160(keyhash, ser, serlen))
    {
        return 0;
    }
    switch (type) {
    case BC_P2PKH:
        spk[0] = OP_DUP;
        spk[1] = OP_HASH160;
        spk[2] = 20;
        memcpy(spk + 3, keyhash, 20);
        spk[23] = OP_EQUALVERIFY;
        spk[24] = OP_CHECKSIG;
        *spklen = 25;
        return 1;
    case BC_P2WPKH:
        spk[0] = OP_0;
        spk[1] = 20;
        memcpy(spk + 2, keyhash, 20);
        *spklen = 22;
        return 1;
    case BC_P2SH_P2WPKH:
        /* the redeem script is the P2WPKH program; pay to its hash */
        redeem[0] = OP_0;
        redeem[1] = 20;
        memcpy(redeem + 2, keyhash, 20);
        spk[0] = OP_HASH160;
        spk[1] = 20;
        if (!bc_hash160(spk + 2, redeem, sizeof(redeem))) {
            return 0;
        }
        spk[22] = OP_EQUAL;
        *spklen = 23;
        return 1;
    case BC_P2TR:
        break;
    }
    return 0;
}
