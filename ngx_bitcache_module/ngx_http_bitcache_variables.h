/*
 * The module's log variables ($bitcache_status, $bitcache_product,
 * $bitcache_token_id, $bitcache_invoice, $bitcache_bytes_left).
 */

#ifndef _NGX_HTTP_BITCACHE_VARIABLES_H_INCLUDED_
#define _NGX_HTTP_BITCACHE_VARIABLES_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* preconfiguration: the variables exist before log_format is read */
ngx_int_t ngx_http_bitcache_add_variables(ngx_conf_t *cf);

#endif /* _NGX_HTTP_BITCACHE_VARIABLES_H_INCLUDED_ */
