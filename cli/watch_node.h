/* bitcache watch: the node (w->rpc): its height, its block hashes. A
 * failure is logged once, and once more when the node answers again. */
#ifndef BITCACHE_CLI_WATCH_NODE_H
#define BITCACHE_CLI_WATCH_NODE_H

#include <stdint.h>

#include "watcher.h"

/* The node's state, logged once per change. */
void node_failed(watcher *w, const char *what, const char *err);
void node_ok(watcher *w);
/* getblockcount; 0 on failure (logged) */
int node_count(watcher *w, uint32_t *count);

/* The node's hash at height h, display hex, asked now (not cached); 0 on
 * failure (logged). */
int node_hash(watcher *w, uint32_t h, char out[65]);
/* The node's block hash at height h (cached for the round); 0 on failure. */
int node_hash_at(watcher *w, uint32_t h, char out[65]);
/* Remembers the hash of a block just read at height h. */
void node_hash_put(watcher *w, uint32_t h, const char *hash);

#endif
