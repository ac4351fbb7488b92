/*
 * A minted token goes out: its cookie and its link.
 */

#ifndef _NGX_HTTP_BITCACHE_TOKEN_MINT_H_INCLUDED_
#define _NGX_HTTP_BITCACHE_TOKEN_MINT_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* The token's delivery, shared with the wallet's purchases: the product
 * as a percent-encoded URL path (NULL when it is not a path); the
 * bitcache_token cookie scoped to it (or /) until expires; and the
 * download link <path>?bitcache_token=<token>. */
ngx_str_t *ngx_http_bitcache_product_path(ngx_http_request_t *r,
    const char *product, size_t len);
ngx_int_t ngx_http_bitcache_token_cookie(ngx_http_request_t *r,
    const char *token, uint64_t expires, ngx_str_t *product_path);
ngx_int_t ngx_http_bitcache_download_url(ngx_http_request_t *r,
    ngx_str_t *path, const char *token, ngx_str_t *url);

#endif /* _NGX_HTTP_BITCACHE_TOKEN_MINT_H_INCLUDED_ */
