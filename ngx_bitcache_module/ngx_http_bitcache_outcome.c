/*
 * What the module decided for a request, read when it ends: for
 * $bitcache_status (ngx_http_bitcache_variables.c) and for the counters
 * of the log phase (ngx_http_bitcache_metrics.c). The access handler's
 * ctx says it for a file, a key or a refusal; a giveaway's claim, whose
 * ctx is the API's own, leaves a note.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "api_request.h"
#include "hex.h"
#include "invoice.h"
#include "token.h"
#include "token_record.h"
#include "ngx_http_bitcache.h"
#include "ngx_http_bitcache_metrics.h"
#include "ngx_http_bitcache_outcome.h"


static void
ngx_http_bitcache_note_cleanup(void *data)
{
    /* nothing to free: ngx_http_bitcache_note() finds the note by it */
}


ngx_http_bitcache_note_t *
ngx_http_bitcache_note(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t  *cln;

    for (cln = r->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_http_bitcache_note_cleanup) {
            return cln->data;
        }
    }

    return NULL;
}


void
ngx_http_bitcache_note_free(ngx_http_request_t *r, const u_char *product,
    size_t len, const u_char *id)
{
    ngx_pool_cleanup_t        *cln;
    ngx_http_bitcache_note_t  *note;

    ngx_http_bitcache_count(NGX_HTTP_BITCACHE_M_FREE, 1);

    if (ngx_http_bitcache_note(r) != NULL) {
        return;
    }

    cln = ngx_pool_cleanup_add(r->pool, sizeof(ngx_http_bitcache_note_t));
    if (cln == NULL) {
        return;                 /* the log line misses it, nothing else */
    }

    note = cln->data;
    note->product.data = ngx_pnalloc(r->pool, len);
    note->product.len = note->product.data ? len : 0;
    if (note->product.len) {
        ngx_memcpy(note->product.data, product, len);
    }
    bc_hex_encode((char *) note->id, id, BC_TOKEN_ID_LEN);
    cln->handler = ngx_http_bitcache_note_cleanup;
}


/* A refusal's reason (the access handler's "no token", or the library's
 * words for a token's or a record's status) as $bitcache_status; any
 * other refusal (the wallet's, a key route's) is "denied". */
static ngx_http_bitcache_outcome_e
ngx_http_bitcache_denied(const char *reason)
{
    ngx_uint_t   i;
    const char  *word;

    static const struct {
        int                           token;    /* -1: a record's status */
        int                           record;
        ngx_http_bitcache_outcome_e   outcome;
    } map[] = {
        { BC_TOKEN_EXPIRED, -1, NGX_HTTP_BITCACHE_OUT_EXPIRED },
        { BC_TOKEN_MALFORMED, -1, NGX_HTTP_BITCACHE_OUT_INVALID },
        { BC_TOKEN_BAD_MAC, -1, NGX_HTTP_BITCACHE_OUT_INVALID },
        { BC_TOKEN_WRONG_PRODUCT, -1, NGX_HTTP_BITCACHE_OUT_INVALID },
        { -1, BC_RECORD_USED_UP, NGX_HTTP_BITCACHE_OUT_USED_UP },
        { -1, BC_RECORD_REVOKED, NGX_HTTP_BITCACHE_OUT_REVOKED },
        { -1, BC_RECORD_UNKNOWN, NGX_HTTP_BITCACHE_OUT_INVALID },
    };

    if (reason == NULL) {
        return NGX_HTTP_BITCACHE_OUT_DENIED;
    }

    if (ngx_strcmp(reason, "no token") == 0) {
        return NGX_HTTP_BITCACHE_OUT_UNPAID;
    }

    for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        word = map[i].token >= 0
               ? bc_token_status_str((bc_token_status) map[i].token)
               : bc_record_status_str((bc_record_status) map[i].record);

        if (ngx_strcmp(reason, word) == 0) {
            return map[i].outcome;
        }
    }

    return NGX_HTTP_BITCACHE_OUT_DENIED;
}


ngx_http_bitcache_outcome_e
ngx_http_bitcache_outcome(ngx_http_request_t *r)
{
    ngx_http_bitcache_ctx_t  *ctx;

    if (ngx_http_bitcache_note(r) != NULL) {
        return NGX_HTTP_BITCACHE_OUT_FREE;
    }

    ctx = ngx_http_bitcache_access_ctx(r);

    if (ctx == NULL || ctx->describe) {
        return NGX_HTTP_BITCACHE_OUT_NONE;
    }

    switch (ctx->state) {

    case NGX_HTTP_BITCACHE_ALLOWED:
        return ctx->keyfetch ? NGX_HTTP_BITCACHE_OUT_KEY
                             : NGX_HTTP_BITCACHE_OUT_PAID;

    case NGX_HTTP_BITCACHE_DENIED:
        return ngx_http_bitcache_denied(ctx->reason);

    case NGX_HTTP_BITCACHE_UNAVAILABLE:
        return NGX_HTTP_BITCACHE_OUT_REDIS_ERROR;

    default:                    /* waiting: the client went away */
        return NGX_HTTP_BITCACHE_OUT_NONE;
    }
}


static ngx_int_t
ngx_http_bitcache_log_handler(ngx_http_request_t *r)
{
    u_char                         id[BC_INVOICE_ID_LEN];
    off_t                          sent;
    ngx_uint_t                     status;
    ngx_http_bitcache_ctx_t       *ctx;
    ngx_http_bitcache_loc_conf_t  *blcf;
    ngx_http_bitcache_outcome_e    out;

    if (ngx_http_bitcache_metrics == NULL || r != r->main) {
        return NGX_OK;
    }

    status = r->err_status ? r->err_status : r->headers_out.status;

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bitcache_module);
    if (blcf->api) {
        ngx_http_bitcache_count_api(bc_api_route((const char *) r->uri.data,
                                                 r->uri.len,
                                                 (const char *)
                                                     blcf->api_url.data,
                                                 blcf->api_url.len, id),
                                    status);
    }

    out = ngx_http_bitcache_outcome(r);
    if (out == NGX_HTTP_BITCACHE_OUT_NONE) {
        return NGX_OK;
    }

    ngx_http_bitcache_count_response(out, status);

    if (out == NGX_HTTP_BITCACHE_OUT_KEY && status == NGX_HTTP_OK) {
        ngx_http_bitcache_count(NGX_HTTP_BITCACHE_M_KEYS, 1);
        return NGX_OK;
    }

    ctx = ngx_http_bitcache_access_ctx(r);

    if (out != NGX_HTTP_BITCACHE_OUT_PAID || ctx == NULL) {
        return NGX_OK;
    }

    /* a counted token: the header filter said a body went out; an
     * unlimited one is not watched there: its 200 or 206 */
    if (!(ctx->body
          || (ctx->unlimited && !r->header_only
              && (status == NGX_HTTP_OK
                  || status == NGX_HTTP_PARTIAL_CONTENT))))
    {
        return NGX_OK;          /* no part of the file went out */
    }

    /* what left nginx for the client, like $body_bytes_sent */
    sent = r->connection->sent - (off_t) r->header_size;

    ngx_http_bitcache_count(NGX_HTTP_BITCACHE_M_DOWNLOADS, 1);
    if (sent > 0) {
        ngx_http_bitcache_count(NGX_HTTP_BITCACHE_M_BYTES,
                                (ngx_atomic_int_t) sent);
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_bitcache_outcome_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_bitcache_log_handler;

    return NGX_OK;
}
