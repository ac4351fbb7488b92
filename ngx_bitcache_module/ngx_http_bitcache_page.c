/*
 * What is sold here, and the pages that sell it (see the header).
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/rand.h>

#include "amount.h"
#include "api_request.h"
#include "base64url.h"
#include "bip21.h"
#include "hex.h"
#include "invoice.h"
#include "network.h"
#include "wallet_topup.h"
#include "ngx_http_bitcache_page.h"
#include "ngx_http_bitcache_free_count.h"


static ngx_int_t ngx_http_bitcache_sale_suggested(ngx_http_request_t *r,
    ngx_http_bitcache_loc_conf_t *blcf, ngx_http_bitcache_sale_t *sale);


#define NGX_HTTP_BITCACHE_CSP                                                 \
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "          \
    "script-src 'nonce-%s'; connect-src 'self'; form-action 'self'; "         \
    "base-uri 'none'; frame-ancestors 'none'"


char *
ngx_http_bitcache_cstr(ngx_http_request_t *r, ngx_str_t *s)
{
    u_char  *p;

    p = ngx_pnalloc(r->pool, s->len + 1);
    if (p == NULL) {
        return NULL;
    }

    ngx_memcpy(p, s->data, s->len);
    p[s->len] = '\0';

    return (char *) p;
}


redisReply *
ngx_http_bitcache_hash_field(redisReply *reply, const char *name)
{
    size_t   i, len;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
        return NULL;
    }

    len = ngx_strlen(name);

    for (i = 0; i + 1 < reply->elements; i += 2) {
        if (reply->element[i]->type == REDIS_REPLY_STRING
            && (size_t) reply->element[i]->len == len
            && ngx_strncmp(reply->element[i]->str, name, len) == 0
            && reply->element[i + 1]->type == REDIS_REPLY_STRING)
        {
            return reply->element[i + 1];
        }
    }

    return NULL;
}


ngx_int_t
ngx_http_bitcache_sale_init(ngx_http_request_t *r,
    ngx_http_bitcache_loc_conf_t *blcf, ngx_str_t *product,
    ngx_http_bitcache_sale_t *sale)
{
    ngx_str_t    price;
    const char  *err;

    if (blcf->price == NULL || blcf->wallet == NULL || blcf->keys == NULL) {
        return NGX_DECLINED;
    }

    if (bc_topup_reserved((const char *) product->data, product->len)) {
        /* a file must never pose as a wallet's top-up */
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "bitcache: product \"%V\": \"" BC_WALLET_TOPUP_PREFIX
                      "\" is reserved for wallet top-ups, not for sale",
                      ngx_http_bitcache_log_str(r, product->data, product->len));
        return NGX_ERROR;
    }

    sale->product = *product;
    sale->title = *product;

    /* the giveaway (docs/creators.md); a version 3 catalog record decides
     * it instead (ngx_http_bitcache_catalog.c) */
    sale->free_total = (uint32_t) blcf->free_first;
    sale->free_window = (uint32_t) blcf->free_window;

    if (ngx_http_complex_value(r, blcf->wallet, &sale->wallet) != NGX_OK
        || ngx_http_complex_value(r, blcf->price, &price) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (!bc_parse_amount(&sale->price, (const char *) price.data, price.len,
                         &err))
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "bitcache: price \"%V\" of \"%V\" %s, not for sale",
                      ngx_http_bitcache_log_str(r, price.data, price.len),
                      ngx_http_bitcache_log_str(r, product->data, product->len),
                      err);
        return NGX_ERROR;
    }

    if (sale->wallet.len == 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "bitcache: no wallet for \"%V\", not for sale",
                      ngx_http_bitcache_log_str(r, product->data, product->len));
        return NGX_ERROR;
    }

    return ngx_http_bitcache_sale_suggested(r, blcf, sale);
}


/* bitcache_suggested_price (docs/creators.md): pay what you want above
 * the price. "0" or unset is none; a value that is no price, or not above
 * the price, is ignored (logged): the product still sells at its price. */
static ngx_int_t
ngx_http_bitcache_sale_suggested(ngx_http_request_t *r,
    ngx_http_bitcache_loc_conf_t *blcf, ngx_http_bitcache_sale_t *sale)
{
    uint64_t     sats;
    ngx_str_t    v;
    const char  *err;

    sale->suggested = 0;

    if (blcf->suggested_price == NULL) {
        return NGX_OK;
    }

    if (ngx_http_complex_value(r, blcf->suggested_price, &v) != NGX_OK) {
        return NGX_ERROR;
    }

    if (v.len == 0 || (v.len == 1 && v.data[0] == '0')) {
        return NGX_OK;
    }

    if (!bc_parse_amount(&sats, (const char *) v.data, v.len, &err)) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "bitcache: suggested price \"%V\" of \"%V\" %s, "
                      "ignored",
                      ngx_http_bitcache_log_str(r, v.data, v.len),
                      ngx_http_bitcache_log_str(r, sale->product.data,
                                                sale->product.len),
                      err);
        return NGX_OK;
    }

    if (sats < sale->price) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "bitcache: suggested price %uL of \"%V\" is below "
                      "its price %uL, ignored", sats,
                      ngx_http_bitcache_log_str(r, sale->product.data,
                                                sale->product.len),
                      sale->price);
        return NGX_OK;
    }

    /* equal to the price: nothing to suggest above it */
    sale->suggested = sats > sale->price ? sats : 0;

    return NGX_OK;
}


ngx_int_t
ngx_http_bitcache_sale_copy(ngx_http_request_t *r,
    ngx_http_bitcache_sale_t *sale)
{
    ngx_str_t  *s[2];
    u_char     *p;
    ngx_uint_t  i;

    s[0] = &sale->wallet;
    s[1] = &sale->title;

    for (i = 0; i < 2; i++) {
        p = ngx_pnalloc(r->pool, s[i]->len);
        if (p == NULL) {
            return NGX_ERROR;
        }
        ngx_memcpy(p, s[i]->data, s[i]->len);
        s[i]->data = p;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_bitcache_body_offer(ngx_http_request_t *r,
    ngx_http_bitcache_loc_conf_t *blcf, ngx_str_t *body, bc_offer *o,
    unsigned char *buf, const char **why)
{
    size_t           len;
    ngx_int_t        rc;
    bc_keys          cur;
    const char      *s;
    bc_offer_status  st;

    rc = ngx_http_bitcache_read_body(r, NGX_HTTP_BITCACHE_BODY_MAX, body);
    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc != NGX_OK || body->len == 0
        || !bc_body_offer((const char *) body->data, body->len, &s, &len))
    {
        *why = "no offer in the request body";
        return NGX_DECLINED;
    }

    /* only the current secret's offers make something: what is made from
     * an offer (an invoice, a free copy) is the current secret's and its
     * terms (product, price, token_ttl, max_downloads) are the offer's, so
     * an offer that only the secret being rotated out verifies would let
     * whoever holds that secret carry terms of their own past the drop */
    cur = *blcf->keys;
    cur.old = NULL;
    st = bc_offer_decode(o, buf, s, len, &cur, (uint64_t) ngx_time());
    if (st == BC_OFFER_BAD_MAC && blcf->keys->old != NULL) {
        *why = "the page's offer was made under the secret being rotated "
               "out: reload the page";
        return NGX_DECLINED;
    }
    if (st != BC_OFFER_OK) {
        *why = bc_offer_status_str(st);
        return NGX_DECLINED;
    }

    return NGX_OK;
}


void
ngx_http_bitcache_send_page(ngx_http_request_t *r,
    ngx_http_bitcache_loc_conf_t *blcf, ngx_uint_t status, bc_tvar *vars,
    size_t nvars)
{
    ngx_http_bitcache_send_template(r, blcf->page, status, vars, nvars);
}


void
ngx_http_bitcache_send_template(ngx_http_request_t *r, bc_template *page,
    ngx_uint_t status, bc_tvar *vars, size_t nvars)
{
    ngx_http_bitcache_send_template_csp(r, page, status, vars, nvars,
                                        NGX_HTTP_BITCACHE_CSP);
}


void
ngx_http_bitcache_send_template_csp(ngx_http_request_t *r, bc_template *page,
    ngx_uint_t status, bc_tvar *vars, size_t nvars, const char *policy)
{
    u_char          raw[16], *body;
    char            nonce[BC_B64URL_ENCODED_LEN(16) + 1];
    size_t          len;
    ngx_str_t       csp;

    /* a page opened from another site (the pay button's popup, any
     * window.open) is cut from its opener's browsing context group: that
     * site keeps no handle on it (cannot navigate it, by name either, nor
     * count its frames), and the page none on that site */
    static ngx_str_t  coop = ngx_string("same-origin");

    /* the page's own scripts run; nothing injected could */
    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }
    bc_b64url_encode(nonce, raw, sizeof(raw));

    vars[nvars].name = "nonce";
    vars[nvars].value = nonce;
    nvars++;

    csp.data = ngx_pnalloc(r->pool, ngx_strlen(policy) + sizeof(nonce));
    if (csp.data == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }
    csp.len = ngx_sprintf(csp.data, policy, nonce) - csp.data;

    len = bc_template_render(NULL, 0, page, vars, nvars);
    body = ngx_pnalloc(r->pool, len + 1);
    if (body == NULL
        || ngx_http_bitcache_add_header(r, "Content-Security-Policy", &csp)
           != NGX_OK
        || ngx_http_bitcache_add_header(r, "Cross-Origin-Opener-Policy", &coop)
           != NGX_OK)
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }
    (void) bc_template_render((char *) body, len + 1, page, vars, nvars);

    ngx_http_bitcache_send(r, status, "text/html; charset=utf-8", body, len);
}


void
ngx_http_bitcache_sale_offer(ngx_http_bitcache_loc_conf_t *blcf,
    ngx_http_bitcache_sale_t *sale, bc_offer *o)
{
    ngx_memzero(o, sizeof(bc_offer));
    o->issued = (uint64_t) ngx_time();
    o->price = sale->price;
    o->suggested = sale->suggested;
    o->confirmations = (uint8_t) blcf->confirmations;
    o->invoice_ttl = (uint32_t) blcf->invoice_ttl;
    o->token_ttl = (uint32_t) blcf->token_ttl;
    o->max_downloads = (uint32_t) blcf->max_downloads;
    o->network = (uint8_t) blcf->network;
    o->free_total = sale->free_total;
    o->free_window = sale->free_window;
    o->wallet = (const char *) sale->wallet.data;
    o->wallet_len = sale->wallet.len;
    o->product = (const char *) sale->product.data;
    o->product_len = sale->product.len;
    o->title = (const char *) sale->title.data;
    o->title_len = sale->title.len;
}


/* The 402 as JSON: the offer, and where a wallet buys it. */
static void
ngx_http_bitcache_offer_json(ngx_http_request_t *r,
    ngx_http_bitcache_loc_conf_t *blcf, ngx_http_bitcache_sale_t *sale,
    const char *reason, ngx_http_bitcache_wallet_view_t *wv,
    const char *offer, const char *sats, const char *btc,
    const char *network)
{
    u_char  *body, *p;
    size_t   n;

    n = 768 + 6 * (sale->product.len + sale->title.len)
        + 18 * blcf->api_url.len + 6 * (wv ? wv->frozen.len : 0)
        + ngx_strlen(offer) + ngx_strlen(reason)
        + NGX_HTTP_BITCACHE_FREE_JSON_LEN + 6 * blcf->api_url.len;
    body = ngx_pnalloc(r->pool, n);
    if (body == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    p = ngx_sprintf(body, "{\"status\":402,\"error\":\"payment_required\","
                    "\"reason\":\"%s\",\"product\":\"", reason);
    p = ngx_http_bitcache_escape_json(p, &sale->product);
    p = ngx_sprintf(p, "\",\"title\":\"");
    p = ngx_http_bitcache_escape_json(p, &sale->title);
    p = ngx_sprintf(p, "\",\"price_sats\":%s,\"price_btc\":\"%s\","
                    "\"network\":\"%s\",\"confirmations\":%i,"
                    "\"offer\":\"%s\",\"invoices_url\":\"",
                    sats, btc, network, blcf->confirmations, offer);
    p = ngx_http_bitcache_escape_json(p, &blcf->api_url);
    p = ngx_sprintf(p, "/invoices\",\"suggested_sats\":%uL,"
                    "\"max_sats\":%uL", sale->suggested,
                    bc_amount_max(sale->price, sale->suggested));

    if (blcf->wallets) {
        p = ngx_sprintf(p, ",\"wallet_url\":\"");
        p = ngx_http_bitcache_escape_json(p, &blcf->api_url);
        p = ngx_sprintf(p, "/wallet\",\"buy_url\":\"");
        p = ngx_http_bitcache_escape_json(p, &blcf->api_url);
        p = ngx_sprintf(p, "/wallet/buy\"");
    }

    if (wv) {
        p = ngx_sprintf(p, ",\"balance_sats\":%uL,\"owned\":%s,\"again\":%s",
                        wv->balance, wv->owned ? "true" : "false",
                        wv->again ? "true" : "false");
        if (wv->frozen.len) {
            p = ngx_sprintf(p, ",\"frozen\":\"");
            p = ngx_http_bitcache_escape_json(p, &wv->frozen);
            p = ngx_sprintf(p, "\"");
        }
    }

    p = ngx_http_bitcache_free_json(r, p, blcf, sale);

    p = ngx_sprintf(p, "}\n");

    ngx_http_bitcache_send(r, NGX_HTTP_PAYMENT_REQUIRED, "application/json",
                           body, p - body);
}


/* sats and BTC of v, from the pool; NGX_ERROR without memory */
static ngx_int_t
ngx_http_bitcache_sats_vars(ngx_http_request_t *r, uint64_t v,
    const char *sats_name, const char *btc_name, bc_tvar *vars, size_t *n)
{
    char  *sats, *btc;

    sats = ngx_pnalloc(r->pool, NGX_INT64_LEN + 1);
    btc = ngx_pnalloc(r->pool, BC_BTC_AMOUNT_MAX);
    if (sats == NULL || btc == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf((u_char *) sats, "%uL%Z", v);
    bc_format_btc(btc, v);

    vars[*n].name = sats_name; vars[(*n)++].value = sats;
    vars[*n].name = btc_name; vars[(*n)++].value = btc;

    return NGX_OK;
}


/*
 * What the buyer may choose (docs/creators.md): pay what you want (the
 * price, the suggested price, twice it, or a number) when there is a
 * suggested price, else a tip (none, 10 %, 25 %, 50 % of the price, at
 * least 1 sat, or a number). Only presets: the invoice checks the amount
 * against the offer's MAC'd price.
 */
static ngx_int_t
ngx_http_bitcache_amount_vars(ngx_http_request_t *r,
    ngx_http_bitcache_sale_t *sale, bc_tvar *vars, size_t *n)
{
    uint64_t  max, p;

    max = bc_amount_max(sale->price, sale->suggested);

    if (ngx_http_bitcache_sats_vars(r, max, "max_sats", "max_btc", vars, n)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (sale->suggested) {
        vars[*n].name = "pwyw"; vars[(*n)++].value = "1";

        return ngx_http_bitcache_sats_vars(r, sale->suggested,
                                           "suggested_sats", "suggested_btc",
                                           vars, n) == NGX_OK
               && ngx_http_bitcache_sats_vars(r, ngx_min(2 * sale->suggested,
                                                         max),
                                              "double_sats", "double_btc",
                                              vars, n) == NGX_OK
               ? NGX_OK : NGX_ERROR;
    }

    p = sale->price;

    if (ngx_http_bitcache_sats_vars(r, max - p, "tip_max_sats",
                                    "tip_max_btc", vars, n) != NGX_OK
        || ngx_http_bitcache_sats_vars(r, ngx_max(p / 10, 1), "tip10_sats",
                                       "tip10_btc", vars, n) != NGX_OK
        || ngx_http_bitcache_sats_vars(r, ngx_max(p / 4, 1), "tip25_sats",
                                       "tip25_btc", vars, n) != NGX_OK
        || ngx_http_bitcache_sats_vars(r, ngx_max(p / 2, 1), "tip50_sats",
                                       "tip50_btc", vars, n) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * The wallet's part of the page. The "Buy" form carries a fresh random
 * idempotency key: a double click, or a resent form, buys once; another
 * view of the page is another purchase.
 */
static ngx_int_t
ngx_http_bitcache_wallet_vars(ngx_http_request_t *r,
    ngx_http_bitcache_sale_t *sale, ngx_http_bitcache_wallet_view_t *wv,
    bc_tvar *vars, size_t *n)
{
    u_char      raw[16];
    char       *key, *bal, *btc;
    ngx_flag_t  can;

    vars[*n].name = "wallets"; vars[(*n)++].value = "1";

    if (wv == NULL) {
        return NGX_OK;
    }

    key = ngx_pnalloc(r->pool, BC_B64URL_ENCODED_LEN(16) + 1);
    bal = ngx_pnalloc(r->pool, NGX_INT64_LEN + 1);
    btc = ngx_pnalloc(r->pool, BC_BTC_AMOUNT_MAX);
    if (key == NULL || bal == NULL || btc == NULL
        || RAND_bytes(raw, sizeof(raw)) != 1)
    {
        return NGX_ERROR;
    }
    bc_b64url_encode(key, raw, sizeof(raw));
    ngx_sprintf((u_char *) bal, "%uL%Z", wv->balance);
    bc_format_btc(btc, wv->balance);

    /* owned and not used up: "Download again" costs nothing */
    can = (wv->owned && !wv->again) || wv->balance >= sale->price;

    vars[*n].name = "wallet"; vars[(*n)++].value = "1";
    vars[*n].name = "balance_sats"; vars[(*n)++].value = bal;
    vars[*n].name = "balance_btc"; vars[(*n)++].value = btc;
    vars[*n].name = "buy_key"; vars[(*n)++].value = key;
    vars[*n].name = "owned";
    vars[(*n)++].value = wv->owned && !wv->again ? "1" : "";
    vars[*n].name = "again"; vars[(*n)++].value = wv->again ? "1" : "";
    vars[*n].name = "frozen";
    vars[(*n)++].value = wv->frozen.len
                         ? ngx_http_bitcache_cstr(r, &wv->frozen) : "";
    vars[*n].name = "can_buy"; vars[(*n)++].value = can ? "1" : "";
    vars[*n].name = "low"; vars[(*n)++].value = can ? "" : "1";

    return NGX_OK;
}


void
ngx_http_bitcache_offer_page(ngx_http_request_t *r,
    ngx_http_bitcache_loc_conf_t *blcf, ngx_http_bitcache_sale_t *sale,
    const char *reason, ngx_http_bitcache_wallet_view_t *wv)
{
    char         sats[NGX_INT64_LEN + 1], btc[BC_BTC_AMOUNT_MAX];
    char         offer[BC_OFFER_MAX_CHARS + 1];
    size_t       n;
    bc_offer     o;
    bc_tvar      vars[48];
    const char  *network;

    ngx_http_bitcache_sale_offer(blcf, sale, &o);

    if (bc_offer_encode(offer, &o, blcf->keys) == 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "bitcache: \"%V\" cannot be offered: its product, title "
                      "or wallet is longer than %d bytes",
                      ngx_http_bitcache_log_str(r, sale->product.data,
                                                sale->product.len),
                      BC_OFFER_FIELD_MAX);
        ngx_http_bitcache_reply(r, NGX_HTTP_PAYMENT_REQUIRED, reason,
                                &sale->product);
        return;
    }

    ngx_sprintf((u_char *) sats, "%uL%Z", sale->price);
    bc_format_btc(btc, sale->price);
    network = bc_network_get((bc_network) blcf->network)->name;

    if (ngx_http_bitcache_wants_json(r)) {
        ngx_http_bitcache_offer_json(r, blcf, sale, reason, wv, offer, sats,
                                     btc, network);
        return;
    }

    n = 0;
    vars[n].name = "offer"; vars[n++].value = offer;
    vars[n].name = "title";
    vars[n++].value = ngx_http_bitcache_cstr(r, &sale->title);
    vars[n].name = "product";
    vars[n++].value = ngx_http_bitcache_cstr(r, &sale->product);
    vars[n].name = "price_btc"; vars[n++].value = btc;
    vars[n].name = "price_sats"; vars[n++].value = sats;
    vars[n].name = "network"; vars[n++].value = network;
    vars[n].name = "api";
    vars[n++].value = ngx_http_bitcache_cstr(r, &blcf->api_url);
    vars[n].name = "reason"; vars[n++].value = reason;

    if (ngx_http_bitcache_amount_vars(r, sale, vars, &n) != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (blcf->wallets
        && ngx_http_bitcache_wallet_vars(r, sale, wv, vars, &n) != NGX_OK)
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (ngx_http_bitcache_free_vars(r, sale, vars, &n) != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    /* send_page adds the nonce: one slot is left for it */
    ngx_http_bitcache_send_page(r, blcf, NGX_HTTP_PAYMENT_REQUIRED, vars, n);
}
