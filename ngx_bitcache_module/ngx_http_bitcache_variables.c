/*
 * Log variables (docs/operations.md, "Log variables"). They are read
 * when the log line is written, never on the hot path: what the access
 * handler decided is already in its ctx. None of them ever carries a
 * token: $bitcache_token_id is the id in the token's Redis key.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "api_request.h"
#include "hex.h"
#include "invoice.h"
#include "token.h"
#include "ngx_http_bitcache.h"
#include "ngx_http_bitcache_metrics.h"
#include "ngx_http_bitcache_variables.h"


#define NGX_HTTP_BITCACHE_ID_HEX  (2 * BC_TOKEN_ID_LEN)


/* what the giveaway's claim leaves for the log line */
typedef struct {
    ngx_str_t   product;
    u_char      id[NGX_HTTP_BITCACHE_ID_HEX];
} ngx_http_bitcache_note_t;


static void
ngx_http_bitcache_note_cleanup(void *data)
{
    /* nothing to free: the handler only marks the note (see below) */
}


static ngx_http_bitcache_note_t *
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


ngx_str_t  ngx_http_bitcache_outcome_names[] = {
    ngx_string(""),
    ngx_string("paid"),
    ngx_string("unpaid"),
    ngx_string("expired"),
    ngx_string("used_up"),
    ngx_string("revoked"),
    ngx_string("invalid"),
    ngx_string("redis_error"),
    ngx_string("denied"),
    ngx_string("free"),
    ngx_string("key"),
};


/* The reasons of a refusal (bc_token_status_str, bc_record_status_str,
 * the access handler's own) and what each is in $bitcache_status; any
 * other refusal (the wallet's, a key route's) is "denied". */
static struct {
    const char                   *reason;
    ngx_http_bitcache_outcome_e   outcome;
} ngx_http_bitcache_reasons[] = {
    { "no token",                     NGX_HTTP_BITCACHE_OUT_UNPAID },
    { "token expired",                NGX_HTTP_BITCACHE_OUT_EXPIRED },
    { "downloads used up",            NGX_HTTP_BITCACHE_OUT_USED_UP },
    { "token revoked",                NGX_HTTP_BITCACHE_OUT_REVOKED },
    { "malformed token",              NGX_HTTP_BITCACHE_OUT_INVALID },
    { "bad token MAC",                NGX_HTTP_BITCACHE_OUT_INVALID },
    { "token is for another product", NGX_HTTP_BITCACHE_OUT_INVALID },
    { "unknown token",                NGX_HTTP_BITCACHE_OUT_INVALID },
    { "invalid token",                NGX_HTTP_BITCACHE_OUT_INVALID },
    { NULL, 0 }
};


static ngx_http_bitcache_outcome_e
ngx_http_bitcache_denied(const char *reason)
{
    ngx_uint_t  i;

    for (i = 0; reason != NULL && ngx_http_bitcache_reasons[i].reason; i++) {
        if (ngx_strcmp(reason, ngx_http_bitcache_reasons[i].reason) == 0) {
            return ngx_http_bitcache_reasons[i].outcome;
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
ngx_http_bitcache_set(ngx_http_variable_value_t *v, u_char *data, size_t len)
{
    if (len == 0) {
        v->not_found = 1;       /* logged as "-" */
        return NGX_OK;
    }

    v->data = data;
    v->len = len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_bitcache_status_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t  *name;

    name = &ngx_http_bitcache_outcome_names[ngx_http_bitcache_outcome(r)];

    return ngx_http_bitcache_set(v, name->data, name->len);
}


static ngx_int_t
ngx_http_bitcache_product_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_bitcache_ctx_t   *ctx;
    ngx_http_bitcache_note_t  *note;

    note = ngx_http_bitcache_note(r);
    if (note != NULL) {
        return ngx_http_bitcache_set(v, note->product.data, note->product.len);
    }

    ctx = ngx_http_bitcache_access_ctx(r);
    if (ctx == NULL) {
        return ngx_http_bitcache_set(v, NULL, 0);
    }

    /* log_format escapes it like any variable */
    return ngx_http_bitcache_set(v, ctx->product.data, ctx->product.len);
}


static ngx_int_t
ngx_http_bitcache_token_id_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_bitcache_ctx_t   *ctx;
    ngx_http_bitcache_note_t  *note;

    note = ngx_http_bitcache_note(r);
    if (note != NULL) {
        return ngx_http_bitcache_set(v, note->id, NGX_HTTP_BITCACHE_ID_HEX);
    }

    /* the key <prefix>tok:<id hex> is made only for a token whose MAC,
     * expiry and product verified: the id of a forged one is not logged */
    ctx = ngx_http_bitcache_access_ctx(r);
    if (ctx == NULL || ctx->key.len < NGX_HTTP_BITCACHE_ID_HEX) {
        return ngx_http_bitcache_set(v, NULL, 0);
    }

    return ngx_http_bitcache_set(v, ctx->key.data + ctx->key.len
                                    - NGX_HTTP_BITCACHE_ID_HEX,
                                 NGX_HTTP_BITCACHE_ID_HEX);
}


/* <api>/invoices/<id>: the URI's; POST <api>/invoices: the new one's,
 * the end of the Location of its 201 or 303 (<api>/invoices/<id>) */
static ngx_int_t
ngx_http_bitcache_invoice_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                         id[BC_INVOICE_ID_LEN], *p;
    bc_route                       route;
    ngx_str_t                     *loc;
    ngx_uint_t                     i;
    ngx_http_bitcache_loc_conf_t  *blcf;

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bitcache_module);

    if (!blcf->api) {
        return ngx_http_bitcache_set(v, NULL, 0);
    }

    route = bc_api_route((const char *) r->uri.data, r->uri.len,
                         (const char *) blcf->api_url.data, blcf->api_url.len,
                         id);

    if (route == BC_ROUTE_STATUS) {
        p = ngx_pnalloc(r->pool, 2 * BC_INVOICE_ID_LEN);
        if (p == NULL) {
            return NGX_ERROR;
        }

        bc_hex_encode((char *) p, id, BC_INVOICE_ID_LEN);

        return ngx_http_bitcache_set(v, p, 2 * BC_INVOICE_ID_LEN);
    }

    if (route != BC_ROUTE_CREATE || r->headers_out.location == NULL
        || (r->headers_out.status != NGX_HTTP_CREATED
            && r->headers_out.status != NGX_HTTP_SEE_OTHER))
    {
        return ngx_http_bitcache_set(v, NULL, 0);
    }

    loc = &r->headers_out.location->value;
    if (loc->len < 2 * BC_INVOICE_ID_LEN + 1) {
        return ngx_http_bitcache_set(v, NULL, 0);
    }

    p = loc->data + loc->len - 2 * BC_INVOICE_ID_LEN;

    for (i = 0; i < 2 * BC_INVOICE_ID_LEN; i++) {
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f'))) {
            return ngx_http_bitcache_set(v, NULL, 0);
        }
    }

    if (p[-1] != '/') {
        return ngx_http_bitcache_set(v, NULL, 0);
    }

    return ngx_http_bitcache_set(v, p, 2 * BC_INVOICE_ID_LEN);
}


static ngx_int_t
ngx_http_bitcache_bytes_left_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                   *p;
    ngx_http_bitcache_ctx_t  *ctx;

    ctx = ngx_http_bitcache_access_ctx(r);

    if (ctx == NULL || !ctx->left_known) {
        return ngx_http_bitcache_set(v, NULL, 0);
    }

    p = ngx_pnalloc(r->pool, NGX_OFF_T_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    return ngx_http_bitcache_set(v, p, ngx_sprintf(p, "%O", ctx->left) - p);
}


static ngx_http_variable_t  ngx_http_bitcache_variables[] = {

    { ngx_string("bitcache_status"), NULL,
      ngx_http_bitcache_status_variable, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("bitcache_product"), NULL,
      ngx_http_bitcache_product_variable, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("bitcache_token_id"), NULL,
      ngx_http_bitcache_token_id_variable, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("bitcache_invoice"), NULL,
      ngx_http_bitcache_invoice_variable, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("bitcache_bytes_left"), NULL,
      ngx_http_bitcache_bytes_left_variable, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_bitcache_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_bitcache_variables; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}
