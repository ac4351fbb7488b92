/*
 * The wallet's part of the access phase (ngx_http_bitcache_access_wallet.c):
 * a refused request for a file on sale and the buyer's wallet.
 */

#ifndef _NGX_HTTP_BITCACHE_ACCESS_WALLET_H_INCLUDED_
#define _NGX_HTTP_BITCACHE_ACCESS_WALLET_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_bitcache.h"
#include "ngx_http_bitcache_ctx.h"


/* The wallet's part of a refused request for a file on sale
 * (ngx_http_bitcache_access_wallet.c, bitcache_wallets on): loads the
 * wallet a request names, and with auto-buy buys the file and draws it.
 * Returns NGX_DECLINED: on to the 402 page (with
 * ngx_http_bitcache_wallet_view); NGX_DONE: parked, or answered; NGX_OK:
 * the file goes out; or an HTTP status. */
ngx_int_t ngx_http_bitcache_access_wallet(ngx_http_request_t *r,
    ngx_http_bitcache_ctx_t *ctx, ngx_http_bitcache_loc_conf_t *blcf);

/* What the 402 page shows of ctx's wallet; NULL: none loaded. */
ngx_http_bitcache_wallet_view_t *ngx_http_bitcache_wallet_view(
    ngx_http_request_t *r, ngx_http_bitcache_ctx_t *ctx,
    ngx_http_bitcache_loc_conf_t *blcf);

#endif /* _NGX_HTTP_BITCACHE_ACCESS_WALLET_H_INCLUDED_ */
