/* bitcache watch: invoices. Payments live in pay:<id>, one record per
 * outpoint (watch_pay.c), so that a block read twice counts nothing twice.
 * An invoice is evaluated from what the watcher can authenticate itself:
 * its module MAC, the payment records that carry the watcher's own MAC and
 * whose block the node still has, the node's height, and its own earlier
 * attestation (to keep paid_at). Each state change is written to inv:<id>
 * with the BIP340 attestation of docs/protocol.md and published on the
 * events channel; a paid invoice whose payment left the chain loses its
 * token. Invoices are read and written a batch at a time on one
 * connection; the attestations of a batch are signed by several threads,
 * since signing is most of the work when a block pays many invoices. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hex.h"
#include "invoice.h"
#include "invoice_record.h"
#include "settle.h"
#include "watch_log.h"
#include "watch_pay.h"
#include "watch_redis.h"
#include "watch_reuse.h"
#include "watch_settle.h"
#include "watch_sign.h"
#include "watch_token.h"
#include "watch_verdict.h"

#define SETTLE_BATCH   256
#define HSCAN_COUNT    "100"      /* a batch holds at most 256 such pages */

/* 1 if an HGETALL reply has the field */
static int
has_field(const redisReply *h, const char *name)
{
    size_t i, len = strlen(name);

    for (i = 0; h->type == REDIS_REPLY_ARRAY && i + 1 < h->elements; i += 2) {
        if (h->element[i]->len == len && memcmp(h->element[i]->str, name, len) == 0) {
            return 1;
        }
    }
    return 0;
}

/* The value of field name of an HGETALL reply as a number; 0 if absent
 * or not one (over and late are shown, not signed: no harm in trusting) */
static uint64_t
field_u64(const redisReply *h, const char *name)
{
    size_t i, len = strlen(name);
    uint64_t v;

    for (i = 0; h->type == REDIS_REPLY_ARRAY && i + 1 < h->elements; i += 2) {
        if (h->element[i]->len == len && memcmp(h->element[i]->str, name, len) == 0) {
            return bc_parse_uint_n(&v, h->element[i + 1]->str, h->element[i + 1]->len,
                                   UINT64_MAX) ? v : 0;
        }
    }
    return 0;
}

/* Sums the payments of pay:<id> that count, from the first HSCAN page
 * (read with the invoice) and the next ones, asked here (the pipeline is
 * empty by now). Returns 1, 0 on a Redis error, -1 when the node did not
 * answer (nothing can be decided). */
static int
sum_payments(watcher *w, const watch_verdict *v, const redisReply *page, bc_pay_sum *a)
{
    redisReply *r;
    const char *cursor;
    char next[32];
    unsigned long refused = 0;
    bc_pay_seen seen;
    int ok = 0, node_down = 0;

    bc_pay_sum_init(a);
    bc_pay_seen_init(&seen);
    r = NULL;
    for (;;) {
        cursor = pay_sum_page(w, v->idhex, v->id, page, a, &seen, &refused, &node_down);
        if (cursor == NULL) {
            if (node_down) {
                ok = -1;
            } else {
                wlog("invoice %s: HSCAN of its payments: bad reply", v->idhex);
            }
            goto done;
        }
        if (strcmp(cursor, "0") == 0) break;
        snprintf(next, sizeof(next), "%.30s", cursor);
        if (r) freeReplyObject(r);
        r = wcmd(w, "HSCAN %s" BC_KEY_PAY "%s %s COUNT " HSCAN_COUNT, w->prefix, v->idhex,
                 next);
        if (r == NULL) goto done;
        page = r;
    }
    if (refused > 5) {
        wlog("invoice %s: %lu payment records refused in all", v->idhex, refused);
    }
    ok = 1;
done:
    if (r) freeReplyObject(r);
    bc_pay_seen_free(&seen);
    return ok;
}

/* Evaluates one invoice from its record and its payments' first page;
 * nothing is written yet. 0 on a Redis error. */
static int
settle_eval(watcher *w, watch_verdict *v, const redisReply *inv, const redisReply *page,
    bc_pay_sum *a, uint64_t now)
{
    const char *kv[128];
    size_t kvlen[128], i, n;
    char err[BC_INVOICE_WHY_MAX];
    bc_invoice_record rec;
    bc_settlement *s = &v->s;
    const char *why;
    int prev_ok, resign;

    v->drop = 1;
    if (strlen(v->idhex) != 32 || !bc_hex_decode(v->id, 16, v->idhex, 32)) {
        return 1;
    }
    if (inv->type != REDIS_REPLY_ARRAY || inv->elements == 0) {
        wlog("invoice %s: gone (expired); no longer watched", v->idhex);
        return 1;
    }
    n = inv->elements < 128 ? inv->elements : 128;
    for (i = 0; i < n; i++) {
        kv[i] = inv->element[i]->str;
        kvlen[i] = inv->element[i]->len;
    }
    why = NULL;
    if (!bc_invoice_record_parse(&rec, v->id, kv, kvlen, n, err, sizeof(err))) {
        why = err;
    } else if ((v->keys = bc_invoice_record_keys(&rec, &w->keys)) == NULL) {
        why = "its MAC does not verify";
    } else if (rec.inv.network != (uint8_t) w->net) {
        why = "it is for another network";
    }
    if (why) {
        wlog("invoice %s: %s; never credited nor signed", v->idhex, why);
        return 1;
    }
    switch (sum_payments(w, v, page, a)) {
    case 0:
        return 0;
    case -1:
        v->drop = 0;            /* nothing written; kept open, evaluated again */
        return 1;
    }
    bc_settle_sum(s, a, rec.inv.amount, rec.inv.confirmations, now, rec.inv.expires);

    /* what the record says about its settlement is believed only under
     * the watcher's own attestation */
    prev_ok = rec.has_payment
              && bc_invoice_record_att_check(&rec, w->xonly) == BC_INVOICE_SETTLED;
    /* or under its --old-key: believed, and signed again under the new one */
    resign = !prev_ok;
    prev_ok = prev_ok || (rec.has_payment && w->old_pay_key != NULL
                          && bc_invoice_record_att_check(&rec, w->old_xonly)
                             == BC_INVOICE_SETTLED);
    if (rec.has_att && !prev_ok) {
        wlog("invoice %s: its attestation is not this watcher's; its received, conf and "
             "paid_at are not kept", v->idhex);
    }
    if (s->state == BC_STATE_PAID) {
        v->paid_at = prev_ok && rec.state == BC_STATE_PAID && rec.paid_at && rec.paid_at <= now
                     ? rec.paid_at : now;
        /* never after the grace, when no payment counts any more: an old
         * record written back without its attestation gets no new token */
        if (v->paid_at > rec.inv.expires + WATCH_GRACE) {
            v->paid_at = rec.inv.expires + WATCH_GRACE;
        }
        if (prev_ok && rec.state == BC_STATE_PAID && rec.received == s->received
            && rec.conf <= BC_SETTLE_CONF_CAP)
        {
            s->conf = rec.conf;      /* settled: no re-signing on every block */
        }
    } else {
        v->paid_at = 0;
    }
    v->from = rec.state;
    v->amount = rec.inv.amount;
    v->required = rec.inv.confirmations;
    v->changed = resign || s->state != rec.state || rec.received != s->received
                 || rec.conf != s->conf || rec.paid_at != v->paid_at;
    if (s->state == BC_STATE_NEW && rec.state == BC_STATE_NEW && !rec.has_att
        && !rec.has_payment)
    {
        v->changed = 0;         /* nothing paid, nothing said: nothing to sign */
    }
    if (v->changed
        && !bc_payment_msg(v->msg, w->genesis, v->id, rec.spk, rec.inv.spk_len, s->received,
                           s->conf, v->paid_at))
    {
        wlog("invoice %s: cannot make the attestation message", v->idhex);
        v->changed = 0;
    }
    v->over_changed = !v->changed && field_u64(inv, "over") != s->over;
    v->revoke = rec.state == BC_STATE_PAID && s->state != BC_STATE_PAID;
    v->restore = s->state == BC_STATE_PAID && rec.state != BC_STATE_PAID
                 && has_field(inv, "token_revoked");
    /* watched until settled, or until no late payment can count any more
     * (an invoice without payments is found by its address if one comes) */
    v->drop = s->state == BC_STATE_PAID || a->n == 0 || now > rec.inv.expires + WATCH_GRACE;
    watch_reuse_decide(v->idhex, &rec, s, a->n, inv, now, &v->reuse);
    return 1;
}

/* Appends the writes of one verdict; returns how many commands. */
static int
settle_write(watcher *w, const watch_verdict *v)
{
    char sighex[129], recv_s[24], conf_s[24], paid_s[24], over_s[24];
    const bc_settlement *s = &v->s;
    int cmds = 0;

    if (v->changed) {
        if (!v->signed_ok) {
            wlog("invoice %s: cannot sign the attestation", v->idhex);
            return 0;
        }
        bc_hex_encode(sighex, v->sig, 64);
        snprintf(recv_s, sizeof(recv_s), "%llu", (unsigned long long) s->received);
        snprintf(conf_s, sizeof(conf_s), "%u", s->conf);
        snprintf(paid_s, sizeof(paid_s), "%llu", (unsigned long long) v->paid_at);
        snprintf(over_s, sizeof(over_s), "%llu", (unsigned long long) s->over);
        redisAppendCommand(w->rc, "HSET %sinv:%s state %s received %s conf %s paid_at %s "
                           "att %s over %s late %d", w->prefix, v->idhex,
                           bc_invoice_state_str(s->state), recv_s, conf_s, paid_s, sighex,
                           over_s, s->late);
        redisAppendCommand(w->rc, "PUBLISH %sevents %s", w->prefix, v->idhex);
        cmds += 2;
        if (s->state == BC_STATE_PAID || v->from == BC_STATE_PAID) {
            /* the durable copy `bitcache sales` counts (no TTL; a reorg
             * copies the unpaid state over it) */
            redisAppendCommand(w->rc, "COPY %sinv:%s %s" BC_KEY_SOLD "%s REPLACE", w->prefix,
                               v->idhex, w->prefix, v->idhex);
            redisAppendCommand(w->rc, "PERSIST %s" BC_KEY_SOLD "%s", w->prefix, v->idhex);
            cmds += 2;
        }
        if (s->state == BC_STATE_PAID && v->from != BC_STATE_PAID) w->m.settled++;
        wlog("invoice %s: %s -> %s, %llu of %llu sats, %u of %u confirmations%s%s%s",
             v->idhex, bc_invoice_state_str(v->from), bc_invoice_state_str(s->state),
             (unsigned long long) s->received, (unsigned long long) v->amount, s->conf,
             v->required, s->over ? ", over-paid by " : "", s->over ? over_s : "",
             s->late ? ", late (after expiry, within the grace period)" : "");
    }
    if (v->over_changed) {
        snprintf(over_s, sizeof(over_s), "%llu", (unsigned long long) s->over);
        redisAppendCommand(w->rc, "HSET %sinv:%s over %s", w->prefix, v->idhex, over_s);
        cmds++;
        wlog("invoice %s: over-paid by %s sats", v->idhex, over_s);
    }
    if (v->revoke) {
        cmds += revoke_token(w, v->keys, v->idhex, v->id);
    } else if (v->restore) {
        cmds += restore_token(w, v->keys, v->idhex, v->id);
    }
    return cmds;
}

/* Appends one SADD or SREM of the ids whose drop flag is want. */
static int
append_open(watcher *w, const char *cmd, const watch_verdict *v, size_t n, int want)
{
    const char *argv[SETTLE_BATCH + 2];
    char key[300];
    size_t i, k = 2;

    snprintf(key, sizeof(key), "%s" BC_KEY_WATCHER_OPEN, w->prefix);
    argv[0] = cmd;
    argv[1] = key;
    for (i = 0; i < n; i++) {
        if (v[i].drop == want) argv[k++] = v[i].idhex;
    }
    if (k == 2) return 0;
    redisAppendCommandArgv(w->rc, (int) k, argv, NULL);
    return 1;
}

/* Evaluates ids[0..n) a batch at a time. The settled leave the open set;
 * unless from_open (they are the open set), the others join it. pending:
 * replies due to the caller's commands, read (and dropped) first.
 * Each batch's reads go out with the previous batch's writes (the ids are
 * distinct, so no read depends on them); a batch's replies are all read
 * before its invoices are evaluated, so that an invoice with more payments
 * than one HSCAN page can ask for the rest on the idle connection. */
static int
settle_batches(watcher *w, const char *const *ids, size_t n, int from_open, long pending)
{
    static watch_verdict v[SETTLE_BATCH];
    redisReply *inv[SETTLE_BATCH], *page[SETTLE_BATCH];
    uint64_t now = (uint64_t) time(NULL);
    bc_pay_sum *a;
    size_t i, j, k, nb;
    int ok = 1;

    if ((a = malloc(sizeof(*a))) == NULL) {
        wlog("out of memory");
        wbroken(w);
        return 0;
    }
    for (i = 0; ok && i < n; i += nb) {
        nb = n - i < SETTLE_BATCH ? n - i : SETTLE_BATCH;
        for (j = 0; j < nb; j++) {
            redisAppendCommand(w->rc, "HGETALL %sinv:%s", w->prefix, ids[i + j]);
            redisAppendCommand(w->rc, "HSCAN %s" BC_KEY_PAY "%s 0 COUNT " HSCAN_COUNT,
                               w->prefix, ids[i + j]);
        }
        if (!drain(w, pending)) {
            ok = 0;
            break;
        }
        pending = 0;
        for (j = 0; j < nb; j++) {
            inv[j] = page[j] = NULL;
            if (redisGetReply(w->rc, (void **) &inv[j]) != REDIS_OK
                || redisGetReply(w->rc, (void **) &page[j]) != REDIS_OK)
            {
                w->m.redis_errors++;
                wlog("redis: %s", w->rc->errstr);
                nb = j + 1;
                ok = 0;
                break;
            }
        }
        for (j = 0; j < nb; j++) {
            memset(&v[j], 0, sizeof(v[j]));
            v[j].idhex = ids[i + j];
            if (ok && !settle_eval(w, &v[j], inv[j], page[j], a, now)) ok = 0;
        }
        for (k = 0; k < nb; k++) {
            if (inv[k]) freeReplyObject(inv[k]);
            if (page[k]) freeReplyObject(page[k]);
        }
        if (!ok) break;
        sign_all(w, v, nb);
        for (j = 0; j < nb; j++) {
            pending += settle_write(w, &v[j]);
            pending += watch_reuse_append(w, &v[j].reuse);
        }
        /* settled ones leave the open set (they may be there from the
         * mempool), the others join it */
        pending += append_open(w, "SREM", v, nb, 1);
        if (!from_open) pending += append_open(w, "SADD", v, nb, 0);
        w->settled += nb;
    }
    free(a);
    if (!ok) {
        wbroken(w);         /* replies may still be due: start afresh */
        return 0;
    }
    return drain(w, pending);
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

int
settle_ids(watcher *w, char (*ids)[33], size_t n, uint32_t tip, long pending)
{
    const char **p;
    size_t i;
    int ok;

    (void) tip;         /* confirmations are counted from w->node_tip */
    if (n == 0) return drain(w, pending);
    if ((p = malloc(n * sizeof(*p))) == NULL) {
        wlog("out of memory");
        wbroken(w);
        return 0;
    }
    for (i = 0; i < n; i++) p[i] = ids[i];
    ok = settle_batches(w, p, n, 0, pending);
    free(p);
    return ok;
}

int
settle_open(watcher *w, uint32_t tip)
{
    redisReply *ids;
    const char **p;
    size_t i;
    int ok;

    (void) tip;         /* confirmations are counted from w->node_tip */
    ids = wcmd(w, "SMEMBERS %s" BC_KEY_WATCHER_OPEN, w->prefix);
    if (ids == NULL || ids->type != REDIS_REPLY_ARRAY) {
        if (ids) freeReplyObject(ids);
        return 0;
    }
    if (ids->elements == 0) {
        freeReplyObject(ids);
        return 1;
    }
    if ((p = malloc(ids->elements * sizeof(*p))) == NULL) {
        freeReplyObject(ids);
        return 0;
    }
    for (i = 0; i < ids->elements; i++) p[i] = ids->element[i]->str;
    ok = settle_batches(w, p, ids->elements, 1, 0);
    free(p);
    freeReplyObject(ids);
    return ok;
}

int
settle_due(watcher *w, uint32_t tip)
{
    redisReply *ids, *r;
    const char **p;
    char now[24];
    size_t i;
    int ok;

    (void) tip;         /* confirmations are counted from w->node_tip */
    /* expired once now > expires (libbitcache/settle.c): scores below now */
    snprintf(now, sizeof(now), "%llu", (unsigned long long) time(NULL));
    ids = wcmd(w, "ZRANGEBYSCORE %s" BC_KEY_WATCHER_DUE " -inf (%s LIMIT 0 %d", w->prefix, now,
               WATCH_DUE_BATCH);
    if (ids == NULL || ids->type != REDIS_REPLY_ARRAY || ids->elements == 0) {
        if (ids) freeReplyObject(ids);
        return ids != NULL;
    }
    if ((p = malloc((ids->elements + 2) * sizeof(*p))) == NULL) {
        freeReplyObject(ids);
        return 0;
    }
    for (i = 0; i < ids->elements; i++) p[i] = ids->element[i]->str;
    ok = settle_batches(w, p, ids->elements, 0, 0);
    if (ok) {           /* evaluated once at expiry; the open set has the rest */
        char key[300];

        snprintf(key, sizeof(key), "%s" BC_KEY_WATCHER_DUE, w->prefix);
        memmove(p + 2, p, ids->elements * sizeof(*p));
        p[0] = "ZREM";
        p[1] = key;
        r = redisCommandArgv(w->rc, (int) ids->elements + 2, p, NULL);
        if (r == NULL) {
            w->m.redis_errors++;
            wlog("redis: %s", w->rc->errstr);
        } else {
            freeReplyObject(r);
        }
        ok = r != NULL;
    }
    free(p);
    freeReplyObject(ids);
    return ok;
}
