/*
 * The wallet's routes in the `bitcache_api` location (docs/wallet.md):
 *
 *   POST <api>/wallets           a new wallet: its code once, the cookie
 *   POST <api>/wallet/restore    code= : the cookie again (rate-limited)
 *   POST <api>/wallet/forget     the cookie cleared
 *   GET  <api>/wallet            balance, top-ups, purchases (HTML, JSON)
 *   GET  <api>/wallet/history    the ledger, newest first (JSON)
 *   POST <api>/wallet/settings   max_auto_price=
 *   POST <api>/wallet/buy        offer= [key=] [again=1]: a purchase
 *
 * (POST <api>/wallet/topups is ngx_http_bitcache_wallet_topup.c's.)
 * Every record read from Redis is shown or used only if its MAC verifies;
 * the code is never logged, and sent only in the answer that opens the
 * wallet. A POST authenticated by the cookie is refused when it comes
 * from another site (Origin, Sec-Fetch-Site).
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "api_request.h"
#include "bip21.h"
#include "hex.h"
#include "network.h"
#include "request_origin.h"
#include "token_record.h"
#include "wallet_topup.h"
#include "ngx_http_bitcache.h"
#include "ngx_http_bitcache_call.h"
#include "ngx_http_bitcache_page.h"
#include "ngx_http_bitcache_status.h"
#include "ngx_http_bitcache_wallet.h"


#define NGX_HTTP_BITCACHE_WAPI_BODY_MAX   8192
#define NGX_HTTP_BITCACHE_WAPI_COOKIE_AGE (365 * 86400)
#define NGX_HTTP_BITCACHE_WAPI_PAGE_MAX   100   /* entries in an answer */
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


static char  ngx_http_bitcache_wallet_set_sha[41];


static void ngx_http_bitcache_wapi_body(ngx_http_request_t *r);
static void ngx_http_bitcache_wapi_loaded(ngx_http_request_t *r,
    ngx_http_bitcache_wallet_t *w);


/* ---- answers ---- */

static ngx_str_t *
ngx_http_bitcache_wapi_url(ngx_http_request_t *r, const char *suffix)
{
    ngx_str_t                     *u;
    ngx_http_bitcache_loc_conf_t  *blcf;

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bitcache_module);

    u = ngx_palloc(r->pool, sizeof(ngx_str_t));
    if (u == NULL) {
        return NULL;
    }

    u->len = blcf->api_url.len + ngx_strlen(suffix);
    u->data = ngx_pnalloc(r->pool, u->len);
    if (u->data == NULL) {
        return NULL;
    }

    ngx_sprintf(u->data, "%V%s", &blcf->api_url, suffix);

    return u;
}


/* An error for a browser: the wallet page's frame with the reason, a link
 * to the wallet page and the restore form (also the top-ups'). */
void
ngx_http_bitcache_wapi_message(ngx_http_request_t *r, ngx_uint_t status,
    const char *reason)
{
    size_t                          n;
    ngx_str_t                      *api;
    bc_tvar                         vars[5];
    ngx_http_bitcache_main_conf_t  *bmcf;

    bmcf = ngx_http_get_module_main_conf(r, ngx_http_bitcache_module);
    api = ngx_http_bitcache_wapi_url(r, "");
    if (api == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    n = 0;
    vars[n].name = "api"; vars[n++].value = ngx_http_bitcache_cstr(r, api);
    vars[n].name = "message"; vars[n++].value = reason;
    vars[n].name = "message_class"; vars[n++].value = "bad";
    vars[n].name = "back"; vars[n++].value = "1";

    ngx_http_bitcache_send_template(r, bmcf->wallet_page, status, vars, n);
}


/* An error: JSON {"status","error","reason"} and extra members (already
 * JSON), or the short HTML page. */
static void
ngx_http_bitcache_wapi_fail(ngx_http_request_t *r,
    ngx_http_bitcache_wapi_t *ctx, ngx_uint_t status, const char *error, const char *reason, ngx_str_t *extra)
{
    u_char     *body, *p;
    ngx_str_t   why;

    static ngx_str_t  scheme = ngx_string("Bitcache realm=\"wallet\"");

    if (status == NGX_HTTP_UNAUTHORIZED
        && ngx_http_bitcache_add_header(r, "WWW-Authenticate", &scheme)
           != NGX_OK)
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (ctx == NULL || !ctx->json) {
        ngx_http_bitcache_wapi_message(r, status, reason);
        return;
    }

    why.data = (u_char *) reason;
    why.len = ngx_strlen(reason);

    body = ngx_pnalloc(r->pool, 128 + 6 * why.len + (extra ? extra->len : 0));
    if (body == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    p = ngx_sprintf(body, "{\"status\":%ui,\"error\":\"%s\",\"reason\":\"",
                    status, error);
    p = ngx_http_bitcache_escape_json(p, &why);
    p = ngx_sprintf(p, "\"");
    if (extra != NULL) {
        p = ngx_sprintf(p, ",%V", extra);
    }
    p = ngx_sprintf(p, "}\n");

    ngx_http_bitcache_send(r, status, "application/json", body, p - body);
}


static ngx_int_t
ngx_http_bitcache_wapi_location(ngx_http_request_t *r, ngx_str_t *url)
{
    r->headers_out.location = ngx_list_push(&r->headers_out.headers);
    if (r->headers_out.location == NULL) {
        return NGX_ERROR;
    }

    r->headers_out.location->hash = 1;
    ngx_str_set(&r->headers_out.location->key, "Location");
    r->headers_out.location->value = *url;

    return NGX_OK;
}


/* 303 to <api>/wallet (a form's answer), or 200 with json. */
static void
ngx_http_bitcache_wapi_done(ngx_http_request_t *r,
    ngx_http_bitcache_wapi_t *ctx, u_char *json, size_t len)
{
    ngx_str_t  *url;

    if (ctx->json) {
        ngx_http_bitcache_send(r, NGX_HTTP_OK, "application/json", json, len);
        return;
    }

    url = ngx_http_bitcache_wapi_url(r, "/wallet");
    if (url == NULL || ngx_http_bitcache_wapi_location(r, url) != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_bitcache_send(r, NGX_HTTP_SEE_OTHER, "text/plain", NULL, 0);
}


static ngx_int_t
ngx_http_bitcache_wapi_cookie(ngx_http_request_t *r, const char *code,
    time_t max_age)
{
    ngx_str_t  root = ngx_string("/");

    return ngx_http_bitcache_set_cookie(r, BC_WALLET_COOKIE, code, &root,
                                        max_age);
}


/* A wallet outcome that is not a success, as an answer. */
static void
ngx_http_bitcache_wapi_refuse(ngx_http_request_t *r,
    ngx_http_bitcache_wapi_t *ctx)
{
    u_char                        *p;
    ngx_str_t                      extra, *topup, *page;
    ngx_http_bitcache_wallet_t    *w = &ctx->w;
    ngx_http_bitcache_wallet_outcome_e  o = w->outcome;

    switch (o) {

    case NGX_HTTP_BITCACHE_WALLET_LOW:
        topup = ngx_http_bitcache_wapi_url(r, "/wallet/topups");
        page = ngx_http_bitcache_wapi_url(r, "/wallet");
        if (topup == NULL || page == NULL) {
            break;
        }
        extra.data = ngx_pnalloc(r->pool, 128 + 6 * (topup->len + page->len));
        if (extra.data == NULL) {
            break;
        }
        p = ngx_sprintf(extra.data, "\"balance_sats\":%uL,\"price_sats\":%uL,"
                        "\"topup_url\":\"", w->state.balance, w->offer.price);
        p = ngx_http_bitcache_escape_json(p, topup);
        p = ngx_sprintf(p, "\",\"wallet_url\":\"");
        p = ngx_http_bitcache_escape_json(p, page);
        p = ngx_sprintf(p, "\"");
        extra.len = p - extra.data;
        ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_PAYMENT_REQUIRED,
                                    "balance_too_low",
                                    ctx->json ? "balance too low"
                                    : "Balance too low for this file: top "
                                      "up on your wallet page.", &extra);
        return;

    case NGX_HTTP_BITCACHE_WALLET_FROZEN:
        extra.data = ngx_pnalloc(r->pool, 32 + 6 * w->frozen.len);
        if (extra.data == NULL) {
            break;
        }
        p = ngx_sprintf(extra.data, "\"frozen\":\"");
        p = ngx_http_bitcache_escape_json(p, &w->frozen);
        p = ngx_sprintf(p, "\"");
        extra.len = p - extra.data;
        ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_FORBIDDEN, "frozen",
                                    "wallet frozen: an operator must look at "
                                    "it", &extra);
        return;

    case NGX_HTTP_BITCACHE_WALLET_NONE:
        ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_UNAUTHORIZED,
                                    "unknown_wallet",
                                    ngx_http_bitcache_wallet_outcome_str(o),
                                    NULL);
        return;

    case NGX_HTTP_BITCACHE_WALLET_INVALID:
        ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_CONFLICT,
                                    "invalid_wallet",
                                    ngx_http_bitcache_wallet_outcome_str(o),
                                    NULL);
        return;

    case NGX_HTTP_BITCACHE_WALLET_KEY_REUSED:
        ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_CONFLICT, "key_reused",
                                    ngx_http_bitcache_wallet_outcome_str(o),
                                    NULL);
        return;

    case NGX_HTTP_BITCACHE_WALLET_NETWORK:
    case NGX_HTTP_BITCACHE_WALLET_OVER_AUTO:
        ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_BAD_REQUEST,
                                    "refused",
                                    ngx_http_bitcache_wallet_outcome_str(o),
                                    NULL);
        return;

    case NGX_HTTP_BITCACHE_WALLET_BUSY:
        ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "busy",
                                    ngx_http_bitcache_wallet_outcome_str(o),
                                    NULL);
        return;

    default:
        ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable",
                                    w->failure ? w->failure
                                               : "redis unavailable", NULL);
        return;
    }

    ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
}


/* ---- requests ---- */

static ngx_table_elt_t *
ngx_http_bitcache_wapi_header(ngx_http_request_t *r, const char *name)
{
    size_t            len;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    len = ngx_strlen(name);
    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }
            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == len
            && ngx_strncasecmp(h[i].key.data, (u_char *) name, len) == 0)
        {
            return &h[i];
        }
    }
}


/* 1 if a browser sent this POST from another site (libbitcache's
 * bc_request_cross_site on Origin, Sec-Fetch-Site and Host). With
 * SameSite=Lax the cookie is not sent on such POSTs; this holds where it
 * is. */
static ngx_flag_t
ngx_http_bitcache_wapi_cross_site(ngx_http_request_t *r)
{
    int               tls;
    ngx_table_elt_t  *origin, *fetch, *host;

    origin = ngx_http_bitcache_wapi_header(r, "Origin");
    fetch = ngx_http_bitcache_wapi_header(r, "Sec-Fetch-Site");
    host = r->headers_in.host;

    tls = 0;
#if (NGX_HTTP_SSL)
    tls = r->connection->ssl != NULL;
#endif

    return bc_request_cross_site(
               origin ? (const char *) origin->value.data : NULL,
               origin ? origin->value.len : 0,
               fetch ? (const char *) fetch->value.data : NULL,
               fetch ? fetch->value.len : 0,
               host ? (const char *) host->value.data : NULL,
               host ? host->value.len : 0, tls);
}


/* The whole body, at most 8 KiB, in one buffer (empty: len 0). */
static ngx_int_t
ngx_http_bitcache_wapi_read_body(ngx_http_request_t *r, ngx_str_t *body)
{
    u_char       *p;
    size_t        len;
    ngx_chain_t  *cl;

    body->len = 0;
    body->data = NULL;

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_OK;
    }

    len = 0;
    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        if (cl->buf->in_file) {
            return NGX_DECLINED;
        }
        len += cl->buf->last - cl->buf->pos;
    }

    if (len > NGX_HTTP_BITCACHE_WAPI_BODY_MAX) {
        return NGX_DECLINED;
    }

    body->data = ngx_pnalloc(r->pool, len + 1);
    if (body->data == NULL) {
        return NGX_ERROR;
    }

    p = body->data;
    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        p = ngx_cpymem(p, cl->buf->pos, cl->buf->last - cl->buf->pos);
    }
    body->len = len;

    return NGX_OK;
}


static ngx_flag_t
ngx_http_bitcache_wapi_field(ngx_http_bitcache_wapi_t *ctx, const char *name,
    ngx_str_t *value)
{
    const char  *v;

    if (ctx->body.len == 0
        || !bc_body_field((const char *) ctx->body.data, ctx->body.len, name,
                          &v, &value->len))
    {
        return 0;
    }

    value->data = (u_char *) v;
    return 1;
}


/* Runs ctx's script (EVALSHA, EVAL after NOSCRIPT); next gets the answer. */
static ngx_int_t
ngx_http_bitcache_wapi_run(ngx_http_request_t *r,
    ngx_http_bitcache_wapi_t *ctx);

static void
ngx_http_bitcache_wapi_answer(ngx_http_bitcache_call_t *call,
    redisReply *reply)
{
    ngx_http_request_t        *r = call->request;
    ngx_http_bitcache_wapi_t  *ctx = call->data;

    if (reply != NULL && reply->type == REDIS_REPLY_ERROR && ctx->script
        && !ctx->evaled && ngx_strncmp(reply->str, "NOSCRIPT", 8) == 0)
    {
        ctx->evaled = 1;
        ctx->argv[0] = "EVAL";
        ctx->argvlen[0] = 4;
        ctx->argv[1] = ctx->script;
        ctx->argvlen[1] = ngx_strlen(ctx->script);

        if (ngx_http_bitcache_wapi_run(r, ctx) != NGX_OK) {
            ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                        "unavailable", "redis unavailable",
                                        NULL);
        }
        return;
    }

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        if (reply != NULL) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "bitcache: wallet %s: redis: %s", ctx->w.widhex,
                          reply->str);
        }
        ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable",
                                    reply ? "redis refused the command"
                                          : call->failure, NULL);
        return;
    }

    ctx->next(r, ctx, reply);
}


static ngx_int_t
ngx_http_bitcache_wapi_run(ngx_http_request_t *r,
    ngx_http_bitcache_wapi_t *ctx)
{
    return ngx_http_bitcache_call(&ctx->call, r, ngx_http_bitcache_wapi_answer,
                                  ctx, ctx->argc, ctx->argv, ctx->argvlen);
}


/* BC_SCRIPT_WALLET_SET on wal:<wid>: create (readmac NULL) or change the
 * state to ctx->next_state if it is still the one whose MAC was read. */
static ngx_int_t
ngx_http_bitcache_wapi_set(ngx_http_request_t *r, ngx_http_bitcache_wapi_t *ctx,
    const unsigned char *readmac, ngx_http_bitcache_wapi_pt next)
{
    u_char                        *hex;
    ngx_int_t                      i;
    ngx_str_t                      key, led;
    ngx_http_bitcache_loc_conf_t  *blcf;

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bitcache_module);

    if (ngx_http_bitcache_wallet_set_sha[0] == '\0') {
        bc_script_sha1(ngx_http_bitcache_wallet_set_sha, bc_script_wallet_set);
    }

    if (!bc_wallet_state_mac(ctx->next_state.mac, &ctx->next_state,
                             blcf->keys)
        || ngx_http_bitcache_key(r, &key, BC_KEY_WALLET,
                                 (u_char *) ctx->w.widhex,
                                 2 * BC_WALLET_ID_LEN) != NGX_OK
        || ngx_http_bitcache_key(r, &led, BC_KEY_LEDGER,
                                 (u_char *) ctx->w.widhex,
                                 2 * BC_WALLET_ID_LEN) != NGX_OK)
    {
        return NGX_ERROR;
    }

    hex = ngx_pnalloc(r->pool, 65);
    if (hex == NULL) {
        return NGX_ERROR;
    }
    if (readmac) {
        bc_hex_encode((char *) hex, readmac, 32);
    } else {
        hex[0] = '\0';
    }

    bc_wallet_state_argv_make(&ctx->sa, &ctx->next_state);

    ctx->script = bc_script_wallet_set;
    ctx->argv[0] = ctx->evaled ? "EVAL" : "EVALSHA";
    ctx->argvlen[0] = ngx_strlen(ctx->argv[0]);
    ctx->argv[1] = ctx->evaled ? bc_script_wallet_set
                               : ngx_http_bitcache_wallet_set_sha;
    ctx->argvlen[1] = ngx_strlen(ctx->argv[1]);
    ctx->argv[2] = "2";
    ctx->argvlen[2] = 1;
    ctx->argv[3] = (const char *) key.data;
    ctx->argvlen[3] = key.len;
    ctx->argv[4] = (const char *) led.data;
    ctx->argvlen[4] = led.len;
    ctx->argv[5] = (const char *) hex;
    ctx->argvlen[5] = ngx_strlen((char *) hex);
    for (i = 0; i < 16; i++) {
        ctx->argv[6 + i] = ctx->sa.argv[i];
        ctx->argvlen[6 + i] = ctx->sa.argvlen[i];
    }
    ctx->argc = 22;
    ctx->next = next;

    return ngx_http_bitcache_wapi_run(r, ctx);
}


static ngx_flag_t
ngx_http_bitcache_wapi_word(redisReply *reply, const char *word)
{
    size_t       len;
    redisReply  *e;

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 1) {
        return 0;
    }

    e = reply->element[0];
    len = ngx_strlen(word);

    return e->type == REDIS_REPLY_STRING && (size_t) e->len == len
           && ngx_strncmp(e->str, word, len) == 0;
}


/* ---- POST /wallets ---- */

static void
ngx_http_bitcache_wapi_created(ngx_http_request_t *r,
    ngx_http_bitcache_wapi_t *ctx, redisReply *reply)
{
    u_char     *body, *p;
    ngx_str_t  *page;

    if (!ngx_http_bitcache_wapi_word(reply, "ok")) {
        /* "exists": 2^-128 a wallet; never overwrite one */
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "bitcache: wallet %s not created: the id exists",
                      ctx->w.widhex);
        ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", "retry", NULL);
        return;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "bitcache: wallet %s opened", ctx->w.widhex);

    if (ngx_http_bitcache_wapi_cookie(r, ctx->code,
                                      NGX_HTTP_BITCACHE_WAPI_COOKIE_AGE)
        != NGX_OK)
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (!ctx->json) {
        /* the page that shows the code, once */
        ctx->w.outcome = NGX_HTTP_BITCACHE_WALLET_LOADED;
        ctx->w.state = ctx->next_state;
        ctx->route = BC_ROUTE_WALLETS;
        ngx_http_bitcache_wapi_loaded(r, &ctx->w);
        return;
    }

    page = ngx_http_bitcache_wapi_url(r, "/wallet");
    body = page ? ngx_pnalloc(r->pool, 256 + 6 * page->len) : NULL;
    if (body == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    p = ngx_sprintf(body, "{\"wallet\":\"%s\",\"code\":\"%s\","
                    "\"balance_sats\":0,\"wallet_url\":\"", ctx->w.widhex,
                    ctx->code);
    p = ngx_http_bitcache_escape_json(p, page);
    p = ngx_sprintf(p, "\"}\n");

    ngx_http_bitcache_send(r, NGX_HTTP_CREATED, "application/json", body,
                           p - body);
}


static void
ngx_http_bitcache_wapi_create(ngx_http_request_t *r,
    ngx_http_bitcache_wapi_t *ctx)
{
    ngx_http_bitcache_wallet_t    *w = &ctx->w;
    ngx_http_bitcache_loc_conf_t  *blcf;

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bitcache_module);

    if (!bc_wallet_secret_new(w->secret) || !bc_wallet_id_of(w->wid, w->secret))
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    bc_wallet_code_encode(ctx->code, w->secret);
    bc_hex_encode(w->widhex, w->wid, BC_WALLET_ID_LEN);
    w->data = ctx;

    ngx_memzero(&ctx->next_state, sizeof(bc_wallet_state));
    ngx_memcpy(ctx->next_state.wid, w->wid, BC_WALLET_ID_LEN);
    ctx->next_state.network = (uint8_t) blcf->network;
    ctx->next_state.created = (uint64_t) ngx_time();

    if (ngx_http_bitcache_wapi_set(r, ctx, NULL, ngx_http_bitcache_wapi_created)
        != NGX_OK)
    {
        ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", "redis unavailable", NULL);
    }
}


/* POST /wallets from a browser or script that carries the credential of
 * a wallet (the "wallet opened" page reloaded posts the form again): no
 * second wallet, and the cookie stays. */
static void
ngx_http_bitcache_wapi_opened_before(ngx_http_request_t *r,
    ngx_http_bitcache_wallet_t *w)
{
    u_char                    *p;
    ngx_str_t                  extra, *url;
    ngx_http_bitcache_wapi_t  *ctx = w->data;

    if (w->outcome == NGX_HTTP_BITCACHE_WALLET_NONE) {
        ngx_http_bitcache_wapi_create(r, ctx);
        return;
    }

    if (w->outcome == NGX_HTTP_BITCACHE_WALLET_UNAVAILABLE) {
        ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", "redis unavailable", NULL);
        return;
    }

    if (!ctx->json) {
        url = ngx_http_bitcache_wapi_url(r, "/wallet");
        if (url == NULL || ngx_http_bitcache_wapi_location(r, url) != NGX_OK) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
        ngx_http_bitcache_send(r, NGX_HTTP_SEE_OTHER, "text/plain", NULL, 0);
        return;
    }

    extra.data = ngx_pnalloc(r->pool, 64);
    if (extra.data == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }
    p = ngx_sprintf(extra.data, "\"wallet\":\"%s\"", w->widhex);
    extra.len = p - extra.data;

    ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_CONFLICT, "has_wallet",
                                "this browser already has a wallet: forget "
                                "it first", &extra);
}


static void
ngx_http_bitcache_wapi_wallets(ngx_http_request_t *r,
    ngx_http_bitcache_wapi_t *ctx)
{
    char        err[128];
    ngx_int_t   rc;

    rc = ngx_http_bitcache_wallet_credential(r, &ctx->w, &ctx->header, err,
                                             sizeof(err));
    if (rc != NGX_OK) {
        ngx_http_bitcache_wapi_create(r, ctx);   /* none, or not a code */
        return;
    }

    rc = ngx_http_bitcache_wallet_load(r, &ctx->w, NULL,
                                       ngx_http_bitcache_wapi_opened_before,
                                       ctx);
    if (rc != NGX_OK) {
        ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", "redis unavailable", NULL);
    }
}


/* ---- POST /wallet/restore ---- */

static void
ngx_http_bitcache_wapi_restored(ngx_http_request_t *r,
    ngx_http_bitcache_wallet_t *w)
{
    u_char                    *body, *p;
    ngx_http_bitcache_wapi_t  *ctx = w->data;

    if (w->outcome == NGX_HTTP_BITCACHE_WALLET_NONE) {
        ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_NOT_FOUND,
                                    "unknown_wallet",
                                    "no wallet has this recovery code", NULL);
        return;
    }

    if (w->outcome != NGX_HTTP_BITCACHE_WALLET_LOADED) {
        ngx_http_bitcache_wapi_refuse(r, ctx);
        return;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "bitcache: wallet %s restored", w->widhex);

    /* the code as the wallet writes it, whatever spelling was typed */
    bc_wallet_code_encode(ctx->code, w->secret);

    if (ngx_http_bitcache_wapi_cookie(r, ctx->code,
                                      NGX_HTTP_BITCACHE_WAPI_COOKIE_AGE)
        != NGX_OK)
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    body = ngx_pnalloc(r->pool, 128);
    if (body == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    p = ngx_sprintf(body, "{\"wallet\":\"%s\",\"balance_sats\":%uL}\n",
                    w->widhex, w->state.balance);

    ngx_http_bitcache_wapi_done(r, ctx, body, p - body);
}


static void
ngx_http_bitcache_wapi_counted(ngx_http_request_t *r,
    ngx_http_bitcache_wapi_t *ctx, redisReply *reply)
{
    ngx_int_t                      rc;
    ngx_http_bitcache_loc_conf_t  *blcf;

    static ngx_str_t  minute = ngx_string("60");

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bitcache_module);

    /* EXEC: [SET NX EX, INCR] */
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2
        || reply->element[1]->type != REDIS_REPLY_INTEGER)
    {
        ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", "redis unavailable", NULL);
        return;
    }

    if (reply->element[1]->integer > (long long) blcf->wallet_restore_rate) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "bitcache: wallet restores from %V: more than %i a "
                      "minute, refused", &r->connection->addr_text,
                      blcf->wallet_restore_rate);

        if (ngx_http_bitcache_add_header(r, "Retry-After", &minute) != NGX_OK) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_TOO_MANY_REQUESTS,
                                    "rate_limited",
                                    "too many restore attempts: wait a "
                                    "minute", NULL);
        return;
    }

    rc = ngx_http_bitcache_wallet_load(r, &ctx->w, NULL,
                                       ngx_http_bitcache_wapi_restored, ctx);
    if (rc != NGX_OK) {
        ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", "redis unavailable", NULL);
    }
}


static void
ngx_http_bitcache_wapi_restore(ngx_http_request_t *r,
    ngx_http_bitcache_wapi_t *ctx)
{
    char        err[128], typed[BC_WALLET_CODE_INPUT_MAX + 1];
    size_t      len = 0;
    ngx_str_t   code, key, a[6];
    ngx_flag_t  found;

    /* a form's code decoded ('+', %20, %2D: typed in groups), at most
     * BC_WALLET_CODE_INPUT_MAX + 1 bytes: one more says "too long" */
    found = ctx->body.len
            && bc_body_code((const char *) ctx->body.data, ctx->body.len,
                            typed, sizeof(typed), &len);

    if (!found && !ngx_http_bitcache_wapi_field(ctx, "code", &code)) {
        ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_BAD_REQUEST, "bad_request",
                                    "no recovery code in the request (code=)",
                                    NULL);
        return;
    }

    if (found) {
        code.data = (u_char *) typed;
        code.len = len;
    }

    /* a typo is told at once, without counting or asking Redis */
    if (code.len > BC_WALLET_CODE_INPUT_MAX
        || !bc_wallet_code_decode(ctx->w.secret, (const char *) code.data,
                                  code.len, err, sizeof(err))
        || !bc_wallet_id_of(ctx->w.wid, ctx->w.secret))
    {
        ngx_explicit_memzero(typed, sizeof(typed));
        ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_BAD_REQUEST, "bad_code",
                                    code.len > BC_WALLET_CODE_INPUT_MAX
                                    ? "not a recovery code" : err, NULL);
        return;
    }

    ngx_explicit_memzero(typed, sizeof(typed));

    bc_hex_encode(ctx->w.widhex, ctx->w.wid, BC_WALLET_ID_LEN);

    /* MULTI; SET wrl:<address> 0 EX 60 NX; INCR; EXEC: a window of a
     * minute from the first attempt */
    if (ngx_http_bitcache_key(r, &key, BC_KEY_RESTORE_RATE,
                              r->connection->addr_text.data,
                              r->connection->addr_text.len) != NGX_OK)
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_str_set(&a[0], "MULTI");
    if (ngx_http_bitcache_queue(1, a) != NGX_OK) {
        goto unavailable;
    }

    ngx_str_set(&a[0], "SET");
    a[1] = key;
    ngx_str_set(&a[2], "0");
    ngx_str_set(&a[3], "EX");
    ngx_str_set(&a[4], "60");
    ngx_str_set(&a[5], "NX");
    if (ngx_http_bitcache_queue(6, a) != NGX_OK) {
        goto unavailable;
    }

    ngx_str_set(&a[0], "INCR");
    if (ngx_http_bitcache_queue(2, a) != NGX_OK) {
        goto unavailable;
    }

    ctx->script = NULL;
    ctx->argv[0] = "EXEC";
    ctx->argvlen[0] = 4;
    ctx->argc = 1;
    ctx->next = ngx_http_bitcache_wapi_counted;

    if (ngx_http_bitcache_wapi_run(r, ctx) == NGX_OK) {
        return;
    }

unavailable:

    ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                "unavailable", "redis unavailable", NULL);
}


/* ---- POST /wallet/settings ---- */

static void ngx_http_bitcache_wapi_settings_loaded(ngx_http_request_t *r,
    ngx_http_bitcache_wallet_t *w);

static void
ngx_http_bitcache_wapi_settings_set(ngx_http_request_t *r,
    ngx_http_bitcache_wapi_t *ctx, redisReply *reply)
{
    u_char                      *body, *p;
    ngx_http_bitcache_wallet_t  *w = &ctx->w;

    if (ngx_http_bitcache_wapi_word(reply, "ok")) {
        body = ngx_pnalloc(r->pool, 128);
        if (body == NULL) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
        p = ngx_sprintf(body, "{\"wallet\":\"%s\",\"max_auto_price\":%uL,"
                        "\"balance_sats\":%uL}\n", w->widhex,
                        ctx->next_state.max_auto, ctx->next_state.balance);
        ngx_http_bitcache_wapi_done(r, ctx, body, p - body);
        return;
    }

    if (ngx_http_bitcache_wapi_word(reply, "changed") && reply->elements > 1
        && ++ctx->tries < NGX_HTTP_BITCACHE_WALLET_TRIES)
    {
        /* a purchase came first: the same change on the state it left */
        w->outcome = ngx_http_bitcache_wallet_state(r, w, reply->element[1]);

        if (w->stale) {
            /* below the mark (another worker bought since): read again */
            if (ngx_http_bitcache_wallet_load(r, w, NULL,
                                        ngx_http_bitcache_wapi_settings_loaded,
                                        ctx)
                != NGX_OK)
            {
                ngx_http_bitcache_wapi_fail(r, ctx,
                                            NGX_HTTP_SERVICE_UNAVAILABLE,
                                            "unavailable",
                                            "redis unavailable", NULL);
            }
            return;
        }

        ngx_http_bitcache_wapi_settings_loaded(r, w);
        return;
    }

    w->outcome = ngx_http_bitcache_wallet_rolled_back(r, w->widhex, reply)
                 ? NGX_HTTP_BITCACHE_WALLET_INVALID
                 : ngx_http_bitcache_wapi_word(reply, "changed")
                 ? NGX_HTTP_BITCACHE_WALLET_BUSY
                 : NGX_HTTP_BITCACHE_WALLET_NONE;
    ngx_http_bitcache_wapi_refuse(r, ctx);
}


static void
ngx_http_bitcache_wapi_settings_loaded(ngx_http_request_t *r,
    ngx_http_bitcache_wallet_t *w)
{
    ngx_http_bitcache_wapi_t  *ctx = w->data;

    if (w->outcome != NGX_HTTP_BITCACHE_WALLET_LOADED) {
        ngx_http_bitcache_wapi_refuse(r, ctx);
        return;
    }

    ctx->next_state = w->state;
    ctx->next_state.max_auto = ctx->max_auto;
    ctx->next_state.frozen = NULL;
    ctx->next_state.frozen_len = 0;

    if (ngx_http_bitcache_wapi_set(r, ctx, w->state.mac,
                                   ngx_http_bitcache_wapi_settings_set)
        != NGX_OK)
    {
        ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", "redis unavailable", NULL);
    }
}


static void
ngx_http_bitcache_wapi_settings(ngx_http_request_t *r,
    ngx_http_bitcache_wapi_t *ctx)
{
    ngx_str_t  v;

    if (!ngx_http_bitcache_wapi_field(ctx, "max_auto_price", &v)
        || !((v.len == 1 && v.data[0] == '0')
             || bc_body_sats((const char *) v.data, v.len, &ctx->max_auto)))
    {
        ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_BAD_REQUEST, "bad_request",
                                    "max_auto_price must be a number of sats "
                                    "(0: no auto-buy)", NULL);
        return;
    }

    if (v.len == 1 && v.data[0] == '0') {
        ctx->max_auto = 0;
    }

    if (ngx_http_bitcache_wallet_load(r, &ctx->w, NULL,
                                      ngx_http_bitcache_wapi_settings_loaded,
                                      ctx)
        != NGX_OK)
    {
        ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", "redis unavailable", NULL);
    }
}


/* ---- POST /wallet/buy ---- */

static void
ngx_http_bitcache_wapi_bought(ngx_http_request_t *r,
    ngx_http_bitcache_wallet_t *w)
{
    u_char                    *body, *p;
    ngx_str_t                 *path, url, product;
    ngx_http_bitcache_wapi_t  *ctx = w->data;

    if (w->outcome != NGX_HTTP_BITCACHE_WALLET_BOUGHT
        && w->outcome != NGX_HTTP_BITCACHE_WALLET_OWNED)
    {
        ngx_http_bitcache_wapi_refuse(r, ctx);
        return;
    }

    /* the token as a paid invoice delivers it (ngx_http_bitcache_status.c) */
    url.len = 0;
    path = ngx_http_bitcache_product_path(r, w->offer.product,
                                          w->offer.product_len);
    if (path != NULL) {
        if (ngx_http_bitcache_download_url(r, path, w->token_text, &url)
            != NGX_OK
            || ngx_http_bitcache_token_cookie(r, w->token_text,
                                              w->token.expires, path)
               != NGX_OK)
        {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
    }

    if (!ctx->json) {
        /* the download itself, its token in the cookie: the link with the
         * token stays out of the history and the logs */
        if (path == NULL) {
            path = ngx_http_bitcache_wapi_url(r, "/wallet");
        }
        if (path == NULL || ngx_http_bitcache_wapi_location(r, path) != NGX_OK)
        {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
        ngx_http_bitcache_send(r, NGX_HTTP_SEE_OTHER, "text/plain", NULL, 0);
        return;
    }

    product.data = (u_char *) w->offer.product;
    product.len = w->offer.product_len;

    body = ngx_pnalloc(r->pool, 256 + ngx_strlen(w->token_text)
                                + 6 * (url.len + product.len));
    if (body == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    p = ngx_sprintf(body, "{\"state\":\"%s\",\"token\":\"%s\","
                    "\"download_url\":\"",
                    w->outcome == NGX_HTTP_BITCACHE_WALLET_BOUGHT ? "bought"
                                                                  : "owned",
                    w->token_text);
    p = ngx_http_bitcache_escape_json(p, &url);
    p = ngx_sprintf(p, "\",\"product\":\"");
    p = ngx_http_bitcache_escape_json(p, &product);
    p = ngx_sprintf(p, "\",\"price_sats\":%uL,\"charged_sats\":%uL,"
                    "\"balance_sats\":%uL,\"expires\":%uL}\n",
                    w->offer.price,
                    w->outcome == NGX_HTTP_BITCACHE_WALLET_BOUGHT
                    ? w->offer.price : (uint64_t) 0,
                    w->state.balance, w->token.expires);

    ngx_http_bitcache_send(r, NGX_HTTP_OK, "application/json", body, p - body);
}


static void
ngx_http_bitcache_wapi_buy_loaded(ngx_http_request_t *r,
    ngx_http_bitcache_wallet_t *w)
{
    ngx_int_t                  rc;
    ngx_http_bitcache_wapi_t  *ctx = w->data;

    if (w->outcome != NGX_HTTP_BITCACHE_WALLET_LOADED) {
        ngx_http_bitcache_wapi_refuse(r, ctx);
        return;
    }

    rc = ngx_http_bitcache_wallet_buy(r, w, ngx_http_bitcache_wapi_bought, ctx);
    if (rc != NGX_OK) {
        ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", w->failure ? w->failure
                                    : "cannot compute the purchase", NULL);
    }
}


static void
ngx_http_bitcache_wapi_buy(ngx_http_request_t *r, ngx_http_bitcache_wapi_t *ctx)
{
    const char                    *o;
    ngx_str_t                      offer, key, again, product;
    ngx_table_elt_t               *h;
    bc_offer_status                st;
    ngx_http_bitcache_wallet_t    *w = &ctx->w;
    ngx_http_bitcache_loc_conf_t  *blcf;

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bitcache_module);

    if (ctx->body.len == 0
        || !bc_body_offer((const char *) ctx->body.data, ctx->body.len, &o,
                          &offer.len))
    {
        ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_BAD_REQUEST, "bad_request",
                                    "no offer in the request body", NULL);
        return;
    }
    offer.data = (u_char *) o;

    st = bc_offer_decode(&w->offer, ctx->offer_buf, (const char *) offer.data,
                         offer.len, blcf->keys, (uint64_t) ngx_time());
    if (st != BC_OFFER_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "bitcache: wallet %s: purchase refused: %s", w->widhex,
                      bc_offer_status_str(st));
        ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_BAD_REQUEST, "bad_offer",
                                    bc_offer_status_str(st), NULL);
        return;
    }

    if (bc_topup_reserved(w->offer.product, w->offer.product_len)) {
        /* "wallet:..." names top-ups: never a purchase */
        ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_BAD_REQUEST, "bad_offer",
                                    "this offer cannot be bought", NULL);
        return;
    }

    /* once per idempotency key: the header, else the form's key= */
    h = ngx_http_bitcache_wapi_header(r, "Idempotency-Key");
    if (h != NULL) {
        key = h->value;
    } else if (!ngx_http_bitcache_wapi_field(ctx, "key", &key)) {
        key.len = 0;
    }

    if (key.len && !bc_wallet_idem_ok((const char *) key.data, key.len)) {
        ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_BAD_REQUEST, "bad_key",
                                    "an idempotency key is 1 to 64 of "
                                    "A-Z a-z 0-9 _ -", NULL);
        return;
    }
    w->idem = key;

    w->again = ngx_http_bitcache_wapi_field(ctx, "again", &again)
               && again.len == 1 && again.data[0] == '1';

    product.data = (u_char *) w->offer.product;
    product.len = w->offer.product_len;

    if (ngx_http_bitcache_wallet_load(r, w, &product,
                                      ngx_http_bitcache_wapi_buy_loaded, ctx)
        != NGX_OK)
    {
        ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", "redis unavailable", NULL);
    }
}


/* ---- GET /wallet and /wallet/history: the ledger ---- */

typedef struct {
    bc_ledger_entry   e;
    ngx_flag_t        ok;           /* MAC, seq and chain verified */
    unsigned char     hash[32];     /* of its text: the next one's prev */
    char             *token;        /* a debit's, while it lasts */
    ngx_str_t         url;
} ngx_http_bitcache_wapi_entry_t;


/* Verifies the entries of LRANGE, which reads up to the state's last
 * (index i holds seq first + i): an entry is shown (and its token minted
 * again) only if its MAC verifies and it stands in the chain that ends
 * at the state's head; a MAC alone is not enough, since the module MACs
 * the entry of every purchase it tries, also of those the script did not
 * write (a Redis writer sees them). *n in: the entries read; out: those
 * before ctx->before, en[0 .. *n). */
static ngx_http_bitcache_wapi_entry_t *
ngx_http_bitcache_wapi_entries(ngx_http_request_t *r,
    ngx_http_bitcache_wapi_t *ctx, redisReply *reply, uint64_t *first_out,
    size_t *count)
{
    uint64_t                         first;
    char                             err[128];
    u_char                          *buf;
    size_t                           i, n;
    bc_token                         t;
    ngx_str_t                       *path;
    ngx_flag_t                       ok;
    redisReply                      *el;
    ngx_http_bitcache_wapi_entry_t  *en, *x;
    ngx_http_bitcache_wallet_t      *w = &ctx->w;
    ngx_http_bitcache_loc_conf_t    *blcf;

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bitcache_module);

    n = reply->elements;
    if (ctx->anchored) {
        first = (uint64_t) n <= w->state.seq ? w->state.seq + 1 - n : 1;
    } else {
        first = (uint64_t) n < ctx->before ? ctx->before - n : 1;
    }
    en = ngx_pcalloc(r->pool, (n + 1) * sizeof(ngx_http_bitcache_wapi_entry_t));
    if (en == NULL) {
        return NULL;
    }

    for (i = 0; i < n; i++) {
        el = reply->element[i];
        en[i].e.seq = first + i;

        if (el->type != REDIS_REPLY_STRING) {
            continue;
        }

        buf = ngx_pnalloc(r->pool, el->len + 1);
        if (buf == NULL) {
            return NULL;
        }

        if (!bc_ledger_entry_ok(el->str, el->len, w->wid, blcf->keys)
            || !bc_ledger_entry_parse(&en[i].e, buf, el->str, el->len, err,
                                      sizeof(err))
            || en[i].e.seq != first + i
            || !bc_ledger_entry_hash(en[i].hash, el->str, el->len))
        {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "bitcache: wallet %s: ledger entry %uL does not "
                          "verify (written by hand?): not shown", w->widhex,
                          (uint64_t) (first + i));
            en[i].e.seq = first + i;
            continue;
        }

        en[i].ok = 1;
    }

    /* the chain, from the state's head back: the newest must be the
     * state's last and hash to its head, each one before it must be the
     * prev of the one after */
    for (i = n; ctx->anchored && i > 0; i--) {
        x = &en[i - 1];

        if (!x->ok) {
            continue;
        }

        if (i == n) {
            ok = x->e.seq == w->state.seq
                 && ngx_memcmp(x->hash, w->state.head, 32) == 0;
        } else {
            ok = en[i].ok && ngx_memcmp(en[i].e.prev, x->hash, 32) == 0;
        }

        if (!ok) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "bitcache: wallet %s: ledger entry %uL is not in "
                          "the chain of the state's head (written by "
                          "hand?): not shown", w->widhex, x->e.seq);
            x->ok = 0;
        }
    }

    *count = ctx->before > first ? ngx_min((uint64_t) n, ctx->before - first)
                                 : 0;
    *first_out = *count ? first : ctx->before;

    for (i = 0; i < *count; i++) {
        if (!en[i].ok || !ctx->anchored) {
            /* a page too far back to walk to the head: its entries as
             * their MACs say, but no token: a MAC proves no payment */
            continue;
        }

        if (en[i].e.kind != BC_ENTRY_DEBIT
            || en[i].e.expires <= (uint64_t) ngx_time())
        {
            continue;
        }

        /* the purchase's token again: the entry verified, and it is the
         * wallet's own purchase */
        ngx_memcpy(t.id, en[i].e.purchase, BC_TOKEN_ID_LEN);
        t.expires = en[i].e.expires;
        t.uses = en[i].e.uses;
        t.product = (const unsigned char *) en[i].e.product;
        t.product_len = en[i].e.product_len;

        en[i].token = ngx_pnalloc(r->pool, BC_TOKEN_MAX_CHARS + 1);
        if (en[i].token == NULL) {
            return NULL;
        }
        if (bc_token_encode(en[i].token, &t, blcf->keys) == 0) {
            en[i].token = NULL;
            continue;
        }

        path = ngx_http_bitcache_product_path(r, en[i].e.product,
                                              en[i].e.product_len);
        if (path != NULL
            && ngx_http_bitcache_download_url(r, path, en[i].token,
                                              &en[i].url) != NGX_OK)
        {
            return NULL;
        }
    }

    return en;
}


/* One entry as JSON. */
static u_char *
ngx_http_bitcache_wapi_entry_json(u_char *p, ngx_http_bitcache_wapi_entry_t *x)
{
    char       hex[2 * BC_INVOICE_ID_LEN + 1];
    ngx_str_t  s;

    if (!x->ok) {
        return ngx_sprintf(p, "{\"seq\":%uL,\"kind\":\"invalid\"}", x->e.seq);
    }

    p = ngx_sprintf(p, "{\"seq\":%uL,\"kind\":\"%s\",\"amount_sats\":%uL,"
                    "\"balance_sats\":%uL,\"time\":%uL", x->e.seq,
                    x->e.kind == BC_ENTRY_CREDIT ? "credit" : "debit",
                    x->e.amount, x->e.balance, x->e.time);

    if (x->e.kind == BC_ENTRY_CREDIT) {
        bc_hex_encode(hex, x->e.invoice, BC_INVOICE_ID_LEN);
        return ngx_sprintf(p, ",\"invoice\":\"%s\"}", hex);
    }

    s.data = (u_char *) x->e.product;
    s.len = x->e.product_len;
    p = ngx_sprintf(p, ",\"product\":\"");
    p = ngx_http_bitcache_escape_json(p, &s);
    p = ngx_sprintf(p, "\",\"expires\":%uL,\"download_url\":\"", x->e.expires);
    p = ngx_http_bitcache_escape_json(p, &x->url);

    return ngx_sprintf(p, "\"}");
}


static size_t
ngx_http_bitcache_wapi_entry_size(ngx_http_bitcache_wapi_entry_t *x)
{
    return 512 + 6 * (x->e.product_len + x->url.len);
}


static void
ngx_http_bitcache_wapi_history_read(ngx_http_request_t *r,
    ngx_http_bitcache_wapi_t *ctx, redisReply *reply)
{
    u_char                          *body, *p;
    size_t                           i, n, size;
    uint64_t                         first;
    ngx_http_bitcache_wapi_entry_t  *en;

    if (reply->type != REDIS_REPLY_ARRAY) {
        ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", "ledger unreadable", NULL);
        return;
    }

    en = ngx_http_bitcache_wapi_entries(r, ctx, reply, &first, &n);
    if (en == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    size = 64;
    for (i = 0; i < n; i++) {
        size += ngx_http_bitcache_wapi_entry_size(&en[i]);
    }

    body = ngx_pnalloc(r->pool, size);
    if (body == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    /* newest first */
    p = ngx_sprintf(body, "{\"entries\":[");
    for (i = n; i > 0; i--) {
        p = ngx_http_bitcache_wapi_entry_json(p, &en[i - 1]);
        if (i > 1) {
            *p++ = ',';
        }
    }

    if (first > 1) {
        p = ngx_sprintf(p, "],\"next\":%uL}\n", first);
    } else {
        p = ngx_sprintf(p, "],\"next\":null}\n");
    }

    ngx_http_bitcache_send(r, NGX_HTTP_OK, "application/json", body, p - body);
}


/* LRANGE wled:<wid> for the entries with seq in [before - limit, before)
 * and on to the state's last, whose head anchors the chain that shows
 * them (ngx_http_bitcache_wapi_entries), unless that is more than
 * NGX_HTTP_BITCACHE_WALLET_CHAIN_MAX entries; never past the state read. */
static void
ngx_http_bitcache_wapi_ledger(ngx_http_request_t *r,
    ngx_http_bitcache_wapi_t *ctx, ngx_http_bitcache_wapi_pt next)
{
    u_char      *lo, *hi;
    uint64_t     first;
    ngx_str_t    key;

    if (ctx->before == 0 || ctx->before > ctx->w.state.seq + 1) {
        ctx->before = ctx->w.state.seq + 1;
    }

    first = ctx->before > ctx->limit ? ctx->before - ctx->limit : 1;

    if (ctx->before <= 1) {
        /* nothing before the first entry: an empty page, no round trip */
        ctx->before = 1;
        first = 1;
    }

    lo = ngx_pnalloc(r->pool, NGX_INT64_LEN);
    hi = ngx_pnalloc(r->pool, NGX_INT64_LEN);
    if (lo == NULL || hi == NULL
        || ngx_http_bitcache_key(r, &key, BC_KEY_LEDGER,
                                 (u_char *) ctx->w.widhex,
                                 2 * BC_WALLET_ID_LEN) != NGX_OK)
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    /* index = seq - 1; an empty range when before is 1 (LRANGE 0 -1
     * would be everything: ask for 1 0 instead) */
    ctx->script = NULL;
    ctx->argv[0] = "LRANGE";
    ctx->argvlen[0] = 6;
    ctx->argv[1] = (const char *) key.data;
    ctx->argvlen[1] = key.len;
    ctx->argv[2] = (const char *) lo;
    ctx->argvlen[2] = ngx_sprintf(lo, "%uL", ctx->before > 1 ? first - 1 : 1)
                      - lo;
    ctx->argv[3] = (const char *) hi;
    ctx->anchored = ctx->w.state.seq + 1 - first
                    <= NGX_HTTP_BITCACHE_WALLET_CHAIN_MAX;
    ctx->argvlen[3] = ngx_sprintf(hi, "%uL", ctx->before <= 1 ? 0
                                  : ctx->anchored ? ctx->w.state.seq - 1
                                  : ctx->before - 2) - hi;
    ctx->argc = 4;
    ctx->next = next;

    if (ngx_http_bitcache_wapi_run(r, ctx) != NGX_OK) {
        ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", "redis unavailable", NULL);
    }
}


/* The wallet page: the state and the last entries, as HTML or JSON. */
static void
ngx_http_bitcache_wapi_page_read(ngx_http_request_t *r,
    ngx_http_bitcache_wapi_t *ctx, redisReply *reply)
{
    u_char                          *top, *pur, *tp, *pp, *body, *p;
    char                             bal[NGX_INT64_LEN + 1];
    char                             btc[BC_BTC_AMOUNT_MAX];
    char                             maxa[NGX_INT64_LEN + 1], when[64];
    char                             hint[16], code[BC_WALLET_CODE_CHARS + 1];
    char                             hex[2 * BC_INVOICE_ID_LEN + 1];
    size_t                           i, n, size, tn, pn;
    uint64_t                         first = 1;
    ngx_str_t                        s, *api;
    bc_tvar                          vars[24];
    ngx_http_bitcache_wapi_entry_t  *en, *x;
    ngx_http_bitcache_wallet_t      *w = &ctx->w;
    ngx_http_bitcache_main_conf_t   *bmcf;

    bmcf = ngx_http_get_module_main_conf(r, ngx_http_bitcache_module);

    n = (reply != NULL && reply->type == REDIS_REPLY_ARRAY) ? reply->elements
                                                            : 0;
    en = n ? ngx_http_bitcache_wapi_entries(r, ctx, reply, &first, &n)
           : ngx_pcalloc(r->pool, sizeof(ngx_http_bitcache_wapi_entry_t));
    if (en == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    size = 64;
    for (i = 0; i < n; i++) {
        size += ngx_http_bitcache_wapi_entry_size(&en[i]);
    }

    top = ngx_pnalloc(r->pool, size);
    pur = ngx_pnalloc(r->pool, size);
    api = ngx_http_bitcache_wapi_url(r, "");
    if (top == NULL || pur == NULL || api == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    tp = top;
    pp = pur;
    tn = 0;
    pn = 0;

    /* newest first; entries that do not verify are left out */
    for (i = n; i > 0; i--) {
        x = &en[i - 1];
        if (!x->ok) {
            continue;
        }

        if (ctx->json) {
            if (x->e.kind == BC_ENTRY_CREDIT) {
                tp = tn++ ? ngx_sprintf(tp, ",") : tp;
                tp = ngx_http_bitcache_wapi_entry_json(tp, x);
            } else {
                pp = pn++ ? ngx_sprintf(pp, ",") : pp;
                pp = ngx_http_bitcache_wapi_entry_json(pp, x);
            }
            continue;
        }

        ngx_http_time((u_char *) when, (time_t) x->e.time)[0] = '\0';

        if (x->e.kind == BC_ENTRY_CREDIT) {
            bc_hex_encode(hex, x->e.invoice, BC_INVOICE_ID_LEN);
            tp = ngx_sprintf(tp, "<li>+%uL sats · %s · invoice %s</li>",
                             x->e.amount, when, hex);
            tn++;
            continue;
        }

        s.data = (u_char *) x->e.product;
        s.len = x->e.product_len;
        pp = ngx_sprintf(pp, "<li>");
        if (x->url.len) {
            pp = ngx_sprintf(pp, "<a class=\"download\" href=\"");
            pp = ngx_http_bitcache_escape_html(pp, &x->url);
            pp = ngx_sprintf(pp, "\">");
            pp = ngx_http_bitcache_escape_html(pp, &s);
            pp = ngx_sprintf(pp, "</a>");
        } else {
            pp = ngx_http_bitcache_escape_html(pp, &s);
        }
        pp = ngx_sprintf(pp, " · %uL sats · %s%s</li>", x->e.amount, when,
                         x->token ? "" : " · expired");
        pn++;
    }
    *tp = '\0';
    *pp = '\0';

    if (ctx->json) {
        body = ngx_pnalloc(r->pool, 256 + (tp - top) + (pp - pur)
                                    + 6 * w->frozen.len);
        if (body == NULL) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        p = ngx_sprintf(body, "{\"wallet\":\"%s\",\"balance_sats\":%uL,"
                        "\"max_auto_price\":%uL,\"frozen\":", w->widhex,
                        w->state.balance, w->state.max_auto);
        if (w->frozen.len) {
            p = ngx_sprintf(p, "\"");
            p = ngx_http_bitcache_escape_json(p, &w->frozen);
            p = ngx_sprintf(p, "\"");
        } else {
            p = ngx_sprintf(p, "false");
        }
        p = ngx_sprintf(p, ",\"network\":\"%s\",\"seq\":%uL,\"topups\":[",
                        bc_network_get((bc_network) w->state.network)->name,
                        w->state.seq);
        p = ngx_cpymem(p, top, tp - top);
        p = ngx_sprintf(p, "],\"purchases\":[");
        p = ngx_cpymem(p, pur, pp - pur);
        p = ngx_sprintf(p, "]}\n");

        ngx_http_bitcache_send(r, NGX_HTTP_OK, "application/json", body,
                               p - body);
        return;
    }

    /* the code's first and last characters, to tell wallets apart */
    bc_wallet_code_encode(code, w->secret);
    ngx_sprintf((u_char *) hint, "%*s…%s%Z", (size_t) 8, code,
                code + BC_WALLET_CODE_CHARS - 4);
    ngx_explicit_memzero(code, sizeof(code));

    ngx_sprintf((u_char *) bal, "%uL%Z", w->state.balance);
    ngx_sprintf((u_char *) maxa, "%uL%Z", w->state.max_auto);
    bc_format_btc(btc, w->state.balance);

    n = 0;
    vars[n].name = "wallet"; vars[n++].value = w->widhex;
    vars[n].name = "balance_sats"; vars[n++].value = bal;
    vars[n].name = "balance_btc"; vars[n++].value = btc;
    vars[n].name = "max_auto_price"; vars[n++].value = maxa;
    vars[n].name = "network";
    vars[n++].value = bc_network_get((bc_network) w->state.network)->name;
    vars[n].name = "code_hint"; vars[n++].value = hint;
    vars[n].name = "frozen";
    vars[n++].value = w->frozen.len ? (const char *) w->frozen.data : "";
    vars[n].name = "api"; vars[n++].value = ngx_http_bitcache_cstr(r, api);
    vars[n].name = "topups_html"; vars[n++].value = (const char *) top;
    vars[n].name = "purchases_html"; vars[n++].value = (const char *) pur;
    /* shown once: only in the answer that opened the wallet */
    vars[n].name = "code";
    vars[n++].value = ctx->route == BC_ROUTE_WALLETS ? ctx->code : "";

    ngx_http_bitcache_send_template(r, bmcf->wallet_page,
                                    ctx->route == BC_ROUTE_WALLETS
                                    ? NGX_HTTP_CREATED : NGX_HTTP_OK,
                                    vars, n);
}


/* The page of a browser without a wallet: open one, or restore. */
static void
ngx_http_bitcache_wapi_no_wallet(ngx_http_request_t *r,
    ngx_http_bitcache_wapi_t *ctx, const char *message)
{
    size_t                          n;
    ngx_str_t                      *api;
    bc_tvar                         vars[5];
    ngx_http_bitcache_main_conf_t  *bmcf;

    if (ctx->json) {
        ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_UNAUTHORIZED, "no_wallet",
                                    message, NULL);
        return;
    }

    bmcf = ngx_http_get_module_main_conf(r, ngx_http_bitcache_module);
    api = ngx_http_bitcache_wapi_url(r, "");
    if (api == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    n = 0;
    vars[n].name = "api"; vars[n++].value = ngx_http_bitcache_cstr(r, api);
    vars[n].name = "message"; vars[n++].value = message;
    vars[n].name = "message_class"; vars[n++].value = "bad";
    vars[n].name = "open"; vars[n++].value = "1";

    ngx_http_bitcache_send_template(r, bmcf->wallet_page, NGX_HTTP_OK, vars, n);
}


static void
ngx_http_bitcache_wapi_loaded(ngx_http_request_t *r,
    ngx_http_bitcache_wallet_t *w)
{
    ngx_http_bitcache_wapi_t  *ctx = w->data;

    if (w->outcome == NGX_HTTP_BITCACHE_WALLET_NONE && !ctx->json) {
        ngx_http_bitcache_wapi_no_wallet(r, ctx,
                                         "no wallet has this recovery code");
        return;
    }

    if (w->outcome != NGX_HTTP_BITCACHE_WALLET_LOADED) {
        ngx_http_bitcache_wapi_refuse(r, ctx);
        return;
    }

    if (ctx->route == BC_ROUTE_WALLET_HISTORY) {
        ngx_http_bitcache_wapi_ledger(r, ctx,
                                      ngx_http_bitcache_wapi_history_read);
        return;
    }

    /* settled top-ups first (_wallet_topup.c): the page shows them */
    if (!ctx->credited) {
        ctx->credited = 1;
        if (ngx_http_bitcache_wallet_credit_pending(r, w,
                ngx_http_bitcache_wapi_loaded, ctx) == NGX_OK)
        {
            return;
        }
    }

    ctx->before = 0;
    ctx->limit = NGX_HTTP_BITCACHE_WAPI_PAGE_MAX;

    if (w->state.seq == 0) {
        ctx->before = 1;
        ngx_http_bitcache_wapi_page_read(r, ctx, NULL);
        return;
    }

    ngx_http_bitcache_wapi_ledger(r, ctx, ngx_http_bitcache_wapi_page_read);
}


/* ?before=<seq>&limit=<n> */
static ngx_int_t
ngx_http_bitcache_wapi_history_args(ngx_http_request_t *r,
    ngx_http_bitcache_wapi_t *ctx)
{
    ngx_int_t  n;
    ngx_str_t  v;

    ctx->before = 0;
    ctx->limit = 20;

    if (ngx_http_arg(r, (u_char *) "before", 6, &v) == NGX_OK) {
        n = ngx_atoi(v.data, v.len);
        if (n == NGX_ERROR || n < 1) {
            return NGX_ERROR;
        }
        ctx->before = (uint64_t) n;
    }

    if (ngx_http_arg(r, (u_char *) "limit", 5, &v) == NGX_OK) {
        n = ngx_atoi(v.data, v.len);
        if (n == NGX_ERROR || n < 1) {
            return NGX_ERROR;
        }
        ctx->limit = ngx_min((uint64_t) n, NGX_HTTP_BITCACHE_WAPI_PAGE_MAX);
    }

    return NGX_OK;
}


/* ---- dispatch ---- */

/* The credential, for the routes that need one: NGX_OK, or answered. */
static ngx_int_t
ngx_http_bitcache_wapi_credential(ngx_http_request_t *r,
    ngx_http_bitcache_wapi_t *ctx)
{
    char       err[128];
    ngx_int_t  rc;

    rc = ngx_http_bitcache_wallet_credential(r, &ctx->w, &ctx->header, err,
                                             sizeof(err));
    if (rc == NGX_OK) {
        return NGX_OK;
    }

    if (ctx->route == BC_ROUTE_WALLET) {
        ngx_http_bitcache_wapi_no_wallet(r, ctx, rc == NGX_DECLINED
                                         ? "no wallet on this device" : err);
        return NGX_DONE;
    }

    ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_UNAUTHORIZED, "no_wallet",
                                rc == NGX_DECLINED
                                ? "no wallet: send Authorization: Bitcache "
                                  "<code>, or open one" : err, NULL);
    return NGX_DONE;
}


static void
ngx_http_bitcache_wapi_body(ngx_http_request_t *r)
{
    ngx_int_t                  rc;
    ngx_http_bitcache_wapi_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_bitcache_module);

    rc = ngx_http_bitcache_wapi_read_body(r, &ctx->body);
    if (rc == NGX_ERROR) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (rc == NGX_DECLINED) {
        ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                    "too_large", "the request body is larger "
                                    "than 8 KiB", NULL);
        return;
    }

    switch (ctx->route) {

    case BC_ROUTE_WALLETS:
        ngx_http_bitcache_wapi_wallets(r, ctx);
        return;

    case BC_ROUTE_WALLET_RESTORE:
        ngx_http_bitcache_wapi_restore(r, ctx);
        return;

    case BC_ROUTE_WALLET_FORGET:
        if (ngx_http_bitcache_wapi_cookie(r, "", 0) != NGX_OK) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
        ngx_http_bitcache_wapi_done(r, ctx, (u_char *) "{\"forgotten\":true}\n",
                                    sizeof("{\"forgotten\":true}\n") - 1);
        return;

    default:
        break;
    }

    if (ngx_http_bitcache_wapi_credential(r, ctx) != NGX_OK) {
        return;
    }

    if (ctx->route == BC_ROUTE_WALLET_SETTINGS) {
        ngx_http_bitcache_wapi_settings(r, ctx);
        return;
    }

    ngx_http_bitcache_wapi_buy(r, ctx);
}


/* 1 if r carries Authorization: Bitcache, which browsers never add to a
 * request on their own. */
static ngx_flag_t
ngx_http_bitcache_wapi_scripted(ngx_http_request_t *r)
{
    size_t            len;
    const char       *code;
    ngx_table_elt_t  *h;

    h = r->headers_in.authorization;

    return h != NULL
           && bc_auth_bitcache((const char *) h->value.data, h->value.len,
                               &code, &len);
}


ngx_int_t
ngx_http_bitcache_wallet_api(ngx_http_request_t *r, bc_route route)
{
    ngx_int_t                      rc;
    ngx_http_bitcache_wapi_t      *ctx;
    ngx_http_bitcache_loc_conf_t  *blcf;

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bitcache_module);

    if (!blcf->wallets) {
        return NGX_HTTP_NOT_FOUND;
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_bitcache_wapi_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_set_ctx(r, ctx, ngx_http_bitcache_module);
    ctx->route = route;
    ctx->json = ngx_http_bitcache_wants_json(r);

    if (route == BC_ROUTE_WALLET || route == BC_ROUTE_WALLET_HISTORY) {
        if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
            return NGX_HTTP_NOT_ALLOWED;
        }

        if (route == BC_ROUTE_WALLET_HISTORY) {
            ctx->json = 1;
        }

        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (route == BC_ROUTE_WALLET_HISTORY
            && ngx_http_bitcache_wapi_history_args(r, ctx) != NGX_OK)
        {
            return NGX_HTTP_BAD_REQUEST;
        }

        /* answered now (no credential), or once Redis has */
        r->main->count++;

        if (ngx_http_bitcache_wapi_credential(r, ctx) != NGX_OK) {
            return NGX_DONE;
        }

        rc = ngx_http_bitcache_wallet_load(r, &ctx->w, NULL,
                                           ngx_http_bitcache_wapi_loaded, ctx);
        if (rc != NGX_OK) {
            r->main->count--;
            return rc == NGX_DECLINED ? NGX_HTTP_SERVICE_UNAVAILABLE
                                      : NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return NGX_DONE;
    }

    if (r->method != NGX_HTTP_POST) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    /* a form from another site is not the buyer's: refused before any
     * work, with the cookie or without (a cross-site POST /wallets would
     * replace the buyer's cookie) */
    if (!ngx_http_bitcache_wapi_scripted(r)
        && ngx_http_bitcache_wapi_cross_site(r))
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "bitcache: a wallet POST from another site refused");
        r->main->count++;
        ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_FORBIDDEN, "cross_site",
                                    "refused: this request comes from "
                                    "another site", NULL);
        return NGX_DONE;
    }

    if (route == BC_ROUTE_WALLET_TOPUPS) {
        return ngx_http_bitcache_wallet_topups(r);  /* _wallet_topup.c */
    }

    rc = ngx_http_read_client_request_body(r, ngx_http_bitcache_wapi_body);
    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}
