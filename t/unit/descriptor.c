/* Descriptors: BIP380's checksum and key-expression vectors, the four
 * script types, and error messages that point at the character. */
#include "tap.h"
#include "vectors.h"

#include "descriptor.h"
#include "wallet.h"

#define XPUB "xpub6ERApfZwUNrhLCkDtcHTcxd75RbzS1ed54G1LkBUHQVHQKqhMkhgbmJbZRkrgZw4koxb5JaHWkY4ALHY2grBGRjaDMzQLcgJvLJuZZvRcEL"

static int
refused_with(const char *text, const char *words, const char **err)
{
    bc_wallet w;

    return !bc_wallet_parse(&w, text, -1, err) && strstr(*err, words) != NULL;
}

int
main(void)
{
    char *f[VEC_MAX_FIELDS], buf[BC_DESC_MAX_LEN + 16], sum[9];
    FILE *in = vec_open("bip380-checksum.tsv");
    const char *err = NULL;
    bc_descriptor d;
    bc_wallet w;
    size_t body;

    while (vec_next(in, f, "\t") >= 3) {
        int r;

        vec_unescape(f[1]);
        r = bc_descriptor_check(&body, f[1], &err);
        if (strcmp(f[0], "valid") == 0) {
            ok(r, "BIP380 checksum: %s (%s)", f[2], f[1]);
        } else {
            ok(!r, "BIP380 checksum refused: %s -> %s", f[2], r ? "accepted" : err);
        }
    }
    ok(bc_descriptor_checksum(sum, "raw(deadbeef)", 13), "checksum computed");
    is_str(sum, "89f8spxm", "  equals BIP380's");

    /* Key expressions inside wpkh(): Bitcache takes only ranged extended
     * public keys; every private key is refused as such. */
    in = vec_open("bip380-keys.tsv");
    while (vec_next(in, f, "\t") >= 3) {
        int is_private = strstr(f[1], "prv") != NULL || f[1][0] == 'L' || f[1][0] == '5'
                         || strstr(f[1], "]L") != NULL;
        int ranged_pub = strstr(f[1], "xpub") && strstr(f[1], "/*") && !strstr(f[1], "*h")
                         && !strstr(f[1], "h/*");
        int r;

        snprintf(buf, sizeof(buf), "wpkh(%s)", f[1]);
        r = bc_wallet_parse(&w, buf, -1, &err);
        if (strcmp(f[0], "valid") == 0 && ranged_pub) {
            ok(r, "BIP380 key accepted: %s", f[2]);
        } else if (is_private && strcmp(f[0], "valid") == 0) {
            ok(!r && strstr(err, BC_NEVER_PRIVATE), "BIP380 private key refused: %s: %s", f[2],
               r ? "accepted" : err);
        } else {
            if (is_private && r == 0 && strstr(err, BC_NEVER_PRIVATE) == NULL) {
                diag("(malformed, so refused for its syntax first)");
            }
            ok(!r, "BIP380 %s key refused (%s): %s", f[0], f[2], r ? "accepted" : err);
        }
    }

    /* the four types, with origin and checksum round trip */
    {
        static const char *shapes[] = { "pkh(%s)", "sh(wpkh(%s))", "wpkh(%s)", "tr(%s)" };
        static const bc_addr_type types[] = { BC_P2PKH, BC_P2SH_P2WPKH, BC_P2WPKH, BC_P2TR };
        char key[300], canon[BC_DESC_MAX_LEN + 16], again[BC_DESC_MAX_LEN + 16];
        size_t i;

        snprintf(key, sizeof(key), "[deadbeef/84'/0h/0']%s/0/*", XPUB);
        for (i = 0; i < 4; i++) {
            snprintf(buf, sizeof(buf), shapes[i], key);
            ok(bc_descriptor_parse(&d, buf, &err) && d.type == types[i] && d.has_origin
               && d.origin_steps == 3 && d.steps == 1 && !d.has_checksum, "parses %.12s", buf);
            ok(bc_descriptor_format(canon, sizeof(canon), &d)
               && bc_descriptor_parse(&d, canon, &err) && d.has_checksum
               && bc_descriptor_format(again, sizeof(again), &d) && strcmp(canon, again) == 0,
               "canonical form with checksum round-trips: %s", canon);
        }
    }

    /* errors say what and where */
    ok(refused_with("wpkh(" XPUB "/0/*)#aaaaaaaa", "bad descriptor checksum", &err),
       "bad checksum: %s", err);
    ok(refused_with("wpkh(" XPUB "/0/*", "expected ')' at character 121", &err),
       "missing paren: %s", err);
    ok(refused_with("wsh(" XPUB "/0/*)", "expected pkh(", &err), "unknown script: %s", err);
    ok(refused_with("wpkh(" XPUB ")", "ranged", &err), "not ranged: %s", err);
    ok(refused_with("wpkh(" XPUB "/0h/*)", "private key", &err), "hardened step: %s", err);
    ok(refused_with("wpkh(" XPUB "/0/*h)", "private key", &err), "hardened wildcard: %s", err);
    ok(refused_with("wpkh([dead/0]" XPUB "/0/*)", "8 hex digits", &err), "short fingerprint: %s", err);
    ok(refused_with("sh(pkh(" XPUB "/0/*))", "sh(wpkh(KEY)) only", &err), "sh(pkh): %s", err);
    ok(refused_with("tr(" XPUB "/0/*,pk(" XPUB "/1/*))", "script tree", &err), "tr tree: %s", err);
    ok(refused_with("wpkh(" XPUB "/0/*))", "unexpected text", &err), "trailing: %s", err);
    ok(refused_with("wpkh(" XPUB "/01/*)", "leading zero", &err), "leading zero: %s", err);
    ok(refused_with("wpkh(" XPUB "/2147483648/*)", "2^31", &err), "index too big: %s", err);

    /* the descriptor's own path is the chain */
    ok(bc_wallet_parse(&w, "wpkh(" XPUB "/1/*)", -1, &err) && w.chain[0].child_number == 1
       && w.chain[0].depth == 5, "KEY/1/* derives the change chain");
    return done_testing();
}
