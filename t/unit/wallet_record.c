/* The wallet's records (libbitcache/wallet_code.c, wallet_record.c): the
 * recovery code and wallet id, the state's argv, parser and MAC, ledger
 * entries (text, MAC, hash, chain, attestation), ownership values and
 * idempotency keys; every field malformed and every MAC'd field changed. */
#include <stdio.h>
#include <stdlib.h>
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

/* every field of the state missing or misspelt: refused */
static void
test_state_fields(void)
{
    static const char *const common[] = {
        "", "x", "-1", "+1", " 1", "1 ", "01", "18446744073709551616", "1.0",
    };
    static const char *const special[8][4] = {
        { "0", "2", "1\n", NULL },                              /* v */
        { "4", "255", "03", NULL },                              /* net */
        { NULL },                                                /* created */
        { NULL },                                                /* seq */
        { "2100000000000001", NULL },                            /* bal */
        { "5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A",
          "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5",
          "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a", NULL },
        { "2100000000000001", NULL },                            /* auto */
        { "g000000000000000000000000000000000000000000000000000000000000000", NULL },
    };
    bc_wallet_state s, p;
    bc_wallet_state_argv w;
    const char *kv[16];
    size_t kl[16], f, i;
    char err[128];

    sample_state(&s);
    bc_wallet_state_argv_make(&w, &s);
    for (f = 0; f < 8; f++) {
        int all = 1;

        for (i = 0; i < sizeof(common) / sizeof(common[0]) + 4; i++) {
            const char *bad = i < sizeof(common) / sizeof(common[0]) ? common[i]
                              : special[f][i - sizeof(common) / sizeof(common[0])];

            if (bad == NULL) {
                break;
            }
            memcpy(kv, w.argv, sizeof(kv));
            memcpy(kl, w.argvlen, sizeof(kl));
            kv[2 * f + 1] = bad;
            kl[2 * f + 1] = strlen(bad);
            if (bc_wallet_state_parse(&p, wid, kv, kl, 16, err, sizeof(err))) {
                all = 0;
                diag("field %s = \"%s\" accepted", w.argv[2 * f], bad);
            } else if (strstr(err, w.argv[2 * f]) == NULL) {
                all = 0;
                diag("field %s: reason \"%s\" does not name it", w.argv[2 * f], err);
            }
        }
        ok(all, "state field %s misspelt: refused, named", w.argv[2 * f]);

        /* missing: the pair dropped */
        memcpy(kv, w.argv, sizeof(kv));
        memcpy(kl, w.argvlen, sizeof(kl));
        memmove(kv + 2 * f, kv + 2 * f + 2, (14 - 2 * f) * sizeof(kv[0]));
        memmove(kl + 2 * f, kl + 2 * f + 2, (14 - 2 * f) * sizeof(kl[0]));
        ok(!bc_wallet_state_parse(&p, wid, kv, kl, 14, err, sizeof(err))
           && strstr(err, "missing") != NULL, "state field %s missing: %s", w.argv[2 * f], err);
    }
    ok(!bc_wallet_state_parse(&p, wid, w.argv, w.argvlen, 15, err, sizeof(err)),
       "an odd number of strings");

    /* seq 0 with a head */
    s.seq = 0;
    bc_wallet_state_mac(s.mac, &s, &keys);
    bc_wallet_state_argv_make(&w, &s);
    ok(!bc_wallet_state_parse(&p, wid, w.argv, w.argvlen, 16, err, sizeof(err)),
       "an empty ledger with a head: %s", err);
    memset(s.head, 0, 32);
    bc_wallet_state_mac(s.mac, &s, &keys);
    bc_wallet_state_argv_make(&w, &s);
    ok(bc_wallet_state_parse(&p, wid, w.argv, w.argvlen, 16, err, sizeof(err))
       && bc_wallet_state_ok(&p, &keys), "a new wallet: seq 0, head zeros");

    /* unknown fields are ignored; the record is read for the wid asked */
    {
        const char *kv2[18];
        size_t kl2[18];
        unsigned char w2[BC_WALLET_ID_LEN];

        memcpy(kv2, w.argv, sizeof(w.argv));
        memcpy(kl2, w.argvlen, sizeof(w.argvlen));
        kv2[16] = "note";
        kl2[16] = 4;
        kv2[17] = "x";
        kl2[17] = 1;
        ok(bc_wallet_state_parse(&p, wid, kv2, kl2, 18, err, sizeof(err)), "an unknown field");
        memcpy(w2, wid, sizeof(w2));
        w2[3] ^= 0x80;
        ok(bc_wallet_state_parse(&p, w2, w.argv, w.argvlen, 16, err, sizeof(err))
           && !bc_wallet_state_ok(&p, &keys), "another wallet's state under this wid: MAC fails");
    }
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

/* Replaces token i (space-separated) of text with rep; returns the length. */
static size_t
with_token(char *out, const char *text, size_t i, const char *rep)
{
    const char *p = text, *end;
    size_t k;

    for (k = 0; k < i; k++) {
        p = strchr(p, ' ') + 1;
    }
    end = strchr(p, ' ');
    if (end == NULL) {
        end = p + strlen(p);
    }
    return (size_t) snprintf(out, BC_LEDGER_ENTRY_MAX + 64, "%.*s%s%s", (int) (p - text), text,
                             rep, end);
}

static void
token_of(char *out, const char *text, size_t i)
{
    const char *p = text;
    size_t k, n;

    for (k = 0; k < i; k++) {
        p = strchr(p, ' ') + 1;
    }
    n = strcspn(p, " ");
    memcpy(out, p, n);
    out[n] = '\0';
}

static int
refused(const char *t, size_t n)
{
    bc_ledger_entry e;
    unsigned char buf[BC_LEDGER_ENTRY_MAX + 64];
    char err[128];

    return !bc_ledger_entry_parse(&e, buf, t, n, err, sizeof(err));
}

/* every field of a text given a wrong spelling: refused */
static void
test_entry_fields(const char *text, const char *kind, size_t ntok, const unsigned *is_dec)
{
    char t[BC_LEDGER_ENTRY_MAX + 64], tok[BC_LEDGER_ENTRY_MAX], rep[BC_LEDGER_ENTRY_MAX + 8];
    size_t i, k, n, len = strlen(text);

    ok(!refused(text, len), "%s parses", kind);
    for (i = 0; i < ntok; i++) {
        int all = 1;

        token_of(tok, text, i);
        static char pool[8][BC_LEDGER_ENTRY_MAX + 8];
        const char *reps[8];
        size_t nr = 0;

        reps[nr++] = "";
        reps[nr++] = "x";
        reps[nr++] = "-1";
        snprintf(rep, sizeof(rep), "%s ", tok);       /* an empty field after it */
        reps[nr] = strcpy(pool[nr], rep), nr++;
        if (is_dec[i] == 1) {
            snprintf(rep, sizeof(rep), "0%s", tok);
            reps[nr] = strcpy(pool[nr], rep), nr++;
            snprintf(rep, sizeof(rep), "+%s", tok);
            reps[nr] = strcpy(pool[nr], rep), nr++;
            reps[nr++] = "18446744073709551616";
        } else if (is_dec[i] == 2) {
            snprintf(rep, sizeof(rep), "%s=", tok);
            reps[nr] = strcpy(pool[nr], rep), nr++;
            snprintf(rep, sizeof(rep), "+%s", tok);
            reps[nr] = strcpy(pool[nr], rep), nr++;
        } else if (i > 2) {
            for (k = 0; tok[k]; k++) {
                rep[k] = (char) (tok[k] >= 'a' && tok[k] <= 'f' ? tok[k] - 32 : tok[k]);
            }
            rep[k] = '\0';
            if (strcmp(rep, tok) != 0) {
                reps[nr] = strcpy(pool[nr], rep), nr++;
            }
            snprintf(rep, sizeof(rep), "%s0", tok);
            reps[nr] = strcpy(pool[nr], rep), nr++;
        }
        for (k = 0; k < nr; k++) {
            if (i == 1 && strcmp(reps[k], "-1") == 0) {
                continue;
            }
            n = with_token(t, text, i, reps[k]);
            if (!refused(t, n)) {
                all = 0;
                diag("field %zu as \"%s\" accepted", i, reps[k]);
            }
        }
        ok(all, "%s field %zu (%s) misspelt: refused", kind, i, i < 3 ? tok : "");
    }
    ok(refused(text, len - 1) && refused(text, len + 0 - 64), "%s: short mac, no mac", kind);
    snprintf(t, sizeof(t), " %s", text);
    ok(refused(t, len + 1), "%s: a leading space", kind);
    snprintf(t, sizeof(t), "%s ", text);
    ok(refused(t, len + 1), "%s: a trailing space", kind);
    snprintf(t, sizeof(t), "%s 00", text);
    ok(refused(t, len + 3), "%s: a field too many", kind);
    n = with_token(t, text, 0, "w2");
    ok(refused(t, n), "%s: version w2", kind);
    n = with_token(t, text, 2, kind[0] == 'c' ? "Credit" : "DEBIT");
    ok(refused(t, n), "%s: the kind in upper case", kind);
    n = with_token(t, text, 2, kind[0] == 'c' ? "debit" : "credit");
    ok(refused(t, n), "%s: the other kind", kind);
    memcpy(t, text, len);
    t[10] = '\t';
    ok(refused(t, len), "%s: a tab", kind);
    memcpy(t, text, len);
    ok(refused(t, BC_LEDGER_ENTRY_MAX), "%s: too long", kind);
}

static void
test_entry_semantics(const char *credit, const char *debit)
{
    char t[BC_LEDGER_ENTRY_MAX + 64], t2[BC_LEDGER_ENTRY_MAX + 64];
    size_t n;

    n = with_token(t, credit, 9, "49999");
    ok(refused(t, n), "credit: received != amount");
    n = with_token(t2, t, 3, "49999");
    ok(!refused(t2, n), "credit: received = amount again");
    n = with_token(t, credit, 9, "0");
    n = with_token(t2, t, 3, "0");
    ok(refused(t2, n), "credit of 0");
    n = with_token(t, credit, 1, "0");
    ok(refused(t, n), "seq 0");
    n = with_token(t, credit, 6, "0000000000000000000000000000000000000000000000000000000000000001");
    ok(refused(t, n), "entry 1 with a prev");
    n = with_token(t2, t, 1, "2");
    ok(!refused(t2, n), "entry 2 with a prev");
    n = with_token(t, credit, 8, "4");
    ok(refused(t, n), "network 4");
    n = with_token(t, credit, 8, "256");
    ok(refused(t, n), "network 256");
    n = with_token(t, credit, 12, "00");
    ok(!refused(t, n), "a 1-byte spk");
    n = with_token(t, credit, 12, "0");
    ok(refused(t, n), "an odd spk");
    n = with_token(t, credit, 12,
                   "5120aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    ok(refused(t, n), "a 35-byte spk");
    n = with_token(t, credit, 4, "2100000000000001");
    ok(refused(t, n), "balance over 21e6 BTC");
    n = with_token(t, credit, 4, "2100000000000000");
    ok(!refused(t, n), "balance of 21e6 BTC");
    n = with_token(t, credit, 10, "4294967296");
    ok(refused(t, n), "conf over u32");
    n = with_token(t, credit, 10, "4294967295");
    ok(!refused(t, n), "conf u32 max");
    n = with_token(t, debit, 8, "4294967296");
    ok(refused(t, n), "uses over u32");
    n = with_token(t, debit, 3, "2100000000000001");
    ok(refused(t, n), "price over 21e6 BTC");
    n = with_token(t, debit, 3, "0");
    ok(!refused(t, n), "a debit of 0 parses (a free product; the caller decides)");
    n = with_token(t, debit, 10, "L2ZpbGVzL2Jvb2sucGR");
    ok(refused(t, n), "product: non-zero trailing bits");
    n = with_token(t, debit, 10, "L2ZpbGVzL2Jvb2sucGQ");
    ok(!refused(t, n), "product: 14 bytes, zero trailing bits");
    n = with_token(t, debit, 10, "L2ZpbGVzL2Jvb2sucGRm=");
    ok(refused(t, n), "product: padding");
    n = with_token(t, debit, 10, "L2ZpbGVzL2Jvb2sucGR+");
    ok(refused(t, n), "product: base64, not base64url");
    n = with_token(t, debit, 10, "L");
    ok(refused(t, n), "product: an impossible length");
    {
        char big[1400];

        memset(big, 'A', 1368);
        big[1368] = '\0';
        n = with_token(t, debit, 11, big);
        ok(refused(t, n), "seller over 1024 bytes");
        big[1364] = '\0';                 /* 1023 bytes */
        n = with_token(t, debit, 11, big);
        ok(!refused(t, n), "seller of 1023 bytes");
    }
}

/* The chain an audit walks: each prev the hash of the entry before, the
 * state's head the hash of the last; any entry changed, dropped or moved
 * breaks it. */
static int
chain_ok(char texts[][BC_LEDGER_ENTRY_MAX], size_t n, const bc_wallet_state *s)
{
    unsigned char h[32] = { 0 }, buf[BC_LEDGER_ENTRY_MAX];
    bc_ledger_entry e;
    char err[128];
    size_t i;
    uint64_t bal = 0;

    for (i = 0; i < n; i++) {
        size_t len = strlen(texts[i]);

        if (!bc_ledger_entry_parse(&e, buf, texts[i], len, err, sizeof(err))
            || !bc_ledger_entry_ok(texts[i], len, s->wid, &keys)
            || e.seq != i + 1 || memcmp(e.prev, h, 32) != 0
            || (e.kind == BC_ENTRY_CREDIT ? (bal += e.amount, 0)
                : (e.amount > bal ? 1 : (bal -= e.amount, 0)))
            || e.balance != bal
            || (e.kind == BC_ENTRY_CREDIT && !bc_ledger_credit_att_ok(&e, watcher_pk))
            || !bc_ledger_entry_hash(h, texts[i], len))
        {
            return 0;
        }
    }
    return s->seq == n && s->balance == bal && memcmp(s->head, h, 32) == 0
           && bc_wallet_state_ok(s, &keys);
}

static void
test_chain(void)
{
    static char texts[6][BC_LEDGER_ENTRY_MAX], save[BC_LEDGER_ENTRY_MAX];
    bc_ledger_entry c, d;
    bc_wallet_state s;
    unsigned char prev[32] = { 0 };
    uint64_t bal = 0;
    size_t i;

    for (i = 0; i < 6; i++) {
        if (i == 0 || i == 3) {
            sample_credit(&c);
            c.seq = i + 1;
            memcpy(c.prev, prev, 32);
            bal += c.amount;
            c.balance = bal;
            bc_ledger_entry_encode(texts[i], BC_LEDGER_ENTRY_MAX, &c, wid, &keys);
        } else {
            sample_debit(&d, prev);
            d.seq = i + 1;
            d.amount = 1000 * i;
            bal -= d.amount;
            d.balance = bal;
            bc_ledger_entry_encode(texts[i], BC_LEDGER_ENTRY_MAX, &d, wid, &keys);
        }
        bc_ledger_entry_hash(prev, texts[i], strlen(texts[i]));
    }
    sample_state(&s);
    s.seq = 6;
    s.balance = bal;
    memcpy(s.head, prev, 32);
    bc_wallet_state_mac(s.mac, &s, &keys);
    ok(chain_ok(texts, 6, &s), "a ledger of 6 entries adds up to its state");
    ok(!chain_ok(texts, 5, &s), "the last entry dropped: broken");
    memcpy(save, texts[2], sizeof(save));
    memcpy(texts[2], texts[1], sizeof(save));
    ok(!chain_ok(texts, 6, &s), "an entry repeated: broken");
    memcpy(texts[2], save, sizeof(save));
    save[0] = texts[4][4];
    texts[4][4] = texts[4][4] == '9' ? '8' : '9';
    ok(!chain_ok(texts, 6, &s), "an entry changed: broken");
    texts[4][4] = save[0];
    ok(chain_ok(texts, 6, &s), "restored: whole again");
    s.balance++;
    ok(!chain_ok(texts, 6, &s), "a state with another balance: broken");
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

/* ---- t/vectors/wallet.txt, made by t/node/wallet.js ---- */

static char vnames[64][32], vvalues[64][1024];
static int nv;

static const char *
v(const char *name)
{
    int i;

    for (i = 0; i < nv; i++) {
        if (strcmp(vnames[i], name) == 0) {
            return vvalues[i];
        }
    }
    diag("vector %s missing", name);
    return "";
}

static uint64_t u(const char *name) { return strtoull(v(name), NULL, 10); }

static void
hexv(unsigned char *out, size_t n, const char *name)
{
    if (!bc_hex_decode(out, n, v(name), strlen(v(name)))) {
        diag("vector %s is not %zu bytes of hex", name, n);
    }
}

static void
test_vectors(void)
{
    char line[2048], *eq, code[BC_WALLET_CODE_CHARS + 1], text[BC_LEDGER_ENTRY_MAX],
         hex[65], own[BC_OWNED_MAX], err[128];
    unsigned char sec[32], ws[BC_WALLET_SECRET_LEN], w[BC_WALLET_ID_LEN], h[32], pub[32],
                  credit_hash[32], buf[BC_LEDGER_ENTRY_MAX];
    FILE *in = fopen("t/vectors/wallet.txt", "r");
    bc_keys k;
    bc_wallet_state s;
    bc_ledger_entry e, p;
    bc_wallet_owned o;

    ok(in != NULL, "t/vectors/wallet.txt opens");
    while (in && fgets(line, sizeof(line), in) && nv < 64) {
        if (line[0] == '#' || (eq = strchr(line, '=')) == NULL) {
            continue;
        }
        *eq = '\0';
        eq[1 + strcspn(eq + 1, "\n")] = '\0';
        snprintf(vnames[nv], sizeof(vnames[0]), "%.31s", line);
        snprintf(vvalues[nv], sizeof(vvalues[0]), "%.1023s", eq + 1);
        nv++;
    }
    if (in) {
        fclose(in);
    }
    hexv(sec, 32, "secret");
    bc_keys_derive(&k, sec, 32);
    hexv(ws, sizeof(ws), "wallet_secret");
    bc_wallet_code_encode(code, ws);
    is_str(code, v("code"), "vector: code");
    bc_wallet_id_of(w, ws);
    bc_hex_encode(hex, w, sizeof(w));
    is_str(hex, v("wid"), "vector: wid");

    memset(&s, 0, sizeof(s));
    memcpy(s.wid, w, sizeof(w));
    s.network = (uint8_t) u("network");
    s.created = u("created");
    bc_wallet_state_mac(s.mac, &s, &k);
    bc_hex_encode(hex, s.mac, 32);
    is_str(hex, v("state0_mac"), "vector: the new state's mac");

    memset(&e, 0, sizeof(e));
    e.kind = BC_ENTRY_CREDIT;
    e.seq = 1;
    e.amount = e.received = e.balance = u("received");
    e.time = u("credit_time");
    hexv(e.invoice, 16, "invoice");
    e.network = s.network;
    e.conf = (uint32_t) u("conf");
    e.paid_at = u("paid_at");
    e.spk_len = strlen(v("spk")) / 2;
    hexv(e.spk, e.spk_len, "spk");
    hexv(e.att, 64, "att");
    bc_ledger_entry_encode(text, sizeof(text), &e, w, &k);
    is_str(text, v("credit_text"), "vector: credit text");
    bc_hex_encode(hex, e.mac, 32);
    is_str(hex, v("credit_mac"), "vector: credit mac");
    bc_ledger_entry_hash(credit_hash, text, strlen(text));
    bc_hex_encode(hex, credit_hash, 32);
    is_str(hex, v("credit_hash"), "vector: credit hash");
    hexv(pub, 32, "watcher_pub");
    ok(bc_ledger_entry_parse(&p, buf, v("credit_text"), strlen(v("credit_text")), err,
                             sizeof(err))
       && bc_ledger_credit_att_ok(&p, pub), "vector: the credit's attestation verifies");

    s.seq = 1;
    s.balance = e.balance;
    memcpy(s.head, credit_hash, 32);
    bc_wallet_state_mac(s.mac, &s, &k);
    bc_hex_encode(hex, s.mac, 32);
    is_str(hex, v("state1_mac"), "vector: state after the credit");

    memset(&e, 0, sizeof(e));
    e.kind = BC_ENTRY_DEBIT;
    e.seq = 2;
    e.amount = u("price");
    e.balance = s.balance - e.amount;
    e.time = u("debit_time");
    memcpy(e.prev, credit_hash, 32);
    hexv(e.purchase, 16, "purchase");
    e.uses = (uint32_t) u("uses");
    e.expires = u("expires");
    e.product = v("product");
    e.product_len = strlen(e.product);
    e.seller = v("seller");
    e.seller_len = strlen(e.seller);
    bc_ledger_entry_encode(text, sizeof(text), &e, w, &k);
    is_str(text, v("debit_text"), "vector: debit text");
    bc_hex_encode(hex, e.mac, 32);
    is_str(hex, v("debit_mac"), "vector: debit mac");
    bc_ledger_entry_hash(h, text, strlen(text));
    bc_hex_encode(hex, h, 32);
    is_str(hex, v("debit_hash"), "vector: debit hash");
    ok(bc_ledger_entry_ok(v("debit_text"), strlen(v("debit_text")), w, &k),
       "vector: debit verifies");

    s.seq = 2;
    s.balance = e.balance;
    memcpy(s.head, h, 32);
    s.max_auto = u("max_auto");
    bc_wallet_state_mac(s.mac, &s, &k);
    bc_hex_encode(hex, s.mac, 32);
    is_str(hex, v("state2_mac"), "vector: state after the debit");

    memset(&o, 0, sizeof(o));
    memcpy(o.purchase, e.purchase, 16);
    o.uses = e.uses;
    o.expires = e.expires;
    o.seq = 2;
    bc_wallet_owned_encode(own, &o, w, e.product, e.product_len, &k);
    is_str(own, v("owned"), "vector: ownership");
    ok(bc_wallet_owned_parse(&o, v("owned"), strlen(v("owned")), w, e.product, e.product_len,
                             &k, err, sizeof(err)), "vector: ownership verifies");
    bc_keys_clear(&k);
}

int
main(void)
{
    setup();
    test_code();
    test_wid();
    test_state();
    test_state_fields();
    test_entries();
    {
        bc_ledger_entry c, d;
        char ct[BC_LEDGER_ENTRY_MAX], dt[BC_LEDGER_ENTRY_MAX];
        unsigned char h[32];
        /* which fields are decimal (1), base64url (2) */
        static const unsigned cdec[15] = { 0, 1, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 0 };
        static const unsigned ddec[13] = { 0, 1, 0, 1, 1, 1, 0, 0, 1, 1, 2, 2, 0 };

        sample_credit(&c);
        bc_ledger_entry_encode(ct, sizeof(ct), &c, wid, &keys);
        bc_ledger_entry_hash(h, ct, strlen(ct));
        sample_debit(&d, h);
        bc_ledger_entry_encode(dt, sizeof(dt), &d, wid, &keys);
        test_entry_fields(ct, "credit", 15, cdec);
        test_entry_fields(dt, "debit", 13, ddec);
        test_entry_semantics(ct, dt);
    }
    test_chain();
    test_owned();
    test_idem();
    test_vectors();
    return done_testing();
}
