/* bitcache watch: blocks from the node, parsed into the outputs to look
 * up; while catching up, a thread fetches the next ones ahead. */
#ifndef BITCACHE_CLI_WATCH_FETCH_H
#define BITCACHE_CLI_WATCH_FETCH_H

#include <stdint.h>

#include "rpc.h"
#include "watch_outs.h"
#include "watcher.h"

/* A block fetched from the node and parsed (watch_fetch.c). */
typedef struct {
    uint32_t     height;
    char         hash[65];
    char         prev[65];      /* its parent, display hex */
    uint64_t     ntx;
    outlist      outs;
    double       fetch_ms;
    int          ok;            /* 0: what failed and why in err */
    int          node_error;    /* 1: the node failed; 0: the block is malformed */
    const char  *what;
    char         err[256];
} fetched_block;

/* Fetches block h (by hash, or the node's at h if hash is NULL) over rpc
 * and parses it into b. Returns b->ok. Thread-safe. */
int fetch_block(const watcher *w, rpc_client *rpc, uint32_t h, const char *hash,
    fetched_block *b);
void fetched_block_free(fetched_block *b);

/* Blocks from..to fetched ahead by a thread, in order. */
typedef struct fetcher fetcher;
fetcher *fetcher_start(watcher *w, uint32_t from, uint32_t to);
/* The next block (moved into b; a failed one has b->ok == 0). */
void fetcher_next(fetcher *f, fetched_block *b);
void fetcher_stop(fetcher *f);

#endif
