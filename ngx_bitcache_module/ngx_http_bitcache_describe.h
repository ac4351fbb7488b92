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


/*
 * What the API handler leaves for the file's location, in the request's
 * own pool (a cleanup no client can add, and that survives the internal
 * redirect, unlike the module's ctx): the products route's describe mark
 * and the key route's (ngx_http_bitcache_keys.c).
 */
typedef enum {
    NGX_HTTP_BITCACHE_MARK_DESCRIBE = 1,    /* <api>/products/<path> */
    NGX_HTTP_BITCACHE_MARK_KEY              /* <api>/keys/<product> */
} ngx_http_bitcache_route_mark_e;

typedef struct {
    ngx_http_bitcache_route_mark_e    mode;
    ngx_str_t                   origin;     /* for Access-Control-Allow-Origin;
                                               empty: no CORS headers (always
                                               for a key) */
    ngx_str_t                   path;       /* redirected to */
    ngx_str_t                   token;      /* a key's: empty if none */
} ngx_http_bitcache_route_mark_t;

/* A fresh mark (zeroed) in r's pool, or NULL. */
ngx_http_bitcache_route_mark_t *ngx_http_bitcache_route_mark_add(
    ngx_http_request_t *r);

/* The mark of r, if an API route redirected it here; else NULL. */
ngx_http_bitcache_route_mark_t *ngx_http_bitcache_route_mark_find(
    ngx_http_request_t *r);

/* For the products and key routes: the path after <api>/products or
 * <api>/keys (checked, copied into the pool) in a new mark of mode:
 * NGX_OK and *mark; NGX_DECLINED when it is no path nginx could serve, or
 * r was redirected back to the API (the caller answers 404); NGX_ERROR. */
ngx_int_t ngx_http_bitcache_route_mark_path(ngx_http_request_t *r,
    ngx_http_bitcache_loc_conf_t *blcf, ngx_http_bitcache_route_mark_e mode,
    ngx_http_bitcache_route_mark_t **mark);

/* 404 {"error":"not_for_sale","path"}: nothing is sold at uri, with the
 * CORS headers of origin (empty: none). Finalizes r. */
void ngx_http_bitcache_not_for_sale(ngx_http_request_t *r, ngx_str_t *origin,
    ngx_str_t *uri);

/* The API's route <api>/products/<path>: GET and HEAD redirect to the
 * file's location, OPTIONS is the CORS preflight. */
ngx_int_t ngx_http_bitcache_products(ngx_http_request_t *r,
    ngx_http_bitcache_loc_conf_t *blcf);

/* For the access handler, before anything else: NGX_DECLINED when r is
 * not a products or key redirect; NGX_OK when it is one to a location
 * that sells (bitcache on, not `internal`), *mark set: describe, or the
 * key mode; NGX_DONE when it was answered 404 not_for_sale. */
ngx_int_t ngx_http_bitcache_describe_check(ngx_http_request_t *r,
    ngx_http_bitcache_loc_conf_t *blcf, ngx_http_bitcache_route_mark_t **mark);

/* The rewrite phase's handler: NGX_DONE (answered 404 not_for_sale) for
 * a products or key redirect into an `internal` location, before its `return`
 * or `rewrite` could answer; else NGX_DECLINED. */
ngx_int_t ngx_http_bitcache_describe_rewrite(ngx_http_request_t *r);

/* Answers a describing ctx once the sale is known (catalog read): 200
 * with the product's JSON, or 404 not_for_sale. Finalizes r. */
void ngx_http_bitcache_describe(ngx_http_request_t *r,
    ngx_http_bitcache_loc_conf_t *blcf, ngx_http_bitcache_ctx_t *ctx);

/* The sale's description (what describe answers) as a JSON object left
 * open after its last member, in a buffer from r's pool with extra more
 * bytes for the caller's members and "}\n". NGX_DECLINED: it cannot be
 * offered (logged); NGX_ERROR: out of memory. */
ngx_int_t ngx_http_bitcache_describe_fields(ngx_http_request_t *r,
    ngx_http_bitcache_loc_conf_t *blcf, ngx_http_bitcache_ctx_t *ctx,
    size_t extra, u_char **start, u_char **end);

#endif /* _NGX_HTTP_BITCACHE_DESCRIBE_H_INCLUDED_ */
