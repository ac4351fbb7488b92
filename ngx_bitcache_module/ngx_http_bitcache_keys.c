/*
 * GET <api>/keys/<product> (see the header).
 *
 * The key is released in the product's own location, by its access
 * handler in key mode: the token verified against that location's
 * product, then one script (BC_SCRIPT_KEY_FETCH) checks the token's
 * record, counts the fetch and reads the key record, and the wrapped key
 * is opened here with the location's seal_key. Nothing of the file is
 * drawn or sent: the header filter and the draw's cleanup let the key's
 * answer through and give nothing back.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/crypto.h>

#include "api_request.h"
#include "hex.h"
#include "token.h"
#include "token_record.h"
#include "ngx_http_bitcache_call.h"
#include "ngx_http_bitcache_keys.h"


static char  ngx_http_bitcache_key_fetch_sha[41];


/* {"status":N,"error":"...","product":"..."}, no-store, no CORS */
static void
ngx_http_bitcache_keys_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *error, ngx_str_t *product)
{
    u_char  *body, *p;

    body = ngx_pnalloc(r->pool, 128 + 6 * product->len);
    if (body == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    p = ngx_sprintf(body, "{\"status\":%ui,\"error\":\"%s\"", status, error);

    if (product->len) {
        p = ngx_sprintf(p, ",\"product\":\"");
        p = ngx_http_bitcache_escape_json(p, product);
        p = ngx_sprintf(p, "\"");
    }

    p = ngx_sprintf(p, "}\n");

    ngx_http_bitcache_send(r, status, "application/json", body, p - body);
}


ngx_int_t
ngx_http_bitcache_keys(ngx_http_request_t *r,
    ngx_http_bitcache_loc_conf_t *blcf)
{
    ngx_int_t                  rc;
    ngx_str_t                  args, token, none;
    ngx_http_bitcache_route_mark_t  *mark;

    /* the token first: hidden from the logs whatever the answer (a 405
     * too) */
    rc = ngx_http_bitcache_find_token(r, &token);
    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    if (rc == NGX_DECLINED) {
        ngx_str_null(&token);
    }

    if (r->method != NGX_HTTP_GET) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_bitcache_route_mark_path(r, blcf, NGX_HTTP_BITCACHE_MARK_KEY,
                                           &mark);
    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        /* not a path nginx could serve, or redirected back to the API */
        ngx_str_null(&none);
        r->main->count++;
        ngx_http_bitcache_not_for_sale(r, &none, &r->uri);
        return NGX_DONE;
    }

    mark->token = token;        /* a copy in the pool, or the cookie's */

    /* for the logs only: the mark decides, and the token stays out */
    ngx_str_set(&args, "bitcache_key=1");

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "bitcache: key of \"%V\"", &mark->path);

    return ngx_http_internal_redirect(r, &mark->path, &args);
}


/* ---- in the product's location --------------------------------------- */

static void
ngx_http_bitcache_keys_id_done(ngx_http_bitcache_call_t *call,
    redisReply *reply)
{
    ngx_http_bitcache_ctx_t       *ctx = call->data;
    ngx_http_bitcache_keyfetch_t  *kf = ctx->keyfetch;

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        ctx->state = NGX_HTTP_BITCACHE_UNAVAILABLE;
        ctx->reason = reply ? "redis error" : call->failure;

    } else if (reply->type == REDIS_REPLY_NIL) {
        kf->status = NGX_HTTP_NOT_FOUND;
        ctx->state = NGX_HTTP_BITCACHE_DENIED;

    } else if (reply->type == REDIS_REPLY_STRING
               && bc_hex_decode(kf->id, BC_SEALED_ID_LEN, reply->str,
                                reply->len))
    {
        kf->id_read = 1;
        ctx->state = NGX_HTTP_BITCACHE_DENIED;

    } else {
        ngx_log_error(NGX_LOG_ERR, ctx->request->connection->log, 0,
                      "bitcache: the key record of \"%V\" has no valid id",
                      ngx_http_bitcache_log_str(ctx->request,
                                                ctx->product.data,
                                                ctx->product.len));
        kf->status = NGX_HTTP_CONFLICT;
        ctx->state = NGX_HTTP_BITCACHE_DENIED;
    }

    ngx_http_bitcache_call_resume(ctx->request);
}


/* HGET sealkey:<product> id: what a 402 names, before any sale */
static ngx_int_t
ngx_http_bitcache_keys_read_id(ngx_http_request_t *r,
    ngx_http_bitcache_ctx_t *ctx)
{
    ngx_int_t  rc;
    ngx_str_t  args[3];

    ngx_str_set(&args[0], "HGET");
    args[1] = ctx->keyfetch->record;
    ngx_str_set(&args[2], BC_SEALKEY_F_ID);

    rc = ngx_http_bitcache_callv(&ctx->call, r, ngx_http_bitcache_keys_id_done,
                                 ctx, 3, args);
    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_DECLINED) {
        ctx->state = NGX_HTTP_BITCACHE_UNAVAILABLE;
        ctx->reason = ctx->call.failure;
        return NGX_OK;
    }

    ctx->state = NGX_HTTP_BITCACHE_WAITING;
    return NGX_OK;
}


static ngx_int_t ngx_http_bitcache_keys_fetch(ngx_http_bitcache_ctx_t *ctx);


/* The script counted a fetch, and then no key could be given (a key
 * record that is not well-formed, or does not open under this host's
 * secret): the count goes back, fire and forget, so that a record moved,
 * altered or written by another host costs the buyer no fetch. Only a
 * record that still exists (has "uses") is touched. */
#define NGX_HTTP_BITCACHE_KEY_REFUND                                          \
    "if redis.call('HEXISTS', KEYS[1], 'uses') == 1"                          \
    " and tonumber(redis.call('HGET', KEYS[1], 'keys') or '0') > 0 then\n"    \
    "  redis.call('HINCRBY', KEYS[1], 'keys', -1)\n"                          \
    "end\n"                                                                   \
    "return 0\n"

static void
ngx_http_bitcache_keys_refund(ngx_http_bitcache_keyfetch_t *kf)
{
    ngx_str_t  args[4];

    kf->counted = 0;

    ngx_str_set(&args[0], "EVAL");
    ngx_str_set(&args[1], NGX_HTTP_BITCACHE_KEY_REFUND);
    ngx_str_set(&args[2], "1");
    args[3] = kf->tok;

    if (ngx_http_bitcache_queue(4, args) != NGX_OK) {
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "bitcache: a key fetch that gave no key could not be "
                      "given back (no Redis connection)");
    }
}


/* The key fetch script's reply, as its parser in libbitcache reads it */
static void
ngx_http_bitcache_keys_fetched(ngx_http_bitcache_ctx_t *ctx,
    redisReply *reply)
{
    char                           err[128];
    size_t                         i, lens[5];
    const char                    *strs[5];
    bc_keyfetch                    f;
    ngx_http_request_t            *r = ctx->request;
    ngx_http_bitcache_keyfetch_t  *kf = ctx->keyfetch;
    ngx_http_bitcache_loc_conf_t  *blcf;

    ctx->state = NGX_HTTP_BITCACHE_UNAVAILABLE;
    ctx->reason = "redis error";

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements > 5) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "bitcache: unexpected redis reply to the key fetch: %s",
                      reply->type == REDIS_REPLY_ERROR ? reply->str
                                                        : "not an array");
        return;
    }

    for (i = 0; i < reply->elements; i++) {
        if (reply->element[i]->type != REDIS_REPLY_STRING) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "bitcache: unexpected redis reply to the key fetch");
            return;
        }
        strs[i] = reply->element[i]->str;
        lens[i] = reply->element[i]->len;
    }

    if (!bc_keyfetch_parse(&f, strs, lens, reply->elements, err,
                           sizeof(err)))
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "bitcache: unexpected redis reply to the key fetch: %s",
                      err);
        return;
    }

    ctx->state = NGX_HTTP_BITCACHE_DENIED;
    ctx->reason = bc_keyfetch_status_str(f.status);
    kf->tok = ctx->key;

    switch (f.status) {

    case BC_KEYFETCH_NOT_SEALED:
        kf->status = NGX_HTTP_NOT_FOUND;
        return;

    case BC_KEYFETCH_INVALID:
        if (reply->elements == 5) {
            ngx_http_bitcache_keys_refund(kf);      /* it was counted */
        }
        break;

    case BC_KEYFETCH_KEY:
        blcf = ngx_http_get_module_loc_conf(r, ngx_http_bitcache_module);

        if (bc_sealkey_unwrap_keys(kf->key, blcf->keys,
                                   ctx->product.data, ctx->product.len, f.id,
                                   f.wrapped))
        {
            ngx_memcpy(kf->id, f.id, BC_SEALED_ID_LEN);
            kf->id_read = 1;
            kf->fetches = f.fetches;
            kf->counted = 1;    /* given back unless the key goes out */
            ctx->state = NGX_HTTP_BITCACHE_ALLOWED;
            return;
        }
        ngx_http_bitcache_keys_refund(kf);
        break;

    default:    /* refused: the 402 names the record's id */
        ngx_memcpy(kf->id, f.id, BC_SEALED_ID_LEN);
        kf->id_read = 1;
        return;
    }

    /* no key material in the log: the record is not this host's */
    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "bitcache: the key record of \"%V\" does not open under "
                  "this host's secret (written by another host, or altered)",
                  ngx_http_bitcache_log_str(r, ctx->product.data,
                                            ctx->product.len));
    kf->status = NGX_HTTP_CONFLICT;
}


static void
ngx_http_bitcache_keys_fetch_done(ngx_http_bitcache_call_t *call,
    redisReply *reply)
{
    ngx_http_bitcache_ctx_t  *ctx = call->data;

    if (reply == NULL) {
        ctx->state = NGX_HTTP_BITCACHE_UNAVAILABLE;
        ctx->reason = call->failure;

    } else if (reply->type == REDIS_REPLY_ERROR && !ctx->keyfetch->evaled
               && ngx_strncmp(reply->str, "NOSCRIPT", 8) == 0)
    {
        /* a new or flushed Redis: EVAL runs it and caches it again */
        ctx->keyfetch->evaled = 1;

        if (ngx_http_bitcache_keys_fetch(ctx) == NGX_OK) {
            return;
        }

    } else {
        ngx_http_bitcache_keys_fetched(ctx, reply);
    }

    ngx_http_bitcache_call_resume(ctx->request);
}


/* EVALSHA <sha> 2 tok:<id> sealkey:<product> <uses>; EVAL after NOSCRIPT.
 * NGX_OK: waiting; else state set (503). */
static ngx_int_t
ngx_http_bitcache_keys_fetch(ngx_http_bitcache_ctx_t *ctx)
{
    u_char                         uses[NGX_INT32_LEN];
    size_t                         argvlen[6];
    ngx_int_t                      rc;
    const char                    *argv[6];
    ngx_http_bitcache_keyfetch_t  *kf = ctx->keyfetch;

    argv[0] = kf->evaled ? "EVAL" : "EVALSHA";
    argv[1] = kf->evaled ? BC_SCRIPT_KEY_FETCH
                         : ngx_http_bitcache_key_fetch_sha;
    argv[2] = "2";
    argv[3] = (const char *) ctx->key.data;
    argvlen[3] = ctx->key.len;
    argv[4] = (const char *) kf->record.data;
    argvlen[4] = kf->record.len;
    argv[5] = (const char *) uses;
    argvlen[5] = ngx_sprintf(uses, "%uD", kf->uses) - uses;

    argvlen[0] = ngx_strlen(argv[0]);
    argvlen[1] = ngx_strlen(argv[1]);
    argvlen[2] = 1;

    rc = ngx_http_bitcache_call(&ctx->call, ctx->request,
                                ngx_http_bitcache_keys_fetch_done, ctx, 6,
                                argv, argvlen);
    if (rc == NGX_OK) {
        ctx->state = NGX_HTTP_BITCACHE_WAITING;
        return NGX_OK;
    }

    ctx->state = NGX_HTTP_BITCACHE_UNAVAILABLE;
    ctx->reason = rc == NGX_DECLINED ? ctx->call.failure : "out of memory";
    return NGX_DECLINED;
}


/* the key opened but never sent (another access check of the location,
 * auth_basic or deny, refused the request; the client went away): not
 * left in the pool's memory, and the fetch the script counted given back */
static void
ngx_http_bitcache_keys_cleanse(void *data)
{
    ngx_http_bitcache_keyfetch_t  *kf = data;

    OPENSSL_cleanse(kf->key, sizeof(kf->key));

    if (kf->counted && !kf->sent) {
        ngx_http_bitcache_keys_refund(kf);
    }
}


ngx_int_t
ngx_http_bitcache_keys_start(ngx_http_request_t *r,
    ngx_http_bitcache_ctx_t *ctx, ngx_http_bitcache_loc_conf_t *blcf,
    ngx_http_bitcache_route_mark_t *mark)
{
    char                           idhex[2 * BC_TOKEN_ID_LEN + 1];
    unsigned char                  buf[BC_TOKEN_MAX_BYTES];
    bc_token                       t;
    ngx_str_t                      none;
    bc_token_status                st;
    ngx_pool_cleanup_t            *cln;
    ngx_http_bitcache_keyfetch_t  *kf;

    /* the product is this location's: the path's only if they are the
     * same, or a token of another product would fetch this path's key */
    if (ctx->product.len != mark->path.len
        || ngx_memcmp(ctx->product.data, mark->path.data, mark->path.len) != 0)
    {
        ngx_str_null(&none);
        ngx_http_bitcache_not_for_sale(r, &none, &mark->path);
        return NGX_DONE;
    }

    kf = ngx_pcalloc(r->pool, sizeof(ngx_http_bitcache_keyfetch_t));
    if (kf == NULL) {
        return NGX_ERROR;
    }

    ctx->keyfetch = kf;

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }
    cln->handler = ngx_http_bitcache_keys_cleanse;
    cln->data = kf;

    if (ngx_http_bitcache_key(r, &kf->record, BC_SEALKEY_KIND,
                              ctx->product.data, ctx->product.len)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (mark->token.len == 0) {
        ctx->reason = "no token";
        return ngx_http_bitcache_keys_read_id(r, ctx);
    }

    st = bc_token_verify(&t, buf, (const char *) mark->token.data,
                         mark->token.len, blcf->keys, (uint64_t) ngx_time(),
                         ctx->product.data, ctx->product.len);

    if (st != BC_TOKEN_OK) {
        ctx->reason = bc_token_status_str(st);
        return ngx_http_bitcache_keys_read_id(r, ctx);
    }

    kf->uses = t.uses;

    bc_hex_encode(idhex, t.id, BC_TOKEN_ID_LEN);
    if (ngx_http_bitcache_key(r, &ctx->key, BC_TOKREC_KIND, (u_char *) idhex,
                              2 * BC_TOKEN_ID_LEN)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_bitcache_key_fetch_sha[0] == '\0') {
        bc_script_sha1(ngx_http_bitcache_key_fetch_sha, BC_SCRIPT_KEY_FETCH);
    }

    (void) ngx_http_bitcache_keys_fetch(ctx);   /* state set either way */

    return NGX_OK;
}


ngx_int_t
ngx_http_bitcache_keys_refused(ngx_http_request_t *r,
    ngx_http_bitcache_ctx_t *ctx)
{
    ngx_str_t                      none;
    ngx_http_bitcache_keyfetch_t  *kf = ctx->keyfetch;

    if (kf->status == NGX_HTTP_NOT_FOUND) {
        ngx_http_bitcache_keys_error(r, NGX_HTTP_NOT_FOUND, "not_sealed",
                                     &ctx->product);
        return NGX_DONE;
    }

    if (kf->status == NGX_HTTP_CONFLICT) {
        ngx_str_null(&none);
        ngx_http_bitcache_keys_error(r, NGX_HTTP_CONFLICT,
                                     "key_record_invalid", &none);
        return NGX_DONE;
    }

    return NGX_OK;
}


/* 200 {"product","key_id","key","fetches","uses"} */
static void
ngx_http_bitcache_keys_send(ngx_http_request_t *r,
    ngx_http_bitcache_ctx_t *ctx)
{
    u_char                        *body, *p;
    ngx_http_bitcache_keyfetch_t  *kf = ctx->keyfetch;

    body = ngx_pnalloc(r->pool, 256 + 6 * ctx->product.len);
    if (body == NULL) {
        OPENSSL_cleanse(kf->key, sizeof(kf->key));
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    p = ngx_sprintf(body, "{\"product\":\"");
    p = ngx_http_bitcache_escape_json(p, &ctx->product);
    p = ngx_sprintf(p, "\",\"key_id\":\"");
    bc_hex_encode((char *) p, kf->id, BC_SEALED_ID_LEN);
    p += 2 * BC_SEALED_ID_LEN;
    p = ngx_sprintf(p, "\",\"key\":\"");
    bc_hex_encode((char *) p, kf->key, BC_SEALED_KEY_LEN);
    p += 2 * BC_SEALED_KEY_LEN;
    p = ngx_sprintf(p, "\",\"fetches\":%uL,\"uses\":%uD}\n", kf->fetches,
                    kf->uses);

    OPENSSL_cleanse(kf->key, sizeof(kf->key));
    kf->sent = 1;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "bitcache: key of \"%V\" released (fetch %uL of %uD)",
                  ngx_http_bitcache_log_str(r, ctx->product.data,
                                            ctx->product.len),
                  kf->fetches, kf->uses);

    ngx_http_bitcache_send(r, NGX_HTTP_OK, "application/json", body, p - body);
}


/* 402: the sale's description (where it is sold), status, reason, key_id
 * and wallet_buy_url */
static void
ngx_http_bitcache_keys_offer(ngx_http_request_t *r,
    ngx_http_bitcache_ctx_t *ctx)
{
    size_t                         extra;
    u_char                        *body, *p;
    ngx_int_t                      rc;
    ngx_str_t                      reason;
    ngx_http_bitcache_keyfetch_t  *kf = ctx->keyfetch;
    ngx_http_bitcache_loc_conf_t  *blcf;

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bitcache_module);

    reason.data = (u_char *) ctx->reason;
    reason.len = ngx_strlen(ctx->reason);

    extra = 256 + 6 * (reason.len + blcf->api_url.len + ctx->product.len);
    rc = NGX_DECLINED;

    if (ctx->for_sale) {
        rc = ngx_http_bitcache_describe_fields(r, blcf, ctx, extra, &body, &p);
        if (rc == NGX_ERROR) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
    }

    if (rc == NGX_DECLINED) {
        /* not sold here (no price or wallet): only what is known */
        body = ngx_pnalloc(r->pool, extra);
        if (body == NULL) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
        p = ngx_sprintf(body, "{\"product\":\"");
        p = ngx_http_bitcache_escape_json(p, &ctx->product);
        p = ngx_sprintf(p, "\"");
    }

    p = ngx_sprintf(p, ",\"status\":402,\"reason\":\"");
    p = ngx_http_bitcache_escape_json(p, &reason);
    p = ngx_sprintf(p, "\",\"key_id\":\"");
    bc_hex_encode((char *) p, kf->id, BC_SEALED_ID_LEN);
    p += 2 * BC_SEALED_ID_LEN;
    p = ngx_sprintf(p, "\"");

    if (ctx->for_sale && blcf->wallets) {
        p = ngx_sprintf(p, ",\"wallet_buy_url\":\"");
        p = ngx_http_bitcache_escape_json(p, &blcf->api_url);
        p = ngx_sprintf(p, "/wallet/buy\"");
    }

    p = ngx_sprintf(p, "}\n");

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "bitcache: 402 for the key of \"%V\": %s",
                  ngx_http_bitcache_log_str(r, ctx->product.data,
                                            ctx->product.len),
                  ctx->reason);

    ngx_http_bitcache_send(r, NGX_HTTP_PAYMENT_REQUIRED, "application/json",
                           body, p - body);
}


void
ngx_http_bitcache_keys_answer(ngx_http_request_t *r,
    ngx_http_bitcache_ctx_t *ctx)
{
    switch (ctx->state) {

    case NGX_HTTP_BITCACHE_ALLOWED:
        ngx_http_bitcache_keys_send(r, ctx);
        return;

    case NGX_HTTP_BITCACHE_UNAVAILABLE:
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "bitcache: 503 for the key of \"%V\": %s",
                      ngx_http_bitcache_log_str(r, ctx->product.data,
                                                ctx->product.len),
                      ctx->reason);
        ngx_http_bitcache_keys_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                     "unavailable", &ctx->product);
        return;

    default:
        if (ngx_http_bitcache_keys_refused(r, ctx) == NGX_OK) {
            ngx_http_bitcache_keys_offer(r, ctx);
        }
        return;
    }
}


ngx_int_t
ngx_http_bitcache_keys_content(ngx_http_request_t *r)
{
    ngx_http_bitcache_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_bitcache_module);

    /* only ever set by the access handler of this location, on a key
     * allowed: anything else is not an answer to give */
    if (ctx == NULL || ctx->keyfetch == NULL
        || ctx->state != NGX_HTTP_BITCACHE_ALLOWED)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->main->count++;
    ngx_http_bitcache_keys_answer(r, ctx);

    return NGX_DONE;
}
