/*
 * GET <api>/wallet (HTML or JSON) and GET <api>/wallet/history (JSON):
 * the wallet's state and its ledger, shown.
 */

#ifndef _NGX_HTTP_BITCACHE_WALLET_PAGE_H_INCLUDED_
#define _NGX_HTTP_BITCACHE_WALLET_PAGE_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_bitcache_wallet.h"
#include "ngx_http_bitcache_wallet_reply.h"


/* ?before=<seq>&limit=<n> of GET <api>/wallet/history into ctx: NGX_OK
 * or NGX_ERROR (not numbers). */
ngx_int_t ngx_http_bitcache_wapi_history_args(ngx_http_request_t *r,
    ngx_http_bitcache_wapi_t *ctx);

/* The wallet loaded (w->data is the route's ctx): the page, the history,
 * or (ctx->route BC_ROUTE_WALLETS) the page of a wallet just opened,
 * with its code once. Finalizes r. */
void ngx_http_bitcache_wapi_loaded(ngx_http_request_t *r,
    ngx_http_bitcache_wallet_t *w);

/* The page of a browser without a wallet (open one, or restore), or a
 * 401 in JSON. Finalizes r. */
void ngx_http_bitcache_wapi_no_wallet(ngx_http_request_t *r,
    ngx_http_bitcache_wapi_t *ctx, const char *message);

#endif /* _NGX_HTTP_BITCACHE_WALLET_PAGE_H_INCLUDED_ */
