/*
 * Access phase: a request for a file in a `bitcache on` location goes on to
 * the static handler only with a valid, paid token that has the bytes the
 * response will carry left.
 *
 * The token's MAC, expiry and product are checked locally first, so
 * garbage never costs a Redis round trip. Then the file's size and the
 * Range header say how many bytes the response will carry, and one atomic
 * HINCRBY on the worker's Redis connection draws them from the file's
 * counter, whose answer says allowed or revoked; only when it cannot
 * decide does a script (docs/protocol.md). While Redis answers the request
 * is parked (NGX_DONE, r->main->count held); the reply or a timer resumes
 * the phases. When the request ends, what was drawn and not sent is given
 * back.
 *
 * A description asked by the API (<api>/products/<path>, redirected here)
 * goes the same way up to the sale, without a token, and is answered with
 * JSON instead of the 402 (ngx_http_bitcache_describe.c). A key asked by
 * the API (<api>/keys/<product>) is released here for a token of this
 * location's product, or answered with the sale as a 402 JSON
 * (ngx_http_bitcache_keys.c): the file is never sent nor drawn from.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "hex.h"
#include "token.h"
#include "token_record.h"
#include "ngx_http_bitcache_access_wallet.h"
#include "ngx_http_bitcache_draw.h"
#include "ngx_http_bitcache_catalog.h"
#include "ngx_http_bitcache_describe.h"
#include "ngx_http_bitcache_free_count.h"
#include "ngx_http_bitcache_keys.h"




static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


static ngx_int_t
ngx_http_bitcache_check(ngx_http_request_t *r, ngx_http_bitcache_ctx_t *ctx,
    ngx_str_t *token, ngx_http_bitcache_loc_conf_t *blcf)
{
    unsigned char                   buf[BC_TOKEN_MAX_BYTES];
    bc_token                        t;
    bc_token_status                 st;

    st = bc_token_verify(&t, buf, (const char *) token->data, token->len,
                         blcf->keys, (uint64_t) ngx_time(),
                         ctx->product.data, ctx->product.len);

    if (st != BC_TOKEN_OK) {
        ctx->state = NGX_HTTP_BITCACHE_DENIED;
        ctx->reason = bc_token_status_str(st);

        if (st == BC_TOKEN_EXPIRED || st == BC_TOKEN_WRONG_PRODUCT) {
            /* its MAC verified: the id is the token's ($bitcache_token_id) */
            bc_hex_encode((char *) ctx->token_id, t.id, BC_TOKEN_ID_LEN);
            ctx->token_id_set = 1;
        }

        return NGX_OK;
    }

    return ngx_http_bitcache_draw_start(r, ctx, &t);
}


/*
 * The module's ctx of r if the access handler made it. The API's handlers
 * keep another struct under the same module: the cleanup that only the
 * access handler adds tells the two apart without reading either.
 */
ngx_http_bitcache_ctx_t *
ngx_http_bitcache_access_ctx(ngx_http_request_t *r)
{
    void                *ctx;
    ngx_pool_cleanup_t  *cln;

    ctx = ngx_http_get_module_ctx(r, ngx_http_bitcache_module);
    if (ctx == NULL) {
        return NULL;
    }

    for (cln = r->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_http_bitcache_draw_cleanup
            && cln->data == ctx)
        {
            return ctx;
        }
    }

    return NULL;
}


static void
ngx_http_bitcache_catalog_done(ngx_http_bitcache_call_t *call,
    redisReply *reply)
{
    ngx_http_bitcache_ctx_t       *ctx = call->data;
    ngx_http_bitcache_loc_conf_t  *blcf;

    ctx->catalog_done = 1;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
        ctx->state = NGX_HTTP_BITCACHE_UNAVAILABLE;
        ctx->reason = reply ? "redis error" : call->failure;

    } else {
        /* the reply is freed after this callback: apply it now, copying */
        blcf = ngx_http_get_module_loc_conf(ctx->request,
                                            ngx_http_bitcache_module);
        if (ngx_http_bitcache_sale_catalog(ctx->request, blcf, &ctx->sale,
                                           reply)
            != NGX_OK)
        {
            /* never the directives' price instead: it may be lower */
            ctx->state = NGX_HTTP_BITCACHE_UNAVAILABLE;
            ctx->reason = "catalog record rolled back";

        } else if (ngx_http_bitcache_sale_copy(ctx->request, &ctx->sale)
                   != NGX_OK)
        {
            ctx->state = NGX_HTTP_BITCACHE_UNAVAILABLE;
            ctx->reason = "out of memory";
        } else {
            ctx->state = NGX_HTTP_BITCACHE_DENIED;
        }
    }

    ngx_http_bitcache_call_resume(ctx->request);
}


/* No access: look up the creator's catalog record, then offer the file. */
static ngx_int_t
ngx_http_bitcache_start_sale(ngx_http_request_t *r,
    ngx_http_bitcache_ctx_t *ctx, ngx_http_bitcache_loc_conf_t *blcf)
{
    ngx_int_t  rc;
    ngx_str_t  args[2];

    rc = ngx_http_bitcache_sale_init(r, blcf, &ctx->product, &ctx->sale);
    if (rc != NGX_OK) {
        return rc;      /* NGX_DECLINED: a plain 402 */
    }

    ctx->for_sale = 1;

    ngx_str_set(&args[0], "HGETALL");
    if (ngx_http_bitcache_key(r, &args[1], "prod:", ctx->product.data,
                              ctx->product.len)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    rc = ngx_http_bitcache_callv(&ctx->call, r, ngx_http_bitcache_catalog_done,
                                 ctx, 2, args);
    if (rc == NGX_DECLINED) {
        ctx->state = NGX_HTTP_BITCACHE_UNAVAILABLE;
        ctx->reason = ctx->call.failure;
        return NGX_OK;
    }
    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    ctx->state = NGX_HTTP_BITCACHE_WAITING;
    return NGX_OK;
}


/* ngx_http_bitcache_draw_wait, but a key request's 503 is JSON */
static ngx_int_t
ngx_http_bitcache_access_wait(ngx_http_request_t *r,
    ngx_http_bitcache_ctx_t *ctx)
{
    if (ctx->keyfetch != NULL
        && ctx->state == NGX_HTTP_BITCACHE_UNAVAILABLE)
    {
        ngx_http_bitcache_keys_answer(r, ctx);
        return NGX_DONE;
    }

    return ngx_http_bitcache_draw_wait(r, ctx);
}


ngx_int_t
ngx_http_bitcache_access_handler(ngx_http_request_t *r)
{
    ngx_int_t                      rc, describe;
    ngx_str_t                      token;
    ngx_pool_cleanup_t            *cln;
    ngx_http_bitcache_ctx_t       *ctx;
    ngx_http_bitcache_route_mark_t      *mark;
    ngx_http_bitcache_loc_conf_t  *blcf;

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bitcache_module);

    if (r != r->main) {
        return NGX_DECLINED;
    }

    /* <api>/products/...: describe the sale (ngx_http_bitcache_describe.c);
     * <api>/keys/...: the key (ngx_http_bitcache_keys.c) */
    describe = ngx_http_bitcache_describe_check(r, blcf, &mark);

    if (describe == NGX_DONE) {
        return NGX_DONE;        /* not for sale there: answered */
    }

    if (!blcf->enable) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_bitcache_access_ctx(r);

    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_bitcache_ctx_t));
        if (ctx == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ctx->request = r;
        ngx_http_set_ctx(r, ctx, ngx_http_bitcache_module);

        /* gives back what is drawn and not sent; also marks the ctx as
         * the access handler's (ngx_http_bitcache_access_ctx) */
        cln = ngx_pool_cleanup_add(r->pool, 0);
        if (cln == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        cln->handler = ngx_http_bitcache_draw_cleanup;
        cln->data = ctx;

        if (ngx_http_complex_value(r, blcf->product, &ctx->product) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        /* describing: no token is looked at, nothing drawn */
        ctx->describe = describe == NGX_OK
                        && mark->mode == NGX_HTTP_BITCACHE_MARK_DESCRIBE;

        if (describe == NGX_OK && mark->mode == NGX_HTTP_BITCACHE_MARK_KEY) {
            /* the key: the mark's token, the key fetch; no file drawn */
            rc = ngx_http_bitcache_keys_start(r, ctx, blcf, mark);
            if (rc == NGX_DONE) {
                return NGX_DONE;        /* not for sale there: answered */
            }
            if (rc != NGX_OK) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

        } else {
            rc = ctx->describe ? NGX_DECLINED
                               : ngx_http_bitcache_find_token(r, &token);

            if (rc == NGX_ERROR) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;

            } else if (rc == NGX_DECLINED) {
                ctx->state = NGX_HTTP_BITCACHE_DENIED;
                ctx->reason = "no token";

            } else if (ngx_http_bitcache_check(r, ctx, &token, blcf)
                       != NGX_OK)
            {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }
        }

        if (ctx->state == NGX_HTTP_BITCACHE_WAITING) {
            r->main->count++;
            r->write_event_handler = ngx_http_request_empty_handler;
            return NGX_DONE;
        }
    }

    switch (ctx->state) {

    case NGX_HTTP_BITCACHE_ALLOWED:
        if (ctx->keyfetch != NULL) {
            /* the key, in the content phase: the location's other access
             * checks (auth_basic, deny) run first, as before the file */
            r->content_handler = ngx_http_bitcache_keys_content;
        }
        return NGX_OK;

    case NGX_HTTP_BITCACHE_WAITING:
        return NGX_AGAIN;

    case NGX_HTTP_BITCACHE_UNAVAILABLE:
        (void) ngx_http_bitcache_access_wait(r, ctx);     /* answers 503 */
        return NGX_DONE;

    default: /* NGX_HTTP_BITCACHE_DENIED */
        break;
    }

    /* a key refused: no key record (404) or an invalid one (409) is
     * answered before any sale, so that nobody pays for it */
    if (ctx->keyfetch != NULL
        && ngx_http_bitcache_keys_refused(r, ctx) == NGX_DONE)
    {
        return NGX_DONE;
    }

    if (!ctx->catalog_done && !ctx->for_sale) {
        rc = ngx_http_bitcache_start_sale(r, ctx, blcf);

        if (rc == NGX_ERROR) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (ngx_http_bitcache_access_wait(r, ctx) == NGX_DONE) {
            return NGX_DONE;
        }
    }

    /* a giveaway only for a file that is there: each URI is a product of
     * its own, and a claim for one that names no file would leave its
     * free: counter (and its exhausted mark) behind for anyone */
    if (ctx->for_sale && ctx->sale.free_total && !ctx->free_read) {
        rc = ngx_http_bitcache_free_file(r, ctx);

        if (rc == NGX_ERROR) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (rc == 0) {
            ctx->sale.free_total = 0;
        }
    }

    /* the giveaway's count, for the page's "N of M free copies left" */
    if (ctx->for_sale && ctx->sale.free_total && !ctx->free_read) {
        if (ngx_http_bitcache_free_read(r, ctx) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (ngx_http_bitcache_access_wait(r, ctx) == NGX_DONE) {
            return NGX_DONE;
        }
    }

    if (ctx->describe) {
        ngx_http_bitcache_describe(r, blcf, ctx);
        return NGX_DONE;
    }

    if (ctx->keyfetch != NULL) {
        /* 402 JSON: never the wallet's view, never a purchase by GET */
        ngx_http_bitcache_keys_answer(r, ctx);
        return NGX_DONE;
    }

    if (ctx->for_sale && blcf->wallets) {
        rc = ngx_http_bitcache_access_wallet(r, ctx, blcf);
        if (rc != NGX_DECLINED) {
            return rc;
        }
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "bitcache: 402 for \"%V\": %s",
                  ngx_http_bitcache_log_str(r, ctx->product.data,
                                            ctx->product.len),
                  ctx->reason);

    if (ctx->for_sale) {
        ngx_http_bitcache_offer_page(r, blcf, &ctx->sale, ctx->reason,
                                     blcf->wallets
                                     ? ngx_http_bitcache_wallet_view(r, ctx,
                                                                     blcf)
                                     : NULL);
    } else {
        ngx_http_bitcache_reply(r, NGX_HTTP_PAYMENT_REQUIRED, ctx->reason,
                                &ctx->product);
    }

    return NGX_DONE;
}


/*
 * nginx's own header filters (not_modified, gzip, range...) run after
 * this one: a dynamic module's filter is the first called. So the check
 * comes after the rest of the chain has made the response: a 200 or 206
 * whose body would carry more of the file than was drawn (an If-Range
 * that no longer matches, gzip, a filter that nginx's range arithmetic
 * did not foresee) gets no body: the connection is closed before it.
 */
/*
 * nginx runs no access handler for a subrequest (SSI, addition, slice...):
 * a file of a `bitcache on` location is never the body of one.
 */
static ngx_flag_t
ngx_http_bitcache_unpaid_subrequest(ngx_http_request_t *r)
{
    ngx_http_bitcache_loc_conf_t  *blcf;

    if (r == r->main || r->header_only
        || (r->headers_out.status != NGX_HTTP_OK
            && r->headers_out.status != NGX_HTTP_PARTIAL_CONTENT))
    {
        return 0;
    }

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bitcache_module);

    return blcf->enable;
}


static ngx_int_t
ngx_http_bitcache_header_filter(ngx_http_request_t *r)
{
    off_t                     limit, len;
    size_t                    type_len;
    ngx_int_t                 rc;
    ngx_flag_t                encoded, error_file;
    ngx_http_bitcache_ctx_t  *ctx;

    if (ngx_http_bitcache_unpaid_subrequest(r)) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "bitcache: \"%V\" refused to a subrequest",
                      ngx_http_bitcache_log_str(r, r->uri.data, r->uri.len));
        return NGX_ERROR;
    }

    ctx = ngx_http_bitcache_access_ctx(r);

    /* a page paid by ?bitcache_token=: its links and resources must not
     * send that URL on as a Referer (to other sites, or to this host's
     * logs as $http_referer, which nothing masks) */
    if (ctx != NULL && ctx->state == NGX_HTTP_BITCACHE_ALLOWED
        && ctx->keyfetch == NULL            /* its reply has it already */
        && r == r->main && ngx_http_bitcache_token_in_query(r))
    {
        static ngx_str_t  no_referrer = ngx_string("no-referrer");

        if (ngx_http_bitcache_add_header(r, "Referrer-Policy", &no_referrer)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    /* a key's answer (ctx->keyfetch) carries none of the file */
    if (ctx == NULL || ctx->state != NGX_HTTP_BITCACHE_ALLOWED
        || ctx->unlimited || ctx->keyfetch != NULL)
    {
        return ngx_http_next_header_filter(r);
    }

    type_len = r->headers_out.content_type.len + r->headers_out.charset.len;

    /* a file sent for an error_page URI keeps the error's status
     * (err_status) and has a Last-Modified (until nginx's header filter
     * drops it for that status); nginx's own error pages have none */
    error_file = r->err_status && r->headers_out.last_modified_time != -1;

    rc = ngx_http_next_header_filter(r);

    if (rc == NGX_ERROR || r->header_only
        || (r->headers_out.status != NGX_HTTP_OK
            && r->headers_out.status != NGX_HTTP_PARTIAL_CONTENT
            && !error_file))
    {
        return rc;              /* no part of the file goes out */
    }

    /* what was drawn, and what a resume may send again undrawn */
    len = r->headers_out.content_length_n;
    limit = ctx->draw;

    if (r->headers_out.status == NGX_HTTP_PARTIAL_CONTENT && ctx->parts > 1) {
        /* multipart/byteranges: each part's boundary and headers too */
        limit += (off_t) (ctx->parts + 1) * (128 + type_len + 3 * NGX_OFF_T_LEN);
    }

    /* gzip, or gzip_static's file.gz: not the file's bytes */
    encoded = r->headers_out.content_encoding != NULL
              && r->headers_out.content_encoding->value.len != 0;

    if ((len == -1 || encoded) && ctx->draw == ctx->size && ctx->size > 0) {
        /* the whole file, transformed: the wire says nothing of how much
         * of it was sent, so all that was drawn is spent */
        ctx->body = 1;
        ctx->charge_all = 1;
        return rc;
    }

    if (!encoded && len >= 0 && len <= limit) {
        ctx->body = 1;
        return rc;
    }

    ctx->cut = 1;

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "bitcache: \"%V\": the response would carry %O bytes, "
                  "%O were drawn: no body sent",
                  ngx_http_bitcache_log_str(r, ctx->product.data,
                                            ctx->product.len), len,
                  ctx->draw);

    return NGX_ERROR;
}


static ngx_int_t
ngx_http_bitcache_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_http_bitcache_ctx_t  *ctx;

    if (ngx_http_bitcache_unpaid_subrequest(r)) {
        return NGX_ERROR;
    }

    ctx = ngx_http_bitcache_access_ctx(r);

    if (ctx != NULL && ctx->cut) {
        return NGX_ERROR;
    }

    return ngx_http_next_body_filter(r, in);
}


ngx_int_t
ngx_http_bitcache_access_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_bitcache_access_handler;

    /* a products redirect into an `internal` location: answered before
     * that location's rewrite handlers (this module's handlers run before
     * those of the modules built into nginx) */
    h = ngx_array_push(&cmcf->phases[NGX_HTTP_REWRITE_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_bitcache_describe_rewrite;

    if (ngx_http_bitcache_draw_init() != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_bitcache_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_bitcache_body_filter;

    return NGX_OK;
}
