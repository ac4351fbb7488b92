/* bitcache_cors_origins' values (bc_cors_origin_check): read once from
 * the configuration, but then compared byte for byte with browsers'
 * Origin headers and sent back in Access-Control-Allow-Origin, so what
 * passes must be a bare origin. Properties: an accepted value is
 * "http://" or "https://", a host of lower-case letters, digits, '-' and
 * '.' (not starting with '.' or '-', not ending with '.') or a bracketed
 * IPv6 literal of hex digits, ':' and '.', then at most ":port" with a
 * port 1..65535 without a leading zero; no byte a header could be split
 * with; a refusal always says why. */
#include "fuzz.h"

#include "cors.h"

static int
host_byte(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[160];
    const char *s, *end;
    size_t i, h, n;
    unsigned long port;
    char *copy = fuzz_string(data, size);

    if (copy == NULL) {
        return 0;
    }
    err[0] = '\0';
    if (!bc_cors_origin_check(copy, size, err, sizeof(err))) {
        FUZZ_ASSERT(err[0] != '\0' && strlen(err) < sizeof(err));
        free(copy);
        return 0;
    }
    FUZZ_ASSERT(err[0] == '\0');
    for (i = 0; i < size; i++) {
        FUZZ_ASSERT(copy[i] > 0x20 && copy[i] < 0x7f && copy[i] != ',' && copy[i] != '/'
                    ? 1 : (copy[i] == '/' && i >= 5 && i <= 7));
    }
    if (size >= 8 && memcmp(copy, "https://", 8) == 0) {
        s = copy + 8;
    } else {
        FUZZ_ASSERT(size >= 7 && memcmp(copy, "http://", 7) == 0);
        s = copy + 7;
    }
    end = copy + size;
    n = (size_t) (end - s);
    if (n > 0 && s[0] == '[') {
        for (h = 1; h < n && s[h] != ']'; h++) {
            FUZZ_ASSERT((s[h] >= '0' && s[h] <= '9') || (s[h] >= 'a' && s[h] <= 'f')
                        || s[h] == ':' || s[h] == '.');
        }
        FUZZ_ASSERT(h >= 2 && h < n);
        h++;
    } else {
        for (h = 0; h < n && s[h] != ':'; h++) {
            FUZZ_ASSERT(host_byte(s[h]));
        }
        FUZZ_ASSERT(h >= 1 && s[0] != '.' && s[0] != '-' && s[h - 1] != '.');
    }
    if (h < n) {
        FUZZ_ASSERT(s[h] == ':' && n - h >= 2 && n - h <= 6 && s[h + 1] != '0');
        for (port = 0, i = h + 1; i < n; i++) {
            FUZZ_ASSERT(s[i] >= '0' && s[i] <= '9');
            port = port * 10 + (unsigned long) (s[i] - '0');
        }
        FUZZ_ASSERT(port >= 1 && port <= 65535);
    }
    free(copy);
    return 0;
}
