/* bitcache watch: the mempool. New transactions are read once
 * (getrawmempool, getrawtransaction <txid> false) and matched like a
 * block's; a payment that leaves the mempool without confirming (replaced
 * or evicted) is removed from its invoice, which is settled again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pay_record.h"
#include "tx.h"
#include "watch_log.h"
#include "watch_match.h"
#include "watch_mempool.h"
#include "watch_node.h"
#include "watch_redis.h"
#include "watch_settle.h"

static int
cmp_txid(const void *a, const void *b)
{
    return memcmp(a, b, 64);
}

/* "<txid>:<vout>:<invoice id>" from watcher:mempool -> its parts */
static int
member_parse(const char *m, size_t len, char txid[65], char field[80], char id[33])
{
    const char *c1, *c2;

    if (len < 64 + 1 + 1 + 1 + 32 || len > 64 + 11 + 33) return 0;
    c1 = m + 64;
    c2 = m + len - 33;
    if (*c1 != ':' || *c2 != ':' || c2 <= c1 + 1) return 0;
    memcpy(txid, m, 64);
    txid[64] = '\0';
    memcpy(field, m, (size_t) (c2 - m));
    field[c2 - m] = '\0';
    memcpy(id, c2 + 1, 32);
    id[32] = '\0';
    return 1;
}

/* Payments recorded from the mempool whose transaction is no longer in it
 * (pool: the mempool now, sorted) nor in a block: replaced or evicted.
 * They leave their invoices, which are settled again (a 0-conf invoice
 * paid by one loses its token). Done only when the watcher has read every
 * block the node has, or a transaction just mined would look gone. */
static int
mempool_gone(watcher *w, char (*pool)[65], size_t n, uint32_t tip)
{
    char txid[65], field[80], (*ids)[33] = NULL;
    redisReply *m, *r;
    uint32_t count;
    size_t i, nids = 0;
    bc_pay_record p;
    int ok = 1;

    m = wcmd(w, "SMEMBERS %s" BC_KEY_WATCHER_MEMPOOL, w->prefix);
    if (m == NULL || m->type != REDIS_REPLY_ARRAY || m->elements == 0) {
        if (m) freeReplyObject(m);
        return m != NULL;
    }
    if (!node_count(w, &count) || count != tip) {
        freeReplyObject(m);
        return 1;               /* the next round looks again */
    }
    if ((ids = malloc(m->elements * sizeof(*ids))) == NULL) {
        freeReplyObject(m);
        return 0;
    }
    for (i = 0; ok && i < m->elements; i++) {
        if (!member_parse(m->element[i]->str, m->element[i]->len, txid, field, ids[nids])) {
            r = wcmd(w, "SREM %s" BC_KEY_WATCHER_MEMPOOL " %s", w->prefix, m->element[i]->str);
            if (r) freeReplyObject(r);
            continue;
        }
        if (n && bsearch(txid, pool, n, sizeof(*pool), cmp_txid)) {
            continue;           /* still waiting */
        }
        r = wcmd(w, "HGET %s" BC_KEY_PAY "%s %s", w->prefix, ids[nids], field);
        if (r == NULL) {
            ok = 0;
            break;
        }
        if (r->type == REDIS_REPLY_STRING
            && bc_pay_record_parse(&p, field, strlen(field), r->str, r->len) && p.height == 0)
        {
            freeReplyObject(r);
            r = wcmd(w, "HDEL %s" BC_KEY_PAY "%s %s", w->prefix, ids[nids], field);
            if (r == NULL) {
                ok = 0;
                break;
            }
            wlog("payment %s to invoice %s left the mempool without confirming "
                 "(replaced or evicted)", field, ids[nids]);
            nids++;
        }
        freeReplyObject(r);
        r = wcmd(w, "SREM %s" BC_KEY_WATCHER_MEMPOOL " %s", w->prefix, m->element[i]->str);
        if (r) freeReplyObject(r);
    }
    freeReplyObject(m);
    if (ok && nids) {
        nids = ids_unique(ids, nids);
        ok = settle_ids(w, ids, nids, tip, 0);
    }
    free(ids);
    return ok;
}

int
mempool_snapshot(watcher *w)
{
    char err[256], (*pool)[65] = NULL;
    size_t i, n;
    json_t *arr, *e;

    arr = rpc_call(w->rpc, "getrawmempool", NULL, err, sizeof(err));
    if (arr == NULL || !json_is_array(arr)) {
        node_failed(w, "getrawmempool", arr ? "not an array" : err);
        json_decref(arr);
        return 0;
    }
    n = json_array_size(arr);
    if (n && (pool = malloc(n * sizeof(*pool))) == NULL) {
        json_decref(arr);
        wlog("out of memory");
        return 0;
    }
    for (i = 0; i < n; i++) {
        e = json_array_get(arr, i);
        if (!json_is_string(e) || json_string_length(e) != 64
            || strspn(json_string_value(e), "0123456789abcdef") != 64)
        {
            node_failed(w, "getrawmempool", "not a txid");
            json_decref(arr);
            free(pool);
            return 0;
        }
        memcpy(pool[i], json_string_value(e), 65);
    }
    json_decref(arr);
    if (n > 1) {        /* an empty mempool has no array: qsort(NULL) is UB */
        qsort(pool, n, sizeof(*pool), cmp_txid);
    }
    free(w->pool);
    w->pool = pool;
    w->npool = n;
    return 1;
}

int
mempool_scan(watcher *w, uint32_t tip)
{
    char err[256], (*now)[65] = NULL;
    unsigned char *raw;
    outlist l = { NULL, 0, 0 };
    size_t i, n = w->npool, rawlen, fresh = 0;
    bc_tx tx;
    int rc = 0;

    /* the round's snapshot (mempool_snapshot), copied: read ones are kept */
    if (n && (now = malloc(n * sizeof(*now))) == NULL) goto done;
    if (n) memcpy(now, w->pool, n * sizeof(*now));
    if (!mempool_gone(w, now, n, tip)) goto done;
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
    if (outs_match(w, &l, 0, NULL, tip) < 0) goto done;
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
    return rc;
}
