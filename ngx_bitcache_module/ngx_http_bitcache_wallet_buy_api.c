/*
 * POST <api>/wallet/buy (docs/wallet.md): offer= [key=] [again=1], a
 * purchase from the wallet's balance (ngx_http_bitcache_wallet.c), its
 * token delivered as a paid invoice's is (ngx_http_bitcache_token_mint.c).
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "api_request.h"
#include "wallet_topup.h"
#include "ngx_http_bitcache.h"
#include "ngx_http_bitcache_token_mint.h"
#include "ngx_http_bitcache_wallet.h"
#include "ngx_http_bitcache_wallet_buy_api.h"
#include "ngx_http_bitcache_wallet_reply.h"
#include "ngx_http_bitcache_wallet_request.h"


static void
ngx_http_bitcache_wapi_bought(ngx_http_request_t *r,
    ngx_http_bitcache_wallet_t *w)
{
    u_char                    *body, *p;
    ngx_str_t                 *path, url, product;
    ngx_http_bitcache_wapi_t  *ctx = w->data;

    if (w->outcome != NGX_HTTP_BITCACHE_WALLET_BOUGHT
        && w->outcome != NGX_HTTP_BITCACHE_WALLET_OWNED)
    {
        ngx_http_bitcache_wapi_refuse(r, ctx);
        return;
    }

    /* the token as a paid invoice delivers it (ngx_http_bitcache_status.c) */
    url.len = 0;
    path = ngx_http_bitcache_product_path(r, w->offer.product,
                                          w->offer.product_len);
    if (path != NULL) {
        if (ngx_http_bitcache_download_url(r, path, w->token_text, &url)
            != NGX_OK
            || ngx_http_bitcache_token_cookie(r, w->token_text,
                                              w->token.expires, path)
               != NGX_OK)
        {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
    }

    if (!ctx->json) {
        /* the download itself, its token in the cookie: the link with the
         * token stays out of the history and the logs */
        if (path == NULL) {
            path = ngx_http_bitcache_wapi_url(r, "/wallet");
        }
        if (path == NULL || ngx_http_bitcache_wapi_location(r, path) != NGX_OK)
        {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
        ngx_http_bitcache_send(r, NGX_HTTP_SEE_OTHER, "text/plain", NULL, 0);
        return;
    }

    product.data = (u_char *) w->offer.product;
    product.len = w->offer.product_len;

    body = ngx_pnalloc(r->pool, 256 + ngx_strlen(w->token_text)
                                + 6 * (url.len + product.len));
    if (body == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    p = ngx_sprintf(body, "{\"state\":\"%s\",\"token\":\"%s\","
                    "\"download_url\":\"",
                    w->outcome == NGX_HTTP_BITCACHE_WALLET_BOUGHT ? "bought"
                                                                  : "owned",
                    w->token_text);
    p = ngx_http_bitcache_escape_json(p, &url);
    p = ngx_sprintf(p, "\",\"product\":\"");
    p = ngx_http_bitcache_escape_json(p, &product);
    p = ngx_sprintf(p, "\",\"price_sats\":%uL,\"charged_sats\":%uL,"
                    "\"balance_sats\":%uL,\"expires\":%uL}\n",
                    w->offer.price,
                    w->outcome == NGX_HTTP_BITCACHE_WALLET_BOUGHT
                    ? w->offer.price : (uint64_t) 0,
                    w->state.balance, w->token.expires);

    ngx_http_bitcache_send(r, NGX_HTTP_OK, "application/json", body, p - body);
}


static void
ngx_http_bitcache_wapi_buy_loaded(ngx_http_request_t *r,
    ngx_http_bitcache_wallet_t *w)
{
    ngx_int_t                  rc;
    ngx_http_bitcache_wapi_t  *ctx = w->data;

    if (w->outcome != NGX_HTTP_BITCACHE_WALLET_LOADED) {
        ngx_http_bitcache_wapi_refuse(r, ctx);
        return;
    }

    rc = ngx_http_bitcache_wallet_buy(r, w, ngx_http_bitcache_wapi_bought, ctx);
    if (rc != NGX_OK) {
        ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", w->failure ? w->failure
                                    : "cannot compute the purchase", NULL);
    }
}


void
ngx_http_bitcache_wapi_buy(ngx_http_request_t *r, ngx_http_bitcache_wapi_t *ctx)
{
    const char                    *o;
    ngx_str_t                      offer, key, again, product;
    ngx_table_elt_t               *h;
    bc_offer_status                st;
    bc_keys                        cur;
    ngx_http_bitcache_wallet_t    *w = &ctx->w;
    ngx_http_bitcache_loc_conf_t  *blcf;

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bitcache_module);

    if (ctx->body.len == 0
        || !bc_body_offer((const char *) ctx->body.data, ctx->body.len, &o,
                          &offer.len))
    {
        ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_BAD_REQUEST, "bad_request",
                                    "no offer in the request body", NULL);
        return;
    }
    offer.data = (u_char *) o;

    /* the current secret's offers only (see ngx_http_bitcache_body_offer):
     * the purchase's token and ownership record take the offer's terms */
    cur = *blcf->keys;
    cur.old = NULL;
    st = bc_offer_decode(&w->offer, ctx->offer_buf, (const char *) offer.data,
                         offer.len, &cur, (uint64_t) ngx_time());
    if (st == BC_OFFER_BAD_MAC && blcf->keys->old != NULL) {
        ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_BAD_REQUEST, "bad_offer",
                                    "the page's offer was made under the "
                                    "secret being rotated out: reload the page",
                                    NULL);
        return;
    }
    if (st != BC_OFFER_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "bitcache: wallet %s: purchase refused: %s", w->widhex,
                      bc_offer_status_str(st));
        ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_BAD_REQUEST, "bad_offer",
                                    bc_offer_status_str(st), NULL);
        return;
    }

    if (bc_topup_reserved(w->offer.product, w->offer.product_len)) {
        /* "wallet:..." names top-ups: never a purchase */
        ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_BAD_REQUEST, "bad_offer",
                                    "this offer cannot be bought", NULL);
        return;
    }

    /* once per idempotency key: the header, else the form's key= */
    h = ngx_http_bitcache_header(r, "Idempotency-Key");
    if (h != NULL) {
        key = h->value;
    } else if (!ngx_http_bitcache_wapi_field(ctx, "key", &key)) {
        key.len = 0;
    }

    if (key.len && !bc_wallet_idem_ok((const char *) key.data, key.len)) {
        ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_BAD_REQUEST, "bad_key",
                                    "an idempotency key is 1 to 64 of "
                                    "A-Z a-z 0-9 _ -", NULL);
        return;
    }
    w->idem = key;

    w->again = ngx_http_bitcache_wapi_field(ctx, "again", &again)
               && again.len == 1 && again.data[0] == '1';

    product.data = (u_char *) w->offer.product;
    product.len = w->offer.product_len;

    if (ngx_http_bitcache_wallet_load(r, w, &product,
                                      ngx_http_bitcache_wapi_buy_loaded, ctx)
        != NGX_OK)
    {
        ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", "redis unavailable", NULL);
    }
}
