#include <ctype.h>
#include <string.h>

#include "amount.h"

static int
unit_is(const char *p, size_t n, const char *unit)
{
    size_t i;

    if (n != strlen(unit)) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (tolower((unsigned char) p[i]) != unit[i]) {
            return 0;
        }
    }
    return 1;
}

int
bc_parse_amount(uint64_t *sats, const char *s, size_t len, const char **err)
{
    const char *p = s, *end = s + len, *unit;
    uint64_t whole = 0, frac = 0;
    int digits = 0, decimals = 0, btc;

    while (p < end && *p == ' ') p++;
    while (end > p && end[-1] == ' ') end--;

    for (; p < end && isdigit((unsigned char) *p); p++, digits++) {
        if (whole > BC_MAX_SATS) {
            *err = "is more than 21 million BTC";
            return 0;
        }
        whole = whole * 10 + (uint64_t) (*p - '0');
    }
    if (p < end && *p == '.') {
        for (p++; p < end && isdigit((unsigned char) *p); p++, decimals++) {
            if (decimals == 8) {
                *err = "has more than 8 decimals (1 satoshi is 0.00000001 BTC)";
                return 0;
            }
            frac = frac * 10 + (uint64_t) (*p - '0');
        }
        if (decimals == 0) {
            *err = "has a decimal point without decimals";
            return 0;
        }
    }
    if (digits == 0) {
        *err = "is not an amount (write 12345, \"12345 sats\" or \"0.0005 BTC\")";
        return 0;
    }

    while (p < end && *p == ' ') p++;
    unit = p;
    btc = unit_is(unit, (size_t) (end - unit), "btc");
    if (!btc && unit != end && !unit_is(unit, (size_t) (end - unit), "sats")
        && !unit_is(unit, (size_t) (end - unit), "sat"))
    {
        *err = "has an unknown unit (sats or BTC)";
        return 0;
    }
    if (!btc && decimals) {
        *err = "has decimals but is in satoshis (add BTC, or drop the decimals)";
        return 0;
    }

    if (btc) {
        for (; decimals < 8; decimals++) {
            frac *= 10;
        }
        if (whole > BC_MAX_SATS / 100000000) {
            *err = "is more than 21 million BTC";
            return 0;
        }
        whole = whole * 100000000 + frac;
    }
    if (whole == 0) {
        *err = "is zero";
        return 0;
    }
    if (whole > BC_MAX_SATS) {
        *err = "is more than 21 million BTC";
        return 0;
    }
    *sats = whole;
    return 1;
}
