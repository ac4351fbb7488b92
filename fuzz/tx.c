/* Raw transactions and blocks (libbitcache/tx.c), the bytes a node sends:
 * no crash or over-read on any input; a transaction that parses keeps
 * within the input, yields exactly its output count, and parses the same
 * from an exact-size copy; a block's transactions end inside it. */
#include "fuzz.h"

#include "tx.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char *copy;
    bc_tx tx, again;
    bc_txout o;
    bc_block b;
    size_t pos = 0;
    uint64_t n = 0;

    if (size > FUZZ_MAX_INPUT || (copy = malloc(size ? size : 1)) == NULL) {
        return 0;
    }
    memcpy(copy, data, size);
    if (bc_tx_parse(&tx, copy, size)) {
        FUZZ_ASSERT(tx.len <= size && tx.nin > 0);
        while (bc_tx_output_next(&tx, &pos, &o)) {
            FUZZ_ASSERT(o.spk >= copy && o.spk + o.spk_len <= copy + size);
            n++;
        }
        FUZZ_ASSERT(n == tx.nout);
        FUZZ_ASSERT(bc_tx_parse(&again, copy, tx.len) && again.len == tx.len
                    && memcmp(again.txid, tx.txid, 32) == 0);
    }
    if (bc_block_parse(&b, copy, size)) {
        while (bc_block_next_tx(&b, &tx) == 1) {
            FUZZ_ASSERT(b.pos <= size);
        }
    }
    free(copy);
    return 0;
}
