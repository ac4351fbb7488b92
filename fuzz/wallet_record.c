/* The wallet's records as Redis gives them back (every byte a Redis
 * writer's): the state (HGETALL, strings split at NUL bytes), a ledger
 * entry (LRANGE), an ownership value (HGET), an idempotency key.
 * Properties: a state that parses is written back by its argv and parses
 * to the same; an entry that parses is re-encoded to the same text before
 * its MAC, and its strings lie in the decoding buffer; an ownership value
 * made from the input reads back; nothing reads outside the input. */
#include "fuzz.h"

#include "wallet_record.h"

#define MAX_STRINGS 40
#define MAX_INPUT   4096

static bc_keys keys;
static const unsigned char wid[BC_WALLET_ID_LEN] = { 0xdc, 0x36, 0xa3, 0x04 };

static void
check_state(const char *s, size_t size)
{
    const char *kv[MAX_STRINGS];
    size_t kvlen[MAX_STRINGS], n;
    char err[128];
    bc_wallet_state st, again;
    bc_wallet_state_argv w;

    n = fuzz_split_kv(s, size, kv, kvlen, MAX_STRINGS);
    if (!bc_wallet_state_parse(&st, wid, kv, kvlen, n, err, sizeof(err))) {
        FUZZ_ASSERT(strlen(err) < sizeof(err) && err[0] != '\0');
        return;
    }
    FUZZ_ASSERT(st.frozen == NULL || (st.frozen >= s && st.frozen + st.frozen_len <= s + size));
    (void) bc_wallet_state_ok(&st, &keys);
    bc_wallet_state_argv_make(&w, &st);
    FUZZ_ASSERT(bc_wallet_state_parse(&again, wid, w.argv, w.argvlen, 16, err, sizeof(err)));
    FUZZ_ASSERT(again.network == st.network && again.created == st.created
                && again.seq == st.seq && again.balance == st.balance
                && again.max_auto == st.max_auto && memcmp(again.head, st.head, 32) == 0
                && memcmp(again.mac, st.mac, 32) == 0);
}

static void
check_entry(const char *s, size_t size)
{
    static unsigned char buf[MAX_INPUT];
    static char text[BC_LEDGER_ENTRY_MAX];
    unsigned char h[32], pub[32] = { 1 };
    char err[128];
    bc_ledger_entry e;
    size_t n;

    (void) bc_ledger_entry_ok(s, size, wid, &keys);
    FUZZ_ASSERT(bc_ledger_entry_hash(h, s, size));
    if (!bc_ledger_entry_parse(&e, buf, s, size, err, sizeof(err))) {
        FUZZ_ASSERT(strlen(err) < sizeof(err) && err[0] != '\0');
        return;
    }
    FUZZ_ASSERT(size < BC_LEDGER_ENTRY_MAX && size > 65);
    if (e.kind == BC_ENTRY_DEBIT) {
        FUZZ_ASSERT((const unsigned char *) e.product >= buf
                    && (const unsigned char *) e.seller + e.seller_len <= buf + size);
    } else {
        (void) bc_ledger_credit_att_ok(&e, pub);
    }
    n = bc_ledger_entry_encode(text, sizeof(text), &e, wid, &keys);
    FUZZ_ASSERT(n == size && memcmp(text, s, size - 64) == 0);
    FUZZ_ASSERT(bc_ledger_entry_ok(text, n, wid, &keys));
}

static void
check_owned(const char *s, size_t size)
{
    char v[BC_OWNED_MAX], err[128];
    bc_wallet_owned o, back;
    const char *product = size > 0 ? s : "/p";
    size_t plen = size > 0 ? (size > 1024 ? 1024 : size) : 2;

    (void) bc_wallet_owned_parse(&o, s, size, wid, "/p", 2, &keys, err, sizeof(err));

    /* made from the input's bytes, it reads back for its product only */
    memset(&o, 0, sizeof(o));
    memcpy(o.purchase, s, size < 16 ? size : 16);
    o.uses = size > 20 ? (uint32_t) (unsigned char) s[20] << 24 | (unsigned char) s[17] : 0;
    o.expires = size * 1000003u;
    o.seq = size + 1;
    if (bc_wallet_owned_encode(v, &o, wid, product, plen, &keys)) {
        FUZZ_ASSERT(bc_wallet_owned_parse(&back, v, strlen(v), wid, product, plen, &keys, err,
                                          sizeof(err))
                    && back.uses == o.uses && back.expires == o.expires && back.seq == o.seq
                    && memcmp(back.purchase, o.purchase, 16) == 0);
        if (plen != 2 || memcmp(product, "/p", 2) != 0) {
            FUZZ_ASSERT(!bc_wallet_owned_parse(&back, v, strlen(v), wid, "/p", 2, &keys, err,
                                               sizeof(err)));
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    char *s;
    size_t i;

    if (!init) {
        unsigned char k[32] = { 7 };

        bc_keys_derive(&keys, k, sizeof(k));
        init = 1;
    }
    if (size > MAX_INPUT || (s = malloc(size ? size : 1)) == NULL) {
        return 0;
    }
    memcpy(s, data, size);
    check_state(s, size);
    check_entry(s, size);
    check_owned(s, size);
    if (bc_wallet_idem_ok(s, size)) {
        FUZZ_ASSERT(size >= 1 && size <= BC_WALLET_IDEM_MAX);
        for (i = 0; i < size; i++) {
            FUZZ_ASSERT(s[i] == '-' || s[i] == '_' || (s[i] >= '0' && s[i] <= '9')
                        || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z'));
        }
    }
    free(s);
    return 0;
}
