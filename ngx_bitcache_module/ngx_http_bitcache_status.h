/*
 * GET <api>/invoices/<id>: state, and the token once paid and verified.
 */

#ifndef _NGX_HTTP_BITCACHE_STATUS_H_INCLUDED_
#define _NGX_HTTP_BITCACHE_STATUS_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* Starts the lookup of invoice idhex (32 hex digits); base is the API's
 * URI. Returns NGX_DONE (the answer follows), or an HTTP status. */
ngx_int_t ngx_http_bitcache_status_start(ngx_http_request_t *r,
    ngx_str_t *base, const char *idhex, ngx_flag_t json);

#endif /* _NGX_HTTP_BITCACHE_STATUS_H_INCLUDED_ */
