/*
 * The creators' directives that need more than a number
 * (docs/creators.md): bitcache_free_per_address, bitcache_cors_origins.
 */

#ifndef _NGX_HTTP_BITCACHE_CREATOR_CONF_H_INCLUDED_
#define _NGX_HTTP_BITCACHE_CREATOR_CONF_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* bitcache_free_per_address off | TIME; (1s .. 366d) */
char *ngx_http_bitcache_free_window(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* bitcache_cors_origins off | * | ORIGIN ...; */
char *ngx_http_bitcache_cors_origins(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* 1 if the request's Origin header is one bitcache_cors_origins lists
 * (any, for "*"), and *origin is it; 0 otherwise (no Origin, "null",
 * not listed, off). */
ngx_flag_t ngx_http_bitcache_cors_allowed(ngx_http_request_t *r,
    ngx_array_t *origins, ngx_str_t *origin);

#endif /* _NGX_HTTP_BITCACHE_CREATOR_CONF_H_INCLUDED_ */
