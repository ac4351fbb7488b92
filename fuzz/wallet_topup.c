/* Top-ups (libbitcache/wallet_topup.c): what Redis gives back for them,
 * every byte a writer's. The first byte picks the parser:
 *   'p' the rest is a product: if it names a wid, it is exactly the
 *       product bc_topup_product writes for that wid (one spelling);
 *   'w' the rest is a wtop:<wid> value: what parses prints back the same;
 *   else the rest is a ledger (entries split at '\n') checked against a
 *       state whose seq and head it matches: no crash or over-read; a
 *       chain that verifies parses entry by entry, and never says
 *       "credited" for an invoice no credit entry names. */
#include "fuzz.h"

#include <stdio.h>

#include "wallet_topup.h"

#define FUZZ_ENTRIES 16

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned char invoice[BC_INVOICE_ID_LEN] = { 1, 1, 1, 1 };
    char err[128], back[BC_TOPUP_PRODUCT_LEN + 1], num[24];
    const char *e[FUZZ_ENTRIES];
    size_t elen[FUZZ_ENTRIES], n, i, start, len;
    uint64_t seq;
    unsigned char wid[BC_WALLET_ID_LEN];
    bc_wallet_state s;
    bc_chain_verdict v;
    char *in, *body;

    if (size == 0 || (in = fuzz_string(data, size)) == NULL) {
        return 0;
    }
    body = in + 1;
    len = size - 1;

    /* exact-size copies: the parsers must not read past len */
    if (in[0] == 'p') {
        char *p = malloc(len ? len : 1);

        if (p) {
            memcpy(p, body, len);
            if (bc_topup_product_wid(wid, p, len)) {
                FUZZ_ASSERT(bc_topup_reserved(p, len));
                bc_topup_product(back, wid);
                FUZZ_ASSERT(len == BC_TOPUP_PRODUCT_LEN && memcmp(back, p, len) == 0);
            }
            free(p);
        }
    } else if (in[0] == 'w') {
        char *p = malloc(len ? len : 1);

        if (p) {
            memcpy(p, body, len);
            if (bc_topup_wtop_value(&seq, p, len)) {
                snprintf(num, sizeof(num), "%llu", (unsigned long long) seq);
                FUZZ_ASSERT(strlen(num) == len && memcmp(num, p, len) == 0);
            }
            free(p);
        }
    } else {
        n = 0;
        start = 0;
        for (i = 0; i <= len && n < FUZZ_ENTRIES; i++) {
            if (i == len || body[i] == '\n') {
                e[n] = body + start;
                elen[n] = i - start;
                n++;
                start = i + 1;
            }
        }
        memset(&s, 0, sizeof(s));
        s.seq = n;
        if (n > 0) {
            bc_ledger_entry_hash(s.head, e[n - 1], elen[n - 1]);
        }
        v = bc_ledger_chain_check(&s, e, elen, n, invoice, &seq, err, sizeof(err));
        FUZZ_ASSERT(memchr(err, '\0', sizeof(err)) != NULL);
        if (v == BC_CHAIN_CREDITED) {
            FUZZ_ASSERT(seq >= 1 && seq <= n);
        }
        if (v == BC_CHAIN_OK) {
            /* every entry parsed and chained: the invoice is nowhere */
            for (i = 0; i < n; i++) {
                FUZZ_ASSERT(elen[i] > 0);
            }
        }
    }
    free(in);
    return 0;
}
