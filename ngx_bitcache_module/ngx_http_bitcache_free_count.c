/*
 * A giveaway on the 402 page (see ngx_http_bitcache_free.h): how many
 * copies are left, read from free:<product> once the catalog record has
 * decided the sale, or from this host's mark once it saw the giveaway run
 * out; the page's variables and the JSON's fields. The mark is kept here
 * too: the claims of ngx_http_bitcache_free.c set it.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "giveaway.h"
#include "hash.h"
#include "invoice_record.h"
#include "ngx_http_bitcache.h"
#include "ngx_http_bitcache_call.h"
#include "ngx_http_bitcache_draw.h"
#include "ngx_http_bitcache_free_count.h"
#include "ngx_http_bitcache_marks.h"


#define NGX_HTTP_BITCACHE_FREE_MARK_TAG  "bitcache/v1/free-exhausted"


typedef struct {
    uint64_t                   total;       /* the giveaway's N */
    ngx_flag_t                 set;         /* it ran out: raise the mark */
} ngx_http_bitcache_free_seen_t;


/* ---- the mark of a giveaway that ran out ---- */

/* The mark is the largest N of the product's giveaway seen run out: a
 * giveaway of total N is over here when the mark is at least N (a creator
 * who raises N later opens it again). */
static ngx_int_t
ngx_http_bitcache_free_mark_decide(void *data, uint64_t *mark, u_char *pin)
{
    ngx_http_bitcache_free_seen_t  *s = data;

    (void) pin;

    if (s->set && s->total > *mark) {
        *mark = s->total;
    }

    return *mark >= s->total ? NGX_OK : NGX_DECLINED;
}


ngx_flag_t
ngx_http_bitcache_free_mark(ngx_http_request_t *r, ngx_str_t *product,
    uint64_t total, ngx_flag_t set)
{
    u_char                          key[32];
    uint64_t                        seen;
    ngx_int_t                       rc;
    ngx_flag_t                      full;
    ngx_http_bitcache_free_seen_t   s;
    ngx_http_bitcache_main_conf_t  *bmcf;

    bmcf = ngx_http_get_module_main_conf(r, ngx_http_bitcache_module);

    /* tagged: never a product's catalog key (plain SHA-256) or a wallet's */
    if (bmcf->catalog_zone == NULL
        || !bc_tagged_hash(key, NGX_HTTP_BITCACHE_FREE_MARK_TAG,
                           product->data, product->len))
    {
        return 0;
    }

    s.total = total;
    s.set = set;

    rc = ngx_http_bitcache_marks_update(bmcf->catalog_zone, key,
                                        ngx_http_bitcache_free_mark_decide,
                                        &s, &seen, &full);

    if (full) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "bitcache: no room in bitcache_catalog_zone for the "
                      "giveaway mark of \"%V\"",
                      ngx_http_bitcache_log_str(r, product->data,
                                                product->len));
    }

    return rc == NGX_OK;
}


/* ---- the 402's count ---- */

ngx_int_t
ngx_http_bitcache_free_file(ngx_http_request_t *r,
    ngx_http_bitcache_ctx_t *ctx)
{
    ngx_int_t  rc;

    /* with merge_slashes off, /g//a.bin names the file of /g/a.bin but is
     * a product (a giveaway) of its own: one more per slash */
    if (ngx_strnstr(r->uri.data, "//", r->uri.len) != NULL) {
        return 0;
    }

    rc = ngx_http_bitcache_file(r, ctx);

    return rc == NGX_ERROR ? NGX_ERROR : rc == NGX_OK;
}


static void
ngx_http_bitcache_free_counted(ngx_http_bitcache_call_t *call,
    redisReply *reply)
{
    uint64_t                  given;
    ngx_http_bitcache_ctx_t  *ctx = call->data;
    ngx_http_request_t       *r = ctx->request;

    if (reply == NULL) {
        ctx->state = NGX_HTTP_BITCACHE_UNAVAILABLE;
        ctx->reason = call->failure;
        ngx_http_bitcache_call_resume(r);
        return;
    }

    ctx->state = NGX_HTTP_BITCACHE_DENIED;

    if (reply->type == REDIS_REPLY_NIL) {
        ctx->free_given = 0;

    } else if (reply->type == REDIS_REPLY_STRING
               && bc_parse_uint_n(&given, reply->str, reply->len,
                                  BC_FREE_MAX))
    {
        ctx->free_given = given;

        /* a host that showed the giveaway run out remembers it, as one
         * that answered a claim 410 does: a counter set back later gives
         * no copy here (the same mark a forged count leaves through a
         * claim; it ends with a larger N or a restart) */
        if (given >= ctx->sale.free_total) {
            (void) ngx_http_bitcache_free_mark(r, &ctx->sale.product,
                                               ctx->sale.free_total, 1);
        }

    } else {
        /* not a count: nothing is offered free (a claim would get 503) */
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "bitcache: giveaway of \"%V\": its counter is not a "
                      "number; no free copies shown",
                      ngx_http_bitcache_log_str(r, ctx->product.data,
                                                ctx->product.len));
        ctx->free_given = ctx->sale.free_total;
    }

    ngx_http_bitcache_call_resume(r);
}


ngx_int_t
ngx_http_bitcache_free_read(ngx_http_request_t *r,
    ngx_http_bitcache_ctx_t *ctx)
{
    ngx_int_t  rc;
    ngx_str_t  args[2];

    ctx->free_read = 1;

    if (ngx_http_bitcache_free_mark(r, &ctx->sale.product,
                                    ctx->sale.free_total, 0))
    {
        ctx->free_given = ctx->sale.free_total;
        return NGX_OK;
    }

    ngx_str_set(&args[0], "GET");
    if (ngx_http_bitcache_key(r, &args[1], BC_KEY_FREE, ctx->sale.product.data,
                              ctx->sale.product.len)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    rc = ngx_http_bitcache_callv(&ctx->call, r, ngx_http_bitcache_free_counted,
                                 ctx, 2, args);
    if (rc == NGX_DECLINED) {
        ctx->state = NGX_HTTP_BITCACHE_UNAVAILABLE;
        ctx->reason = ctx->call.failure;
        return NGX_OK;
    }
    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    ctx->state = NGX_HTTP_BITCACHE_WAITING;
    return NGX_OK;
}


uint64_t
ngx_http_bitcache_free_left(ngx_http_request_t *r,
    ngx_http_bitcache_sale_t *sale)
{
    ngx_http_bitcache_ctx_t  *ctx;

    if (sale->free_total == 0) {
        return 0;
    }

    /* the sale is the access ctx's own when the access handler read the
     * count; the API's ctxs under the module (other structs) never hold
     * it: compared as addresses, nothing is read from them */
    ctx = ngx_http_get_module_ctx(r, ngx_http_bitcache_module);

    if (ctx == NULL
        || (uintptr_t) sale
           != (uintptr_t) ctx + offsetof(ngx_http_bitcache_ctx_t, sale)
        || !ctx->free_read
        || ctx->free_given >= sale->free_total)
    {
        return 0;
    }

    return sale->free_total - ctx->free_given;
}


ngx_int_t
ngx_http_bitcache_free_vars(ngx_http_request_t *r,
    ngx_http_bitcache_sale_t *sale, bc_tvar *vars, size_t *n)
{
    u_char    *left, *total;
    uint64_t   l;

    l = ngx_http_bitcache_free_left(r, sale);
    if (l == 0) {
        return NGX_OK;          /* none left: only the ways to pay */
    }

    left = ngx_pnalloc(r->pool, 2 * (NGX_INT64_LEN + 1));
    if (left == NULL) {
        return NGX_ERROR;
    }
    total = left + NGX_INT64_LEN + 1;
    ngx_sprintf(left, "%uL%Z", l);
    ngx_sprintf(total, "%uD%Z", sale->free_total);

    vars[*n].name = "free"; vars[(*n)++].value = "1";
    vars[*n].name = "free_left"; vars[(*n)++].value = (char *) left;
    vars[*n].name = "free_total"; vars[(*n)++].value = (char *) total;

    return NGX_OK;
}


u_char *
ngx_http_bitcache_free_json(ngx_http_request_t *r, u_char *p,
    ngx_http_bitcache_loc_conf_t *blcf, ngx_http_bitcache_sale_t *sale)
{
    if (sale->free_total == 0) {
        return p;
    }

    p = ngx_sprintf(p, ",\"free_total\":%uD,\"free_left\":%uL,\"free_url\":\"",
                    sale->free_total, ngx_http_bitcache_free_left(r, sale));
    p = ngx_http_bitcache_escape_json(p, &blcf->api_url);

    return ngx_sprintf(p, "/free\"");
}
