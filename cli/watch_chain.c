/* bitcache watch: following the node. Blocks are fetched as raw hex
 * (getblockhash, getblock <hash> false) and parsed here; every output's
 * scriptPubKey is looked up in spk:<hex> with MGET, a batch at a time; the
 * mempool likewise (getrawmempool, getrawtransaction <txid> false). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hex.h"
#include "script.h"
#include "tx.h"
#include "watch.h"

#define MGET_BATCH  512

static double
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}
#define SPK_KEY_MAX 64      /* longer scripts cannot be an invoice's */

typedef struct {
    char     key[300];      /* <prefix>spk:<hex> */
    char     txid[65];
    uint32_t vout;
    uint64_t value;
} outref;

typedef struct {
    outref  *v;
    size_t   n, cap;
} outlist;

static int
outs_add_tx(watcher *w, outlist *l, const bc_tx *tx)
{
    char txid[65], hex[2 * SPK_KEY_MAX + 1];
    size_t pos = 0, cap;
    uint32_t vout = 0;
    bc_txout o;
    outref *nv;

    bc_hash_to_hex(txid, tx->txid);
    while (bc_tx_output_next(tx, &pos, &o)) {
        if (o.spk_len > 0 && o.spk_len <= SPK_KEY_MAX && o.value > 0) {
            if (l->n == l->cap) {
                cap = l->cap ? 2 * l->cap : 1024;
                if ((nv = realloc(l->v, cap * sizeof(*nv))) == NULL) {
                    wlog("out of memory");
                    return 0;
                }
                l->v = nv;
                l->cap = cap;
            }
            bc_hex_encode(hex, o.spk, o.spk_len);
            snprintf(l->v[l->n].key, sizeof(l->v[l->n].key), "%sspk:%s", w->prefix, hex);
            memcpy(l->v[l->n].txid, txid, 65);
            l->v[l->n].vout = vout;
            l->v[l->n].value = o.value;
            l->n++;
        }
        vout++;
    }
    return 1;
}

static int
is_id(const char *s, size_t len)
{
    unsigned char id[16];

    return len == 32 && bc_hex_decode(id, 16, s, len);
}

/* Looks every output up in spk:, records the payments it finds. Returns
 * how many, or -1 on a Redis error. */
static long
outs_match(watcher *w, const outlist *l, uint32_t height)
{
    const char *argv[MGET_BATCH + 1], *oargv[MGET_BATCH + 2], *hargv[MGET_BATCH + 2];
    size_t lens[MGET_BATCH + 1], i, j, k, nb, nids;
    char ids[MGET_BATCH][33], okey[300], hkey[300];
    redisReply *r, *e;
    uint64_t now = (uint64_t) time(NULL);
    long found = 0, pending;
    char id[33];

    for (i = 0; i < l->n; i += nb) {
        nb = l->n - i < MGET_BATCH ? l->n - i : MGET_BATCH;
        argv[0] = "MGET";
        lens[0] = 4;
        for (j = 0; j < nb; j++) {
            argv[j + 1] = l->v[i + j].key;
            lens[j + 1] = strlen(l->v[i + j].key);
        }
        r = redisCommandArgv(w->rc, (int) nb + 1, argv, lens);
        if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != nb) {
            wlog("redis MGET: %s", r ? (r->type == REDIS_REPLY_ERROR ? r->str : "bad reply")
                 : w->rc->errstr);
            if (r) freeReplyObject(r);
            return -1;
        }
        pending = 0;
        nids = 0;
        for (j = 0; j < nb; j++) {
            e = r->element[j];
            if (e->type != REDIS_REPLY_STRING) continue;
            if (!is_id(e->str, e->len)) {
                wlog("%s holds \"%.40s\", not an invoice id; ignored", l->v[i + j].key, e->str);
                continue;
            }
            memcpy(id, e->str, 32);
            id[32] = '\0';
            memcpy(ids[nids++], id, 33);
            pending += settle_record_payment(w, id, l->v[i + j].txid, l->v[i + j].vout,
                                             l->v[i + j].value, height, now);
            wlog("payment %s:%u of %llu sats to invoice %s (%s)", l->v[i + j].txid,
                 l->v[i + j].vout, (unsigned long long) l->v[i + j].value, id,
                 height ? "in a block" : "in the mempool");
            found++;
        }
        freeReplyObject(r);
        if (nids > 0) {
            /* the invoices to (re-)evaluate, and those paid in this block */
            snprintf(okey, sizeof(okey), "%swatcher:open", w->prefix);
            snprintf(hkey, sizeof(hkey), "%swatcher:h:%u", w->prefix, height);
            oargv[0] = hargv[0] = "SADD";
            oargv[1] = okey;
            hargv[1] = hkey;
            for (k = 0; k < nids; k++) {
                oargv[k + 2] = hargv[k + 2] = ids[k];
            }
            redisAppendCommandArgv(w->rc, (int) nids + 2, oargv, NULL);
            pending++;
            if (height) {
                redisAppendCommandArgv(w->rc, (int) nids + 2, hargv, NULL);
                pending++;
            }
        }
        for (k = 0; k < (size_t) pending; k++) {
            if (redisGetReply(w->rc, (void **) &e) != REDIS_OK) {
                wlog("redis: %s", w->rc->errstr);
                return -1;
            }
            if (e->type == REDIS_REPLY_ERROR) wlog("redis: %s", e->str);
            freeReplyObject(e);
        }
    }
    return found;
}

static void
node_failed(watcher *w, const char *what, const char *err)
{
    if (!w->node_down) {
        wlog("node: %s failed: %s; retrying every %ld ms", what, err, w->poll_ms);
    }
    w->node_down = 1;
}

static void
node_ok(watcher *w)
{
    if (w->node_down) wlog("node: answering again");
    w->node_down = 0;
}

static int
node_count(watcher *w, uint32_t *count)
{
    char err[256];
    json_t *r = rpc_call(w->rpc, "getblockcount", NULL, err, sizeof(err));

    if (r == NULL || !json_is_integer(r) || json_integer_value(r) < 0) {
        node_failed(w, "getblockcount", r ? "not a number" : err);
        json_decref(r);
        return 0;
    }
    *count = (uint32_t) json_integer_value(r);
    json_decref(r);
    node_ok(w);
    return 1;
}

/* the node's hash at height h, display hex; 0 on failure */
static int
node_hash(watcher *w, uint32_t h, char out[65])
{
    char err[256];
    size_t len;
    char *s = rpc_call_str(w->rpc, "getblockhash", json_pack("[I]", (json_int_t) h), &len,
                           err, sizeof(err));

    if (s == NULL || len != 64) {
        node_failed(w, "getblockhash", s ? "not a hash" : err);
        free(s);
        return 0;
    }
    memcpy(out, s, 65);
    free(s);
    return 1;
}

int
tip_get(watcher *w, uint32_t *height, char hash[65])
{
    redisReply *r = wcmd(w, "HMGET %swatcher:tip height hash", w->prefix);
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
    if (rc < 0) wlog("%swatcher:tip is malformed", w->prefix);
    freeReplyObject(r);
    return rc;
}

static int
stored_hash(watcher *w, uint32_t h, char out[65])
{
    redisReply *r = wcmd(w, "HGET %swatcher:blocks %u", w->prefix, h);
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
    redisReply *r = wcmd(w, "HSET %swatcher:tip height %u hash %s", w->prefix, h, hash);

    if (r) freeReplyObject(r);
    return r != NULL;
}

/* Undoes block h: its payments leave their invoices (which are
 * re-evaluated after the new branch is scanned). */
static int
rollback_block(watcher *w, uint32_t h, const char *hash)
{
    redisReply *ids, *pay, *r;
    char prev[65];
    size_t i, j, n = 0;
    const char *sp;

    ids = wcmd(w, "SMEMBERS %swatcher:h:%u", w->prefix, h);
    if (ids == NULL) return 0;
    for (i = 0; ids->type == REDIS_REPLY_ARRAY && i < ids->elements; i++) {
        const char *id = ids->element[i]->str;
        r = wcmd(w, "SADD %swatcher:open %s", w->prefix, id);
        if (r == NULL) goto fail;
        freeReplyObject(r);
        pay = wcmd(w, "HGETALL %spay:%s", w->prefix, id);
        if (pay == NULL) goto fail;
        for (j = 0; pay->type == REDIS_REPLY_ARRAY && j + 1 < pay->elements; j += 2) {
            sp = strchr(pay->element[j + 1]->str, ' ');
            if (sp && strtoul(sp + 1, NULL, 10) == h) {
                r = wcmd(w, "HDEL %spay:%s %s %s:seen", w->prefix, id, pay->element[j]->str,
                         pay->element[j]->str);
                if (r) freeReplyObject(r);
                wlog("reorg: payment %s to invoice %s left the chain with block %u",
                     pay->element[j]->str, id, h);
                n++;
            }
        }
        freeReplyObject(pay);
    }
    freeReplyObject(ids);
    r = wcmd(w, "DEL %swatcher:h:%u", w->prefix, h);
    if (r) freeReplyObject(r);
    r = wcmd(w, "HDEL %swatcher:blocks %u", w->prefix, h);
    if (r) freeReplyObject(r);
    if (h == 0 || stored_hash(w, h - 1, prev) != 1) {
        snprintf(prev, sizeof(prev), "%064d", 0);
    }
    wlog("reorg: block %u %s disconnected, %zu payment(s) rolled back", h, hash, n);
    return set_tip(w, h - 1, prev);
fail:
    freeReplyObject(ids);
    return 0;
}

/* Processes the block at height h whose hash (display hex) is hash. */
static int
process_block(watcher *w, uint32_t h, const char *hash, const char *expect_prev, int *reorg)
{
    char err[256], prev[65];
    unsigned char *raw;
    size_t rawlen;
    outlist l = { NULL, 0, 0 };
    bc_block b;
    bc_tx tx;
    long found;
    int rc = 0, t;
    redisReply *r;
    double t0, t1;

    *reorg = 0;
    t0 = now_ms();
    raw = rpc_call_hex(w->rpc, "getblock", json_pack("[sb]", hash, 0), &rawlen, err,
                       sizeof(err));
    if (raw == NULL) {
        node_failed(w, "getblock", err);
        return 0;
    }
    t1 = now_ms();
    if (!bc_block_parse(&b, raw, rawlen)) {
        wlog("block %u %s: not a block in hex", h, hash);
        goto done;
    }
    bc_hash_to_hex(prev, b.prev);
    if (expect_prev && strcmp(prev, expect_prev) != 0) {
        *reorg = 1;          /* the node switched branches under us */
        goto done;
    }
    while ((t = bc_block_next_tx(&b, &tx)) == 1) {
        if (!outs_add_tx(w, &l, &tx)) goto done;
    }
    if (t < 0) {
        wlog("block %u %s: malformed transaction %llu", h, hash,
             (unsigned long long) b.done);
        goto done;
    }
    if ((found = outs_match(w, &l, h)) < 0) goto done;
    if ((r = wcmd(w, "HSET %swatcher:blocks %u %s", w->prefix, h, hash)) == NULL) goto done;
    freeReplyObject(r);
    if (h > WATCH_KEEP_BLOCKS) {
        r = wcmd(w, "HDEL %swatcher:blocks %u", w->prefix, h - WATCH_KEEP_BLOCKS);
        if (r) freeReplyObject(r);
        r = wcmd(w, "DEL %swatcher:h:%u", w->prefix, h - WATCH_KEEP_BLOCKS);
        if (r) freeReplyObject(r);
    }
    if (!set_tip(w, h, hash)) goto done;
    w->blocks_done++;
    wlog("block %u %s: %llu transactions, %zu outputs, %ld payment(s) (fetched in %.0f ms, "
         "matched in %.0f ms)", h, hash, (unsigned long long) b.ntx, l.n, found, t1 - t0,
         now_ms() - t1);
    fflush(stderr);
    rc = 1;
done:
    free(l.v);
    free(raw);
    return rc;
}

int
chain_sync(watcher *w)
{
    uint32_t count, height, h;
    char hash[65], nh[65];
    int have, reorg;

    if (!node_count(w, &count)) return 0;
    have = tip_get(w, &height, hash);
    if (have < 0) return 0;
    if (have == 0) {
        h = w->from_height >= 0 && w->from_height <= count ? (uint32_t) w->from_height : count;
        wlog("no progress in redis: starting at block %u", h);
        if (!node_hash(w, h, nh)) return 0;
        if (!process_block(w, h, nh, NULL, &reorg)) return 0;
        height = h;
        memcpy(hash, nh, 65);
    }
    /* our tip still on the node's chain? otherwise walk back to the fork */
    for (;;) {
        if (height <= count) {
            if (!node_hash(w, height, nh)) return 0;
            if (strcmp(nh, hash) == 0) break;
        }
        if (!rollback_block(w, height, hash)) return 0;
        if (height == 0 || tip_get(w, &height, hash) != 1) return 0;
        if (strcmp(hash, "0000000000000000000000000000000000000000000000000000000000000000")
            == 0)
        {
            wlog("reorg deeper than the %d blocks kept: rescanning from block %u",
                 WATCH_KEEP_BLOCKS, height);
            if (!node_hash(w, height, nh) || !process_block(w, height, nh, NULL, &reorg)) {
                return 0;
            }
            memcpy(hash, nh, 65);
        }
    }
    for (h = height + 1; h <= count; h++) {
        if (!lease_renew(w)) return 0;
        if (!node_hash(w, h, nh)) return 0;
        if (!process_block(w, h, nh, hash, &reorg)) {
            if (reorg) wlog("block %u %s does not extend %s: reorg, next round", h, nh, hash);
            return reorg;
        }
        memcpy(hash, nh, 65);
    }
    return 1;
}

static int
cmp_txid(const void *a, const void *b)
{
    return memcmp(a, b, 64);
}

int
mempool_scan(watcher *w)
{
    char err[256], (*now)[65] = NULL;
    unsigned char *raw;
    outlist l = { NULL, 0, 0 };
    size_t i, n, rawlen, fresh = 0;
    json_t *arr, *e;
    bc_tx tx;
    int rc = 0;

    arr = rpc_call(w->rpc, "getrawmempool", NULL, err, sizeof(err));
    if (arr == NULL || !json_is_array(arr)) {
        node_failed(w, "getrawmempool", arr ? "not an array" : err);
        json_decref(arr);
        return 0;
    }
    n = json_array_size(arr);
    if (n && (now = malloc(n * sizeof(*now))) == NULL) goto done;
    for (i = 0; i < n; i++) {
        e = json_array_get(arr, i);
        if (!json_is_string(e) || json_string_length(e) != 64) {
            wlog("getrawmempool: not a txid");
            goto done;
        }
        memcpy(now[i], json_string_value(e), 65);
    }
    qsort(now, n, sizeof(*now), cmp_txid);
    for (i = 0; i < n; i++) {
        if (w->nmempool && bsearch(now[i], w->mempool, w->nmempool, sizeof(*now), cmp_txid)) {
            continue;
        }
        raw = rpc_call_hex(w->rpc, "getrawtransaction", json_pack("[sb]", now[i], 0),
                           &rawlen, err, sizeof(err));
        if (raw == NULL) {
            /* mined or evicted meanwhile: the next block says which */
            memset(now[i], 'z', 64);
            continue;
        }
        if (bc_tx_parse(&tx, raw, rawlen) && tx.len == rawlen) {
            if (!outs_add_tx(w, &l, &tx)) {
                free(raw);
                goto done;
            }
            fresh++;
        } else {
            wlog("mempool transaction %s: not a transaction in hex", now[i]);
        }
        free(raw);
    }
    if (outs_match(w, &l, 0) < 0) goto done;
    /* keep only what is still there (and was read) */
    qsort(now, n, sizeof(*now), cmp_txid);
    while (n > 0 && now[n - 1][0] == 'z') n--;
    free(w->mempool);
    w->mempool = now;
    w->nmempool = n;
    now = NULL;
    rc = 1;
done:
    free(now);
    free(l.v);
    json_decref(arr);
    return rc;
}
