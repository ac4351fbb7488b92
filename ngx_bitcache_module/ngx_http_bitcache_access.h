/*
 * The access phase's request context, shared by the access handler and
 * filters (ngx_http_bitcache_access.c) and the byte accounting
 * (ngx_http_bitcache_draw.c: what a response will carry, drawn from the
 * token's record before it is sent, given back when it was not).
 */

#ifndef _NGX_HTTP_BITCACHE_ACCESS_H_INCLUDED_
#define _NGX_HTTP_BITCACHE_ACCESS_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "token.h"
#include "ngx_http_bitcache.h"
#include "ngx_http_bitcache_call.h"
#include "ngx_http_bitcache_page.h"
#include "ngx_http_bitcache_wallet.h"


typedef enum {
    NGX_HTTP_BITCACHE_WAITING = 1,
    NGX_HTTP_BITCACHE_ALLOWED,
    NGX_HTTP_BITCACHE_DENIED,
    NGX_HTTP_BITCACHE_UNAVAILABLE
} ngx_http_bitcache_state_e;


typedef enum {
    NGX_HTTP_BITCACHE_WSTEP_NONE = 0,
    NGX_HTTP_BITCACHE_WSTEP_WAITING,    /* load, then buy: Redis answers */
    NGX_HTTP_BITCACHE_WSTEP_DONE        /* decided: the page shows it */
} ngx_http_bitcache_wallet_step_e;


typedef struct {
    ngx_http_request_t               *request;
    ngx_http_bitcache_state_e         state;
    const char                       *reason;
    ngx_str_t                         product;
    ngx_http_bitcache_call_t          call;
    ngx_str_t                         key;          /* <prefix>tok:<id hex> */
    ngx_str_t                         field;        /* b:<uri> */
    ngx_str_t                         cut_field;    /* c:<uri> */
    off_t                             size;         /* of the file */
    time_t                            mtime;
    off_t                             draw;         /* bytes to send */
    off_t                             start;        /* of a one-part body */
    off_t                             allowance;    /* 0: unlimited */
    off_t                             credit;       /* sent again, undrawn */
    off_t                             added;        /* by the HINCRBY */
    off_t                             reserved;     /* drawn in Redis */
    ngx_uint_t                        parts;        /* ranges to send */
    ngx_http_bitcache_sale_t          sale;
    redisReply                       *catalog;      /* copy kept in the pool */
    ngx_http_bitcache_wallet_t       *wallet;       /* the buyer's, if sent */
    ngx_http_bitcache_wallet_step_e   wallet_step;
    uint64_t                          free_given;   /* free:<product>, read
                                                       for the page */
    unsigned                          script:1;     /* HINCRBY undecided */
    unsigned                          describe:1;   /* <api>/products/...:
                                                       JSON, no token */
    unsigned                          describe_cors:1; /* ... for a listed
                                                       Origin */
    unsigned                          free_read:1;  /* free_given is set */
    unsigned                          evaled:1;     /* after NOSCRIPT */
    unsigned                          unlimited:1;
    unsigned                          body:1;       /* 200/206 with a body */
    unsigned                          charge_all:1;
    unsigned                          cut:1;
    unsigned                          for_sale:1;
    unsigned                          catalog_done:1;
    unsigned                          wallet_header:1;  /* Authorization */
    unsigned                          autobuy:1;    /* a GET that buys */
} ngx_http_bitcache_ctx_t;


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

/* The wallet's part of a refused request for a file on sale
 * (ngx_http_bitcache_access_wallet.c, bitcache_wallets on): loads the
 * wallet a request names, and with auto-buy buys the file and draws it.
 * Returns NGX_DECLINED: on to the 402 page (with
 * ngx_http_bitcache_wallet_view); NGX_DONE: parked, or answered; NGX_OK:
 * the file goes out; or an HTTP status. */
ngx_int_t ngx_http_bitcache_access_wallet(ngx_http_request_t *r,
    ngx_http_bitcache_ctx_t *ctx, ngx_http_bitcache_loc_conf_t *blcf);

/* What the 402 page shows of ctx's wallet; NULL: none loaded. */
ngx_http_bitcache_wallet_view_t *ngx_http_bitcache_wallet_view(
    ngx_http_request_t *r, ngx_http_bitcache_ctx_t *ctx,
    ngx_http_bitcache_loc_conf_t *blcf);

/* Computes the scripts' SHA1 for EVALSHA, once. */
ngx_int_t ngx_http_bitcache_draw_init(void);

#endif /* _NGX_HTTP_BITCACHE_ACCESS_H_INCLUDED_ */
