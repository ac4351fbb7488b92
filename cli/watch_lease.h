/* bitcache watch: the leader lease, watcher:lease. Only its holder works;
 * another watcher stands by until it lapses. */
#ifndef BITCACHE_CLI_WATCH_LEASE_H
#define BITCACHE_CLI_WATCH_LEASE_H

#include "watcher.h"

/* 1 while this watcher holds the lease; renews it. */
int lease_renew(watcher *w);

/* Gives the lease up at once, if held (the watcher is stopping). */
void lease_release(watcher *w);

#endif
