/* bc_date_parse: --since's dates, against values from `date -u -d ... +%s`. */
#include <string.h>

#include "date.h"
#include "tap.h"

static void
good(const char *s, uint64_t want)
{
    uint64_t t = 1;

    ok(bc_date_parse(&t, s, strlen(s)) && t == want, "%s is %llu", s, (unsigned long long) want);
}

static void
bad(const char *s)
{
    uint64_t t;

    ok(!bc_date_parse(&t, s, strlen(s)), "\"%s\" refused", s);
}

int
main(void)
{
    good("1970-01-01", 0);
    good("2026-12-01", 1796083200);
    good("2000-02-29", 951782400);
    good("2024-03-01", 1709251200);
    good("9999-12-31", 253402214400ULL);
    good("0", 0);
    good("1767225600", 1767225600);
    good("1000000000000", 1000000000000ULL);
    bad("");
    bad("1969-12-31");
    bad("2026-13-01");
    bad("2026-02-29");
    bad("1900-02-29");
    bad("2026-00-10");
    bad("2026-01-00");
    bad("2026-04-31");
    bad("2026-1-01");
    bad("2026/01/01");
    bad("01767225600");
    bad("-5");
    bad("1000000000001");
    bad("12a");
    bad("2026-01-01T00:00:00Z");
    return done_testing();
}
