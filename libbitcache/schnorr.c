#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>

#include "hex.h"
#include "schnorr.h"
#include "secp_context.h"

int
bc_schnorr_sign_msg(unsigned char sig64[64], const unsigned char *msg, size_t msglen,
                    const unsigned char seckey32[32], const unsigned char *aux32)
{
    const secp256k1_context *ctx = bc_secp_context();
    secp256k1_schnorrsig_extraparams extra = SECP256K1_SCHNORRSIG_EXTRAPARAMS_INIT;
    secp256k1_keypair keypair;
    unsigned char aux[32];
    int ok;

    if (ctx == NULL) {
        return 0;
    }
    if (aux32 != NULL) {
        memcpy(aux, aux32, 32);
    } else if (RAND_bytes(aux, sizeof(aux)) != 1) {
        return 0;
    }
    if (!secp256k1_keypair_create(ctx, &keypair, seckey32)) {
        return 0;
    }
    extra.ndata = aux;
    ok = secp256k1_schnorrsig_sign_custom(ctx, sig64, msg, msglen, &keypair, &extra);
    OPENSSL_cleanse(&keypair, sizeof(keypair));
    return ok;
}

typedef char bc_signer_fits_keypair[sizeof(secp256k1_keypair) == sizeof(((bc_schnorr_signer *) 0)->keypair) ? 1 : -1];

int
bc_schnorr_signer_init(bc_schnorr_signer *s, const unsigned char seckey32[32])
{
    const secp256k1_context *ctx = bc_secp_context();

    return ctx != NULL && secp256k1_keypair_create(ctx, (secp256k1_keypair *) s->keypair, seckey32);
}

int
bc_schnorr_signer_sign(const bc_schnorr_signer *s, unsigned char sig64[64],
                       const unsigned char msg32[32])
{
    const secp256k1_context *ctx = bc_secp_context();
    secp256k1_schnorrsig_extraparams extra = SECP256K1_SCHNORRSIG_EXTRAPARAMS_INIT;
    unsigned char aux[32];

    if (ctx == NULL || RAND_bytes(aux, sizeof(aux)) != 1) {
        return 0;
    }
    extra.ndata = aux;
    return secp256k1_schnorrsig_sign_custom(ctx, sig64, msg32, 32,
                                            (const secp256k1_keypair *) s->keypair, &extra);
}

void
bc_schnorr_signer_clear(bc_schnorr_signer *s)
{
    OPENSSL_cleanse(s, sizeof(*s));
}

int
bc_schnorr_sign(unsigned char sig64[64], const unsigned char msg32[32],
                const unsigned char seckey32[32], const unsigned char *aux32)
{
    return bc_schnorr_sign_msg(sig64, msg32, 32, seckey32, aux32);
}

int
bc_schnorr_verify(const unsigned char sig64[64], const unsigned char *msg, size_t msglen,
                  const unsigned char xonly32[32])
{
    const secp256k1_context *ctx = bc_secp_context();
    secp256k1_xonly_pubkey pub;

    return ctx != NULL
           && secp256k1_xonly_pubkey_parse(ctx, &pub, xonly32)
           && secp256k1_schnorrsig_verify(ctx, sig64, msg, msglen, &pub);
}

int
bc_xonly_from_seckey(unsigned char xonly32[32], const unsigned char seckey32[32])
{
    const secp256k1_context *ctx = bc_secp_context();
    secp256k1_keypair keypair;
    secp256k1_xonly_pubkey pub;
    int ok;

    if (ctx == NULL || !secp256k1_keypair_create(ctx, &keypair, seckey32)) {
        return 0;
    }
    ok = secp256k1_keypair_xonly_pub(ctx, &pub, NULL, &keypair)
         && secp256k1_xonly_pubkey_serialize(ctx, xonly32, &pub);
    OPENSSL_cleanse(&keypair, sizeof(keypair));
    return ok;
}

int
bc_xonly_from_hex(unsigned char xonly32[32], const char *hex, const char **err)
{
    const secp256k1_context *ctx = bc_secp_context();
    secp256k1_xonly_pubkey pub;

    if (strlen(hex) != 64) {
        *err = "x-only public key must be 64 hex digits";
        return 0;
    }
    if (!bc_hex_decode(xonly32, 32, hex, 64)) {
        *err = "x-only public key has a character that is not a hex digit";
        return 0;
    }
    if (ctx == NULL || !secp256k1_xonly_pubkey_parse(ctx, &pub, xonly32)) {
        *err = "x-only public key is not the x coordinate of a point on secp256k1";
        return 0;
    }
    return 1;
}
