/* The key fetch script's reply parser (bc_keyfetch_parse), fed the
 * elements as Redis gives them (a Redis writer controls the record's
 * bytes, and so most of the reply): the input's NUL bytes separate the
 * strings. No crash, no read outside them; a key only from the one shape
 * the script gives, with a count of at least 1. */
#include "fuzz.h"

#include "sealkey.h"

#define MAX_STRINGS 8

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s[MAX_STRINGS];
    size_t len[MAX_STRINGS], n = 0, i, start = 0;
    char err[128], *copy;
    bc_keyfetch f;

    if (size > 4096 || (copy = malloc(size ? size : 1)) == NULL) {
        return 0;
    }
    memcpy(copy, data, size);
    for (i = 0; i <= size && n < MAX_STRINGS; i++) {
        if (i == size || copy[i] == '\0') {
            s[n] = copy + start;
            len[n] = i - start;
            n++;
            start = i + 1;
        }
    }

    if (bc_keyfetch_parse(&f, s, len, n, err, sizeof(err))) {
        FUZZ_ASSERT(f.status <= BC_KEYFETCH_INVALID);
        if (f.status == BC_KEYFETCH_KEY) {
            FUZZ_ASSERT(n == 5 && f.fetches >= 1 && len[0] == 3 && memcmp(s[0], "key", 3) == 0);
            FUZZ_ASSERT(len[3] == 2 * BC_SEALED_ID_LEN && len[4] == 2 * BC_SEALKEY_WRAPPED_LEN);
        }
        FUZZ_ASSERT(strlen(bc_keyfetch_status_str(f.status)) > 0);
    } else {
        FUZZ_ASSERT(strlen(err) < sizeof(err));
    }
    free(copy);
    return 0;
}
