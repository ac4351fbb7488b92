/* The token record parser (bc_tokrec_parse), fed field/value lists as
 * HGETALL gives them (a Redis writer controls every byte): the input's
 * NUL bytes separate the strings. No crash, no read outside them, and
 * what it keeps lies inside the input. */
#include "fuzz.h"

#include "token_record.h"

#define MAX_STRINGS 200

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *kv[MAX_STRINGS];
    size_t kvlen[MAX_STRINGS], n, i;
    char err[128], *copy;
    bc_tokrec rec;

    if (size > 4096 || (copy = malloc(size ? size : 1)) == NULL) {
        return 0;
    }
    memcpy(copy, data, size);
    n = fuzz_split_kv(copy, size, kv, kvlen, MAX_STRINGS);

    if (bc_tokrec_parse(&rec, kv, kvlen, n, err, sizeof(err))) {
        FUZZ_ASSERT(rec.nfiles <= BC_TOKREC_FILES_MAX);
        for (i = 0; i < rec.nfiles; i++) {
            FUZZ_ASSERT(rec.files[i].drawn >= 0 && rec.files[i].drawn <= BC_TOKREC_BYTES_MAX);
            FUZZ_ASSERT(rec.files[i].name >= copy
                        && rec.files[i].name + rec.files[i].name_len <= copy + size);
        }
        FUZZ_ASSERT(rec.product == NULL
                    || (rec.product >= copy && rec.product + rec.product_len <= copy + size));
    } else {
        FUZZ_ASSERT(strlen(err) < sizeof(err));
    }
    free(copy);
    return 0;
}
