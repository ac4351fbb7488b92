/* bc_schnorr_signer: a prepared key signs like bc_schnorr_sign (the
 * signatures verify under the key's x-only public key, BIP340 vector 1's
 * key), fresh auxiliary randomness each time, and an invalid key is refused. */
#include <string.h>

#include "hex.h"
#include "schnorr.h"
#include "tap.h"

int
main(void)
{
    unsigned char sk[32], xonly[32], msg[32], s1[64], s2[64], zero[32] = { 0 };
    bc_schnorr_signer signer;
    int i, good = 1;

    bc_hex_decode(sk, 32, "b7e151628aed2a6abf7158809cf4f3c762e7160f38b4da56a784d9045190cfef", 64);
    ok(bc_xonly_from_seckey(xonly, sk), "x-only key");
    ok(bc_schnorr_signer_init(&signer, sk), "signer from a valid key");
    for (i = 0; i < 32; i++) {
        memset(msg, i, 32);
        good &= bc_schnorr_signer_sign(&signer, s1, msg) && bc_schnorr_verify(s1, msg, 32, xonly);
    }
    ok(good, "32 signatures verify");
    ok(bc_schnorr_signer_sign(&signer, s2, msg) && memcmp(s1, s2, 64) != 0,
       "fresh auxiliary randomness: another signature of the same message");
    msg[0] ^= 1;
    ok(!bc_schnorr_verify(s2, msg, 32, xonly), "not valid for another message");
    bc_schnorr_signer_clear(&signer);
    ok(!bc_schnorr_signer_init(&signer, zero), "the zero key is refused");
    return done_testing();
}
