/*
 * The buyer's wallet at a refused request for a file on sale
 * (docs/wallet.md): the 402 page shows its balance and a "Buy" button,
 * and with `bitcache_wallet_autobuy on` a GET that carries
 * `Authorization: Bitcache <code>` buys the file and is served the file
 * at once, under the token the purchase minted, as if it had come with
 * it.
 *
 * The wallet is loaded (and bought from) by ngx_http_bitcache_wallet.c;
 * the request is parked meanwhile, as for the token's draw. A code that
 * opens no wallet gets 401 in a header, never a file; in a cookie (a
 * browser that forgot nothing but the wallet), the page without it.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "token_record.h"
#include "wallet_record.h"
#include "ngx_http_bitcache_access_wallet.h"
#include "ngx_http_bitcache_draw.h"


static ngx_int_t ngx_http_bitcache_wallet_begin(ngx_http_request_t *r,
    ngx_http_bitcache_ctx_t *ctx, ngx_http_bitcache_loc_conf_t *blcf);
static ngx_int_t ngx_http_bitcache_wallet_decide(ngx_http_request_t *r,
    ngx_http_bitcache_ctx_t *ctx, ngx_http_bitcache_loc_conf_t *blcf);
static void ngx_http_bitcache_wallet_loaded(ngx_http_request_t *r,
    ngx_http_bitcache_wallet_t *w);
static void ngx_http_bitcache_wallet_bought(ngx_http_request_t *r,
    ngx_http_bitcache_wallet_t *w);
static ngx_int_t ngx_http_bitcache_unauthorized(ngx_http_request_t *r,
    ngx_http_bitcache_ctx_t *ctx, const char *reason);


ngx_int_t
ngx_http_bitcache_access_wallet(ngx_http_request_t *r,
    ngx_http_bitcache_ctx_t *ctx, ngx_http_bitcache_loc_conf_t *blcf)
{
    ngx_int_t  rc;

    switch (ctx->wallet_step) {

    case NGX_HTTP_BITCACHE_WSTEP_NONE:
        ctx->wallet_step = NGX_HTTP_BITCACHE_WSTEP_DONE;

        rc = ngx_http_bitcache_wallet_begin(r, ctx, blcf);
        if (rc != NGX_OK) {
            return rc;
        }

        if (ctx->state == NGX_HTTP_BITCACHE_WAITING) {
            ctx->wallet_step = NGX_HTTP_BITCACHE_WSTEP_WAITING;
        }

        if (ngx_http_bitcache_draw_wait(r, ctx) == NGX_DONE) {
            return NGX_DONE;
        }

        return NGX_DECLINED;

    case NGX_HTTP_BITCACHE_WSTEP_WAITING:
        /* resumed by the load's or the purchase's answer */
        ctx->wallet_step = NGX_HTTP_BITCACHE_WSTEP_DONE;
        return ngx_http_bitcache_wallet_decide(r, ctx, blcf);

    default:
        /* an auto-buy's token was refused its bytes: the page says why */
        return NGX_DECLINED;
    }
}


/* Reads the request's credential and starts loading its wallet. NGX_OK
 * with ctx->state WAITING (the load runs), UNAVAILABLE, or unchanged (no
 * wallet: the plain page); NGX_DONE: answered 401. */
static ngx_int_t
ngx_http_bitcache_wallet_begin(ngx_http_request_t *r,
    ngx_http_bitcache_ctx_t *ctx, ngx_http_bitcache_loc_conf_t *blcf)
{
    char                         err[128];
    ngx_int_t                    rc;
    ngx_flag_t                   header;
    ngx_http_bitcache_wallet_t  *w;

    w = ngx_pcalloc(r->pool, sizeof(ngx_http_bitcache_wallet_t));
    if (w == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    header = 0;
    err[0] = '\0';

    rc = ngx_http_bitcache_wallet_credential(r, w, &header, err, sizeof(err));

    if (rc == NGX_DECLINED) {
        return NGX_OK;
    }

    if (rc == NGX_ABORT) {
        if (header) {
            return ngx_http_bitcache_unauthorized(r, ctx,
                                                  err[0] ? err
                                                  : "not a recovery code");
        }
        return NGX_OK;          /* a cookie that is no code: no wallet */
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->wallet = w;
    ctx->wallet_header = header ? 1 : 0;

    /* only a GET buys (never HEAD, never a prefetch by cookie), and never
     * over bytes a refused token holds until the request ends */
    ctx->autobuy = header && blcf->wallet_autobuy
                   && r->method == NGX_HTTP_GET && ctx->reserved == 0;

    /* and, where each URL is a product of its own (a product with
     * variables: $uri, the default), only a file that is there: a missing
     * file, a directory or a typo would be charged and answered 404, once
     * for every URL a script is handed. A constant product (a directory
     * sold as one) is the same purchase from any of its URLs. */
    if (ctx->autobuy && blcf->product->lengths != NULL) {
        rc = ngx_http_bitcache_file(r, ctx);

        if (rc == NGX_ERROR) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (rc == NGX_DECLINED) {
            ctx->autobuy = 0;
            ctx->reason = "no file at this address: nothing bought";
        }
    }

    rc = ngx_http_bitcache_wallet_load(r, w, &ctx->product,
                                       ngx_http_bitcache_wallet_loaded, ctx);

    if (rc == NGX_DECLINED) {
        ctx->state = NGX_HTTP_BITCACHE_UNAVAILABLE;
        ctx->reason = w->failure ? w->failure : "redis unavailable";
        return NGX_OK;
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "bitcache: loading wallet %s", w->widhex);

    ctx->state = NGX_HTTP_BITCACHE_WAITING;
    return NGX_OK;
}


static void
ngx_http_bitcache_wallet_loaded(ngx_http_request_t *r,
    ngx_http_bitcache_wallet_t *w)
{
    ngx_int_t                      rc;
    ngx_http_bitcache_ctx_t       *ctx = w->data;
    ngx_http_bitcache_loc_conf_t  *blcf;

    ctx->state = NGX_HTTP_BITCACHE_DENIED;

    if (w->outcome == NGX_HTTP_BITCACHE_WALLET_LOADED && ctx->autobuy) {
        blcf = ngx_http_get_module_loc_conf(r, ngx_http_bitcache_module);

        /* the location's own terms: never anything the client sent */
        ngx_http_bitcache_sale_offer(blcf, &ctx->sale, &w->offer);
        ngx_str_null(&w->idem);
        w->again = 0;
        w->autobuy = 1;

        rc = ngx_http_bitcache_wallet_buy(r, w, ngx_http_bitcache_wallet_bought,
                                          ctx);
        if (rc == NGX_OK) {
            return;             /* bought() resumes r */
        }

        ctx->state = NGX_HTTP_BITCACHE_UNAVAILABLE;
        ctx->reason = rc == NGX_DECLINED && w->failure ? w->failure
                                                         : "out of memory";
    }

    ngx_http_bitcache_call_resume(r);
}


static void
ngx_http_bitcache_wallet_bought(ngx_http_request_t *r,
    ngx_http_bitcache_wallet_t *w)
{
    ngx_http_bitcache_ctx_t  *ctx = w->data;

    ctx->state = NGX_HTTP_BITCACHE_DENIED;
    ngx_http_bitcache_call_resume(r);
}


/* What the wallet's answer makes of the request. */
static ngx_int_t
ngx_http_bitcache_wallet_decide(ngx_http_request_t *r,
    ngx_http_bitcache_ctx_t *ctx, ngx_http_bitcache_loc_conf_t *blcf)
{
    ngx_http_bitcache_wallet_t  *w = ctx->wallet;

    switch (w->outcome) {

    case NGX_HTTP_BITCACHE_WALLET_BOUGHT:
    case NGX_HTTP_BITCACHE_WALLET_OWNED:
        if (!ctx->autobuy) {
            return NGX_DECLINED;
        }

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "bitcache: wallet %s %s \"%V\" by auto-buy",
                      w->widhex,
                      w->outcome == NGX_HTTP_BITCACHE_WALLET_BOUGHT
                      ? "bought" : "owns",
                      ngx_http_bitcache_log_str(r, ctx->product.data,
                                                ctx->product.len));

        /* as if the request had come with the purchase's token */
        if (ngx_http_bitcache_draw_start(r, ctx, &w->token) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        /* NGX_OK when ALLOWED: nothing to draw */
        return ngx_http_bitcache_draw_wait(r, ctx);

    case NGX_HTTP_BITCACHE_WALLET_NONE:
        if (ctx->wallet_header) {
            return ngx_http_bitcache_unauthorized(r, ctx,
                                        "no wallet has this recovery code");
        }
        ctx->wallet = NULL;     /* a stale cookie: the page without it */
        return NGX_DECLINED;

    case NGX_HTTP_BITCACHE_WALLET_UNAVAILABLE:
    case NGX_HTTP_BITCACHE_WALLET_BUSY:
        ngx_http_bitcache_reply(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                w->failure ? w->failure
                                : ngx_http_bitcache_wallet_outcome_str(
                                      w->outcome),
                                &ctx->product);
        return NGX_DONE;

    case NGX_HTTP_BITCACHE_WALLET_INVALID:
        /* its records do not verify (logged): nothing of it is shown */
        if (ctx->autobuy) {
            ngx_http_bitcache_reply(r, NGX_HTTP_FORBIDDEN,
                                    ngx_http_bitcache_wallet_outcome_str(
                                        w->outcome),
                                    &ctx->product);
            return NGX_DONE;
        }
        ctx->wallet = NULL;
        return NGX_DECLINED;

    case NGX_HTTP_BITCACHE_WALLET_FROZEN:
        if (ctx->autobuy) {
            ngx_http_bitcache_reply(r, NGX_HTTP_FORBIDDEN,
                                    "wallet frozen", &ctx->product);
            return NGX_DONE;
        }
        return NGX_DECLINED;

    case NGX_HTTP_BITCACHE_WALLET_LOADED:
        return NGX_DECLINED;

    default:
        /* LOW, OVER_AUTO, NETWORK, KEY_REUSED: the 402 says which */
        ctx->reason = ngx_http_bitcache_wallet_outcome_str(w->outcome);
        return NGX_DECLINED;
    }
}


static ngx_int_t
ngx_http_bitcache_unauthorized(ngx_http_request_t *r,
    ngx_http_bitcache_ctx_t *ctx, const char *reason)
{
    ngx_str_t  scheme = ngx_string(BC_WALLET_AUTH_SCHEME);

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "bitcache: 401 for \"%V\": %s",
                  ngx_http_bitcache_log_str(r, ctx->product.data,
                                            ctx->product.len), reason);

    if (ngx_http_bitcache_add_header(r, "WWW-Authenticate", &scheme)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_bitcache_reply(r, NGX_HTTP_UNAUTHORIZED, reason, &ctx->product);
    return NGX_DONE;
}


ngx_http_bitcache_wallet_view_t *
ngx_http_bitcache_wallet_view(ngx_http_request_t *r,
    ngx_http_bitcache_ctx_t *ctx, ngx_http_bitcache_loc_conf_t *blcf)
{
    char                              err[64];
    bc_wallet_owned                   o;
    ngx_http_bitcache_wallet_t       *w = ctx->wallet;
    ngx_http_bitcache_wallet_view_t  *wv;

    if (w == NULL
        || w->outcome == NGX_HTTP_BITCACHE_WALLET_NONE
        || w->outcome == NGX_HTTP_BITCACHE_WALLET_INVALID
        || w->outcome == NGX_HTTP_BITCACHE_WALLET_UNAVAILABLE)
    {
        return NULL;
    }

    wv = ngx_pcalloc(r->pool, sizeof(ngx_http_bitcache_wallet_view_t));
    if (wv == NULL) {
        return NULL;
    }

    wv->balance = w->state.balance;
    wv->frozen = w->frozen;

    /* owned, and the purchase's token not expired: "Download again",
     * unless its bytes are what ran out ("Buy again") */
    if (w->owned.len
        && bc_wallet_owned_parse(&o, (const char *) w->owned.data,
                                 w->owned.len, w->wid,
                                 (const char *) ctx->product.data,
                                 ctx->product.len, blcf->keys, err,
                                 sizeof(err))
        && (o.expires == 0 || o.expires > (uint64_t) ngx_time()))
    {
        wv->owned = 1;
        wv->again = ctx->reason != NULL
                    && ngx_strcmp(ctx->reason,
                                  bc_record_status_str(BC_RECORD_USED_UP))
                       == 0;
    }

    return wv;
}
