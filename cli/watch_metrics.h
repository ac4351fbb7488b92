/* bitcache watch --metrics ADDR: Prometheus text on GET /metrics, answered
 * while the main loop sleeps between rounds. */
#ifndef BITCACHE_CLI_WATCH_METRICS_H
#define BITCACHE_CLI_WATCH_METRICS_H

#include <signal.h>
#include <stddef.h>

#include "watcher.h"

/* A client's time to send its request head and read the answer: a scrape
 * can stretch a sleep between rounds by this much (so the lease must
 * outlast twice --poll and this, watch.c) */
#define METRICS_CLIENT_MS 1000

/* Listens on addr ("127.0.0.1:9101", "[::1]:9101"); 0 and the reason in
 * err when addr is not that or cannot be bound. */
int metrics_listen(watcher *w, const char *addr, char *err, size_t errlen);
void metrics_close(watcher *w);

/* Sleeps ms (less once *stop is set), answering scrapes meanwhile. */
void metrics_sleep(watcher *w, long ms, volatile sig_atomic_t *stop);

/* The open set's size, asked of Redis once a round (with --metrics only). */
void metrics_count_open(watcher *w);

/* The exposition into out (NUL-terminated); its full length. */
size_t metrics_render(watcher *w, char *out, size_t cap);

#endif
