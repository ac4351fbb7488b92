/* bitcache watch: its log, and the clock of the log's timings. */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "watch_log.h"

/* stderr is fully buffered (see cmd_watch) and flushed after every block
 * and before every sleep: a block that pays 2,000 invoices logs 4,000
 * lines, which must not cost 4,000 write(2)s. */
void
wlog(const char *fmt, ...)
{
    static __thread time_t last = -1;
    static __thread char ts[32];
    char line[1024];
    struct tm tm;
    time_t now = time(NULL);
    va_list ap;
    size_t i;

    if (now != last) {
        gmtime_r(&now, &tm);
        strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
        last = now;
    }
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    for (i = 0; line[i]; i++) {
        if ((unsigned char) line[i] < 0x20) line[i] = ' ';   /* one event, one line */
    }
    fprintf(stderr, "%s bitcache watch: %s\n", ts, line);
}

double
watch_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}
