/* bitcache watch: following the node's chain, block by block; its
 * progress in Redis (watcher:tip), reorgs rolled back. */
#ifndef BITCACHE_CLI_WATCH_CHAIN_H
#define BITCACHE_CLI_WATCH_CHAIN_H

#include <stdint.h>

#include "watcher.h"

/* Checks once that the node's chain is one Bitcache knows (its genesis
 * block) and the one --network names. 1, 0 to retry, -1 fatal (logged). */
int chain_check(watcher *w);

/* Follows the node from the last processed block to its tip, rolling back
 * disconnected blocks. Returns 1, or 0 on an error (logged). */
int chain_sync(watcher *w);

/* The processed tip from Redis: 1 with height and hash hex, 0 if none, -1
 * on an error. Progress only: never the height confirmations are counted
 * from (that is the node's, w->node_tip). */
int tip_get(watcher *w, uint32_t *height, char hash[65]);

#endif
