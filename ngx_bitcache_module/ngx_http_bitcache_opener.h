/*
 * The sealed files' opener (docs/sealed.md, "In the browser"): GET
 * <api>/open, a page where a buyer drops a sealed copy (mirrored anywhere),
 * pays through the API and decrypts it in the page with WebCrypto; its
 * script <api>/open.js and service worker <api>/open-sw.js (the download
 * written as a stream), embedded at build time like button.js.
 */

#ifndef _NGX_HTTP_BITCACHE_OPENER_H_INCLUDED_
#define _NGX_HTTP_BITCACHE_OPENER_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "api_request.h"
#include "ngx_http_bitcache.h"


/* route: BC_ROUTE_OPEN, BC_ROUTE_OPEN_JS or BC_ROUTE_OPEN_SW */
ngx_int_t ngx_http_bitcache_opener(ngx_http_request_t *r, bc_route route);

#endif /* _NGX_HTTP_BITCACHE_OPENER_H_INCLUDED_ */
