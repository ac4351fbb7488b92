/*
 * One purchase at a time per wallet within a worker (see
 * ngx_http_bitcache_wallet.h): a table of the wallets with a purchase in
 * flight, each with the purchases waiting behind it. Racing purchases of
 * one wallet in one worker would all compute from the same state and all
 * but one lose the compare-and-set, again and again; queued, each starts
 * from the state the one before left, and only purchases in other
 * workers race. No blocking and no timer: the one in flight ends by
 * Redis's answer or its call's timeout, or when its request goes away;
 * then the next one is started by a posted event, in its own request.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_bitcache_wallet.h"


struct ngx_http_bitcache_wallet_busy_s {
    ngx_rbtree_node_t                 node;      /* key: the wid's first
                                                    bytes */
    u_char                            wid[BC_WALLET_ID_LEN];
    ngx_http_bitcache_wallet_t       *owner;     /* the purchase in flight */
    ngx_queue_t                       waiting;   /* first come, first */
};


static ngx_rbtree_t       ngx_http_bitcache_busy;
static ngx_rbtree_node_t  ngx_http_bitcache_busy_sentinel;


static void
ngx_http_bitcache_busy_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t                **p;
    ngx_http_bitcache_wallet_busy_t   *b, *t;

    for ( ;; ) {

        if (node->key != temp->key) {
            p = (node->key < temp->key) ? &temp->left : &temp->right;

        } else {
            b = (ngx_http_bitcache_wallet_busy_t *) node;
            t = (ngx_http_bitcache_wallet_busy_t *) temp;
            p = (ngx_memcmp(b->wid, t->wid, BC_WALLET_ID_LEN) < 0)
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


static ngx_http_bitcache_wallet_busy_t *
ngx_http_bitcache_busy_find(const u_char *wid, ngx_rbtree_key_t key)
{
    ngx_int_t                         rc;
    ngx_rbtree_node_t                *node, *sentinel;
    ngx_http_bitcache_wallet_busy_t  *b;

    if (ngx_http_bitcache_busy.root == NULL) {
        ngx_rbtree_init(&ngx_http_bitcache_busy,
                        &ngx_http_bitcache_busy_sentinel,
                        ngx_http_bitcache_busy_insert);
    }

    node = ngx_http_bitcache_busy.root;
    sentinel = ngx_http_bitcache_busy.sentinel;

    while (node != sentinel) {

        if (key != node->key) {
            node = (key < node->key) ? node->left : node->right;
            continue;
        }

        b = (ngx_http_bitcache_wallet_busy_t *) node;
        rc = ngx_memcmp(wid, b->wid, BC_WALLET_ID_LEN);

        if (rc == 0) {
            return b;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


static void
ngx_http_bitcache_wallet_queued_run(ngx_event_t *ev)
{
    ngx_connection_t            *c;
    ngx_http_request_t          *r;
    ngx_http_bitcache_wallet_t  *w = ev->data;

    r = w->queue_request;
    c = r->connection;

    w->queue_start(r, w);
    ngx_http_run_posted_requests(c);
}


/* The request went away: out of the queue, or out of the way of the
 * next one. */
static void
ngx_http_bitcache_wallet_queue_cleanup(void *data)
{
    ngx_http_bitcache_wallet_t  *w = data;

    if (w->queue_ev.posted) {
        ngx_delete_posted_event(&w->queue_ev);
    }

    ngx_http_bitcache_wallet_queue_leave(w, NULL);
}


ngx_int_t
ngx_http_bitcache_wallet_queue_enter(ngx_http_request_t *r,
    ngx_http_bitcache_wallet_t *w, ngx_http_bitcache_wallet_done_pt start)
{
    ngx_rbtree_key_t                  key;
    ngx_pool_cleanup_t               *cln;
    ngx_http_bitcache_wallet_busy_t  *b;

    if (w->queue_busy != NULL) {
        return NGX_OK;                      /* in it already */
    }

    if (!w->queue_cleanup) {
        cln = ngx_pool_cleanup_add(r->pool, 0);
        if (cln == NULL) {
            return NGX_ERROR;
        }
        cln->handler = ngx_http_bitcache_wallet_queue_cleanup;
        cln->data = w;
        w->queue_cleanup = 1;
    }

    ngx_memcpy(&key, w->wid, sizeof(key));

    b = ngx_http_bitcache_busy_find(w->wid, key);

    if (b == NULL) {
        b = ngx_alloc(sizeof(ngx_http_bitcache_wallet_busy_t),
                      r->connection->log);
        if (b == NULL) {
            return NGX_ERROR;
        }

        b->node.key = key;
        ngx_memcpy(b->wid, w->wid, BC_WALLET_ID_LEN);
        b->owner = w;
        ngx_queue_init(&b->waiting);
        ngx_rbtree_insert(&ngx_http_bitcache_busy, &b->node);

        w->queue_busy = b;
        return NGX_OK;
    }

    w->queue_busy = b;
    w->queue_request = r;
    w->queue_start = start;
    w->queue_ev.handler = ngx_http_bitcache_wallet_queued_run;
    w->queue_ev.data = w;
    w->queue_ev.log = r->connection->log;
    ngx_queue_insert_tail(&b->waiting, &w->queue_link);
    w->queue_waiting = 1;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "bitcache: wallet %s: a purchase in flight, queued",
                   w->widhex);

    return NGX_BUSY;
}


void
ngx_http_bitcache_wallet_queue_leave(ngx_http_bitcache_wallet_t *w,
    const bc_wallet_state *left)
{
    ngx_queue_t                      *q;
    ngx_http_bitcache_wallet_t       *next;
    ngx_http_bitcache_wallet_busy_t  *b;

    b = w->queue_busy;
    if (b == NULL) {
        return;
    }

    w->queue_busy = NULL;

    if (w->queue_waiting) {
        ngx_queue_remove(&w->queue_link);
        w->queue_waiting = 0;
        return;
    }

    if (b->owner != w) {
        return;
    }

    if (ngx_queue_empty(&b->waiting)) {
        ngx_rbtree_delete(&ngx_http_bitcache_busy, &b->node);
        ngx_free(b);
        return;
    }

    q = ngx_queue_head(&b->waiting);
    ngx_queue_remove(q);
    next = ngx_queue_data(q, ngx_http_bitcache_wallet_t, queue_link);
    next->queue_waiting = 0;
    b->owner = next;

    /* the state this purchase wrote is the next one's start: no lost
     * compare-and-set for a state it would have read before */
    if (left != NULL) {
        next->state = *left;
    }

    ngx_post_event(&next->queue_ev, &ngx_posted_events);
}
