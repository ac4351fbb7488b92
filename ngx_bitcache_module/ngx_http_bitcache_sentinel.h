/*
 * Redis Sentinel: which server is the primary now. Asked by the worker
 * each time it (re)connects, on its own short-lived async connection to
 * one sentinel after the other, never blocking.
 */

#ifndef _NGX_HTTP_BITCACHE_SENTINEL_H_INCLUDED_
#define _NGX_HTTP_BITCACHE_SENTINEL_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>

#include <hiredis/async.h>

#include "ngx_http_bitcache_redis_conf.h"


/* rc NGX_OK: rcf->host and rcf->port name the primary; otherwise why
 * says what went wrong (for the log). */
typedef void (*ngx_http_bitcache_sentinel_pt)(ngx_int_t rc, const char *why);

/* puts a hiredis context on nginx's event loop (the caller's adapter) */
typedef ngx_int_t (*ngx_http_bitcache_sentinel_attach_pt)(
    redisAsyncContext *ac);


/* "sentinel=host:port,host:port,...": each resolved here, at
 * configuration time, as the address of bitcache_redis is. */
char *ngx_http_bitcache_sentinel_parse(ngx_conf_t *cf,
    ngx_http_bitcache_redis_conf_t *rcf, ngx_str_t *list);

/* Asks the sentinels in turn, each on a connection that attach drives;
 * done is called once, perhaps before this returns. A second call while
 * one is under way does nothing. */
void ngx_http_bitcache_sentinel_ask(ngx_http_bitcache_redis_conf_t *rcf,
    ngx_log_t *log, ngx_http_bitcache_sentinel_attach_pt attach,
    ngx_http_bitcache_sentinel_pt done);

/* worker exit: drops a question under way without calling done */
void ngx_http_bitcache_sentinel_stop(void);

#endif /* _NGX_HTTP_BITCACHE_SENTINEL_H_INCLUDED_ */
