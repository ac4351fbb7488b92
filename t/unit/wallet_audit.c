/* The wallet audit (libbitcache/wallet_audit.c) on records built here: a
 * wallet that adds up; an empty one (no entries, no credits: the case
 * fuzz/wallet_audit.c found, a qsort of nothing); and each forgery with
 * the kept prefix that repair would keep. */
#include <stdio.h>
#include <string.h>

#include "invoice.h"
#include "network.h"
#include "schnorr.h"
#include "tap.h"
#include "wallet_audit.h"
#include "wallet_record.h"

#define MAXE 8

static bc_keys keys;
static unsigned char wid[BC_WALLET_ID_LEN], watcher_sk[32], watcher_pk[32];

typedef struct {
    char           text[MAXE][BC_LEDGER_ENTRY_MAX];
    const char    *e[MAXE];
    size_t         elen[MAXE], n;
    bc_wallet_state st;
    bc_wallet_state_argv sa;
    char           own[MAXE][BC_OWNED_MAX];
    const char    *own_kv[2 * MAXE];
    size_t         own_kvlen[2 * MAXE], nown;
    char           top[MAXE][33], seqs[MAXE][8];
    const char    *top_kv[2 * MAXE];
    size_t         top_kvlen[2 * MAXE], ntop;
} wallet;

static void
wallet_init(wallet *w)
{
    memset(w, 0, sizeof(*w));
    memcpy(w->st.wid, wid, sizeof(wid));
    w->st.network = BC_REGTEST;
    w->st.created = 1767225600;
}

static void
sign_state(wallet *w)
{
    bc_wallet_state_mac(w->st.mac, &w->st, &keys);
    bc_wallet_state_argv_make(&w->sa, &w->st);
}

static void
append(wallet *w, bc_ledger_entry *e)
{
    size_t i = w->n;

    e->seq = w->st.seq + 1;
    e->time = 1767225600 + e->seq;
    memcpy(e->prev, w->st.head, 32);
    w->elen[i] = bc_ledger_entry_encode(w->text[i], BC_LEDGER_ENTRY_MAX, e, wid, &keys);
    w->e[i] = w->text[i];
    bc_ledger_entry_hash(w->st.head, w->text[i], w->elen[i]);
    w->st.seq = e->seq;
    w->st.balance = e->balance;
    w->n++;
    sign_state(w);
}

static void
credit(wallet *w, unsigned char id_byte, uint64_t amount, const unsigned char *sk)
{
    bc_ledger_entry e;
    unsigned char msg[32];

    memset(&e, 0, sizeof(e));
    e.kind = BC_ENTRY_CREDIT;
    memset(e.invoice, id_byte, sizeof(e.invoice));
    e.network = BC_REGTEST;
    e.amount = e.received = amount;
    e.conf = 1;
    e.paid_at = 1767225600;
    e.spk_len = 22;
    e.spk[1] = 0x14;
    memset(e.spk + 2, id_byte, 20);
    bc_payment_msg(msg, bc_network_genesis(BC_REGTEST), e.invoice, e.spk, e.spk_len,
                   e.received, e.conf, e.paid_at);
    bc_schnorr_sign(e.att, msg, sk, NULL);
    e.balance = w->st.balance + amount;
    append(w, &e);
    snprintf(w->top[w->ntop], 33, "%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x",
             id_byte, id_byte, id_byte, id_byte, id_byte, id_byte, id_byte, id_byte, id_byte,
             id_byte, id_byte, id_byte, id_byte, id_byte, id_byte, id_byte);
    snprintf(w->seqs[w->ntop], 8, "%llu", (unsigned long long) e.seq);
    w->top_kv[2 * w->ntop] = w->top[w->ntop];
    w->top_kvlen[2 * w->ntop] = 32;
    w->top_kv[2 * w->ntop + 1] = w->seqs[w->ntop];
    w->top_kvlen[2 * w->ntop + 1] = strlen(w->seqs[w->ntop]);
    w->ntop++;
}

static void
debit(wallet *w, const char *product, uint64_t amount)
{
    bc_ledger_entry e;
    bc_wallet_owned o;

    memset(&e, 0, sizeof(e));
    e.kind = BC_ENTRY_DEBIT;
    memset(e.purchase, (int) w->n, sizeof(e.purchase));
    e.uses = 3;
    e.expires = 1800000000;
    e.product = product;
    e.product_len = strlen(product);
    e.seller = "wpkh(tpub/0/*)";
    e.seller_len = strlen(e.seller);
    e.amount = amount;
    e.balance = w->st.balance - amount;
    append(w, &e);
    memcpy(o.purchase, e.purchase, 16);
    o.uses = e.uses;
    o.expires = e.expires;
    o.seq = e.seq;
    bc_wallet_owned_encode(w->own[w->nown], &o, wid, product, strlen(product), &keys);
    w->own_kv[2 * w->nown] = product;
    w->own_kvlen[2 * w->nown] = strlen(product);
    w->own_kv[2 * w->nown + 1] = w->own[w->nown];
    w->own_kvlen[2 * w->nown + 1] = strlen(w->own[w->nown]);
    w->nown++;
}

static char found[4096];

static void
collect(void *arg, uint64_t seq, const char *what)
{
    size_t n = strlen(found);

    (void) arg;
    snprintf(found + n, sizeof(found) - n, "%llu: %s\n", (unsigned long long) seq, what);
}

/* ok() with what the audit said when it fails */
static void
check(int cond, const char *name)
{
    ok(cond, "%s", name);
    if (!cond) diag("%s", found);
}

static int
run(const wallet *w, bc_wallet_audit_out *out)
{
    bc_wallet_audit_in in;

    memset(&in, 0, sizeof(in));
    in.wid = wid;
    in.keys = &keys;
    in.watcher_key = watcher_pk;
    in.state_kv = w->sa.argv;
    in.state_kvlen = w->sa.argvlen;
    in.state_n = 16;
    in.entries = w->e;
    in.entry_len = w->elen;
    in.nentries = w->n;
    in.wtop_kv = w->top_kv;
    in.wtop_kvlen = w->top_kvlen;
    in.wtop_n = 2 * w->ntop;
    in.wown_kv = w->own_kv;
    in.wown_kvlen = w->own_kvlen;
    in.wown_n = 2 * w->nown;
    in.problem = collect;
    found[0] = '\0';
    return bc_wallet_audit(out, &in);
}

static void
good(wallet *w)
{
    wallet_init(w);
    credit(w, 0xab, 3000, watcher_sk);
    debit(w, "/a", 500);
    debit(w, "/b", 700);
}

int
main(void)
{
    static wallet w;
    bc_wallet_audit_out out;
    unsigned char k[32], other_sk[32];
    size_t i;

    for (i = 0; i < 32; i++) k[i] = (unsigned char) i;
    bc_keys_derive(&keys, k, 32);
    memset(wid, 0x5a, sizeof(wid));
    memset(watcher_sk, 0x42, 32);
    memset(other_sk, 0x43, 32);
    bc_xonly_from_seckey(watcher_pk, watcher_sk);

    good(&w);
    check(run(&w, &out) && out.problems == 0, "a good wallet adds up");
    check(out.good == 3 && out.good_balance == 1800 && out.credited == 3000 && out.debited == 1200,
       "3 entries kept, balance 1800, 3000 in, 1200 out");

    /* the crash fuzz/wallet_audit.c found: no entries, no credits */
    wallet_init(&w);
    sign_state(&w);
    check(run(&w, &out) && out.good == 0, "an empty wallet adds up");

    good(&w);
    w.text[1][strlen("w1 2 debit ")] = '4';       /* 500 -> 400 */
    check(!run(&w, &out) && strstr(found, "2: its MAC does not verify") && out.good == 1,
       "an amount changed: entry 2's MAC, entry 1 kept");

    good(&w);
    w.e[1] = w.e[2];
    w.elen[1] = w.elen[2];
    w.n = 2;
    check(!run(&w, &out) && strstr(found, "2: says it is entry 3") && strstr(found, "does not chain")
       && strstr(found, "the state says 3 entries, the ledger has 2"), "an entry deleted");

    good(&w);
    w.st.balance = 99999;
    bc_wallet_state_argv_make(&w.sa, &w.st);
    check(!run(&w, &out) && strstr(found, "the state's MAC does not verify")
       && strstr(found, "the state's balance is 99999, the ledger's 1800"), "the balance raised");

    good(&w);
    credit(&w, 0xab, 3000, watcher_sk);
    check(!run(&w, &out) && strstr(found, "4: credits top-up abababababababababababababababab again")
       && out.good == 3, "a top-up credited twice; the first three kept");

    good(&w);
    credit(&w, 0xcd, 100, other_sk);
    check(!run(&w, &out) && strstr(found, "4: the attestation of top-up") && out.good == 3,
       "a credit that is not the watcher's");

    good(&w);
    w.seqs[0][0] = '0';
    w.top_kvlen[1] = 1;
    check(!run(&w, &out) && strstr(found, "but wtop says pending"), "wtop reset to pending");

    good(&w);
    w.own_kv[0] = "/b";
    check(!run(&w, &out) && strstr(found, "owned product"), "an ownership record under another product");

    bc_keys_clear(&keys);
    return done_testing();
}
