/*
 * Catalog records and their high-water marks (see the header).
 *
 * The marks (ngx_http_bitcache_marks.c) are keyed by the SHA-256 of the
 * product; the zone also holds the wallets' marks, keyed by a tagged hash
 * of the wallet id, which no product's hash can equal.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "hash.h"
#include "invoice_record.h"
#include "ngx_http_bitcache_catalog.h"
#include "ngx_http_bitcache_marks.h"


static char *
ngx_http_bitcache_catalog_add(ngx_conf_t *cf,
    ngx_http_bitcache_main_conf_t *bmcf, ngx_str_t *name, ssize_t size)
{
    bmcf->catalog_zone = ngx_http_bitcache_marks_add(cf, name, size);

    return bmcf->catalog_zone ? NGX_CONF_OK : NGX_CONF_ERROR;
}


char *
ngx_http_bitcache_catalog_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_bitcache_main_conf_t  *bmcf = conf;

    u_char     *p;
    ssize_t     size;
    ngx_str_t  *value, name, s;

    if (bmcf->catalog_zone) {
        return "is duplicate";
    }

    value = cf->args->elts;

    p = (u_char *) ngx_strlchr(value[1].data, value[1].data + value[1].len,
                               ':');
    if (p == NULL || p == value[1].data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "bitcache_catalog_zone: \"%V\" is not name:size",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    name.data = value[1].data;
    name.len = p - value[1].data;

    s.data = p + 1;
    s.len = value[1].data + value[1].len - s.data;

    size = ngx_parse_size(&s);

    if (size == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "bitcache_catalog_zone: invalid size \"%V\"", &s);
        return NGX_CONF_ERROR;
    }

    if (size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "bitcache_catalog_zone \"%V\" is too small "
                           "(at least %uz bytes)", &name, 8 * ngx_pagesize);
        return NGX_CONF_ERROR;
    }

    return ngx_http_bitcache_catalog_add(cf, bmcf, &name, size);
}


char *
ngx_http_bitcache_catalog_init_conf(ngx_conf_t *cf,
    ngx_http_bitcache_main_conf_t *bmcf)
{
    ngx_str_t  name = ngx_string(NGX_HTTP_BITCACHE_CATALOG_ZONE);

    if (bmcf->catalog_zone) {
        return NGX_CONF_OK;
    }

    /* on by default: a rollback must not depend on a directive */
    return ngx_http_bitcache_catalog_add(cf, bmcf, &name,
                                         NGX_HTTP_BITCACHE_CATALOG_SIZE);
}


static ngx_int_t
ngx_http_bitcache_catalog_mark(void *data, uint64_t *mark, u_char *pin)
{
    (void) pin;                 /* a record's seq says it all */

    return bc_catalog_decide(data, mark);
}


/* Decides rec (NULL: missing, malformed or forged) against the product's
 * mark (keyed by the product's SHA-256) and raises the mark; *seen gets
 * the mark as it was. */
static bc_catalog_verdict
ngx_http_bitcache_catalog_decide(ngx_http_request_t *r, ngx_str_t *product,
    const bc_product_record *rec, uint64_t *seen)
{
    u_char                          hash[32];
    ngx_flag_t                      full;
    bc_catalog_verdict              v;
    ngx_http_bitcache_main_conf_t  *bmcf;

    bmcf = ngx_http_get_module_main_conf(r, ngx_http_bitcache_module);

    if (!bc_sha256(hash, product->data, product->len)) {
        *seen = 0;
        return BC_CATALOG_ROLLED_BACK;      /* fail closed */
    }

    v = (bc_catalog_verdict) ngx_http_bitcache_marks_update(
            bmcf->catalog_zone, hash, ngx_http_bitcache_catalog_mark,
            (void *) rec, seen, &full);

    if (full) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "bitcache: no room in bitcache_catalog_zone for "
                      "the mark of \"%V\"",
                      ngx_http_bitcache_log_str(r, product->data,
                                                product->len));
    }

    return v;
}


ngx_int_t
ngx_http_bitcache_sale_catalog(ngx_http_request_t *r,
    ngx_http_bitcache_loc_conf_t *blcf, ngx_http_bitcache_sale_t *sale,
    redisReply *reply)
{
    char                err[128];
    size_t              i, n, kvlen[BC_PRODUCT_KV_MAX];
    uint64_t            seen;
    const char         *kv[BC_PRODUCT_KV_MAX], *why;
    bc_product_record   parsed, *rec;
    bc_catalog_verdict  v;

    rec = NULL;
    why = NULL;
    err[0] = '\0';

    n = reply->elements < BC_PRODUCT_KV_MAX ? reply->elements : BC_PRODUCT_KV_MAX;

    for (i = 0; i < n; i++) {
        if (reply->element[i]->type != REDIS_REPLY_STRING) {
            why = "not a hash of strings";
            break;
        }
        kv[i] = reply->element[i]->str;
        kvlen[i] = reply->element[i]->len;
    }

    if (reply->elements == 0) {
        why = "no record";

    } else if (why) {
        /* as said */

    } else if (!bc_product_record_parse(&parsed, kv, kvlen, n, err,
                                        sizeof(err)))
    {
        why = err;

    } else if (!bc_product_record_mac_ok(&parsed,
                                         (const char *) sale->product.data,
                                         sale->product.len, blcf->keys))
    {
        why = "its MAC does not verify (written without the secret?)";

    } else {
        rec = &parsed;
    }

    v = ngx_http_bitcache_catalog_decide(r, &sale->product, rec, &seen);

    switch (v) {

    case BC_CATALOG_ROLLED_BACK:
        if (rec && rec->terms.version >= 2) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "bitcache: catalog record of \"%V\" rolled back: "
                          "seq %uL after seq %uL was seen; not sold until "
                          "a newer record is written",
                          ngx_http_bitcache_log_str(r, sale->product.data,
                                                    sale->product.len),
                          rec->terms.seq, seen);
        } else {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "bitcache: catalog record of \"%V\" rolled back: "
                          "%s after seq %uL was seen; not sold until "
                          "a newer record is written",
                          ngx_http_bitcache_log_str(r, sale->product.data,
                                                    sale->product.len),
                          rec ? "a version 1 record (no seq)" : why, seen);
        }
        return NGX_DECLINED;

    case BC_CATALOG_DIRECTIVES:
        if (rec == NULL && reply->elements) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "bitcache: catalog record of \"%V\" ignored: %s",
                          ngx_http_bitcache_log_str(r, sale->product.data,
                                                    sale->product.len), why);
        }
        return NGX_OK;      /* no record, or withdrawn: the directives */

    default: /* BC_CATALOG_USE */
        break;
    }

    sale->price = rec->terms.price;

    /* the record's terms replace the directives' (versions 1 and 2 have
     * no suggested price); one not above the price suggests nothing */
    sale->suggested = rec->terms.suggested > rec->terms.price
                      ? rec->terms.suggested : 0;

    if (rec->terms.wallet_len) {
        sale->wallet.data = (u_char *) rec->terms.wallet;
        sale->wallet.len = rec->terms.wallet_len;
    }

    if (rec->terms.version >= 3) {
        /* the record's giveaway (0: none), as its price, over the
         * directives' */
        sale->free_total = rec->terms.free;
        sale->free_window = rec->terms.free_window;
    }

    if (rec->terms.title_len) {
        sale->title.data = (u_char *) rec->terms.title;
        sale->title.len = rec->terms.title_len;
    }

    return NGX_OK;
}
