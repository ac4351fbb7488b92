/*
 * Catalog records and their high-water marks (see the header).
 *
 * The zone is an ngx_slab pool holding an rbtree of marks keyed by the
 * SHA-256 of the product (so that any product, however long, takes one
 * small node) and a queue in least-recently-used order: when the zone is
 * full the oldest mark is forgotten (that product is then protected again
 * from the next record seen). Only records whose MAC verifies make marks,
 * so requests for made-up products cannot fill the zone.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "hash.h"
#include "invoice_record.h"
#include "ngx_http_bitcache_catalog.h"


typedef struct {
    ngx_rbtree_node_t   node;           /* key: the hash's first bytes */
    ngx_queue_t         queue;          /* most recently used first */
    uint64_t            mark;           /* the highest seq seen */
    u_char              hash[32];       /* SHA-256 of the product */
} ngx_http_bitcache_mark_t;


typedef struct {
    ngx_rbtree_t        rbtree;
    ngx_rbtree_node_t   sentinel;
    ngx_queue_t         queue;
} ngx_http_bitcache_catalog_sh_t;


typedef struct {
    ngx_http_bitcache_catalog_sh_t  *sh;
    ngx_slab_pool_t                 *shpool;
} ngx_http_bitcache_catalog_ctx_t;


static void
ngx_http_bitcache_mark_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t        **p;
    ngx_http_bitcache_mark_t  *m, *t;

    for ( ;; ) {

        if (node->key != temp->key) {
            p = (node->key < temp->key) ? &temp->left : &temp->right;

        } else {
            m = (ngx_http_bitcache_mark_t *) node;
            t = (ngx_http_bitcache_mark_t *) temp;
            p = (ngx_memcmp(m->hash, t->hash, 32) < 0)
                ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


static ngx_int_t
ngx_http_bitcache_catalog_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_bitcache_catalog_ctx_t  *octx = data;

    size_t                            len;
    ngx_http_bitcache_catalog_ctx_t  *ctx;

    ctx = shm_zone->data;

    if (octx) {
        /* a reload with the same name and size: the marks stay */
        ctx->sh = octx->sh;
        ctx->shpool = octx->shpool;
        return NGX_OK;
    }

    ctx->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        ctx->sh = ctx->shpool->data;
        return NGX_OK;
    }

    ctx->sh = ngx_slab_alloc(ctx->shpool,
                             sizeof(ngx_http_bitcache_catalog_sh_t));
    if (ctx->sh == NULL) {
        return NGX_ERROR;
    }

    ctx->shpool->data = ctx->sh;

    ngx_rbtree_init(&ctx->sh->rbtree, &ctx->sh->sentinel,
                    ngx_http_bitcache_mark_insert);
    ngx_queue_init(&ctx->sh->queue);

    len = sizeof(" in bitcache_catalog_zone \"\"") + shm_zone->shm.name.len;

    ctx->shpool->log_ctx = ngx_slab_alloc(ctx->shpool, len);
    if (ctx->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(ctx->shpool->log_ctx, " in bitcache_catalog_zone \"%V\"%Z",
                &shm_zone->shm.name);

    /* a full zone is normal: the oldest mark makes room */
    ctx->shpool->log_nomem = 0;

    return NGX_OK;
}


static char *
ngx_http_bitcache_catalog_add(ngx_conf_t *cf,
    ngx_http_bitcache_main_conf_t *bmcf, ngx_str_t *name, ssize_t size)
{
    ngx_shm_zone_t                   *zone;
    ngx_http_bitcache_catalog_ctx_t  *ctx;

    ctx = ngx_pcalloc(cf->pool, sizeof(ngx_http_bitcache_catalog_ctx_t));
    if (ctx == NULL) {
        return NGX_CONF_ERROR;
    }

    zone = ngx_shared_memory_add(cf, name, size, &ngx_http_bitcache_module);
    if (zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "bitcache_catalog_zone \"%V\" is already declared",
                           name);
        return NGX_CONF_ERROR;
    }

    zone->init = ngx_http_bitcache_catalog_init_zone;
    zone->data = ctx;
    bmcf->catalog_zone = zone;

    return NGX_CONF_OK;
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


static ngx_http_bitcache_mark_t *
ngx_http_bitcache_mark_find(ngx_http_bitcache_catalog_ctx_t *ctx,
    ngx_rbtree_key_t key, u_char *hash)
{
    ngx_int_t                  rc;
    ngx_rbtree_node_t         *node, *sentinel;
    ngx_http_bitcache_mark_t  *m;

    node = ctx->sh->rbtree.root;
    sentinel = ctx->sh->rbtree.sentinel;

    while (node != sentinel) {

        if (key != node->key) {
            node = (key < node->key) ? node->left : node->right;
            continue;
        }

        m = (ngx_http_bitcache_mark_t *) node;
        rc = ngx_memcmp(hash, m->hash, 32);

        if (rc == 0) {
            return m;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


/* A new mark, forgetting the least recently used ones when the zone is
 * full. Called locked. */
static ngx_http_bitcache_mark_t *
ngx_http_bitcache_mark_new(ngx_http_bitcache_catalog_ctx_t *ctx)
{
    ngx_uint_t                 i;
    ngx_queue_t               *q;
    ngx_http_bitcache_mark_t  *m;

    for (i = 0; i < 4; i++) {
        m = ngx_slab_alloc_locked(ctx->shpool,
                                  sizeof(ngx_http_bitcache_mark_t));
        if (m != NULL || ngx_queue_empty(&ctx->sh->queue)) {
            return m;
        }

        q = ngx_queue_last(&ctx->sh->queue);
        m = ngx_queue_data(q, ngx_http_bitcache_mark_t, queue);

        ngx_queue_remove(q);
        ngx_rbtree_delete(&ctx->sh->rbtree, &m->node);
        ngx_slab_free_locked(ctx->shpool, m);
    }

    return NULL;
}


/* Decides rec (NULL: missing, malformed or forged) against the product's
 * mark and raises the mark, under the zone's lock; *seen gets the mark as
 * it was. */
static bc_catalog_verdict
ngx_http_bitcache_catalog_decide(ngx_http_request_t *r, ngx_str_t *product,
    const bc_product_record *rec, uint64_t *seen)
{
    u_char                            hash[32];
    uint64_t                          mark;
    ngx_rbtree_key_t                  key;
    bc_catalog_verdict                v;
    ngx_http_bitcache_mark_t         *m;
    ngx_http_bitcache_main_conf_t    *bmcf;
    ngx_http_bitcache_catalog_ctx_t  *ctx;

    bmcf = ngx_http_get_module_main_conf(r, ngx_http_bitcache_module);
    ctx = bmcf->catalog_zone->data;

    if (!bc_sha256(hash, product->data, product->len)) {
        *seen = 0;
        return BC_CATALOG_ROLLED_BACK;      /* fail closed */
    }

    ngx_memcpy(&key, hash, sizeof(key));

    ngx_shmtx_lock(&ctx->shpool->mutex);

    m = ngx_http_bitcache_mark_find(ctx, key, hash);
    mark = m ? m->mark : 0;
    *seen = mark;

    v = bc_catalog_decide(rec, &mark);

    if (m) {
        m->mark = mark;
        ngx_queue_remove(&m->queue);
        ngx_queue_insert_head(&ctx->sh->queue, &m->queue);

    } else if (mark) {
        m = ngx_http_bitcache_mark_new(ctx);

        if (m == NULL) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "bitcache: no room in bitcache_catalog_zone for "
                          "the mark of \"%V\"",
                          ngx_http_bitcache_log_str(r, product->data,
                                                    product->len));
        } else {
            m->node.key = key;
            m->mark = mark;
            ngx_memcpy(m->hash, hash, 32);
            ngx_rbtree_insert(&ctx->sh->rbtree, &m->node);
            ngx_queue_insert_head(&ctx->sh->queue, &m->queue);
        }
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return v;
}


ngx_int_t
ngx_http_bitcache_sale_catalog(ngx_http_request_t *r,
    ngx_http_bitcache_loc_conf_t *blcf, ngx_http_bitcache_sale_t *sale,
    redisReply *reply)
{
    char                err[128];
    size_t              i, n, kvlen[16];
    uint64_t            seen;
    const char         *kv[16], *why;
    bc_product_record   parsed, *rec;
    bc_catalog_verdict  v;

    rec = NULL;
    why = NULL;
    err[0] = '\0';

    n = reply->elements < 16 ? reply->elements : 16;

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
        if (rec && rec->version >= 2) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "bitcache: catalog record of \"%V\" rolled back: "
                          "seq %uL after seq %uL was seen; not sold until "
                          "a newer record is written",
                          ngx_http_bitcache_log_str(r, sale->product.data,
                                                    sale->product.len),
                          rec->seq, seen);
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

    sale->price = rec->price;

    if (rec->wallet_len) {
        sale->wallet.data = (u_char *) rec->wallet;
        sale->wallet.len = rec->wallet_len;
    }

    if (rec->title_len) {
        sale->title.data = (u_char *) rec->title;
        sale->title.len = rec->title_len;
    }

    return NGX_OK;
}
