/* Origins as browsers write them (RFC 6454 section 6.1), checked once when
 * nginx reads its configuration. */
#include <stdio.h>
#include <string.h>

#include "cors.h"

static int
fail(char *err, size_t errlen, const char *why)
{
    if (errlen) {
        snprintf(err, errlen, "%s", why);
    }
    return 0;
}

static int
is_host_byte(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static int
is_v6_byte(char c)
{
    return (c >= 'a' && c <= 'f') || (c >= '0' && c <= '9') || c == ':' || c == '.';
}

int
bc_cors_origin_check(const char *s, size_t len, char *err, size_t errlen)
{
    size_t    i, start;
    unsigned  port;

    if (len >= 7 && memcmp(s, "http://", 7) == 0) {
        i = 7;
    } else if (len >= 8 && memcmp(s, "https://", 8) == 0) {
        i = 8;
    } else {
        return fail(err, errlen, "must start with http:// or https://");
    }

    start = i;

    if (i < len && s[i] == '[') {
        for (i++; i < len && is_v6_byte(s[i]); i++) { /* void */ }
        if (i == start + 1 || i >= len || s[i] != ']') {
            return fail(err, errlen, "has a bad IPv6 literal");
        }
        i++;

    } else {
        for (/* void */; i < len && is_host_byte(s[i]); i++) { /* void */ }
        if (i == start || s[start] == '.' || s[i - 1] == '.' || s[start] == '-') {
            return fail(err, errlen, "has no host, or a host that is not "
                        "lower-case letters, digits, '-' and '.'");
        }
    }

    if (i == len) {
        return 1;
    }

    if (s[i] != ':') {
        return fail(err, errlen, "has something after the host: no path, "
                    "no trailing '/', lower-case host");
    }

    i++;
    if (i == len || s[i] == '0' || len - i > 5) {
        return fail(err, errlen, "has a bad port");
    }

    for (port = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return fail(err, errlen, "has a bad port");
        }
        port = port * 10 + (unsigned) (s[i] - '0');
    }

    if (port > 65535) {
        return fail(err, errlen, "has a bad port");
    }

    return 1;
}
