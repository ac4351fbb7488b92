/* The audit of a wallet's records: see wallet_audit.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "hex.h"
#include "invoice_record.h"
#include "wallet_audit.h"

typedef struct {
    const bc_wallet_audit_in *in;
    bc_wallet_audit_out      *out;
} audit;

static void
problem(audit *a, uint64_t seq, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
problem(audit *a, uint64_t seq, const char *fmt, ...)
{
    char what[BC_AUDIT_WHAT_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    a->out->problems++;
    if (a->in->problem) a->in->problem(a->in->arg, seq, what);
}

/* An ownership record (wown:<wid>) that verified, to be matched with its
 * debit entry. */
typedef struct {
    bc_wallet_owned  o;
    const char      *product;
    size_t           product_len;
    int              matched;
} owned;

/* A credit seen in the ledger (MAC verified) */
typedef struct {
    unsigned char    invoice[BC_INVOICE_ID_LEN];
    uint64_t         seq;
} credit;

static int
cmp_owned(const void *x, const void *y)
{
    const owned *p = x, *q = y;

    return p->o.seq < q->o.seq ? -1 : p->o.seq > q->o.seq;
}

static int
cmp_credit(const void *x, const void *y)
{
    const credit *p = x, *q = y;
    int c = memcmp(p->invoice, q->invoice, BC_INVOICE_ID_LEN);

    return c ? c : (p->seq < q->seq ? -1 : p->seq > q->seq);
}

/* Parses and verifies wown:<wid>; returns the records that verify, sorted
 * by their debit's seq (*n of them), or NULL (out of memory, or none). */
static owned *
read_owned(audit *a, size_t *n)
{
    const bc_wallet_audit_in *in = a->in;
    char err[128], hex[2 * 40 + 1];
    owned *v;
    size_t i;

    *n = 0;
    if (in->wown_n < 2 || (v = calloc(in->wown_n / 2, sizeof(*v))) == NULL) {
        return NULL;
    }
    for (i = 0; i + 1 < in->wown_n; i += 2) {
        owned *w = &v[*n];

        if (!bc_wallet_owned_parse(&w->o, in->wown_kv[i + 1], in->wown_kvlen[i + 1], in->wid,
                                   in->wown_kv[i], in->wown_kvlen[i], in->keys, err,
                                   sizeof(err)))
        {
            bc_hex_encode(hex, (const unsigned char *) in->wown_kv[i],
                          in->wown_kvlen[i] > 40 ? 40 : in->wown_kvlen[i]);
            problem(a, 0, "owned product (hex %s%s): %s", hex,
                    in->wown_kvlen[i] > 40 ? "..." : "", err);
            continue;
        }
        w->product = in->wown_kv[i];
        w->product_len = in->wown_kvlen[i];
        (*n)++;
    }
    qsort(v, *n, sizeof(*v), cmp_owned);
    return v;
}

/* The ownership record of debit e (if one points at it) must be this
 * purchase of this product. */
static void
match_owned(audit *a, owned *v, size_t n, const bc_ledger_entry *e)
{
    owned key, *w;

    key.o.seq = e->seq;
    w = n ? bsearch(&key, v, n, sizeof(*v), cmp_owned) : NULL;
    if (w == NULL) {
        return;         /* bought again since, or never recorded: fine */
    }
    w->matched = 1;
    if (w->product_len != e->product_len
        || memcmp(w->product, e->product, e->product_len) != 0
        || memcmp(w->o.purchase, e->purchase, 16) != 0 || w->o.uses != e->uses
        || w->o.expires != e->expires)
    {
        problem(a, e->seq, "the ownership record that names this debit is another "
                "purchase or product");
    }
}

/* Is the top-up invoice id credited by an entry of the prefix 1..upto? */
static int
credited_before(const credit *c, size_t nc, const unsigned char *id, uint64_t upto)
{
    size_t i;

    for (i = 0; i < nc; i++) {
        if (c[i].seq <= upto && memcmp(c[i].invoice, id, BC_INVOICE_ID_LEN) == 0) return 1;
    }
    return 0;
}

/* One entry: returns 1 if it verifies and follows from the one before
 * (its balance from *bal, its prev from prev), updating *bal. */
static int
check_entry(audit *a, uint64_t i, const char *s, size_t len, const unsigned char prev[32],
    uint64_t *bal, int *have_bal, unsigned char *buf, credit *credits, size_t *ncredits,
    owned *own, size_t nown)
{
    const bc_wallet_audit_in *in = a->in;
    bc_wallet_audit_out *out = a->out;
    char err[128], idhex[2 * BC_INVOICE_ID_LEN + 1];
    bc_ledger_entry e;
    int ok = 1;

    if (len >= BC_LEDGER_ENTRY_MAX) {
        problem(a, i, "does not parse: %zu bytes long", len);
        *have_bal = 0;
        return 0;
    }
    memset(&e, 0, sizeof(e));
    if (!bc_ledger_entry_parse(&e, buf, s, len, err, sizeof(err))) {
        problem(a, i, "does not parse: %s", err);
        *have_bal = 0;          /* the next balance cannot be checked */
        return 0;
    }
    if (!bc_ledger_entry_ok(s, len, in->wid, in->keys)) {
        /* not the module's: nothing in it is believed or counted */
        problem(a, i, "its MAC does not verify (written or changed by hand)");
        *bal = e.balance;
        *have_bal = 1;
        return 0;
    }
    if (e.seq != i) {
        problem(a, i, "says it is entry %llu (an entry was deleted, added or moved)",
                (unsigned long long) e.seq);
        ok = 0;
    }
    if (CRYPTO_memcmp(e.prev, prev, 32) != 0) {
        problem(a, i, "does not chain to entry %llu (its prev is not that entry's hash)",
                (unsigned long long) (i - 1));
        ok = 0;
    }
    if (e.kind == BC_ENTRY_CREDIT) {
        out->credits++;
        out->credited += e.amount;
        bc_hex_encode(idhex, e.invoice, BC_INVOICE_ID_LEN);
        if (*have_bal && (e.amount > UINT64_MAX - *bal || *bal + e.amount != e.balance)) {
            problem(a, i, "balance %llu after a credit of %llu to %llu",
                    (unsigned long long) e.balance, (unsigned long long) e.amount,
                    (unsigned long long) *bal);
            ok = 0;
        }
        if (e.amount > e.received) {
            problem(a, i, "credits %llu for top-up %s, which received %llu",
                    (unsigned long long) e.amount, idhex, (unsigned long long) e.received);
            ok = 0;
        }
        if (out->state_parsed && e.network != out->state.network) {
            problem(a, i, "credits a top-up of network %u to a wallet of network %u",
                    e.network, out->state.network);
            ok = 0;
        }
        if (in->watcher_key && !bc_ledger_credit_att_ok(&e, in->watcher_key)) {
            problem(a, i, "the attestation of top-up %s does not verify under the watcher "
                    "key", idhex);
            ok = 0;
        }
        if (credited_before(credits, *ncredits, e.invoice, i)) {
            problem(a, i, "credits top-up %s again", idhex);
            ok = 0;
        }
        memcpy(credits[*ncredits].invoice, e.invoice, BC_INVOICE_ID_LEN);
        credits[(*ncredits)++].seq = i;
        if (ok && a->out->good_network < 0) a->out->good_network = e.network;
    } else {
        out->debits++;
        out->debited += e.amount;
        if (*have_bal && e.amount > *bal) {
            problem(a, i, "a debit of %llu from a balance of %llu: below zero",
                    (unsigned long long) e.amount, (unsigned long long) *bal);
            ok = 0;
        } else if (*have_bal && *bal - e.amount != e.balance) {
            problem(a, i, "balance %llu after a debit of %llu from %llu",
                    (unsigned long long) e.balance, (unsigned long long) e.amount,
                    (unsigned long long) *bal);
            ok = 0;
        }
        match_owned(a, own, nown, &e);
    }
    *bal = e.balance;
    *have_bal = 1;
    return ok;
}

/* wtop:<wid> against the ledger's credits (sorted by invoice): each
 * credited top-up says the seq of its credit, a pending one has none. */
static void
check_topups(audit *a, const credit *c, size_t nc)
{
    const bc_wallet_audit_in *in = a->in;
    unsigned char id[BC_INVOICE_ID_LEN];
    char idhex[2 * BC_INVOICE_ID_LEN + 1];
    uint64_t seq;
    size_t i, j, k;

    for (i = 0; i + 1 < in->wtop_n; i += 2) {
        if (in->wtop_kvlen[i] != 2 * BC_INVOICE_ID_LEN
            || !bc_hex_decode(id, sizeof(id), in->wtop_kv[i], in->wtop_kvlen[i])
            || !bc_parse_uint_n(&seq, in->wtop_kv[i + 1], in->wtop_kvlen[i + 1], UINT64_MAX))
        {
            problem(a, 0, "wtop holds a field that is not a top-up");
            continue;
        }
        bc_hex_encode(idhex, id, sizeof(id));
        for (j = 0; j < nc && memcmp(c[j].invoice, id, sizeof(id)) != 0; j++) {
        }
        if (seq == 0 && j < nc) {
            problem(a, 0, "top-up %s: credited by entry %llu, but wtop says pending (it "
                    "would be credited again)", idhex, (unsigned long long) c[j].seq);
        } else if (seq != 0 && j == nc) {
            problem(a, 0, "top-up %s: wtop says credited by entry %llu, which is not its "
                    "credit", idhex, (unsigned long long) seq);
        } else if (seq != 0) {
            for (k = j; k < nc && memcmp(c[k].invoice, id, sizeof(id)) == 0; k++) {
                if (c[k].seq == seq) break;
            }
            if (k == nc || memcmp(c[k].invoice, id, sizeof(id)) != 0) {
                problem(a, 0, "top-up %s: wtop says credited by entry %llu, but entry %llu "
                        "credited it", idhex, (unsigned long long) seq,
                        (unsigned long long) c[j].seq);
            }
        }
    }
    /* a credit of an invoice wtop does not list as this wallet's top-up */
    for (j = 0; j < nc; j++) {
        if (j > 0 && memcmp(c[j].invoice, c[j - 1].invoice, BC_INVOICE_ID_LEN) == 0) continue;
        bc_hex_encode(idhex, c[j].invoice, BC_INVOICE_ID_LEN);
        for (i = 0; i + 1 < in->wtop_n; i += 2) {
            if (in->wtop_kvlen[i] == 2 * BC_INVOICE_ID_LEN
                && memcmp(in->wtop_kv[i], idhex, 2 * BC_INVOICE_ID_LEN) == 0)
            {
                break;
            }
        }
        if (i + 1 >= in->wtop_n) {
            problem(a, c[j].seq, "credits %s, which wtop does not list as a top-up of this "
                    "wallet", idhex);
        }
    }
}

static void
check_state(audit *a, uint64_t n, uint64_t bal, const unsigned char head[32])
{
    const bc_wallet_audit_in *in = a->in;
    bc_wallet_audit_out *out = a->out;

    if (!out->state_parsed) {
        return;
    }
    if (!out->state_ok) {
        problem(a, 0, "the state's MAC does not verify (written or changed by hand)");
    }
    if (out->state.seq != n) {
        problem(a, 0, "the state says %llu entries, the ledger has %llu",
                (unsigned long long) out->state.seq, (unsigned long long) n);
    }
    if (out->state.balance != bal) {
        problem(a, 0, "the state's balance is %llu, the ledger's %llu",
                (unsigned long long) out->state.balance, (unsigned long long) bal);
    }
    if (CRYPTO_memcmp(out->state.head, head, 32) != 0) {
        problem(a, 0, "the state's head is not the hash of the ledger's last entry");
    }
    (void) in;
}

int
bc_wallet_audit(bc_wallet_audit_out *out, const bc_wallet_audit_in *in)
{
    unsigned char prev[32] = { 0 }, *buf = NULL;
    char err[128];
    credit *credits = NULL;
    owned *own = NULL;
    size_t nown = 0, ncredits = 0, i;
    uint64_t bal = 0;
    int have_bal = 1, in_prefix = 1;
    audit a = { in, out };

    memset(out, 0, sizeof(*out));
    out->good_network = -1;
    if (in->state_n == 0) {
        problem(&a, 0, "no state (wal:) record");
    } else if (!bc_wallet_state_parse(&out->state, in->wid, in->state_kv, in->state_kvlen,
                                      in->state_n, err, sizeof(err)))
    {
        problem(&a, 0, "the state does not parse: %s", err);
    } else {
        out->state_parsed = 1;
        out->state_ok = bc_wallet_state_ok(&out->state, in->keys);
    }
    own = read_owned(&a, &nown);
    if ((in->nentries && (credits = calloc(in->nentries, sizeof(*credits))) == NULL)
        || (buf = malloc(BC_LEDGER_ENTRY_MAX)) == NULL)
    {
        free(credits);
        free(own);
        problem(&a, 0, "out of memory");
        return 0;
    }
    for (i = 0; i < in->nentries; i++) {
        int ok = check_entry(&a, i + 1, in->entries[i], in->entry_len[i], prev, &bal,
                             &have_bal, buf, credits, &ncredits, own, nown);

        if (in_prefix && ok) {
            out->good = i + 1;
            out->good_balance = bal;
        }
        in_prefix = in_prefix && ok;
        if (!bc_ledger_entry_hash(prev, in->entries[i], in->entry_len[i])) {
            memset(prev, 0, sizeof(prev));
        }
        if (in_prefix) memcpy(out->good_head, prev, 32);
    }
    for (i = 0; i < nown; i++) {
        if (!own[i].matched) {
            problem(&a, 0, "an ownership record names entry %llu, which is not a purchase "
                    "in the ledger", (unsigned long long) own[i].o.seq);
        }
    }
    if (ncredits) qsort(credits, ncredits, sizeof(*credits), cmp_credit);
    check_topups(&a, credits, ncredits);
    check_state(&a, in->nentries, bal, prev);
    free(buf);
    free(credits);
    free(own);
    return out->problems == 0;
}
