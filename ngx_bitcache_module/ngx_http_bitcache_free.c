/*
 * Limited giveaways (see the header).
 *
 *   POST <api>/free   offer= (a 402's, whose MAC'd free_total is above 0)
 *     -> BC_SCRIPT_FREE_CLAIM on free:<product> [freeip:<product>:<h>]
 *     -> copy n: its token record made only if new
 *        (bc_script_token_create_new on tok:<bc_free_token_id(n)>)
 *     -> 303 to the file with the token cookie, or 201 JSON
 *
 * Copy n always has the same token id: a counter set back in Redis hands
 * out numbers whose records still exist, and is refused (503). A host that
 * saw the giveaway run out keeps a mark in bitcache_catalog_zone (the
 * highest N seen exhausted) and gives no more copies whatever Redis says.
 * The 402's count and the mark: ngx_http_bitcache_free_count.c.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "api_request.h"
#include "giveaway.h"
#include "hex.h"
#include "invoice.h"
#include "token.h"
#include "token_record.h"
#include "wallet_topup.h"
#include "ngx_http_bitcache.h"
#include "ngx_http_bitcache_call.h"
#include "ngx_http_bitcache_free.h"
#include "ngx_http_bitcache_free_count.h"
#include "ngx_http_bitcache_token_mint.h"
#include "ngx_http_bitcache_outcome.h"


#define NGX_HTTP_BITCACHE_GONE           410


typedef struct {
    ngx_http_bitcache_call_t   call;
    bc_offer                   offer;
    unsigned char              offer_buf[BC_OFFER_MAX_BYTES];
    ngx_str_t                  product;
    uint64_t                   copy;        /* n, 1..N */
    ngx_str_t                  addr_key;    /* freeip:<product>:<h>, or empty */
    bc_token                   token;
    char                       token_text[BC_TOKEN_MAX_CHARS + 1];
    ngx_flag_t                 json;
} ngx_http_bitcache_free_ctx_t;


static void ngx_http_bitcache_free_body(ngx_http_request_t *r);
static void ngx_http_bitcache_free_claimed(ngx_http_bitcache_call_t *call,
    redisReply *reply);
static void ngx_http_bitcache_free_created(ngx_http_bitcache_call_t *call,
    redisReply *reply);


/* ---- POST <api>/free ---- */

/* Answers an error: JSON {"status","error","reason"} (error the code of
 * docs/creators.md), or the module's short HTML page. */
static void
ngx_http_bitcache_free_fail(ngx_http_request_t *r, ngx_uint_t status,
    const char *error, const char *reason)
{
    ngx_str_t  what = ngx_string("bitcache api");

    if (!ngx_http_bitcache_wants_json(r)) {
        ngx_http_bitcache_reply(r, status, reason, &what);
        return;
    }

    ngx_http_bitcache_send_error(r, status, error, reason, NULL);
}


ngx_int_t
ngx_http_bitcache_free_post(ngx_http_request_t *r)
{
    ngx_int_t                      rc;
    ngx_http_bitcache_free_ctx_t  *ctx;

    if (r->method != NGX_HTTP_POST) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_bitcache_free_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_set_ctx(r, ctx, ngx_http_bitcache_module);
    ctx->json = ngx_http_bitcache_wants_json(r);

    rc = ngx_http_read_client_request_body(r, ngx_http_bitcache_free_body);
    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


/* The client's address as $binary_remote_addr has it (4 or 16 bytes; the
 * real_ip module's when it rewrote it), hashed under keys: Redis never
 * holds it. */
static ngx_int_t
ngx_http_bitcache_free_addr_key(ngx_http_request_t *r,
    ngx_http_bitcache_free_ctx_t *ctx, const bc_keys *keys, ngx_str_t *key)
{
    char              h[33];
    u_char           *name, *addr;
    size_t            addr_len;
    struct sockaddr  *sa;

    sa = r->connection->sockaddr;

    switch (sa->sa_family) {

#if (NGX_HAVE_INET6)
    case AF_INET6:
        addr = ((struct sockaddr_in6 *) sa)->sin6_addr.s6_addr;

        if (IN6_IS_ADDR_V4MAPPED(&((struct sockaddr_in6 *) sa)->sin6_addr)) {
            addr += 12;         /* ::ffff:a.b.c.d is a.b.c.d */
            addr_len = 4;

        } else {
            addr_len = 8;       /* a /64: one subscriber's addresses */
        }

        break;
#endif

    case AF_INET:
        addr = (u_char *) &((struct sockaddr_in *) sa)->sin_addr;
        addr_len = 4;
        break;

    default:                    /* a unix socket: one address for all */
        addr = (u_char *) "";
        addr_len = 0;
        break;
    }

    if (!bc_free_address_hash(h, (const char *) ctx->product.data,
                              ctx->product.len, addr, addr_len, keys))
    {
        return NGX_ERROR;
    }

    /* freeip:<product>:<h> */
    name = ngx_pnalloc(r->pool, ctx->product.len + 1 + 32);
    if (name == NULL) {
        return NGX_ERROR;
    }
    ngx_memcpy(name, ctx->product.data, ctx->product.len);
    name[ctx->product.len] = ':';
    ngx_memcpy(name + ctx->product.len + 1, h, 32);

    return ngx_http_bitcache_key(r, key, BC_KEY_FREE_ADDR, name,
                                 ctx->product.len + 1 + 32);
}


static void
ngx_http_bitcache_free_body(ngx_http_request_t *r)
{
    u_char                         total[NGX_INT64_LEN], window[NGX_INT64_LEN];
    ngx_int_t                      rc;
    ngx_str_t                      body, a[8];
    const char                    *why;
    ngx_http_bitcache_free_ctx_t  *ctx;
    ngx_http_bitcache_loc_conf_t  *blcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_bitcache_module);
    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bitcache_module);

    if (ngx_http_bitcache_cross_site(r)) {
        ngx_http_bitcache_free_fail(r, NGX_HTTP_FORBIDDEN, "cross_site",
                                    "a request from another site");
        return;
    }

    rc = ngx_http_bitcache_body_offer(r, blcf, &body, &ctx->offer,
                                      ctx->offer_buf, &why);
    if (rc == NGX_ERROR) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (rc == NGX_DECLINED) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "bitcache: free copy refused: %s", why);
        ngx_http_bitcache_free_fail(r, NGX_HTTP_BAD_REQUEST, "bad_offer", why);
        return;
    }

    ctx->product.data = (u_char *) ctx->offer.product;
    ctx->product.len = ctx->offer.product_len;

    if (ctx->offer.free_total == 0
        || ctx->offer.free_total > BC_FREE_MAX
        || ctx->offer.free_window > BC_FREE_WINDOW_MAX
        || bc_topup_reserved(ctx->offer.product, ctx->offer.product_len))
    {
        ngx_http_bitcache_free_fail(r, NGX_HTTP_BAD_REQUEST, "not_free",
                                    "this product has no free copies");
        return;
    }

    if (ngx_http_bitcache_free_mark(r, &ctx->product, ctx->offer.free_total,
                                    0))
    {
        ngx_http_bitcache_free_fail(r, NGX_HTTP_BITCACHE_GONE, "no_free_copies",
                                    "no free copies left");
        return;
    }

    /* EVAL claim 1|2|3 free:<product> [freeip:<product>:<h> [the same
     * under the old secret, while it is rotated out]] N window */
    ngx_str_set(&a[0], "EVAL");
    a[1].data = (u_char *) bc_script_free_claim;
    a[1].len = ngx_strlen(bc_script_free_claim);
    ngx_str_set(&a[2], "1");

    if (ngx_http_bitcache_key(r, &a[3], BC_KEY_FREE, ctx->product.data,
                              ctx->product.len)
        != NGX_OK)
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    rc = 4;

    if (ctx->offer.free_window) {
        ngx_str_set(&a[2], "2");
        if (ngx_http_bitcache_free_addr_key(r, ctx, blcf->keys, &a[4])
            != NGX_OK)
        {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
        ctx->addr_key = a[4];
        rc = 5;

        /* an address that took a copy before the rotation of the secret
         * is marked under the old one's hash */
        if (blcf->keys->old != NULL) {
            ngx_str_set(&a[2], "3");
            if (ngx_http_bitcache_free_addr_key(r, ctx, blcf->keys->old,
                                                &a[5])
                != NGX_OK)
            {
                ngx_http_finalize_request(r,
                                          NGX_HTTP_INTERNAL_SERVER_ERROR);
                return;
            }
            rc = 6;
        }
    }

    a[rc].data = total;
    a[rc].len = ngx_sprintf(total, "%uD", ctx->offer.free_total) - total;
    a[rc + 1].data = window;
    a[rc + 1].len = ngx_sprintf(window, "%uD", ctx->offer.free_window)
                    - window;

    rc = ngx_http_bitcache_callv(&ctx->call, r, ngx_http_bitcache_free_claimed,
                                 ctx, (int) rc + 2, a);
    if (rc != NGX_OK) {
        ngx_http_bitcache_free_fail(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable",
                                    ctx->call.failure ? ctx->call.failure
                                                      : "redis unavailable");
    }

    /* the request is held by the body reading's count until we finalize */
}


/* Copy n is claimed: its token, and its record only if it is new. */
static void
ngx_http_bitcache_free_mint(ngx_http_request_t *r,
    ngx_http_bitcache_free_ctx_t *ctx)
{
    u_char                         uses[NGX_INT64_LEN], exp[NGX_INT64_LEN];
    char                           tid_hex[2 * BC_TOKEN_ID_LEN + 1];
    ngx_str_t                      a[8];
    ngx_http_bitcache_loc_conf_t  *blcf;

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bitcache_module);

    ngx_memzero(&ctx->token, sizeof(bc_token));

    if (!bc_free_token_id(ctx->token.id, ctx->offer.product,
                          ctx->offer.product_len, ctx->copy, blcf->keys))
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    /* a copy is an ordinary token: the offer's (the location's) terms */
    ctx->token.expires = (uint64_t) ngx_time() + ctx->offer.token_ttl;
    ctx->token.uses = ctx->offer.max_downloads;
    ctx->token.product = (const unsigned char *) ctx->offer.product;
    ctx->token.product_len = ctx->offer.product_len;

    if (bc_token_encode(ctx->token_text, &ctx->token, blcf->keys) == 0) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    bc_hex_encode(tid_hex, ctx->token.id, BC_TOKEN_ID_LEN);

    if (ngx_http_bitcache_key(r, &a[3], BC_TOKREC_KIND, (u_char *) tid_hex,
                              2 * BC_TOKEN_ID_LEN)
        != NGX_OK)
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    /* EVAL create_new 1 tok:<id> "" uses product expires: the record,
     * with the counter of the file named like the product, only if new */
    ngx_str_set(&a[0], "EVAL");
    a[1].data = (u_char *) bc_script_token_create_new;
    a[1].len = ngx_strlen(bc_script_token_create_new);
    ngx_str_set(&a[2], "1");
    ngx_str_set(&a[4], "");
    a[5].data = uses;
    a[5].len = ngx_sprintf(uses, "%uD", ctx->token.uses) - uses;
    a[6] = ctx->product;
    a[7].data = exp;
    a[7].len = ngx_sprintf(exp, "%uL", ctx->token.expires) - exp;

    if (ngx_http_bitcache_callv(&ctx->call, r, ngx_http_bitcache_free_created,
                                ctx, 8, a)
        != NGX_OK)
    {
        ngx_http_bitcache_free_fail(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable",
                                    ctx->call.failure ? ctx->call.failure
                                                      : "redis unavailable");
    }
}


static void
ngx_http_bitcache_free_claimed(ngx_http_bitcache_call_t *call,
    redisReply *reply)
{
    u_char                        *secs;
    long long                      n;
    ngx_str_t                      retry;
    ngx_http_request_t            *r = call->request;
    ngx_http_bitcache_free_ctx_t  *ctx = call->data;

    static ngx_str_t  unexpected = ngx_string("an unexpected reply");

    if (reply == NULL) {
        ngx_http_bitcache_free_fail(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", call->failure);
        return;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 2
        || reply->element[0]->type != REDIS_REPLY_INTEGER
        || reply->element[1]->type != REDIS_REPLY_INTEGER)
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "bitcache: giveaway of \"%V\": the claim failed: %V",
                      ngx_http_bitcache_log_str(r, ctx->product.data,
                                                ctx->product.len),
                      reply->type == REDIS_REPLY_ERROR
                      ? ngx_http_bitcache_log_str(r, reply->str, reply->len)
                      : &unexpected);
        ngx_http_bitcache_free_fail(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", "the giveaway cannot count");
        return;
    }

    n = reply->element[0]->integer;

    if (n > 0 && (uint64_t) n <= ctx->offer.free_total) {
        ctx->copy = (uint64_t) n;

        if (ctx->copy == ctx->offer.free_total) {
            (void) ngx_http_bitcache_free_mark(r, &ctx->product,
                                               ctx->offer.free_total, 1);
        }

        ngx_http_bitcache_free_mint(r, ctx);
        return;
    }

    if (n == 0) {
        (void) ngx_http_bitcache_free_mark(r, &ctx->product,
                                           ctx->offer.free_total, 1);
        ngx_http_bitcache_free_fail(r, NGX_HTTP_BITCACHE_GONE, "no_free_copies",
                                    "no free copies left");
        return;
    }

    if (n == -1) {
        secs = ngx_pnalloc(r->pool, NGX_INT64_LEN);
        if (secs == NULL) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
        retry.data = secs;
        retry.len = ngx_sprintf(secs, "%uD", ctx->offer.free_window) - secs;

        if (ngx_http_bitcache_add_header(r, "Retry-After", &retry) != NGX_OK) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        ngx_http_bitcache_free_fail(r, NGX_HTTP_TOO_MANY_REQUESTS,
                                    "one_per_address",
                                    "one free copy per address: this "
                                    "address had one");
        return;
    }

    /* -2 (free:<product> is not a count), or a copy past N */
    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "bitcache: giveaway of \"%V\": its counter is not a count "
                  "of at most %uD (written by someone else?); no copy given",
                  ngx_http_bitcache_log_str(r, ctx->product.data,
                                            ctx->product.len),
                  ctx->offer.free_total);
    ngx_http_bitcache_free_fail(r, NGX_HTTP_SERVICE_UNAVAILABLE, "unavailable",
                                "the giveaway cannot count");
}


/* 303 to the file with the token cookie (a form), or 201 JSON. */
static void
ngx_http_bitcache_free_send(ngx_http_request_t *r,
    ngx_http_bitcache_free_ctx_t *ctx)
{
    u_char     *body, *p;
    uint64_t    left;
    ngx_str_t  *path, url;

    static u_char  ready[] = "<!DOCTYPE html>\n<html lang=\"en\"><head>"
        "<meta charset=\"utf-8\"><title>Your free copy</title></head>\n"
        "<body><p>Your free copy is ready: open the file again.</p>"
        "</body></html>\n";

    url.len = 0;
    path = ngx_http_bitcache_product_path(r, ctx->offer.product,
                                          ctx->offer.product_len);

    if (ngx_http_bitcache_token_cookie(r, ctx->token_text, ctx->token.expires,
                                       path)
        != NGX_OK
        || (path != NULL
            && ngx_http_bitcache_download_url(r, path, ctx->token_text, &url)
               != NGX_OK))
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_bitcache_note_free(r, (u_char *) ctx->offer.product,
                                ctx->offer.product_len, ctx->token.id);

    if (!ctx->json) {
        if (path == NULL) {
            /* a product that is not a path: the cookie is for the site */
            ngx_http_bitcache_send(r, NGX_HTTP_OK, "text/html; charset=utf-8",
                                   ready, sizeof(ready) - 1);
            return;
        }

        /* the download itself: the token stays out of the history */
        r->headers_out.location = ngx_list_push(&r->headers_out.headers);
        if (r->headers_out.location == NULL) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
        r->headers_out.location->hash = 1;
        ngx_str_set(&r->headers_out.location->key, "Location");
        r->headers_out.location->value = *path;

        ngx_http_bitcache_send(r, NGX_HTTP_SEE_OTHER, "text/plain", NULL, 0);
        return;
    }

    left = ctx->offer.free_total - ctx->copy;

    body = ngx_pnalloc(r->pool, 256 + ngx_strlen(ctx->token_text)
                                + 6 * (url.len + ctx->product.len));
    if (body == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    p = ngx_sprintf(body, "{\"state\":\"free\",\"copy\":%uL,\"free_left\":%uL,"
                    "\"token\":\"%s\",\"download_url\":\"",
                    ctx->copy, left, ctx->token_text);
    p = ngx_http_bitcache_escape_json(p, &url);
    p = ngx_sprintf(p, "\",\"product\":\"");
    p = ngx_http_bitcache_escape_json(p, &ctx->product);
    p = ngx_sprintf(p, "\",\"expires\":%uL}\n", ctx->token.expires);

    ngx_http_bitcache_send(r, NGX_HTTP_CREATED, "application/json", body,
                           p - body);
}


/* A copy counted but not given (its record could not be made): the
 * address's mark goes (fire and forget), so that the buyer may try again
 * within the window; the copy itself is lost, never given twice. */
static void
ngx_http_bitcache_free_unmark(ngx_http_bitcache_free_ctx_t *ctx)
{
    ngx_str_t  a[2];

    if (ctx->addr_key.len == 0) {
        return;
    }

    ngx_str_set(&a[0], "DEL");
    a[1] = ctx->addr_key;

    (void) ngx_http_bitcache_queue(2, a);
}


static void
ngx_http_bitcache_free_created(ngx_http_bitcache_call_t *call,
    redisReply *reply)
{
    ngx_http_request_t            *r = call->request;
    ngx_http_bitcache_free_ctx_t  *ctx = call->data;

    static ngx_str_t  bad_reply = ngx_string("a bad reply");

    if (reply == NULL || reply->type != REDIS_REPLY_INTEGER) {
        if (reply != NULL) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "bitcache: giveaway of \"%V\": copy %uL not "
                          "recorded: %V",
                          ngx_http_bitcache_log_str(r, ctx->product.data,
                                                    ctx->product.len),
                          ctx->copy,
                          reply->type == REDIS_REPLY_ERROR
                          ? ngx_http_bitcache_log_str(r, reply->str,
                                                      reply->len)
                          : &bad_reply);
        }
        ngx_http_bitcache_free_unmark(ctx);
        ngx_http_bitcache_free_fail(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable",
                                    reply ? "copy not recorded"
                                          : call->failure);
        return;
    }

    if (reply->integer != 1) {
        /* copy n was given before: free:<product> was set back */
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "bitcache: giveaway of \"%V\": copy %uL exists already: "
                      "giveaway counter rolled back; no copy given",
                      ngx_http_bitcache_log_str(r, ctx->product.data,
                                                ctx->product.len),
                      ctx->copy);
        ngx_http_bitcache_free_unmark(ctx);
        ngx_http_bitcache_free_fail(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable",
                                    "giveaway counter rolled back");
        return;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "bitcache: free copy %uL of %uD of \"%V\" given",
                  ctx->copy, ctx->offer.free_total,
                  ngx_http_bitcache_log_str(r, ctx->product.data,
                                            ctx->product.len));

    ngx_http_bitcache_free_send(r, ctx);
}
