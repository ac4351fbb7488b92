/* bc_date_parse (`bitcache sales --since`): no read outside the input, and
 * what parses spells back exactly: a date through gmtime_r, seconds as
 * decimal. */
#include <stdio.h>
#include <time.h>

#include "fuzz.h"

#include "date.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char back[32], *s;
    uint64_t t;
    struct tm tm;
    time_t tt;

    if ((s = fuzz_string(data, size)) == NULL) {
        return 0;
    }
    if (bc_date_parse(&t, s, size)) {
        if (size == 10 && s[4] == '-') {
            tt = (time_t) t;
            if (t % 86400 != 0 || gmtime_r(&tt, &tm) == NULL
                || strftime(back, sizeof(back), "%Y-%m-%d", &tm) != 10
                || memcmp(back, s, 10) != 0)
            {
                abort();
            }
        } else {
            snprintf(back, sizeof(back), "%llu", (unsigned long long) t);
            if (strlen(back) != size || memcmp(back, s, size) != 0) abort();
        }
    }
    free(s);
    return 0;
}
