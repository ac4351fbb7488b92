/*
 * A minted token goes out: its cookie and its link. The same delivery for
 * a paid invoice (ngx_http_bitcache_status.c) and a wallet's purchase
 * (ngx_http_bitcache_wallet_buy_api.c, and the wallet page's history).
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "escape.h"
#include "ngx_http_bitcache.h"
#include "ngx_http_bitcache_token_mint.h"
#include "ngx_http_bitcache_metrics.h"


/* The product as a URL path (percent-encoded: no byte of it can end a
 * header or an attribute), or NULL when it is not a path. */
ngx_str_t *
ngx_http_bitcache_product_path(ngx_http_request_t *r, const char *product,
    size_t len)
{
    ngx_str_t  *path;

    if (len == 0 || product[0] != '/') {
        return NULL;
    }

    path = ngx_palloc(r->pool, sizeof(ngx_str_t));
    if (path == NULL) {
        return NULL;
    }

    path->data = ngx_pnalloc(r->pool, 3 * len);
    if (path->data == NULL) {
        return NULL;
    }

    path->len = bc_path_escape((char *) path->data,
                               (const unsigned char *) product, len);
    return path;
}


/* Set-Cookie: the token, scoped to the product's path when it is one. */
ngx_int_t
ngx_http_bitcache_token_cookie(ngx_http_request_t *r, const char *token,
    uint64_t expires, ngx_str_t *product_path)
{
    time_t     max_age;
    ngx_str_t  root = ngx_string("/");

    max_age = (time_t) (expires - (uint64_t) ngx_time());

    ngx_http_bitcache_count(NGX_HTTP_BITCACHE_M_TOKENS, 1);

    return ngx_http_bitcache_set_cookie(r, "bitcache_token", token,
                                        product_path ? product_path : &root,
                                        max_age);
}


/* <path>?bitcache_token=<token>: for curl, wget, download managers. */
ngx_int_t
ngx_http_bitcache_download_url(ngx_http_request_t *r, ngx_str_t *path,
    const char *token, ngx_str_t *url)
{
    url->data = ngx_pnalloc(r->pool, path->len + 32 + ngx_strlen(token));
    if (url->data == NULL) {
        return NGX_ERROR;
    }

    url->len = ngx_sprintf(url->data, "%V?bitcache_token=%s", path, token)
               - url->data;

    return NGX_OK;
}
