/* Account keys and descriptors to addresses: BIP49, BIP84, BIP86 and
 * SLIP-132 examples; then the networks, address<->script, and refusals. */
#include "tap.h"
#include "vectors.h"

#include "address.h"
#include "hex.h"
#include "wallet.h"

static int
derive(char *addr, char *spkhex, const char *text, int net, int change, uint32_t index,
       const char **err)
{
    bc_wallet w;
    unsigned char spk[BC_SPK_MAX];
    size_t spklen;

    if (!bc_wallet_parse(&w, text, net, err)
        || !bc_wallet_derive(addr, BC_ADDRESS_MAX, spk, &spklen, &w, change, index, err))
    {
        return 0;
    }
    bc_hex_encode(spkhex, spk, spklen);
    return 1;
}

int
main(void)
{
    static const char *zpub = "zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs";
    static const char *upub = "upub5EFU65HtV5TeiSHmZZm7FUffBGy8UKeqp7vw43jYbvZPpoVsgU93oac7Wk3u6moKegAEWtGNF8DehrnHtv21XXEMYRUocHqguyjknFHYfgY";
    char *f[VEC_MAX_FIELDS];
    FILE *in = vec_open("addresses.tsv");
    char addr[BC_ADDRESS_MAX], spkhex[2 * BC_SPK_MAX + 1];
    const char *err = NULL;

    while (vec_next(in, f, "\t") >= 7) {
        bc_network net;
        unsigned char spk[42];
        size_t spklen;
        char hex[85];

        bc_network_parse(&net, f[2]);
        ok(derive(addr, spkhex, f[1], (int) net, atoi(f[3]), (uint32_t) atoi(f[4]), &err),
           "%s %.12s... %s/%s derives", f[0], f[1], f[3], f[4]);
        is_str(addr, f[5], "%s address %s/%s", f[0], f[3], f[4]);
        if (strcmp(f[6], "-") != 0) {
            is_str(spkhex, f[6], "%s scriptPubKey", f[0]);
        }
        /* and the address decodes back to the same script */
        ok(bc_script_from_address(spk, &spklen, f[5], net, &err), "%s decodes", f[5]);
        bc_hex_encode(hex, spk, spklen);
        is_str(hex, spkhex, "  to the derived scriptPubKey");
    }

    /* regtest: bcrt for segwit, Core's testnet base58 versions */
    {
        /* BIP49's testnet account key written with the vpub and tpub versions */
        bc_extpub k;
        char vpub[BC_EXTKEY_STR_MAX], tpub[BC_EXTKEY_STR_MAX], d[300];

        ok(bc_extpub_parse(&k, upub, &err)
           && bc_extpub_serialize(vpub, sizeof(vpub), &k, bc_extkey_version_named("vpub"))
           && bc_extpub_serialize(tpub, sizeof(tpub), &k, bc_extkey_version_named("tpub")),
           "upub re-serialized as vpub and tpub");
        ok(derive(addr, spkhex, vpub, BC_REGTEST, 0, 0, &err)
           && strncmp(addr, "bcrt1q", 6) == 0, "vpub on regtest: %s", addr);
        ok(derive(addr, spkhex, vpub, -1, 0, 0, &err)
           && strncmp(addr, "tb1q", 4) == 0, "vpub defaults to testnet: %s", addr);
        ok(derive(addr, spkhex, tpub, BC_REGTEST, 0, 0, &err) && (addr[0] == 'm' || addr[0] == 'n'),
           "tpub on regtest: P2PKH %s", addr);
        snprintf(d, sizeof(d), "tr(%s/0/*)", tpub);
        ok(derive(addr, spkhex, d, BC_REGTEST, 0, 0, &err)
           && strncmp(addr, "bcrt1p", 6) == 0, "tr(tpub) on regtest: %s", addr);
        snprintf(d, sizeof(d), "sh(wpkh(%s/0/*))", tpub);
        ok(derive(addr, spkhex, d, BC_TESTNET, 0, 0, &err)
           && strcmp(addr, "2Mww8dCYPUpKHofjgcXcBCEGmniw9CoaiD2") == 0,
           "sh(wpkh(tpub)) equals the upub's address: %s", addr);
        snprintf(d, sizeof(d), "wpkh(%s/0/*)", vpub);
        ok(!derive(addr, spkhex, d, -1, 0, 0, &err) && strstr(err, "xpub or tpub"),
           "vpub inside a descriptor refused: %s", err);
    }
    ok(derive(addr, spkhex, upub, BC_REGTEST, 0, 0, &err)
       && strcmp(addr, "2Mww8dCYPUpKHofjgcXcBCEGmniw9CoaiD2") == 0,
       "upub on regtest: same P2SH as testnet (%s)", addr);
    ok(derive(addr, spkhex, upub, BC_SIGNET, 0, 0, &err)
       && strcmp(addr, "2Mww8dCYPUpKHofjgcXcBCEGmniw9CoaiD2") == 0, "upub on signet");
    ok(!derive(addr, spkhex, zpub, BC_REGTEST, 0, 0, &err) && strstr(err, "mainnet"),
       "zpub refused on regtest: %s", err);
    ok(!derive(addr, spkhex, upub, BC_MAINNET, 0, 0, &err) && strstr(err, "test-network"),
       "upub refused on mainnet: %s", err);
    ok(!derive(addr, spkhex, "ypub6Ww3ibxVfGzLrAH1PNcjyAWenMTbbAosGNB6VvmSEgytSER9azLDWCxoJwW7Ke7icmizBMXrzBx9979FfaHxHcrArf3zbeJJJUZPf663zsP", -1, 0, (uint32_t) 1 << 31, &err)
       && strstr(err, "2^31"), "hardened address index refused: %s", err);

    /* private keys where a public one belongs */
    ok(!derive(addr, spkhex, "KyZpNDKnfs94vbrwhJneDi77V6jF64PWPF8x5cdJb8ifgg2DUc9d", -1, 0, 0, &err)
       && strstr(err, BC_NEVER_PRIVATE), "WIF refused: %s", err);
    ok(!derive(addr, spkhex, "KyZpNDKnfs94vbrwhJneDi77V6jF64PWPF8x5cdJb8ifgg2DUc9e", -1, 0, 0, &err)
       && strstr(err, BC_NEVER_PRIVATE), "mistyped WIF refused as a private key: %s", err);
    ok(!derive(addr, spkhex, "cULrpoZGXiuC19Uhvykx7NugygA3k86b3hmdCeyvHYQZSxojGyXJ", -1, 0, 0, &err)
       && strstr(err, BC_NEVER_PRIVATE), "testnet WIF (BIP49) refused: %s", err);
    ok(!derive(addr, spkhex, "zprvAdG4iTXWBoARxkkzNpNh8r6Qag3irQB8PzEMkAFeTRXxHpbF9z4QgEvBRmfvqWvGp42t42nvgGpNgYSJA9iefm1yYNZKEm7z6qUWCroSQnE", -1, 0, 0, &err)
       && strstr(err, BC_NEVER_PRIVATE), "zprv refused: %s", err);
    ok(!derive(addr, spkhex, "wpkh([deadbeef/84h/0h/0h]xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHi/0/*)", -1, 0, 0, &err)
       && strstr(err, BC_NEVER_PRIVATE), "xprv in a descriptor refused: %s", err);
    ok(!derive(addr, spkhex, "1LqBGSKuX5yYUonjxT5qGfpUsXKYYWeabA", -1, 0, 0, &err)
       && strstr(err, "address"), "an address is not a key: %s", err);
    ok(!derive(addr, spkhex, "zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYt", -1, 0, 0, &err)
       && strstr(err, "checksum"), "mistyped key: %s", err);
    ok(!derive(addr, spkhex, "zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZY0", -1, 0, 0, &err)
       && strstr(err, "'0' at position 111"), "bad character: %s", err);

    /* address <-> script for every type on every network */
    {
        static const char *spks[] = {
            "76a914751e76e8199196d454941c45d1b3a323f1433bd688ac",
            "a914751e76e8199196d454941c45d1b3a323f1433bd687",
            "0014751e76e8199196d454941c45d1b3a323f1433bd6",
            "512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
        };
        size_t i;
        int net;

        for (net = BC_MAINNET; net <= BC_REGTEST; net++) {
            for (i = 0; i < sizeof(spks) / sizeof(spks[0]); i++) {
                unsigned char spk[42], back[42];
                size_t len = strlen(spks[i]) / 2, backlen;
                char a[BC_ADDRESS_MAX], hex[85];

                bc_hex_decode(spk, len, spks[i], 2 * len);
                ok(bc_address_from_script(a, sizeof(a), spk, len, (bc_network) net, &err)
                   && bc_script_from_address(back, &backlen, a, (bc_network) net, &err),
                   "%s: %s", bc_network_get((bc_network) net)->name, a);
                bc_hex_encode(hex, back, backlen);
                is_str(hex, spks[i], "  round trip");
            }
        }
        ok(!bc_script_from_address((unsigned char[42]){0}, &(size_t){0},
                                   "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", BC_REGTEST, &err),
           "mainnet address refused on regtest: %s", err);
    }
    return done_testing();
}
