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
#include "ngx_http_bitcache_outcome.h"
#include "ngx_http_bitcache_variables.h"


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

    /* only a token whose MAC verified has its id logged (an expired one,
     * one of another product, or one drawn from: the key <prefix>tok:<id
     * hex>); the "id" of a forged one would be whatever its sender chose */
    ctx = ngx_http_bitcache_access_ctx(r);
    if (ctx != NULL && ctx->token_id_set) {
        return ngx_http_bitcache_set(v, ctx->token_id,
                                     NGX_HTTP_BITCACHE_ID_HEX);
    }

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
        p = ngx_pnalloc(r->pool, 2 * BC_INVOICE_ID_LEN + 1);   /* and NUL */
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
