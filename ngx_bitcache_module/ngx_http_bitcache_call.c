/*
 * A Redis command made on behalf of a request (see the header).
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_bitcache.h"
#include "ngx_http_bitcache_call.h"


#define NGX_HTTP_BITCACHE_CALL_ARGS  32


static void
ngx_http_bitcache_call_reply(void *data, redisReply *reply)
{
    ngx_http_bitcache_call_t  *call = data;

    call->redis = NULL;

    if (call->timer.timer_set) {
        ngx_del_timer(&call->timer);
    }

    if (reply == NULL) {
        call->failure = "redis unavailable";
    }

    call->done(call, reply);
}


static void
ngx_http_bitcache_call_timeout(ngx_event_t *ev)
{
    ngx_http_bitcache_call_t  *call = ev->data;

    ngx_log_error(NGX_LOG_ERR, ev->log, 0, "bitcache: redis timed out");

    ngx_http_bitcache_redis_cancel(call->redis);
    call->redis = NULL;
    call->failure = "redis timed out";

    ngx_http_bitcache_redis_timed_out();
    call->done(call, NULL);
}


static void
ngx_http_bitcache_call_cleanup(void *data)
{
    ngx_http_bitcache_call_t  *call = data;

    if (call->redis) {
        ngx_http_bitcache_redis_cancel(call->redis);
        call->redis = NULL;
    }

    if (call->timer.timer_set) {
        ngx_del_timer(&call->timer);
    }
}


ngx_int_t
ngx_http_bitcache_call(ngx_http_bitcache_call_t *call, ngx_http_request_t *r,
    ngx_http_bitcache_call_done_pt done, void *data, int argc,
    const char **argv, const size_t *argvlen)
{
    ngx_pool_cleanup_t             *cln;
    ngx_http_bitcache_main_conf_t  *bmcf;

    if (!call->cleanup_added) {
        cln = ngx_pool_cleanup_add(r->pool, 0);
        if (cln == NULL) {
            return NGX_ERROR;
        }

        cln->handler = ngx_http_bitcache_call_cleanup;
        cln->data = call;
        call->cleanup_added = 1;
    }

    call->request = r;
    call->done = done;
    call->data = data;
    call->failure = NULL;

    call->redis = ngx_http_bitcache_redis_command(ngx_http_bitcache_call_reply,
                                                  call, argc, argv, argvlen);
    if (call->redis == NULL) {
        call->failure = "redis unavailable";
        return NGX_DECLINED;
    }

    bmcf = ngx_http_get_module_main_conf(r, ngx_http_bitcache_module);

    call->timer.handler = ngx_http_bitcache_call_timeout;
    call->timer.data = call;
    call->timer.log = r->connection->log;
    ngx_add_timer(&call->timer, bmcf->redis.timeout);

    return NGX_OK;
}


/* hiredis takes arrays of pointers and lengths */
static ngx_int_t
ngx_http_bitcache_argv(int argc, ngx_str_t *args, const char **argv,
    size_t *argvlen)
{
    int  i;

    if (argc > NGX_HTTP_BITCACHE_CALL_ARGS) {
        return NGX_ERROR;
    }

    for (i = 0; i < argc; i++) {
        argv[i] = (const char *) args[i].data;
        argvlen[i] = args[i].len;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_bitcache_callv(ngx_http_bitcache_call_t *call, ngx_http_request_t *r,
    ngx_http_bitcache_call_done_pt done, void *data, int argc, ngx_str_t *args)
{
    size_t       argvlen[NGX_HTTP_BITCACHE_CALL_ARGS];
    const char  *argv[NGX_HTTP_BITCACHE_CALL_ARGS];

    if (ngx_http_bitcache_argv(argc, args, argv, argvlen) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_bitcache_call(call, r, done, data, argc, argv, argvlen);
}


ngx_int_t
ngx_http_bitcache_queue(int argc, ngx_str_t *args)
{
    size_t       argvlen[NGX_HTTP_BITCACHE_CALL_ARGS];
    const char  *argv[NGX_HTTP_BITCACHE_CALL_ARGS];

    if (ngx_http_bitcache_argv(argc, args, argv, argvlen) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_bitcache_redis_command(NULL, NULL, argc, argv, argvlen)
           ? NGX_OK : NGX_ERROR;
}


ngx_int_t
ngx_http_bitcache_callm(ngx_http_bitcache_call_t *call, ngx_http_request_t *r,
    ngx_http_bitcache_call_done_pt done, void *data, ngx_uint_t n,
    const int *argcs, ngx_str_t *args)
{
    ngx_str_t   a;
    ngx_uint_t  i;

    ngx_str_set(&a, "MULTI");
    if (ngx_http_bitcache_queue(1, &a) != NGX_OK) {
        goto unavailable;
    }

    for (i = 0; i < n; i++) {
        if (ngx_http_bitcache_queue(argcs[i], args) != NGX_OK) {
            goto unavailable;
        }

        args += argcs[i];
    }

    ngx_str_set(&a, "EXEC");
    return ngx_http_bitcache_callv(call, r, done, data, 1, &a);

unavailable:

    call->failure = "redis unavailable";
    return NGX_DECLINED;
}


ngx_int_t
ngx_http_bitcache_key(ngx_http_request_t *r, ngx_str_t *key, const char *kind,
    const u_char *name, size_t len)
{
    u_char                         *p;
    size_t                          klen;
    ngx_http_bitcache_main_conf_t  *bmcf;

    bmcf = ngx_http_get_module_main_conf(r, ngx_http_bitcache_module);
    klen = ngx_strlen(kind);

    key->len = bmcf->redis.prefix.len + klen + len;
    key->data = ngx_pnalloc(r->pool, key->len);
    if (key->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(key->data, bmcf->redis.prefix.data, bmcf->redis.prefix.len);
    p = ngx_cpymem(p, kind, klen);
    ngx_memcpy(p, name, len);

    return NGX_OK;
}


void
ngx_http_bitcache_call_resume(ngx_http_request_t *r)
{
    ngx_connection_t  *c;

    c = r->connection;

    r->main->count--;
    r->write_event_handler = ngx_http_core_run_phases;
    ngx_http_core_run_phases(r);
    ngx_http_run_posted_requests(c);
}
