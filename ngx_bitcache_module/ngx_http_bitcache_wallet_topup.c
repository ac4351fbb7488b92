/*
 * Top-ups of the buyer's Bitcache wallet (docs/wallet.md):
 *
 *   POST <api>/wallet/topups   amount= and a credential in; an invoice
 *                              to bitcache_topup_wallet out, made by the
 *                              API's invoice path (its product
 *                              "wallet:<wid hex>" under the invoice MAC),
 *                              listed pending in wtop:<wid>
 *
 * and their credit, once the watcher has attested the payment: by the
 * invoice's status (ngx_http_bitcache_status.c) or a read of the wallet
 * (ngx_http_bitcache_wallet_credit_pending). The credit goes to the wallet
 * that the MAC'd product names; wtop:<wid> and the ledger, authenticated
 * by the state's MAC'd head, make it happen once. A Redis writer can
 * withhold a credit (delete wtop, break the ledger), never make one.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "api_request.h"
#include "hex.h"
#include "invoice_record.h"
#include "wallet_record.h"
#include "wallet_topup.h"
#include "ngx_http_bitcache.h"
#include "ngx_http_bitcache_call.h"
#include "ngx_http_bitcache_invoice_create.h"
#include "ngx_http_bitcache_wallet.h"
#include "ngx_http_bitcache_wallet_reply.h"
#include "ngx_http_bitcache_wallet_topup.h"


#define NGX_HTTP_BITCACHE_TOPUP_BODY_MAX  8192


/* The verified top-ups pending in wtop:<wid>. */
typedef struct ngx_http_bitcache_pending_s  ngx_http_bitcache_pending_t;

typedef void (*ngx_http_bitcache_pending_done_pt)(ngx_http_request_t *r,
    ngx_http_bitcache_pending_t *p, ngx_int_t rc);

struct ngx_http_bitcache_pending_s {
    unsigned char                       wid[BC_WALLET_ID_LEN];
    char                                widhex[2 * BC_WALLET_ID_LEN + 1];
    ngx_str_t                           wtop;
    u_char                            (*ids)[BC_INVOICE_ID_LEN];  /* listed */
    bc_invoice_record                  *recs;     /* n, MAC'd, this wallet's */
    ngx_uint_t                          n;
    ngx_uint_t                          listed;   /* pending in wtop, all */
    ngx_uint_t                          next;     /* credit_pending */
    ngx_http_bitcache_wallet_t         *wallet;   /* credit_pending */
    ngx_http_bitcache_wallet_done_pt    wallet_done;
    ngx_http_bitcache_credit_t          credit;
    ngx_http_bitcache_call_t            call;
    ngx_http_bitcache_pending_done_pt   done;
    void                               *data;
};


typedef struct {
    ngx_http_bitcache_wallet_t    w;
    ngx_http_bitcache_pending_t   pending;
    uint64_t                      amount;
    char                          product[BC_TOPUP_PRODUCT_LEN + 1];
} ngx_http_bitcache_topup_ctx_t;


static ngx_int_t ngx_http_bitcache_credit_read(ngx_http_request_t *r,
    ngx_http_bitcache_credit_t *c);
static ngx_int_t ngx_http_bitcache_credit_peek(ngx_http_request_t *r,
    ngx_http_bitcache_credit_t *c);
static ngx_int_t ngx_http_bitcache_credit_state(ngx_http_request_t *r,
    ngx_http_bitcache_credit_t *c, redisReply *reply, bc_wallet_state *s);
static void ngx_http_bitcache_credit_got(ngx_http_bitcache_call_t *call,
    redisReply *reply);
static void ngx_http_bitcache_credit_evaled(ngx_http_bitcache_call_t *call,
    redisReply *reply);
static ngx_int_t ngx_http_bitcache_pending_read(ngx_http_request_t *r,
    ngx_http_bitcache_pending_t *p, ngx_http_bitcache_pending_done_pt done,
    void *data);
static void ngx_http_bitcache_topup_body(ngx_http_request_t *r);
static void ngx_http_bitcache_topup_loaded(ngx_http_request_t *r,
    ngx_http_bitcache_wallet_t *w);
static void ngx_http_bitcache_topup_pending(ngx_http_request_t *r,
    ngx_http_bitcache_pending_t *p, ngx_int_t rc);
static void ngx_http_bitcache_credit_next(ngx_http_request_t *r,
    ngx_http_bitcache_pending_t *p);


/* ---- the credit of one top-up ---- */


static void
ngx_http_bitcache_credit_end(ngx_http_request_t *r,
    ngx_http_bitcache_credit_t *c, ngx_http_bitcache_credit_outcome_e o)
{
    c->outcome = o;
    c->done(r, c);
}


ngx_int_t
ngx_http_bitcache_wallet_credit(ngx_http_request_t *r,
    ngx_http_bitcache_credit_t *c, ngx_http_bitcache_credit_done_pt done,
    void *data)
{
    const bc_invoice_record  *rec = c->rec;

    c->done = done;
    c->data = data;
    c->tries = 0;
    c->has_state = 0;
    c->failure = NULL;
    bc_hex_encode(c->idhex, rec->inv.id, BC_INVOICE_ID_LEN);

    /* the wallet is the one the MAC'd product names, and no other */
    if (!bc_topup_product_wid(c->wid, rec->inv.product, rec->inv.product_len)) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "bitcache: top-up %s: \"%V\" names no wallet, not "
                      "credited", c->idhex,
                      ngx_http_bitcache_log_str(r, rec->inv.product,
                                                rec->inv.product_len));
        ngx_http_bitcache_credit_end(r, c, NGX_HTTP_BITCACHE_CREDIT_REFUSED);
        return NGX_OK;
    }
    bc_hex_encode(c->widhex, c->wid, BC_WALLET_ID_LEN);

    if (ngx_http_bitcache_key(r, &c->keys[0], BC_KEY_WALLET,
                              (u_char *) c->widhex, 2 * BC_WALLET_ID_LEN)
        != NGX_OK
        || ngx_http_bitcache_key(r, &c->keys[1], BC_KEY_LEDGER,
                                 (u_char *) c->widhex, 2 * BC_WALLET_ID_LEN)
           != NGX_OK
        || ngx_http_bitcache_key(r, &c->keys[2], BC_KEY_TOPUPS,
                                 (u_char *) c->widhex, 2 * BC_WALLET_ID_LEN)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_bitcache_credit_peek(r, c);
}


/* MULTI; HGETALL wal; HGET wtop <id>; EXEC: a top-up credited before is
 * answered without the ledger, which only a pending one needs (every poll
 * of a paid top-up's status, by anyone, would read the whole ledger). */
static void
ngx_http_bitcache_credit_peeked(ngx_http_bitcache_call_t *call,
    redisReply *reply)
{
    uint64_t                     seq;
    ngx_int_t                    rc;
    redisReply                  *t;
    bc_wallet_state              s;
    ngx_http_request_t          *r = call->request;
    ngx_http_bitcache_credit_t  *c = call->data;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || reply->elements != 2)
    {
        c->failure = reply ? "wallet unreadable" : call->failure;
        ngx_http_bitcache_credit_end(r, c,
                                     NGX_HTTP_BITCACHE_CREDIT_UNAVAILABLE);
        return;
    }

    t = reply->element[1];

    if (t->type == REDIS_REPLY_STRING
        && bc_topup_wtop_value(&seq, t->str, t->len) && seq != 0)
    {
        rc = ngx_http_bitcache_credit_state(r, c, reply->element[0], &s);
        if (rc == NGX_ERROR) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        if (rc == NGX_OK && s.network == c->rec->inv.network) {
            c->state = s;
            c->has_state = 1;
            ngx_http_bitcache_credit_end(r, c,
                                         NGX_HTTP_BITCACHE_CREDITED_BEFORE);
            return;
        }
    }

    /* pending, not listed, or anything odd: the whole read decides */
    if (ngx_http_bitcache_credit_read(r, c) != NGX_OK) {
        if (c->failure == NULL) {
            c->failure = "redis unavailable";
        }
        ngx_http_bitcache_credit_end(r, c,
                                     NGX_HTTP_BITCACHE_CREDIT_UNAVAILABLE);
    }
}


static ngx_int_t
ngx_http_bitcache_credit_peek(ngx_http_request_t *r,
    ngx_http_bitcache_credit_t *c)
{
    ngx_int_t  rc;
    ngx_str_t  a[5];

    static const int  argcs[] = { 2, 3 };

    ngx_str_set(&a[0], "HGETALL");
    a[1] = c->keys[0];
    ngx_str_set(&a[2], "HGET");
    a[3] = c->keys[2];
    a[4].data = (u_char *) c->idhex;
    a[4].len = 2 * BC_INVOICE_ID_LEN;

    rc = ngx_http_bitcache_callm(&c->call, r, ngx_http_bitcache_credit_peeked,
                                 c, 2, argcs, a);
    if (rc == NGX_DECLINED) {
        c->failure = c->call.failure;
    }

    return rc;
}


/* MULTI; HGETALL wal; LRANGE wled 0 -1; HGET wtop <id>; EXEC: the state,
 * the whole ledger its head authenticates, and whether the top-up is
 * pending, as of one moment. */
static ngx_int_t
ngx_http_bitcache_credit_read(ngx_http_request_t *r,
    ngx_http_bitcache_credit_t *c)
{
    ngx_int_t  rc;
    ngx_str_t  a[9];

    static const int  argcs[] = { 2, 4, 3 };

    ngx_str_set(&a[0], "HGETALL");
    a[1] = c->keys[0];
    ngx_str_set(&a[2], "LRANGE");
    a[3] = c->keys[1];
    ngx_str_set(&a[4], "0");
    ngx_str_set(&a[5], "-1");
    ngx_str_set(&a[6], "HGET");
    a[7] = c->keys[2];
    a[8].data = (u_char *) c->idhex;
    a[8].len = 2 * BC_INVOICE_ID_LEN;

    rc = ngx_http_bitcache_callm(&c->call, r, ngx_http_bitcache_credit_got,
                                 c, 3, argcs, a);
    if (rc == NGX_DECLINED) {
        c->failure = c->call.failure;
    }

    return rc;
}


/* Parses and verifies HGETALL wal:<wid> into c->state. */
static ngx_int_t
ngx_http_bitcache_credit_state(ngx_http_request_t *r,
    ngx_http_bitcache_credit_t *c, redisReply *reply, bc_wallet_state *s)
{
    char                           err[128];
    size_t                         i, n, *len;
    const char                   **kv;
    ngx_http_bitcache_loc_conf_t  *blcf;

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bitcache_module);

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements == 0) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "bitcache: top-up %s: wallet %s has no state, not "
                      "credited", c->idhex, c->widhex);
        return NGX_DECLINED;
    }

    n = reply->elements;
    kv = ngx_palloc(r->pool, n * sizeof(char *));
    len = ngx_palloc(r->pool, n * sizeof(size_t));
    if (kv == NULL || len == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < n; i++) {
        if (reply->element[i]->type != REDIS_REPLY_STRING) {
            return NGX_DECLINED;
        }
        kv[i] = reply->element[i]->str;
        len[i] = reply->element[i]->len;
    }

    if (!bc_wallet_state_parse(s, c->wid, kv, len, n, err, sizeof(err))
        || !bc_wallet_state_ok(s, blcf->keys))
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "bitcache: top-up %s: the state of wallet %s does not "
                      "verify, not credited", c->idhex, c->widhex);
        return NGX_DECLINED;
    }

    /* older than a state seen (written back): refused, logged */
    if (ngx_http_bitcache_wallet_mark(r, c->wid, c->widhex, s->seq, s->head,
                                      1, NULL)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    /* points into the reply, which goes when this callback returns */
    s->frozen = NULL;
    s->frozen_len = 0;

    return NGX_OK;
}


static void
ngx_http_bitcache_credit_got(ngx_http_bitcache_call_t *call,
    redisReply *reply)
{
    u_char                        *entry;
    char                           err[128], machex[65];
    size_t                         i, n, len, *elen;
    uint64_t                       seq;
    ngx_int_t                      rc;
    ngx_str_t                      a[26];
    const char                   **e;
    bc_wallet_state                s, next;
    bc_chain_verdict               v;
    bc_wallet_state_argv          *sa;
    ngx_http_request_t            *r = call->request;
    ngx_http_bitcache_credit_t    *c = call->data;
    ngx_http_bitcache_loc_conf_t  *blcf;

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bitcache_module);

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || reply->elements != 3)
    {
        c->failure = reply ? "wallet unreadable" : call->failure;
        ngx_http_bitcache_credit_end(r, c,
                                     NGX_HTTP_BITCACHE_CREDIT_UNAVAILABLE);
        return;
    }

    rc = ngx_http_bitcache_credit_state(r, c, reply->element[0], &s);
    if (rc != NGX_OK) {
        if (rc == NGX_ERROR) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
        ngx_http_bitcache_credit_end(r, c, NGX_HTTP_BITCACHE_CREDIT_REFUSED);
        return;
    }

    c->state = s;
    c->has_state = 1;

    if (s.network != c->rec->inv.network) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "bitcache: top-up %s was paid on another network than "
                      "wallet %s's, not credited", c->idhex, c->widhex);
        ngx_http_bitcache_credit_end(r, c, NGX_HTTP_BITCACHE_CREDIT_REFUSED);
        return;
    }

    /* wtop:<wid> <id>: nil is no top-up of this wallet, "0" pending */
    if (reply->element[2]->type != REDIS_REPLY_STRING) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "bitcache: invoice %s is not a top-up listed in "
                      "wtop:%s, not credited", c->idhex, c->widhex);
        ngx_http_bitcache_credit_end(r, c, NGX_HTTP_BITCACHE_CREDIT_UNKNOWN);
        return;
    }

    if (!bc_topup_wtop_value(&seq, reply->element[2]->str,
                             reply->element[2]->len))
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "bitcache: top-up %s: its wtop:%s value is not one the "
                      "module writes, not credited", c->idhex, c->widhex);
        ngx_http_bitcache_credit_end(r, c, NGX_HTTP_BITCACHE_CREDIT_REFUSED);
        return;
    }

    if (seq != 0) {
        ngx_http_bitcache_credit_end(r, c, NGX_HTTP_BITCACHE_CREDITED_BEFORE);
        return;
    }

    /* pending, says wtop; the ledger, which a writer cannot rewrite
     * without breaking the chain to the MAC'd head, must agree: an entry
     * reset to "0" after its credit does not credit again */
    if (reply->element[1]->type != REDIS_REPLY_ARRAY) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "bitcache: top-up %s: wled:%s is not a list, not "
                      "credited", c->idhex, c->widhex);
        ngx_http_bitcache_credit_end(r, c, NGX_HTTP_BITCACHE_CREDIT_REFUSED);
        return;
    }

    n = reply->element[1]->elements;
    e = ngx_palloc(r->pool, (n + 1) * sizeof(char *));
    elen = ngx_palloc(r->pool, (n + 1) * sizeof(size_t));
    if (e == NULL || elen == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    for (i = 0; i < n; i++) {
        redisReply  *el = reply->element[1]->element[i];

        if (el->type != REDIS_REPLY_STRING) {
            e[i] = "";
            elen[i] = 0;
            continue;
        }
        e[i] = el->str;
        elen[i] = el->len;
    }

    v = bc_ledger_chain_check(&s, e, elen, n, c->rec->inv.id, &seq, err,
                              sizeof(err));

    if (v == BC_CHAIN_CREDITED) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "bitcache: top-up %s is listed pending in wtop:%s, but "
                      "ledger entry %uL credits it: not credited again "
                      "(Redis written to?)", c->idhex, c->widhex, seq);
        ngx_http_bitcache_credit_end(r, c, NGX_HTTP_BITCACHE_CREDITED_BEFORE);
        return;
    }

    if (v != BC_CHAIN_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "bitcache: top-up %s: the ledger of wallet %s does not "
                      "verify (%s), not credited: run bitcache wallet audit",
                      c->idhex, c->widhex, err);
        ngx_http_bitcache_credit_end(r, c, NGX_HTTP_BITCACHE_CREDIT_REFUSED);
        return;
    }

    entry = ngx_pnalloc(r->pool, BC_LEDGER_ENTRY_MAX);
    sa = ngx_palloc(r->pool, sizeof(bc_wallet_state_argv));
    if (entry == NULL || sa == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    len = bc_topup_credit((char *) entry, BC_LEDGER_ENTRY_MAX, &next, &s,
                          c->rec, (uint64_t) ngx_time(), blcf->keys);
    if (len == 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "bitcache: top-up %s: cannot make the credit of "
                      "wallet %s", c->idhex, c->widhex);
        ngx_http_bitcache_credit_end(r, c, NGX_HTTP_BITCACHE_CREDIT_REFUSED);
        return;
    }

    /* the state written if the script's answer is "ok" */
    c->state = next;
    c->has_state = 0;

    bc_hex_encode(machex, s.mac, 32);
    bc_wallet_state_argv_make(sa, &next);

    ngx_str_set(&a[0], "EVAL");
    a[1].data = (u_char *) bc_script_wallet_credit;
    a[1].len = ngx_strlen(bc_script_wallet_credit);
    ngx_str_set(&a[2], "3");
    a[3] = c->keys[0];
    a[4] = c->keys[1];
    a[5] = c->keys[2];
    a[6].data = (u_char *) machex;
    a[6].len = 64;
    for (i = 0; i < 16; i++) {
        a[7 + i].data = (u_char *) sa->argv[i];
        a[7 + i].len = sa->argvlen[i];
    }
    a[23].data = entry;
    a[23].len = len;
    a[24].data = (u_char *) c->idhex;
    a[24].len = 2 * BC_INVOICE_ID_LEN;

    rc = ngx_http_bitcache_callv(&c->call, r, ngx_http_bitcache_credit_evaled,
                                 c, 25, a);
    if (rc != NGX_OK) {
        c->failure = rc == NGX_DECLINED ? c->call.failure : "cannot credit";
        ngx_http_bitcache_credit_end(r, c,
                                     NGX_HTTP_BITCACHE_CREDIT_UNAVAILABLE);
    }
}


static void
ngx_http_bitcache_credit_evaled(ngx_http_bitcache_call_t *call,
    redisReply *reply)
{
    ngx_int_t                    rc;
    redisReply                  *w;
    ngx_http_request_t          *r = call->request;
    ngx_http_bitcache_credit_t  *c = call->data;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || reply->elements == 0
        || (reply->element[0]->type != REDIS_REPLY_STRING
            && reply->element[0]->type != REDIS_REPLY_STATUS))
    {
        if (reply != NULL) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "bitcache: top-up %s: the credit script of wallet "
                          "%s answered %s", c->idhex, c->widhex,
                          reply->type == REDIS_REPLY_ERROR ? reply->str
                                                           : "no answer");
        }
        c->failure = reply ? "wallet not credited" : call->failure;
        ngx_http_bitcache_credit_end(r, c,
                                     NGX_HTTP_BITCACHE_CREDIT_UNAVAILABLE);
        return;
    }

    w = reply->element[0];

    if (w->len == 2 && ngx_strncmp(w->str, "ok", 2) == 0) {
        c->has_state = 1;
        (void) ngx_http_bitcache_wallet_mark(r, c->wid, c->widhex,
                                             c->state.seq, c->state.head, 1,
                                             NULL);
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "bitcache: wallet %s credited %uL sats from top-up %s "
                      "(entry %uL, balance %uL)", c->widhex,
                      c->rec->received, c->idhex, c->state.seq,
                      c->state.balance);
        ngx_http_bitcache_credit_end(r, c, NGX_HTTP_BITCACHE_CREDITED);
        return;
    }

    if (w->len == 7 && ngx_strncmp(w->str, "unknown", 7) == 0) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "bitcache: invoice %s is not a top-up listed in "
                      "wtop:%s, not credited", c->idhex, c->widhex);
        ngx_http_bitcache_credit_end(r, c, NGX_HTTP_BITCACHE_CREDIT_UNKNOWN);
        return;
    }

    if (ngx_http_bitcache_wallet_rolled_back(r, c->widhex, reply)) {
        ngx_http_bitcache_credit_end(r, c, NGX_HTTP_BITCACHE_CREDIT_REFUSED);
        return;
    }

    /* "done" (credited by a racing request) or "changed": read again;
     * the next read says which, with the state as it is now */
    if (++c->tries >= NGX_HTTP_BITCACHE_WALLET_TRIES) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "bitcache: top-up %s: wallet %s too busy, not "
                      "credited yet", c->idhex, c->widhex);
        ngx_http_bitcache_credit_end(r, c, NGX_HTTP_BITCACHE_CREDIT_BUSY);
        return;
    }

    rc = ngx_http_bitcache_credit_read(r, c);
    if (rc != NGX_OK) {
        if (c->failure == NULL) {
            c->failure = "redis unavailable";
        }
        ngx_http_bitcache_credit_end(r, c,
                                     NGX_HTTP_BITCACHE_CREDIT_UNAVAILABLE);
    }
}


/* ---- the top-ups pending in wtop:<wid> ---- */


/* Copies HGETALL inv:<id> (reply) into the pool and parses it into rec;
 * NGX_OK if its MAC verifies and it is a top-up of p's wallet. */
static ngx_int_t
ngx_http_bitcache_pending_record(ngx_http_request_t *r,
    ngx_http_bitcache_pending_t *p, const u_char *id, redisReply *reply,
    bc_invoice_record *rec)
{
    u_char                        *copy;
    char                           err[BC_INVOICE_WHY_MAX];
    size_t                         i, *len;
    const char                   **kv;
    unsigned char                  wid[BC_WALLET_ID_LEN];
    ngx_http_bitcache_loc_conf_t  *blcf;

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bitcache_module);

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements == 0) {
        return NGX_DECLINED;                /* expired and gone */
    }

    kv = ngx_palloc(r->pool, reply->elements * sizeof(char *));
    len = ngx_palloc(r->pool, reply->elements * sizeof(size_t));
    if (kv == NULL || len == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < reply->elements; i++) {
        if (reply->element[i]->type != REDIS_REPLY_STRING) {
            return NGX_DECLINED;
        }
        /* NUL-terminated copies: the address goes to C functions */
        copy = ngx_pnalloc(r->pool, reply->element[i]->len + 1);
        if (copy == NULL) {
            return NGX_ERROR;
        }
        ngx_memcpy(copy, reply->element[i]->str, reply->element[i]->len);
        copy[reply->element[i]->len] = '\0';
        kv[i] = (const char *) copy;
        len[i] = reply->element[i]->len;
    }

    if (!bc_invoice_record_parse(rec, id, kv, len, reply->elements, err,
                                 sizeof(err))
        || !bc_invoice_record_mac_ok(rec, blcf->keys))
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "bitcache: a top-up listed in wtop:%s does not verify, "
                      "ignored", p->widhex);
        return NGX_DECLINED;
    }

    /* wtop is Redis's: an invoice of another wallet listed here is
     * neither counted nor credited here */
    if (!bc_topup_product_wid(wid, rec->inv.product, rec->inv.product_len)
        || ngx_memcmp(wid, p->wid, BC_WALLET_ID_LEN) != 0)
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "bitcache: wtop:%s lists an invoice that is not a "
                      "top-up of this wallet, ignored", p->widhex);
        return NGX_DECLINED;
    }

    return NGX_OK;
}


static void
ngx_http_bitcache_pending_forget(ngx_http_request_t *r,
    ngx_http_bitcache_pending_t *p, const u_char *id)
{
    char       hex[2 * BC_INVOICE_ID_LEN];
    ngx_str_t  a[3];

    bc_hex_encode(hex, id, BC_INVOICE_ID_LEN);
    ngx_str_set(&a[0], "HDEL");
    a[1] = p->wtop;
    a[2].data = (u_char *) hex;
    a[2].len = sizeof(hex);

    /* a clean-up nobody waits for */
    (void) ngx_http_bitcache_queue(3, a);
}


static void
ngx_http_bitcache_pending_got(ngx_http_bitcache_call_t *call,
    redisReply *reply)
{
    ngx_int_t                     rc;
    ngx_uint_t                    i;
    ngx_http_request_t           *r = call->request;
    ngx_http_bitcache_pending_t  *p = call->data;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
        p->done(r, p, NGX_HTTP_SERVICE_UNAVAILABLE);
        return;
    }

    p->n = 0;
    for (i = 0; i < reply->elements && i < BC_TOPUP_PENDING_MAX; i++) {
        rc = ngx_http_bitcache_pending_record(r, p, p->ids[i],
                                              reply->element[i],
                                              &p->recs[p->n]);
        if (rc == NGX_ERROR) {
            p->done(r, p, NGX_ERROR);
            return;
        }
        if (rc == NGX_OK) {
            p->n++;

        } else if (reply->element[i]->type == REDIS_REPLY_ARRAY
                   && reply->element[i]->elements == 0)
        {
            /* its record is gone (expired, past its grace): it can
             * never be credited, so it is pending no more */
            ngx_http_bitcache_pending_forget(r, p, p->ids[i]);
        }
    }

    p->done(r, p, NGX_OK);
}


static void
ngx_http_bitcache_pending_listed(ngx_http_bitcache_call_t *call,
    redisReply *reply)
{
    u_char                        id[BC_INVOICE_ID_LEN];
    uint64_t                      seq;
    int                          *argcs;
    ngx_int_t                     rc;
    ngx_str_t                    *args;
    ngx_uint_t                    i, n;
    redisReply                   *k, *v;
    ngx_http_request_t           *r = call->request;
    ngx_http_bitcache_pending_t  *p = call->data;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
        p->done(r, p, NGX_HTTP_SERVICE_UNAVAILABLE);
        return;
    }

    p->recs = ngx_pcalloc(r->pool,
                          BC_TOPUP_PENDING_MAX * sizeof(bc_invoice_record));
    p->ids = ngx_palloc(r->pool, BC_TOPUP_PENDING_MAX * BC_INVOICE_ID_LEN);
    if (p->recs == NULL || p->ids == NULL) {
        p->done(r, p, NGX_ERROR);
        return;
    }

    /* the ids of pending ("0") top-ups */
    n = 0;
    p->listed = 0;
    for (i = 0; i + 1 < reply->elements; i += 2) {
        k = reply->element[i];
        v = reply->element[i + 1];

        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING
            || k->len != 2 * BC_INVOICE_ID_LEN
            || !bc_hex_decode(id, BC_INVOICE_ID_LEN, k->str, k->len)
            || !bc_topup_wtop_value(&seq, v->str, v->len)
            || seq != 0)
        {
            continue;
        }

        if (p->listed++ < BC_TOPUP_PENDING_MAX) {
            ngx_memcpy(p->ids[n], id, BC_INVOICE_ID_LEN);
            n++;
        }
    }

    if (n == 0) {
        p->n = 0;
        p->done(r, p, NGX_OK);
        return;
    }

    /* MULTI; HGETALL inv:<id> each; EXEC: the keys made first, so that
     * running out of memory never leaves the connection inside MULTI */
    args = ngx_palloc(r->pool, 2 * n * sizeof(ngx_str_t));
    argcs = ngx_palloc(r->pool, n * sizeof(int));
    if (args == NULL || argcs == NULL) {
        p->done(r, p, NGX_ERROR);
        return;
    }

    for (i = 0; i < n; i++) {
        char  hex[2 * BC_INVOICE_ID_LEN];

        bc_hex_encode(hex, p->ids[i], BC_INVOICE_ID_LEN);
        ngx_str_set(&args[2 * i], "HGETALL");
        argcs[i] = 2;
        if (ngx_http_bitcache_key(r, &args[2 * i + 1], "inv:", (u_char *) hex,
                                  2 * BC_INVOICE_ID_LEN) != NGX_OK)
        {
            p->done(r, p, NGX_ERROR);
            return;
        }
    }

    rc = ngx_http_bitcache_callm(&p->call, r, ngx_http_bitcache_pending_got,
                                 p, n, argcs, args);
    if (rc != NGX_OK) {
        p->done(r, p, rc == NGX_DECLINED ? NGX_HTTP_SERVICE_UNAVAILABLE
                                         : NGX_ERROR);
    }
}


/* HGETALL wtop:<wid>, then the records of its pending top-ups (at most
 * BC_TOPUP_PENDING_MAX): done gets those that verify and are this
 * wallet's, with rc NGX_OK, or an HTTP status / NGX_ERROR. */
static ngx_int_t
ngx_http_bitcache_pending_read(ngx_http_request_t *r,
    ngx_http_bitcache_pending_t *p, ngx_http_bitcache_pending_done_pt done,
    void *data)
{
    ngx_str_t  a[2];

    p->done = done;
    p->data = data;
    p->n = 0;
    bc_hex_encode(p->widhex, p->wid, BC_WALLET_ID_LEN);

    if (ngx_http_bitcache_key(r, &p->wtop, BC_KEY_TOPUPS, (u_char *) p->widhex,
                              2 * BC_WALLET_ID_LEN) != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_str_set(&a[0], "HGETALL");
    a[1] = p->wtop;

    return ngx_http_bitcache_callv(&p->call, r,
                                   ngx_http_bitcache_pending_listed, p, 2, a);
}


/* ---- POST <api>/wallet/topups ---- */


static void
ngx_http_bitcache_topup_fail(ngx_http_request_t *r, ngx_uint_t status,
    const char *reason)
{
    ngx_str_t  what = ngx_string("bitcache wallet");

    if (!ngx_http_bitcache_wants_json(r)) {
        /* a form on the wallet page: the answer in its frame */
        ngx_http_bitcache_wapi_message(r, status, reason);
        return;
    }

    ngx_http_bitcache_reply(r, status, reason, &what);
}


ngx_int_t
ngx_http_bitcache_wallet_topups(ngx_http_request_t *r)
{
    ngx_int_t                      rc;
    ngx_http_bitcache_loc_conf_t  *blcf;

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bitcache_module);

    if (!blcf->wallets || blcf->topup_wallet.len == 0) {
        return NGX_HTTP_NOT_FOUND;
    }

    if (r->method != NGX_HTTP_POST) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_read_client_request_body(r, ngx_http_bitcache_topup_body);
    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


/* The body as one string in the pool (at most 8 KiB), or NULL. */
static u_char *
ngx_http_bitcache_topup_body_text(ngx_http_request_t *r, size_t *len)
{
    ngx_str_t  body;

    *len = 0;
    if (ngx_http_bitcache_read_body(r, NGX_HTTP_BITCACHE_TOPUP_BODY_MAX, &body)
        != NGX_OK
        || body.len == 0)
    {
        return NULL;
    }

    *len = body.len;
    return body.data;
}


static void
ngx_http_bitcache_topup_body(ngx_http_request_t *r)
{
    u_char                         *body;
    char                            err[256];
    size_t                          len, vlen;
    ngx_int_t                       rc;
    ngx_flag_t                      header;
    const char                     *v;
    ngx_http_bitcache_topup_ctx_t  *ctx;
    ngx_http_bitcache_loc_conf_t   *blcf;

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bitcache_module);

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_bitcache_topup_ctx_t));
    if (ctx == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    body = ngx_http_bitcache_topup_body_text(r, &len);

    if (body == NULL
        || !bc_body_field((const char *) body, len, "amount", &v, &vlen)
        || !bc_body_sats(v, vlen, &ctx->amount))
    {
        ngx_http_bitcache_topup_fail(r, NGX_HTTP_BAD_REQUEST,
                                     "amount: a whole number of sats is "
                                     "needed");
        return;
    }

    /* the limits that need no Redis first */
    if (bc_topup_allowed(ctx->amount, (uint64_t) blcf->wallet_min_topup,
                         (uint64_t) blcf->wallet_max_topup,
                         (uint64_t) blcf->wallet_max_balance, 0, 0, err,
                         sizeof(err))
        != BC_TOPUP_OK)
    {
        ngx_http_bitcache_topup_fail(r, ctx->amount > (uint64_t)
                                        blcf->wallet_max_balance
                                        && ctx->amount <= (uint64_t)
                                           blcf->wallet_max_topup
                                     ? NGX_HTTP_CONFLICT
                                     : NGX_HTTP_BAD_REQUEST, err);
        return;
    }

    rc = ngx_http_bitcache_wallet_credential(r, &ctx->w, &header, err,
                                             sizeof(err));
    if (rc != NGX_OK) {
        ngx_http_bitcache_topup_fail(r, NGX_HTTP_UNAUTHORIZED,
                                     rc == NGX_DECLINED
                                     ? "no wallet: open one first" : err);
        return;
    }

    rc = ngx_http_bitcache_wallet_load(r, &ctx->w, NULL,
                                       ngx_http_bitcache_topup_loaded, ctx);
    if (rc != NGX_OK) {
        ngx_http_bitcache_topup_fail(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                     rc == NGX_DECLINED && ctx->w.failure
                                     ? ctx->w.failure : "redis unavailable");
    }

    /* the request is held by the body reading's count until finalized */
}


static void
ngx_http_bitcache_topup_loaded(ngx_http_request_t *r,
    ngx_http_bitcache_wallet_t *w)
{
    ngx_int_t                       rc;
    ngx_http_bitcache_topup_ctx_t  *ctx = w->data;
    ngx_http_bitcache_loc_conf_t   *blcf;

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bitcache_module);

    switch (w->outcome) {

    case NGX_HTTP_BITCACHE_WALLET_LOADED:
        break;

    case NGX_HTTP_BITCACHE_WALLET_NONE:
        ngx_http_bitcache_topup_fail(r, NGX_HTTP_UNAUTHORIZED,
                                     "no wallet has this recovery code");
        return;

    case NGX_HTTP_BITCACHE_WALLET_UNAVAILABLE:
        ngx_http_bitcache_topup_fail(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                     w->failure ? w->failure
                                                : "redis unavailable");
        return;

    default:
        ngx_http_bitcache_topup_fail(r, NGX_HTTP_CONFLICT,
                                     ngx_http_bitcache_wallet_outcome_str(
                                         w->outcome));
        return;
    }

    if (w->state.frozen != NULL || w->frozen.len) {
        /* money in a wallet being looked into waits for the operator */
        ngx_http_bitcache_topup_fail(r, NGX_HTTP_FORBIDDEN,
                                     "this wallet is frozen: ask the operator");
        return;
    }

    if (w->state.network != (uint8_t) blcf->network) {
        ngx_http_bitcache_topup_fail(r, NGX_HTTP_CONFLICT,
                                     "this wallet is of another network");
        return;
    }

    ngx_memcpy(ctx->pending.wid, w->wid, BC_WALLET_ID_LEN);

    rc = ngx_http_bitcache_pending_read(r, &ctx->pending,
                                        ngx_http_bitcache_topup_pending, ctx);
    if (rc != NGX_OK) {
        ngx_http_bitcache_topup_fail(r, rc == NGX_DECLINED
                                        ? NGX_HTTP_SERVICE_UNAVAILABLE
                                        : NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     "redis unavailable");
    }
}


static void
ngx_http_bitcache_topup_pending(ngx_http_request_t *r,
    ngx_http_bitcache_pending_t *p, ngx_int_t rc)
{
    char                            err[256];
    uint64_t                        pending, amount;
    bc_offer                        offer;
    ngx_uint_t                      i;
    ngx_http_bitcache_topup_ctx_t  *ctx = p->data;
    ngx_http_bitcache_loc_conf_t   *blcf;

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bitcache_module);

    if (rc != NGX_OK) {
        ngx_http_bitcache_topup_fail(r, rc == NGX_ERROR
                                        ? NGX_HTTP_INTERNAL_SERVER_ERROR : rc,
                                     "redis unavailable");
        return;
    }

    if (p->listed > BC_TOPUP_PENDING_MAX) {
        ngx_http_bitcache_topup_fail(r, NGX_HTTP_CONFLICT,
                                     "too many unpaid top-ups: pay them or "
                                     "let them expire");
        return;
    }

    /* what unpaid and uncredited top-ups will add */
    pending = 0;
    for (i = 0; i < p->n; i++) {
        amount = bc_topup_pending_amount(&p->recs[i], (uint64_t) ngx_time());
        pending = amount > UINT64_MAX - pending ? UINT64_MAX : pending + amount;
    }

    if (bc_topup_allowed(ctx->amount, (uint64_t) blcf->wallet_min_topup,
                         (uint64_t) blcf->wallet_max_topup,
                         (uint64_t) blcf->wallet_max_balance,
                         ctx->w.state.balance, pending, err, sizeof(err))
        != BC_TOPUP_OK)
    {
        ngx_http_bitcache_topup_fail(r, NGX_HTTP_CONFLICT, err);
        return;
    }

    /* an offer as a 402 page would sign it, made here: nobody else can
     * ask for a "wallet:" product (the access phase refuses to sell one) */
    bc_topup_product(ctx->product, ctx->w.wid);

    ngx_memzero(&offer, sizeof(bc_offer));
    offer.issued = (uint64_t) ngx_time();
    offer.price = ctx->amount;
    /* never from the mempool: a double spend would leave a balance that
     * buys files at once */
    offer.confirmations = (uint8_t) ngx_max(blcf->confirmations, 1);
    offer.invoice_ttl = (uint32_t) blcf->invoice_ttl;
    offer.token_ttl = 0;
    offer.max_downloads = 0;
    offer.network = (uint8_t) blcf->network;
    offer.wallet = (const char *) blcf->topup_wallet.data;
    offer.wallet_len = blcf->topup_wallet.len;
    offer.product = ctx->product;
    offer.product_len = BC_TOPUP_PRODUCT_LEN;
    offer.title = BC_TOPUP_TITLE;
    offer.title_len = sizeof(BC_TOPUP_TITLE) - 1;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "bitcache: wallet %s tops up %uL sats", p->widhex,
                  ctx->amount);

    ngx_http_bitcache_invoice_create(r, &offer, &p->wtop);
}


/* ---- a wallet read credits its settled top-ups ---- */


static void
ngx_http_bitcache_credit_pending_one(ngx_http_request_t *r,
    ngx_http_bitcache_credit_t *c)
{
    ngx_http_bitcache_pending_t  *p = c->data;
    ngx_http_bitcache_wallet_t   *w = p->wallet;

    if (c->has_state
        && (c->outcome == NGX_HTTP_BITCACHE_CREDITED
            || c->outcome == NGX_HTTP_BITCACHE_CREDITED_BEFORE)
        && c->state.seq >= w->state.seq)
    {
        /* the newest state verified or written: the page shows it */
        c->state.frozen = w->state.frozen;
        c->state.frozen_len = w->state.frozen_len;
        w->state = c->state;
    }

    if (c->outcome == NGX_HTTP_BITCACHE_CREDIT_UNAVAILABLE) {
        w->failure = c->failure;
        p->next = p->n;             /* Redis is gone: the rest next time */
    }

    ngx_http_bitcache_credit_next(r, p);
}


static void
ngx_http_bitcache_credit_next(ngx_http_request_t *r,
    ngx_http_bitcache_pending_t *p)
{
    char                           why[BC_INVOICE_WHY_MAX];
    ngx_int_t                      rc;
    bc_invoice_record             *rec;
    ngx_http_bitcache_wallet_t    *w = p->wallet;
    ngx_http_bitcache_loc_conf_t  *blcf;

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bitcache_module);

    while (p->next < p->n) {
        rec = &p->recs[p->next++];

        if (bc_invoice_check_either(rec, blcf->keys, blcf->watcher_key,
                                    blcf->watcher_key_old, why, sizeof(why))
            != BC_INVOICE_SETTLED)
        {
            continue;
        }

        ngx_memzero(&p->credit, sizeof(ngx_http_bitcache_credit_t));
        p->credit.rec = rec;

        rc = ngx_http_bitcache_wallet_credit(r, &p->credit,
                                             ngx_http_bitcache_credit_pending_one,
                                             p);
        if (rc == NGX_OK) {
            return;                 /* _one goes on */
        }
        w->failure = p->credit.failure;
        break;
    }

    p->wallet_done(r, w);
}


static void
ngx_http_bitcache_credit_pending_read(ngx_http_request_t *r,
    ngx_http_bitcache_pending_t *p, ngx_int_t rc)
{
    if (rc != NGX_OK) {
        /* the page shows the balance as loaded; the credit waits */
        p->n = 0;
    }

    p->next = 0;
    ngx_http_bitcache_credit_next(r, p);
}


ngx_int_t
ngx_http_bitcache_wallet_credit_pending(ngx_http_request_t *r,
    ngx_http_bitcache_wallet_t *w, ngx_http_bitcache_wallet_done_pt done,
    void *data)
{
    ngx_int_t                     rc;
    ngx_http_bitcache_pending_t  *p;

    p = ngx_pcalloc(r->pool, sizeof(ngx_http_bitcache_pending_t));
    if (p == NULL) {
        return NGX_ERROR;
    }

    w->done = done;
    w->data = data;
    p->wallet = w;
    p->wallet_done = done;
    ngx_memcpy(p->wid, w->wid, BC_WALLET_ID_LEN);

    rc = ngx_http_bitcache_pending_read(r, p,
                                        ngx_http_bitcache_credit_pending_read,
                                        NULL);
    if (rc == NGX_DECLINED) {
        w->failure = p->call.failure;
    }

    return rc;
}
