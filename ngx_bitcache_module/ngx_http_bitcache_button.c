/*
 * GET/HEAD <api>/button.js: the pay button's script (button.js beside this
 * file, embedded at build time like the default page). Creators load it
 * from their own sites with <script src>, so it may be cached and read by
 * any origin; it carries nothing of the request.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "button_js.h"
#include "ngx_http_bitcache.h"
#include "ngx_http_bitcache_button.h"


ngx_int_t
ngx_http_bitcache_button_js(ngx_http_request_t *r)
{
    static ngx_str_t  cache = ngx_string("public, max-age=3600");
    static ngx_str_t  corp = ngx_string("cross-origin");

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    return ngx_http_bitcache_send_script(r, ngx_http_bitcache_button_src,
                                   sizeof(ngx_http_bitcache_button_src) - 1,
                                   &cache, &corp);
}
