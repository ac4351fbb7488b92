/* Wallet ids: every spelling of one key and derivation point shares one,
 * other types, paths and keys get their own; the reuse: member and the
 * index script's reply parsers. The expected id of wpkh(TPUB/STAR) was
 * computed apart from this code (Python: the key's own public key and
 * chain code, hashed as docs/protocol.md says). */
#include <stdio.h>
#include <string.h>

#include "extkey.h"
#include "index_record.h"
#include "invoice.h"
#include "wallet.h"
#include "tap.h"

#define TPUB "tpubDDPRy5xWxJTuVmsh7YRzK8o2EdMWgn4t41fTLxXRgyRN7EKvN2L8BKCFC1gUfPu8Xp6rr667" \
             "Yc26zrXsiBZsgBc8dQiYnhPNk2Q7CsBrer5"

/* the id of a wallet text, "" if it does not parse */
static const char *
id_of(char out[17], const char *text)
{
    const char *err = NULL;
    bc_wallet w;

    out[0] = '\0';
    if (!bc_wallet_parse(&w, text, 3, &err) || !bc_wallet_key_id(out, &w)) {
        diag("%s: %s", text, err ? err : "no id");
        out[0] = '\0';
    }
    return out;
}

/* text with its checksum appended */
static const char *
with_sum(char *out, size_t outlen, const char *text)
{
    char sum[9];

    if (!bc_descriptor_checksum(sum, text, strlen(text))) return "";
    snprintf(out, outlen, "%s#%s", text, sum);
    return out;
}

/* the tpub as another SLIP-132 version (vpub, upub) */
static const char *
as_version(char *out, size_t outlen, const char *version)
{
    const char *err;
    bc_extpub k;

    if (!bc_extpub_parse(&k, TPUB, &err)
        || !bc_extpub_serialize(out, outlen, &k, bc_extkey_version_named(version)))
    {
        return "";
    }
    return out;
}

int
main(void)
{
    char base[17], id[17], vpub[BC_EXTKEY_STR_MAX], upub[BC_EXTKEY_STR_MAX], buf[600],
         m[11];
    const char *same[8], *other[6];
    size_t i;
    uint32_t index = 99;

    /* the same addresses, spelled in every way the wallet parser takes */
    id_of(base, "wpkh(" TPUB "/0/*)");
    ok(strlen(base) == 16, "an id of 16 hex digits: %s", base);
    same[0] = as_version(vpub, sizeof(vpub), "vpub");
    same[1] = with_sum(buf, sizeof(buf), "wpkh(" TPUB "/0/*)");
    same[2] = "wpkh([d34db33f/84'/1'/0']" TPUB "/0/*)";
    same[3] = "wpkh([D34DB33F/84h/1h/0h]" TPUB "/0/*)";
    same[4] = "wpkh([00000000/84h/1h/0h]" TPUB "/0/*)";
    for (i = 0; i < 5; i++) {
        is_str(id_of(id, same[i]), base, "same key and path: %.40s...", same[i]);
    }
    /* the other address types, derivation points and keys differ */
    other[0] = as_version(upub, sizeof(upub), "upub");
    other[1] = "wpkh(" TPUB "/1/*)";
    other[2] = "wpkh(" TPUB "/0/0/*)";
    other[3] = "sh(wpkh(" TPUB "/0/*))";
    other[4] = "tr(" TPUB "/0/*)";
    other[5] = "pkh(" TPUB "/0/*)";
    for (i = 0; i < 6; i++) {
        id_of(id, other[i]);
        ok(id[0] != '\0' && strcmp(id, base) != 0, "another wallet: %.40s... (%s)", other[i], id);
    }
    is_str(id_of(id, "sh(wpkh(" TPUB "/0/*))"), id_of(buf, upub), "upub = sh(wpkh(tpub/0/*))");
    /* the derivation point is the key itself: its public key and chain
     * code, as an independent implementation computes them */
    is_str(id_of(id, "wpkh(" TPUB "/*)"), "c19fd4f40e001c1a", "wpkh(TPUB/*): the vector");
    is_str(id_of(id, "pkh(" TPUB "/*)"), "5616aa9ccb8c4df2", "pkh(TPUB/*): the vector");
    is_str(id_of(id, "tr(" TPUB "/*)"), "4133595cd1e1262b", "tr(TPUB/*): the vector");

    /* the legacy id is the text's: spellings differ there (the bug) */
    bc_wallet_id(id, vpub, strlen(vpub));
    bc_wallet_id(buf, same[2], strlen(same[2]));
    ok(strcmp(id, buf) != 0, "legacy ids of two spellings differ: %s %s", id, buf);

    /* reuse: members */
    ok(bc_reuse_member_parse(&index, "0000000000", 10) && index == 0, "member 0");
    ok(bc_reuse_member_parse(&index, "0000000017", 10) && index == 17, "member 17");
    ok(bc_reuse_member_parse(&index, "2147483647", 10) && index == 2147483647u, "member 2^31-1");
    ok(!bc_reuse_member_parse(&index, "2147483648", 10), "2^31: hardened, refused");
    ok(!bc_reuse_member_parse(&index, "9999999999", 10), "past 2^32: refused");
    ok(!bc_reuse_member_parse(&index, "17", 2), "unpadded: refused (one spelling per index)");
    ok(!bc_reuse_member_parse(&index, "00000000017", 11), "11 digits: refused");
    ok(!bc_reuse_member_parse(&index, "", 0), "empty: refused");
    ok(!bc_reuse_member_parse(&index, "-000000001", 10), "sign: refused");
    ok(!bc_reuse_member_parse(&index, "000000001 ", 10), "space: refused");
    ok(!bc_reuse_member_parse(&index, "000000001\0", 10), "NUL: refused");
    bc_reuse_member(m, 4711);
    is_str(m, "0000004711", "member of 4711");
    bc_reuse_member(m, 2147483647u);
    is_str(m, "2147483647", "member of 2^31-1");
    ok(bc_reuse_after(1000) == 1000 + 86400 + 300, "reusable a day and 5 minutes after expiry");

    /* the index script's replies */
    ok(bc_index_reply_parse(&index, 0, NULL, 0, 1) == BC_INDEX_REPLY_NEW && index == 0,
       "INCR 1: index 0");
    ok(bc_index_reply_parse(&index, 0, NULL, 0, 0x80000000LL) == BC_INDEX_REPLY_NEW
       && index == 0x7fffffffu, "INCR 2^31: the last index");
    ok(bc_index_reply_parse(&index, 0, NULL, 0, 0x80000001LL) == BC_INDEX_REPLY_BAD,
       "INCR past 2^31: refused");
    ok(bc_index_reply_parse(&index, 0, NULL, 0, 0) == BC_INDEX_REPLY_BAD, "INCR 0: refused");
    ok(bc_index_reply_parse(&index, 0, NULL, 0, -5) == BC_INDEX_REPLY_BAD, "negative: refused");
    ok(bc_index_reply_parse(&index, 1, "0000000017", 10, 0) == BC_INDEX_REPLY_REUSED && index == 17,
       "member 17: reused");
    ok(bc_index_reply_parse(&index, 1, "x", 1, 0) == BC_INDEX_REPLY_BAD, "member x: refused");
    ok(bc_index_reply_parse(&index, 1, NULL, 0, 0) == BC_INDEX_REPLY_BAD, "no string: refused");

    return done_testing();
}
