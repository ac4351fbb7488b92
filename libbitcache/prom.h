/* Prometheus text exposition format 0.0.4: a family's # HELP and # TYPE,
 * samples, and a histogram whose buckets can be counted from several
 * threads at once (relaxed atomics: a scrape may see one observation in
 * the count and not yet in the sum, which Prometheus tolerates). */
#ifndef BITCACHE_PROM_H
#define BITCACHE_PROM_H

#include <stdint.h>

#include "sbuf.h"

#define BC_PROM_BUCKETS 10

typedef struct {
    uint64_t  bucket[BC_PROM_BUCKETS];  /* per bucket, not cumulative */
    uint64_t  inf;                      /* above the last bound */
    uint64_t  sum_us;                   /* microseconds */
} bc_prom_hist;

/* the buckets' upper bounds, in seconds: 1 ms .. 10 s */
extern const double bc_prom_bounds[BC_PROM_BUCKETS];

void bc_prom_observe(bc_prom_hist *h, double seconds);

/* name is the family's, e.g. "bitcache_watch_reorgs_total" for a counter */
void bc_prom_family(bc_sbuf *b, const char *name, const char *type, const char *help);
/* labels: NULL, or the inside of {...} as written, e.g. "where=\"block\"" */
void bc_prom_u64(bc_sbuf *b, const char *name, const char *labels, uint64_t v);
void bc_prom_hist_write(bc_sbuf *b, const char *name, const char *help,
    const bc_prom_hist *h);

#endif
