/*
 * The module's counters (docs/operations.md, "Metrics"): one shared zone
 * made by the module, summed over all workers; a `bitcache_metrics`
 * location answers them in Prometheus' text format. Counting is one
 * atomic add, so that the hot path does not notice it.
 */

#ifndef _NGX_HTTP_BITCACHE_METRICS_H_INCLUDED_
#define _NGX_HTTP_BITCACHE_METRICS_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* What the module decided for a request ($bitcache_status, and the
 * responses' "status" label); NONE: it decided nothing. */
typedef enum {
    NGX_HTTP_BITCACHE_OUT_NONE = 0,
    NGX_HTTP_BITCACHE_OUT_PAID,
    NGX_HTTP_BITCACHE_OUT_UNPAID,
    NGX_HTTP_BITCACHE_OUT_EXPIRED,
    NGX_HTTP_BITCACHE_OUT_USED_UP,
    NGX_HTTP_BITCACHE_OUT_REVOKED,
    NGX_HTTP_BITCACHE_OUT_INVALID,
    NGX_HTTP_BITCACHE_OUT_REDIS_ERROR,
    NGX_HTTP_BITCACHE_OUT_DENIED,
    NGX_HTTP_BITCACHE_OUT_FREE,
    NGX_HTTP_BITCACHE_OUT_KEY,
    NGX_HTTP_BITCACHE_OUT_N
} ngx_http_bitcache_outcome_e;


/* The single counters; the labelled ones are indexed in the .c file. */
typedef enum {
    NGX_HTTP_BITCACHE_M_DOWNLOADS = 0,
    NGX_HTTP_BITCACHE_M_BYTES,
    NGX_HTTP_BITCACHE_M_REDIS_SENT,
    NGX_HTTP_BITCACHE_M_REDIS_CONNECTS,
    NGX_HTTP_BITCACHE_M_REDIS_RECONNECTS,
    NGX_HTTP_BITCACHE_M_INVOICES,
    NGX_HTTP_BITCACHE_M_TOKENS,
    NGX_HTTP_BITCACHE_M_KEYS,
    NGX_HTTP_BITCACHE_M_FREE,
    NGX_HTTP_BITCACHE_M_N
} ngx_http_bitcache_metric_e;


/* Redis errors, by kind (a label). */
typedef enum {
    NGX_HTTP_BITCACHE_RERR_REPLY = 0,   /* an error reply */
    NGX_HTTP_BITCACHE_RERR_LOST,        /* no reply: connection lost */
    NGX_HTTP_BITCACHE_RERR_UNSENT,      /* no connection to send on */
    NGX_HTTP_BITCACHE_RERR_N
} ngx_http_bitcache_redis_error_e;


extern ngx_atomic_t  *ngx_http_bitcache_metrics;


static ngx_inline void
ngx_http_bitcache_count(ngx_uint_t metric, ngx_atomic_int_t n)
{
    if (ngx_http_bitcache_metrics != NULL) {
        (void) ngx_atomic_fetch_add(&ngx_http_bitcache_metrics[metric], n);
    }
}


/* Redis: a command sent (returns when, for its latency), its answer
 * (reply NULL: none came), a command that could not be sent. */
uint64_t ngx_http_bitcache_count_redis_sent(void);
void ngx_http_bitcache_count_redis_reply(uint64_t sent, void *reply);
void ngx_http_bitcache_count_redis_unsent(void);

/* A request ended: out (an outcome) answered with status; an API
 * request of route (a bc_route) answered with status. */
void ngx_http_bitcache_count_response(ngx_uint_t out, ngx_uint_t status);
void ngx_http_bitcache_count_api(ngx_uint_t route, ngx_uint_t status);

/* The zone (postconfiguration) and the directive. */
ngx_int_t ngx_http_bitcache_metrics_init(ngx_conf_t *cf);
char *ngx_http_bitcache_metrics_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* by outcome: $bitcache_status, and the "status" label */
extern ngx_str_t  ngx_http_bitcache_outcome_names[];

#endif /* _NGX_HTTP_BITCACHE_METRICS_H_INCLUDED_ */
