/*
 * The `bitcache_api` content handler: the route of the request URI, and
 * the file that answers it.
 *
 *   POST <api>/invoices          an offer in, a new invoice out
 *                                (ngx_http_bitcache_invoice_create.c)
 *   GET  <api>/invoices/<id>     the invoice's state, and once paid the
 *                                token (ngx_http_bitcache_status.c)
 *   GET  <api>/products/<path>   what the file's location sells, as JSON
 *                                (ngx_http_bitcache_describe.c); OPTIONS:
 *                                the CORS preflight
 *   GET  <api>/button.js         the pay button (_button.c)
 *   GET  <api>/keys/<product>    a sealed file's key, for a token of its
 *                                product (ngx_http_bitcache_keys.c)
 *   GET  <api>/open, open.js, open-sw.js
 *                                the sealed files' opener page
 *                                (ngx_http_bitcache_opener.c)
 *   <api>/wallets, <api>/wallet/...
 *                                the wallet (ngx_http_bitcache_wallet_api.c)
 *   POST <api>/free              a free copy of a giveaway
 *                                (ngx_http_bitcache_free.c)
 *
 * <api> is the bitcache_api_url of this location (checked at start), never
 * a part of the request URI: every URL the API writes is built from it,
 * hex ids and escaped strings. Any other path is 404.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "api_request.h"
#include "hex.h"
#include "invoice.h"
#include "ngx_http_bitcache.h"
#include "ngx_http_bitcache_button.h"
#include "ngx_http_bitcache_describe.h"
#include "ngx_http_bitcache_invoice_create.h"
#include "ngx_http_bitcache_free.h"
#include "ngx_http_bitcache_keys.h"
#include "ngx_http_bitcache_opener.h"
#include "ngx_http_bitcache_status.h"
#include "ngx_http_bitcache_wallet.h"


ngx_int_t
ngx_http_bitcache_api_handler(ngx_http_request_t *r)
{
    u_char                         id[BC_INVOICE_ID_LEN];
    char                           idhex[2 * BC_INVOICE_ID_LEN + 1];
    bc_route                       route;
    ngx_http_bitcache_loc_conf_t  *blcf;

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bitcache_module);

    route = bc_api_route((const char *) r->uri.data, r->uri.len,
                         (const char *) blcf->api_url.data, blcf->api_url.len,
                         id);

    /* a token sent to any other path (a typo, or one that nginx's
     * normalising took out of <api>/keys/) stays out of the logs too;
     * the key route takes and hides its own */
    if (route != BC_ROUTE_KEYS && r->args.len) {
        ngx_str_t  token;

        if (ngx_http_bitcache_find_token(r, &token) == NGX_ERROR) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (route == BC_ROUTE_FREE) {
        return ngx_http_bitcache_free_post(r);
    }

    if (route == BC_ROUTE_NONE) {
        return NGX_HTTP_NOT_FOUND;
    }

    if (route == BC_ROUTE_PRODUCT) {
        return ngx_http_bitcache_products(r, blcf);
    }

    if (route == BC_ROUTE_BUTTON) {
        return ngx_http_bitcache_button_js(r);
    }

    if (route == BC_ROUTE_KEYS) {
        return ngx_http_bitcache_keys(r, blcf);
    }

    if (route == BC_ROUTE_OPEN || route == BC_ROUTE_OPEN_JS
        || route == BC_ROUTE_OPEN_SW)
    {
        return ngx_http_bitcache_opener(r, route);
    }

    if (route >= BC_ROUTE_WALLETS && route <= BC_ROUTE_WALLET_SETTINGS) {
        return ngx_http_bitcache_wallet_api(r, route);
    }

    /* free, products, button.js (docs/creators.md), keys and the opener
     * (docs/sealed.md): their handlers are called above this line; never
     * the wallet's (it would buy) */
    if (route != BC_ROUTE_CREATE && route != BC_ROUTE_STATUS) {
        return NGX_HTTP_NOT_FOUND;
    }

    if (route == BC_ROUTE_CREATE) {
        return ngx_http_bitcache_invoice_post(r);
    }

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    bc_hex_encode(idhex, id, BC_INVOICE_ID_LEN);

    return ngx_http_bitcache_status_start(r, &blcf->api_url, idhex,
                                          ngx_http_bitcache_wants_json(r));
}
