/*
 * Crediting a settled top-up invoice to its wallet (docs/wallet.md, "A
 * credit"): the wallet is the one its MAC'd product "wallet:<wid>" names,
 * never another; the state, the ledger (authenticated up to the state's
 * MAC'd head) and wtop:<wid> are read in one round trip, the credit entry
 * and the next state computed and signed here, and one script writes them
 * if the state's MAC is still the one read (compare-and-set).
 */

#ifndef _NGX_HTTP_BITCACHE_WALLET_TOPUP_H_INCLUDED_
#define _NGX_HTTP_BITCACHE_WALLET_TOPUP_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "invoice_record.h"
#include "wallet_record.h"
#include "wallet_topup.h"
#include "ngx_http_bitcache_call.h"


typedef enum {
    NGX_HTTP_BITCACHE_CREDITED = 0,       /* credited now */
    NGX_HTTP_BITCACHE_CREDITED_BEFORE,    /* wtop (or the ledger) says so */
    NGX_HTTP_BITCACHE_CREDIT_UNKNOWN,     /* not a top-up listed in wtop */
    NGX_HTTP_BITCACHE_CREDIT_REFUSED,     /* a record does not verify
                                             (logged): nothing credited */
    NGX_HTTP_BITCACHE_CREDIT_BUSY,        /* lost every race */
    NGX_HTTP_BITCACHE_CREDIT_UNAVAILABLE  /* Redis: c->failure */
} ngx_http_bitcache_credit_outcome_e;


typedef struct ngx_http_bitcache_credit_s  ngx_http_bitcache_credit_t;

typedef void (*ngx_http_bitcache_credit_done_pt)(ngx_http_request_t *r,
    ngx_http_bitcache_credit_t *c);

struct ngx_http_bitcache_credit_s {
    /* in: a record whose MAC and attestation verify (bc_invoice_check) */
    const bc_invoice_record             *rec;

    /* out */
    ngx_http_bitcache_credit_outcome_e   outcome;
    unsigned char                        wid[BC_WALLET_ID_LEN];
    bc_wallet_state                      state;    /* the last one verified
                                                      or written; frozen
                                                      not kept */
    unsigned                             has_state:1;
    const char                          *failure;

    /* state */
    char                                 widhex[2 * BC_WALLET_ID_LEN + 1];
    char                                 idhex[2 * BC_INVOICE_ID_LEN + 1];
    ngx_str_t                            keys[3];  /* wal, wled, wtop */
    ngx_uint_t                           tries;
    ngx_http_bitcache_call_t             call;
    ngx_http_bitcache_credit_done_pt     done;
    void                                *data;
};


/* Credits c->rec to the wallet its product names. done runs once with
 * the outcome, unless NGX_ERROR or NGX_DECLINED (no Redis connection,
 * c->failure) is returned here. */
ngx_int_t ngx_http_bitcache_wallet_credit(ngx_http_request_t *r,
    ngx_http_bitcache_credit_t *c, ngx_http_bitcache_credit_done_pt done,
    void *data);

#endif /* _NGX_HTTP_BITCACHE_WALLET_TOPUP_H_INCLUDED_ */
