/* Bech32/Bech32m strings and segwit addresses against BIP173 and BIP350. */
#include "tap.h"
#include "vectors.h"

#include "bech32.h"
#include "hex.h"

static int
decode_any_network(int *witver, unsigned char *prog, size_t *proglen, const char *addr,
                   const char **err)
{
    return bc_segwit_decode(witver, prog, proglen, "bc", addr, err)
           || bc_segwit_decode(witver, prog, proglen, "tb", addr, err);
}

static void
lower(char *s)
{
    for (; *s; s++) {
        if (*s >= 'A' && *s <= 'Z') *s = (char) (*s - 'A' + 'a');
    }
}

int
main(void)
{
    char *f[VEC_MAX_FIELDS];
    FILE *in = vec_open("bech32.tsv");
    int n;

    while ((n = vec_next(in, f, "\t")) >= 3) {
        char hrp[BC_BECH32_MAX_HRP + 1], again[BC_BECH32_MAX_LEN + 1], want[128];
        unsigned char data[BC_BECH32_MAX_LEN];
        size_t len;
        bc_bech32_variant variant, expect = strcmp(f[0], "bech32m") == 0 ? BC_BECH32M : BC_BECH32;
        const char *err = NULL;
        int r;

        vec_unescape(f[2]);
        r = bc_bech32_decode(hrp, data, &len, &variant, f[2], &err);
        if (strcmp(f[1], "valid") == 0) {
            ok(r && variant == expect, "%s valid: %s", f[0], f[2]);
            /* re-encoding gives the same string, in lower case */
            snprintf(want, sizeof(want), "%s", f[2]);
            lower(want);
            ok(r && bc_bech32_encode(again, sizeof(again), hrp, data, len, variant)
               && strcmp(again, want) == 0, "%s re-encodes: %s", f[0], want);
        } else {
            /* a string that is valid under the other variant is still not
             * valid under this one */
            ok(!r || variant != expect, "%s invalid (%s): %s", f[0], n > 3 ? f[3] : "",
               r ? "decoded under the other variant" : err);
        }
    }

    in = vec_open("segwit.tsv");
    while ((n = vec_next(in, f, "\t")) >= 3) {
        unsigned char prog[40], spk[42];
        char hexspk[85], again[BC_BECH32_MAX_LEN + 1], want[BC_BECH32_MAX_LEN + 1], hrp[8];
        size_t proglen;
        int witver, r;
        const char *err = NULL;

        r = decode_any_network(&witver, prog, &proglen, f[1], &err);
        if (strcmp(f[0], "valid") == 0) {
            ok(r, "valid address %s", f[1]);
            if (!r) {
                diag("%s", err);
                continue;
            }
            spk[0] = witver ? (unsigned char) (0x50 + witver) : 0;
            spk[1] = (unsigned char) proglen;
            memcpy(spk + 2, prog, proglen);
            bc_hex_encode(hexspk, spk, proglen + 2);
            is_str(hexspk, f[2], "scriptPubKey of %s", f[1]);
            snprintf(want, sizeof(want), "%s", f[1]);
            lower(want);
            memcpy(hrp, want, 2);
            hrp[2] = '\0';
            ok(bc_segwit_encode(again, sizeof(again), hrp, witver, prog, proglen)
               && strcmp(again, want) == 0, "re-encodes %s", want);
        } else if (strcmp(f[0], "superseded") == 0) {
            ok(!r, "BIP173 v1+ address with a Bech32 checksum refused since BIP350: %s (%s)",
               f[1], err);
        } else {
            ok(!r, "invalid address (%s): %s -> %s", f[2], f[1], r ? "accepted" : err);
        }
    }

    /* the messages name the problem */
    {
        unsigned char prog[40];
        size_t proglen;
        int witver;
        const char *err = "";

        ok(!bc_segwit_decode(&witver, prog, &proglen, "bc",
                             "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sL5k7",
                             &err) && strstr(err, "mixes upper and lower case"), "mixed case: %s", err);
        ok(!bc_segwit_decode(&witver, prog, &proglen, "bc",
                             "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", &err)
           && strstr(err, "checksum"), "bad checksum: %s", err);
        ok(!bc_segwit_decode(&witver, prog, &proglen, "bcrt",
                             "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", &err)
           && strstr(err, "another network"), "wrong hrp: %s", err);
        ok(!bc_segwit_decode(&witver, prog, &proglen, "bc",
                             "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",
                             &err) && strstr(err, "Bech32m"), "v1 with bech32: %s", err);
    }
    return done_testing();
}
