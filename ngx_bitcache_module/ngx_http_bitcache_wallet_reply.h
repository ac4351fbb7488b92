/*
 * A wallet route's request (ngx_http_bitcache_wallet_api.c and the files
 * it hands a route to), and how it answers: JSON for a script, the wallet
 * page's frame for a browser, a redirect after a form.
 */

#ifndef _NGX_HTTP_BITCACHE_WALLET_REPLY_H_INCLUDED_
#define _NGX_HTTP_BITCACHE_WALLET_REPLY_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "api_request.h"
#include "wallet_record.h"
#include "ngx_http_bitcache_call.h"
#include "ngx_http_bitcache_wallet.h"


#define NGX_HTTP_BITCACHE_WAPI_ARGS       24


typedef struct ngx_http_bitcache_wapi_s  ngx_http_bitcache_wapi_t;

typedef void (*ngx_http_bitcache_wapi_pt)(ngx_http_request_t *r,
    ngx_http_bitcache_wapi_t *ctx, redisReply *reply);

struct ngx_http_bitcache_wapi_s {
    ngx_http_bitcache_wallet_t   w;
    bc_route                     route;
    ngx_flag_t                   json;
    ngx_flag_t                   header;      /* Authorization: Bitcache */
    ngx_str_t                    body;
    unsigned char                offer_buf[BC_OFFER_MAX_BYTES];
    char                         code[BC_WALLET_CODE_CHARS + 1];  /* new */
    uint64_t                     max_auto;    /* settings */
    unsigned                     anchored:1;  /* the page's read goes on
                                                     to the state's head */
    uint64_t                     before;      /* history */
    uint64_t                     limit;

    /* a Redis command or script of this route (load and buy have w.call) */
    ngx_http_bitcache_call_t     call;
    ngx_http_bitcache_wapi_pt    next;
    const char                  *script;
    const char                  *argv[NGX_HTTP_BITCACHE_WAPI_ARGS];
    size_t                       argvlen[NGX_HTTP_BITCACHE_WAPI_ARGS];
    int                          argc;
    unsigned                     evaled:1;
    unsigned                     credited:1;  /* settled top-ups credited */
    bc_wallet_state              next_state;
    bc_wallet_state_argv         sa;
    ngx_uint_t                   tries;
};


/* <api><suffix>, from the location's bitcache_api_url (NULL: no memory). */
ngx_str_t *ngx_http_bitcache_wapi_url(ngx_http_request_t *r,
    const char *suffix);

/* The wallet page's frame with a reason, and part: "back" (a link to the
 * wallet page and the restore form) or "open" (the forms that open or
 * restore a wallet). Finalizes r. */
void ngx_http_bitcache_wapi_frame(ngx_http_request_t *r, ngx_uint_t status,
    const char *reason, const char *part);

/* A browser's error: the wallet page's frame with the reason, a link to
 * the wallet page and the restore form (also the top-ups'); finalizes r. */
void ngx_http_bitcache_wapi_message(ngx_http_request_t *r, ngx_uint_t status,
    const char *reason);

/* An error: JSON {"status","error","reason"} and extra members (already
 * JSON) when ctx asks for JSON, else the message above; 401 adds
 * WWW-Authenticate. Finalizes r. */
void ngx_http_bitcache_wapi_fail(ngx_http_request_t *r,
    ngx_http_bitcache_wapi_t *ctx, ngx_uint_t status, const char *error,
    const char *reason, ngx_str_t *extra);

/* Location: url. */
ngx_int_t ngx_http_bitcache_wapi_location(ngx_http_request_t *r,
    ngx_str_t *url);

/* 303 to <api>/wallet (a form's answer), or 200 with json. */
void ngx_http_bitcache_wapi_done(ngx_http_request_t *r,
    ngx_http_bitcache_wapi_t *ctx, u_char *json, size_t len);

/* ctx->w.outcome, a wallet outcome that is not a success, as an answer. */
void ngx_http_bitcache_wapi_refuse(ngx_http_request_t *r,
    ngx_http_bitcache_wapi_t *ctx);

#endif /* _NGX_HTTP_BITCACHE_WALLET_REPLY_H_INCLUDED_ */
