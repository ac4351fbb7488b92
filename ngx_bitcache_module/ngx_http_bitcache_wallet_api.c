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
#include "hex.h"
#include "token_record.h"
#include "ngx_http_bitcache.h"
#include "ngx_http_bitcache_call.h"
#include "ngx_http_bitcache_wallet.h"
#include "ngx_http_bitcache_wallet_buy_api.h"
#include "ngx_http_bitcache_wallet_page.h"
#include "ngx_http_bitcache_wallet_reply.h"
#include "ngx_http_bitcache_wallet_request.h"


#define NGX_HTTP_BITCACHE_WAPI_BODY_MAX   8192
#define NGX_HTTP_BITCACHE_WAPI_COOKIE_AGE (365 * 86400)


static char  ngx_http_bitcache_wallet_set_sha[41];


static void ngx_http_bitcache_wapi_body(ngx_http_request_t *r);


/* ---- answers ---- */

static ngx_int_t
ngx_http_bitcache_wapi_cookie(ngx_http_request_t *r, const char *code,
    time_t max_age)
{
    ngx_str_t  root = ngx_string("/");

    return ngx_http_bitcache_set_cookie(r, BC_WALLET_COOKIE, code, &root,
                                        max_age);
}


/* ---- requests ---- */

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


/* ---- POST /wallets ---- */

static void
ngx_http_bitcache_wapi_created(ngx_http_request_t *r,
    ngx_http_bitcache_wapi_t *ctx, redisReply *reply)
{
    u_char     *body, *p;
    ngx_str_t  *page;

    if (!ngx_http_bitcache_wallet_word(reply, "ok")) {
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

    if (ngx_http_bitcache_wallet_word(reply, "ok")) {
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

    if (ngx_http_bitcache_wallet_word(reply, "changed") && reply->elements > 1
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
                 : ngx_http_bitcache_wallet_word(reply, "changed")
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

    rc = ngx_http_bitcache_read_body(r, NGX_HTTP_BITCACHE_WAPI_BODY_MAX,
                                     &ctx->body);
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
        && ngx_http_bitcache_cross_site(r))
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
