/* bitcache watch: its log on stderr, and a clock for the log's timings.
 * Knows nothing of the watcher's state: any part may log, any thread. */
#ifndef BITCACHE_CLI_WATCH_LOG_H
#define BITCACHE_CLI_WATCH_LOG_H

/* A monotonic clock in milliseconds, for the log's timings. */
double watch_now_ms(void);

/* One line on stderr: "2026-11-25T12:00:00Z bitcache watch: ...". */
void wlog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
