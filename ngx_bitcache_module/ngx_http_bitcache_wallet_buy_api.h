/*
 * POST <api>/wallet/buy: a purchase from the wallet's balance.
 */

#ifndef _NGX_HTTP_BITCACHE_WALLET_BUY_API_H_INCLUDED_
#define _NGX_HTTP_BITCACHE_WALLET_BUY_API_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_bitcache_wallet_reply.h"


/* With the credential in ctx->w and the body in ctx->body: offer= [key=]
 * [again=1] bought, the token as a cookie and a link (a form's answer:
 * 303 to the download). Finalizes r. */
void ngx_http_bitcache_wapi_buy(ngx_http_request_t *r,
    ngx_http_bitcache_wapi_t *ctx);

#endif /* _NGX_HTTP_BITCACHE_WALLET_BUY_API_H_INCLUDED_ */
