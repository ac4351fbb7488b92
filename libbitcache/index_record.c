#include <stdio.h>
#include <string.h>

#include "hash.h"
#include "hex.h"
#include "index_record.h"
#include "secp_context.h"

int
bc_wallet_key_id(char out[BC_WALLET_ID_HEX + 1], const bc_wallet *w)
{
    unsigned char buf[1 + 33 + 32], h[32];
    size_t len = 33;
    const secp256k1_context *ctx = bc_secp_context();

    /* the type too: a vpub and an upub of one key pay to other scripts,
     * and sharing a counter would leave gaps in both */
    buf[0] = (unsigned char) w->type;
    if (ctx == NULL
        || !secp256k1_ec_pubkey_serialize(ctx, buf + 1, &len, &w->chain[0].pubkey,
                                          SECP256K1_EC_COMPRESSED)
        || len != 33)
    {
        return 0;
    }
    memcpy(buf + 34, w->chain[0].chain_code, 32);
    if (!bc_tagged_hash(h, "bitcache/v1/wallet-id", buf, sizeof(buf))) {
        return 0;
    }
    bc_hex_encode(out, h, BC_WALLET_ID_HEX / 2);
    return 1;
}

uint64_t
bc_reuse_after(uint64_t expires)
{
    return expires + BC_INVOICE_GRACE + BC_REUSE_SLACK;
}

int
bc_reuse_member_parse(uint32_t *index, const char *s, size_t len)
{
    uint64_t v = 0;
    size_t i;

    if (len != 10) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
        v = v * 10 + (uint64_t) (s[i] - '0');
    }
    if (v >= 0x80000000ULL) {          /* hardened: not derivable from a public key */
        return 0;
    }
    *index = (uint32_t) v;
    return 1;
}

void
bc_reuse_member(char out[11], uint32_t index)
{
    snprintf(out, 11, "%010u", (unsigned) (index & 0x7fffffffu));
}

bc_index_reply
bc_index_reply_parse(uint32_t *index, int is_string, const char *s, size_t len,
    long long integer)
{
    if (is_string) {
        return s != NULL && bc_reuse_member_parse(index, s, len) ? BC_INDEX_REPLY_REUSED
                                                                : BC_INDEX_REPLY_BAD;
    }
    /* INCR's answer: 1 for index 0 .. 2^31 for index 2^31 - 1 */
    if (integer < 1 || integer > 0x80000000LL) {
        return BC_INDEX_REPLY_BAD;
    }
    *index = (uint32_t) (integer - 1);
    return BC_INDEX_REPLY_NEW;
}
