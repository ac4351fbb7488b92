/* Prometheus text exposition format 0.0.4 (prom.h). */
#include <stdio.h>

#include "prom.h"

const double bc_prom_bounds[BC_PROM_BUCKETS] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 10
};

void
bc_prom_observe(bc_prom_hist *h, double seconds)
{
    uint64_t *slot = &h->inf;
    int i;

    for (i = 0; i < BC_PROM_BUCKETS; i++) {
        if (seconds <= bc_prom_bounds[i]) {
            slot = &h->bucket[i];
            break;
        }
    }
    __atomic_fetch_add(slot, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&h->sum_us, (uint64_t) (seconds > 0 ? seconds * 1e6 : 0),
                       __ATOMIC_RELAXED);
}

void
bc_prom_family(bc_sbuf *b, const char *name, const char *type, const char *help)
{
    char line[512];
    int n = snprintf(line, sizeof(line), "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
                     type);

    bc_sbuf_put(b, line, n > 0 && (size_t) n < sizeof(line) ? (size_t) n : 0);
}

void
bc_prom_u64(bc_sbuf *b, const char *name, const char *labels, uint64_t v)
{
    char line[512];
    int n = snprintf(line, sizeof(line), "%s%s%s%s %llu\n", name, labels ? "{" : "",
                     labels ? labels : "", labels ? "}" : "", (unsigned long long) v);

    bc_sbuf_put(b, line, n > 0 && (size_t) n < sizeof(line) ? (size_t) n : 0);
}

void
bc_prom_hist_write(bc_sbuf *b, const char *name, const char *help, const bc_prom_hist *h)
{
    char line[512], le[32];
    uint64_t cum = 0, sum;
    int i, n;

    bc_prom_family(b, name, "histogram", help);
    for (i = 0; i < BC_PROM_BUCKETS; i++) {
        cum += __atomic_load_n(&h->bucket[i], __ATOMIC_RELAXED);
        snprintf(le, sizeof(le), "le=\"%g\"", bc_prom_bounds[i]);
        n = snprintf(line, sizeof(line), "%s_bucket", name);
        if (n > 0 && (size_t) n < sizeof(line)) bc_prom_u64(b, line, le, cum);
    }
    cum += __atomic_load_n(&h->inf, __ATOMIC_RELAXED);
    n = snprintf(line, sizeof(line), "%s_bucket", name);
    if (n > 0 && (size_t) n < sizeof(line)) bc_prom_u64(b, line, "le=\"+Inf\"", cum);
    sum = __atomic_load_n(&h->sum_us, __ATOMIC_RELAXED);
    n = snprintf(line, sizeof(line), "%s_sum %llu.%06llu\n%s_count %llu\n", name,
                 (unsigned long long) (sum / 1000000), (unsigned long long) (sum % 1000000),
                 name, (unsigned long long) cum);
    bc_sbuf_put(b, line, n > 0 && (size_t) n < sizeof(line) ? (size_t) n : 0);
}
