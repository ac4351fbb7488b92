#include <string.h>

#include "conditional.h"

static int
is_blank(char c)
{
    return c == ' ' || c == '\t';
}

int
bc_etag_list_match(const char *list, size_t len, const char *etag, size_t etag_len,
    int weak)
{
    const char *p = list, *end = list + len;

    if (len == 1 && list[0] == '*') {
        return 1;
    }
    if (etag == NULL) {
        return 0;
    }
    if (weak && etag_len > 2 && etag[0] == 'W' && etag[1] == '/') {
        etag += 2;
        etag_len -= 2;
    }

    while (p < end) {
        if (weak && end - p > 2 && p[0] == 'W' && p[1] == '/') {
            p += 2;
        }
        if (etag_len > (size_t) (end - p)) {
            return 0;
        }
        if (memcmp(p, etag, etag_len) == 0) {
            p += etag_len;
            while (p < end && is_blank(*p)) {
                p++;
            }
            if (p == end || *p == ',') {
                return 1;
            }
        }
        /* on to the next tag of the list */
        while (p < end && *p != ',') {
            p++;
        }
        while (p < end && (is_blank(*p) || *p == ',')) {
            p++;
        }
    }
    return 0;
}
