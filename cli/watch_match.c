/* bitcache watch: matching outputs to invoices. Every output's
 * scriptPubKey is looked up in spk:<hex> with MGET, a block's lookups in one
 * round trip; each payment found is recorded on its invoice and the
 * invoices paid are settled at once (watch_settle.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hex.h"
#include "script.h"
#include "tx.h"
#include "watch.h"

#define MGET_BATCH  512

int
outs_add_tx(const watcher *w, outlist *l, const bc_tx *tx)
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

static int
cmp_id(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

size_t
ids_unique(char (*ids)[33], size_t n)
{
    size_t i, u;

    if (n == 0) return 0;
    qsort(ids, n, sizeof(*ids), cmp_id);
    for (i = 1, u = 1; i < n; i++) {
        if (memcmp(ids[i], ids[u - 1], 32) != 0) memcpy(ids[u++], ids[i], 33);
    }
    return u;
}

/* Appends SADD key ids... in commands of at most MGET_BATCH ids; returns
 * how many commands. */
static long
append_sadd(watcher *w, const char *key, char (*ids)[33], size_t n)
{
    const char *argv[MGET_BATCH + 2];
    size_t i, k, nb;
    long cmds = 0;

    for (i = 0; i < n; i += nb) {
        nb = n - i < MGET_BATCH ? n - i : MGET_BATCH;
        argv[0] = "SADD";
        argv[1] = key;
        for (k = 0; k < nb; k++) argv[k + 2] = ids[i + k];
        redisAppendCommandArgv(w->rc, (int) nb + 2, argv, NULL);
        cmds++;
    }
    return cmds;
}

int
drain(watcher *w, long n)
{
    redisReply *e;

    for (; n > 0; n--) {
        if (redisGetReply(w->rc, (void **) &e) != REDIS_OK) {
            wlog("redis: %s", w->rc->errstr);
            return 0;
        }
        if (e->type == REDIS_REPLY_ERROR) wlog("redis: %s", e->str);
        freeReplyObject(e);
    }
    return 1;
}

long
outs_match(watcher *w, const outlist *l, uint32_t height, uint32_t tip)
{
    const char *argv[MGET_BATCH + 1];
    size_t lens[MGET_BATCH + 1], i, j, nb, nids = 0;
    char (*ids)[33] = NULL, (*nv)[33], hkey[300];
    redisReply *r, *e;
    uint64_t now = (uint64_t) time(NULL);
    long found = 0, pending;

    if (l->n && (ids = malloc(l->n * sizeof(*ids))) == NULL) {
        wlog("out of memory");
        return -1;
    }
    /* every MGET at once; the payments found are appended as the replies
     * come and go out with the next read: one round trip a block */
    for (i = 0; i < l->n; i += nb) {
        nb = l->n - i < MGET_BATCH ? l->n - i : MGET_BATCH;
        argv[0] = "MGET";
        lens[0] = 4;
        for (j = 0; j < nb; j++) {
            argv[j + 1] = l->v[i + j].key;
            lens[j + 1] = strlen(l->v[i + j].key);
        }
        redisAppendCommandArgv(w->rc, (int) nb + 1, argv, lens);
    }
    pending = 0;
    for (i = 0; i < l->n; i += nb) {
        nb = l->n - i < MGET_BATCH ? l->n - i : MGET_BATCH;
        r = NULL;
        if (redisGetReply(w->rc, (void **) &r) != REDIS_OK || r->type != REDIS_REPLY_ARRAY
            || r->elements != nb)
        {
            wlog("redis MGET: %s", r ? (r->type == REDIS_REPLY_ERROR ? r->str : "bad reply")
                 : w->rc->errstr);
            if (r) freeReplyObject(r);
            wbroken(w);         /* replies are still due: start afresh */
            free(ids);
            return -1;
        }
        for (j = 0; j < nb; j++) {
            e = r->element[j];
            if (e->type != REDIS_REPLY_STRING) continue;
            if (!is_id(e->str, e->len)) {
                wlog("%s holds \"%.40s\", not an invoice id; ignored", l->v[i + j].key, e->str);
                continue;
            }
            memcpy(ids[nids], e->str, 32);
            ids[nids][32] = '\0';
            pending += settle_record_payment(w, ids[nids], l->v[i + j].txid, l->v[i + j].vout,
                                             l->v[i + j].value, height, now);
            wlog("payment %s:%u of %llu sats to invoice %s (%s)", l->v[i + j].txid,
                 l->v[i + j].vout, (unsigned long long) l->v[i + j].value, ids[nids],
                 height ? "in a block" : "in the mempool");
            nids++;
            found++;
        }
        freeReplyObject(r);
    }
    if (nids == 0) {
        free(ids);
        return drain(w, pending) ? 0 : -1;
    }
    nids = ids_unique(ids, nids);       /* an invoice paid twice is settled once */
    if ((nv = realloc(ids, nids * sizeof(*ids))) != NULL) ids = nv;
    if (height) {       /* the invoices paid in this block, for a rollback */
        snprintf(hkey, sizeof(hkey), "%swatcher:h:%u", w->prefix, height);
        pending += append_sadd(w, hkey, ids, nids);
    }
    /* the payments' replies are read by settle_ids, after its reads went
     * out: Redis is never idle waiting for this loop */
    if (!settle_ids(w, ids, nids, tip, pending)) found = -1;
    free(ids);
    return found;
}
