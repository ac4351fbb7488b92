/*
 * The module's log variables ($bitcache_status, $bitcache_product,
 * $bitcache_token_id, $bitcache_invoice, $bitcache_bytes_left) and what
 * they read: the access handler's ctx, the API's route, and a note that
 * the giveaway's claim leaves (its ctx is the API's own).
 */

#ifndef _NGX_HTTP_BITCACHE_VARIABLES_H_INCLUDED_
#define _NGX_HTTP_BITCACHE_VARIABLES_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_bitcache_ctx.h"


/* preconfiguration: the variables exist before log_format is read */
ngx_int_t ngx_http_bitcache_add_variables(ngx_conf_t *cf);

/* A free copy went out (POST <api>/free): counted, and noted for the
 * log (its product and token id; id is BC_TOKEN_ID_LEN bytes). */
void ngx_http_bitcache_note_free(ngx_http_request_t *r, const u_char *product,
    size_t len, const u_char *id);

/* The access handler's ctx of r, or NULL (see _access.c). */
ngx_http_bitcache_ctx_t *ngx_http_bitcache_access_ctx(ngx_http_request_t *r);

#endif /* _NGX_HTTP_BITCACHE_VARIABLES_H_INCLUDED_ */
