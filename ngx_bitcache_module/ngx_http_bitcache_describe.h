/*
 * GET/HEAD <api>/products/<path> (docs/creators.md): the API location
 * redirects internally to the file's own location, whose access handler
 * describes what is sold there as JSON instead of answering 402: no token
 * looked at, nothing drawn, the file never sent. And GET <api>/button.js.
 */

#ifndef _NGX_HTTP_BITCACHE_DESCRIBE_H_INCLUDED_
#define _NGX_HTTP_BITCACHE_DESCRIBE_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_bitcache.h"
#include "ngx_http_bitcache_ctx.h"


/* The API's route <api>/products/<path>: GET and HEAD redirect to the
 * file's location, OPTIONS is the CORS preflight. */
ngx_int_t ngx_http_bitcache_products(ngx_http_request_t *r,
    ngx_http_bitcache_loc_conf_t *blcf);

/* For the access handler, before anything else: NGX_DECLINED when r is
 * not a products redirect; NGX_OK when it is one to a location that sells
 * (bitcache on, not `internal`): describe, look at no token; NGX_DONE
 * when it was answered 404 not_for_sale. */
ngx_int_t ngx_http_bitcache_describe_check(ngx_http_request_t *r,
    ngx_http_bitcache_loc_conf_t *blcf);

/* The rewrite phase's handler: NGX_DONE (answered 404 not_for_sale) for
 * a products redirect into an `internal` location, before its `return`
 * or `rewrite` could answer; else NGX_DECLINED. */
ngx_int_t ngx_http_bitcache_describe_rewrite(ngx_http_request_t *r);

/* Answers a describing ctx once the sale is known (catalog read): 200
 * with the product's JSON, or 404 not_for_sale. Finalizes r. */
void ngx_http_bitcache_describe(ngx_http_request_t *r,
    ngx_http_bitcache_loc_conf_t *blcf, ngx_http_bitcache_ctx_t *ctx);

#endif /* _NGX_HTTP_BITCACHE_DESCRIBE_H_INCLUDED_ */
