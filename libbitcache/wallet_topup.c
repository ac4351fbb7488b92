#include <stdio.h>
#include <string.h>

#include "hex.h"
#include "wallet_topup.h"

void
bc_topup_product(char out[BC_TOPUP_PRODUCT_LEN + 1],
    const unsigned char wid[BC_WALLET_ID_LEN])
{
    memcpy(out, BC_WALLET_TOPUP_PREFIX, BC_TOPUP_PREFIX_LEN);
    bc_hex_encode(out + BC_TOPUP_PREFIX_LEN, wid, BC_WALLET_ID_LEN);
}

int
bc_topup_reserved(const char *product, size_t len)
{
    return len >= BC_TOPUP_PREFIX_LEN
           && memcmp(product, BC_WALLET_TOPUP_PREFIX, BC_TOPUP_PREFIX_LEN) == 0;
}

int
bc_topup_product_wid(unsigned char wid[BC_WALLET_ID_LEN], const char *product,
    size_t len)
{
    size_t i;

    if (len != BC_TOPUP_PRODUCT_LEN || !bc_topup_reserved(product, len)) {
        return 0;
    }
    /* lower case only: one product string per wallet */
    for (i = BC_TOPUP_PREFIX_LEN; i < len; i++) {
        if (!((product[i] >= '0' && product[i] <= '9')
              || (product[i] >= 'a' && product[i] <= 'f')))
        {
            return 0;
        }
    }
    return bc_hex_decode(wid, BC_WALLET_ID_LEN, product + BC_TOPUP_PREFIX_LEN,
                         2 * BC_WALLET_ID_LEN);
}

bc_topup_verdict
bc_topup_allowed(uint64_t amount, uint64_t min, uint64_t max,
    uint64_t max_balance, uint64_t balance, uint64_t pending, char *err,
    size_t errlen)
{
    uint64_t room;

    if (amount < min) {
        snprintf(err, errlen, "the smallest top-up is %llu sats",
                 (unsigned long long) min);
        return BC_TOPUP_BELOW_MIN;
    }
    if (amount > max) {
        snprintf(err, errlen, "the largest top-up is %llu sats",
                 (unsigned long long) max);
        return BC_TOPUP_ABOVE_MAX;
    }
    /* in this order, none of them can wrap */
    room = balance <= max_balance && pending <= max_balance - balance
           ? max_balance - balance - pending : 0;
    if (amount > room) {
        snprintf(err, errlen, "a wallet holds at most %llu sats: the balance "
                 "(%llu) and unpaid top-ups (%llu) leave room for %llu",
                 (unsigned long long) max_balance, (unsigned long long) balance,
                 (unsigned long long) pending, (unsigned long long) room);
        return BC_TOPUP_OVER_BALANCE;
    }
    snprintf(err, errlen, "ok");
    return BC_TOPUP_OK;
}

int
bc_topup_wtop_value(uint64_t *seq, const char *s, size_t len)
{
    if (len == 0 || len > 20 || (s[0] == '0' && len > 1)) {
        return 0;
    }
    return bc_parse_uint_n(seq, s, len, UINT64_MAX);
}

uint64_t
bc_topup_pending_amount(const bc_invoice_record *rec, uint64_t now)
{
    uint64_t amount = rec->inv.amount;

    if (rec->has_payment && rec->received > amount) {
        amount = rec->received;
    }
    switch (rec->state) {
    case BC_STATE_NEW:
        return now > rec->inv.expires ? 0 : amount;
    case BC_STATE_EXPIRED:
        return 0;
    default:                /* seen, underpaid, paid: money is coming */
        return amount;
    }
}

bc_chain_verdict
bc_ledger_chain_check(const bc_wallet_state *s, const char *const *e,
    const size_t *elen, size_t n, const unsigned char *invoice, uint64_t *seq,
    char *err, size_t errlen)
{
    static const unsigned char zero[32];
    unsigned char buf[BC_LEDGER_ENTRY_MAX], prev[32];
    char why[128];
    bc_ledger_entry entry;
    size_t i;

    if ((uint64_t) n != s->seq) {
        snprintf(err, errlen, "the ledger has %zu entries, the state %llu", n,
                 (unsigned long long) s->seq);
        return BC_CHAIN_BROKEN;
    }
    memcpy(prev, zero, 32);
    for (i = 0; i < n; i++) {
        if (elen[i] >= sizeof(buf)
            || !bc_ledger_entry_parse(&entry, buf, e[i], elen[i], why, sizeof(why)))
        {
            snprintf(err, errlen, "entry %zu does not parse", i + 1);
            return BC_CHAIN_BROKEN;
        }
        if (entry.seq != (uint64_t) i + 1 || memcmp(entry.prev, prev, 32) != 0) {
            snprintf(err, errlen, "entry %zu is not chained to the one before", i + 1);
            return BC_CHAIN_BROKEN;
        }
        if (!bc_ledger_entry_hash(prev, e[i], elen[i])) {
            snprintf(err, errlen, "cannot hash entry %zu", i + 1);
            return BC_CHAIN_BROKEN;
        }
        if (invoice != NULL && entry.kind == BC_ENTRY_CREDIT
            && memcmp(entry.invoice, invoice, BC_INVOICE_ID_LEN) == 0)
        {
            /* the rest of the chain is not checked: it credits nothing */
            *seq = entry.seq;
            snprintf(err, errlen, "entry %llu credits it", (unsigned long long) entry.seq);
            return BC_CHAIN_CREDITED;
        }
    }
    if (memcmp(prev, s->head, 32) != 0) {
        snprintf(err, errlen, "the last entry is not the state's head");
        return BC_CHAIN_BROKEN;
    }
    snprintf(err, errlen, "ok");
    return BC_CHAIN_OK;
}

size_t
bc_topup_credit(char *out, size_t outlen, bc_wallet_state *next,
    const bc_wallet_state *cur, const bc_invoice_record *rec, uint64_t now,
    const bc_keys *keys)
{
    bc_ledger_entry e;
    size_t len;

    if (!rec->has_payment || !rec->has_att || rec->received == 0
        || rec->received > UINT64_MAX - cur->balance
        || cur->seq == UINT64_MAX || rec->inv.spk_len > BC_SPK_MAX)
    {
        return 0;
    }
    memset(&e, 0, sizeof(e));
    e.kind = BC_ENTRY_CREDIT;
    e.seq = cur->seq + 1;
    e.amount = rec->received;
    e.balance = cur->balance + rec->received;
    e.time = now;
    memcpy(e.prev, cur->head, 32);
    memcpy(e.invoice, rec->inv.id, BC_INVOICE_ID_LEN);
    e.network = rec->inv.network;
    e.received = rec->received;
    e.conf = rec->conf;
    e.paid_at = rec->paid_at;
    memcpy(e.spk, rec->inv.spk, rec->inv.spk_len);
    e.spk_len = rec->inv.spk_len;
    memcpy(e.att, rec->att, 64);

    len = bc_ledger_entry_encode(out, outlen, &e, cur->wid, keys);
    if (len == 0) {
        return 0;
    }
    *next = *cur;
    next->seq = e.seq;
    next->balance = e.balance;
    next->frozen = NULL;
    next->frozen_len = 0;
    if (!bc_ledger_entry_hash(next->head, out, len)
        || !bc_wallet_state_mac(next->mac, next, keys))
    {
        return 0;
    }
    return len;
}
