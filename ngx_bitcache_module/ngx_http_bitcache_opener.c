/*
 * The sealed files' opener (docs/sealed.md, "In the browser"): GET/HEAD
 * <api>/open, the page (open_default.html, compiled at configuration time
 * like the wallet page), and its two scripts <api>/open.js and
 * <api>/open-sw.js, embedded at build time like button.js. Everything the
 * opener does happens in the page; the module only serves it.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "open_js.h"
#include "open_sw_js.h"
#include "ngx_http_bitcache.h"
#include "ngx_http_bitcache_opener.h"
#include "ngx_http_bitcache_page.h"


/* The payment page's CSP and what the opener needs on top: its service
 * worker, and the hidden frame through which that worker's stream is
 * saved (both of this origin only); the script is external but carries
 * the nonce, so nothing else runs. */
#define NGX_HTTP_BITCACHE_OPENER_CSP                                          \
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "          \
    "script-src 'nonce-%s'; connect-src 'self'; worker-src 'self'; "          \
    "frame-src 'self'; form-action 'self'; base-uri 'none'; "                 \
    "frame-ancestors 'none'"


/* One of the scripts: same origin only (the page and the worker are
 * this host's; no other site has a use for them) and revalidated, so that
 * a new build's worker replaces the old one. */
static ngx_int_t
ngx_http_bitcache_opener_script(ngx_http_request_t *r, const char *src,
    size_t len)
{
    static ngx_str_t  cache = ngx_string("no-cache");
    static ngx_str_t  corp = ngx_string("same-origin");

    return ngx_http_bitcache_send_script(r, src, len, &cache, &corp);
}


/* The page: the API's path (the script and the page's requests), and a
 * nonce with the CSP. */
static ngx_int_t
ngx_http_bitcache_opener_page(ngx_http_request_t *r)
{
    bc_tvar                         vars[2];
    ngx_http_bitcache_loc_conf_t   *blcf;
    ngx_http_bitcache_main_conf_t  *bmcf;

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bitcache_module);
    bmcf = ngx_http_get_module_main_conf(r, ngx_http_bitcache_module);

    vars[0].name = "api";
    vars[0].value = ngx_http_bitcache_cstr(r, &blcf->api_url);
    if (vars[0].value == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* finalizes the request itself; one more count keeps it ours until
     * the handler's return finalizes it again */
    r->main->count++;
    ngx_http_bitcache_send_template_csp(r, bmcf->open_page, NGX_HTTP_OK,
                                        vars, 1,
                                        NGX_HTTP_BITCACHE_OPENER_CSP);
    return NGX_DONE;
}


ngx_int_t
ngx_http_bitcache_opener(ngx_http_request_t *r, bc_route route)
{
    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    switch (route) {

    case BC_ROUTE_OPEN_JS:
        return ngx_http_bitcache_opener_script(r, ngx_http_bitcache_open_js,
                                         sizeof(ngx_http_bitcache_open_js) - 1);

    case BC_ROUTE_OPEN_SW:
        return ngx_http_bitcache_opener_script(r, ngx_http_bitcache_open_sw_js,
                                      sizeof(ngx_http_bitcache_open_sw_js) - 1);

    default:
        return ngx_http_bitcache_opener_page(r);
    }
}
