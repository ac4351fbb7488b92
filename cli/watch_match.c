/* bitcache watch: matching outputs to invoices. Every output's
 * scriptPubKey is looked up in spk:<hex> with MGET, a block's lookups in one
 * round trip; each payment found is recorded on its invoice and the
 * invoices paid are settled at once (watch_settle.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hex.h"
#include "invoice_record.h"
#include "script.h"
#include "tx.h"
#include "watch_log.h"
#include "watch_match.h"
#include "watch_pay.h"
#include "watch_redis.h"
#include "watch_settle.h"

#define MGET_BATCH  512

static int
is_id(const char *s, size_t len)
{
    unsigned char id[16];

    return len == 32 && bc_hex_decode(id, 16, s, len);
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

/* Why the invoice record inv (an HGETALL reply) is not one that output o
 * can pay, or NULL if it is: its module MAC verifies, it is for the
 * node's network, its spk is o's script, and its grace is not over (its
 * index may then belong to a newer invoice: an old record written back
 * must not take that one's payments). Outputs are credited only so,
 * whatever spk:<hex> in Redis says. */
static const char *
invoice_refuses(watcher *w, const char *idhex, const outref *o, const redisReply *inv,
    char *err, size_t errlen)
{
    const char *kv[128];
    size_t kvlen[128], i, n;
    unsigned char id[16];
    char spk[2 * BC_SPK_MAX + 1];
    bc_invoice_record rec;

    if (inv == NULL || inv->type != REDIS_REPLY_ARRAY || inv->elements == 0) {
        return "no such invoice";
    }
    n = inv->elements < 128 ? inv->elements : 128;
    for (i = 0; i < n; i++) {
        if (inv->element[i]->type != REDIS_REPLY_STRING) return "its record is malformed";
        kv[i] = inv->element[i]->str;
        kvlen[i] = inv->element[i]->len;
    }
    bc_hex_decode(id, 16, idhex, 32);
    if (!bc_invoice_record_parse(&rec, id, kv, kvlen, n, err, errlen)) {
        return err;
    }
    if (!bc_invoice_record_mac_ok(&rec, &w->keys)) {
        return "its MAC does not verify";
    }
    if (rec.inv.network != (uint8_t) w->net) {
        return "it is for another network";
    }
    bc_hex_encode(spk, rec.spk, rec.inv.spk_len);
    if (strcmp(spk, o->key + o->hex_at) != 0) {
        return "its address is another script";
    }
    if ((uint64_t) time(NULL) > rec.inv.expires + WATCH_GRACE) {
        return "it expired, and its grace is over (its address may be reused)";
    }
    return NULL;
}

typedef struct {
    size_t   out;           /* index in the outlist */
    char     id[33];
} candidate;

long
outs_match(watcher *w, const outlist *l, uint32_t height, const char *block, uint32_t tip)
{
    const char *argv[MGET_BATCH + 1], *why;
    size_t lens[MGET_BATCH + 1], i, j, nb, nc = 0, nids = 0;
    char (*ids)[33] = NULL, (*nv)[33], hkey[300], err[BC_INVOICE_WHY_MAX];
    candidate *c = NULL;
    unsigned char idb[16];
    redisReply *r, *e, *inv, *old;
    uint64_t now = (uint64_t) time(NULL), seen;
    bc_pay_record prev;
    const outref *o;
    long found = 0, pending = 0;
    int have;

    if (l->n && ((ids = malloc(l->n * sizeof(*ids))) == NULL
                 || (c = malloc(l->n * sizeof(*c))) == NULL))
    {
        wlog("out of memory");
        free(ids);
        return -1;
    }
    /* every MGET at once: one round trip a block */
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
            goto fail;
        }
        for (j = 0; j < nb; j++) {
            e = r->element[j];
            if (e->type != REDIS_REPLY_STRING) continue;
            if (!is_id(e->str, e->len)) {
                wlog("%s holds \"%.40s\", not an invoice id; ignored", l->v[i + j].key, e->str);
                continue;
            }
            c[nc].out = i + j;
            memcpy(c[nc].id, e->str, 32);
            c[nc].id[32] = '\0';
            nc++;
        }
        freeReplyObject(r);
    }
    if (nc == 0) {
        free(ids);
        free(c);
        return 0;
    }
    /* the invoices named, and what was recorded of these outputs before:
     * one more round trip */
    for (i = 0; i < nc; i++) {
        o = &l->v[c[i].out];
        redisAppendCommand(w->rc, "HGETALL %sinv:%s", w->prefix, c[i].id);
        redisAppendCommand(w->rc, "HGET %s" BC_KEY_PAY "%s %s:%u", w->prefix, c[i].id,
                           o->txid, o->vout);
    }
    for (i = 0; i < nc; i++) {
        o = &l->v[c[i].out];
        inv = old = NULL;
        if (redisGetReply(w->rc, (void **) &inv) != REDIS_OK
            || redisGetReply(w->rc, (void **) &old) != REDIS_OK)
        {
            w->m.redis_errors++;
            wlog("redis: %s", w->rc->errstr);
            if (inv) freeReplyObject(inv);
            goto fail;
        }
        why = invoice_refuses(w, c[i].id, o, inv, err, sizeof(err));
        if (why) {
            wlog("output %s:%u (%llu sats): %s names invoice %s, but %s; not credited",
                 o->txid, o->vout, (unsigned long long) o->value, o->key, c[i].id, why);
        } else {
            bc_hex_decode(idb, 16, c[i].id, 32);
            have = pay_existing(w, idb, o, old, &prev);
            if (height == 0 && have) {
                /* recorded already (a block's word is final) */
            } else {
                /* from the mempool to a block: first seen when it was */
                seen = have && prev.seen_at <= now ? prev.seen_at : now;
                pending += pay_record_write(w, c[i].id, o, height, block, seen);
                wlog("payment %s:%u of %llu sats to invoice %s (%s)", o->txid, o->vout,
                     (unsigned long long) o->value, c[i].id,
                     height ? "in a block" : "in the mempool");
                found++;
                if (height) w->m.pay_block++;
                else w->m.pay_mempool++;
            }
            memcpy(ids[nids++], c[i].id, 33);
        }
        freeReplyObject(inv);
        freeReplyObject(old);
    }
    free(c);
    c = NULL;
    if (nids == 0) {
        free(ids);
        return drain(w, pending) ? 0 : -1;
    }
    nids = ids_unique(ids, nids);       /* an invoice paid twice is settled once */
    if ((nv = realloc(ids, nids * sizeof(*ids))) != NULL) ids = nv;
    if (height) {       /* the invoices paid in this block, for a rollback */
        snprintf(hkey, sizeof(hkey), "%s" BC_KEY_WATCHER_HEIGHT "%u", w->prefix, height);
        pending += append_sadd(w, hkey, ids, nids);
    }
    /* the payments' replies are read by settle_ids, after its reads went
     * out: Redis is never idle waiting for this loop */
    if (!settle_ids(w, ids, nids, tip, pending)) found = -1;
    free(ids);
    return found;
fail:
    free(ids);
    free(c);
    return -1;
}
