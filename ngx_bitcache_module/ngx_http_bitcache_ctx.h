/*
 * The access phase's request context: what the access handler
 * (ngx_http_bitcache_access.c) decided and is waiting for, what the byte
 * accounting (ngx_http_bitcache_draw.c) drew, and what the 402 page, the
 * wallet's part, the giveaway's count, the products route's
 * description and the key route's answer read from it.
 */

#ifndef _NGX_HTTP_BITCACHE_CTX_H_INCLUDED_
#define _NGX_HTTP_BITCACHE_CTX_H_INCLUDED_

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


/* a key fetch's state (ngx_http_bitcache_keys.c) */
typedef struct ngx_http_bitcache_keyfetch_s  ngx_http_bitcache_keyfetch_t;


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
    off_t                             left;         /* allowance after it
                                                       ($bitcache_bytes_left) */
    u_char                            token_id[2 * BC_TOKEN_ID_LEN + 1];
                                                    /* hex and NUL, of a token
                                                       refused after its MAC
                                                       verified */
    ngx_uint_t                        parts;        /* ranges to send */
    ngx_http_bitcache_sale_t          sale;
    redisReply                       *catalog;      /* copy kept in the pool */
    ngx_http_bitcache_wallet_t       *wallet;       /* the buyer's, if sent */
    ngx_http_bitcache_wallet_step_e   wallet_step;
    uint64_t                          free_given;   /* free:<product>, read
                                                       for the page */
    ngx_http_bitcache_keyfetch_t     *keyfetch;     /* <api>/keys/...: the
                                                       key or JSON, never
                                                       the file */
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
    unsigned                          left_known:1;
    unsigned                          token_id_set:1;
} ngx_http_bitcache_ctx_t;


/* The access handler's ctx of r, or NULL (the API's handlers keep another
 * struct under the module: ngx_http_bitcache_access.c tells them apart). */
ngx_http_bitcache_ctx_t *ngx_http_bitcache_access_ctx(ngx_http_request_t *r);

#endif /* _NGX_HTTP_BITCACHE_CTX_H_INCLUDED_ */
