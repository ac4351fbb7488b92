/*
 * GET <api>/invoices/<id>: the invoice's state, and once the watcher's
 * attested payment verifies (docs/protocol.md, "Settling and the token"),
 * the download token: as a cookie scoped to the product, and as a link.
 * The token goes only to a request that proves the invoice's claim (the
 * claim cookie set when it was created, or X-Bitcache-Claim): the id
 * alone is no credential. An invoice whose MAC fails is shown as invalid,
 * nothing of it (no address, no QR, no amount). The token is derived from
 * the invoice, so every poll gets the same one; its Redis record is
 * rewritten the same on each poll, never its counts.
 *
 * A wallet top-up (product "wallet:<wid>") never mints a token: once
 * settled it is credited to that wallet (ngx_http_bitcache_wallet_topup.c),
 * whoever asks first, once.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "api_request.h"
#include "bip21.h"
#include "escape.h"
#include "hex.h"
#include "invoice_record.h"
#include "network.h"
#include "qr_svg.h"
#include "token.h"
#include "token_record.h"
#include "wallet_topup.h"
#include "ngx_http_bitcache.h"
#include "ngx_http_bitcache_call.h"
#include "ngx_http_bitcache_page.h"
#include "ngx_http_bitcache_status.h"
#include "ngx_http_bitcache_token_mint.h"
#include "ngx_http_bitcache_wallet_topup.h"


typedef struct {
    ngx_http_bitcache_call_t   call;
    ngx_str_t                  base;
    unsigned char              id[BC_INVOICE_ID_LEN];
    char                       idhex[2 * BC_INVOICE_ID_LEN + 1];
    ngx_flag_t                 json;
    bc_invoice_record          rec;
    const bc_keys             *rec_keys;   /* the secret rec verified under */
    ngx_str_t                  fields;       /* the record's strings, copied */
    const char                *state;
    char                       token[BC_TOKEN_MAX_CHARS + 1];
    uint64_t                   token_expires;
    unsigned                   settled:1;
    unsigned                   claimed:1;    /* the request proved the claim */
    unsigned                   unclaimed:1;  /* settled, shown without token */
    unsigned                   foreign:1;    /* not paid, asked without the
                                                claim: no payment details */
    unsigned                   topup:1;      /* a wallet's top-up */
    unsigned                   credited:1;   /* ... credited (now or before) */
    ngx_http_bitcache_credit_t  credit;
} ngx_http_bitcache_status_ctx_t;


static void ngx_http_bitcache_status_read(ngx_http_bitcache_call_t *call,
    redisReply *reply);
static void ngx_http_bitcache_status_minted(ngx_http_bitcache_call_t *call,
    redisReply *reply);
static void ngx_http_bitcache_status_send(ngx_http_request_t *r,
    ngx_http_bitcache_status_ctx_t *ctx);
static void ngx_http_bitcache_status_credited(ngx_http_request_t *r,
    ngx_http_bitcache_credit_t *c);


ngx_int_t
ngx_http_bitcache_status_start(ngx_http_request_t *r, ngx_str_t *base,
    const char *idhex, ngx_flag_t json)
{
    ngx_int_t                        rc;
    ngx_str_t                        args[2];
    ngx_http_bitcache_status_ctx_t  *ctx;

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_bitcache_status_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->base = *base;
    ctx->json = json;
    ngx_memcpy(ctx->idhex, idhex, 2 * BC_INVOICE_ID_LEN);
    (void) bc_hex_decode(ctx->id, BC_INVOICE_ID_LEN, idhex,
                         2 * BC_INVOICE_ID_LEN);

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_str_set(&args[0], "HGETALL");
    if (ngx_http_bitcache_key(r, &args[1], "inv:", (u_char *) idhex,
                                     2 * BC_INVOICE_ID_LEN) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_bitcache_callv(&ctx->call, r, ngx_http_bitcache_status_read,
                                 ctx, 2, args);
    if (rc == NGX_DECLINED) {
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }
    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* held until the reply finalizes it */
    r->main->count++;
    return NGX_DONE;
}


/* Parses the HGETALL reply into ctx->rec, copying the strings it keeps. */
static ngx_int_t
ngx_http_bitcache_status_parse(ngx_http_request_t *r,
    ngx_http_bitcache_status_ctx_t *ctx, redisReply *reply, char *err,
    size_t errlen)
{
    u_char   *copy;
    size_t    i, total;

    total = 0;
    for (i = 0; i < reply->elements; i++) {
        if (reply->element[i]->type != REDIS_REPLY_STRING) {
            ngx_snprintf((u_char *) err, errlen, "a field is not a string%Z");
            return NGX_ERROR;
        }
        total += reply->element[i]->len + 1;
    }

    copy = ngx_pnalloc(r->pool, total + 1);
    if (copy == NULL) {
        return NGX_ERROR;
    }

    bc_invoice_record_init(&ctx->rec, ctx->id);

    for (i = 0; i + 1 < reply->elements; i += 2) {
        u_char  *name = copy, *value;

        /* each string NUL-terminated: the address goes to C functions */
        copy = ngx_cpymem(copy, reply->element[i]->str, reply->element[i]->len);
        *copy++ = '\0';
        value = copy;
        copy = ngx_cpymem(copy, reply->element[i + 1]->str,
                          reply->element[i + 1]->len);
        *copy++ = '\0';

        if (!bc_invoice_record_field(&ctx->rec, (const char *) name,
                                     reply->element[i]->len,
                                     (const char *) value,
                                     reply->element[i + 1]->len, err, errlen))
        {
            return NGX_ERROR;
        }
    }

    return bc_invoice_record_done(&ctx->rec, err, errlen) ? NGX_OK : NGX_ERROR;
}


/* 1 if r proves the claim whose hash the invoice keeps: an
 * X-Bitcache-Claim header (scripts) or a bitcache_claim cookie (the
 * browser that created the invoice). Never a query argument: those are
 * logged. */
static ngx_flag_t
ngx_http_bitcache_status_claimed(ngx_http_request_t *r,
    const unsigned char hash[32])
{
    size_t            pos, len;
    ngx_uint_t        i;
    const char       *v;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h, **cookies;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }
            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == sizeof(BC_CLAIM_HEADER) - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) BC_CLAIM_HEADER,
                               h[i].key.len) == 0
            && bc_claim_matches(hash, (const char *) h[i].value.data,
                                h[i].value.len))
        {
            return 1;
        }
    }

    cookies = r->headers_in.cookies.elts;

    for (i = 0; i < r->headers_in.cookies.nelts; i++) {
        pos = 0;
        while (bc_cookie_next((const char *) cookies[i]->value.data,
                              cookies[i]->value.len, &pos, BC_CLAIM_COOKIE,
                              &v, &len))
        {
            if (bc_claim_matches(hash, v, len)) {
                return 1;
            }
        }
    }

    return 0;
}


/* An invoice whose record does not verify: nothing of it is shown. */
static void
ngx_http_bitcache_status_invalid(ngx_http_request_t *r,
    ngx_http_bitcache_status_ctx_t *ctx)
{
    u_char     *body, *p;
    ngx_str_t   what;

    static const char  reason[] = "this invoice is invalid: its record does "
        "not verify. Do not pay to any address shown for it; reload the "
        "file's page for a new invoice";

    if (ctx->json) {
        body = ngx_pnalloc(r->pool, 256 + sizeof(reason));
        if (body == NULL) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        p = ngx_sprintf(body, "{\"id\":\"%s\",\"state\":\"invalid\","
                        "\"error\":\"invalid_invoice\",\"reason\":\"%s\"}\n",
                        ctx->idhex, reason);

        ngx_http_bitcache_send(r, NGX_HTTP_CONFLICT, "application/json", body,
                               p - body);
        return;
    }

    what.data = (u_char *) ctx->idhex;
    what.len = 2 * BC_INVOICE_ID_LEN;

    ngx_http_bitcache_reply(r, NGX_HTTP_CONFLICT, reason, &what);
}


static void
ngx_http_bitcache_status_read(ngx_http_bitcache_call_t *call,
    redisReply *reply)
{
    char                             err[BC_INVOICE_WHY_MAX], why[BC_INVOICE_WHY_MAX];
    char                             exp[NGX_INT64_LEN + 1], tid_hex[33];
    ngx_int_t                        rc;
    ngx_str_t                        a[4], key;
    bc_token                         t;
    char                            *field;
    bc_tokrec_write                  rw;
    bc_tokrec_seed_write             sw;
    ngx_http_request_t              *r = call->request;
    bc_invoice_check_result          check;
    ngx_http_bitcache_status_ctx_t  *ctx = call->data;
    ngx_http_bitcache_loc_conf_t    *blcf;

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bitcache_module);

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
        if (reply != NULL) {
            /* WRONGTYPE: inv:<id> is not a hash (Redis was written to) */
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "bitcache: invoice %s unreadable: %s", ctx->idhex,
                          reply->type == REDIS_REPLY_ERROR ? reply->str
                                                           : "not a hash");
        }
        ngx_http_finalize_request(r, NGX_HTTP_SERVICE_UNAVAILABLE);
        return;
    }

    if (reply->elements == 0) {
        ngx_http_finalize_request(r, NGX_HTTP_NOT_FOUND);
        return;
    }

    /* never shown, signed or minted from unless its MAC verifies */
    if (ngx_http_bitcache_status_parse(r, ctx, reply, err, sizeof(err))
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "bitcache: invoice %s is invalid: %s", ctx->idhex, err);
        ngx_http_bitcache_status_invalid(r, ctx);
        return;
    }

    /* made under the current secret or the one being rotated out */
    ctx->rec_keys = bc_invoice_record_keys(&ctx->rec, blcf->keys);
    if (ctx->rec_keys == NULL) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "bitcache: invoice %s is invalid: invoice MAC does not "
                      "verify", ctx->idhex);
        ngx_http_bitcache_status_invalid(r, ctx);
        return;
    }

    ctx->state = bc_invoice_state_str(ctx->rec.state);
    ctx->topup = bc_topup_reserved(ctx->rec.inv.product,
                                   ctx->rec.inv.product_len);

    /* the address goes only to whoever created the invoice: someone
     * handed its URL ("pay this for me") must not pay for another's token */
    ctx->claimed = ngx_http_bitcache_status_claimed(r,
                                                    ctx->rec.inv.claim_hash);

    if (ctx->rec.state == BC_STATE_NEW
        && (uint64_t) ngx_time() > ctx->rec.inv.expires)
    {
        ctx->state = "expired";
    }

    if (ctx->rec.state != BC_STATE_PAID) {
        ctx->foreign = !ctx->claimed;
        ngx_http_bitcache_status_send(r, ctx);
        return;
    }

    check = bc_invoice_check_either(&ctx->rec, blcf->keys, blcf->watcher_key,
                                    blcf->watcher_key_old, why, sizeof(why));

    if (check != BC_INVOICE_SETTLED) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "bitcache: invoice %s marked paid, no token: %s",
                      ctx->idhex, why);
        ctx->state = "unverified";
        ctx->foreign = !ctx->claimed;
        ngx_http_bitcache_status_send(r, ctx);
        return;
    }

    if (ctx->topup) {
        /* a top-up: credited to its wallet, never a token */
        ctx->credit.rec = &ctx->rec;
        rc = ngx_http_bitcache_wallet_credit(r, &ctx->credit,
                                             ngx_http_bitcache_status_credited,
                                             ctx);
        if (rc != NGX_OK) {
            ngx_http_finalize_request(r, rc == NGX_DECLINED
                                         ? NGX_HTTP_SERVICE_UNAVAILABLE
                                         : NGX_HTTP_INTERNAL_SERVER_ERROR);
        }
        return;
    }

    if (!ctx->claimed) {
        /* paid: said to everyone; the token only to its buyer */
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "bitcache: invoice %s paid, asked without its claim",
                       ctx->idhex);
        ctx->unclaimed = 1;
        ngx_http_bitcache_status_send(r, ctx);
        return;
    }

    /* settled: the token, the same on every poll; its id and its MAC
     * under the invoice's own secret. A record only the secret being
     * rotated out verifies gives a token of that secret, which dies when
     * it is dropped: its product, token_ttl and max_downloads are not in
     * the watcher's attestation, so whoever holds the old secret could
     * otherwise re-MAC a paid invoice of theirs and carry a token of any
     * product and lifetime under the new secret past the drop. */
    ngx_memzero(&t, sizeof(bc_token));
    if (!bc_invoice_token_id(t.id, ctx->id, ctx->rec_keys)) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }
    t.expires = ctx->rec.paid_at + ctx->rec.inv.token_ttl;
    t.uses = ctx->rec.inv.max_downloads;
    t.product = (const unsigned char *) ctx->rec.inv.product;
    t.product_len = ctx->rec.inv.product_len;

    if (bc_token_encode(ctx->token, &t, ctx->rec_keys) == 0) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ctx->token_expires = t.expires;
    ctx->settled = 1;

    if (t.expires <= (uint64_t) ngx_time()) {
        /* paid long ago: the token has lapsed, nothing to record */
        ngx_http_bitcache_status_send(r, ctx);
        return;
    }

    bc_hex_encode(tid_hex, t.id, BC_TOKEN_ID_LEN);
    if (ngx_http_bitcache_key(r, &key, BC_TOKREC_KIND, (u_char *) tid_hex,
                                     2 * BC_TOKEN_ID_LEN) != NGX_OK)
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    /* MULTI; HSET the record (the same on every poll); HSETNX the
     * product's counter (never reset); EXPIREAT; EXEC
     * (libbitcache/token_record.h) */
    bc_tokrec_hset(&rw, (const char *) key.data, key.len, t.uses, t.product,
                   t.product_len, t.expires);

    field = ngx_pnalloc(r->pool, sizeof(BC_TOKREC_FILE) - 1 + t.product_len);
    if (field == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    bc_tokrec_seed(&sw, field, (const char *) key.data, key.len, t.product,
                   t.product_len);
    ngx_sprintf((u_char *) exp, "%uL%Z", t.expires);

    ngx_str_set(&a[0], "MULTI");
    ngx_str_set(&a[1], "EXPIREAT");
    a[2] = key;
    a[3].data = (u_char *) exp; a[3].len = ngx_strlen(exp);

    rc = NGX_ERROR;

    if (ngx_http_bitcache_queue(1, &a[0]) == NGX_OK
        && ngx_http_bitcache_redis_command(NULL, NULL, 8, rw.argv, rw.argvlen)
           != NULL
        && ngx_http_bitcache_redis_command(NULL, NULL, 4, sw.argv, sw.argvlen)
           != NULL
        && ngx_http_bitcache_queue(3, &a[1]) == NGX_OK)
    {
        ngx_str_set(&a[0], "EXEC");
        rc = ngx_http_bitcache_callv(&ctx->call, r,
                                     ngx_http_bitcache_status_minted, ctx, 1, a);
    }

    if (rc != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_SERVICE_UNAVAILABLE);
    }
}


static void
ngx_http_bitcache_status_credited(ngx_http_request_t *r,
    ngx_http_bitcache_credit_t *c)
{
    ngx_http_bitcache_status_ctx_t  *ctx = c->data;

    switch (c->outcome) {

    case NGX_HTTP_BITCACHE_CREDITED:
    case NGX_HTTP_BITCACHE_CREDITED_BEFORE:
        ctx->credited = 1;
        break;

    case NGX_HTTP_BITCACHE_CREDIT_BUSY:
    case NGX_HTTP_BITCACHE_CREDIT_UNAVAILABLE:
        ngx_http_finalize_request(r, NGX_HTTP_SERVICE_UNAVAILABLE);
        return;

    default:
        /* paid, not credited (logged): the operator has to look */
        break;
    }

    ngx_http_bitcache_status_send(r, ctx);
}


static void
ngx_http_bitcache_status_minted(ngx_http_bitcache_call_t *call,
    redisReply *reply)
{
    size_t                           i;
    ngx_http_request_t              *r = call->request;
    ngx_http_bitcache_status_ctx_t  *ctx = call->data;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
        ngx_http_finalize_request(r, NGX_HTTP_SERVICE_UNAVAILABLE);
        return;
    }

    for (i = 0; i < reply->elements; i++) {
        if (reply->element[i]->type == REDIS_REPLY_ERROR) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "bitcache: recording the token of invoice %s: %s",
                          ctx->idhex, reply->element[i]->str);
            ngx_http_finalize_request(r, NGX_HTTP_SERVICE_UNAVAILABLE);
            return;
        }
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "bitcache: invoice %s settled, token issued", ctx->idhex);

    ngx_http_bitcache_status_send(r, ctx);
}


static void
ngx_http_bitcache_status_send(ngx_http_request_t *r,
    ngx_http_bitcache_status_ctx_t *ctx)
{
    u_char                         *body, *p, *svg;
    char                            bip21[512], btc[BC_BTC_AMOUNT_MAX];
    char                            rbtc[BC_BTC_AMOUNT_MAX];
    char                            sats[NGX_INT64_LEN + 1], conf[NGX_INT32_LEN + 1];
    char                            need[NGX_INT32_LEN + 1], exp[NGX_INT64_LEN + 1];
    char                            left[NGX_INT64_LEN + 1];
    char                            bal[NGX_INT64_LEN + 1];
    char                            list[NGX_INT64_LEN + 1];
    char                            tip[NGX_INT64_LEN + 1];
    size_t                          n, svglen;
    uint64_t                        now, secs, due, tipped;
    ngx_str_t                       title, product, download, self, addr,
                                    bip21s, *path, wallet;
    bc_tvar                         vars[36];
    bc_invoice                     *inv = &ctx->rec.inv;
    ngx_http_bitcache_loc_conf_t   *blcf;

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bitcache_module);

    now = (uint64_t) ngx_time();
    secs = inv->expires > now ? inv->expires - now : 0;

    title.data = (u_char *) inv->title;
    title.len = inv->title_len;
    product.data = (u_char *) inv->product;
    product.len = inv->product_len;
    if (title.len == 0) {
        title = product;
    }

    bc_format_btc(btc, inv->amount);
    /* what the buyer chose above the price (list <= amount in a record
     * that verifies; never below 0 in one that does not) */
    tipped = inv->amount > inv->list ? inv->amount - inv->list : 0;
    bc_format_btc(rbtc, ctx->rec.has_payment ? ctx->rec.received : 0);
    /* after a partial payment the QR asks for the rest */
    due = inv->amount;
    if (ctx->rec.has_payment && ctx->rec.received < inv->amount) {
        due = inv->amount - ctx->rec.received;
    }

    if (ctx->foreign
        || !bc_bip21_uri(bip21, sizeof(bip21), inv->address, due,
                         ngx_http_bitcache_cstr(r, &title), NULL))
    {
        bip21[0] = '\0';
    }

    /* the download link carries the token: for curl, wget, managers */
    download.len = 0;
    download.data = NULL;
    path = ngx_http_bitcache_product_path(r, inv->product, inv->product_len);

    if (ctx->settled && ctx->token_expires > now && path != NULL
        && ngx_http_bitcache_download_url(r, path, ctx->token, &download)
           != NGX_OK)
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (ctx->settled && ctx->token_expires > now
        && ngx_http_bitcache_token_cookie(r, ctx->token, ctx->token_expires,
                                          path) != NGX_OK)
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    self.len = ctx->base.len + sizeof("/invoices/") - 1 + 2 * BC_INVOICE_ID_LEN;
    self.data = ngx_pnalloc(r->pool, self.len);
    if (self.data == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }
    ngx_sprintf(self.data, "%V/invoices/%s", &ctx->base, ctx->idhex);

    /* a top-up's page links to the wallet; its balance only to the
     * buyer who made it (the claim) */
    wallet.len = 0;
    wallet.data = NULL;
    bal[0] = '\0';
    if (ctx->topup) {
        wallet.len = ctx->base.len + sizeof("/wallet") - 1;
        wallet.data = ngx_pnalloc(r->pool, wallet.len);
        if (wallet.data == NULL) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
        ngx_sprintf(wallet.data, "%V/wallet", &ctx->base);

        if (ctx->credited && ctx->claimed && ctx->credit.has_state) {
            ngx_sprintf((u_char *) bal, "%uL%Z", ctx->credit.state.balance);
        }
    }

    addr.data = (u_char *) inv->address;
    addr.len = ctx->foreign ? 0 : inv->address_len;
    bip21s.data = (u_char *) bip21;
    bip21s.len = ngx_strlen(bip21);

    if (ctx->json) {
        n = 1024 + 6 * (title.len + product.len + addr.len + bip21s.len
                        + download.len + self.len + wallet.len);
        body = ngx_pnalloc(r->pool, n);
        if (body == NULL) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        /* every string escaped: a record's text ends no JSON string */
        p = ngx_sprintf(body, "{\"id\":\"%s\",\"state\":\"%s\",\"product\":\"",
                        ctx->idhex, ctx->state);
        p = ngx_http_bitcache_escape_json(p, &product);
        p = ngx_sprintf(p, "\",\"title\":\"");
        p = ngx_http_bitcache_escape_json(p, &title);
        p = ngx_sprintf(p, "\",\"address\":\"");
        p = ngx_http_bitcache_escape_json(p, &addr);
        p = ngx_sprintf(p, "\",\"bip21\":\"");
        p = ngx_http_bitcache_escape_json(p, &bip21s);
        p = ngx_sprintf(p, "\",\"amount_sats\":%uL,\"amount_btc\":\"%s\","
                        "\"list_sats\":%uL,\"tip_sats\":%uL,"
                        "\"received_sats\":%uL,\"conf\":%uD,"
                        "\"confirmations\":%ud,\"expires\":%uL,"
                        "\"seconds_left\":%uL,\"status_url\":\"",
                        inv->amount, btc, inv->list, tipped,
                        ctx->rec.has_payment ? ctx->rec.received : 0,
                        ctx->rec.has_payment ? ctx->rec.conf : 0,
                        (ngx_uint_t) inv->confirmations, inv->expires, secs);
        p = ngx_http_bitcache_escape_json(p, &self);
        p = ngx_sprintf(p, "\",\"claimed\":%s",
                        ctx->claimed ? "true" : "false");
        if (ctx->unclaimed) {
            p = ngx_sprintf(p, ",\"note\":\"paid: the token goes to the buyer "
                            "who created this invoice (its claim cookie, or "
                            "the X-Bitcache-Claim header)\"");
        }
        if (ctx->foreign) {
            p = ngx_sprintf(p, ",\"note\":\"this invoice belongs to the "
                            "browser or script that created it (its claim "
                            "cookie, or the X-Bitcache-Claim header): do not "
                            "pay it; to buy the file, open its page\"");
        }
        if (ctx->topup) {
            p = ngx_sprintf(p, ",\"topup\":true,\"credited\":%s",
                            ctx->credited ? "true" : "false");
            if (bal[0]) {
                p = ngx_sprintf(p, ",\"balance_sats\":%s", bal);
            }
            if (ctx->rec.state == BC_STATE_PAID && !ctx->credited) {
                p = ngx_sprintf(p, ",\"note\":\"paid, not credited to a "
                                "wallet: ask the site's operator\"");
            }
            p = ngx_sprintf(p, ",\"wallet_url\":\"");
            p = ngx_http_bitcache_escape_json(p, &wallet);
            p = ngx_sprintf(p, "\"");
        }
        if (download.len) {
            p = ngx_sprintf(p, ",\"token\":\"%s\",\"download_url\":\"",
                            ctx->token);
            p = ngx_http_bitcache_escape_json(p, &download);
            p = ngx_sprintf(p, "\"");
        }
        p = ngx_sprintf(p, "}\n");

        ngx_http_bitcache_send(r, NGX_HTTP_OK, "application/json", body,
                               p - body);
        return;
    }

    /* the QR code is the largest part: only when the page shows it */
    svg = NULL;
    if (bip21[0] && !download.len && !ctx->unclaimed
        && bc_template_uses(blcf->page, "qr_svg"))
    {
        svglen = bc_qr_svg(NULL, 0, bip21);
        if (svglen) {
            svg = ngx_pnalloc(r->pool, svglen + 1);
            if (svg != NULL) {
                (void) bc_qr_svg((char *) svg, svglen + 1, bip21);
            }
        }
    }

    ngx_sprintf((u_char *) sats, "%uL%Z", inv->amount);
    /* the part chosen above the price (docs/creators.md) */
    ngx_sprintf((u_char *) list, "%uL%Z", inv->list);
    ngx_sprintf((u_char *) tip, "%uL%Z", tipped);
    ngx_sprintf((u_char *) conf, "%uD%Z",
                ctx->rec.has_payment ? ctx->rec.conf : 0);
    ngx_sprintf((u_char *) need, "%ud%Z", (ngx_uint_t) inv->confirmations);
    ngx_sprintf((u_char *) exp, "%uL%Z", inv->expires);
    ngx_sprintf((u_char *) left, "%uL%Z", secs);

    n = 0;
    vars[n].name = "invoice"; vars[n++].value = ctx->idhex;
    vars[n].name = "title"; vars[n++].value = ngx_http_bitcache_cstr(r, &title);
    vars[n].name = "product";
    vars[n++].value = ngx_http_bitcache_cstr(r, &product);
    vars[n].name = "price_btc"; vars[n++].value = btc;
    vars[n].name = "price_sats"; vars[n++].value = sats;
    vars[n].name = "network";
    vars[n++].value = bc_network_get((bc_network) inv->network)->name;
    vars[n].name = "api";
    vars[n++].value = ngx_http_bitcache_cstr(r, &ctx->base);
    vars[n].name = "address";
    vars[n++].value = ngx_http_bitcache_cstr(r, &addr);
    vars[n].name = "bip21"; vars[n++].value = bip21;
    vars[n].name = "qr_svg"; vars[n++].value = (const char *) svg;
    vars[n].name = "expires"; vars[n++].value = exp;
    vars[n].name = "seconds_left"; vars[n++].value = left;
    vars[n].name = "state"; vars[n++].value = ctx->state;
    vars[n].name = "received_btc"; vars[n++].value = rbtc;
    vars[n].name = "conf"; vars[n++].value = conf;
    vars[n].name = "confirmations"; vars[n++].value = need;
    vars[n].name = "status_url";
    vars[n++].value = ngx_http_bitcache_cstr(r, &self);
    vars[n].name = "paid"; vars[n++].value = download.len ? "1" : "";
    vars[n].name = "unclaimed"; vars[n++].value = ctx->unclaimed ? "1" : "";
    vars[n].name = "foreign"; vars[n++].value = ctx->foreign ? "1" : "";
    vars[n].name = "seen";
    vars[n++].value = ngx_strcmp(ctx->state, "seen") == 0 ? "1" : "";
    vars[n].name = "underpaid";
    vars[n++].value = ngx_strcmp(ctx->state, "underpaid") == 0 ? "1" : "";
    vars[n].name = "expired";
    vars[n++].value = ngx_strcmp(ctx->state, "expired") == 0 ? "1" : "";
    vars[n].name = "download_url";
    vars[n++].value = download.len ? ngx_http_bitcache_cstr(r, &download) : "";
    vars[n].name = "topup"; vars[n++].value = ctx->topup ? "1" : "";
    vars[n].name = "credited"; vars[n++].value = ctx->credited ? "1" : "";
    vars[n].name = "balance_sats"; vars[n++].value = bal;
    vars[n].name = "wallet_url";
    vars[n++].value = wallet.len ? ngx_http_bitcache_cstr(r, &wallet) : "";
    vars[n].name = "list_sats"; vars[n++].value = list;
    vars[n].name = "tip_sats"; vars[n++].value = tip;

    ngx_http_bitcache_send_page(r, blcf, NGX_HTTP_OK, vars, n);
}
