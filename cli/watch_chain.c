/* bitcache watch: following the node's chain. Blocks come parsed from
 * watch_fetch.c, are matched (watch_match.c), and the progress is kept in
 * Redis; a block that left the chain is rolled back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pay_record.h"
#include "watch_chain.h"
#include "watch_fetch.h"
#include "watch_lease.h"
#include "watch_log.h"
#include "watch_match.h"
#include "watch_node.h"
#include "watch_redis.h"

int
chain_check(watcher *w)
{
    const bc_network_params *np;
    bc_network net;
    char g[65];

    if (w->chain_known) return 1;
    if (!node_hash(w, 0, g)) return 0;
    node_ok(w);
    if (!bc_network_from_genesis(&net, g, 64)) {
        wlog("the node's chain (genesis block %s) is not mainnet, testnet, signet or "
             "regtest: nothing can be attested", g);
        return -1;
    }
    np = bc_network_get(net);
    if (w->have_net && net != w->net) {
        wlog("the node is on %s, but --network says %s", np->name,
             bc_network_get(w->net)->name);
        return -1;
    }
    w->net = net;
    memcpy(w->genesis, bc_network_genesis(net), 32);
    w->chain_known = 1;
    wlog("the node is on %s (genesis block %s): attesting %s invoices only", np->name, g,
         np->name);
    return 1;
}

int
tip_get(watcher *w, uint32_t *height, char hash[65])
{
    redisReply *r = wcmd(w, "HMGET %s" BC_KEY_WATCHER_TIP " height hash", w->prefix);
    unsigned long long h;
    char *end;
    int rc = -1;

    if (r == NULL) return -1;
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 2) {
        if (r->element[0]->type != REDIS_REPLY_STRING) {
            rc = 0;
        } else if (r->element[1]->type == REDIS_REPLY_STRING && r->element[1]->len == 64) {
            h = strtoull(r->element[0]->str, &end, 10);
            if (*end == '\0' && h <= UINT32_MAX) {
                *height = (uint32_t) h;
                memcpy(hash, r->element[1]->str, 65);
                rc = 1;
            }
        }
    }
    if (rc < 0) wlog("%s" BC_KEY_WATCHER_TIP " is malformed", w->prefix);
    freeReplyObject(r);
    return rc;
}

static int
stored_hash(watcher *w, uint32_t h, char out[65])
{
    redisReply *r = wcmd(w, "HGET %s" BC_KEY_WATCHER_BLOCKS " %u", w->prefix, h);
    int ok;

    if (r == NULL) return -1;
    ok = r->type == REDIS_REPLY_STRING && r->len == 64;
    if (ok) memcpy(out, r->str, 65);
    freeReplyObject(r);
    return ok;
}

static int
set_tip(watcher *w, uint32_t h, const char *hash)
{
    redisReply *r = wcmd(w, "HSET %s" BC_KEY_WATCHER_TIP " height %u hash %s", w->prefix, h,
                         hash);

    if (r) {
        freeReplyObject(r);
        w->m.tip = h;
        w->m.have_tip = 1;
    }
    return r != NULL;
}

/* Removes the payments recorded at height h (by anyone: what is at h is
 * going) from invoice id's records, HSCAN page by page. Returns how many,
 * -1 on an error. */
static long
unrecord_invoice(watcher *w, const char *id, uint32_t h, const char *why)
{
    redisReply *page, *kv, *r;
    bc_pay_record p;
    char cursor[32] = "0";
    size_t j;
    long n = 0;

    do {
        page = wcmd(w, "HSCAN %s" BC_KEY_PAY "%s %s COUNT 1000", w->prefix, id, cursor);
        if (page == NULL) return -1;
        if (page->type != REDIS_REPLY_ARRAY || page->elements != 2
            || page->element[0]->type != REDIS_REPLY_STRING
            || page->element[1]->type != REDIS_REPLY_ARRAY)
        {
            freeReplyObject(page);
            return -1;
        }
        snprintf(cursor, sizeof(cursor), "%.30s", page->element[0]->str);
        kv = page->element[1];
        for (j = 0; j + 1 < kv->elements; j += 2) {
            if (!bc_pay_record_parse(&p, kv->element[j]->str, kv->element[j]->len,
                                     kv->element[j + 1]->str, kv->element[j + 1]->len)
                || p.height != h)
            {
                continue;
            }
            r = wcmd(w, "HDEL %s" BC_KEY_PAY "%s %s", w->prefix, id, kv->element[j]->str);
            if (r) freeReplyObject(r);
            wlog("%s: payment %s to invoice %s left with block %u", why, kv->element[j]->str,
                 id, h);
            n++;
        }
        freeReplyObject(page);
    } while (strcmp(cursor, "0") != 0);
    return n;
}

/* Removes the payments recorded at height h from their invoices, which
 * join the open set to be re-evaluated. Returns how many, -1 on an error. */
static long
unrecord_height(watcher *w, uint32_t h, const char *why)
{
    redisReply *ids, *r;
    size_t i;
    long n = 0, k;

    ids = wcmd(w, "SMEMBERS %s" BC_KEY_WATCHER_HEIGHT "%u", w->prefix, h);
    if (ids == NULL) return -1;
    for (i = 0; ids->type == REDIS_REPLY_ARRAY && i < ids->elements; i++) {
        const char *id = ids->element[i]->str;

        if (ids->element[i]->len != 32 || strspn(id, "0123456789abcdef") != 32) continue;
        r = wcmd(w, "SADD %s" BC_KEY_WATCHER_OPEN " %s", w->prefix, id);
        if (r == NULL) goto fail;
        freeReplyObject(r);
        if ((k = unrecord_invoice(w, id, h, why)) < 0) goto fail;
        n += k;
    }
    freeReplyObject(ids);
    r = wcmd(w, "DEL %s" BC_KEY_WATCHER_HEIGHT "%u", w->prefix, h);
    if (r) freeReplyObject(r);
    return n;
fail:
    freeReplyObject(ids);
    return -1;
}

/* Undoes block h: its payments leave their invoices (which are
 * re-evaluated after the new branch is scanned). */
static int
rollback_block(watcher *w, uint32_t h, const char *hash)
{
    redisReply *r;
    char prev[65];
    long n;

    if ((n = unrecord_height(w, h, "reorg")) < 0) return 0;
    r = wcmd(w, "HDEL %s" BC_KEY_WATCHER_BLOCKS " %u", w->prefix, h);
    if (r) freeReplyObject(r);
    if (h == 0 || stored_hash(w, h - 1, prev) != 1) {
        snprintf(prev, sizeof(prev), "%064d", 0);
    }
    w->m.reorg_blocks++;
    wlog("reorg: block %u %s disconnected, %ld payment(s) rolled back", h, hash, n);
    return set_tip(w, h - 1, prev);
}

/* Payments recorded at height h by a watcher that stopped before it was
 * done with the block (it may have been another block at that height
 * since): removed, so that the block is counted from scratch. */
static int
forget_unfinished(watcher *w, uint32_t h, const char *hash)
{
    char stored[65];
    int have = stored_hash(w, h, stored);

    if (have < 0) return 0;
    if (have == 1 && strcmp(stored, hash) == 0) {
        return 1;            /* done before (a rewound tip): nothing stale */
    }
    return unrecord_height(w, h, "unfinished block") >= 0;
}

/* Processes a fetched block (freed here): its payments, their invoices
 * (against tip, the node's height: payments from later blocks may be
 * recorded already when a watcher resumes), then the progress. A block
 * that does not extend expect_prev (the node switched branches under us)
 * sets *reorg and changes nothing. */
static int
process_block(watcher *w, fetched_block *b, uint32_t tip, const char *expect_prev,
    int *reorg)
{
    double t0 = watch_now_ms();
    redisReply *r;
    long found;
    int rc = 0;

    *reorg = 0;
    if (!b->ok) {
        if (b->node_error) node_failed(w, b->what, b->err);
        else wlog("block %u %s: %s", b->height, b->hash, b->err);
        goto done;
    }
    node_ok(w);
    if (expect_prev && strcmp(b->prev, expect_prev) != 0) {
        *reorg = 1;
        goto done;
    }
    if (!forget_unfinished(w, b->height, b->hash)) goto done;
    node_hash_put(w, b->height, b->hash);
    if ((found = outs_match(w, &b->outs, b->height, b->hash, tip)) < 0) goto done;
    r = wcmd(w, "HSET %s" BC_KEY_WATCHER_BLOCKS " %u %s", w->prefix, b->height, b->hash);
    if (r == NULL) goto done;
    freeReplyObject(r);
    if (b->height > WATCH_KEEP_BLOCKS) {
        r = wcmd(w, "HDEL %s" BC_KEY_WATCHER_BLOCKS " %u", w->prefix,
                 b->height - WATCH_KEEP_BLOCKS);
        if (r) freeReplyObject(r);
        r = wcmd(w, "DEL %s" BC_KEY_WATCHER_HEIGHT "%u", w->prefix,
                 b->height - WATCH_KEEP_BLOCKS);
        if (r) freeReplyObject(r);
    }
    if (!set_tip(w, b->height, b->hash)) goto done;
    w->blocks_done++;
    wlog("block %u %s: %llu transactions, %zu outputs, %ld payment(s) (fetched in %.0f ms, "
         "matched and settled in %.0f ms)", b->height, b->hash, (unsigned long long) b->ntx,
         b->outs.n, found, b->fetch_ms, watch_now_ms() - t0);
    fflush(stderr);
    rc = 1;
done:
    fetched_block_free(b);
    return rc;
}

/* Fetches and processes one block without the fetcher thread. */
static int
process_height(watcher *w, uint32_t h, const char *hash, uint32_t tip)
{
    fetched_block b;
    int reorg;

    (void) fetch_block(w, w->rpc, h, hash, &b);
    return process_block(w, &b, tip, NULL, &reorg);
}

int
chain_sync(watcher *w)
{
    uint32_t count, height = 0, h, first = 0;
    char hash[65], nh[65];
    fetched_block b;
    fetcher *f;
    int have, reorg, ok, rolled = 0;

    if (!node_count(w, &count)) return 0;
    w->node_tip = count;
    have = tip_get(w, &height, hash);
    if (have < 0) return 0;
    if (have && height > count + WATCH_KEEP_BLOCKS) {
        /* no reorg is that deep: not a tip this watcher wrote. Walking
         * back from it would take forever; rescan the kept blocks (a
         * payment is recorded once however often its block is read) */
        wlog("%s" BC_KEY_WATCHER_TIP " says block %u, far above the node's %u: not trusted; "
             "rescanning from block %u", w->prefix, height, count,
             count > WATCH_KEEP_BLOCKS ? count - WATCH_KEEP_BLOCKS : 0);
        have = 0;
        w->from_height = count > WATCH_KEEP_BLOCKS ? count - WATCH_KEEP_BLOCKS : 0;
    }
    if (have == 0) {       /* from block first, whatever its parent */
        first = w->from_height >= 0 && w->from_height <= count ? (uint32_t) w->from_height
                : count;
        wlog("no progress in redis: starting at block %u", first);
    }
    /* our tip still on the node's chain? otherwise walk back to the fork */
    while (have) {
        if (height <= count) {
            if (!node_hash(w, height, nh)) return 0;
            if (strcmp(nh, hash) == 0) break;
        }
        if (!rolled++) w->m.reorgs++;
        if (!rollback_block(w, height, hash)) return 0;
        if (height == 0 || tip_get(w, &height, hash) != 1) return 0;
        /* above the node's height, walk on down (within the round) */
        if (height <= count
            && strcmp(hash, "0000000000000000000000000000000000000000000000000000000000000000")
               == 0)
        {
            wlog("reorg deeper than the %d blocks kept: rescanning from block %u",
                 WATCH_KEEP_BLOCKS, height);
            if (!node_hash(w, height, nh) || !process_height(w, height, nh, count)) return 0;
            memcpy(hash, nh, 65);
        }
    }
    if (have) {
        if (height <= count) {
            w->m.tip = height;
            w->m.have_tip = 1;
        }
        if (height >= count) return 1;
        first = height + 1;
    }
    if ((f = fetcher_start(w, first, count)) == NULL) {
        wlog("cannot start the block fetcher: out of memory");
        return 0;
    }
    ok = 1;
    for (h = first; ok && h <= count; h++) {
        fetcher_next(f, &b);
        memcpy(nh, b.hash, 65);
        if (!lease_renew(w)) {
            fetched_block_free(&b);
            ok = 0;
        } else if (!process_block(w, &b, count, have || h > first ? hash : NULL, &reorg)) {
            if (reorg) wlog("block %u %s does not extend %s: reorg, next round", h, nh, hash);
            ok = reorg;
            break;
        }
        memcpy(hash, nh, 65);
    }
    fetcher_stop(f);
    return ok;
}
