/*
 * What the module decided for a request (ngx_http_bitcache_outcome.c).
 */

#ifndef _NGX_HTTP_BITCACHE_OUTCOME_H_INCLUDED_
#define _NGX_HTTP_BITCACHE_OUTCOME_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "token.h"
#include "ngx_http_bitcache_ctx.h"
#include "ngx_http_bitcache_metrics.h"


#define NGX_HTTP_BITCACHE_ID_HEX  (2 * BC_TOKEN_ID_LEN)


/* what a giveaway's claim leaves for the log line */
typedef struct {
    ngx_str_t   product;
    u_char      id[NGX_HTTP_BITCACHE_ID_HEX + 1];   /* bc_hex_encode's NUL */
} ngx_http_bitcache_note_t;


/* A free copy went out (POST <api>/free): counted, and noted for the
 * log (its product and token id; id is BC_TOKEN_ID_LEN bytes). */
void ngx_http_bitcache_note_free(ngx_http_request_t *r, const u_char *product,
    size_t len, const u_char *id);

/* r's note, or NULL */
ngx_http_bitcache_note_t *ngx_http_bitcache_note(ngx_http_request_t *r);

/* For $bitcache_status and the counters: what the module decided for r. */
ngx_http_bitcache_outcome_e ngx_http_bitcache_outcome(ngx_http_request_t *r);

/* postconfiguration: the log phase's counting */
ngx_int_t ngx_http_bitcache_outcome_init(ngx_conf_t *cf);

#endif /* _NGX_HTTP_BITCACHE_OUTCOME_H_INCLUDED_ */
