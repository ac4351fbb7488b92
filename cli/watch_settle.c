/* bitcache watch: invoices. Payments live in pay:<id> (field txid:vout =
 * "value height", txid:vout:seen = unix time first seen), so that a block
 * read twice counts nothing twice. Each state change is written to inv:<id>
 * with the BIP340 attestation of docs/protocol.md and published on the
 * events channel; a paid invoice whose payment left the chain loses its
 * token. */
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
    const bc_invoice_record *rec)
{
    unsigned char tid[16];
    char thex[33], left[24];

    if (!w->have_keys || !bc_invoice_token_id(tid, id, &w->keys)) {
        return 0;
    }
    bc_hex_encode(thex, tid, 16);
    snprintf(left, sizeof(left), "%lld", bc_record_initial_left(rec->inv.max_downloads));
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

/* Evaluates one invoice; appends its writes to the pipeline and returns
 * how many. */
static int
settle_one(watcher *w, const char *idhex, const redisReply *inv, const redisReply *pay,
    uint32_t tip, uint64_t now, int *drop)
{
    const char *kv[128];
    size_t kvlen[128], i, n, np;
    char err[BC_INVOICE_WHY_MAX], sighex[129];
    char recv_s[24], conf_s[24], paid_s[24], over_s[24];
    unsigned char id[16], msg[32], sig[64];
    bc_payment p[MAX_PAYMENTS];
    bc_invoice_record rec;
    bc_settlement s;
    uint64_t paid_at;
    const char *why;
    int cmds = 0, changed;

    *drop = 0;
    if (strlen(idhex) != 32 || !bc_hex_decode(id, 16, idhex, 32)) {
        *drop = 1;
        return 0;
    }
    if (inv->type != REDIS_REPLY_ARRAY || inv->elements == 0) {
        wlog("invoice %s: gone (expired); no longer watched", idhex);
        *drop = 1;
        return 0;
    }
    n = inv->elements < 128 ? inv->elements : 128;
    for (i = 0; i < n; i++) {
        kv[i] = inv->element[i]->str;
        kvlen[i] = inv->element[i]->len;
    }
    why = NULL;
    if (!bc_invoice_record_parse(&rec, id, kv, kvlen, n, err, sizeof(err))) {
        why = err;
    } else if (w->have_keys && !bc_invoice_record_mac_ok(&rec, &w->keys)) {
        why = "its MAC does not verify";
    } else if (w->have_net && rec.inv.network != (uint8_t) w->net) {
        why = "it is for another network";
    }
    if (why) {
        wlog("invoice %s: %s; ignored", idhex, why);
        *drop = 1;
        return 0;
    }
    np = payments_parse(pay, p, MAX_PAYMENTS);
    bc_settle(&s, p, np, rec.inv.amount, rec.inv.confirmations, tip, now, rec.inv.expires);

    if (s.state == BC_STATE_PAID) {
        paid_at = rec.state == BC_STATE_PAID && rec.has_payment && rec.paid_at ? rec.paid_at
                  : now;
        if (rec.state == BC_STATE_PAID && rec.has_payment && rec.received == s.received) {
            s.conf = rec.conf;      /* settled: no re-signing on every block */
        }
    } else {
        paid_at = 0;
    }
    changed = s.state != rec.state || !rec.has_payment || rec.received != s.received
              || rec.conf != s.conf || rec.paid_at != paid_at;
    if (changed) {
        if (!bc_payment_msg(msg, id, rec.spk, rec.inv.spk_len, s.received, s.conf, paid_at)
            || !bc_schnorr_signer_sign(&w->signer, sig, msg))
        {
            wlog("invoice %s: cannot sign the attestation", idhex);
            return 0;
        }
        bc_hex_encode(sighex, sig, 64);
        snprintf(recv_s, sizeof(recv_s), "%llu", (unsigned long long) s.received);
        snprintf(conf_s, sizeof(conf_s), "%u", s.conf);
        snprintf(paid_s, sizeof(paid_s), "%llu", (unsigned long long) paid_at);
        snprintf(over_s, sizeof(over_s), "%llu", (unsigned long long) s.over);
        redisAppendCommand(w->rc, "HSET %sinv:%s state %s received %s conf %s paid_at %s "
                           "att %s over %s late %d", w->prefix, idhex,
                           bc_invoice_state_str(s.state), recv_s, conf_s, paid_s, sighex,
                           over_s, s.late);
        redisAppendCommand(w->rc, "PUBLISH %sevents %s", w->prefix, idhex);
        cmds += 2;
        wlog("invoice %s: %s -> %s, %llu of %llu sats, %u of %u confirmations%s%s%s",
             idhex, bc_invoice_state_str(rec.state), bc_invoice_state_str(s.state),
             (unsigned long long) s.received, (unsigned long long) rec.inv.amount, s.conf,
             rec.inv.confirmations, s.over ? ", over-paid by " : "", s.over ? over_s : "",
             s.late ? ", late (after expiry, within the grace period)" : "");
    }
    if (rec.state == BC_STATE_PAID && s.state != BC_STATE_PAID) {
        cmds += revoke_token(w, idhex, id);
    } else if (s.state == BC_STATE_PAID && rec.state != BC_STATE_PAID
               && has_field(inv, "token_revoked"))
    {
        cmds += restore_token(w, idhex, id, &rec);
    }
    /* watched until settled, or until no late payment can count any more */
    if (s.state == BC_STATE_PAID || s.state == BC_STATE_NEW
        || now > rec.inv.expires + WATCH_GRACE)
    {
        *drop = 1;
    }
    return cmds;
}

int
settle_open(watcher *w, uint32_t tip)
{
    redisReply *ids, *inv, *pay, *r;
    size_t i, j, nb, ndrop;
    uint64_t now = (uint64_t) time(NULL);
    const char *dargv[SETTLE_BATCH + 2];
    char dkey[300];
    long cmds;
    int ok = 1, drop;

    ids = wcmd(w, "SMEMBERS %swatcher:open", w->prefix);
    if (ids == NULL || ids->type != REDIS_REPLY_ARRAY) {
        if (ids) freeReplyObject(ids);
        return 0;
    }
    for (i = 0; ok && i < ids->elements; i += nb) {
        nb = ids->elements - i < SETTLE_BATCH ? ids->elements - i : SETTLE_BATCH;
        for (j = 0; j < nb; j++) {
            redisAppendCommand(w->rc, "HGETALL %sinv:%s", w->prefix, ids->element[i + j]->str);
            redisAppendCommand(w->rc, "HGETALL %spay:%s", w->prefix, ids->element[i + j]->str);
        }
        cmds = 0;
        ndrop = 0;
        snprintf(dkey, sizeof(dkey), "%swatcher:open", w->prefix);
        dargv[ndrop++] = "SREM";
        dargv[ndrop++] = dkey;
        for (j = 0; j < nb; j++) {
            inv = pay = NULL;
            if (redisGetReply(w->rc, (void **) &inv) != REDIS_OK
                || redisGetReply(w->rc, (void **) &pay) != REDIS_OK)
            {
                wlog("redis: %s", w->rc->errstr);
                if (inv) freeReplyObject(inv);
                freeReplyObject(ids);
                return 0;
            }
            /* the writes queue behind the remaining reads */
            cmds += settle_one(w, ids->element[i + j]->str, inv, pay, tip, now, &drop);
            if (drop) dargv[ndrop++] = ids->element[i + j]->str;
            freeReplyObject(inv);
            freeReplyObject(pay);
        }
        if (ndrop > 2) {       /* settled, gone or ignored: one SREM for all */
            redisAppendCommandArgv(w->rc, (int) ndrop, dargv, NULL);
            cmds++;
        }
        for (; cmds > 0; cmds--) {
            if (redisGetReply(w->rc, (void **) &r) != REDIS_OK) {
                wlog("redis: %s", w->rc->errstr);
                ok = 0;
                break;
            }
            if (r->type == REDIS_REPLY_ERROR) wlog("redis: %s", r->str);
            freeReplyObject(r);
        }
    }
    w->settled = ids->elements;
    freeReplyObject(ids);
    return ok;
}
