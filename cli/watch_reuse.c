/* bitcache watch: gap-safe address reuse (see watch_reuse.h). Only the
 * expiry of a verified, never-paid invoice lists an index; nginx takes it
 * only once its time has come, and its SET spk: NX claim is what keeps two
 * live invoices off one address whatever this list says. */
#include <stdio.h>
#include <string.h>

#include "index_record.h"
#include "wallet.h"
#include "watch_log.h"
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

void
watch_reuse_decide(const char *idhex, const bc_invoice_record *rec,
    const bc_settlement *s, size_t np, const redisReply *inv, uint64_t now,
    watch_reuse *out)
{
    char text[1100];
    const char *err = NULL;
    bc_wallet wal;
    int unpaid, touched;

    out->op = 0;
    unpaid = s->state == BC_STATE_EXPIRED && rec->state == BC_STATE_NEW && s->received == 0
             && np == 0 && !rec->has_payment && !had_field(inv, "token_revoked");
    touched = (np > 0 || s->received > 0) && now > rec->inv.expires;
    if (!unpaid && !touched) {
        return;
    }
    if (rec->inv.wallet_len >= sizeof(text)) {
        return;
    }
    memcpy(text, rec->inv.wallet, rec->inv.wallet_len);
    text[rec->inv.wallet_len] = '\0';
    if (!bc_wallet_parse(&wal, text, rec->inv.network, &err)
        || !bc_wallet_key_id(out->wid, &wal))
    {
        wlog("invoice %s: its wallet does not parse (%s); its index is not reused", idhex,
             err ? err : "no id");
        return;
    }
    bc_reuse_member(out->member, rec->inv.index);
    if (touched) {
        out->op = 2;            /* a late payment: the buyer's address, never again */
        return;
    }
    out->op = 1;
    out->when = bc_reuse_after(rec->inv.expires);
    wlog("invoice %s: expired unpaid; index %u of wallet %s reusable from %llu", idhex,
         rec->inv.index, out->wid, (unsigned long long) out->when);
}

int
watch_reuse_append(watcher *w, const watch_reuse *r)
{
    char after[24];

    if (r->op == 2) {
        redisAppendCommand(w->rc, "ZREM %s" BC_KEY_REUSE "%s %s", w->prefix, r->wid,
                           r->member);
        return 1;
    }
    if (r->op == 1) {
        snprintf(after, sizeof(after), "%llu", (unsigned long long) r->when);
        redisAppendCommand(w->rc, "ZADD %s" BC_KEY_REUSE "%s %s %s", w->prefix, r->wid,
                           after, r->member);
        return 1;
    }
    return 0;
}
