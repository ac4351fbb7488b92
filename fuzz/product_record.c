/* The catalog record parser (bc_product_record_parse) and the module's
 * decision against its high-water mark (bc_catalog_decide), fed
 * field/value lists as HGETALL gives them (a Redis writer controls every
 * byte): the input's NUL bytes separate the strings. No crash, no read
 * outside them, what it keeps lies inside the input, the terms of version
 * 3 (suggested price, giveaway) are within bounds and never read from an
 * older record, what parses is written back by its argv to the same terms,
 * and no record below the mark is ever used. */
#include "fuzz.h"

#include "giveaway.h"
#include "invoice_record.h"

#define MAX_STRINGS 64

static int
inside(const char *p, size_t len, const char *buf, size_t size)
{
    return len == 0 || (p >= buf && p + len <= buf + size);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *kv[MAX_STRINGS];
    size_t kvlen[MAX_STRINGS], n, i;
    char err[128], *copy;
    uint64_t mark, before;
    bc_product_record rec;
    bc_catalog_verdict v;

    if (size > 8192 || (copy = malloc(size ? size : 1)) == NULL) {
        return 0;
    }
    memcpy(copy, data, size);
    n = fuzz_split_kv(copy, size, kv, kvlen, MAX_STRINGS);

    if (bc_product_record_parse(&rec, kv, kvlen, n, err, sizeof(err))) {
        FUZZ_ASSERT(rec.terms.version >= 1 && rec.terms.version <= 3);
        FUZZ_ASSERT(rec.terms.version >= 2 ? rec.terms.seq >= 1 : (rec.terms.seq == 0 && rec.terms.price >= 1));
        FUZZ_ASSERT(rec.terms.suggested <= 2100000000000000ull && rec.terms.free <= BC_FREE_MAX
                    && rec.terms.free_window <= BC_FREE_WINDOW_MAX);
        if (rec.terms.version < 3) {
            FUZZ_ASSERT(rec.terms.suggested == 0 && rec.terms.free == 0 && rec.terms.free_window == 0);
        }
        {
            const char *argv[BC_PRODUCT_ARGV_MAX];
            size_t lens[BC_PRODUCT_ARGV_MAX], an;
            bc_product_argv_buf buf;
            bc_product_record back;
            char err2[128];

            an = bc_product_record_argv(argv, lens, &buf, &rec);
            FUZZ_ASSERT(an <= BC_PRODUCT_ARGV_MAX && an % 2 == 0);
            FUZZ_ASSERT(bc_product_record_parse(&back, argv, lens, an, err2, sizeof(err2)));
            FUZZ_ASSERT(back.terms.version == rec.terms.version && back.terms.seq == rec.terms.seq
                        && back.terms.price == rec.terms.price
                        && back.terms.suggested == rec.terms.suggested
                        && back.terms.free == rec.terms.free
                        && back.terms.free_window == rec.terms.free_window
                        && back.terms.wallet_len == rec.terms.wallet_len
                        && back.terms.title_len == rec.terms.title_len
                        && memcmp(back.mac, rec.mac, 32) == 0);
        }
        FUZZ_ASSERT(rec.terms.price <= 2100000000000000ull);
        FUZZ_ASSERT(rec.terms.wallet_len <= BC_OFFER_FIELD_MAX && rec.terms.title_len <= BC_OFFER_FIELD_MAX);
        FUZZ_ASSERT(inside(rec.terms.wallet, rec.terms.wallet_len, copy, size));
        FUZZ_ASSERT(inside(rec.terms.title, rec.terms.title_len, copy, size));

        /* against marks below, at and above the record's seq */
        for (i = 0; i < 3; i++) {
            before = mark = i == 0 ? 0 : i == 1 ? rec.terms.seq : rec.terms.seq + 1;
            v = bc_catalog_decide(&rec, &mark);
            FUZZ_ASSERT(mark >= before);
            if (before && (rec.terms.version < 2 || rec.terms.seq < before)) {
                FUZZ_ASSERT(v == BC_CATALOG_ROLLED_BACK && mark == before);
            }
            if (v == BC_CATALOG_USE) {
                FUZZ_ASSERT(rec.terms.price > 0);
            }
        }
    } else {
        FUZZ_ASSERT(strlen(err) < sizeof(err));
        mark = 7;
        FUZZ_ASSERT(bc_catalog_decide(NULL, &mark) == BC_CATALOG_ROLLED_BACK && mark == 7);
    }
    free(copy);
    return 0;
}
