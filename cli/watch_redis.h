/* bitcache watch: commands on the watcher's Redis connection (w->rc),
 * failures logged. */
#ifndef BITCACHE_CLI_WATCH_REDIS_H
#define BITCACHE_CLI_WATCH_REDIS_H

#include <hiredis/hiredis.h>

#include "watcher.h"

/* Runs a command (printf-like, hiredis' format); NULL after logging the
 * failure (connection errors leave w->rc for the loop to reconnect). */
redisReply *wcmd(watcher *w, const char *fmt, ...);

/* Marks the connection as failed (the loop reconnects): for a pipeline
 * left with replies still due after an unexpected one. */
void wbroken(watcher *w);

/* Reads n pipelined replies. 0 on a connection error (logged). */
int drain(watcher *w, long n);

#endif
