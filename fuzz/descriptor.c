/* Descriptors: no crash; one that parses has a canonical form that parses
 * to the same canonical form; a wallet from it derives an address. */
#include "address.h"
#include "descriptor.h"
#include "wallet.h"

#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char canon[BC_DESC_MAX_LEN + 16], again[BC_DESC_MAX_LEN + 16], sum[9];
    const char *err = NULL;
    bc_descriptor d;
    size_t body;
    char *s = fuzz_string(data, size);

    if (s == NULL) {
        return 0;
    }
    (void) bc_descriptor_checksum(sum, s, strlen(s));
    (void) bc_descriptor_check(&body, s, &err);
    if (bc_descriptor_parse(&d, s, &err)) {
        FUZZ_ASSERT(bc_descriptor_format(canon, sizeof(canon), &d));
        FUZZ_ASSERT(bc_descriptor_parse(&d, canon, &err));
        FUZZ_ASSERT(bc_descriptor_format(again, sizeof(again), &d));
        FUZZ_ASSERT(strcmp(canon, again) == 0);
    } else {
        FUZZ_ASSERT(err != NULL);
    }
    (void) fuzz_wallet(s);
    free(s);
    return 0;
}
