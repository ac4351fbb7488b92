/*
 * Downloads counted in bytes (docs/protocol.md, "What a request draws"):
 * what a response will carry, drawn from the token's record before it is
 * sent, given back when it was not.
 */

#ifndef _NGX_HTTP_BITCACHE_DRAW_H_INCLUDED_
#define _NGX_HTTP_BITCACHE_DRAW_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "token.h"
#include "ngx_http_bitcache_ctx.h"


/* The regular file the static handler will send for r (its size and
 * counter fields into ctx): NGX_OK, NGX_DECLINED when there is none
 * (missing, a directory, forbidden, a URI ending in '/'), NGX_ERROR. */
ngx_int_t ngx_http_bitcache_file(ngx_http_request_t *r,
    ngx_http_bitcache_ctx_t *ctx);

/* Draws what the response to r will carry from the file's allowance under
 * token t (one HINCRBY; the script when it cannot decide), and sets
 * ctx->state: WAITING (the reply resumes r), ALLOWED (no regular file
 * there: nothing to draw), UNAVAILABLE. NGX_ERROR: out of memory. */
ngx_int_t ngx_http_bitcache_draw_start(ngx_http_request_t *r,
    ngx_http_bitcache_ctx_t *ctx, bc_token *t);

/* The pool cleanup of the access ctx: gives back what was drawn and not
 * sent. It also marks the ctx as the access handler's. */
void ngx_http_bitcache_draw_cleanup(void *data);

/* After a step that may have sent a Redis command (a draw, the catalog,
 * the wallet's load or purchase): NGX_DONE when r now waits for the
 * answer (held until it resumes r) or was answered 503 (UNAVAILABLE);
 * NGX_OK for any other ctx->state. */
ngx_int_t ngx_http_bitcache_draw_wait(ngx_http_request_t *r,
    ngx_http_bitcache_ctx_t *ctx);

/* Computes the scripts' SHA1 for EVALSHA, once. */
ngx_int_t ngx_http_bitcache_draw_init(void);

#endif /* _NGX_HTTP_BITCACHE_DRAW_H_INCLUDED_ */
