/*
 * GET <api>/button.js: the pay button's script for other websites
 * (docs/creators.md), embedded in the module.
 */

#ifndef _NGX_HTTP_BITCACHE_BUTTON_H_INCLUDED_
#define _NGX_HTTP_BITCACHE_BUTTON_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* GET/HEAD <api>/button.js (ngx_http_bitcache_button.c). */
ngx_int_t ngx_http_bitcache_button_js(ngx_http_request_t *r);

#endif /* _NGX_HTTP_BITCACHE_BUTTON_H_INCLUDED_ */
