/* Prices parsed without floating point. */
#include <string.h>

#include "amount.h"
#include "tap.h"

static uint64_t
amount(const char *s, const char **err)
{
    uint64_t v = 0;

    *err = NULL;
    return bc_parse_amount(&v, s, strlen(s), err) ? v : 0;
}

int
main(void)
{
    static const struct { const char *in; uint64_t sats; } good[] = {
        { "12345", 12345 }, { "12345 sats", 12345 }, { "1 sat", 1 }, { " 7 SATS ", 7 },
        { "0.0005 BTC", 50000 }, { "0.00000001 btc", 1 }, { "1 BTC", 100000000 },
        { "0.1 BTC", 10000000 }, { "21000000 BTC", 2100000000000000ULL },
        { "0.00012345 BTC", 12345 }, { "1.5BTC", 150000000 },
    };
    static const struct { const char *in; const char *why; } bad[] = {
        { "", "not an amount" }, { "BTC", "not an amount" }, { "0", "zero" },
        { "0.000000001 BTC", "more than 8 decimals" }, { "1e-3 BTC", "unknown unit" },
        { "1.5", "decimals but is in satoshis" }, { "12 euros", "unknown unit" },
        { "21000001 BTC", "more than 21 million" }, { "-5", "not an amount" },
        { "1. BTC", "decimal point without decimals" },
        { "99999999999999999999999", "more than 21 million" },
    };
    const char *err;
    size_t i;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        ok(amount(good[i].in, &err) == good[i].sats, "\"%s\" = %llu sats", good[i].in,
           (unsigned long long) good[i].sats);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ok(amount(bad[i].in, &err) == 0 && err && strstr(err, bad[i].why),
           "\"%s\" refused: %s", bad[i].in, err ? err : "(accepted)");
    }
    return done_testing();
}
