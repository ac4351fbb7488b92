/*
 * How a wallet route answers (docs/wallet.md): JSON for a script, the
 * wallet page's frame for a browser; a redirect after a form; a wallet
 * outcome that is not a success as its error. Shared by the wallet's
 * routes and the top-ups'.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_bitcache.h"
#include "ngx_http_bitcache_page.h"
#include "ngx_http_bitcache_wallet.h"
#include "ngx_http_bitcache_wallet_reply.h"


ngx_str_t *
ngx_http_bitcache_wapi_url(ngx_http_request_t *r, const char *suffix)
{
    ngx_str_t                     *u;
    ngx_http_bitcache_loc_conf_t  *blcf;

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bitcache_module);

    u = ngx_palloc(r->pool, sizeof(ngx_str_t));
    if (u == NULL) {
        return NULL;
    }

    u->len = blcf->api_url.len + ngx_strlen(suffix);
    u->data = ngx_pnalloc(r->pool, u->len);
    if (u->data == NULL) {
        return NULL;
    }

    ngx_sprintf(u->data, "%V%s", &blcf->api_url, suffix);

    return u;
}


/* The wallet page's frame with a reason, and part ("back": a link to the
 * wallet page and the restore form; "open": the forms that open or
 * restore a wallet). */
void
ngx_http_bitcache_wapi_frame(ngx_http_request_t *r, ngx_uint_t status,
    const char *reason, const char *part)
{
    size_t                          n;
    ngx_str_t                      *api;
    bc_tvar                         vars[5];
    ngx_http_bitcache_main_conf_t  *bmcf;

    bmcf = ngx_http_get_module_main_conf(r, ngx_http_bitcache_module);
    api = ngx_http_bitcache_wapi_url(r, "");
    if (api == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    n = 0;
    vars[n].name = "api"; vars[n++].value = ngx_http_bitcache_cstr(r, api);
    vars[n].name = "message"; vars[n++].value = reason;
    vars[n].name = "message_class"; vars[n++].value = "bad";
    vars[n].name = part; vars[n++].value = "1";

    ngx_http_bitcache_send_template(r, bmcf->wallet_page, status, vars, n);
}


/* An error for a browser: the wallet page's frame with the reason, a link
 * to the wallet page and the restore form (also the top-ups'). */
void
ngx_http_bitcache_wapi_message(ngx_http_request_t *r, ngx_uint_t status,
    const char *reason)
{
    ngx_http_bitcache_wapi_frame(r, status, reason, "back");
}


/* An error: JSON {"status","error","reason"} and extra members (already
 * JSON), or the short HTML page. */
void
ngx_http_bitcache_wapi_fail(ngx_http_request_t *r,
    ngx_http_bitcache_wapi_t *ctx, ngx_uint_t status, const char *error, const char *reason, ngx_str_t *extra)
{
    static ngx_str_t  scheme = ngx_string("Bitcache realm=\"wallet\"");

    if (status == NGX_HTTP_UNAUTHORIZED
        && ngx_http_bitcache_add_header(r, "WWW-Authenticate", &scheme)
           != NGX_OK)
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (ctx == NULL || !ctx->json) {
        ngx_http_bitcache_wapi_message(r, status, reason);
        return;
    }

    ngx_http_bitcache_send_error(r, status, error, reason, extra);
}


ngx_int_t
ngx_http_bitcache_wapi_location(ngx_http_request_t *r, ngx_str_t *url)
{
    r->headers_out.location = ngx_list_push(&r->headers_out.headers);
    if (r->headers_out.location == NULL) {
        return NGX_ERROR;
    }

    r->headers_out.location->hash = 1;
    ngx_str_set(&r->headers_out.location->key, "Location");
    r->headers_out.location->value = *url;

    return NGX_OK;
}


/* 303 to <api>/wallet (a form's answer), or 200 with json. */
void
ngx_http_bitcache_wapi_done(ngx_http_request_t *r,
    ngx_http_bitcache_wapi_t *ctx, u_char *json, size_t len)
{
    ngx_str_t  *url;

    if (ctx->json) {
        ngx_http_bitcache_send(r, NGX_HTTP_OK, "application/json", json, len);
        return;
    }

    url = ngx_http_bitcache_wapi_url(r, "/wallet");
    if (url == NULL || ngx_http_bitcache_wapi_location(r, url) != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_bitcache_send(r, NGX_HTTP_SEE_OTHER, "text/plain", NULL, 0);
}


/* A wallet outcome that is not a success, as an answer. */
void
ngx_http_bitcache_wapi_refuse(ngx_http_request_t *r,
    ngx_http_bitcache_wapi_t *ctx)
{
    u_char                        *p;
    ngx_str_t                      extra, *topup, *page;
    ngx_http_bitcache_wallet_t    *w = &ctx->w;
    ngx_http_bitcache_wallet_outcome_e  o = w->outcome;

    switch (o) {

    case NGX_HTTP_BITCACHE_WALLET_LOW:
        topup = ngx_http_bitcache_wapi_url(r, "/wallet/topups");
        page = ngx_http_bitcache_wapi_url(r, "/wallet");
        if (topup == NULL || page == NULL) {
            break;
        }
        extra.data = ngx_pnalloc(r->pool, 128 + 6 * (topup->len + page->len));
        if (extra.data == NULL) {
            break;
        }
        p = ngx_sprintf(extra.data, "\"balance_sats\":%uL,\"price_sats\":%uL,"
                        "\"topup_url\":\"", w->state.balance, w->offer.price);
        p = ngx_http_bitcache_escape_json(p, topup);
        p = ngx_sprintf(p, "\",\"wallet_url\":\"");
        p = ngx_http_bitcache_escape_json(p, page);
        p = ngx_sprintf(p, "\"");
        extra.len = p - extra.data;
        ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_PAYMENT_REQUIRED,
                                    "balance_too_low",
                                    ctx->json ? "balance too low"
                                    : "Balance too low for this file: top "
                                      "up on your wallet page.", &extra);
        return;

    case NGX_HTTP_BITCACHE_WALLET_FROZEN:
        extra.data = ngx_pnalloc(r->pool, 32 + 6 * w->frozen.len);
        if (extra.data == NULL) {
            break;
        }
        p = ngx_sprintf(extra.data, "\"frozen\":\"");
        p = ngx_http_bitcache_escape_json(p, &w->frozen);
        p = ngx_sprintf(p, "\"");
        extra.len = p - extra.data;
        ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_FORBIDDEN, "frozen",
                                    "wallet frozen: an operator must look at "
                                    "it", &extra);
        return;

    case NGX_HTTP_BITCACHE_WALLET_NONE:
        ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_UNAUTHORIZED,
                                    "unknown_wallet",
                                    ngx_http_bitcache_wallet_outcome_str(o),
                                    NULL);
        return;

    case NGX_HTTP_BITCACHE_WALLET_INVALID:
        ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_CONFLICT,
                                    "invalid_wallet",
                                    ngx_http_bitcache_wallet_outcome_str(o),
                                    NULL);
        return;

    case NGX_HTTP_BITCACHE_WALLET_KEY_REUSED:
        ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_CONFLICT, "key_reused",
                                    ngx_http_bitcache_wallet_outcome_str(o),
                                    NULL);
        return;

    case NGX_HTTP_BITCACHE_WALLET_NETWORK:
    case NGX_HTTP_BITCACHE_WALLET_OVER_AUTO:
        ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_BAD_REQUEST,
                                    "refused",
                                    ngx_http_bitcache_wallet_outcome_str(o),
                                    NULL);
        return;

    case NGX_HTTP_BITCACHE_WALLET_BUSY:
        ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "busy",
                                    ngx_http_bitcache_wallet_outcome_str(o),
                                    NULL);
        return;

    default:
        ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable",
                                    w->failure ? w->failure
                                               : "redis unavailable", NULL);
        return;
    }

    ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
}
