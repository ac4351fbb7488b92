/*
 * The buyer's wallet as the module sees it (see the header): the
 * credential, the state read and verified, and a purchase as one
 * compare-and-set script on the state's MAC (libbitcache/wallet_record.h),
 * computed and signed here from a state that verified, and computed again
 * from the state a racing purchase left when the script says "changed".
 * Redis is not trusted with any of it: a state, entry or ownership record
 * that does not verify is refused, never believed.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/rand.h>

#include "api_request.h"
#include "hash.h"
#include "hex.h"
#include "token_record.h"
#include "ngx_http_bitcache.h"
#include "ngx_http_bitcache_call.h"
#include "ngx_http_bitcache_marks.h"
#include "ngx_http_bitcache_page.h"
#include "ngx_http_bitcache_wallet.h"


#define NGX_HTTP_BITCACHE_WALLET_KV_MAX  64   /* fields of wal:<wid> read */
/* EVALSHA sha 5 KEYS[5] ARGV[24] */
#define NGX_HTTP_BITCACHE_BUY_ARGS       32
#define NGX_HTTP_BITCACHE_FROZEN_MAX     256  /* bytes of the reason shown */


/* SHA1 of the buy script for EVALSHA, computed on first use */
static char  ngx_http_bitcache_wallet_buy_sha[41];


static void ngx_http_bitcache_wallet_loaded(ngx_http_bitcache_call_t *call,
    redisReply *reply);
static void ngx_http_bitcache_wallet_bought(ngx_http_bitcache_call_t *call,
    redisReply *reply);
static ngx_int_t ngx_http_bitcache_wallet_attempt(ngx_http_request_t *r,
    ngx_http_bitcache_wallet_t *w);
static ngx_int_t ngx_http_bitcache_wallet_owned_check(ngx_http_request_t *r,
    ngx_http_bitcache_wallet_t *w);
static void ngx_http_bitcache_wallet_owned_read(ngx_http_bitcache_call_t *call,
    redisReply *reply);
static void ngx_http_bitcache_wallet_start(ngx_http_request_t *r,
    ngx_http_bitcache_wallet_t *w);


/* ---- the credential ---- */

static ngx_int_t
ngx_http_bitcache_wallet_code(ngx_http_bitcache_wallet_t *w, const char *code,
    size_t len, char *err, size_t errlen)
{
    if (!bc_wallet_code_decode(w->secret, code, len, err, errlen)
        || !bc_wallet_id_of(w->wid, w->secret))
    {
        ngx_explicit_memzero(w->secret, sizeof(w->secret));
        return NGX_ABORT;
    }

    bc_hex_encode(w->widhex, w->wid, BC_WALLET_ID_LEN);

    return NGX_OK;
}


ngx_int_t
ngx_http_bitcache_wallet_credential(ngx_http_request_t *r,
    ngx_http_bitcache_wallet_t *w, ngx_flag_t *header, char *err,
    size_t errlen)
{
    size_t             pos, len;
    ngx_uint_t         i;
    const char        *v;
    ngx_table_elt_t   *auth, **cookies;

    *header = 0;
    auth = r->headers_in.authorization;

    /* a script's header first; another scheme (Basic for the site) is not
     * ours and leaves the cookie to decide */
    if (auth != NULL
        && bc_auth_bitcache((const char *) auth->value.data, auth->value.len,
                            &v, &len))
    {
        *header = 1;
        return ngx_http_bitcache_wallet_code(w, v, len, err, errlen);
    }

    cookies = r->headers_in.cookies.elts;

    for (i = 0; i < r->headers_in.cookies.nelts; i++) {
        pos = 0;
        if (bc_cookie_next((const char *) cookies[i]->value.data,
                           cookies[i]->value.len, &pos, BC_WALLET_COOKIE,
                           &v, &len))
        {
            return ngx_http_bitcache_wallet_code(w, v, len, err, errlen);
        }
    }

    return NGX_DECLINED;
}


/* ---- rollbacks ---- */

#define NGX_HTTP_BITCACHE_WALLET_MARK_TAG  "bitcache/v1/wallet-mark"


typedef struct {
    uint64_t        seq;
    const u_char   *head;
} ngx_http_bitcache_wallet_seen_t;


/* The mark is the highest seq seen, pinned to the head that stood at it:
 * a state below it was written back; one at it with another head is a
 * fork (a successor the module signed for an attempt whose script wrote
 * nothing, which whoever watches Redis saw), written over the one that
 * was committed. NGX_DECLINED: below; NGX_ABORT: a fork. */
static ngx_int_t
ngx_http_bitcache_wallet_raise(void *data, uint64_t *mark, u_char *pin)
{
    static const u_char               none[32];
    ngx_http_bitcache_wallet_seen_t  *s = data;

    if (s->seq < *mark) {
        return NGX_DECLINED;
    }

    if (s->seq == *mark && ngx_memcmp(pin, none, 32) != 0
        && ngx_memcmp(pin, s->head, 32) != 0)
    {
        return NGX_ABORT;
    }

    *mark = s->seq;
    ngx_memcpy(pin, s->head, 32);

    return NGX_OK;
}


ngx_int_t
ngx_http_bitcache_wallet_mark(ngx_http_request_t *r,
    const unsigned char wid[BC_WALLET_ID_LEN], const char *widhex,
    uint64_t seq, const u_char *head, ngx_flag_t log_it, uint64_t *seenp)
{
    u_char                            key[32];
    uint64_t                          seen;
    ngx_int_t                         rc;
    ngx_flag_t                        full;
    ngx_http_bitcache_main_conf_t    *bmcf;
    ngx_http_bitcache_wallet_seen_t   s;

    bmcf = ngx_http_get_module_main_conf(r, ngx_http_bitcache_module);

    /* tagged: a wallet's key never meets a product's (plain SHA-256) */
    if (bmcf->catalog_zone == NULL
        || !bc_tagged_hash(key, NGX_HTTP_BITCACHE_WALLET_MARK_TAG, wid,
                           BC_WALLET_ID_LEN))
    {
        return NGX_DECLINED;                /* fail closed */
    }

    s.seq = seq;
    s.head = head;

    rc = ngx_http_bitcache_marks_update(bmcf->catalog_zone, key,
                                        ngx_http_bitcache_wallet_raise, &s,
                                        &seen, &full);

    if (full) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "bitcache: no room in bitcache_catalog_zone for the "
                      "mark of wallet %s", widhex);
    }

    if (seenp != NULL) {
        *seenp = seen;
    }

    if (rc == NGX_DECLINED && log_it) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "bitcache: wallet %s: its state was rolled back: seq "
                      "%uL after seq %uL was seen; refused", widhex, seq,
                      seen);
    }

    if (rc == NGX_ABORT && log_it) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "bitcache: wallet %s: its state is a fork: seq %uL "
                      "with another head than was seen; refused", widhex,
                      seq);
    }

    return rc;
}


ngx_flag_t
ngx_http_bitcache_wallet_rolled_back(ngx_http_request_t *r,
    const char *widhex, redisReply *reply)
{
    redisReply  *e;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || reply->elements < 1)
    {
        return 0;
    }

    e = reply->element[0];

    if (e->type != REDIS_REPLY_STRING || e->len != 6
        || ngx_strncmp(e->str, "ledger", 6) != 0)
    {
        return 0;
    }

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "bitcache: wallet %s: its state does not match its ledger "
                  "(rolled back?): the ledger has %L entries; refused",
                  widhex,
                  (reply->elements > 1
                   && reply->element[1]->type == REDIS_REPLY_INTEGER)
                  ? (int64_t) reply->element[1]->integer : (int64_t) -1);

    return 1;
}


/* ---- reading and verifying ---- */

/* Parses an HGETALL wal:<wid> reply into w->state and checks its MAC;
 * copies the frozen reason out of the reply. */
ngx_http_bitcache_wallet_outcome_e
ngx_http_bitcache_wallet_state(ngx_http_request_t *r,
    ngx_http_bitcache_wallet_t *w, redisReply *reply)
{
    char                           err[128];
    size_t                         i, kvlen[NGX_HTTP_BITCACHE_WALLET_KV_MAX];
    const char                    *kv[NGX_HTTP_BITCACHE_WALLET_KV_MAX];
    bc_wallet_state                s;
    ngx_http_bitcache_loc_conf_t  *blcf;

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bitcache_module);

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "bitcache: wallet %s: its state is not a hash",
                      w->widhex);
        return NGX_HTTP_BITCACHE_WALLET_INVALID;
    }

    if (reply->elements == 0) {
        return NGX_HTTP_BITCACHE_WALLET_NONE;
    }

    if (reply->elements > NGX_HTTP_BITCACHE_WALLET_KV_MAX
        || reply->elements % 2)
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "bitcache: wallet %s: its state has %uz fields",
                      w->widhex, reply->elements);
        return NGX_HTTP_BITCACHE_WALLET_INVALID;
    }

    for (i = 0; i < reply->elements; i++) {
        if (reply->element[i]->type != REDIS_REPLY_STRING) {
            return NGX_HTTP_BITCACHE_WALLET_INVALID;
        }
        kv[i] = reply->element[i]->str;
        kvlen[i] = reply->element[i]->len;
    }

    if (!bc_wallet_state_parse(&s, w->wid, kv, kvlen, reply->elements, err,
                               sizeof(err)))
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "bitcache: wallet %s: its state is malformed: %s",
                      w->widhex, err);
        return NGX_HTTP_BITCACHE_WALLET_INVALID;
    }

    if (!bc_wallet_state_ok(&s, blcf->keys)) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "bitcache: wallet %s: its state's MAC does not verify "
                      "(written by hand?): refused", w->widhex);
        return NGX_HTTP_BITCACHE_WALLET_INVALID;
    }

    /* a state older than one seen (written back) is refused; a newer one
     * raises the mark */
    w->stale = 0;

    if (w->reread) {
        /* read after the mark was seen: below that, it was written back */
        w->reread = 0;

        if (s.seq < w->mark) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "bitcache: wallet %s: its state was rolled back: "
                          "seq %uL after seq %uL was seen; refused",
                          w->widhex, s.seq, w->mark);
            return NGX_HTTP_BITCACHE_WALLET_INVALID;
        }

        /* at the mark with another head: a fork, not a race (below a mark
         * raised again meanwhile is a race: another worker bought) */
        if (ngx_http_bitcache_wallet_mark(r, w->wid, w->widhex, s.seq,
                                          s.head, 0, NULL)
            == NGX_ABORT && s.seq == w->mark)
        {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "bitcache: wallet %s: its state is a fork: seq "
                          "%uL with another head than was seen; refused",
                          w->widhex, s.seq);
            return NGX_HTTP_BITCACHE_WALLET_INVALID;
        }

    } else if (ngx_http_bitcache_wallet_mark(r, w->wid, w->widhex, s.seq,
                                             s.head, 0, &w->mark)
               != NGX_OK)
    {
        /* below the mark (or at it with another head): a read that raced
         * a purchase of another worker, or a state written back; the
         * caller reads again */
        w->stale = 1;
        w->reread = 1;
        return NGX_HTTP_BITCACHE_WALLET_INVALID;
    }

    w->frozen.len = 0;

    if (s.frozen != NULL) {
        /* not MAC'd: whoever writes Redis chooses this text; keep it short */
        s.frozen_len = ngx_min(s.frozen_len, NGX_HTTP_BITCACHE_FROZEN_MAX);
        w->frozen.data = ngx_pnalloc(r->pool, s.frozen_len + 1);
        if (w->frozen.data == NULL) {
            return NGX_HTTP_BITCACHE_WALLET_UNAVAILABLE;
        }
        ngx_memcpy(w->frozen.data, s.frozen, s.frozen_len);
        w->frozen.data[s.frozen_len] = '\0';
        w->frozen.len = s.frozen_len;
        s.frozen = (const char *) w->frozen.data;
    }

    w->state = s;

    return NGX_HTTP_BITCACHE_WALLET_LOADED;
}


/* Keeps a copy of the wown value for the product (nil: none). */
static ngx_int_t
ngx_http_bitcache_wallet_keep_owned(ngx_http_request_t *r,
    ngx_http_bitcache_wallet_t *w, redisReply *reply)
{
    w->owned.len = 0;

    if (reply == NULL || reply->type != REDIS_REPLY_STRING) {
        return NGX_OK;
    }

    w->owned.data = ngx_pnalloc(r->pool, reply->len);
    if (w->owned.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(w->owned.data, reply->str, reply->len);
    w->owned.len = reply->len;

    return NGX_OK;
}


ngx_int_t
ngx_http_bitcache_wallet_load(ngx_http_request_t *r,
    ngx_http_bitcache_wallet_t *w, ngx_str_t *product,
    ngx_http_bitcache_wallet_done_pt done, void *data)
{
    ngx_int_t  rc;
    ngx_str_t  a[5], wal, own;

    static const int  argcs[] = { 2, 3 };

    w->done = done;
    w->data = data;
    w->owned.len = 0;
    w->frozen.len = 0;
    w->failure = NULL;
    w->product.len = 0;
    if (product != NULL) {
        w->product = *product;
    }

    if (ngx_http_bitcache_key(r, &wal, BC_KEY_WALLET, (u_char *) w->widhex,
                              2 * BC_WALLET_ID_LEN) != NGX_OK
        || ngx_http_bitcache_key(r, &own, BC_KEY_OWNED, (u_char *) w->widhex,
                                 2 * BC_WALLET_ID_LEN) != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* MULTI; HGETALL wal:<wid>; HGET wown:<wid> <product>; EXEC: one round
     * trip, both read at the same instant */
    ngx_str_set(&a[0], "HGETALL");
    a[1] = wal;

    if (product != NULL) {
        ngx_str_set(&a[2], "HGET");
        a[3] = own;
        a[4] = *product;
    }

    rc = ngx_http_bitcache_callm(&w->call, r, ngx_http_bitcache_wallet_loaded,
                                 w, product != NULL ? 2 : 1, argcs, a);
    if (rc == NGX_DECLINED) {
        w->failure = w->call.failure;
    }

    return rc;
}


static void
ngx_http_bitcache_wallet_loaded(ngx_http_bitcache_call_t *call,
    redisReply *reply)
{
    ngx_http_request_t          *r = call->request;
    ngx_http_bitcache_wallet_t  *w = call->data;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || reply->elements < 1)
    {
        if (reply != NULL) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "bitcache: wallet %s: unexpected redis reply%s%s",
                          w->widhex,
                          reply->type == REDIS_REPLY_ERROR ? ": " : "",
                          reply->type == REDIS_REPLY_ERROR ? reply->str : "");
        }
        w->failure = reply ? "wallet unreadable" : call->failure;
        w->outcome = NGX_HTTP_BITCACHE_WALLET_UNAVAILABLE;
        w->done(r, w);
        return;
    }

    w->outcome = ngx_http_bitcache_wallet_state(r, w, reply->element[0]);

    if (w->stale) {
        /* below the mark: read again, after the mark was seen */
        if (ngx_http_bitcache_wallet_load(r, w, w->product.len ? &w->product
                                                               : NULL,
                                          w->done, w->data)
            == NGX_OK)
        {
            return;
        }
        w->failure = "redis unavailable";
        w->outcome = NGX_HTTP_BITCACHE_WALLET_UNAVAILABLE;
        w->done(r, w);
        return;
    }

    if (w->outcome == NGX_HTTP_BITCACHE_WALLET_LOADED
        && reply->elements > 1
        && ngx_http_bitcache_wallet_keep_owned(r, w, reply->element[1])
           != NGX_OK)
    {
        w->failure = "out of memory";
        w->outcome = NGX_HTTP_BITCACHE_WALLET_UNAVAILABLE;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "bitcache: wallet %s loaded: %s", w->widhex,
                   ngx_http_bitcache_wallet_outcome_str(w->outcome));

    w->done(r, w);
}


/* ---- buying ---- */

/* The token of an ownership record: what the purchase minted, again. */
static ngx_int_t
ngx_http_bitcache_wallet_token(ngx_http_request_t *r,
    ngx_http_bitcache_wallet_t *w, const unsigned char id[16], uint32_t uses,
    uint64_t expires)
{
    ngx_http_bitcache_loc_conf_t  *blcf;

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bitcache_module);

    ngx_memcpy(w->token.id, id, BC_TOKEN_ID_LEN);
    w->token.expires = expires;
    w->token.uses = uses;
    w->token.product = (const unsigned char *) w->offer.product;
    w->token.product_len = w->offer.product_len;

    return bc_token_encode(w->token_text, &w->token, blcf->keys) ? NGX_OK
                                                                 : NGX_ERROR;
}


/* What an ownership value says: NGX_OK owned (w->token set), NGX_DECLINED
 * not owned any more (its token expired), NGX_ABORT a value that does
 * not verify (refused: Redis was written to). */
static ngx_int_t
ngx_http_bitcache_wallet_owned(ngx_http_request_t *r,
    ngx_http_bitcache_wallet_t *w, ngx_str_t *value)
{
    char                           err[128];
    bc_wallet_owned                o;
    ngx_http_bitcache_loc_conf_t  *blcf;

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bitcache_module);

    if (!bc_wallet_owned_parse(&o, (const char *) value->data, value->len,
                               w->wid, w->offer.product, w->offer.product_len,
                               blcf->keys, err, sizeof(err)))
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "bitcache: wallet %s: its ownership of \"%V\" does not "
                      "verify (%s): refused", w->widhex,
                      ngx_http_bitcache_log_str(r, w->offer.product,
                                                w->offer.product_len), err);
        return NGX_ABORT;
    }

    if (o.expires <= (uint64_t) ngx_time()) {
        return NGX_DECLINED;
    }

    if (w->state.seq > o.seq
        && w->state.seq - o.seq >= NGX_HTTP_BITCACHE_WALLET_CHAIN_MAX)
    {
        /* too far back to walk the chain to it (owned_check): as if its
         * token had expired, bought anew */
        return NGX_DECLINED;
    }

    if (ngx_http_bitcache_wallet_token(r, w, o.purchase, o.uses, o.expires)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    w->owned_seq = o.seq;

    return NGX_OK;
}


static void
ngx_http_bitcache_wallet_finish(ngx_http_request_t *r,
    ngx_http_bitcache_wallet_t *w, ngx_http_bitcache_wallet_outcome_e o)
{
    w->outcome = o;

    /* the next purchase of this wallet in this worker may start, from
     * the state this one wrote */
    ngx_http_bitcache_wallet_queue_leave(w,
                                         o == NGX_HTTP_BITCACHE_WALLET_BOUGHT
                                         ? &w->state : NULL);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "bitcache: wallet %s buy: %s after %ui tries", w->widhex,
                   ngx_http_bitcache_wallet_outcome_str(o), w->tries);

    w->done(r, w);
}


/* Decides on the state and ownership read (load, or a "changed" answer):
 * NGX_DONE with w->outcome set and nothing to write, or NGX_OK: buy. */
static ngx_int_t
ngx_http_bitcache_wallet_decide(ngx_http_request_t *r,
    ngx_http_bitcache_wallet_t *w)
{
    ngx_int_t  rc;

    w->renew = 0;

    if (w->frozen.len) {
        w->outcome = NGX_HTTP_BITCACHE_WALLET_FROZEN;
        return NGX_DONE;
    }

    if (w->offer.network != w->state.network) {
        w->outcome = NGX_HTTP_BITCACHE_WALLET_NETWORK;
        return NGX_DONE;
    }

    if (w->owned.len) {
        rc = ngx_http_bitcache_wallet_owned(r, w, &w->owned);

        if (rc == NGX_ABORT) {
            w->outcome = NGX_HTTP_BITCACHE_WALLET_INVALID;
            return NGX_DONE;
        }

        if (rc == NGX_ERROR) {
            w->failure = "out of memory";
            w->outcome = NGX_HTTP_BITCACHE_WALLET_UNAVAILABLE;
            return NGX_DONE;
        }

        if (rc == NGX_OK && !w->again) {
            w->outcome = NGX_HTTP_BITCACHE_WALLET_OWNED;
            return NGX_DONE;
        }

        /* bought anew: asked for, or its token has expired */
        w->renew = 1;
    }

    if (w->autobuy && w->offer.price > w->state.max_auto) {
        w->outcome = NGX_HTTP_BITCACHE_WALLET_OVER_AUTO;
        return NGX_DONE;
    }

    if (w->state.balance < w->offer.price) {
        w->outcome = NGX_HTTP_BITCACHE_WALLET_LOW;
        return NGX_DONE;
    }

    return NGX_OK;
}


typedef struct {
    ngx_event_t                  ev;
    ngx_http_request_t          *request;
    ngx_http_bitcache_wallet_t  *wallet;
} ngx_http_bitcache_wallet_later_t;


static void
ngx_http_bitcache_wallet_later(ngx_event_t *ev)
{
    ngx_connection_t                  *c;
    ngx_http_bitcache_wallet_later_t  *l = ev->data;

    c = l->request->connection;

    ngx_http_bitcache_wallet_finish(l->request, l->wallet,
                                    l->wallet->outcome);
    ngx_http_run_posted_requests(c);
}


static ngx_int_t
ngx_http_bitcache_wallet_post(ngx_http_request_t *r,
    ngx_http_bitcache_wallet_t *w)
{
    ngx_http_bitcache_wallet_later_t  *l;

    l = ngx_pcalloc(r->pool, sizeof(ngx_http_bitcache_wallet_later_t));
    if (l == NULL) {
        return NGX_ERROR;
    }

    l->request = r;
    l->wallet = w;
    l->ev.handler = ngx_http_bitcache_wallet_later;
    l->ev.data = l;
    l->ev.log = r->connection->log;

    ngx_post_event(&l->ev, &ngx_posted_events);

    return NGX_OK;
}


ngx_int_t
ngx_http_bitcache_wallet_buy(ngx_http_request_t *r,
    ngx_http_bitcache_wallet_t *w, ngx_http_bitcache_wallet_done_pt done,
    void *data)
{
    ngx_int_t  rc;

    w->done = done;
    w->data = data;
    w->tries = 0;
    w->failure = NULL;

    if (ngx_http_bitcache_wallet_buy_sha[0] == '\0') {
        bc_script_sha1(ngx_http_bitcache_wallet_buy_sha, bc_script_wallet_buy);
        if (ngx_http_bitcache_wallet_buy_sha[0] == '\0') {
            return NGX_ERROR;
        }
    }

    if (ngx_http_bitcache_wallet_decide(r, w) == NGX_DONE) {
        if (w->outcome == NGX_HTTP_BITCACHE_WALLET_OWNED
            && ngx_http_bitcache_wallet_owned_check(r, w) == NGX_OK)
        {
            return NGX_OK;          /* its debit is read, then done runs */
        }

        /* nothing to write (low, frozen...): done still runs after buy
         * returns, as when Redis answers */
        return ngx_http_bitcache_wallet_post(r, w);
    }

    /* behind a purchase of this wallet in flight in this worker: wait */
    rc = ngx_http_bitcache_wallet_queue_enter(r, w,
                                              ngx_http_bitcache_wallet_start);
    if (rc == NGX_BUSY) {
        return NGX_OK;                      /* start runs in its turn */
    }

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_bitcache_wallet_attempt(r, w);
}


/* A queued purchase's turn: decided again from the state the one before
 * wrote (or read), then tried. */
static void
ngx_http_bitcache_wallet_start(ngx_http_request_t *r,
    ngx_http_bitcache_wallet_t *w)
{
    if (ngx_http_bitcache_wallet_attempt(r, w) != NGX_OK) {
        if (w->failure == NULL) {
            w->failure = "redis unavailable";
        }
        ngx_http_bitcache_wallet_finish(r, w,
                                        NGX_HTTP_BITCACHE_WALLET_UNAVAILABLE);
    }
}


/* One compare-and-set: the debit, new state, ownership and token computed
 * from w->state, and the script that writes them if the state is still
 * the one read. NGX_OK: the answer follows (or done ran: nothing to
 * write); NGX_DECLINED: no Redis; NGX_ERROR. */
static ngx_int_t
ngx_http_bitcache_wallet_attempt(ngx_http_request_t *r,
    ngx_http_bitcache_wallet_t *w)
{
    u_char                        *entry, *own, *p;
    char                           readmac[65], uses[NGX_INT32_LEN + 1];
    char                           expires[NGX_INT64_LEN + 1];
    char                           phex[2 * BC_TOKEN_ID_LEN + 1];
    size_t                         i, elen, olen;
    size_t                         argvlen[NGX_HTTP_BITCACHE_BUY_ARGS];
    uint64_t                       now;
    ngx_int_t                      rc;
    ngx_str_t                      keys[5], idem;
    const char                    *argv[NGX_HTTP_BITCACHE_BUY_ARGS];
    bc_ledger_entry                e;
    bc_wallet_owned                o;
    bc_wallet_state                s;
    bc_wallet_state_argv          *sa;
    ngx_http_bitcache_loc_conf_t  *blcf;

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bitcache_module);

    rc = ngx_http_bitcache_wallet_decide(r, w);
    if (rc == NGX_DONE) {
        if (w->outcome != NGX_HTTP_BITCACHE_WALLET_OWNED
            || ngx_http_bitcache_wallet_owned_check(r, w) != NGX_OK)
        {
            ngx_http_bitcache_wallet_finish(r, w, w->outcome);
        }
        return NGX_OK;
    }

    w->tries++;
    now = (uint64_t) ngx_time();

    /* the debit entry, chained to the state's head */
    ngx_memzero(&e, sizeof(bc_ledger_entry));
    e.kind = BC_ENTRY_DEBIT;
    e.seq = w->state.seq + 1;
    e.amount = w->offer.price;
    e.balance = w->state.balance - w->offer.price;
    e.time = now;
    ngx_memcpy(e.prev, w->state.head, 32);
    if (RAND_bytes(e.purchase, sizeof(e.purchase)) != 1) {
        return NGX_ERROR;
    }
    e.uses = w->offer.max_downloads;
    e.expires = now + w->offer.token_ttl;
    e.product = w->offer.product;
    e.product_len = w->offer.product_len;
    e.seller = w->offer.wallet;
    e.seller_len = w->offer.wallet_len;

    entry = ngx_pnalloc(r->pool, BC_LEDGER_ENTRY_MAX + 3 * e.product_len
                                 + 3 * e.seller_len);
    own = ngx_pnalloc(r->pool, BC_OWNED_MAX);
    sa = ngx_palloc(r->pool, sizeof(bc_wallet_state_argv));
    if (entry == NULL || own == NULL || sa == NULL) {
        return NGX_ERROR;
    }

    elen = bc_ledger_entry_encode((char *) entry, BC_LEDGER_ENTRY_MAX
                                  + 3 * e.product_len + 3 * e.seller_len,
                                  &e, w->wid, blcf->keys);
    if (elen == 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "bitcache: wallet %s: the purchase of \"%V\" does not "
                      "fit a ledger entry", w->widhex,
                      ngx_http_bitcache_log_str(r, w->offer.product,
                                                w->offer.product_len));
        return NGX_ERROR;
    }

    /* the new state: one entry more, the balance less the price */
    s = w->state;
    s.seq = e.seq;
    s.balance = e.balance;
    s.frozen = NULL;
    s.frozen_len = 0;
    if (!bc_ledger_entry_hash(s.head, (const char *) entry, elen)
        || !bc_wallet_state_mac(s.mac, &s, blcf->keys))
    {
        return NGX_ERROR;
    }
    bc_wallet_state_argv_make(sa, &s);

    /* what the wallet owns now, and the token it holds */
    ngx_memzero(&o, sizeof(bc_wallet_owned));
    ngx_memcpy(o.purchase, e.purchase, sizeof(o.purchase));
    o.uses = e.uses;
    o.expires = e.expires;
    o.seq = e.seq;
    olen = bc_wallet_owned_encode((char *) own, &o, w->wid, w->offer.product,
                                  w->offer.product_len, blcf->keys);
    if (olen == 0
        || ngx_http_bitcache_wallet_token(r, w, e.purchase, e.uses, e.expires)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    w->next = s;

    bc_hex_encode(phex, e.purchase, BC_TOKEN_ID_LEN);
    bc_hex_encode(readmac, w->state.mac, 32);

    idem.len = 2 * BC_WALLET_ID_LEN + 1 + (w->idem.len ? w->idem.len : 1);
    idem.data = ngx_pnalloc(r->pool, idem.len);
    if (idem.data == NULL) {
        return NGX_ERROR;
    }
    p = ngx_cpymem(idem.data, w->widhex, 2 * BC_WALLET_ID_LEN);
    *p++ = ':';
    if (w->idem.len) {
        ngx_memcpy(p, w->idem.data, w->idem.len);
    } else {
        *p = '-';
    }

    if (ngx_http_bitcache_key(r, &keys[0], BC_KEY_WALLET, (u_char *) w->widhex,
                              2 * BC_WALLET_ID_LEN) != NGX_OK
        || ngx_http_bitcache_key(r, &keys[1], BC_KEY_LEDGER,
                                 (u_char *) w->widhex, 2 * BC_WALLET_ID_LEN)
           != NGX_OK
        || ngx_http_bitcache_key(r, &keys[2], BC_KEY_OWNED,
                                 (u_char *) w->widhex, 2 * BC_WALLET_ID_LEN)
           != NGX_OK
        || ngx_http_bitcache_key(r, &keys[3], BC_TOKREC_KIND, (u_char *) phex,
                                 2 * BC_TOKEN_ID_LEN) != NGX_OK
        || ngx_http_bitcache_key(r, &keys[4], BC_KEY_IDEM, idem.data, idem.len)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_sprintf((u_char *) uses, "%uD%Z", e.uses);
    ngx_sprintf((u_char *) expires, "%uL%Z", e.expires);

    /* EVALSHA <sha> 5 KEYS[1..5] ARGV[1..24] (wallet_record.h) */
    argv[0] = w->evaled ? "EVAL" : "EVALSHA";
    argvlen[0] = ngx_strlen(argv[0]);
    argv[1] = w->evaled ? bc_script_wallet_buy
                        : ngx_http_bitcache_wallet_buy_sha;
    argvlen[1] = ngx_strlen(argv[1]);
    argv[2] = "5";
    argvlen[2] = 1;

    for (i = 0; i < 5; i++) {
        argv[3 + i] = (const char *) keys[i].data;
        argvlen[3 + i] = keys[i].len;
    }

    argv[8] = readmac;
    argvlen[8] = 64;

    for (i = 0; i < 16; i++) {
        argv[9 + i] = sa->argv[i];
        argvlen[9 + i] = sa->argvlen[i];
    }

    argv[25] = (const char *) entry;
    argvlen[25] = elen;
    argv[26] = w->offer.product;
    argvlen[26] = w->offer.product_len;
    argv[27] = (const char *) own;
    argvlen[27] = olen;
    argv[28] = uses;
    argvlen[28] = ngx_strlen(uses);
    argv[29] = expires;
    argvlen[29] = ngx_strlen(expires);
    argv[30] = w->idem.len ? (const char *) w->idem.data : "";
    argvlen[30] = w->idem.len;
    argv[31] = (w->again || w->renew) ? "again" : "";
    argvlen[31] = (w->again || w->renew) ? 5 : 0;

    rc = ngx_http_bitcache_call(&w->call, r, ngx_http_bitcache_wallet_bought,
                                w, NGX_HTTP_BITCACHE_BUY_ARGS, argv, argvlen);
    if (rc == NGX_DECLINED) {
        w->failure = w->call.failure;
    }

    return rc;
}


/* An answer's first element: the word it starts with. */
ngx_flag_t
ngx_http_bitcache_wallet_word(redisReply *reply, const char *word)
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


/* After a read again (the state the script answered was below the mark):
 * go on with the purchase from it. */
static void
ngx_http_bitcache_wallet_resumed(ngx_http_request_t *r,
    ngx_http_bitcache_wallet_t *w)
{
    w->done = w->buy_done;

    if (w->outcome != NGX_HTTP_BITCACHE_WALLET_LOADED) {
        ngx_http_bitcache_wallet_finish(r, w, w->outcome);
        return;
    }

    if (ngx_http_bitcache_wallet_attempt(r, w) != NGX_OK) {
        if (w->failure == NULL) {
            w->failure = "cannot compute the purchase";
        }
        ngx_http_bitcache_wallet_finish(r, w,
                                        NGX_HTTP_BITCACHE_WALLET_UNAVAILABLE);
    }
}


/* Reads the state and the product's ownership again; done (resumed or
 * replayed) goes on from them. */
static void
ngx_http_bitcache_wallet_reload(ngx_http_request_t *r,
    ngx_http_bitcache_wallet_t *w, ngx_http_bitcache_wallet_done_pt done)
{
    ngx_str_t  product;

    product.data = (u_char *) w->offer.product;
    product.len = w->offer.product_len;
    w->buy_done = w->done;

    if (ngx_http_bitcache_wallet_load(r, w, &product, done, w->data)
        != NGX_OK)
    {
        w->done = w->buy_done;
        ngx_http_bitcache_wallet_finish(r, w,
                                        NGX_HTTP_BITCACHE_WALLET_UNAVAILABLE);
    }
}


/* The script said "changed": believe only a state that verifies, then
 * decide and try again from it. */
static void
ngx_http_bitcache_wallet_changed(ngx_http_request_t *r,
    ngx_http_bitcache_wallet_t *w, redisReply *reply)
{
    ngx_int_t                           rc;
    ngx_http_bitcache_wallet_outcome_e  o;

    if (reply->elements < 2) {
        ngx_http_bitcache_wallet_finish(r, w,
                                        NGX_HTTP_BITCACHE_WALLET_INVALID);
        return;
    }

    o = ngx_http_bitcache_wallet_state(r, w, reply->element[1]);

    if (w->stale && w->tries < NGX_HTTP_BITCACHE_WALLET_TRIES) {
        ngx_http_bitcache_wallet_reload(r, w,
                                        ngx_http_bitcache_wallet_resumed);
        return;
    }

    if (o != NGX_HTTP_BITCACHE_WALLET_LOADED) {
        ngx_http_bitcache_wallet_finish(r, w, o);
        return;
    }

    if (ngx_http_bitcache_wallet_keep_owned(r, w, reply->elements > 2
                                                  ? reply->element[2] : NULL)
        != NGX_OK)
    {
        w->failure = "out of memory";
        ngx_http_bitcache_wallet_finish(r, w,
                                        NGX_HTTP_BITCACHE_WALLET_UNAVAILABLE);
        return;
    }

    if (w->tries >= NGX_HTTP_BITCACHE_WALLET_TRIES) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "bitcache: wallet %s: %ui purchases raced this one, "
                      "busy", w->widhex, w->tries);
        ngx_http_bitcache_wallet_finish(r, w, NGX_HTTP_BITCACHE_WALLET_BUSY);
        return;
    }

    rc = ngx_http_bitcache_wallet_attempt(r, w);
    if (rc != NGX_OK) {
        if (w->failure == NULL) {
            w->failure = "cannot compute the purchase";
        }
        ngx_http_bitcache_wallet_finish(r, w,
                                        NGX_HTTP_BITCACHE_WALLET_UNAVAILABLE);
    }
}


/* After "replay": the key bought this product in a purchase this request
 * has not seen; its ownership record holds the token. */
static void
ngx_http_bitcache_wallet_replayed(ngx_http_request_t *r,
    ngx_http_bitcache_wallet_t *w)
{
    ngx_int_t  rc;

    w->done = w->buy_done;

    if (w->outcome != NGX_HTTP_BITCACHE_WALLET_LOADED) {
        ngx_http_bitcache_wallet_finish(r, w, w->outcome);
        return;
    }

    rc = w->owned.len ? ngx_http_bitcache_wallet_owned(r, w, &w->owned)
                      : NGX_DECLINED;

    if (rc == NGX_OK) {
        w->outcome = NGX_HTTP_BITCACHE_WALLET_OWNED;
        if (ngx_http_bitcache_wallet_owned_check(r, w) != NGX_OK) {
            ngx_http_bitcache_wallet_finish(r, w, w->outcome);
        }
        return;
    }

    ngx_http_bitcache_wallet_finish(r, w,
                                    rc == NGX_OK
                                    ? NGX_HTTP_BITCACHE_WALLET_OWNED
                                    : rc == NGX_ABORT
                                    ? NGX_HTTP_BITCACHE_WALLET_INVALID
                                    : NGX_HTTP_BITCACHE_WALLET_BUSY);
}


static void
ngx_http_bitcache_wallet_bought(ngx_http_bitcache_call_t *call,
    redisReply *reply)
{
    uint64_t                     seen;
    ngx_int_t                    rc;
    ngx_str_t                    v;
    ngx_http_request_t          *r = call->request;
    ngx_http_bitcache_wallet_t  *w = call->data;

    if (reply == NULL) {
        w->failure = call->failure;
        ngx_http_bitcache_wallet_finish(r, w,
                                        NGX_HTTP_BITCACHE_WALLET_UNAVAILABLE);
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR && !w->evaled
        && ngx_strncmp(reply->str, "NOSCRIPT", 8) == 0)
    {
        /* a new or flushed Redis: EVAL runs it and caches it again */
        w->evaled = 1;
        w->tries--;
        rc = ngx_http_bitcache_wallet_attempt(r, w);
        if (rc != NGX_OK) {
            w->failure = w->failure ? w->failure : "redis unavailable";
            ngx_http_bitcache_wallet_finish(r, w,
                                         NGX_HTTP_BITCACHE_WALLET_UNAVAILABLE);
        }
        return;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 1) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "bitcache: wallet %s: unexpected answer of the buy "
                      "script: %s", w->widhex,
                      reply->type == REDIS_REPLY_ERROR ? reply->str
                                                        : "not a list");
        w->failure = "wallet script failed";
        ngx_http_bitcache_wallet_finish(r, w,
                                        NGX_HTTP_BITCACHE_WALLET_UNAVAILABLE);
        return;
    }

    if (ngx_http_bitcache_wallet_word(reply, "ok")) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "bitcache: wallet %s bought \"%V\" for %uL sats "
                      "(entry %uL)", w->widhex,
                      ngx_http_bitcache_log_str(r, w->offer.product,
                                                w->offer.product_len),
                      w->offer.price, w->next.seq);
        w->state = w->next;

        /* written over the newest state (compare-and-set), it is no fork:
         * at the mark's seq with another head, the state it was written
         * over was written back (a read again that raced a purchase of
         * this wallet believes a state not below the mark seen before it,
         * though below the one now) and the purchase written back would
         * be had for free: nothing is handed out. (Above the mark, or
         * below it: other purchases may have followed it already.) */
        if (ngx_http_bitcache_wallet_mark(r, w->wid, w->widhex, w->next.seq,
                                          w->next.head, 0, &seen)
            == NGX_ABORT)
        {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "bitcache: wallet %s: a purchase was written over "
                          "a state written back (entry %uL is a fork of the "
                          "one seen, mark %uL): no token given", w->widhex,
                          w->next.seq, seen);
            ngx_http_bitcache_wallet_finish(r, w,
                                            NGX_HTTP_BITCACHE_WALLET_INVALID);
            return;
        }

        ngx_http_bitcache_wallet_finish(r, w, NGX_HTTP_BITCACHE_WALLET_BOUGHT);
        return;
    }

    if (ngx_http_bitcache_wallet_word(reply, "changed")) {
        ngx_http_bitcache_wallet_changed(r, w, reply);
        return;
    }

    if (ngx_http_bitcache_wallet_rolled_back(r, w->widhex, reply)) {
        ngx_http_bitcache_wallet_finish(r, w,
                                        NGX_HTTP_BITCACHE_WALLET_INVALID);
        return;
    }

    if (ngx_http_bitcache_wallet_word(reply, "frozen")) {
        w->frozen.len = 0;
        if (reply->elements > 1
            && reply->element[1]->type == REDIS_REPLY_STRING)
        {
            v.data = (u_char *) reply->element[1]->str;
            v.len = reply->element[1]->len;
            w->frozen.data = (u_char *) ngx_http_bitcache_cstr(r, &v);
            w->frozen.len = w->frozen.data ? v.len : 0;
        }
        if (w->frozen.len == 0) {
            ngx_str_set(&w->frozen, "frozen");
        }
        w->state.frozen = (const char *) w->frozen.data;
        w->state.frozen_len = w->frozen.len;
        ngx_http_bitcache_wallet_finish(r, w, NGX_HTTP_BITCACHE_WALLET_FROZEN);
        return;
    }

    if (ngx_http_bitcache_wallet_word(reply, "key")) {
        ngx_http_bitcache_wallet_finish(r, w,
                                        NGX_HTTP_BITCACHE_WALLET_KEY_REUSED);
        return;
    }

    if (ngx_http_bitcache_wallet_word(reply, "owned")
        || ngx_http_bitcache_wallet_word(reply, "replay"))
    {
        /* the product's ownership: from the answer, or as read ("replay":
         * this key bought it, whose ownership the read saw or the next
         * "changed" brings) */
        if (reply->elements > 1
            && reply->element[1]->type == REDIS_REPLY_STRING)
        {
            v.data = (u_char *) reply->element[1]->str;
            v.len = reply->element[1]->len;
        } else {
            v = w->owned;
        }

        if (v.len == 0) {
            /* "replay" before this request saw the purchase: read it */
            ngx_http_bitcache_wallet_reload(r, w,
                                            ngx_http_bitcache_wallet_replayed);
            return;
        }

        rc = ngx_http_bitcache_wallet_owned(r, w, &v);

        if (rc == NGX_OK) {
            w->outcome = NGX_HTTP_BITCACHE_WALLET_OWNED;
            if (ngx_http_bitcache_wallet_owned_check(r, w) != NGX_OK) {
                ngx_http_bitcache_wallet_finish(r, w, w->outcome);
            }
            return;
        }

        if (rc == NGX_DECLINED
            && ngx_http_bitcache_wallet_word(reply, "replay"))
        {
            /* the key's purchase lapsed: the key buys nothing more (the
             * script would say "replay" as long as the key lives) */
            ngx_http_bitcache_wallet_finish(r, w,
                                        NGX_HTTP_BITCACHE_WALLET_KEY_REUSED);
            return;
        }

        if (rc == NGX_DECLINED && v.len
            && w->tries < NGX_HTTP_BITCACHE_WALLET_TRIES)
        {
            /* its token expired meanwhile: bought anew (decide sees it) */
            if (v.data != w->owned.data) {
                w->owned.data = (u_char *) ngx_http_bitcache_cstr(r, &v);
                w->owned.len = w->owned.data ? v.len : 0;
            }

            if (w->owned.len
                && ngx_http_bitcache_wallet_attempt(r, w) == NGX_OK)
            {
                return;
            }
        }

        ngx_http_bitcache_wallet_finish(r, w, rc == NGX_ABORT
                                        ? NGX_HTTP_BITCACHE_WALLET_INVALID
                                        : NGX_HTTP_BITCACHE_WALLET_BUSY);
        return;
    }

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "bitcache: wallet %s: unknown answer of the buy script",
                  w->widhex);
    w->failure = "wallet script failed";
    ngx_http_bitcache_wallet_finish(r, w, NGX_HTTP_BITCACHE_WALLET_UNAVAILABLE);
}


/* ---- believing an ownership ---- */

/* An ownership value's MAC proves only that the module made it: it makes
 * one for every purchase it tries, also for one the script does not write
 * ("key", "frozen", "changed", a lost answer), and a Redis writer sees it
 * in the script's arguments. So OWNED is answered only once the debit the
 * ownership names stands in the chain that ends at the head of the state
 * (MAC'd): MULTI; HGETALL wal; LRANGE wled <seq - 1> -1; EXEC, the entries
 * from the debit to the state's last, each hashing to the next one's prev
 * and the last to the head. NGX_OK: started, done runs with OWNED, or
 * INVALID (logged), FROZEN, UNAVAILABLE; else w->outcome set (done not
 * run). */
static ngx_int_t
ngx_http_bitcache_wallet_owned_check(ngx_http_request_t *r,
    ngx_http_bitcache_wallet_t *w)
{
    u_char     *lo;
    ngx_int_t   rc;
    ngx_str_t   a[6], wal, led;

    static const int  argcs[] = { 2, 4 };

    if (w->owned_seq == 0) {
        w->outcome = NGX_HTTP_BITCACHE_WALLET_INVALID;
        return NGX_DECLINED;
    }

    lo = ngx_pnalloc(r->pool, NGX_INT64_LEN);
    if (lo == NULL
        || ngx_http_bitcache_key(r, &wal, BC_KEY_WALLET, (u_char *) w->widhex,
                                 2 * BC_WALLET_ID_LEN) != NGX_OK
        || ngx_http_bitcache_key(r, &led, BC_KEY_LEDGER, (u_char *) w->widhex,
                                 2 * BC_WALLET_ID_LEN) != NGX_OK)
    {
        w->failure = "out of memory";
        w->outcome = NGX_HTTP_BITCACHE_WALLET_UNAVAILABLE;
        return NGX_ERROR;
    }

    ngx_str_set(&a[0], "HGETALL");
    a[1] = wal;
    ngx_str_set(&a[2], "LRANGE");
    a[3] = led;
    a[4].data = lo;
    a[4].len = ngx_sprintf(lo, "%uL", w->owned_seq - 1) - lo;
    ngx_str_set(&a[5], "-1");

    rc = ngx_http_bitcache_callm(&w->call, r,
                                 ngx_http_bitcache_wallet_owned_read, w,
                                 2, argcs, a);
    if (rc == NGX_OK) {
        return NGX_OK;
    }

    w->failure = rc == NGX_DECLINED ? w->call.failure : "out of memory";
    w->outcome = NGX_HTTP_BITCACHE_WALLET_UNAVAILABLE;
    return rc;
}


/* 1 if the entries (LRANGE from the ownership's debit on) are the chain
 * from that debit to w->state's head, and the debit is the purchase of
 * w->token. */
static ngx_flag_t
ngx_http_bitcache_wallet_owned_chain(ngx_http_request_t *r,
    ngx_http_bitcache_wallet_t *w, redisReply *list, char *err, size_t errlen)
{
    u_char           *buf;
    size_t            i, n;
    redisReply       *el;
    unsigned char     want[32], hash[32];
    bc_ledger_entry   e;

    if (list->type != REDIS_REPLY_ARRAY || w->owned_seq > w->state.seq) {
        ngx_snprintf((u_char *) err, errlen, "its debit %uL is not in the "
                     "ledger of %uL entries%Z", w->owned_seq, w->state.seq);
        return 0;
    }

    n = (size_t) (w->state.seq - w->owned_seq + 1);
    if (n > NGX_HTTP_BITCACHE_WALLET_CHAIN_MAX) {
        ngx_snprintf((u_char *) err, errlen, "its debit %uL is more than %d "
                     "entries back%Z", w->owned_seq,
                     NGX_HTTP_BITCACHE_WALLET_CHAIN_MAX);
        return 0;
    }
    if (list->elements != n) {
        ngx_snprintf((u_char *) err, errlen, "the ledger does not have the "
                     "state's %uL entries%Z", w->state.seq);
        return 0;
    }

    ngx_memzero(&e, sizeof(bc_ledger_entry));
    ngx_memcpy(want, w->state.head, 32);

    for (i = n; i > 0; i--) {
        el = list->element[i - 1];

        if (el->type != REDIS_REPLY_STRING) {
            ngx_snprintf((u_char *) err, errlen, "entry %uL is not a "
                         "string%Z", w->owned_seq + i - 1);
            return 0;
        }

        buf = ngx_pnalloc(r->pool, el->len + 1);
        if (buf == NULL) {
            ngx_snprintf((u_char *) err, errlen, "out of memory%Z");
            return 0;
        }

        if (!bc_ledger_entry_hash(hash, el->str, el->len)
            || ngx_memcmp(hash, want, 32) != 0
            || !bc_ledger_entry_parse(&e, buf, el->str, el->len, err, errlen)
            || e.seq != w->owned_seq + i - 1)
        {
            ngx_snprintf((u_char *) err, errlen, "entry %uL is not in the "
                         "chain of the state's head%Z", w->owned_seq + i - 1);
            return 0;
        }

        ngx_memcpy(want, e.prev, 32);
    }

    /* e is the entry of the ownership's seq */
    if (e.kind != BC_ENTRY_DEBIT
        || ngx_memcmp(e.purchase, w->token.id, BC_TOKEN_ID_LEN) != 0
        || e.uses != w->token.uses || e.expires != w->token.expires
        || e.product_len != w->offer.product_len
        || ngx_memcmp(e.product, w->offer.product, e.product_len) != 0)
    {
        ngx_snprintf((u_char *) err, errlen, "entry %uL is not its "
                     "purchase%Z", w->owned_seq);
        return 0;
    }

    return 1;
}


static void
ngx_http_bitcache_wallet_owned_read(ngx_http_bitcache_call_t *call,
    redisReply *reply)
{
    char                                err[128];
    ngx_http_request_t                 *r = call->request;
    ngx_http_bitcache_wallet_t         *w = call->data;
    ngx_http_bitcache_wallet_outcome_e  o;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || reply->elements != 2)
    {
        w->failure = reply ? "wallet unreadable" : call->failure;
        ngx_http_bitcache_wallet_finish(r, w,
                                        NGX_HTTP_BITCACHE_WALLET_UNAVAILABLE);
        return;
    }

    o = ngx_http_bitcache_wallet_state(r, w, reply->element[0]);
    if (o != NGX_HTTP_BITCACHE_WALLET_LOADED) {
        ngx_http_bitcache_wallet_finish(r, w, o);
        return;
    }

    if (w->frozen.len) {
        ngx_http_bitcache_wallet_finish(r, w, NGX_HTTP_BITCACHE_WALLET_FROZEN);
        return;
    }

    if (!ngx_http_bitcache_wallet_owned_chain(r, w, reply->element[1], err,
                                              sizeof(err)))
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "bitcache: wallet %s: its ownership of \"%V\" names no "
                      "purchase of its ledger (%s; written by hand?): "
                      "refused", w->widhex,
                      ngx_http_bitcache_log_str(r, w->offer.product,
                                                w->offer.product_len), err);
        ngx_http_bitcache_wallet_finish(r, w,
                                        NGX_HTTP_BITCACHE_WALLET_INVALID);
        return;
    }

    ngx_http_bitcache_wallet_finish(r, w, NGX_HTTP_BITCACHE_WALLET_OWNED);
}


const char *
ngx_http_bitcache_wallet_outcome_str(ngx_http_bitcache_wallet_outcome_e o)
{
    switch (o) {
    case NGX_HTTP_BITCACHE_WALLET_LOADED:     return "loaded";
    case NGX_HTTP_BITCACHE_WALLET_BOUGHT:     return "bought";
    case NGX_HTTP_BITCACHE_WALLET_OWNED:      return "owned";
    case NGX_HTTP_BITCACHE_WALLET_LOW:        return "balance too low";
    case NGX_HTTP_BITCACHE_WALLET_OVER_AUTO:
        return "the price is above the wallet's max_auto_price";
    case NGX_HTTP_BITCACHE_WALLET_NONE:
        return "no wallet has this recovery code";
    case NGX_HTTP_BITCACHE_WALLET_FROZEN:     return "wallet frozen";
    case NGX_HTTP_BITCACHE_WALLET_INVALID:
        return "the wallet's records do not verify: refused";
    case NGX_HTTP_BITCACHE_WALLET_KEY_REUSED:
        return "this idempotency key was used for another product, or for "
               "a purchase whose token has expired: use a new key";
    case NGX_HTTP_BITCACHE_WALLET_NETWORK:
        return "the wallet is for another network";
    case NGX_HTTP_BITCACHE_WALLET_BUSY:       return "wallet busy, retry";
    case NGX_HTTP_BITCACHE_WALLET_UNAVAILABLE: return "redis unavailable";
    }

    return "unknown";
}
