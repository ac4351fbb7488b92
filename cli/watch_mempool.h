/* bitcache watch: the node's mempool: its payments, and those that leave
 * it without confirming. */
#ifndef BITCACHE_CLI_WATCH_MEMPOOL_H
#define BITCACHE_CLI_WATCH_MEMPOOL_H

#include <stdint.h>

#include "watcher.h"

/* The node's mempool, once a round before its height (so that a
 * transaction mined meanwhile is in a block the round reads). */
int mempool_snapshot(watcher *w);

/* Looks at the mempool's new transactions; settles what they pay against
 * tip. Returns 1, or 0 on an error. */
int mempool_scan(watcher *w, uint32_t tip);

#endif
