/* bitcache watch: the outputs of a block or of the mempool that could pay
 * an invoice, to be looked up (watch_match.c). */
#ifndef BITCACHE_CLI_WATCH_OUTS_H
#define BITCACHE_CLI_WATCH_OUTS_H

#include <stddef.h>
#include <stdint.h>

#include "tx.h"
#include "watcher.h"

/* A block's or the mempool's outputs that could pay an invoice, with
 * their spk:<hex> keys ready for MGET. */
#define SPK_KEY_MAX 64      /* longer scripts cannot be an invoice's */

typedef struct {
    char     key[300];      /* <prefix>spk:<hex> */
    size_t   hex_at;        /* where <hex> starts in key */
    char     txid[65];
    uint32_t vout;
    uint64_t value;
} outref;

typedef struct {
    outref  *v;
    size_t   n, cap;
} outlist;

/* Adds tx's outputs to l. 0 when out of memory. Thread-safe. */
int outs_add_tx(const watcher *w, outlist *l, const bc_tx *tx);

#endif
