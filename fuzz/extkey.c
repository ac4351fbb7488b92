/* Extended keys: no crash; a key that parses serializes back to the same
 * text and has a non-hardened child; a private key is never accepted. */
#include "address.h"
#include "extkey.h"
#include "wallet.h"

#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char again[BC_EXTKEY_STR_MAX];
    const char *err = NULL;
    bc_extpub k, child;
    char *s = fuzz_string(data, size);
    int private;

    if (s == NULL) {
        return 0;
    }
    private = bc_key_is_private(s, &err);
    if (bc_extpub_parse(&k, s, &err)) {
        FUZZ_ASSERT(!private);
        FUZZ_ASSERT(bc_extpub_serialize(again, sizeof(again), &k, NULL));
        FUZZ_ASSERT(strcmp(again, s) == 0);
        (void) bc_extpub_derive(&child, &k, 7, &err);
    } else {
        FUZZ_ASSERT(err != NULL);
    }
    FUZZ_ASSERT(!fuzz_wallet(s) || !private);
    free(s);
    return 0;
}
