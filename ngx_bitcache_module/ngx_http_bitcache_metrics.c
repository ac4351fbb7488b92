/*
 * Metrics (docs/operations.md, "Metrics"): counters in one shared zone
 * that the module makes itself, added to with one atomic add each (like
 * ngx_http_stub_status_module), so that every worker counts into the
 * same numbers; a `bitcache_metrics` location reads them out in
 * Prometheus' text exposition format 0.0.4. What a request ended with is
 * counted in the log phase (ngx_http_bitcache_outcome.c).
 *
 * A reload keeps the zone (same name, size and layout): the counters go
 * on. A restart or a binary upgrade starts them at 0, which Prometheus'
 * rate() takes for a counter reset.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <time.h>

#include "api_request.h"
#include "ngx_http_bitcache.h"
#include "ngx_http_bitcache_metrics.h"


/* the zone's layout: bump it with any change of the counters' order, so
 * that a reload into a new build never reads an old zone's numbers */
#define NGX_HTTP_BITCACHE_METRICS_MAGIC   0xb17cac4e0001ULL


static ngx_uint_t  ngx_http_bitcache_codes[] = {
    200, 201, 206, 303, 304, 400, 402, 403, 404, 405, 409, 410, 413, 416,
    429, 500, 502, 503
};

#define NGX_HTTP_BITCACHE_CODES_N                                            \
    (sizeof(ngx_http_bitcache_codes) / sizeof(ngx_uint_t) + 1)  /* other */

/* the API's routes as labels, by bc_route */
static const char  *ngx_http_bitcache_routes[] = {
    "other", "invoices", "invoice_status", "wallets", "wallet",
    "wallet_restore", "wallet_forget", "wallet_history", "wallet_topups",
    "wallet_buy", "wallet_settings", "free", "products", "button", "keys",
    "open", "open_js", "open_sw"
};

#define NGX_HTTP_BITCACHE_ROUTES_N                                           \
    (sizeof(ngx_http_bitcache_routes) / sizeof(char *))

/* a route added to bc_route needs its label here: the build says so */
typedef char ngx_http_bitcache_routes_check_t[
    NGX_HTTP_BITCACHE_ROUTES_N == BC_ROUTE_OPEN_SW + 1 ? 1 : -1];

/* Redis latency buckets, microseconds (le= in seconds) */
static uint64_t  ngx_http_bitcache_buckets[] = {
    100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000,
    500000, 1000000, 2500000
};

#define NGX_HTTP_BITCACHE_BUCKETS_N                                          \
    (sizeof(ngx_http_bitcache_buckets) / sizeof(uint64_t) + 1)  /* +Inf */


/* offsets of each family in the zone's array of counters */
#define NGX_HTTP_BITCACHE_O_RESPONSES  NGX_HTTP_BITCACHE_M_N
#define NGX_HTTP_BITCACHE_O_RERR                                             \
    (NGX_HTTP_BITCACHE_O_RESPONSES                                           \
     + NGX_HTTP_BITCACHE_OUT_N * NGX_HTTP_BITCACHE_CODES_N)
#define NGX_HTTP_BITCACHE_O_API                                              \
    (NGX_HTTP_BITCACHE_O_RERR + NGX_HTTP_BITCACHE_RERR_N)
#define NGX_HTTP_BITCACHE_O_BUCKETS                                          \
    (NGX_HTTP_BITCACHE_O_API + NGX_HTTP_BITCACHE_ROUTES_N)
#define NGX_HTTP_BITCACHE_O_LAT_SUM                                          \
    (NGX_HTTP_BITCACHE_O_BUCKETS + NGX_HTTP_BITCACHE_BUCKETS_N)
#define NGX_HTTP_BITCACHE_COUNTERS     (NGX_HTTP_BITCACHE_O_LAT_SUM + 1)


typedef struct {
    uint64_t       magic;
    ngx_uint_t     counters;
    ngx_atomic_t   c[1];
} ngx_http_bitcache_metrics_sh_t;


/* $bitcache_status, and the "status" label, by outcome */
ngx_str_t  ngx_http_bitcache_outcome_names[] = {
    ngx_string(""),
    ngx_string("paid"),
    ngx_string("unpaid"),
    ngx_string("expired"),
    ngx_string("used_up"),
    ngx_string("revoked"),
    ngx_string("invalid"),
    ngx_string("redis_error"),
    ngx_string("denied"),
    ngx_string("free"),
    ngx_string("key"),
};


/* set in the master when the zone is made; the workers inherit it */
ngx_atomic_t  *ngx_http_bitcache_metrics;

static ngx_str_t  ngx_http_bitcache_zone_name =
    ngx_string("bitcache_metrics");


/* ---- Redis ---- */

/* monotonic microseconds: ngx_current_msec is too coarse for a local
 * Redis that answers in a tenth of a millisecond (a vDSO call, no
 * system call) */
static uint64_t
ngx_http_bitcache_now_us(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);

    return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}


uint64_t
ngx_http_bitcache_count_redis_sent(void)
{
    if (ngx_http_bitcache_metrics == NULL) {
        return 0;
    }

    ngx_http_bitcache_count(NGX_HTTP_BITCACHE_M_REDIS_SENT, 1);

    return ngx_http_bitcache_now_us();
}


void
ngx_http_bitcache_count_redis_reply(uint64_t sent, void *r)
{
    uint64_t     us;
    ngx_uint_t   i;
    redisReply  *reply = r;

    if (ngx_http_bitcache_metrics == NULL) {
        return;
    }

    if (reply == NULL) {
        ngx_http_bitcache_count(NGX_HTTP_BITCACHE_O_RERR
                                + NGX_HTTP_BITCACHE_RERR_LOST, 1);
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_http_bitcache_count(NGX_HTTP_BITCACHE_O_RERR
                                + NGX_HTTP_BITCACHE_RERR_REPLY, 1);
    }

    us = ngx_http_bitcache_now_us() - sent;

    for (i = 0; i < NGX_HTTP_BITCACHE_BUCKETS_N - 1; i++) {
        if (us <= ngx_http_bitcache_buckets[i]) {
            break;
        }
    }

    ngx_http_bitcache_count(NGX_HTTP_BITCACHE_O_BUCKETS + i, 1);
    ngx_http_bitcache_count(NGX_HTTP_BITCACHE_O_LAT_SUM, (ngx_atomic_int_t) us);
}


void
ngx_http_bitcache_count_redis_unsent(void)
{
    ngx_http_bitcache_count(NGX_HTTP_BITCACHE_O_RERR
                            + NGX_HTTP_BITCACHE_RERR_UNSENT, 1);
}


/* ---- what requests ended with (ngx_http_bitcache_outcome.c) ---- */

static ngx_uint_t
ngx_http_bitcache_code_index(ngx_uint_t status)
{
    ngx_uint_t  i;

    for (i = 0; i < NGX_HTTP_BITCACHE_CODES_N - 1; i++) {
        if (ngx_http_bitcache_codes[i] == status) {
            break;
        }
    }

    return i;
}


void
ngx_http_bitcache_count_api(ngx_uint_t route, ngx_uint_t status)
{
    if (route >= NGX_HTTP_BITCACHE_ROUTES_N) {
        route = 0;                                      /* "other" */
    }

    if (route == BC_ROUTE_CREATE
        && (status == NGX_HTTP_CREATED || status == NGX_HTTP_SEE_OTHER))
    {
        ngx_http_bitcache_count(NGX_HTTP_BITCACHE_M_INVOICES, 1);
    }

    if (status >= NGX_HTTP_BAD_REQUEST) {
        ngx_http_bitcache_count(NGX_HTTP_BITCACHE_O_API + route, 1);
    }
}


void
ngx_http_bitcache_count_response(ngx_uint_t out, ngx_uint_t status)
{
    ngx_http_bitcache_count(NGX_HTTP_BITCACHE_O_RESPONSES
                            + out * NGX_HTTP_BITCACHE_CODES_N
                            + ngx_http_bitcache_code_index(status), 1);
}


/* ---- the zone ---- */

static ngx_int_t
ngx_http_bitcache_metrics_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    size_t                           size;
    ngx_slab_pool_t                 *shpool;
    ngx_http_bitcache_metrics_sh_t  *sh;

    if (data != NULL) {
        sh = data;
        if (sh->magic == NGX_HTTP_BITCACHE_METRICS_MAGIC
            && sh->counters == NGX_HTTP_BITCACHE_COUNTERS)
        {
            /* a reload: the counters go on */
            shm_zone->data = sh;
            ngx_http_bitcache_metrics = sh->c;
            return NGX_OK;
        }
    }

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    size = sizeof(ngx_http_bitcache_metrics_sh_t)
           + NGX_HTTP_BITCACHE_COUNTERS * sizeof(ngx_atomic_t);

    sh = ngx_slab_calloc(shpool, size);
    if (sh == NULL) {
        return NGX_ERROR;
    }

    sh->magic = NGX_HTTP_BITCACHE_METRICS_MAGIC;
    sh->counters = NGX_HTTP_BITCACHE_COUNTERS;
    shpool->data = sh;
    shm_zone->data = sh;
    ngx_http_bitcache_metrics = sh->c;

    return NGX_OK;
}


ngx_int_t
ngx_http_bitcache_metrics_init(ngx_conf_t *cf)
{
    ngx_shm_zone_t  *zone;

    /* a page more than the counters need: the slab pool's own header */
    zone = ngx_shared_memory_add(cf, &ngx_http_bitcache_zone_name,
                                 8 * ngx_pagesize, &ngx_http_bitcache_module);
    if (zone == NULL) {
        return NGX_ERROR;
    }

    zone->init = ngx_http_bitcache_metrics_init_zone;

    return NGX_OK;
}


/* ---- the exposition ---- */

typedef struct {
    u_char  *pos;
    u_char  *last;
} ngx_http_bitcache_out_t;


static ngx_atomic_uint_t
ngx_http_bitcache_read(ngx_uint_t i)
{
    return ngx_http_bitcache_metrics[i];
}


static void
ngx_http_bitcache_head(ngx_http_bitcache_out_t *o, const char *name,
    const char *type, const char *help)
{
    o->pos = ngx_slprintf(o->pos, o->last, "# HELP %s %s\n# TYPE %s %s\n",
                          name, help, name, type);
}


static void
ngx_http_bitcache_single(ngx_http_bitcache_out_t *o, const char *name,
    const char *help, ngx_uint_t i)
{
    ngx_http_bitcache_head(o, name, "counter", help);
    o->pos = ngx_slprintf(o->pos, o->last, "%s %uA\n", name,
                          ngx_http_bitcache_read(i));
}


static void
ngx_http_bitcache_responses(ngx_http_bitcache_out_t *o)
{
    ngx_uint_t          s, c;
    ngx_atomic_uint_t   n;

    ngx_http_bitcache_head(o, "bitcache_responses_total", "counter",
                           "Requests the module decided, by $bitcache_status "
                           "and HTTP status code.");

    for (s = 1; s < NGX_HTTP_BITCACHE_OUT_N; s++) {
        for (c = 0; c < NGX_HTTP_BITCACHE_CODES_N; c++) {
            n = ngx_http_bitcache_read(NGX_HTTP_BITCACHE_O_RESPONSES
                                       + s * NGX_HTTP_BITCACHE_CODES_N + c);
            if (n == 0) {
                continue;
            }

            if (c < NGX_HTTP_BITCACHE_CODES_N - 1) {
                o->pos = ngx_slprintf(o->pos, o->last,
                             "bitcache_responses_total{status=\"%V\","
                             "code=\"%ui\"} %uA\n",
                             &ngx_http_bitcache_outcome_names[s],
                             ngx_http_bitcache_codes[c], n);
            } else {
                o->pos = ngx_slprintf(o->pos, o->last,
                             "bitcache_responses_total{status=\"%V\","
                             "code=\"other\"} %uA\n",
                             &ngx_http_bitcache_outcome_names[s], n);
            }
        }
    }
}


static void
ngx_http_bitcache_redis_errors(ngx_http_bitcache_out_t *o)
{
    ngx_uint_t   i;

    static const char  *kinds[] = { "reply", "lost", "unsent" };

    ngx_http_bitcache_head(o, "bitcache_redis_errors_total", "counter",
                           "Redis commands that failed: an error reply, no "
                           "reply (connection lost), or not sent (no "
                           "connection).");

    for (i = 0; i < NGX_HTTP_BITCACHE_RERR_N; i++) {
        o->pos = ngx_slprintf(o->pos, o->last,
                              "bitcache_redis_errors_total{kind=\"%s\"} %uA\n",
                              kinds[i],
                              ngx_http_bitcache_read(NGX_HTTP_BITCACHE_O_RERR
                                                     + i));
    }
}


static void
ngx_http_bitcache_latency(ngx_http_bitcache_out_t *o)
{
    ngx_uint_t          i;
    ngx_atomic_uint_t   sum, cum;

    ngx_http_bitcache_head(o, "bitcache_redis_latency_seconds", "histogram",
                           "Time from sending a Redis command to its reply.");

    sum = ngx_http_bitcache_read(NGX_HTTP_BITCACHE_O_LAT_SUM);

    /* the buckets are kept apart and added up here; the count is the
     * +Inf bucket, so that the two always agree */
    cum = 0;
    for (i = 0; i < NGX_HTTP_BITCACHE_BUCKETS_N - 1; i++) {
        cum += ngx_http_bitcache_read(NGX_HTTP_BITCACHE_O_BUCKETS + i);
        o->pos = ngx_slprintf(o->pos, o->last,
                              "bitcache_redis_latency_seconds_bucket"
                              "{le=\"%uL.%06uL\"} %uA\n",
                              ngx_http_bitcache_buckets[i] / 1000000,
                              ngx_http_bitcache_buckets[i] % 1000000, cum);
    }

    cum += ngx_http_bitcache_read(NGX_HTTP_BITCACHE_O_BUCKETS + i);

    o->pos = ngx_slprintf(o->pos, o->last,
                          "bitcache_redis_latency_seconds_bucket{le=\"+Inf\"} "
                          "%uA\n"
                          "bitcache_redis_latency_seconds_sum %uA.%06uA\n"
                          "bitcache_redis_latency_seconds_count %uA\n",
                          cum, sum / 1000000, sum % 1000000, cum);
}


static void
ngx_http_bitcache_api_errors(ngx_http_bitcache_out_t *o)
{
    ngx_uint_t  i;

    ngx_http_bitcache_head(o, "bitcache_api_errors_total", "counter",
                           "API answers with a status of 400 or more, by "
                           "route.");

    for (i = 0; i < NGX_HTTP_BITCACHE_ROUTES_N; i++) {
        o->pos = ngx_slprintf(o->pos, o->last,
                              "bitcache_api_errors_total{route=\"%s\"} %uA\n",
                              ngx_http_bitcache_routes[i],
                              ngx_http_bitcache_read(NGX_HTTP_BITCACHE_O_API
                                                     + i));
    }
}


static ngx_int_t
ngx_http_bitcache_metrics_handler(ngx_http_request_t *r)
{
    size_t                    size;
    ngx_int_t                 rc;
    ngx_buf_t                *b;
    ngx_chain_t               out;
    ngx_http_bitcache_out_t   o;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_http_bitcache_metrics == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* each line is short: a bound, never reached, rather than a count */
    size = 4096 + NGX_HTTP_BITCACHE_COUNTERS * 128;

    b = ngx_create_temp_buf(r->pool, size);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    o.pos = b->last;
    o.last = b->end;

    ngx_http_bitcache_responses(&o);
    ngx_http_bitcache_single(&o, "bitcache_downloads_total",
                             "Paid responses that carried a part of a file.",
                             NGX_HTTP_BITCACHE_M_DOWNLOADS);
    ngx_http_bitcache_single(&o, "bitcache_sent_bytes_total",
                             "Bytes of paid files' bodies sent to clients.",
                             NGX_HTTP_BITCACHE_M_BYTES);
    ngx_http_bitcache_single(&o, "bitcache_redis_commands_total",
                             "Redis commands sent.",
                             NGX_HTTP_BITCACHE_M_REDIS_SENT);
    ngx_http_bitcache_redis_errors(&o);
    ngx_http_bitcache_single(&o, "bitcache_redis_connects_total",
                             "Connections to Redis established.",
                             NGX_HTTP_BITCACHE_M_REDIS_CONNECTS);
    ngx_http_bitcache_single(&o, "bitcache_redis_reconnects_total",
                             "Redis connections lost or failed, each "
                             "followed by a retry.",
                             NGX_HTTP_BITCACHE_M_REDIS_RECONNECTS);
    ngx_http_bitcache_latency(&o);
    ngx_http_bitcache_single(&o, "bitcache_invoices_created_total",
                             "Invoices created (POST <api>/invoices).",
                             NGX_HTTP_BITCACHE_M_INVOICES);
    ngx_http_bitcache_single(&o, "bitcache_tokens_minted_total",
                             "Answers that delivered a token (a paid "
                             "invoice's status, a free copy, a wallet "
                             "purchase).",
                             NGX_HTTP_BITCACHE_M_TOKENS);
    ngx_http_bitcache_api_errors(&o);
    ngx_http_bitcache_single(&o, "bitcache_key_fetches_total",
                             "Sealed files' keys released.",
                             NGX_HTTP_BITCACHE_M_KEYS);
    ngx_http_bitcache_single(&o, "bitcache_free_copies_total",
                             "Free copies of giveaways given.",
                             NGX_HTTP_BITCACHE_M_FREE);

    b->last = o.pos;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type,
                "text/plain; version=0.0.4; charset=utf-8");
    r->headers_out.content_type_len = sizeof("text/plain") - 1;

    rc = ngx_http_send_header(r);
    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


char *
ngx_http_bitcache_metrics_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_bitcache_metrics_handler;

    return NGX_CONF_OK;
}
