/*
 * POST <api>/invoices: an offer (form field or JSON "offer") in, a new
 * invoice out (201 JSON, or 303 to it), with the buyer's claim secret (a
 * cookie scoped to the invoice, and "claim"). Also the invoice of a
 * wallet's top-up (ngx_http_bitcache_wallet_topup.c builds its offer).
 *
 * Each step that needs Redis is one pipelined round trip on the worker's
 * connection; the request holds itself (r->main->count) meanwhile.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/rand.h>

#include "address.h"
#include "api_request.h"
#include "bip21.h"
#include "hex.h"
#include "invoice.h"
#include "invoice_record.h"
#include "network.h"
#include "script.h"
#include "wallet.h"
#include "wallet_topup.h"
#include "ngx_http_bitcache.h"
#include "ngx_http_bitcache_call.h"
#include "ngx_http_bitcache_creator_conf.h"
#include "ngx_http_bitcache_free.h"
#include "ngx_http_bitcache_invoice_create.h"
#include "ngx_http_bitcache_invoice_index.h"
#include "ngx_http_bitcache_page.h"


#define NGX_HTTP_BITCACHE_GRACE      BC_INVOICE_GRACE  /* after expiry */


typedef struct {
    ngx_http_bitcache_call_t   call;
    bc_offer                   offer;
    unsigned char              offer_buf[BC_OFFER_MAX_BYTES];
    bc_wallet                  wallet;
    ngx_http_bitcache_index_t  index;
    bc_invoice                 inv;
    uint64_t                   amount;     /* chosen: >= offer.price */
    char                       idhex[2 * BC_INVOICE_ID_LEN + 1];
    char                       address[BC_ADDRESS_MAX];
    unsigned char              spk[BC_SPK_MAX];
    char                       claim[BC_CLAIM_CHARS + 1];
    ngx_flag_t                 json;
    ngx_str_t                  topups;     /* wtop:<wid>, or empty */
} ngx_http_bitcache_api_ctx_t;


static void ngx_http_bitcache_create_body(ngx_http_request_t *r);
static void ngx_http_bitcache_create_offered(ngx_http_request_t *r,
    ngx_http_bitcache_api_ctx_t *ctx);
static void ngx_http_bitcache_create_indexed(ngx_http_request_t *r,
    ngx_http_bitcache_index_t *ix, ngx_int_t rc);
static void ngx_http_bitcache_create_stored(ngx_http_bitcache_call_t *call,
    redisReply *reply);


/* Answers an API error (JSON or HTML) and finalizes r. */
static void
ngx_http_bitcache_api_fail(ngx_http_request_t *r, ngx_uint_t status,
    const char *reason)
{
    ngx_str_t  what = ngx_string("bitcache api");

    ngx_http_bitcache_reply(r, status, reason, &what);
}


/* 400 for an amount the offer does not allow (docs/creators.md): JSON
 * {"status","error","reason", minimum_sats or maximum_sats}, or a short
 * page that says what to choose. */
static void
ngx_http_bitcache_amount_fail(ngx_http_request_t *r, const bc_offer *o,
    bc_amount_choice ch)
{
    u_char    *body, *p;
    uint64_t   max;
    ngx_str_t  product;

    max = bc_amount_max(o->price, o->suggested);
    product.data = (u_char *) o->product;
    product.len = o->product_len;

    body = ngx_pnalloc(r->pool, 1024 + 6 * product.len);
    if (body == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (ngx_http_bitcache_wants_json(r)) {
        p = ngx_sprintf(body, "{\"status\":400,\"error\":\"%s\",\"reason\":\"",
                        bc_amount_choice_str(ch));
        p = ch == BC_AMOUNT_BELOW_PRICE
            ? ngx_sprintf(p, "the amount must be at least %uL sats\","
                          "\"minimum_sats\":%uL", o->price, o->price)
            : ch == BC_AMOUNT_TOO_LARGE
            ? ngx_sprintf(p, "the amount must be at most %uL sats\","
                          "\"maximum_sats\":%uL", max, max)
            : ngx_sprintf(p, "amount or tip must be a number of sats, not "
                          "both\"");
        p = ngx_sprintf(p, ",\"product\":\"");
        p = ngx_http_bitcache_escape_json(p, &product);
        p = ngx_sprintf(p, "\"}\n");

        ngx_http_bitcache_send(r, NGX_HTTP_BAD_REQUEST, "application/json",
                               body, p - body);
        return;
    }

    p = ngx_sprintf(body, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
                    "<meta charset=\"utf-8\"><meta name=\"viewport\" "
                    "content=\"width=device-width\"><title>Choose another "
                    "amount</title></head>\n<body><h1>Choose another "
                    "amount</h1>\n<p id=\"amount-error\" data-error=\"%s\">",
                    bc_amount_choice_str(ch));
    p = ngx_http_bitcache_escape_html(p, &product);
    p = ch == BC_AMOUNT_BELOW_PRICE
        ? ngx_sprintf(p, ": the amount must be at least %uL sats.", o->price)
        : ch == BC_AMOUNT_TOO_LARGE
        ? ngx_sprintf(p, ": the amount must be at most %uL sats.", max)
        : ngx_sprintf(p, ": choose an amount, or type a number of sats.");
    p = ngx_sprintf(p, "</p>\n<p>Go back to the file's page and choose "
                    "again.</p>\n</body></html>\n");

    ngx_http_bitcache_send(r, NGX_HTTP_BAD_REQUEST, "text/html; charset=utf-8",
                           body, p - body);
}


/* 1 if bitcache_cors_origins names the request's Origin itself: "*"
 * lets any site read descriptions, not choose what buyers pay. */
static ngx_flag_t
ngx_http_bitcache_origin_named(ngx_http_request_t *r, ngx_array_t *origins)
{
    ngx_str_t   origin, *o;
    ngx_uint_t  i;

    if (!ngx_http_bitcache_cors_allowed(r, origins, &origin)) {
        return 0;
    }

    o = origins->elts;

    for (i = 0; i < origins->nelts; i++) {
        if (o[i].len == origin.len
            && ngx_strncmp(o[i].data, origin.data, origin.len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


/* POST <api>/invoices: the offer is read from the body, then the invoice
 * made from it. */
ngx_int_t
ngx_http_bitcache_invoice_post(ngx_http_request_t *r)
{
    ngx_int_t                     rc;
    ngx_http_bitcache_api_ctx_t  *ctx;

    if (r->method != NGX_HTTP_POST) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_bitcache_api_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_set_ctx(r, ctx, ngx_http_bitcache_module);
    ctx->json = ngx_http_bitcache_wants_json(r);

    rc = ngx_http_read_client_request_body(r, ngx_http_bitcache_create_body);
    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_bitcache_create_body(ngx_http_request_t *r)
{
    ngx_int_t                      rc;
    ngx_str_t                      body;
    const char                    *why;
    bc_amount_choice               ch;
    ngx_http_bitcache_api_ctx_t   *ctx;
    ngx_http_bitcache_loc_conf_t  *blcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_bitcache_module);
    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bitcache_module);

    rc = ngx_http_bitcache_body_offer(r, blcf, &body, &ctx->offer,
                                      ctx->offer_buf, &why);
    if (rc == NGX_ERROR) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (rc == NGX_DECLINED) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "bitcache: invoice refused: %s", why);
        ngx_http_bitcache_api_fail(r, NGX_HTTP_BAD_REQUEST, why);
        return;
    }

    if (bc_topup_reserved(ctx->offer.product, ctx->offer.product_len)) {
        /* only POST <api>/wallet/topups makes a top-up's invoice */
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "bitcache: an offer of \"%V\": \"" BC_WALLET_TOPUP_PREFIX
                      "\" is reserved for top-ups, no invoice",
                      ngx_http_bitcache_log_str(r, ctx->offer.product,
                                                ctx->offer.product_len));
        ngx_http_bitcache_api_fail(r, NGX_HTTP_BAD_REQUEST,
                                   "this offer cannot be bought");
        return;
    }

    /* what the buyer chose: never below the offer's MAC'd price */
    ch = bc_body_amount((const char *) body.data, body.len, ctx->offer.price,
                        ctx->offer.suggested, &ctx->amount);
    if (ch != BC_AMOUNT_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "bitcache: invoice refused: %s",
                      bc_amount_choice_str(ch));
        ngx_http_bitcache_amount_fail(r, &ctx->offer, ch);
        return;
    }

    /* an amount above the price chosen by another site's form: the buyer
     * would land on this host's invoice page asking for it. Only the
     * sites bitcache_cors_origins names (the creators') may choose one. */
    if (ctx->amount != ctx->offer.price && ngx_http_bitcache_cross_site(r)
        && !ngx_http_bitcache_origin_named(r, blcf->cors_origins))
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "bitcache: invoice refused: an amount chosen by "
                      "another site");
        ngx_http_bitcache_api_fail(r, NGX_HTTP_FORBIDDEN,
                                   "an amount chosen by another site");
        return;
    }

    ngx_http_bitcache_create_offered(r, ctx);
}


void
ngx_http_bitcache_invoice_create(ngx_http_request_t *r, const bc_offer *offer,
    ngx_str_t *topups)
{
    ngx_http_bitcache_api_ctx_t  *ctx;

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_bitcache_api_ctx_t));
    if (ctx == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ctx->offer = *offer;
    ctx->amount = offer->price;
    ctx->json = ngx_http_bitcache_wants_json(r);
    if (topups != NULL) {
        ctx->topups = *topups;
    }

    ngx_http_bitcache_create_offered(r, ctx);
}


/* From a verified offer: the seller's wallet, an id, an index. */
static void
ngx_http_bitcache_create_offered(ngx_http_request_t *r,
    ngx_http_bitcache_api_ctx_t *ctx)
{
    char         *wallet;
    ngx_int_t     rc;
    ngx_str_t     args[1];
    const char   *err;

    args[0].data = (u_char *) ctx->offer.wallet;
    args[0].len = ctx->offer.wallet_len;
    wallet = ngx_http_bitcache_cstr(r, &args[0]);
    if (wallet == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (!bc_wallet_parse(&ctx->wallet, wallet, ctx->offer.network, &err)) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "bitcache: wallet \"%s\" of \"%V\" is not usable: %s",
                      wallet, ngx_http_bitcache_log_str(r, ctx->offer.product,
                                                        ctx->offer.product_len),
                      err);
        ngx_http_bitcache_api_fail(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                   "the seller's wallet is misconfigured");
        return;
    }

    /* the invoice's id first: its address is claimed in its name */
    if (RAND_bytes(ctx->inv.id, BC_INVOICE_ID_LEN) != 1) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }
    bc_hex_encode(ctx->idhex, ctx->inv.id, BC_INVOICE_ID_LEN);

    /* a free address of this wallet (ngx_http_bitcache_invoice_index.c) */
    ctx->index.wallet = &ctx->wallet;
    ctx->index.wallet_text.data = (u_char *) wallet;
    ctx->index.wallet_text.len = ngx_strlen(wallet);
    ctx->index.claim.data = (u_char *) ctx->idhex;
    ctx->index.claim.len = 2 * BC_INVOICE_ID_LEN;
    ctx->index.claim_until = (uint64_t) ngx_time() + ctx->offer.invoice_ttl
                             + NGX_HTTP_BITCACHE_GRACE;
    ctx->index.done = ngx_http_bitcache_create_indexed;
    ctx->index.data = ctx;

    rc = ngx_http_bitcache_index_take(r, &ctx->index);
    if (rc != NGX_OK) {
        ngx_http_bitcache_api_fail(r, rc == NGX_ERROR
                                      ? NGX_HTTP_INTERNAL_SERVER_ERROR : rc,
                                   rc == NGX_ERROR ? "cannot number the invoice"
                                                   : ctx->index.failure);
        return;
    }

    /* the request is held by the body reading's count until we finalize */
}


static void
ngx_http_bitcache_set_num(ngx_http_request_t *r, ngx_str_t *s, uint64_t v)
{
    s->data = ngx_pnalloc(r->pool, NGX_INT64_LEN);
    s->len = s->data ? (size_t) (ngx_sprintf(s->data, "%uL", v) - s->data) : 0;
}


static void
ngx_http_bitcache_create_indexed(ngx_http_request_t *r,
    ngx_http_bitcache_index_t *ix, ngx_int_t rc)
{
    u_char                        mac[32];
    u_char                        claim[BC_CLAIM_LEN];
    size_t                        spk_len, i, k;
    ngx_str_t                     a[24], key, duekey, exp, due, multi, zero;
    ngx_uint_t                    n;
    bc_invoice_argv              *fields;
    ngx_http_bitcache_api_ctx_t  *ctx = ix->data;
    bc_invoice                   *inv = &ctx->inv;

    if (rc != NGX_OK) {
        ngx_http_bitcache_api_fail(r, rc, ix->failure);
        return;
    }

    /* the index is taken and its address claimed for this invoice's id */
    inv->index = ix->index;
    spk_len = ix->spk_len;
    ngx_memcpy(ctx->address, ix->address, sizeof(ctx->address));
    ngx_memcpy(ctx->spk, ix->spk, spk_len);

    if (RAND_bytes(claim, sizeof(claim)) != 1) {
        ngx_http_bitcache_api_fail(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                   "cannot make a claim");
        return;
    }

    inv->network = ctx->offer.network;
    inv->version = BC_INVOICE_VERSION;
    inv->amount = ctx->amount;
    inv->list = ctx->offer.price;
    inv->confirmations = ctx->offer.confirmations;
    inv->created = (uint64_t) ngx_time();
    inv->expires = inv->created + ctx->offer.invoice_ttl;
    inv->token_ttl = ctx->offer.token_ttl;
    inv->max_downloads = ctx->offer.max_downloads;
    inv->product = ctx->offer.product;
    inv->product_len = ctx->offer.product_len;
    inv->wallet = ctx->offer.wallet;
    inv->wallet_len = ctx->offer.wallet_len;
    inv->address = ctx->address;
    inv->address_len = ngx_strlen(ctx->address);
    inv->spk = ctx->spk;
    inv->spk_len = spk_len;
    inv->title = ctx->offer.title;
    inv->title_len = ctx->offer.title_len;

    /* the buyer's claim: sent once, only its hash is kept (and MAC'd) */
    if (!bc_claim_hash(inv->claim_hash, claim)) {
        ngx_http_bitcache_api_fail(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                   "cannot make a claim");
        return;
    }
    bc_claim_encode(ctx->claim, claim);
    ngx_explicit_memzero(claim, sizeof(claim));

    if (!bc_invoice_mac(mac, inv, ((ngx_http_bitcache_loc_conf_t *)
                        ngx_http_get_module_loc_conf(r,
                            ngx_http_bitcache_module))->keys))
    {
        ngx_http_bitcache_api_fail(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                   "cannot sign the invoice");
        return;
    }

    fields = ngx_palloc(r->pool, sizeof(bc_invoice_argv));
    if (fields == NULL || !bc_invoice_record_argv(fields, inv, mac)) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (ngx_http_bitcache_key(r, &key, "inv:", (u_char *) ctx->idhex,
                                  2 * BC_INVOICE_ID_LEN) != NGX_OK
        || ngx_http_bitcache_key(r, &duekey, "watcher:due", (u_char *) "", 0) != NGX_OK)
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    /* MULTI; HSET inv:<id> ... (the record's one definition, in
     * libbitcache; at most 16 arguments a command, so in parts);
     * EXPIREAT; ZADD watcher:due <expires> <id> (the watcher marks it
     * expired if nothing paid it by then); EXEC. The address was claimed
     * before (ngx_http_bitcache_invoice_index.c). */
    ngx_str_set(&multi, "MULTI");

    if (ngx_http_bitcache_queue(1, &multi) != NGX_OK) {
        ngx_http_bitcache_api_fail(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                   "redis unavailable");
        return;
    }

    for (i = 0; i < fields->n; i += k) {
        n = 0;
        ngx_str_set(&a[n], "HSET"); n++;
        a[n++] = key;
        for (k = 0; k < 14 && i + k < fields->n; k++) {
            a[n].data = (u_char *) fields->argv[i + k];
            a[n++].len = fields->argvlen[i + k];
        }

        if (ngx_http_bitcache_queue(n, a) != NGX_OK) {
            ngx_http_bitcache_api_fail(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                       "redis unavailable");
            return;
        }
    }

    ngx_http_bitcache_set_num(r, &exp, inv->expires + NGX_HTTP_BITCACHE_GRACE);

    ngx_str_set(&a[0], "EXPIREAT");
    a[1] = key;
    a[2] = exp;

    ngx_http_bitcache_set_num(r, &due, inv->expires);

    ngx_str_set(&a[8], "ZADD");
    a[9] = duekey;
    a[10] = due;
    a[11].data = (u_char *) ctx->idhex;
    a[11].len = 2 * BC_INVOICE_ID_LEN;

    /* a top-up: listed pending in its wallet's wtop:<wid> */
    ngx_str_set(&a[12], "HSET");
    a[13] = ctx->topups;
    a[14].data = (u_char *) ctx->idhex;
    a[14].len = 2 * BC_INVOICE_ID_LEN;
    ngx_str_set(&zero, "0");
    a[15] = zero;

    if (ngx_http_bitcache_queue(3, a) != NGX_OK
        || ngx_http_bitcache_queue(4, &a[8]) != NGX_OK
        || (ctx->topups.len && ngx_http_bitcache_queue(4, &a[12]) != NGX_OK))
    {
        ngx_http_bitcache_api_fail(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                   "redis unavailable");
        return;
    }

    ngx_str_set(&a[0], "EXEC");

    rc = ngx_http_bitcache_callv(&ctx->call, r, ngx_http_bitcache_create_stored,
                                 ctx, 1, a);
    if (rc != NGX_OK) {
        ngx_http_bitcache_api_fail(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                   ctx->call.failure ? ctx->call.failure
                                                     : "redis unavailable");
    }
}


/* Set-Cookie: the claim, sent back only to this invoice's status URL,
 * for as long as the invoice record lives. */
static ngx_int_t
ngx_http_bitcache_claim_cookie(ngx_http_request_t *r,
    ngx_http_bitcache_api_ctx_t *ctx, ngx_str_t *path)
{
    return ngx_http_bitcache_set_cookie(r, BC_CLAIM_COOKIE, ctx->claim, path,
                                        (time_t) ctx->offer.invoice_ttl
                                        + NGX_HTTP_BITCACHE_GRACE);
}


static void
ngx_http_bitcache_create_stored(ngx_http_bitcache_call_t *call,
    redisReply *reply)
{
    u_char                        *body, *p;
    char                           bip21[512], btc[BC_BTC_AMOUNT_MAX];
    size_t                         i;
    ngx_str_t                      location, title;
    ngx_http_request_t            *r = call->request;
    ngx_http_bitcache_api_ctx_t   *ctx = call->data;
    ngx_http_bitcache_loc_conf_t  *blcf;

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bitcache_module);

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
        ngx_http_bitcache_api_fail(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                   reply ? "invoice not stored" : call->failure);
        return;
    }

    for (i = 0; i < reply->elements; i++) {
        if (reply->element[i]->type == REDIS_REPLY_ERROR) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "bitcache: storing invoice %s: %s", ctx->idhex,
                          reply->element[i]->str);
            ngx_http_bitcache_api_fail(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                       "invoice not stored");
            return;
        }
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "bitcache: invoice %s for \"%V\": %uL sats to %s (index %uD)",
                  ctx->idhex, ngx_http_bitcache_log_str(r, ctx->inv.product,
                                                        ctx->inv.product_len),
                  ctx->inv.amount, ctx->address, ctx->inv.index);

    /* <api>/invoices/<id>: the configured URL and a hex id only */
    location.len = blcf->api_url.len + sizeof("/invoices/") - 1
                   + 2 * BC_INVOICE_ID_LEN;
    location.data = ngx_pnalloc(r->pool, location.len);
    if (location.data == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }
    ngx_sprintf(location.data, "%V/invoices/%s", &blcf->api_url, ctx->idhex);

    if (ngx_http_bitcache_claim_cookie(r, ctx, &location) != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (!ctx->json) {
        /* a form post: the invoice page is the next page */
        r->headers_out.location = ngx_list_push(&r->headers_out.headers);
        if (r->headers_out.location == NULL) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
        r->headers_out.location->hash = 1;
        ngx_str_set(&r->headers_out.location->key, "Location");
        r->headers_out.location->value = location;

        ngx_http_bitcache_send(r, NGX_HTTP_SEE_OTHER, "text/plain", NULL, 0);
        return;
    }

    title.data = (u_char *) ctx->offer.title;
    title.len = ctx->offer.title_len;

    bc_format_btc(btc, ctx->inv.amount);
    if (!bc_bip21_uri(bip21, sizeof(bip21), ctx->address, ctx->inv.amount,
                      ngx_http_bitcache_cstr(r, &title), NULL))
    {
        bip21[0] = '\0';
    }

    body = ngx_pnalloc(r->pool, 1024 + 6 * (sizeof(bip21) + sizeof(ctx->address)
                                            + location.len));
    if (body == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    p = ngx_sprintf(body, "{\"id\":\"%s\",\"state\":\"new\",\"address\":\"",
                    ctx->idhex);
    p = ngx_http_bitcache_escape_json(p, &(ngx_str_t) {
                                          ngx_strlen(ctx->address),
                                          (u_char *) ctx->address });
    p = ngx_sprintf(p, "\",\"amount_sats\":%uL,\"amount_btc\":\"%s\","
                    "\"list_sats\":%uL,\"tip_sats\":%uL,\"bip21\":\"",
                    ctx->inv.amount, btc, ctx->inv.list,
                    ctx->inv.amount - ctx->inv.list);
    p = ngx_http_bitcache_escape_json(p, &(ngx_str_t) {
                                          ngx_strlen(bip21), (u_char *) bip21 });
    p = ngx_sprintf(p, "\",\"confirmations\":%ud,\"expires\":%uL,"
                    "\"seconds_left\":%uD,\"status_url\":\"",
                    (ngx_uint_t) ctx->inv.confirmations, ctx->inv.expires,
                    ctx->offer.invoice_ttl);
    p = ngx_http_bitcache_escape_json(p, &location);
    /* the claim, once: send it back as X-Bitcache-Claim to get the token */
    p = ngx_sprintf(p, "\",\"claim\":\"%s\"}\n", ctx->claim);

    r->headers_out.location = ngx_list_push(&r->headers_out.headers);
    if (r->headers_out.location != NULL) {
        r->headers_out.location->hash = 1;
        ngx_str_set(&r->headers_out.location->key, "Location");
        r->headers_out.location->value = location;
    }

    ngx_http_bitcache_send(r, NGX_HTTP_CREATED, "application/json", body,
                           p - body);
}
