/* libFuzzer target: bc_cors_origin_check (bitcache_cors_origins and every
 * request's Origin header). What it accepts must be a byte-exact origin
 * as browsers send it: nothing that could carry a path, a query, a header
 * break or another case of the same host. */
#include "fuzz.h"
#include "cors.h"

static int
allowed_byte(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
           || c == '-' || c == '.' || c == ':' || c == '[' || c == ']';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char    *s, err[64], tiny[2];
    size_t   i, rest;
    int      r, again;

    if ((s = fuzz_string(data, size)) == NULL) {
        return 0;
    }

    err[0] = '\0';
    tiny[0] = tiny[1] = 'x';
    r = bc_cors_origin_check(s, size, err, sizeof(err));
    again = bc_cors_origin_check(s, size, NULL, 0);
    (void) bc_cors_origin_check(s, size, tiny, sizeof(tiny));

    /* a reason is written only on refusal, and always terminated */
    if (r != again || (r != 0 && r != 1)
        || (r == 0 && tiny[sizeof(tiny) - 1] != '\0')
        || (r == 1 && (err[0] != '\0' || tiny[0] != 'x')))
    {
        abort();
    }

    if (r == 0) {
        /* a reason, terminated within the buffer */
        if (err[0] == '\0' || memchr(err, '\0', sizeof(err)) == NULL) {
            abort();
        }
        free(s);
        return 0;
    }

    if (size >= 8 && memcmp(s, "https://", 8) == 0) {
        rest = 8;
    } else if (size >= 7 && memcmp(s, "http://", 7) == 0) {
        rest = 7;
    } else {
        abort();
    }

    if (rest == size) {
        abort();                /* no host */
    }

    for (i = rest; i < size; i++) {
        if (!allowed_byte(s[i])) {
            abort();
        }
    }

    free(s);
    return 0;
}
