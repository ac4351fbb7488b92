/*
 * Taking a derivation index for a new invoice (see the header). Two round
 * trips a try: the index script (libbitcache/index_record.h), then the
 * claim. The claim comes before the invoice is written, so a lost claim
 * never leaves an invoice behind; an invoice not written after a claim
 * leaves only the claim, which expires.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "hex.h"
#include "invoice.h"
#include "ngx_http_bitcache.h"
#include "ngx_http_bitcache_invoice_index.h"


static ngx_int_t ngx_http_bitcache_index_try(ngx_http_request_t *r,
    ngx_http_bitcache_index_t *ix);
static void ngx_http_bitcache_index_taken(ngx_http_bitcache_call_t *call,
    redisReply *reply);
static void ngx_http_bitcache_index_claimed(ngx_http_bitcache_call_t *call,
    redisReply *reply);
static void ngx_http_bitcache_index_retry(ngx_http_request_t *r,
    ngx_http_bitcache_index_t *ix);


static void
ngx_http_bitcache_index_fail(ngx_http_request_t *r,
    ngx_http_bitcache_index_t *ix, ngx_int_t status, const char *why)
{
    ix->failure = why;
    ix->done(r, ix, status);
}


ngx_int_t
ngx_http_bitcache_index_take(ngx_http_request_t *r,
    ngx_http_bitcache_index_t *ix)
{
    char  legacy[BC_WALLET_ID_HEX + 1];

    if (!bc_wallet_key_id(ix->wallet_id, ix->wallet)
        || !bc_wallet_id(legacy, (const char *) ix->wallet_text.data,
                         ix->wallet_text.len))
    {
        return NGX_ERROR;
    }

    ngx_str_set(&ix->take[0], "EVAL");
    ngx_str_set(&ix->take[1], BC_SCRIPT_INDEX_TAKE);
    ngx_str_set(&ix->take[2], "3");

    if (ngx_http_bitcache_key(r, &ix->take[3], BC_KEY_REUSE,
                              (u_char *) ix->wallet_id, BC_WALLET_ID_HEX)
        != NGX_OK
        || ngx_http_bitcache_key(r, &ix->take[4], BC_KEY_INDEX,
                                 (u_char *) ix->wallet_id, BC_WALLET_ID_HEX)
           != NGX_OK
        || ngx_http_bitcache_key(r, &ix->take[5], BC_KEY_LEGACY_INDEX,
                                 (u_char *) legacy, BC_WALLET_ID_HEX)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    ix->tries = 0;

    return ngx_http_bitcache_index_try(r, ix);
}


static ngx_int_t
ngx_http_bitcache_index_try(ngx_http_request_t *r,
    ngx_http_bitcache_index_t *ix)
{
    ngx_int_t  rc;
    ngx_str_t  args[7];

    ngx_memcpy(args, ix->take, sizeof(ix->take));

    /* reusable once their time has come: now, by this host's clock */
    args[6].data = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
    if (args[6].data == NULL) {
        return NGX_ERROR;
    }
    args[6].len = ngx_sprintf(args[6].data, "%T", ngx_time()) - args[6].data;

    rc = ngx_http_bitcache_callv(&ix->call, r, ngx_http_bitcache_index_taken,
                                 ix, 7, args);
    if (rc == NGX_DECLINED) {
        ix->failure = ix->call.failure;
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    return rc;
}


static void
ngx_http_bitcache_index_taken(ngx_http_bitcache_call_t *call,
    redisReply *reply)
{
    char                        spkhex[2 * BC_SPK_MAX + 1],
                                until[NGX_INT64_LEN];
    ngx_int_t                   rc;
    ngx_str_t                   a[6];
    const char                 *err;
    bc_index_reply              got;
    ngx_http_request_t         *r = call->request;
    ngx_http_bitcache_index_t  *ix = call->data;

    static ngx_str_t  not_an_index = ngx_string("not an index (out of "
                                   "non-hardened indexes, or Redis was "
                                   "written to)");

    if (reply == NULL) {
        ngx_http_bitcache_index_fail(r, ix, NGX_HTTP_SERVICE_UNAVAILABLE,
                                     call->failure);
        return;
    }

    got = bc_index_reply_parse(&ix->index,
                               reply->type == REDIS_REPLY_STRING, reply->str,
                               reply->type == REDIS_REPLY_STRING
                               ? (size_t) reply->len : 0,
                               reply->type == REDIS_REPLY_INTEGER
                               ? reply->integer : 0);

    if (got == BC_INDEX_REPLY_BAD && reply->type == REDIS_REPLY_STRING) {
        /* the script took it off the set: the next try goes on */
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "bitcache: reuse set of wallet %s listed \"%V\", "
                      "not an index (Redis was written to); dropped",
                      ix->wallet_id,
                      ngx_http_bitcache_log_str(r, reply->str,
                                                reply->len > 32
                                                ? (size_t) 32
                                                : (size_t) reply->len));
        ngx_http_bitcache_index_retry(r, ix);
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR || got == BC_INDEX_REPLY_BAD) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "bitcache: derivation counter of wallet %s: %V",
                      ix->wallet_id, reply->type == REDIS_REPLY_ERROR
                      ? ngx_http_bitcache_log_str(r, reply->str, reply->len)
                      : &not_an_index);
        ngx_http_bitcache_index_fail(r, ix, NGX_HTTP_SERVICE_UNAVAILABLE,
                                     "cannot number the invoice");
        return;
    }

    ix->reused = (got == BC_INDEX_REPLY_REUSED);

    err = NULL;
    ix->spk_len = sizeof(ix->spk);
    if (!bc_wallet_derive(ix->address, sizeof(ix->address), ix->spk,
                          &ix->spk_len, ix->wallet, 0, ix->index, &err))
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "bitcache: no address at index %uD of wallet %s: %s",
                      ix->index, ix->wallet_id, err ? err : "derivation");
        ngx_http_bitcache_index_fail(r, ix, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     "cannot make an address");
        return;
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "bitcache: wallet %s index %uD (%s)", ix->wallet_id,
                   ix->index, ix->reused ? "reused" : "new");

    /* SET spk:<hex> <id> NX EXAT <until>: taken only if nobody holds it */
    bc_hex_encode(spkhex, ix->spk, ix->spk_len);

    ngx_str_set(&a[0], "SET");
    if (ngx_http_bitcache_key(r, &a[1], BC_KEY_SPK, (u_char *) spkhex,
                              2 * ix->spk_len)
        != NGX_OK)
    {
        ngx_http_bitcache_index_fail(r, ix, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     "out of memory");
        return;
    }
    a[2] = ix->claim;
    ngx_str_set(&a[3], "NX");
    ngx_str_set(&a[4], "EXAT");
    a[5].data = (u_char *) until;
    a[5].len = ngx_sprintf((u_char *) until, "%uL", ix->claim_until)
               - (u_char *) until;

    rc = ngx_http_bitcache_callv(&ix->call, r, ngx_http_bitcache_index_claimed,
                                 ix, 6, a);
    if (rc != NGX_OK) {
        ngx_http_bitcache_index_fail(r, ix, NGX_HTTP_SERVICE_UNAVAILABLE,
                                     ix->call.failure ? ix->call.failure
                                                      : "redis unavailable");
    }
}


static void
ngx_http_bitcache_index_claimed(ngx_http_bitcache_call_t *call,
    redisReply *reply)
{
    ngx_http_request_t         *r = call->request;
    ngx_http_bitcache_index_t  *ix = call->data;

    if (reply == NULL) {
        ngx_http_bitcache_index_fail(r, ix, NGX_HTTP_SERVICE_UNAVAILABLE,
                                     call->failure);
        return;
    }

    if (reply->type == REDIS_REPLY_STATUS) {
        ix->done(r, ix, NGX_OK);
        return;
    }

    if (reply->type != REDIS_REPLY_NIL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "bitcache: claiming the address at index %uD of "
                      "wallet %s: %s", ix->index, ix->wallet_id,
                      reply->type == REDIS_REPLY_ERROR ? reply->str
                                                       : "unexpected reply");
        ngx_http_bitcache_index_fail(r, ix, NGX_HTTP_SERVICE_UNAVAILABLE,
                                     "cannot claim an address");
        return;
    }

    /*
     * Another invoice holds this address: a counter behind the addresses
     * in use (another spelling's legacy counter, Redis restored from a
     * backup) or a reusable index listed too early. Never take it over.
     */

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "bitcache: the address at %s index %uD of wallet %s is "
                  "held by another invoice; taking another index",
                  ix->reused ? "reusable" : "new", ix->index, ix->wallet_id);

    ngx_http_bitcache_index_retry(r, ix);
}


static void
ngx_http_bitcache_index_retry(ngx_http_request_t *r,
    ngx_http_bitcache_index_t *ix)
{
    ngx_int_t  rc;

    if (++ix->tries >= BC_INDEX_TRIES) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "bitcache: wallet %s: %ui indexes in a row, the last "
                      "%uD, were held by other invoices or unusable; no "
                      "invoice made (check its index: and reuse: records "
                      "with \"bitcache invoice gap\")",
                      ix->wallet_id, ix->tries, ix->index);
        ngx_http_bitcache_index_fail(r, ix, NGX_HTTP_SERVICE_UNAVAILABLE,
                                     "no free address for this wallet");
        return;
    }

    rc = ngx_http_bitcache_index_try(r, ix);
    if (rc != NGX_OK) {
        ngx_http_bitcache_index_fail(r, ix, rc == NGX_ERROR
                                     ? NGX_HTTP_INTERNAL_SERVER_ERROR : rc,
                                     ix->failure ? ix->failure
                                                 : "cannot number the invoice");
    }
}
