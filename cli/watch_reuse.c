/* bitcache watch: gap-safe address reuse (see watch_reuse.h). Only the
 * expiry of a verified, never-paid invoice lists an index; nginx takes it
 * only once its time has come, and its SET spk: NX claim is what keeps two
 * live invoices off one address whatever this list says. */
#include <stdio.h>
#include <string.h>

#include "index_record.h"
#include "wallet.h"
#include "watch_reuse.h"

/* 1 if an HGETALL reply has the field (a token was once revoked: the
 * invoice was paid before a reorg took the payment away) */
static int
had_field(const redisReply *h, const char *name)
{
    size_t i, len = strlen(name);

    for (i = 0; h != NULL && h->type == REDIS_REPLY_ARRAY && i + 1 < h->elements; i += 2) {
        if (h->element[i]->len == len && memcmp(h->element[i]->str, name, len) == 0) {
            return 1;
        }
    }
    return 0;
}

int
watch_reuse_note(watcher *w, const char *idhex, const bc_invoice_record *rec,
    const bc_settlement *s, size_t np, const redisReply *inv, uint64_t now)
{
    char text[1100], wid[BC_WALLET_ID_HEX + 1], member[11], after[24];
    const char *err = NULL;
    uint64_t when;
    bc_wallet wal;
    int unpaid, touched;

    if (!w->have_keys) {
        return 0;               /* the MAC was not checked: list nothing */
    }
    unpaid = s->state == BC_STATE_EXPIRED && rec->state == BC_STATE_NEW && s->received == 0
             && np == 0 && !rec->has_payment && !had_field(inv, "token_revoked");
    touched = (np > 0 || s->received > 0) && now > rec->inv.expires;
    if (!unpaid && !touched) {
        return 0;
    }
    if (rec->inv.wallet_len >= sizeof(text)) {
        return 0;
    }
    memcpy(text, rec->inv.wallet, rec->inv.wallet_len);
    text[rec->inv.wallet_len] = '\0';
    if (!bc_wallet_parse(&wal, text, rec->inv.network, &err) || !bc_wallet_key_id(wid, &wal)) {
        wlog("invoice %s: its wallet does not parse (%s); its index is not reused", idhex,
             err ? err : "no id");
        return 0;
    }
    bc_reuse_member(member, rec->inv.index);
    if (touched) {
        /* a late payment: this address is the buyer's, never hand it out again */
        redisAppendCommand(w->rc, "ZREM %s" BC_KEY_REUSE "%s %s", w->prefix, wid, member);
        return 1;
    }
    when = bc_reuse_after(rec->inv.expires);
    snprintf(after, sizeof(after), "%llu", (unsigned long long) when);
    redisAppendCommand(w->rc, "ZADD %s" BC_KEY_REUSE "%s %s %s", w->prefix, wid, after, member);
    wlog("invoice %s: expired unpaid; index %u of wallet %s reusable from %llu", idhex,
         rec->inv.index, wid, (unsigned long long) when);
    return 1;
}
