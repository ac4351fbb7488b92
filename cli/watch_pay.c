/* bitcache watch: payment records (libbitcache/pay_record.h). Written with
 * the watcher's own MAC, so that what it reads back and sums is what it
 * saw: a record that someone else wrote into Redis, or that the watcher
 * wrote for a block the node no longer has at that height, or for a
 * transaction that left the mempool, counts for nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "pay_record.h"
#include "watch_log.h"
#include "watch_node.h"
#include "watch_pay.h"

#define PAY_TTL (8 * 86400)

static int
outref_record(bc_pay_record *p, const outref *o)
{
    memset(p, 0, sizeof(*p));
    p->vout = o->vout;
    p->value = o->value;
    return bc_hex_decode(p->txid, 32, o->txid, 64);
}

int
pay_record_write(watcher *w, const char *id, const outref *o, uint32_t height,
    const char *block, uint64_t seen_at)
{
    unsigned char idb[16];
    char field[BC_PAY_FIELD_MAX], value[BC_PAY_VALUE_MAX];
    bc_pay_record p;
    int n = 0;

    if (!bc_hex_decode(idb, 16, id, 32) || !outref_record(&p, o)
        || (height && !bc_hex_decode(p.block, 32, block, 64)))
    {
        return 0;
    }
    p.height = height;
    p.seen_at = seen_at;
    if (!bc_pay_record_sign(&p, w->pay_key, idb)) {
        wlog("invoice %s: cannot MAC the payment record", id);
        return 0;
    }
    bc_pay_field_encode(field, &p);
    bc_pay_value_encode(value, &p);
    redisAppendCommand(w->rc, "HSET %s" BC_KEY_PAY "%s %s %s", w->prefix, id, field, value);
    n++;
    redisAppendCommand(w->rc, "EXPIRE %s" BC_KEY_PAY "%s %d", w->prefix, id, PAY_TTL);
    n++;
    if (height == 0) {       /* checked until it confirms or is gone */
        redisAppendCommand(w->rc, "SADD %s" BC_KEY_WATCHER_MEMPOOL " %s:%u:%s", w->prefix,
                           o->txid, o->vout, id);
        n++;
    }
    return n;
}

/* Its own payment record: MAC'd under its key, or under its --old-key
 * (written before a rotation of the watcher key). */
static int
pay_record_mine(const watcher *w, const bc_pay_record *p, const unsigned char id[16])
{
    return bc_pay_record_verify(p, w->pay_key, id)
           || (w->old_pay_key != NULL && bc_pay_record_verify(p, w->old_pay_key, id));
}

int
pay_existing(watcher *w, const unsigned char id[16], const outref *o, const redisReply *r,
    bc_pay_record *p)
{
    char field[BC_PAY_FIELD_MAX];
    bc_pay_record mine;
    size_t flen;

    if (r == NULL || r->type != REDIS_REPLY_STRING || !outref_record(&mine, o)) {
        return 0;
    }
    flen = bc_pay_field_encode(field, &mine);
    return bc_pay_record_parse(p, field, flen, r->str, r->len)
           && pay_record_mine(w, p, id) && p->value == o->value;
}

int
in_pool(const watcher *w, const char *txid)
{
    size_t lo = 0, hi = w->npool, mid;
    int c;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        c = memcmp(w->pool[mid], txid, 64);
        if (c == 0) return 1;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return 0;
}

int
pay_record_counts(watcher *w, const unsigned char id[16], const bc_pay_record *p,
    const char **why)
{
    char txid[65], block[65], node[65];

    *why = NULL;
    if (!pay_record_mine(w, p, id)) {
        *why = "its MAC is not this watcher's (it did not write it)";
        return 0;
    }
    if (p->height == 0) {
        bc_hex_encode(txid, p->txid, 32);
        /* gone from the mempool: mempool_gone removes it (a mined one is
         * rewritten with its block) */
        if (!in_pool(w, txid)) {
            *why = "its transaction is not in the node's mempool";
            return 0;
        }
        return 1;
    }
    if (p->height > w->node_tip) {
        *why = "its block is above the node's height";
        return 0;
    }
    if (!node_hash_at(w, p->height, node)) {
        /* not "not counted": a paid invoice would lose its token */
        *why = "the node did not say which block is at its height";
        return -1;
    }
    bc_hex_encode(block, p->block, 32);
    if (strcmp(block, node) != 0) {
        *why = "its block is no longer the node's at that height";
        return 0;
    }
    return 1;
}

#define REFUSED_LOGGED 5     /* lines per invoice and evaluation; then a count */

const char *
pay_sum_page(watcher *w, const char *idhex, const unsigned char id[16],
    const redisReply *page, bc_pay_sum *a, bc_pay_seen *seen, unsigned long *refused,
    int *node_down)
{
    const redisReply *kv, *f, *v;
    const char *why;
    bc_pay_record p;
    size_t i;

    if (page->type != REDIS_REPLY_ARRAY || page->elements != 2
        || page->element[0]->type != REDIS_REPLY_STRING
        || page->element[1]->type != REDIS_REPLY_ARRAY)
    {
        return NULL;
    }
    kv = page->element[1];
    for (i = 0; i + 1 < kv->elements; i += 2) {
        f = kv->element[i];
        v = kv->element[i + 1];
        if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) continue;
        if (!bc_pay_record_parse(&p, f->str, f->len, v->str, v->len)) {
            if (++*refused <= REFUSED_LOGGED) {
                wlog("invoice %s: payment record \"%.80s\" is not one the watcher writes; "
                     "ignored", idhex, f->str);
            }
            continue;
        }
        switch (pay_record_counts(w, id, &p, &why)) {
        case -1:
            wlog("invoice %s: payment %.80s: %s; evaluated again later", idhex, f->str, why);
            *node_down = 1;
            return NULL;
        case 1:
            switch (bc_pay_seen_add(seen, &p)) {
            case 1:
                bc_pay_sum_add(a, p.value, bc_confirmations(p.height, w->node_tip),
                               p.seen_at);
                break;
            case 0:         /* HSCAN returned it again: counted once */
                break;
            default:
                wlog("out of memory");
                return NULL;
            }
            break;
        default:
            if (why && ++*refused <= REFUSED_LOGGED) {
                wlog("invoice %s: payment %.80s not counted: %s", idhex, f->str, why);
            }
        }
    }
    return page->element[0]->str;
}
