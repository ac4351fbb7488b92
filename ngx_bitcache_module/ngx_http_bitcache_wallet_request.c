/*
 * What a wallet route reads: a request header, a field of the body, and
 * the answer of its Redis command or script.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "api_request.h"
#include "ngx_http_bitcache.h"
#include "ngx_http_bitcache_call.h"
#include "ngx_http_bitcache_wallet.h"
#include "ngx_http_bitcache_wallet_reply.h"
#include "ngx_http_bitcache_wallet_request.h"


ngx_flag_t
ngx_http_bitcache_wapi_field(ngx_http_bitcache_wapi_t *ctx, const char *name,
    ngx_str_t *value)
{
    const char  *v;

    if (ctx->body.len == 0
        || !bc_body_field((const char *) ctx->body.data, ctx->body.len, name,
                          &v, &value->len))
    {
        return 0;
    }

    value->data = (u_char *) v;
    return 1;
}


static void
ngx_http_bitcache_wapi_answer(ngx_http_bitcache_call_t *call,
    redisReply *reply)
{
    ngx_http_request_t        *r = call->request;
    ngx_http_bitcache_wapi_t  *ctx = call->data;

    if (reply != NULL && reply->type == REDIS_REPLY_ERROR && ctx->script
        && !ctx->evaled && ngx_strncmp(reply->str, "NOSCRIPT", 8) == 0)
    {
        ctx->evaled = 1;
        ctx->argv[0] = "EVAL";
        ctx->argvlen[0] = 4;
        ctx->argv[1] = ctx->script;
        ctx->argvlen[1] = ngx_strlen(ctx->script);

        if (ngx_http_bitcache_wapi_run(r, ctx) != NGX_OK) {
            ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                        "unavailable", "redis unavailable",
                                        NULL);
        }
        return;
    }

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        if (reply != NULL) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "bitcache: wallet %s: redis: %V", ctx->w.widhex,
                          ngx_http_bitcache_log_str(r, reply->str,
                                                    reply->len));
        }
        ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable",
                                    reply ? "redis refused the command"
                                          : call->failure, NULL);
        return;
    }

    ctx->next(r, ctx, reply);
}


ngx_int_t
ngx_http_bitcache_wapi_run(ngx_http_request_t *r,
    ngx_http_bitcache_wapi_t *ctx)
{
    return ngx_http_bitcache_call(&ctx->call, r, ngx_http_bitcache_wapi_answer,
                                  ctx, ctx->argc, ctx->argv, ctx->argvlen);
}
