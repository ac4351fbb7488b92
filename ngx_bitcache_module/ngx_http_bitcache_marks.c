/*
 * High-water marks (see the header).
 *
 * The zone is an ngx_slab pool holding an rbtree of marks keyed by a
 * 32-byte hash (so that any product or wallet takes one small node) and a
 * queue in least-recently-used order: when the zone is full the oldest
 * mark is forgotten (that record is then protected again from the next
 * one seen). Only records whose MAC verifies make marks, so requests for
 * made-up products or wallets cannot fill the zone.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_bitcache.h"
#include "ngx_http_bitcache_marks.h"


typedef struct {
    ngx_rbtree_node_t   node;           /* key: the hash's first bytes */
    ngx_queue_t         queue;          /* most recently used first */
    uint64_t            mark;           /* the highest seq seen */
    u_char              pin[32];        /* what stood at it (a wallet's
                                           head), zeros when unused */
    u_char              hash[32];       /* the key */
} ngx_http_bitcache_mark_t;


typedef struct {
    ngx_rbtree_t        rbtree;
    ngx_rbtree_node_t   sentinel;
    ngx_queue_t         queue;
} ngx_http_bitcache_marks_sh_t;


typedef struct {
    ngx_http_bitcache_marks_sh_t  *sh;
    ngx_slab_pool_t                 *shpool;
} ngx_http_bitcache_marks_ctx_t;


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
ngx_http_bitcache_marks_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_bitcache_marks_ctx_t  *octx = data;

    size_t                            len;
    ngx_http_bitcache_marks_ctx_t  *ctx;

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
                             sizeof(ngx_http_bitcache_marks_sh_t));
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


ngx_shm_zone_t *
ngx_http_bitcache_marks_add(ngx_conf_t *cf, ngx_str_t *name, size_t size)
{
    ngx_shm_zone_t                 *zone;
    ngx_http_bitcache_marks_ctx_t  *ctx;

    ctx = ngx_pcalloc(cf->pool, sizeof(ngx_http_bitcache_marks_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }

    zone = ngx_shared_memory_add(cf, name, size, &ngx_http_bitcache_module);
    if (zone == NULL) {
        return NULL;
    }

    if (zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "bitcache_catalog_zone \"%V\" is already declared",
                           name);
        return NULL;
    }

    zone->init = ngx_http_bitcache_marks_init_zone;
    zone->data = ctx;

    return zone;
}


static ngx_http_bitcache_mark_t *
ngx_http_bitcache_mark_find(ngx_http_bitcache_marks_ctx_t *ctx,
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
ngx_http_bitcache_mark_new(ngx_http_bitcache_marks_ctx_t *ctx)
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


ngx_int_t
ngx_http_bitcache_marks_update(ngx_shm_zone_t *zone, const u_char key[32],
    ngx_http_bitcache_marks_decide_pt decide, void *data, uint64_t *seen,
    ngx_flag_t *full)
{
    u_char                          pin[32];
    uint64_t                        mark;
    ngx_int_t                       rc;
    ngx_rbtree_key_t                k;
    ngx_http_bitcache_mark_t       *m;
    ngx_http_bitcache_marks_ctx_t  *ctx;

    ctx = zone->data;

    ngx_memcpy(&k, key, sizeof(k));
    *full = 0;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    m = ngx_http_bitcache_mark_find(ctx, k, (u_char *) key);
    mark = m ? m->mark : 0;
    *seen = mark;

    if (m) {
        ngx_memcpy(pin, m->pin, 32);
    } else {
        ngx_memzero(pin, 32);
    }

    rc = decide(data, &mark, pin);

    if (m) {
        m->mark = mark;
        ngx_memcpy(m->pin, pin, 32);
        ngx_queue_remove(&m->queue);
        ngx_queue_insert_head(&ctx->sh->queue, &m->queue);

    } else if (mark) {
        m = ngx_http_bitcache_mark_new(ctx);

        if (m == NULL) {
            *full = 1;
        } else {
            m->node.key = k;
            m->mark = mark;
            ngx_memcpy(m->pin, pin, 32);
            ngx_memcpy(m->hash, key, 32);
            ngx_rbtree_insert(&ctx->sh->rbtree, &m->node);
            ngx_queue_insert_head(&ctx->sh->queue, &m->queue);
        }
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return rc;
}
