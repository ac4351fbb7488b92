/* The wallet audit (bc_wallet_audit, `bitcache wallet audit|repair`) fed
 * records as Redis gives them, every byte a Redis writer's: the input is
 * 4 header bytes (mode, how many strings are the state's field/value list,
 * how many are ledger entries, how many are wtop's; the rest are wown's)
 * and NUL-separated strings. So that the fuzzer gets past the MACs, mode
 * bit 0 re-signs the entries that parse (bc_ledger_entry_encode under the
 * target's fixed secret), bit 1 also chains them (prev), bit 2 re-signs the
 * state, bit 3 leaves the watcher key out, bit 4 the ownership records.
 * No crash, no read outside the input; a ledger that audits clean
 * adds up (credits - debits = the state's balance, seq = entries), and the
 * kept prefix is never longer than the ledger. */
#include "fuzz.h"

#include "hex.h"
#include "schnorr.h"
#include "wallet_audit.h"
#include "wallet_record.h"

#define MAX_STRINGS 96

static void
count(void *arg, uint64_t seq, const char *what)
{
    (void) seq;
    FUZZ_ASSERT(strlen(what) < BC_AUDIT_WHAT_MAX);
    (*(size_t *) arg)++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned char secret[32] = { 0x42 };
    static const unsigned char wid[BC_WALLET_ID_LEN] = { 1, 2, 3 };
    /* BIP340's first test vector's public key */
    static const char xhex[] = "dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659";
    const char *s[MAX_STRINGS], *err;
    size_t len[MAX_STRINGS], n = 0, i, start, nstate, nent, ntop, reported = 0;
    char *copy, *resigned[MAX_STRINGS] = { 0 };
    unsigned char prev[32] = { 0 }, *buf;
    bc_wallet_audit_out out;
    bc_wallet_audit_in in;
    bc_ledger_entry e;
    bc_wallet_state st;
    bc_wallet_state_argv sa;
    const char *const *skv;
    const size_t *skvlen;
    size_t skn;
    uint64_t last_bal = 0;
    static bc_keys keys;
    static unsigned char xonly[32];
    static int ready;
    int ok, mode;
    char ebuf[128];

    if (size < 4 || size > 16384) return 0;
    if (!ready) {       /* once: the keys live as long as the process */
        if (!bc_keys_derive(&keys, secret, sizeof(secret))
            || !bc_xonly_from_hex(xonly, xhex, &err))
        {
            abort();
        }
        ready = 1;
    }
    mode = data[0];
    copy = malloc(size - 4 + 1);
    buf = malloc(BC_LEDGER_ENTRY_MAX);
    if (copy == NULL || buf == NULL) abort();
    memcpy(copy, data + 4, size - 4);
    for (i = 0, start = 0; i <= size - 4 && n < MAX_STRINGS; i++) {
        if (i == size - 4 || copy[i] == '\0') {
            s[n] = copy + start;
            len[n++] = i - start;
            start = i + 1;
        }
    }
    nstate = data[1] % 20;
    nstate = nstate > n ? n : nstate;
    nent = data[2] % 40;
    nent = nent > n - nstate ? n - nstate : nent;
    ntop = data[3] % 10;
    ntop = ntop > n - nstate - nent ? n - nstate - nent : ntop;

    for (i = nstate; (mode & 1) && i < nstate + nent; i++) {
        if (len[i] >= BC_LEDGER_ENTRY_MAX
            || !bc_ledger_entry_parse(&e, buf, s[i], len[i], ebuf, sizeof(ebuf)))
        {
            continue;
        }
        if (mode & 2) {
            e.seq = i - nstate + 1;
            memcpy(e.prev, prev, 32);
        }
        if ((resigned[i] = malloc(BC_LEDGER_ENTRY_MAX)) == NULL) abort();
        len[i] = bc_ledger_entry_encode(resigned[i], BC_LEDGER_ENTRY_MAX, &e, wid, &keys);
        if (len[i] == 0) {
            free(resigned[i]);
            resigned[i] = NULL;
            len[i] = 0;
            s[i] = "";
            continue;
        }
        s[i] = resigned[i];
        last_bal = e.balance;
        FUZZ_ASSERT(bc_ledger_entry_ok(s[i], len[i], wid, &keys));
        FUZZ_ASSERT(bc_ledger_entry_hash(prev, s[i], len[i]));
    }

    skv = s;
    skvlen = len;
    skn = nstate & ~(size_t) 1;
    if ((mode & 4)
        && bc_wallet_state_parse(&st, wid, s, len, skn, ebuf, sizeof(ebuf)))
    {
        /* the state re-signed at the end of the (re-signed) ledger */
        st.seq = nent;
        st.balance = last_bal;
        memcpy(st.head, prev, 32);
        if (!bc_wallet_state_mac(st.mac, &st, &keys)) abort();
        bc_wallet_state_argv_make(&sa, &st);
        skv = sa.argv;
        skvlen = sa.argvlen;
        skn = 16;
    }

    memset(&in, 0, sizeof(in));
    in.wid = wid;
    in.keys = &keys;
    in.watcher_key = (mode & 8) ? NULL : xonly;
    in.state_kv = skv;
    in.state_kvlen = skvlen;
    in.state_n = skn;
    in.entries = s + nstate;
    in.entry_len = len + nstate;
    in.nentries = nent;
    in.wtop_kv = s + nstate + nent;
    in.wtop_kvlen = len + nstate + nent;
    in.wtop_n = ntop & ~(size_t) 1;
    in.wown_kv = s + nstate + nent + ntop;
    in.wown_kvlen = len + nstate + nent + ntop;
    in.wown_n = (mode & 16) ? 0 : (n - nstate - nent - ntop) & ~(size_t) 1;
    in.problem = count;
    in.arg = &reported;
    ok = bc_wallet_audit(&out, &in);

    FUZZ_ASSERT(reported == out.problems);
    FUZZ_ASSERT(ok == (out.problems == 0));
    FUZZ_ASSERT(out.good <= nent);
    if (ok) {
        FUZZ_ASSERT(out.state_parsed && out.state_ok);
        FUZZ_ASSERT(out.good == nent && out.state.seq == nent);
        FUZZ_ASSERT(out.credited >= out.debited);
        FUZZ_ASSERT(out.credited - out.debited == out.state.balance);
        FUZZ_ASSERT(out.good_balance == out.state.balance || nent == 0);
    }
    for (i = 0; i < MAX_STRINGS; i++) free(resigned[i]);
    free(buf);
    free(copy);
    return 0;
}
