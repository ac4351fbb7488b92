/* The wallet's records (libbitcache/wallet_code.c, wallet_record.c): the
 * recovery code and wallet id, the state's argv, parser and MAC, ledger
 * entries (text, MAC, hash, chain, attestation), ownership values and
 * idempotency keys; every field malformed and every MAC'd field changed. */
#include <stdio.h>
#include <string.h>

#include "hex.h"
#include "invoice.h"
#include "network.h"
#include "schnorr.h"
#include "tap.h"
#include "wallet_record.h"

static bc_keys keys, other_keys;
static unsigned char secret[BC_WALLET_SECRET_LEN];
static unsigned char wid[BC_WALLET_ID_LEN];
static unsigned char watcher_sk[32], watcher_pk[32];

static void
setup(void)
{
    unsigned char k[32];
    size_t i;

    for (i = 0; i < 32; i++) {
        k[i] = (unsigned char) i;
    }
    bc_keys_derive(&keys, k, 32);
    k[0] ^= 1;
    bc_keys_derive(&other_keys, k, 32);
    for (i = 0; i < BC_WALLET_SECRET_LEN; i++) {
        secret[i] = (unsigned char) (0xa0 + i);
    }
    bc_wallet_id_of(wid, secret);
    memset(watcher_sk, 0x42, 32);
    bc_xonly_from_seckey(watcher_pk, watcher_sk);
}

/* ---- the code ---- */

static void
test_code(void)
{
    char code[BC_WALLET_CODE_CHARS + 1], typed[160], err[128];
    unsigned char back[BC_WALLET_SECRET_LEN], fresh[BC_WALLET_SECRET_LEN];
    size_t i, j;

    bc_wallet_code_encode(code, secret);
    ok(strlen(code) == BC_WALLET_CODE_CHARS && memcmp(code, "bcw1", 4) == 0,
       "code: 42 characters, bcw1...");
    ok(bc_wallet_code_decode(back, code, strlen(code), err, sizeof(err))
       && memcmp(back, secret, sizeof(secret)) == 0, "code decodes to the secret");

    /* as typed: upper case, groups, dashes, tabs */
    for (i = 0, j = 0; code[i]; i++) {
        if (i > 0 && i % 6 == 0) {
            typed[j++] = i % 12 == 0 ? ' ' : '-';
        }
        typed[j++] = (char) (code[i] >= 'a' && code[i] <= 'z' ? code[i] - 32 : code[i]);
    }
    typed[j++] = '\t';
    typed[j] = '\0';
    memset(back, 0, sizeof(back));
    ok(bc_wallet_code_decode(back, typed, strlen(typed), err, sizeof(err))
       && memcmp(back, secret, sizeof(secret)) == 0, "typed code (upper case, '-', ' ')");

    /* every single-character typo is caught by the checksum */
    int caught = 1;
    for (i = 4; i < BC_WALLET_CODE_CHARS; i++) {
        char t[BC_WALLET_CODE_CHARS + 1];

        memcpy(t, code, sizeof(t));
        t[i] = t[i] == 'q' ? 'p' : 'q';
        if (bc_wallet_code_decode(back, t, strlen(t), err, sizeof(err))
            || strstr(err, "typos") == NULL)
        {
            caught = 0;
            diag("typo at %zu not caught: %s", i, err);
        }
    }
    ok(caught, "a typo anywhere: \"check it for typos\"");

    /* swapped neighbours */
    {
        char t[BC_WALLET_CODE_CHARS + 1];

        memcpy(t, code, sizeof(t));
        for (i = 5; i < BC_WALLET_CODE_CHARS && t[i] == t[i + 1]; i++) { /* void */ }
        t[i] = code[i + 1];
        t[i + 1] = code[i];
        ok(!bc_wallet_code_decode(back, t, strlen(t), err, sizeof(err)),
           "swapped characters refused");
    }

    static const char *const bad[] = {
        "", "   ", "bcw1", "bc1qqqqqq", "bcx1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq",
        "bcw1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq",   /* 44 */
        "bcw1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq",     /* 42, bad checksum */
        "bcw1bqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq",     /* 'b' not in charset */
        "bcw1\xc3\xa9qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq",
    };
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        ok(!bc_wallet_code_decode(back, bad[i], strlen(bad[i]), err, sizeof(err))
           && err[0] != '\0', "refused: \"%s\" (%s)", bad[i], err);
    }
    memset(typed, ' ', 129);
    ok(!bc_wallet_code_decode(back, typed, 129, err, sizeof(err)), "input over 128 bytes");

    ok(bc_wallet_secret_new(fresh) && memcmp(fresh, secret, sizeof(fresh)) != 0,
       "a fresh secret");
}

static void
test_wid(void)
{
    unsigned char w2[BC_WALLET_ID_LEN], s2[BC_WALLET_SECRET_LEN];

    memcpy(s2, secret, sizeof(s2));
    ok(bc_wallet_id_of(w2, s2) && memcmp(w2, wid, sizeof(w2)) == 0, "wid is a function");
    s2[19] ^= 1;
    ok(bc_wallet_id_of(w2, s2) && memcmp(w2, wid, sizeof(w2)) != 0, "another secret, another wid");
}

/* ---- the state ---- */

static void
sample_state(bc_wallet_state *s)
{
    memset(s, 0, sizeof(*s));
    memcpy(s->wid, wid, sizeof(wid));
    s->network = BC_REGTEST;
    s->created = 1764547200;
    s->seq = 2;
    s->balance = 49000;
    memset(s->head, 0x5a, 32);
    s->max_auto = 500;
    bc_wallet_state_mac(s->mac, s, &keys);
}

static int
parse_argv(bc_wallet_state *out, const bc_wallet_state_argv *w, char *err, size_t errlen)
{
    return bc_wallet_state_parse(out, wid, w->argv, w->argvlen, 16, err, errlen);
}

static void
test_state(void)
{
    bc_wallet_state s, p, t;
    bc_wallet_state_argv w;
    char err[128];
    size_t i;

    sample_state(&s);
    ok(bc_wallet_state_ok(&s, &keys), "state MAC verifies");
    ok(!bc_wallet_state_ok(&s, &other_keys), "not under another key");
    bc_wallet_state_argv_make(&w, &s);
    ok(w.argvlen[0] == 1 && strcmp(w.argv[0], "v") == 0 && strcmp(w.argv[1], "1") == 0
       && strcmp(w.argv[14], "mac") == 0 && w.argvlen[15] == 64, "argv: v 1 ... mac <hex>");
    ok(parse_argv(&p, &w, err, sizeof(err)), "argv parses back (%s)", err);
    ok(p.seq == 2 && p.balance == 49000 && p.max_auto == 500 && p.network == BC_REGTEST
       && p.created == s.created && memcmp(p.head, s.head, 32) == 0
       && memcmp(p.mac, s.mac, 32) == 0 && p.frozen == NULL, "every field back");
    ok(bc_wallet_state_ok(&p, &keys), "parsed state verifies");

    /* each MAC'd field changed: the MAC fails */
    for (i = 0; i < 7; i++) {
        t = s;
        switch (i) {
        case 0: t.wid[0] ^= 1; break;
        case 1: t.network = BC_MAINNET; break;
        case 2: t.created++; break;
        case 3: t.seq++; break;
        case 4: t.balance++; break;
        case 5: t.head[31] ^= 1; break;
        case 6: t.max_auto++; break;
        }
        ok(!bc_wallet_state_ok(&t, &keys), "state field %zu changed: MAC fails", i);
    }

    /* frozen is read, and does not change the MAC */
    {
        const char *kv[18];
        size_t kl[18];

        memcpy(kv, w.argv, sizeof(w.argv));
        memcpy(kl, w.argvlen, sizeof(w.argvlen));
        kv[16] = "frozen";
        kl[16] = 6;
        kv[17] = "audit: chain broken at 3";
        kl[17] = strlen(kv[17]);
        ok(bc_wallet_state_parse(&p, wid, kv, kl, 18, err, sizeof(err))
           && p.frozen_len == kl[17] && memcmp(p.frozen, kv[17], kl[17]) == 0
           && bc_wallet_state_ok(&p, &keys), "frozen read, MAC unchanged");
    }

    ok(!bc_wallet_state_parse(&p, wid, NULL, NULL, 0, err, sizeof(err))
       && strcmp(err, "no such wallet") == 0, "empty HGETALL: no such wallet");
}

/* ---- the ledger ---- */

static void
sample_credit(bc_ledger_entry *e)
{
    unsigned char msg[32];
    size_t i;

    memset(e, 0, sizeof(*e));
    e->kind = BC_ENTRY_CREDIT;
    e->seq = 1;
    e->amount = e->received = 50000;
    e->balance = 50000;
    e->time = 1764547300;
    for (i = 0; i < BC_INVOICE_ID_LEN; i++) {
        e->invoice[i] = (unsigned char) (0x10 + i);
    }
    e->network = BC_REGTEST;
    e->conf = 1;
    e->paid_at = 1764547290;
    e->spk[0] = 0x00;
    e->spk[1] = 0x14;
    memset(e->spk + 2, 0x77, 20);
    e->spk_len = 22;
    bc_payment_msg(msg, bc_network_genesis(e->network), e->invoice, e->spk, e->spk_len,
                   e->received, e->conf, e->paid_at);
    bc_schnorr_sign(e->att, msg, watcher_sk, (const unsigned char *) "0123456789abcdef0123456789abcdef");
}

static void
sample_debit(bc_ledger_entry *e, const unsigned char prev[32])
{
    size_t i;

    memset(e, 0, sizeof(*e));
    e->kind = BC_ENTRY_DEBIT;
    e->seq = 2;
    e->amount = 1000;
    e->balance = 49000;
    e->time = 1764547400;
    memcpy(e->prev, prev, 32);
    for (i = 0; i < 16; i++) {
        e->purchase[i] = (unsigned char) (0xc0 + i);
    }
    e->uses = 3;
    e->expires = 1764633800;
    e->product = "/files/book.pdf";
    e->product_len = strlen(e->product);
    e->seller = "tpubD6NzVbkrYhZ4XgiXtGrdW5XDAPFCL9h7we1vwNCpn8tGbBcgfVYjXyhnbjk";
    e->seller_len = strlen(e->seller);
}

static void
test_entries(void)
{
    bc_ledger_entry c, d, p;
    char text1[BC_LEDGER_ENTRY_MAX], text2[BC_LEDGER_ENTRY_MAX], t[BC_LEDGER_ENTRY_MAX],
         err[128];
    unsigned char buf[BC_LEDGER_ENTRY_MAX], h1[32], h2[32];
    size_t n1, n2, i;

    sample_credit(&c);
    n1 = bc_ledger_entry_encode(text1, sizeof(text1), &c, wid, &keys);
    ok(n1 > 0 && n1 == strlen(text1) && memcmp(text1, "w1 1 credit 50000 50000 ", 24) == 0,
       "credit text: %s", text1);
    ok(bc_ledger_entry_ok(text1, n1, wid, &keys), "credit MAC verifies");
    ok(!bc_ledger_entry_ok(text1, n1, wid, &other_keys), "not under another key");
    {
        unsigned char w2[BC_WALLET_ID_LEN];

        memcpy(w2, wid, sizeof(w2));
        w2[0] ^= 1;
        ok(!bc_ledger_entry_ok(text1, n1, w2, &keys), "not for another wallet");
    }
    ok(bc_ledger_entry_parse(&p, buf, text1, n1, err, sizeof(err)), "credit parses (%s)", err);
    ok(p.kind == BC_ENTRY_CREDIT && p.seq == 1 && p.amount == 50000 && p.received == 50000
       && p.network == BC_REGTEST && p.conf == 1 && p.paid_at == c.paid_at
       && p.spk_len == 22 && memcmp(p.spk, c.spk, 22) == 0
       && memcmp(p.att, c.att, 64) == 0 && memcmp(p.invoice, c.invoice, 16) == 0
       && memcmp(p.mac, c.mac, 32) == 0, "credit: every field back");
    ok(bc_ledger_credit_att_ok(&p, watcher_pk), "credit attestation verifies");
    p.received++;
    ok(!bc_ledger_credit_att_ok(&p, watcher_pk), "another amount received: attestation fails");
    p.received--;
    p.network = BC_MAINNET;
    ok(!bc_ledger_credit_att_ok(&p, watcher_pk), "another network: attestation fails");

    ok(bc_ledger_entry_hash(h1, text1, n1), "hash of entry 1");
    sample_debit(&d, h1);
    n2 = bc_ledger_entry_encode(text2, sizeof(text2), &d, wid, &keys);
    ok(n2 > 0 && memcmp(text2, "w1 2 debit 1000 49000 ", 22) == 0, "debit text: %s", text2);
    ok(bc_ledger_entry_ok(text2, n2, wid, &keys), "debit MAC verifies");
    ok(bc_ledger_entry_parse(&p, buf, text2, n2, err, sizeof(err))
       && p.kind == BC_ENTRY_DEBIT && p.seq == 2 && p.uses == 3 && p.expires == d.expires
       && p.product_len == d.product_len && memcmp(p.product, d.product, d.product_len) == 0
       && p.seller_len == d.seller_len && memcmp(p.seller, d.seller, d.seller_len) == 0
       && memcmp(p.prev, h1, 32) == 0 && memcmp(p.purchase, d.purchase, 16) == 0,
       "debit: every field back, prev = hash of entry 1");
    ok(!bc_ledger_credit_att_ok(&p, watcher_pk), "a debit has no attestation");
    ok(bc_ledger_entry_hash(h2, text2, n2) && memcmp(h1, h2, 32) != 0, "hash of entry 2");

    /* any byte of the text changed: the MAC fails */
    int all = 1;
    for (i = 0; i < n2; i++) {
        memcpy(t, text2, n2);
        t[i] ^= 0x01;
        if (bc_ledger_entry_ok(t, n2, wid, &keys)) {
            all = 0;
            diag("byte %zu changed, MAC still verifies", i);
        }
    }
    ok(all, "every byte of a debit is under its MAC");

    ok(bc_ledger_entry_encode(t, n2, &d, wid, &keys) == 0, "encode: no room, 0");
    d.product_len = 0;
    ok(bc_ledger_entry_encode(t, sizeof(t), &d, wid, &keys) == 0, "encode: empty product, 0");
    c.received = 1;
    ok(bc_ledger_entry_encode(t, sizeof(t), &c, wid, &keys) == 0,
       "encode: credit amount != received, 0");
}

/* ---- ownership ---- */

static void
test_owned(void)
{
    bc_wallet_owned o, p;
    char v[BC_OWNED_MAX], err[128];
    const char *prod = "/files/book.pdf";
    size_t n, i;

    memset(&o, 0, sizeof(o));
    memset(o.purchase, 0xc0, 16);
    o.uses = 3;
    o.expires = 1764633800;
    o.seq = 2;
    n = bc_wallet_owned_encode(v, &o, wid, prod, strlen(prod), &keys);
    ok(n > 0 && n == strlen(v), "ownership: %s", v);
    ok(bc_wallet_owned_parse(&p, v, n, wid, prod, strlen(prod), &keys, err, sizeof(err))
       && p.uses == 3 && p.expires == o.expires && p.seq == 2
       && memcmp(p.purchase, o.purchase, 16) == 0, "ownership parses and verifies");
    ok(!bc_wallet_owned_parse(&p, v, n, wid, "/files/other.pdf", 16, &keys, err, sizeof(err))
       && strstr(err, "MAC") != NULL, "not for another product");
    ok(!bc_wallet_owned_parse(&p, v, n, wid, prod, strlen(prod), &other_keys, err, sizeof(err)),
       "not under another key");
    int all = 1;
    for (i = 0; i < n; i++) {
        char t[BC_OWNED_MAX];

        memcpy(t, v, n);
        t[i] ^= 0x01;
        if (bc_wallet_owned_parse(&p, t, n, wid, prod, strlen(prod), &keys, err, sizeof(err))) {
            all = 0;
        }
    }
    ok(all, "every byte of an ownership value is checked");
}

static void
test_idem(void)
{
    char k[66];

    ok(bc_wallet_idem_ok("a", 1) && bc_wallet_idem_ok("Ab-_9", 5), "idempotency keys");
    memset(k, 'x', 65);
    ok(bc_wallet_idem_ok(k, 64) && !bc_wallet_idem_ok(k, 65), "64, not 65");
    ok(!bc_wallet_idem_ok("", 0) && !bc_wallet_idem_ok("a b", 3) && !bc_wallet_idem_ok("a:b", 3)
       && !bc_wallet_idem_ok("a\0b", 3) && !bc_wallet_idem_ok("\xc3\xa9", 2), "refused keys");
}

int
main(void)
{
    setup();
    test_code();
    test_wid();
    test_state();
    test_entries();
    test_owned();
    test_idem();
    return done_testing();
}
