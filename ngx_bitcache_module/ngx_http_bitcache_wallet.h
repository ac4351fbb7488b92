/*
 * The buyer's Bitcache wallet as the module sees it (docs/wallet.md): the
 * secret a request carries, the state read and verified, and a purchase
 * (one compare-and-set script on the state's MAC, retried while racing
 * purchases move it). Used by the API's wallet routes and by the access
 * phase (the 402 page's balance and "Buy" button, auto-buy).
 */

#ifndef _NGX_HTTP_BITCACHE_WALLET_H_INCLUDED_
#define _NGX_HTTP_BITCACHE_WALLET_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "api_request.h"
#include "invoice.h"
#include "token.h"
#include "wallet_record.h"
#include "ngx_http_bitcache.h"
#include "ngx_http_bitcache_call.h"


/* compare-and-set attempts before a purchase answers 503 "busy" */
#define NGX_HTTP_BITCACHE_WALLET_TRIES  32

/* ledger entries a request walks back from the state's head, at most, to
 * believe an older one (an ownership's debit, a history page's tokens):
 * beyond, an ownership is bought anew, and a page shows no download links */
#define NGX_HTTP_BITCACHE_WALLET_CHAIN_MAX  4096


typedef enum {
    NGX_HTTP_BITCACHE_WALLET_LOADED = 0,  /* load: state (and owned) read */
    NGX_HTTP_BITCACHE_WALLET_BOUGHT,      /* charged; token in w->token */
    NGX_HTTP_BITCACHE_WALLET_OWNED,       /* no charge; the token again */
    NGX_HTTP_BITCACHE_WALLET_LOW,         /* balance below the price */
    NGX_HTTP_BITCACHE_WALLET_OVER_AUTO,   /* auto-buy: price > max_auto */
    NGX_HTTP_BITCACHE_WALLET_NONE,        /* no wallet with this secret */
    NGX_HTTP_BITCACHE_WALLET_FROZEN,      /* w->state.frozen says why */
    NGX_HTTP_BITCACHE_WALLET_INVALID,     /* a record does not verify
                                             (logged): refused */
    NGX_HTTP_BITCACHE_WALLET_KEY_REUSED,  /* idempotency key, other product */
    NGX_HTTP_BITCACHE_WALLET_NETWORK,     /* offer of another network */
    NGX_HTTP_BITCACHE_WALLET_BUSY,        /* TRIES lost races */
    NGX_HTTP_BITCACHE_WALLET_UNAVAILABLE  /* Redis: w->failure */
} ngx_http_bitcache_wallet_outcome_e;


typedef struct ngx_http_bitcache_wallet_s  ngx_http_bitcache_wallet_t;
typedef struct ngx_http_bitcache_wallet_busy_s
    ngx_http_bitcache_wallet_busy_t;

typedef void (*ngx_http_bitcache_wallet_done_pt)(ngx_http_request_t *r,
    ngx_http_bitcache_wallet_t *w);

struct ngx_http_bitcache_wallet_s {
    unsigned char                        secret[BC_WALLET_SECRET_LEN];
    unsigned char                        wid[BC_WALLET_ID_LEN];
    char                                 widhex[2 * BC_WALLET_ID_LEN + 1];

    bc_wallet_state                      state;      /* verified when
                                                        outcome != NONE,
                                                        INVALID */
    ngx_str_t                            frozen;     /* copied, or empty */
    ngx_str_t                            owned;      /* wown value for the
                                                        product, or empty */

    /* a purchase: what the caller sets before ngx_http_bitcache_wallet_buy */
    bc_offer                             offer;      /* verified, or built
                                                        from the location */
    ngx_str_t                            idem;       /* checked key, or empty */
    unsigned                             again:1;    /* buy an owned one anew */
    unsigned                             autobuy:1;  /* honor max_auto */

    /* results */
    ngx_http_bitcache_wallet_outcome_e   outcome;
    bc_token                             token;      /* BOUGHT, OWNED */
    const char                          *failure;
    ngx_uint_t                           tries;
    char                                 token_text[BC_TOKEN_MAX_CHARS + 1];
                                                     /* w->token encoded */

    /* inside a purchase */
    bc_wallet_state                      next;       /* the state written */
    unsigned                             evaled:1;   /* EVAL after NOSCRIPT */
    unsigned                             renew:1;    /* owned, expired */
    uint64_t                             owned_seq;  /* the debit of w->token
                                                        when owned */
    unsigned                             stale:1;    /* state below the
                                                        mark: read again */
    unsigned                             reread:1;   /* ... and was */
    uint64_t                             mark;       /* seen before it */
    ngx_str_t                            product;    /* of the load */
    ngx_http_bitcache_wallet_done_pt     buy_done;   /* while re-reading */

    ngx_http_bitcache_call_t             call;
    ngx_http_bitcache_wallet_done_pt     done;
    void                                *data;

    /* one purchase at a time per wallet in a worker
     * (ngx_http_bitcache_wallet_queue.c) */
    ngx_http_bitcache_wallet_busy_t     *queue_busy;
    ngx_queue_t                          queue_link;
    ngx_event_t                          queue_ev;
    ngx_http_request_t                  *queue_request;
    ngx_http_bitcache_wallet_done_pt     queue_start;
    unsigned                             queue_waiting:1;
    unsigned                             queue_cleanup:1;
};


/* The secret of r's wallet: Authorization: Bitcache <code> first (*header
 * = 1), else the bitcache_wallet cookie. NGX_OK: w->secret, wid, widhex
 * set; NGX_DECLINED: none; NGX_ABORT: one that is not a code (err). */
ngx_int_t ngx_http_bitcache_wallet_credential(ngx_http_request_t *r,
    ngx_http_bitcache_wallet_t *w, ngx_flag_t *header, char *err,
    size_t errlen);

/* Reads wal:<wid> (and wown:<wid> <product> when product is not NULL) in
 * one round trip, verifies them and calls done with w->outcome LOADED,
 * NONE, INVALID or UNAVAILABLE. NGX_OK: done will run; NGX_DECLINED: no
 * Redis connection (w->failure; done will not run); NGX_ERROR. */
ngx_int_t ngx_http_bitcache_wallet_load(ngx_http_request_t *r,
    ngx_http_bitcache_wallet_t *w, ngx_str_t *product,
    ngx_http_bitcache_wallet_done_pt done, void *data);

/* Buys w->offer from a loaded wallet (outcome LOADED): all or nothing,
 * once per idempotency key, never for an owned product unless w->again.
 * done runs with BOUGHT, OWNED (w->token, w->token_text set), or a
 * refusal; w->state is then the state after the purchase. Return values
 * as ngx_http_bitcache_wallet_load.
 *
 * For load and buy: done always runs after the function has returned
 * (from Redis's answer, or a posted event when nothing needs writing),
 * never inside it; the caller holds r (r->main->count) until done. */
ngx_int_t ngx_http_bitcache_wallet_buy(ngx_http_request_t *r,
    ngx_http_bitcache_wallet_t *w, ngx_http_bitcache_wallet_done_pt done,
    void *data);

/* Within a worker, one purchase of a wallet is in flight at a time:
 * NGX_OK, w is it; NGX_BUSY, w waits, and start(r, w) runs (from a posted
 * event) when the one before has left, with w->state the state it wrote
 * when it bought; NGX_ERROR. A request that goes away leaves by itself. */
ngx_int_t ngx_http_bitcache_wallet_queue_enter(ngx_http_request_t *r,
    ngx_http_bitcache_wallet_t *w, ngx_http_bitcache_wallet_done_pt start);

/* w's purchase ended (left: the state it wrote, or NULL): the next one
 * waiting starts. */
void ngx_http_bitcache_wallet_queue_leave(ngx_http_bitcache_wallet_t *w,
    const bc_wallet_state *left);

/* Believes an HGETALL wal:<wid> reply (a script's "changed" answer) only
 * if it verifies: LOADED (w->state, w->frozen set), NONE, INVALID
 * (logged) or UNAVAILABLE. */
ngx_http_bitcache_wallet_outcome_e ngx_http_bitcache_wallet_state(
    ngx_http_request_t *r, ngx_http_bitcache_wallet_t *w, redisReply *reply);

/* The wallet's high-water mark (the highest seq of a state that
 * verified, in bitcache_catalog_zone's marks, keyed by the wid's hash
 * tagged "bitcache/v1/wallet-mark"): NGX_OK if seq is not below it (the
 * mark is raised to seq), NGX_DECLINED if it is (logged at warn when
 * log_it: a state written back, which the caller refuses; a read that
 * raced a purchase of another worker can be below too: read again, and
 * refuse if that is below the mark seen before it, *seen). */
ngx_int_t ngx_http_bitcache_wallet_mark(ngx_http_request_t *r,
    const unsigned char wid[BC_WALLET_ID_LEN], const char *widhex,
    uint64_t seq, const u_char *head, ngx_flag_t log_it, uint64_t *seen);

/* 1 if a script answered {"ledger", <LLEN>}: the state it was given to
 * change is not the one that ends the ledger (written back over a longer
 * ledger); logged at warn. The caller refuses (INVALID). */
ngx_flag_t ngx_http_bitcache_wallet_rolled_back(ngx_http_request_t *r,
    const char *widhex, redisReply *reply);

/* The wallet routes of the API location (ngx_http_bitcache_wallet_api.c):
 * 404 unless bitcache_wallets is on there. Returns NGX_DONE (the answer
 * follows) or an HTTP status. */
ngx_int_t ngx_http_bitcache_wallet_api(ngx_http_request_t *r, bc_route route);

/* A short reason for an outcome ("balance too low", ...). */
const char *ngx_http_bitcache_wallet_outcome_str(
    ngx_http_bitcache_wallet_outcome_e o);

/* 1 if a script's answer is an array whose first element is word. */
ngx_flag_t ngx_http_bitcache_wallet_word(redisReply *reply, const char *word);

/* ---- top-ups (ngx_http_bitcache_wallet_topup.c) ---- */

/* POST <api>/wallet/topups: amount (sats) and a credential in, an invoice
 * paid to bitcache_topup_wallet out, answered as POST <api>/invoices.
 * Returns NGX_DONE or an HTTP status. */
ngx_int_t ngx_http_bitcache_wallet_topups(ngx_http_request_t *r);

/* Credits a loaded wallet's (outcome LOADED) top-ups that are pending in
 * wtop:<wid> and settled (attested, verified), each once: for GET
 * <api>/wallet before it shows the balance. done runs with w->data =
 * data, w->state the newest state verified or written, w->outcome as it
 * was; a top-up that cannot be credited now is logged and left pending
 * (w->failure says why when Redis failed). NGX_OK: done will run;
 * NGX_DECLINED: no Redis connection (done will not run); NGX_ERROR. */
ngx_int_t ngx_http_bitcache_wallet_credit_pending(ngx_http_request_t *r,
    ngx_http_bitcache_wallet_t *w, ngx_http_bitcache_wallet_done_pt done,
    void *data);

#endif /* _NGX_HTTP_BITCACHE_WALLET_H_INCLUDED_ */
