/* Wallet ids and the index records: no crash; a wallet that parses has
 * the same id as its canonical descriptor (every spelling shares one
 * counter); a reuse: member that parses is written back the same way, so
 * each index has one spelling in the set. */
#include "address.h"
#include "index_record.h"
#include "wallet.h"

#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char id[BC_WALLET_ID_HEX + 1], again[BC_WALLET_ID_HEX + 1], canon[BC_DESC_MAX_LEN + 16],
         m[11];
    const char *err = NULL;
    uint32_t index;
    bc_wallet w;
    char *s = fuzz_string(data, size);

    if (s == NULL) {
        return 0;
    }
    if (bc_reuse_member_parse(&index, s, size)) {
        bc_reuse_member(m, index);
        FUZZ_ASSERT(strlen(m) == size && memcmp(m, s, size) == 0);
    }
    (void) bc_index_reply_parse(&index, 1, s, size, 0);
    if (bc_wallet_parse(&w, s, -1, &err)) {
        FUZZ_ASSERT(bc_wallet_key_id(id, &w));
        FUZZ_ASSERT(bc_wallet_descriptor(canon, sizeof(canon), &w));
        FUZZ_ASSERT(bc_wallet_parse(&w, canon, -1, &err));
        FUZZ_ASSERT(bc_wallet_key_id(again, &w));
        FUZZ_ASSERT(strcmp(id, again) == 0);
    }
    free(s);
    return 0;
}
