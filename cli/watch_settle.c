/* bitcache watch: invoices. Payments live in pay:<id> (field txid:vout =
 * "value height", txid:vout:seen = unix time first seen), so that a block
 * read twice counts nothing twice. Each state change is written to inv:<id>
 * with the BIP340 attestation of docs/protocol.md and published on the
 * events channel; a paid invoice whose payment left the chain loses its
 * token. Invoices are read and written a batch at a time on one
 * connection; the attestations of a batch are signed by several threads,
 * since signing is most of the work when a block pays many invoices. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hex.h"
#include "invoice.h"
#include "invoice_record.h"
#include "schnorr.h"
#include "settle.h"
#include "token_record.h"
#include "watch.h"
#include "watch_reuse.h"

#define SETTLE_BATCH   256
#define PAY_TTL        (8 * 86400)
#define MAX_PAYMENTS   256

int
settle_record_payment(watcher *w, const char *id, const char *txid, uint32_t vout,
    uint64_t value, uint32_t height, uint64_t now)
{
    char field[80], val[48], seen[96], t[24];
    int n = 0;

    snprintf(field, sizeof(field), "%.64s:%u", txid, vout);
    snprintf(seen, sizeof(seen), "%.79s:seen", field);
    snprintf(val, sizeof(val), "%llu %u", (unsigned long long) value, height);
    snprintf(t, sizeof(t), "%llu", (unsigned long long) now);
    /* a block's word is final; the mempool never overwrites it */
    redisAppendCommand(w->rc, height ? "HSET %spay:%s %s %s" : "HSETNX %spay:%s %s %s",
                       w->prefix, id, field, val); n++;
    redisAppendCommand(w->rc, "HSETNX %spay:%s %s %s", w->prefix, id, seen, t); n++;
    redisAppendCommand(w->rc, "EXPIRE %spay:%s %d", w->prefix, id, PAY_TTL); n++;
    if (height == 0) {       /* checked until it confirms or is gone */
        redisAppendCommand(w->rc, "SADD %swatcher:mempool %s:%u:%s", w->prefix, txid, vout,
                           id); n++;
    }
    return n;
}

/* pay:<id> as HGETALL gives it -> payments */
static size_t
payments_parse(const redisReply *r, bc_payment *p, size_t max)
{
    size_t i, j, n = 0, flen;
    const char *f, *v;
    char *end;

    if (r->type != REDIS_REPLY_ARRAY) return 0;
    for (i = 0; i + 1 < r->elements && n < max; i += 2) {
        f = r->element[i]->str;
        flen = r->element[i]->len;
        v = r->element[i + 1]->str;
        if (flen > 5 && strcmp(f + flen - 5, ":seen") == 0) continue;
        p[n].value = strtoull(v, &end, 10);
        if (*end != ' ') continue;
        p[n].height = (uint32_t) strtoul(end + 1, NULL, 10);
        p[n].seen_at = 0;
        for (j = 0; j + 1 < r->elements; j += 2) {
            if (r->element[j]->len == flen + 5 && memcmp(r->element[j]->str, f, flen) == 0
                && strcmp(r->element[j]->str + flen, ":seen") == 0)
            {
                p[n].seen_at = strtoull(r->element[j + 1]->str, NULL, 10);
            }
        }
        n++;
    }
    return n;
}

/* Appends the revocation of the token minted for invoice id (a record
 * that never existed stays absent: the script checks). Returns how many
 * commands it appended. */
static int
revoke_token(watcher *w, const char *idhex, const unsigned char id[16])
{
    unsigned char tid[16];
    char thex[33], revoked[24];

    if (!w->have_keys) {
        wlog("invoice %s: its payment is gone but without --secret the watcher cannot "
             "name its token to revoke it", idhex);
        return 0;
    }
    if (!bc_invoice_token_id(tid, id, &w->keys)) return 0;
    bc_hex_encode(thex, tid, 16);
    snprintf(revoked, sizeof(revoked), "%lld", BC_LEFT_REVOKED);
    redisAppendCommand(w->rc, "EVAL %s 1 %stok:%s %s", BC_SCRIPT_TOKEN_REVOKE, w->prefix,
                       thex, revoked);
    /* remembered, so that a new payment of the invoice gives it back */
    redisAppendCommand(w->rc, "HSET %sinv:%s token_revoked 1", w->prefix, idhex);
    wlog("invoice %s: token %s revoked (if it was minted)", idhex, thex);
    return 2;
}

/* The invoice is paid again after its payment vanished in a reorg: the
 * token the watcher revoked works again, with all its downloads. */
static int
restore_token(watcher *w, const char *idhex, const unsigned char id[16],
    uint32_t max_downloads)
{
    unsigned char tid[16];
    char thex[33], left[24];

    if (!w->have_keys || !bc_invoice_token_id(tid, id, &w->keys)) {
        return 0;
    }
    bc_hex_encode(thex, tid, 16);
    snprintf(left, sizeof(left), "%lld", bc_record_initial_left(max_downloads));
    redisAppendCommand(w->rc, "EVAL %s 1 %stok:%s %s", BC_SCRIPT_TOKEN_RESTORE, w->prefix,
                       thex, left);
    redisAppendCommand(w->rc, "HDEL %sinv:%s token_revoked", w->prefix, idhex);
    wlog("invoice %s: paid again, token %s restored", idhex, thex);
    return 2;
}

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

/* What the evaluation of one invoice decided, to be signed and written. */
typedef struct {
    const char        *idhex;
    unsigned char      id[16];
    int                drop;        /* no longer watched */
    int                changed;     /* a new state to attest and write */
    int                revoke, restore;
    int                signed_ok;
    int                reuse;       /* commands appended by watch_reuse_note */
    bc_invoice_state   from;
    bc_settlement      s;
    uint64_t           paid_at, amount;
    uint32_t           required, max_downloads;
    unsigned char      msg[32], sig[64];
} verdict;

/* Evaluates one invoice from its records; nothing is written yet. */
static void
settle_eval(watcher *w, verdict *v, const redisReply *inv, const redisReply *pay,
    uint32_t tip, uint64_t now)
{
    const char *kv[128];
    size_t kvlen[128], i, n, np;
    char err[BC_INVOICE_WHY_MAX];
    bc_payment p[MAX_PAYMENTS];
    bc_invoice_record rec;
    bc_settlement *s = &v->s;
    const char *why;

    v->drop = 1;
    if (strlen(v->idhex) != 32 || !bc_hex_decode(v->id, 16, v->idhex, 32)) {
        return;
    }
    if (inv->type != REDIS_REPLY_ARRAY || inv->elements == 0) {
        wlog("invoice %s: gone (expired); no longer watched", v->idhex);
        return;
    }
    n = inv->elements < 128 ? inv->elements : 128;
    for (i = 0; i < n; i++) {
        kv[i] = inv->element[i]->str;
        kvlen[i] = inv->element[i]->len;
    }
    why = NULL;
    if (!bc_invoice_record_parse(&rec, v->id, kv, kvlen, n, err, sizeof(err))) {
        why = err;
    } else if (w->have_keys && !bc_invoice_record_mac_ok(&rec, &w->keys)) {
        why = "its MAC does not verify";
    } else if (w->have_net && rec.inv.network != (uint8_t) w->net) {
        why = "it is for another network";
    }
    if (why) {
        wlog("invoice %s: %s; ignored", v->idhex, why);
        return;
    }
    np = payments_parse(pay, p, MAX_PAYMENTS);
    bc_settle(s, p, np, rec.inv.amount, rec.inv.confirmations, tip, now, rec.inv.expires);

    if (s->state == BC_STATE_PAID) {
        v->paid_at = rec.state == BC_STATE_PAID && rec.has_payment && rec.paid_at
                     ? rec.paid_at : now;
        if (rec.state == BC_STATE_PAID && rec.has_payment && rec.received == s->received) {
            s->conf = rec.conf;      /* settled: no re-signing on every block */
        }
    } else {
        v->paid_at = 0;
    }
    v->from = rec.state;
    v->amount = rec.inv.amount;
    v->required = rec.inv.confirmations;
    v->max_downloads = rec.inv.max_downloads;
    v->changed = s->state != rec.state || !rec.has_payment || rec.received != s->received
                 || rec.conf != s->conf || rec.paid_at != v->paid_at;
    if (v->changed
        && !bc_payment_msg(v->msg, v->id, rec.spk, rec.inv.spk_len, s->received, s->conf,
                           v->paid_at))
    {
        wlog("invoice %s: cannot make the attestation message", v->idhex);
        v->changed = 0;
    }
    v->revoke = rec.state == BC_STATE_PAID && s->state != BC_STATE_PAID;
    v->restore = s->state == BC_STATE_PAID && rec.state != BC_STATE_PAID
                 && has_field(inv, "token_revoked");
    /* watched until settled, or until no late payment can count any more
     * (an invoice without payments is found by its address if one comes) */
    v->drop = s->state == BC_STATE_PAID || np == 0 || now > rec.inv.expires + WATCH_GRACE;
    v->reuse = watch_reuse_note(w, v->idhex, &rec, s, np, inv, now);
}

typedef struct {
    const bc_schnorr_signer *signer;
    verdict                 *v;
    size_t                   n, first, step;
} sign_share;

static void *
sign_run(void *arg)
{
    sign_share *sh = arg;
    size_t i;

    for (i = sh->first; i < sh->n; i += sh->step) {
        if (sh->v[i].changed) {
            sh->v[i].signed_ok = bc_schnorr_signer_sign(sh->signer, sh->v[i].sig,
                                                        sh->v[i].msg);
        }
    }
    return NULL;
}

/* Signs the changed verdicts, spread over w->sign_threads threads (the
 * signer and the secp256k1 context are read-only, RAND_bytes is
 * thread-safe). */
static void
sign_all(watcher *w, verdict *v, size_t n)
{
    sign_share sh[8];
    pthread_t th[8];
    int started[8] = { 0 };
    size_t t, nt, changed = 0, i;

    for (i = 0; i < n; i++) changed += v[i].changed;
    nt = (size_t) w->sign_threads;
    if (nt > 8) nt = 8;
    if (changed < 32 || nt < 2) nt = 1;        /* a thread costs more than a few */
    for (t = 0; t < nt; t++) {
        sh[t].signer = &w->signer;
        sh[t].v = v;
        sh[t].n = n;
        sh[t].first = t;
        sh[t].step = nt;
    }
    for (t = 1; t < nt; t++) {
        started[t] = pthread_create(&th[t], NULL, sign_run, &sh[t]) == 0;
    }
    for (t = 0; t < nt; t++) {
        if (t == 0 || !started[t]) sign_run(&sh[t]);
    }
    for (t = 1; t < nt; t++) {
        if (started[t]) pthread_join(th[t], NULL);
    }
}

/* Appends the writes of one verdict; returns how many commands. */
static int
settle_write(watcher *w, const verdict *v)
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
        wlog("invoice %s: %s -> %s, %llu of %llu sats, %u of %u confirmations%s%s%s",
             v->idhex, bc_invoice_state_str(v->from), bc_invoice_state_str(s->state),
             (unsigned long long) s->received, (unsigned long long) v->amount, s->conf,
             v->required, s->over ? ", over-paid by " : "", s->over ? over_s : "",
             s->late ? ", late (after expiry, within the grace period)" : "");
    }
    if (v->revoke) {
        cmds += revoke_token(w, v->idhex, v->id);
    } else if (v->restore) {
        cmds += restore_token(w, v->idhex, v->id, v->max_downloads);
    }
    return cmds;
}

/* Appends one SADD or SREM of the ids whose drop flag is want. */
static int
append_open(watcher *w, const char *cmd, const verdict *v, size_t n, int want)
{
    const char *argv[SETTLE_BATCH + 2];
    char key[300];
    size_t i, k = 2;

    snprintf(key, sizeof(key), "%swatcher:open", w->prefix);
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
 * replies due to the caller's commands, read (and dropped) first. */
static int
settle_batches(watcher *w, const char *const *ids, size_t n, uint32_t tip, int from_open,
    long pending)
{
    verdict v[SETTLE_BATCH];
    redisReply *inv, *pay;
    uint64_t now = (uint64_t) time(NULL);
    size_t i, j, nb;
    long cmds;

    /* every read at once; the writes of each batch go out with the reads
     * of the next and their replies are read at the end: the ids are
     * distinct, so no read depends on an earlier batch's writes */
    for (i = 0; i < n; i++) {
        redisAppendCommand(w->rc, "HGETALL %sinv:%s", w->prefix, ids[i]);
        redisAppendCommand(w->rc, "HGETALL %spay:%s", w->prefix, ids[i]);
    }
    if (!drain(w, pending)) return 0;
    cmds = 0;
    for (i = 0; i < n; i += nb) {
        nb = n - i < SETTLE_BATCH ? n - i : SETTLE_BATCH;
        for (j = 0; j < nb; j++) {
            memset(&v[j], 0, sizeof(v[j]));
            v[j].idhex = ids[i + j];
            inv = pay = NULL;
            if (redisGetReply(w->rc, (void **) &inv) != REDIS_OK
                || redisGetReply(w->rc, (void **) &pay) != REDIS_OK)
            {
                wlog("redis: %s", w->rc->errstr);
                if (inv) freeReplyObject(inv);
                return 0;
            }
            settle_eval(w, &v[j], inv, pay, tip, now);
            cmds += v[j].reuse;
            freeReplyObject(inv);
            freeReplyObject(pay);
        }
        sign_all(w, v, nb);
        for (j = 0; j < nb; j++) {
            cmds += settle_write(w, &v[j]);
        }
        /* settled ones leave the open set (they may be there from the
         * mempool), the others join it */
        cmds += append_open(w, "SREM", v, nb, 1);
        if (!from_open) cmds += append_open(w, "SADD", v, nb, 0);
        w->settled += nb;
    }
    return drain(w, cmds);
}

int
settle_ids(watcher *w, char (*ids)[33], size_t n, uint32_t tip, long pending)
{
    const char **p;
    size_t i;
    int ok;

    if (n == 0) return drain(w, pending);
    if ((p = malloc(n * sizeof(*p))) == NULL) {
        wlog("out of memory");
        wbroken(w);
        return 0;
    }
    for (i = 0; i < n; i++) p[i] = ids[i];
    ok = settle_batches(w, p, n, tip, 0, pending);
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

    ids = wcmd(w, "SMEMBERS %swatcher:open", w->prefix);
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
    ok = settle_batches(w, p, ids->elements, tip, 1, 0);
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

    /* expired once now > expires (libbitcache/settle.c): scores below now */
    snprintf(now, sizeof(now), "%llu", (unsigned long long) time(NULL));
    ids = wcmd(w, "ZRANGEBYSCORE %swatcher:due -inf (%s LIMIT 0 %d", w->prefix, now,
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
    ok = settle_batches(w, p, ids->elements, tip, 0, 0);
    if (ok) {           /* evaluated once at expiry; the open set has the rest */
        char key[300];

        snprintf(key, sizeof(key), "%swatcher:due", w->prefix);
        memmove(p + 2, p, ids->elements * sizeof(*p));
        p[0] = "ZREM";
        p[1] = key;
        r = redisCommandArgv(w->rc, (int) ids->elements + 2, p, NULL);
        if (r == NULL) wlog("redis: %s", w->rc->errstr);
        else freeReplyObject(r);
        ok = r != NULL;
    }
    free(p);
    freeReplyObject(ids);
    return ok;
}
