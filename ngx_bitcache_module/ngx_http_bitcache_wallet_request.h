/*
 * What a wallet route reads: a request header, a field of the body, and
 * the answer of its Redis command or script.
 */

#ifndef _NGX_HTTP_BITCACHE_WALLET_REQUEST_H_INCLUDED_
#define _NGX_HTTP_BITCACHE_WALLET_REQUEST_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_bitcache_wallet_reply.h"


/* 1 and value set if the body (ctx->body) has the field name. */
ngx_flag_t ngx_http_bitcache_wapi_field(ngx_http_bitcache_wapi_t *ctx,
    const char *name, ngx_str_t *value);

/* Runs ctx's script (EVALSHA, EVAL after NOSCRIPT) or command (argv,
 * argc); ctx->next gets the answer, a Redis error is answered. */
ngx_int_t ngx_http_bitcache_wapi_run(ngx_http_request_t *r,
    ngx_http_bitcache_wapi_t *ctx);

#endif /* _NGX_HTTP_BITCACHE_WALLET_REQUEST_H_INCLUDED_ */
