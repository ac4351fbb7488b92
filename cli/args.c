#include <ctype.h>

#include "args.h"

int
parse_uint(uint64_t *out, const char *s, uint64_t max)
{
    uint64_t v = 0;

    if (*s == '\0') {
        return 0;
    }
    for (; *s; s++) {
        uint64_t digit = (uint64_t) (*s - '0');

        if (!isdigit((unsigned char) *s) || v > max / 10
            || (v == max / 10 && digit > max % 10))
        {
            return 0;
        }
        v = v * 10 + digit;
    }
    *out = v;
    return 1;
}

int
parse_duration(uint64_t *out, const char *s)
{
    const uint64_t limit = 100ULL * 365 * 86400;   /* a century is enough */
    uint64_t total = 0, n, unit;
    int digits;

    if (*s == '\0') {
        return 0;
    }
    while (*s) {
        n = 0;
        for (digits = 0; isdigit((unsigned char) *s); s++, digits++) {
            if (n > limit) {
                return 0;
            }
            n = n * 10 + (uint64_t) (*s - '0');
        }
        if (digits == 0) {
            return 0;
        }
        switch (*s) {
        case '\0': unit = 1; break;
        case 's': unit = 1; s++; break;
        case 'm': unit = 60; s++; break;
        case 'h': unit = 3600; s++; break;
        case 'd': unit = 86400; s++; break;
        case 'w': unit = 7 * 86400; s++; break;
        default: return 0;
        }
        if (n > limit / unit || total + n * unit > limit) {
            return 0;
        }
        total += n * unit;
    }
    if (total == 0) {
        return 0;
    }
    *out = total;
    return 1;
}
