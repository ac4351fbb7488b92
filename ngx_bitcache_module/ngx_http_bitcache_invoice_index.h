/*
 * Taking a derivation index for a new invoice: a reusable index whose
 * invoice expired unpaid, or else the next one; the address at it; and the
 * claim on its scriptPubKey (SET spk:<hex> <id> NX), so that two live
 * invoices never share an address. A claim already held takes another
 * index, a bounded number of times.
 */

#ifndef _NGX_HTTP_BITCACHE_INVOICE_INDEX_H_INCLUDED_
#define _NGX_HTTP_BITCACHE_INVOICE_INDEX_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "address.h"
#include "index_record.h"
#include "script.h"
#include "wallet.h"
#include "ngx_http_bitcache_call.h"


typedef struct ngx_http_bitcache_index_s  ngx_http_bitcache_index_t;

/* rc: NGX_OK (index, address, spk are set and the spk is claimed), or an
 * HTTP status with ix->failure saying why (already logged) */
typedef void (*ngx_http_bitcache_index_done_pt)(ngx_http_request_t *r,
    ngx_http_bitcache_index_t *ix, ngx_int_t rc);

struct ngx_http_bitcache_index_s {
    /* in */
    const bc_wallet                  *wallet;
    ngx_str_t                         wallet_text;   /* for the legacy key */
    ngx_str_t                         claim;         /* the invoice id hex */
    uint64_t                          claim_until;   /* unix seconds */
    ngx_http_bitcache_index_done_pt   done;
    void                             *data;

    /* out */
    uint32_t                          index;
    unsigned                          reused:1;
    char                              address[BC_ADDRESS_MAX];
    u_char                            spk[BC_SPK_MAX];
    size_t                            spk_len;
    const char                       *failure;

    /* state */
    ngx_http_bitcache_call_t          call;
    char                              wallet_id[BC_WALLET_ID_HEX + 1];
    ngx_str_t                         take[6];   /* EVAL script 3 keys */
    ngx_uint_t                        tries;
};


/* Starts taking an index; ix->done runs once, unless NGX_ERROR or an HTTP
 * status is returned here (then nothing was started). */
ngx_int_t ngx_http_bitcache_index_take(ngx_http_request_t *r,
    ngx_http_bitcache_index_t *ix);

#endif /* _NGX_HTTP_BITCACHE_INVOICE_INDEX_H_INCLUDED_ */
