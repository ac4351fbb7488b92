/* Base58 and Base58Check decoders: no crash on any input, and whatever
 * decodes encodes back to the same text (the encoding is canonical). */
#include "fuzz.h"

#include "base58.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char bin[BC_BASE58_MAX_CHARS];
    char again[2 * BC_BASE58_MAX_CHARS];
    size_t n = sizeof(bin);
    const char *err = NULL;
    char *s = fuzz_string(data, size);

    if (s == NULL) {
        return 0;
    }
    if (bc_base58_decode(bin, &n, s, strlen(s), &err)) {
        if (n <= 96) {
            FUZZ_ASSERT(bc_base58_encode(again, sizeof(again), bin, n));
            FUZZ_ASSERT(strcmp(again, s) == 0);
        }
    } else {
        FUZZ_ASSERT(err != NULL);
    }
    n = sizeof(bin);
    if (bc_base58check_decode(bin, &n, s, strlen(s), &err) && n <= 92) {
        FUZZ_ASSERT(bc_base58check_encode(again, sizeof(again), bin, n));
        FUZZ_ASSERT(strcmp(again, s) == 0);
    }
    free(s);
    return 0;
}
