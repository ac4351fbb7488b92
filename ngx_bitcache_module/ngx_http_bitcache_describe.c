/*
 * The products route and the describe mode (see the header).
 *
 * The API location cannot know what a file's location sells (its price,
 * wallet, catalog record and giveaway are decided there, per request), so
 * it redirects internally to the file's path, and the access handler of
 * whatever location serves that path answers with the sale as JSON. It
 * believes that only because of a mark that the API handler put into the
 * request's own pool (a cleanup no client can add, and that survives the
 * redirect, unlike the module's ctx): a request that arrives with
 * ?bitcache_describe=1, or that some other internal redirect (index,
 * try_files, error_page) brings to a file, is an ordinary request.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "amount.h"
#include "api_request.h"
#include "bip21.h"
#include "invoice.h"
#include "network.h"
#include "ngx_http_bitcache_creator_conf.h"
#include "ngx_http_bitcache_describe.h"
#include "ngx_http_bitcache_free_count.h"


static void
ngx_http_bitcache_mark_cleanup(void *data)
{
    /* nothing to free: the cleanup only marks the request */
    (void) data;
}


ngx_http_bitcache_route_mark_t *
ngx_http_bitcache_route_mark_add(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t  *cln;

    cln = ngx_pool_cleanup_add(r->pool, sizeof(ngx_http_bitcache_route_mark_t));
    if (cln == NULL) {
        return NULL;
    }

    ngx_memzero(cln->data, sizeof(ngx_http_bitcache_route_mark_t));
    cln->handler = ngx_http_bitcache_mark_cleanup;

    return cln->data;
}


ngx_http_bitcache_route_mark_t *
ngx_http_bitcache_route_mark_find(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t  *cln;

    if (!r->internal) {
        return NULL;
    }

    for (cln = r->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_http_bitcache_mark_cleanup) {
            return cln->data;
        }
    }

    return NULL;
}


/* Vary: Origin always (the answer depends on it), and the allowed origin */
static ngx_int_t
ngx_http_bitcache_describe_cors(ngx_http_request_t *r, ngx_str_t *origin)
{
    static ngx_str_t  vary = ngx_string("Origin");

    if (ngx_http_bitcache_add_header(r, "Vary", &vary) != NGX_OK) {
        return NGX_ERROR;
    }

    if (origin->len == 0) {
        return NGX_OK;
    }

    return ngx_http_bitcache_add_header(r, "Access-Control-Allow-Origin",
                                        origin);
}


void
ngx_http_bitcache_not_for_sale(ngx_http_request_t *r, ngx_str_t *origin,
    ngx_str_t *uri)
{
    u_char  *body, *p;

    body = ngx_pnalloc(r->pool, 128 + 6 * uri->len);
    if (body == NULL
        || ngx_http_bitcache_describe_cors(r, origin) != NGX_OK)
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    p = ngx_sprintf(body, "{\"status\":404,\"error\":\"not_for_sale\","
                    "\"path\":\"");
    p = ngx_http_bitcache_escape_json(p, uri);
    p = ngx_sprintf(p, "\"}\n");

    ngx_http_bitcache_send(r, NGX_HTTP_NOT_FOUND, "application/json", body,
                           p - body);
}


/* OPTIONS <api>/products/...: 204 for a listed origin, else 403 with no
 * Access-Control-* header (the browser then refuses the request). */
static ngx_int_t
ngx_http_bitcache_preflight(ngx_http_request_t *r, ngx_flag_t allowed,
    ngx_str_t *origin)
{
    static ngx_str_t  methods = ngx_string("GET, HEAD");
    static ngx_str_t  headers = ngx_string("Accept");
    static ngx_str_t  max_age = ngx_string("600");
    static ngx_str_t  none = ngx_null_string;

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->main->count++;

    if (!allowed) {
        if (ngx_http_bitcache_describe_cors(r, &none) != NGX_OK) {
            r->main->count--;
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        ngx_http_bitcache_send(r, NGX_HTTP_FORBIDDEN, "text/plain",
                               (u_char *) "origin not allowed\n",
                               sizeof("origin not allowed\n") - 1);
        return NGX_DONE;
    }

    if (ngx_http_bitcache_describe_cors(r, origin) != NGX_OK
        || ngx_http_bitcache_add_header(r, "Access-Control-Allow-Methods",
                                        &methods) != NGX_OK
        || ngx_http_bitcache_add_header(r, "Access-Control-Allow-Headers",
                                        &headers) != NGX_OK
        || ngx_http_bitcache_add_header(r, "Access-Control-Max-Age",
                                        &max_age) != NGX_OK)
    {
        r->main->count--;
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_bitcache_send(r, NGX_HTTP_NO_CONTENT, "text/plain", NULL, 0);
    return NGX_DONE;
}


ngx_int_t
ngx_http_bitcache_route_mark_path(ngx_http_request_t *r,
    ngx_http_bitcache_loc_conf_t *blcf, ngx_http_bitcache_route_mark_e mode,
    ngx_http_bitcache_route_mark_t **found)
{
    int                        ok;
    size_t                     len;
    const char                *p;
    ngx_http_bitcache_route_mark_t  *mark;

    if (ngx_http_bitcache_route_mark_find(r) != NULL) {
        return NGX_DECLINED;            /* redirected back to the API */
    }

    if (mode == NGX_HTTP_BITCACHE_MARK_KEY) {
        ok = bc_api_keys_path((const char *) r->uri.data, r->uri.len,
                              (const char *) blcf->api_url.data,
                              blcf->api_url.len, &p, &len);
    } else {
        ok = bc_api_product_path((const char *) r->uri.data, r->uri.len,
                                 (const char *) blcf->api_url.data,
                                 blcf->api_url.len, &p, &len);
    }

    if (!ok) {
        return NGX_DECLINED;
    }

    mark = ngx_http_bitcache_route_mark_add(r);
    if (mark == NULL) {
        return NGX_ERROR;
    }

    mark->path.data = ngx_pnalloc(r->pool, len);
    if (mark->path.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(mark->path.data, p, len);
    mark->path.len = len;
    mark->mode = mode;

    *found = mark;
    return NGX_OK;
}


ngx_int_t
ngx_http_bitcache_products(ngx_http_request_t *r,
    ngx_http_bitcache_loc_conf_t *blcf)
{
    ngx_int_t                           rc;
    ngx_str_t                           origin, args;
    ngx_flag_t                          allowed;
    ngx_http_bitcache_route_mark_t           *mark;

    ngx_str_null(&origin);
    allowed = ngx_http_bitcache_cors_allowed(r, blcf->cors_origins, &origin);

    if (r->method == NGX_HTTP_OPTIONS) {
        return ngx_http_bitcache_preflight(r, allowed, &origin);
    }

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_bitcache_route_mark_path(r, blcf,
                                           NGX_HTTP_BITCACHE_MARK_DESCRIBE,
                                           &mark);
    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        /* not a path nginx could serve, or redirected back to the API */
        r->main->count++;
        ngx_http_bitcache_not_for_sale(r, &origin, &r->uri);
        return NGX_DONE;
    }

    mark->origin = origin;      /* in the request's header buffers */

    /* for the logs only: the mark decides */
    if (allowed) {
        ngx_str_set(&args, "bitcache_describe=cors");
    } else {
        ngx_str_set(&args, "bitcache_describe=1");
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "bitcache: describe \"%V\" (origin \"%V\")", &mark->path,
                   &origin);

    return ngx_http_internal_redirect(r, &mark->path, &args);
}


ngx_int_t
ngx_http_bitcache_describe_check(ngx_http_request_t *r,
    ngx_http_bitcache_loc_conf_t *blcf, ngx_http_bitcache_route_mark_t **found)
{
    ngx_http_core_loc_conf_t  *clcf;
    ngx_http_bitcache_route_mark_t  *mark;

    mark = ngx_http_bitcache_route_mark_find(r);
    *found = mark;
    if (mark == NULL) {
        return NGX_DECLINED;
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    /* an `internal` location is no client's to ask about, even though
     * the redirect made r internal */
    if (blcf->enable && !clcf->internal) {
        return NGX_OK;
    }

    /* the access phase does not finalize r after NGX_DONE: the answer
     * does, so no reference is taken */
    ngx_http_bitcache_not_for_sale(r, &mark->origin, &r->uri);

    return NGX_DONE;
}


/* The rewrite phase of every location, before its own rewrite handlers
 * (return, rewrite, if): a products redirect into an `internal` location
 * is answered 404 here, as it would be in the access phase, before any
 * `return` there could answer the outside client that the redirect made
 * internal. */
ngx_int_t
ngx_http_bitcache_describe_rewrite(ngx_http_request_t *r)
{
    ngx_http_core_loc_conf_t  *clcf;
    ngx_http_bitcache_route_mark_t  *mark;

    if (r != r->main) {
        return NGX_DECLINED;
    }

    mark = ngx_http_bitcache_route_mark_find(r);
    if (mark == NULL) {
        return NGX_DECLINED;
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (!clcf->internal) {
        return NGX_DECLINED;
    }

    /* as in the access phase: the answer finalizes r, no reference taken */
    ngx_http_bitcache_not_for_sale(r, &mark->origin, &r->uri);

    return NGX_DONE;
}


/* The file's URL path, escaped as a URI path in the pool. */
static ngx_int_t
ngx_http_bitcache_describe_url(ngx_http_request_t *r, ngx_str_t *url)
{
    uintptr_t  n;

    n = ngx_escape_uri(NULL, r->uri.data, r->uri.len, NGX_ESCAPE_URI);

    url->data = ngx_pnalloc(r->pool, r->uri.len + 2 * n);
    if (url->data == NULL) {
        return NGX_ERROR;
    }

    url->len = (u_char *) ngx_escape_uri(url->data, r->uri.data, r->uri.len,
                                         NGX_ESCAPE_URI)
               - url->data;

    return NGX_OK;
}


/* free_left: as the 402 page counts it (ngx_http_bitcache_free_count.c);
 * null if the count was not read */
static u_char *
ngx_http_bitcache_describe_free(ngx_http_request_t *r, u_char *p,
    ngx_http_bitcache_ctx_t *ctx)
{
    ngx_http_bitcache_sale_t  *sale = &ctx->sale;

    if (sale->free_total == 0) {
        return ngx_sprintf(p, ",\"free_total\":0,\"free_left\":0");
    }

    p = ngx_sprintf(p, ",\"free_total\":%uD,\"free_left\":", sale->free_total);

    if (!ctx->free_read) {
        return ngx_sprintf(p, "null");
    }

    return ngx_sprintf(p, "%uL", ngx_http_bitcache_free_left(r, sale));
}


ngx_int_t
ngx_http_bitcache_describe_fields(ngx_http_request_t *r,
    ngx_http_bitcache_loc_conf_t *blcf, ngx_http_bitcache_ctx_t *ctx,
    size_t extra, u_char **start, u_char **end)
{
    char                       offer[BC_OFFER_MAX_CHARS + 1];
    char                       btc[BC_BTC_AMOUNT_MAX];
    u_char                    *body, *p;
    size_t                     n;
    bc_offer                   o;
    ngx_str_t                  url;
    ngx_http_bitcache_sale_t  *sale;

    sale = &ctx->sale;

    ngx_http_bitcache_sale_offer(blcf, sale, &o);

    if (bc_offer_encode(offer, &o, blcf->keys) == 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "bitcache: \"%V\" cannot be offered: its product, title "
                      "or wallet is longer than %d bytes",
                      ngx_http_bitcache_log_str(r, sale->product.data,
                                                sale->product.len),
                      BC_OFFER_FIELD_MAX);
        return NGX_DECLINED;
    }

    if (ngx_http_bitcache_describe_url(r, &url) != NGX_OK) {
        return NGX_ERROR;
    }

    n = 512 + 6 * (sale->product.len + sale->title.len + url.len)
        + 12 * blcf->api_url.len + ngx_strlen(offer) + extra;

    body = ngx_pnalloc(r->pool, n);
    if (body == NULL) {
        return NGX_ERROR;
    }

    bc_format_btc(btc, sale->price);

    p = ngx_sprintf(body, "{\"product\":\"");
    p = ngx_http_bitcache_escape_json(p, &sale->product);
    p = ngx_sprintf(p, "\",\"title\":\"");
    p = ngx_http_bitcache_escape_json(p, &sale->title);
    p = ngx_sprintf(p, "\",\"url\":\"");
    p = ngx_http_bitcache_escape_json(p, &url);
    p = ngx_sprintf(p, "\",\"price_sats\":%uL,\"price_btc\":\"%s\","
                    "\"suggested_sats\":%uL", sale->price, btc,
                    sale->suggested);
    p = ngx_http_bitcache_describe_free(r, p, ctx);
    p = ngx_sprintf(p, ",\"network\":\"%s\",\"confirmations\":%i,"
                    "\"offer\":\"%s\",\"invoices_url\":\"",
                    bc_network_get((bc_network) blcf->network)->name,
                    blcf->confirmations, offer);
    p = ngx_http_bitcache_escape_json(p, &blcf->api_url);
    p = ngx_sprintf(p, "/invoices\"");

    if (sale->free_total) {
        p = ngx_sprintf(p, ",\"free_url\":\"");
        p = ngx_http_bitcache_escape_json(p, &blcf->api_url);
        p = ngx_sprintf(p, "/free\"");
    }

    *start = body;
    *end = p;

    return NGX_OK;
}


void
ngx_http_bitcache_describe(ngx_http_request_t *r,
    ngx_http_bitcache_loc_conf_t *blcf, ngx_http_bitcache_ctx_t *ctx)
{
    u_char                    *body, *p;
    ngx_int_t                  rc;
    ngx_str_t                 *origin, none;
    ngx_http_bitcache_route_mark_t  *mark;

    ngx_str_null(&none);
    mark = ngx_http_bitcache_route_mark_find(r);
    origin = mark ? &mark->origin : &none;
    ctx->describe_cors = origin->len != 0;

    rc = ctx->for_sale ? ngx_http_bitcache_describe_fields(r, blcf, ctx, 4,
                                                           &body, &p)
                       : NGX_DECLINED;

    if (rc == NGX_DECLINED) {
        ngx_http_bitcache_not_for_sale(r, origin, &r->uri);
        return;
    }

    if (rc != NGX_OK
        || ngx_http_bitcache_describe_cors(r, origin) != NGX_OK)
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    p = ngx_sprintf(p, "}\n");

    ngx_http_bitcache_send(r, NGX_HTTP_OK, "application/json", body, p - body);
}
