/* Dates: see date.h. No libc time functions: timegm depends on the
 * environment, and a parser of typed input should not. */
#include "date.h"

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian), y >= 1970. */
static uint64_t
days_from_epoch(uint64_t y, unsigned m, unsigned d)
{
    /* Howard Hinnant's days_from_civil, for years after 1970 */
    uint64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = y / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int
leap(uint64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
digits(uint64_t *v, const char *s, size_t n)
{
    size_t i;

    *v = 0;
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        *v = *v * 10 + (uint64_t) (s[i] - '0');
    }
    return 1;
}

int
bc_date_parse(uint64_t *t, const char *s, size_t len)
{
    static const unsigned mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    uint64_t y, m, d, v;

    if (len == 10 && s[4] == '-' && s[7] == '-') {
        if (!digits(&y, s, 4) || !digits(&m, s + 5, 2) || !digits(&d, s + 8, 2)
            || y < 1970 || m < 1 || m > 12 || d < 1
            || d > mdays[m - 1] + (m == 2 && leap(y)))
        {
            return 0;
        }
        *t = days_from_epoch(y, (unsigned) m, (unsigned) d) * 86400;
        return 1;
    }
    if (len == 0 || len > 13 || (len > 1 && s[0] == '0') || !digits(&v, s, len)
        || v > 1000000000000ULL)
    {
        return 0;
    }
    *t = v;
    return 1;
}
