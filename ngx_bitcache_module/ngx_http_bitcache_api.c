/*
 * The `bitcache_api` content handler:
 *
 *   POST <api>/invoices          an offer (form field or JSON "offer") in,
 *                                a new invoice out (201 JSON, or 303 to it)
 *   GET  <api>/invoices/<id>     the invoice's state; once the watcher's
 *                                attested payment verifies, the token
 *
 * Each step that needs Redis is one pipelined round trip on the worker's
 * connection; the request holds itself (r->main->count) meanwhile.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/rand.h>

#include "address.h"
#include "bip21.h"
#include "hex.h"
#include "invoice.h"
#include "network.h"
#include "script.h"
#include "wallet.h"
#include "ngx_http_bitcache.h"
#include "ngx_http_bitcache_call.h"
#include "ngx_http_bitcache_invoice_index.h"
#include "ngx_http_bitcache_page.h"
#include "ngx_http_bitcache_status.h"


#define NGX_HTTP_BITCACHE_GRACE      BC_INVOICE_GRACE  /* after expiry */
#define NGX_HTTP_BITCACHE_BODY_MAX   8192


typedef struct {
    ngx_http_bitcache_call_t   call;
    ngx_str_t                  base;         /* URI of the API, no slash */
    bc_offer                   offer;
    unsigned char              offer_buf[BC_OFFER_MAX_BYTES];
    bc_wallet                  wallet;
    ngx_http_bitcache_index_t  index;
    bc_invoice                 inv;
    char                       idhex[2 * BC_INVOICE_ID_LEN + 1];
    char                       address[BC_ADDRESS_MAX];
    unsigned char              spk[BC_SPK_MAX];
    ngx_flag_t                 json;
} ngx_http_bitcache_api_ctx_t;


static void ngx_http_bitcache_create_body(ngx_http_request_t *r);
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


ngx_int_t
ngx_http_bitcache_api_handler(ngx_http_request_t *r)
{
    u_char                       *p, *last;
    ngx_int_t                     rc;
    ngx_uint_t                    i;
    ngx_http_bitcache_api_ctx_t  *ctx;

    static ngx_str_t  create = ngx_string("/invoices");

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_bitcache_api_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_set_ctx(r, ctx, ngx_http_bitcache_module);
    ctx->json = ngx_http_bitcache_wants_json(r);

    p = r->uri.data;
    last = p + r->uri.len;

    /* <base>/invoices */
    if (r->uri.len >= create.len
        && ngx_strncmp(last - create.len, create.data, create.len) == 0)
    {
        ctx->base.data = p;
        ctx->base.len = r->uri.len - create.len;

        if (r->method != NGX_HTTP_POST) {
            return NGX_HTTP_NOT_ALLOWED;
        }

        rc = ngx_http_read_client_request_body(r,
                                               ngx_http_bitcache_create_body);
        if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
            return rc;
        }

        return NGX_DONE;
    }

    /* <base>/invoices/<32 hex digits> */
    if (r->uri.len >= create.len + 1 + 2 * BC_INVOICE_ID_LEN) {
        p = last - 2 * BC_INVOICE_ID_LEN;

        for (i = 0; i < 2 * BC_INVOICE_ID_LEN; i++) {
            if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f'))) {
                break;
            }
        }

        if (i == 2 * BC_INVOICE_ID_LEN && p[-1] == '/'
            && ngx_strncmp(p - 1 - create.len, create.data, create.len) == 0)
        {
            if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
                return NGX_HTTP_NOT_ALLOWED;
            }

            ctx->base.data = r->uri.data;
            ctx->base.len = p - 1 - create.len - r->uri.data;
            ngx_memcpy(ctx->idhex, p, 2 * BC_INVOICE_ID_LEN);

            return ngx_http_bitcache_status_start(r, &ctx->base, ctx->idhex,
                                                  ctx->json);
        }
    }

    return NGX_HTTP_NOT_FOUND;
}


/* The offer from a form body (offer=...) or a JSON body ({"offer":"..."}). */
static ngx_int_t
ngx_http_bitcache_body_offer(ngx_http_request_t *r, ngx_str_t *offer)
{
    u_char       *body, *p, *last, *start;
    size_t        len;
    ngx_chain_t  *cl;

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_DECLINED;
    }

    len = 0;
    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        if (cl->buf->in_file) {
            return NGX_DECLINED;
        }
        len += cl->buf->last - cl->buf->pos;
    }

    if (len == 0 || len > NGX_HTTP_BITCACHE_BODY_MAX) {
        return NGX_DECLINED;
    }

    body = ngx_pnalloc(r->pool, len);
    if (body == NULL) {
        return NGX_ERROR;
    }

    p = body;
    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        p = ngx_cpymem(p, cl->buf->pos, cl->buf->last - cl->buf->pos);
    }
    last = p;

    /* JSON: "offer" : "value"; an offer is base64url, so no escapes */
    p = ngx_strlcasestrn(body, last, (u_char *) "\"offer\"", 7 - 1);
    if (p != NULL) {
        for (p += 7; p < last && (*p == ' ' || *p == ':'); p++) { /* void */ }
        if (p == last || *p++ != '"') {
            return NGX_DECLINED;
        }
        start = p;
        while (p < last && *p != '"') {
            p++;
        }
        if (p == last) {
            return NGX_DECLINED;
        }
        offer->data = start;
        offer->len = p - start;
        return NGX_OK;
    }

    /* form: offer=value[&...] */
    for (p = body; p < last; p++) {
        if ((p == body || p[-1] == '&') && last - p > 6
            && ngx_strncmp(p, "offer=", 6) == 0)
        {
            start = p + 6;
            for (p = start; p < last && *p != '&'; p++) { /* void */ }
            offer->data = start;
            offer->len = p - start;
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


static void
ngx_http_bitcache_create_body(ngx_http_request_t *r)
{
    char                          *wallet;
    ngx_int_t                      rc;
    ngx_str_t                      offer, args[2];
    const char                    *err;
    bc_offer_status                st;
    ngx_http_bitcache_api_ctx_t   *ctx;
    ngx_http_bitcache_loc_conf_t  *blcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_bitcache_module);
    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bitcache_module);

    rc = ngx_http_bitcache_body_offer(r, &offer);
    if (rc == NGX_ERROR) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (rc == NGX_DECLINED) {
        ngx_http_bitcache_api_fail(r, NGX_HTTP_BAD_REQUEST,
                                   "no offer in the request body");
        return;
    }

    st = bc_offer_decode(&ctx->offer, ctx->offer_buf, (const char *) offer.data,
                         offer.len, blcf->keys, (uint64_t) ngx_time());
    if (st != BC_OFFER_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "bitcache: invoice refused: %s", bc_offer_status_str(st));
        ngx_http_bitcache_api_fail(r, NGX_HTTP_BAD_REQUEST,
                                   bc_offer_status_str(st));
        return;
    }

    args[0].data = (u_char *) ctx->offer.wallet;
    args[0].len = ctx->offer.wallet_len;
    wallet = ngx_http_bitcache_cstr(r, &args[0]);
    if (wallet == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (!bc_wallet_parse(&ctx->wallet, wallet, ctx->offer.network, &err)) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "bitcache: wallet \"%s\" of \"%*s\" is not usable: %s",
                      wallet, ctx->offer.product_len, ctx->offer.product, err);
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
    char                          spkhex[2 * BC_SPK_MAX + 1], machex[65];
    size_t                        spk_len;
    ngx_str_t                     a[24], key, duekey, exp, due, title, multi;
    ngx_uint_t                    n;
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

    inv->network = ctx->offer.network;
    inv->amount = ctx->offer.price;
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

    if (!bc_invoice_mac(mac, inv, ((ngx_http_bitcache_loc_conf_t *)
                        ngx_http_get_module_loc_conf(r,
                            ngx_http_bitcache_module))->keys))
    {
        ngx_http_bitcache_api_fail(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                   "cannot sign the invoice");
        return;
    }

    bc_hex_encode(spkhex, ctx->spk, spk_len);
    bc_hex_encode(machex, mac, sizeof(mac));

    if (ngx_http_bitcache_key(r, &key, "inv:", (u_char *) ctx->idhex,
                                  2 * BC_INVOICE_ID_LEN) != NGX_OK
        || ngx_http_bitcache_key(r, &duekey, "watcher:due", (u_char *) "", 0) != NGX_OK)
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    title.data = (u_char *) ctx->offer.title;
    title.len = ctx->offer.title_len;

    /* MULTI; HSET inv:<id> ...; EXPIREAT; ZADD watcher:due <expires> <id>
     * (the watcher marks it expired if nothing paid it by then); EXEC */
    n = 0;
    ngx_str_set(&a[n], "HSET"); n++;
    a[n++] = key;
    ngx_str_set(&a[n], "v"); n++;
    ngx_str_set(&a[n], "1"); n++;
    ngx_str_set(&a[n], "state"); n++;
    ngx_str_set(&a[n], "new"); n++;
    ngx_str_set(&a[n], "product"); n++;
    a[n].data = (u_char *) inv->product; a[n++].len = inv->product_len;
    ngx_str_set(&a[n], "title"); n++;
    a[n++] = title;
    ngx_str_set(&a[n], "wallet"); n++;
    a[n].data = (u_char *) inv->wallet; a[n++].len = inv->wallet_len;
    ngx_str_set(&a[n], "network"); n++;
    ngx_http_bitcache_set_num(r, &a[n++], inv->network);
    ngx_str_set(&a[n], "index"); n++;
    ngx_http_bitcache_set_num(r, &a[n++], inv->index);
    ngx_str_set(&a[n], "address"); n++;
    a[n].data = (u_char *) ctx->address; a[n++].len = inv->address_len;
    ngx_str_set(&a[n], "spk"); n++;
    a[n].data = (u_char *) spkhex; a[n++].len = 2 * spk_len;
    ngx_str_set(&a[n], "amount"); n++;
    ngx_http_bitcache_set_num(r, &a[n++], inv->amount);

    ngx_str_set(&multi, "MULTI");

    if (ngx_http_bitcache_queue(1, &multi) != NGX_OK
        || ngx_http_bitcache_queue(n, a) != NGX_OK)
    {
        ngx_http_bitcache_api_fail(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                   "redis unavailable");
        return;
    }

    /* the rest of the fields: at most 16 arguments a command */

    n = 0;
    ngx_str_set(&a[n], "HSET"); n++;
    a[n++] = key;
    ngx_str_set(&a[n], "confirmations"); n++;
    ngx_http_bitcache_set_num(r, &a[n++], inv->confirmations);
    ngx_str_set(&a[n], "created"); n++;
    ngx_http_bitcache_set_num(r, &a[n++], inv->created);
    ngx_str_set(&a[n], "expires"); n++;
    ngx_http_bitcache_set_num(r, &a[n++], inv->expires);
    ngx_str_set(&a[n], "token_ttl"); n++;
    ngx_http_bitcache_set_num(r, &a[n++], inv->token_ttl);
    ngx_str_set(&a[n], "max_downloads"); n++;
    ngx_http_bitcache_set_num(r, &a[n++], inv->max_downloads);
    ngx_str_set(&a[n], "mac"); n++;
    a[n].data = (u_char *) machex; a[n++].len = 64;

    if (ngx_http_bitcache_queue(n, a) != NGX_OK) {
        ngx_http_bitcache_api_fail(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                   "redis unavailable");
        return;
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

    if (ngx_http_bitcache_queue(3, a) != NGX_OK
        || ngx_http_bitcache_queue(4, &a[8]) != NGX_OK)
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


static void
ngx_http_bitcache_create_stored(ngx_http_bitcache_call_t *call,
    redisReply *reply)
{
    u_char                       *body, *p;
    char                          bip21[512], btc[BC_BTC_AMOUNT_MAX];
    size_t                        i;
    ngx_str_t                     location, title;
    ngx_http_request_t           *r = call->request;
    ngx_http_bitcache_api_ctx_t  *ctx = call->data;

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
                  "bitcache: invoice %s for \"%*s\": %uL sats to %s (index %uD)",
                  ctx->idhex, ctx->inv.product_len, ctx->inv.product,
                  ctx->inv.amount, ctx->address, ctx->inv.index);

    /* <base>/invoices/<id> */
    location.len = ctx->base.len + sizeof("/invoices/") - 1
                   + 2 * BC_INVOICE_ID_LEN;
    location.data = ngx_pnalloc(r->pool, location.len);
    if (location.data == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }
    ngx_sprintf(location.data, "%V/invoices/%s", &ctx->base, ctx->idhex);

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

    body = ngx_pnalloc(r->pool, 1024 + sizeof(bip21) + location.len);
    if (body == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    p = ngx_sprintf(body, "{\"id\":\"%s\",\"state\":\"new\",\"address\":\"%s\","
                    "\"amount_sats\":%uL,\"amount_btc\":\"%s\",\"bip21\":\"%s\","
                    "\"confirmations\":%ud,\"expires\":%uL,\"seconds_left\":%uD,"
                    "\"status_url\":\"%V\"}\n",
                    ctx->idhex, ctx->address, ctx->inv.amount, btc, bip21,
                    (ngx_uint_t) ctx->inv.confirmations, ctx->inv.expires,
                    ctx->offer.invoice_ttl, &location);

    r->headers_out.location = ngx_list_push(&r->headers_out.headers);
    if (r->headers_out.location != NULL) {
        r->headers_out.location->hash = 1;
        ngx_str_set(&r->headers_out.location->key, "Location");
        r->headers_out.location->value = location;
    }

    ngx_http_bitcache_send(r, NGX_HTTP_CREATED, "application/json", body,
                           p - body);
}
