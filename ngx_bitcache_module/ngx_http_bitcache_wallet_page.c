/*
 * GET <api>/wallet (HTML or JSON: balance, top-ups, purchases) and GET
 * <api>/wallet/history (the ledger, newest first, JSON), docs/wallet.md.
 * Settled top-ups are credited first (ngx_http_bitcache_wallet_topup.c);
 * a ledger entry is shown only if its MAC, its seq and (the newest) the
 * state's head verify; a purchase's link is its token again.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "bip21.h"
#include "hex.h"
#include "network.h"
#include "token.h"
#include "ngx_http_bitcache.h"
#include "ngx_http_bitcache_page.h"
#include "ngx_http_bitcache_token_mint.h"
#include "ngx_http_bitcache_wallet.h"
#include "ngx_http_bitcache_wallet_page.h"
#include "ngx_http_bitcache_wallet_reply.h"
#include "ngx_http_bitcache_wallet_request.h"


#define NGX_HTTP_BITCACHE_WAPI_PAGE_MAX   100   /* entries in an answer */


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


/* Room for the n entries as JSON, and 64 bytes more. */
static size_t
ngx_http_bitcache_wapi_entries_size(ngx_http_bitcache_wapi_entry_t *en,
    size_t n)
{
    size_t  i, size;

    size = 64;
    for (i = 0; i < n; i++) {
        size += 512 + 6 * (en[i].e.product_len + en[i].url.len);
    }

    return size;
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

    size = ngx_http_bitcache_wapi_entries_size(en, n);

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

    size = ngx_http_bitcache_wapi_entries_size(en, n);

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
void
ngx_http_bitcache_wapi_no_wallet(ngx_http_request_t *r,
    ngx_http_bitcache_wapi_t *ctx, const char *message)
{
    if (ctx->json) {
        ngx_http_bitcache_wapi_fail(r, ctx, NGX_HTTP_UNAUTHORIZED, "no_wallet",
                                    message, NULL);
        return;
    }

    ngx_http_bitcache_wapi_frame(r, NGX_HTTP_OK, message, "open");
}


void
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
ngx_int_t
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
