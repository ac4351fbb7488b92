/* Test tool: libbitcache's transaction and block parser on hex from stdin,
 * for cross-checks against bitcoinjs-lib and a real node.
 *
 *   tx_dump tx      prints "txid segwit nin nout locktime", then "value spk" per output
 *   tx_dump block   prints "hash prev ntx", then each transaction's txid
 *
 * Exits 0, 1 if the input is not a transaction (block), 2 on bad usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "tx.h"

int
main(int argc, char **argv)
{
    size_t cap = 1 << 16, len = 0, n, pos = 0;
    char *hex = malloc(cap), txid[65], h2[65], spk[2 * 10000 + 1];
    unsigned char *raw;
    bc_block b;
    bc_tx tx;
    bc_txout o;
    int rc;

    if (argc != 2 || (strcmp(argv[1], "tx") != 0 && strcmp(argv[1], "block") != 0)) {
        fprintf(stderr, "usage: tx_dump tx|block < HEX\n");
        return 2;
    }
    while (hex && (n = fread(hex + len, 1, cap - len, stdin)) > 0) {
        len += n;
        if (len == cap && (hex = realloc(hex, cap *= 2)) == NULL) return 2;
    }
    while (len > 0 && (hex[len - 1] == '\n' || hex[len - 1] == '\r')) len--;
    raw = malloc(len / 2 + 1);
    if (hex == NULL || raw == NULL || len % 2 || !bc_hex_decode(raw, len / 2, hex, len)) {
        fprintf(stderr, "tx_dump: not hex\n");
        return 1;
    }
    len /= 2;
    if (strcmp(argv[1], "tx") == 0) {
        if (!bc_tx_parse(&tx, raw, len) || tx.len != len) {
            fprintf(stderr, "tx_dump: not a transaction\n");
            return 1;
        }
        bc_hash_to_hex(txid, tx.txid);
        printf("%s %d %llu %llu %u\n", txid, tx.segwit, (unsigned long long) tx.nin,
               (unsigned long long) tx.nout, tx.locktime);
        while (bc_tx_output_next(&tx, &pos, &o)) {
            if (o.spk_len > 10000) return 1;
            bc_hex_encode(spk, o.spk, o.spk_len);
            printf("%llu %s\n", (unsigned long long) o.value, spk);
        }
        return 0;
    }
    if (!bc_block_parse(&b, raw, len)) {
        fprintf(stderr, "tx_dump: not a block\n");
        return 1;
    }
    bc_hash_to_hex(txid, b.hash);
    bc_hash_to_hex(h2, b.prev);
    printf("%s %s %llu\n", txid, h2, (unsigned long long) b.ntx);
    while ((rc = bc_block_next_tx(&b, &tx)) == 1) {
        bc_hash_to_hex(txid, tx.txid);
        printf("%s\n", txid);
    }
    if (rc < 0) {
        fprintf(stderr, "tx_dump: malformed transaction %llu\n", (unsigned long long) b.done);
        return 1;
    }
    return 0;
}
