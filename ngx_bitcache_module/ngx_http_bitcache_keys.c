/*
 * GET <api>/keys/<product> (see the header). Being built: 404 until then.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_bitcache_keys.h"


ngx_int_t
ngx_http_bitcache_keys(ngx_http_request_t *r,
    ngx_http_bitcache_loc_conf_t *blcf)
{
    (void) blcf;
    (void) r;

    return NGX_HTTP_NOT_FOUND;
}
