/* libbitcache/tx.c: raw blocks and transactions. Known answers from
 * t/vectors/tx.tsv (Bitcoin's genesis block, segwit and legacy
 * transactions made by bitcoinjs-lib), then every truncation of them and
 * hand-made malformed serializations, which must all be refused. The
 * cross-check with many random transactions and a real node's blocks is
 * t/62-tx-parse.t. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "tx.h"
#include "tap.h"
#include "vectors.h"

static unsigned char raw[4096];

static size_t
unhex(const char *hex)
{
    size_t n = strlen(hex) / 2;

    if (n > sizeof(raw) || !bc_hex_decode(raw, n, hex, 2 * n)) {
        printf("Bail out! bad hex in t/vectors/tx.tsv\n");
        exit(1);
    }
    return n;
}

static void
truncations_refused(const char *what, size_t len, int block)
{
    size_t cut, bad = 0;
    bc_block b;
    bc_tx tx;
    unsigned char *copy;

    for (cut = 0; cut < len; cut++) {
        copy = malloc(cut ? cut : 1);       /* exact size: ASan sees over-reads */
        memcpy(copy, raw, cut);
        if (block) {
            if (bc_block_parse(&b, copy, cut)) {
                while (bc_block_next_tx(&b, &tx) == 1) { }
                if (bc_block_next_tx(&b, &tx) == 0) bad++;
            }
        } else if (bc_tx_parse(&tx, copy, cut)) {
            bad++;
        }
        free(copy);
    }
    ok(bad == 0, "%s: all %zu truncations refused", what, len);
}

static int
parses(const char *hex)
{
    bc_tx tx;
    size_t n = unhex(hex);

    return bc_tx_parse(&tx, raw, n) && tx.len == n;
}

int
main(void)
{
    FILE *f = vec_open("tx.tsv");
    char *fld[VEC_MAX_FIELDS], hash[65], want_hash[65], want_first[65];
    unsigned long nouts, k;
    size_t len, pos;
    bc_block b;
    bc_tx tx;
    bc_txout o;
    int n, vectors = 0;

    while ((n = vec_next(f, fld, "\t")) > 0) {
        if (n < 4) {
            printf("Bail out! short line in tx.tsv\n");
            return 1;
        }
        len = unhex(fld[1]);
        snprintf(want_hash, sizeof(want_hash), "%s", fld[2]);
        vectors++;
        if (strcmp(fld[0], "block") == 0) {
            snprintf(want_first, sizeof(want_first), "%s", fld[3]);
            ok(bc_block_parse(&b, raw, len), "block parses");
            bc_hash_to_hex(hash, b.hash);
            is_str(hash, want_hash, "block hash");
            ok(b.ntx == 1 && b.time == 1231006505 && b.nonce == 2083236893, "header fields");
            ok(bc_block_next_tx(&b, &tx) == 1, "its coinbase");
            bc_hash_to_hex(hash, tx.txid);
            is_str(hash, want_first, "coinbase txid");
            pos = 0;
            ok(bc_tx_output_next(&tx, &pos, &o) && o.value == 5000000000ULL && o.spk_len == 67,
               "50 BTC to a 67-byte script");
            ok(bc_block_next_tx(&b, &tx) == 0, "then the end");
            raw[len] = 0;
            ok(bc_block_parse(&b, raw, len + 1) && bc_block_next_tx(&b, &tx) == 1
               && bc_block_next_tx(&b, &tx) == -1, "a trailing byte is refused");
            truncations_refused("genesis block", len, 1);
        } else {
            nouts = strtoul(fld[3], NULL, 10);
            ok(bc_tx_parse(&tx, raw, len) && tx.len == len, "tx %.16s... parses", want_hash);
            bc_hash_to_hex(hash, tx.txid);
            is_str(hash, want_hash, "txid (non-witness serialization)");
            for (pos = 0, k = 0; bc_tx_output_next(&tx, &pos, &o); k++) { }
            ok(k == nouts && tx.nout == nouts, "%lu outputs", nouts);
            truncations_refused("tx", len, 0);
        }
    }
    ok(vectors == 3, "3 vectors read");

    /* hand-made malformed transactions */
    /* version | 1 input (prevout, empty script, sequence) | 1 output | locktime */
#define IN  "0000000000000000000000000000000000000000000000000000000000000000" "00000000" "00" "ffffffff"
#define OUT "0100000000000000" "01" "51"
    ok(parses("01000000" "01" IN "01" OUT "00000000"), "a minimal legacy tx parses");
    ok(!parses("01000000" "fd0100" IN "01" OUT "00000000"), "non-canonical compact size refused");
    ok(!parses("01000000" "00" "01" OUT "00000000"), "no inputs refused");
    ok(!parses("01000000" "0002" "01" IN "01" OUT "0101" "51" "00000000"), "segwit flag 2 refused");
    ok(parses("01000000" "0001" "01" IN "01" OUT "0101" "51" "00000000"), "segwit with a witness parses");
    ok(!parses("01000000" "0001" "01" IN "01" OUT "00" "00000000"), "segwit with only empty witnesses refused");
    ok(!parses("01000000" "ffffffffffffffffff" IN "01" OUT "00000000"), "a huge input count refused");
    ok(!parses("01000000" "01" IN "fe00000100" OUT "00000000"), "an output count beyond the bytes refused");
    ok(!parses("01000000" "01" IN "01" "0100000000000000" "fd0000" "00000000"), "a script length beyond the bytes refused");
    ok(bc_hash_from_hex((unsigned char *) raw, want_hash, 64), "hash from hex");
    bc_hash_to_hex(hash, raw);
    is_str(hash, want_hash, "and back");
    return done_testing();
}
