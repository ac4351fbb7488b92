/* BIP340: the official test-vectors CSV; signing where a secret key is given
 * (with the given aux_rand), verifying every row. */
#include "tap.h"
#include "vectors.h"

#include "hex.h"
#include "schnorr.h"

int
main(void)
{
    char *f[VEC_MAX_FIELDS];
    FILE *in = vec_open("bip340.csv");
    int n;

    while ((n = vec_next(in, f, ",")) >= 7) {
        unsigned char sk[32], pk[32], aux[32], msg[128], sig[64], got[64], x[32];
        size_t msglen = strlen(f[4]) / 2;
        int expect = strcmp(f[6], "TRUE") == 0, pk_ok;
        const char *err = NULL;

        if (strcmp(f[0], "index") == 0) {
            continue;   /* header */
        }
        pk_ok = bc_hex_decode(pk, 32, f[2], strlen(f[2]));
        bc_hex_decode(msg, msglen, f[4], strlen(f[4]));
        bc_hex_decode(sig, 64, f[5], strlen(f[5]));
        if (f[1][0] != '\0') {
            char hex[129];

            bc_hex_decode(sk, 32, f[1], 64);
            bc_hex_decode(aux, 32, f[3], 64);
            ok(bc_xonly_from_seckey(x, sk) && memcmp(x, pk, 32) == 0,
               "vector %s: x-only key of the secret key", f[0]);
            ok(bc_schnorr_sign_msg(got, msg, msglen, sk, aux), "vector %s: signs", f[0]);
            bc_hex_encode(hex, got, 64);
            for (char *p = f[5]; *p; p++) *p = (char) (*p >= 'A' && *p <= 'F' ? *p + 32 : *p);
            is_str(hex, f[5], "vector %s: signature", f[0]);
            ok(bc_schnorr_sign_msg(got, msg, msglen, sk, NULL)
               && bc_schnorr_verify(got, msg, msglen, pk),
               "vector %s: signature with random aux verifies", f[0]);
        }
        ok(pk_ok && bc_schnorr_verify(sig, msg, msglen, pk) == expect,
           "vector %s: verify %s%s%s", f[0], f[6], n > 7 && f[7][0] ? ": " : "", n > 7 ? f[7] : "");
        if (pk_ok && !bc_xonly_from_hex(x, f[2], &err)) {
            ok(!expect, "vector %s: public key refused by bc_xonly_from_hex: %s", f[0], err);
        }
    }
    {
        unsigned char sk[32] = { 0 }, sig[64], msg[32] = { 0 }, x[32];
        const char *err = NULL;

        ok(!bc_schnorr_sign(sig, msg, sk, NULL), "secret key 0 refused");
        ok(!bc_xonly_from_hex(x, "abc", &err), "short x-only key: %s", err);
    }
    return done_testing();
}
