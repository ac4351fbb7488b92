/* Top-ups (libbitcache/wallet_topup.c): the "wallet:<wid>" product, the
 * limits, wtop values, what a pending top-up counts, the credit (entry and
 * next state, both MAC'd) and the ledger check that keeps a credit from
 * being made twice or hidden. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hex.h"
#include "network.h"
#include "tap.h"
#include "wallet_topup.h"

static bc_keys keys;
static unsigned char wid[BC_WALLET_ID_LEN];

static void
setup(void)
{
    unsigned char k[32];
    size_t i;

    for (i = 0; i < 32; i++) {
        k[i] = (unsigned char) (7 * i);
    }
    bc_keys_derive(&keys, k, 32);
    for (i = 0; i < BC_WALLET_ID_LEN; i++) {
        wid[i] = (unsigned char) (0xc0 + i);
    }
}

static void
test_product(void)
{
    char p[BC_TOPUP_PRODUCT_LEN + 1], q[BC_TOPUP_PRODUCT_LEN + 1];
    unsigned char back[BC_WALLET_ID_LEN];

    bc_topup_product(p, wid);
    p[BC_TOPUP_PRODUCT_LEN] = '\0';
    is_str(p, "wallet:c0c1c2c3c4c5c6c7c8c9cacbcccdcecf", "the product names the wid");
    ok(bc_topup_product_wid(back, p, strlen(p)) && memcmp(back, wid, sizeof(wid)) == 0,
       "and is read back");
    memcpy(q, p, sizeof(q));
    q[10] = 'C';
    ok(!bc_topup_product_wid(back, q, strlen(q)), "upper case: not a top-up's product");
    ok(!bc_topup_product_wid(back, p, strlen(p) - 1), "a digit short: no");
    ok(!bc_topup_product_wid(back, "wallet:", 7), "the prefix alone: no");
    memcpy(q, p, sizeof(q));
    q[0] = 'W';
    ok(!bc_topup_product_wid(back, q, strlen(q)) && !bc_topup_reserved(q, strlen(q)),
       "Wallet: is not the prefix");
    memcpy(q, p, sizeof(q));
    q[20] = 'g';
    ok(!bc_topup_product_wid(back, q, strlen(q)), "a non-hex digit: no");
    ok(bc_topup_reserved("wallet:", 7) && bc_topup_reserved("wallet:/x", 9),
       "anything after wallet: is reserved");
    ok(!bc_topup_reserved("/wallet:x", 9) && !bc_topup_reserved("wallet", 6),
       "/wallet:x and wallet are not");
}

static void
test_allowed(void)
{
    char err[256];

    ok(bc_topup_allowed(1000, 1000, 5000, 10000, 0, 0, err, sizeof(err)) == BC_TOPUP_OK,
       "the minimum is allowed");
    ok(bc_topup_allowed(999, 1000, 5000, 10000, 0, 0, err, sizeof(err)) == BC_TOPUP_BELOW_MIN
       && strstr(err, "1000"), "below: refused (%s)", err);
    ok(bc_topup_allowed(5001, 1000, 5000, 10000, 0, 0, err, sizeof(err)) == BC_TOPUP_ABOVE_MAX
       && strstr(err, "5000"), "above the largest: refused (%s)", err);
    ok(bc_topup_allowed(5000, 1000, 5000, 10000, 3000, 2000, err, sizeof(err)) == BC_TOPUP_OK,
       "balance + pending + amount = max_balance: allowed");
    ok(bc_topup_allowed(5000, 1000, 5000, 10000, 3000, 2001, err, sizeof(err))
       == BC_TOPUP_OVER_BALANCE && strstr(err, "room for 4999"), "one sat more: 409 (%s)", err);
    ok(bc_topup_allowed(1000, 1000, 5000, 10000, 20000, 0, err, sizeof(err))
       == BC_TOPUP_OVER_BALANCE && strstr(err, "room for 0"), "a balance above the max: no room");
    ok(bc_topup_allowed(1000, 1000, 5000, UINT64_MAX, UINT64_MAX - 10, 20, err, sizeof(err))
       == BC_TOPUP_OVER_BALANCE, "no wrap-around near 2^64");
    ok(bc_topup_allowed(1000, 1000, 5000, 10000, 0, UINT64_MAX, err, sizeof(err))
       == BC_TOPUP_OVER_BALANCE, "pending at 2^64-1: no wrap-around");
}

static void
test_wtop(void)
{
    uint64_t seq = 99;

    ok(bc_topup_wtop_value(&seq, "0", 1) && seq == 0, "\"0\": pending");
    ok(bc_topup_wtop_value(&seq, "17", 2) && seq == 17, "\"17\": credited by entry 17");
    ok(bc_topup_wtop_value(&seq, "18446744073709551615", 20) && seq == UINT64_MAX, "2^64-1");
    ok(!bc_topup_wtop_value(&seq, "18446744073709551616", 20), "2^64: no");
    ok(!bc_topup_wtop_value(&seq, "05", 2), "a leading zero: no");
    ok(!bc_topup_wtop_value(&seq, "", 0), "empty: no");
    ok(!bc_topup_wtop_value(&seq, "-1", 2) && !bc_topup_wtop_value(&seq, " 1", 2)
       && !bc_topup_wtop_value(&seq, "1 ", 2), "sign, spaces: no");
}

static void
make_rec(bc_invoice_record *rec, unsigned char *spk, unsigned char idbyte,
    uint64_t amount, uint64_t received)
{
    memset(rec, 0, sizeof(*rec));
    memset(rec->inv.id, idbyte, BC_INVOICE_ID_LEN);
    rec->inv.network = BC_REGTEST;
    rec->inv.amount = amount;
    rec->inv.expires = 2000;
    memset(spk, 0x51, 22);
    spk[0] = 0x00;
    spk[1] = 0x14;
    rec->inv.spk = spk;
    rec->inv.spk_len = 22;
    rec->state = BC_STATE_PAID;
    rec->has_payment = 1;
    rec->received = received;
    rec->conf = 1;
    rec->paid_at = 1500;
    rec->has_att = 1;
    memset(rec->att, 0xab, 64);
}

static void
test_pending_amount(void)
{
    bc_invoice_record rec;
    unsigned char spk[34];

    make_rec(&rec, spk, 1, 1000, 1200);
    ok(bc_topup_pending_amount(&rec, 1000) == 1200, "paid, more received: what came");
    rec.state = BC_STATE_NEW;
    rec.has_payment = 0;
    ok(bc_topup_pending_amount(&rec, 1000) == 1000, "new: the amount");
    ok(bc_topup_pending_amount(&rec, 2001) == 0, "new, past its expiry: nothing");
    rec.state = BC_STATE_EXPIRED;
    ok(bc_topup_pending_amount(&rec, 1000) == 0, "expired: nothing");
    rec.state = BC_STATE_UNDERPAID;
    rec.has_payment = 1;
    rec.received = 10;
    ok(bc_topup_pending_amount(&rec, 3000) == 1000, "underpaid: the amount");
}

static void
test_credit_chain(void)
{
    char e1[BC_LEDGER_ENTRY_MAX], e2[BC_LEDGER_ENTRY_MAX], bad[BC_LEDGER_ENTRY_MAX];
    char err[128];
    const char *list[3];
    size_t lens[3], l1, l2;
    uint64_t seq = 0;
    unsigned char spk[34], spk2[34], other[BC_INVOICE_ID_LEN];
    bc_wallet_state s0, s1, s2, big;
    bc_invoice_record r1, r2;
    bc_ledger_entry e;
    unsigned char buf[BC_LEDGER_ENTRY_MAX];

    memset(&s0, 0, sizeof(s0));
    memcpy(s0.wid, wid, sizeof(wid));
    s0.network = BC_REGTEST;
    s0.created = 1000;
    bc_wallet_state_mac(s0.mac, &s0, &keys);

    ok(bc_ledger_chain_check(&s0, list, lens, 0, NULL, &seq, err, sizeof(err)) == BC_CHAIN_OK,
       "a new wallet: the empty ledger is its chain");

    make_rec(&r1, spk, 1, 1000, 1500);
    l1 = bc_topup_credit(e1, sizeof(e1), &s1, &s0, &r1, 1600, &keys);
    ok(l1 > 0, "a credit: %.*s", (int) (l1 > 60 ? 60 : l1), e1);
    ok(s1.seq == 1 && s1.balance == 1500, "seq 1, balance = received (1500)");
    ok(bc_wallet_state_ok(&s1, &keys), "the next state is MAC'd");
    ok(bc_ledger_entry_ok(e1, l1, wid, &keys), "the entry is MAC'd for this wallet");
    ok(bc_ledger_entry_parse(&e, buf, e1, l1, err, sizeof(err)) && e.kind == BC_ENTRY_CREDIT
       && e.amount == 1500 && e.received == 1500 && e.balance == 1500 && e.seq == 1
       && memcmp(e.invoice, r1.inv.id, BC_INVOICE_ID_LEN) == 0 && e.conf == 1
       && e.paid_at == 1500 && memcmp(e.att, r1.att, 64) == 0, "it carries the attestation");

    list[0] = e1;
    lens[0] = l1;
    ok(bc_ledger_chain_check(&s1, list, lens, 1, r1.inv.id, &seq, err, sizeof(err))
       == BC_CHAIN_CREDITED && seq == 1, "the ledger credits this invoice already");
    memset(other, 3, sizeof(other));
    ok(bc_ledger_chain_check(&s1, list, lens, 1, other, &seq, err, sizeof(err)) == BC_CHAIN_OK,
       "not another one");
    ok(bc_ledger_chain_check(&s1, list, lens, 0, other, &seq, err, sizeof(err))
       == BC_CHAIN_BROKEN, "the entry deleted: broken (%s)", err);
    ok(bc_ledger_chain_check(&s0, list, lens, 1, other, &seq, err, sizeof(err))
       == BC_CHAIN_BROKEN, "the state rolled back, the entry kept: broken");

    make_rec(&r2, spk2, 2, 2000, 2000);
    l2 = bc_topup_credit(e2, sizeof(e2), &s2, &s1, &r2, 1700, &keys);
    ok(l2 > 0 && s2.seq == 2 && s2.balance == 3500, "a second credit: 3500");
    list[1] = e2;
    lens[1] = l2;
    ok(bc_ledger_chain_check(&s2, list, lens, 2, other, &seq, err, sizeof(err)) == BC_CHAIN_OK,
       "two entries chained to the head (%s)", err);
    ok(bc_ledger_chain_check(&s2, list, lens, 2, r1.inv.id, &seq, err, sizeof(err))
       == BC_CHAIN_CREDITED && seq == 1, "the first one is found behind the second");
    list[0] = e2;
    list[1] = e1;
    lens[0] = l2;
    lens[1] = l1;
    ok(bc_ledger_chain_check(&s2, list, lens, 2, other, &seq, err, sizeof(err))
       == BC_CHAIN_BROKEN, "swapped: broken");

    /* an entry of the same length with the invoice id changed (MAC'd, but
     * the chain is what is checked here) */
    memcpy(bad, e1, l1);
    {
        char *p = strstr(bad, " 0101010101");
        if (p) {
            p[1] = '9';
        }
    }
    list[0] = bad;
    lens[0] = l1;
    list[1] = e2;
    lens[1] = l2;
    ok(bc_ledger_chain_check(&s2, list, lens, 2, r1.inv.id, &seq, err, sizeof(err))
       == BC_CHAIN_BROKEN, "the first credit rewritten to hide it: broken (%s)", err);
    list[0] = "garbage";
    lens[0] = 7;
    ok(bc_ledger_chain_check(&s2, list, lens, 2, other, &seq, err, sizeof(err))
       == BC_CHAIN_BROKEN, "garbage: broken");

    big = s0;
    big.balance = UINT64_MAX - 10;
    bc_wallet_state_mac(big.mac, &big, &keys);
    ok(bc_topup_credit(e1, sizeof(e1), &s1, &big, &r1, 1600, &keys) == 0,
       "a balance that would wrap: no credit");
    r1.has_att = 0;
    ok(bc_topup_credit(e1, sizeof(e1), &s1, &s0, &r1, 1600, &keys) == 0,
       "no attestation: no credit");
}

int
main(void)
{
    setup();
    test_product();
    test_allowed();
    test_wtop();
    test_pending_amount();
    test_credit_chain();
    return done_testing();
}
