/*
 * A Redis command made on behalf of a request: the reply, a dropped
 * connection or the timeout (an nginx timer) ends it exactly once, and a
 * request freed meanwhile is detached from it.
 */

#ifndef _NGX_HTTP_BITCACHE_CALL_H_INCLUDED_
#define _NGX_HTTP_BITCACHE_CALL_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_bitcache_redis.h"


typedef struct ngx_http_bitcache_call_s  ngx_http_bitcache_call_t;

/* reply is NULL when Redis could not answer; call->failure says why */
typedef void (*ngx_http_bitcache_call_done_pt)(ngx_http_bitcache_call_t *call,
    redisReply *reply);

struct ngx_http_bitcache_call_s {
    ngx_http_request_t              *request;
    void                            *data;
    ngx_http_bitcache_call_done_pt   done;
    const char                      *failure;
    ngx_http_bitcache_redis_req_t   *redis;
    ngx_event_t                      timer;
    unsigned                         cleanup_added:1;
};


/* Returns NGX_OK (done will run), NGX_DECLINED when there is no Redis
 * connection (done will not run: answer 503), or NGX_ERROR. */
ngx_int_t ngx_http_bitcache_call(ngx_http_bitcache_call_t *call,
    ngx_http_request_t *r, ngx_http_bitcache_call_done_pt done, void *data,
    int argc, const char **argv, const size_t *argvlen);

/* The same with the arguments as an array of strings. */
ngx_int_t ngx_http_bitcache_callv(ngx_http_bitcache_call_t *call,
    ngx_http_request_t *r, ngx_http_bitcache_call_done_pt done, void *data,
    int argc, ngx_str_t *args);

/* MULTI, the n commands (argcs[i] arguments each, one after another in
 * args), then EXEC through ngx_http_bitcache_callv: one reply for all, read
 * at one instant. NGX_DECLINED (call->failure set) when there is no
 * connection, whatever was queued. */
ngx_int_t ngx_http_bitcache_callm(ngx_http_bitcache_call_t *call,
    ngx_http_request_t *r, ngx_http_bitcache_call_done_pt done, void *data,
    ngx_uint_t n, const int *argcs, ngx_str_t *args);

/* Queues a command nobody waits for: inside MULTI, where EXEC answers
 * for all, or a clean-up. NGX_ERROR when there is no connection. */
ngx_int_t ngx_http_bitcache_queue(int argc, ngx_str_t *args);

/* Resumes the phases of r, parked in the access phase (NGX_DONE with
 * r->main->count held) while Redis answered. */
void ngx_http_bitcache_call_resume(ngx_http_request_t *r);

/* <prefix><kind><name>, e.g. bitcache:inv:<id hex>, from r's pool. */
ngx_int_t ngx_http_bitcache_key(ngx_http_request_t *r, ngx_str_t *key,
    const char *kind, const u_char *name, size_t len);

#endif /* _NGX_HTTP_BITCACHE_CALL_H_INCLUDED_ */
