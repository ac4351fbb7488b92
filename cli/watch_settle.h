/* bitcache watch: invoices evaluated, attested and written. */
#ifndef BITCACHE_CLI_WATCH_SETTLE_H
#define BITCACHE_CLI_WATCH_SETTLE_H

#include <stddef.h>
#include <stdint.h>

#include "watcher.h"

/* Evaluates the invoices ids[0..n) against tip: those not settled join
 * the open set. pending: how many replies to the caller's own pipelined
 * commands come first (read and dropped here). 1, or 0 on a Redis error. */
int settle_ids(watcher *w, char (*ids)[33], size_t n, uint32_t tip, long pending);

/* Sorts invoice ids and drops repeats; returns how many are left. */
size_t ids_unique(char (*ids)[33], size_t n);

/* Re-evaluates every open invoice against the tip at height tip. */
int settle_open(watcher *w, uint32_t tip);

/* Evaluates the invoices whose expiry has come (watcher:due, written by
 * nginx with each invoice): those never paid become expired. */
int settle_due(watcher *w, uint32_t tip);

#endif
