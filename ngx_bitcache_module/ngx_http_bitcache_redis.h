/*
 * One hiredis async connection per worker, driven by nginx's event loop.
 */

#ifndef _NGX_HTTP_BITCACHE_REDIS_H_INCLUDED_
#define _NGX_HTTP_BITCACHE_REDIS_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>

#include "ngx_http_bitcache_redis_conf.h"


#define NGX_HTTP_BITCACHE_PREFIX_MAX  128


/* Called with the reply, or with NULL when Redis is unreachable or the
 * connection dropped before answering. Never called after cancel. */
typedef void (*ngx_http_bitcache_redis_handler_pt)(void *data,
    redisReply *reply);

typedef struct ngx_http_bitcache_redis_req_s  ngx_http_bitcache_redis_req_t;


ngx_int_t ngx_http_bitcache_redis_init_worker(ngx_cycle_t *cycle,
    ngx_http_bitcache_redis_conf_t *rcf);
void ngx_http_bitcache_redis_exit_worker(void);

/* Drives a hiredis context on nginx's event loop (also the sentinel's). */
ngx_int_t ngx_http_bitcache_redis_attach(redisAsyncContext *ac);

/* Queues a command (pipelined with all others). Returns NULL when there
 * is no connection to send it on: the caller answers 503 at once. With
 * data NULL nobody waits for the answer. */
ngx_http_bitcache_redis_req_t *ngx_http_bitcache_redis_command(
    ngx_http_bitcache_redis_handler_pt handler, void *data, int argc,
    const char **argv, const size_t *argvlen);

void ngx_http_bitcache_redis_cancel(ngx_http_bitcache_redis_req_t *req);

/* A caller's timer fired: if Redis has not answered anything for a whole
 * timeout, the connection is presumed dead and is replaced. */
void ngx_http_bitcache_redis_timed_out(void);

#endif /* _NGX_HTTP_BITCACHE_REDIS_H_INCLUDED_ */
