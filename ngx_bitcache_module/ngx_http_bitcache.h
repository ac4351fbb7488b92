/*
 * Bitcache: a bitcoin paywall in front of files that nginx serves.
 * Shared declarations of the module's parts.
 */

#ifndef _NGX_HTTP_BITCACHE_H_INCLUDED_
#define _NGX_HTTP_BITCACHE_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "secret.h"
#include "ngx_http_bitcache_redis.h"


#define NGX_HTTP_PAYMENT_REQUIRED  402
#define NGX_HTTP_BITCACHE_RETRY_AFTER  "2"


typedef struct {
    ngx_http_bitcache_redis_conf_t   redis;
} ngx_http_bitcache_main_conf_t;


typedef struct {
    ngx_flag_t                       enable;
    ngx_http_complex_value_t        *product;
    bc_keys                         *keys;
    time_t                           token_ttl;
    ngx_int_t                        max_downloads;
} ngx_http_bitcache_loc_conf_t;


extern ngx_module_t  ngx_http_bitcache_module;


ngx_int_t ngx_http_bitcache_access_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_bitcache_access_init(ngx_conf_t *cf);

/* Sends a complete short response (HTML, or JSON for Accept:
 * application/json) with Cache-Control: no-store and finalizes r. */
void ngx_http_bitcache_reply(ngx_http_request_t *r, ngx_uint_t status,
    const char *reason, ngx_str_t *product);

#endif /* _NGX_HTTP_BITCACHE_H_INCLUDED_ */
