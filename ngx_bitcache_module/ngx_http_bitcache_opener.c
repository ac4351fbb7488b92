/*
 * <api>/open, open.js, open-sw.js (see the header). Being built: 404
 * until then.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_bitcache_opener.h"


ngx_int_t
ngx_http_bitcache_opener(ngx_http_request_t *r, bc_route route)
{
    (void) route;
    (void) r;

    return NGX_HTTP_NOT_FOUND;
}
