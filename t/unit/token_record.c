/* The token record (libbitcache/token_record.h): its key, allowance, the
 * argv that writes it, the draw script's answers and the parser that
 * reads it. The scripts themselves run on a real Redis in t/15-bytes.t. */
#include <string.h>

#include "tap.h"
#include "token_record.h"

int
main(void)
{
    static const unsigned char id[16] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                          0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };
    char key[BC_TOKREC_KEY_MAX], err[128], sha[41], longp[200];
    bc_tokrec_write w;
    bc_tokrec rec;
    const char *kv[12];
    size_t kvlen[12], i;

    ok(bc_tokrec_key(key, sizeof(key), "bitcache:", id) == 45, "key length");
    is_str(key, "bitcache:tok:00112233445566778899aabbccddeeff", "key");
    memset(longp, 'p', 128);
    longp[128] = '\0';
    ok(bc_tokrec_key(key, sizeof(key), longp, id) == 128 + 36, "the longest prefix fits");
    ok(bc_tokrec_key(key, 20, "bitcache:", id) == 0, "too small a buffer: 0");

    ok(bc_tokrec_allowance(0, 1000) == 0, "uses 0: unlimited");
    ok(bc_tokrec_allowance(3, 1000) == 3000, "3 x the file");
    ok(bc_tokrec_allowance(3, 0) == 1, "an empty file: a limit never reached");
    ok(bc_tokrec_allowance(UINT32_MAX, INT64_MAX) == BC_TOKREC_BYTES_MAX, "capped at 2^50-1");
    ok(bc_tokrec_allowance(2, BC_TOKREC_BYTES_MAX / 2) == BC_TOKREC_BYTES_MAX - 1, "just below the cap");

    bc_tokrec_hset(&w, key, strlen(key), 3, (const unsigned char *) "/f/a.bin", 8, 1767225600);
    is_str(w.argv[0], "HSET", "HSET");
    ok(w.argvlen[1] == strlen(key), "key");
    is_str(w.argv[2], "uses", "uses");
    is_str(w.argv[3], "3", "3");
    ok(w.argvlen[5] == 8 && memcmp(w.argv[5], "/f/a.bin", 8) == 0, "product");
    is_str(w.argv[6], "expires", "expires");
    is_str(w.argv[7], "1767225600", "expiry");
    for (i = 0; i < 8; i++) {
        ok(w.argvlen[i] == (i == 1 ? strlen(key) : i == 5 ? 8 : strlen(w.argv[i])), "len %zu", i);
    }

    ok(bc_tokrec_draw_result(0) == BC_RECORD_ALLOW, "0 left: allowed (drew the last bytes)");
    ok(bc_tokrec_draw_result(12345) == BC_RECORD_ALLOW, "bytes left: allowed");
    ok(bc_tokrec_draw_result(-1) == BC_RECORD_UNKNOWN, "-1 unknown");
    ok(bc_tokrec_draw_result(-2) == BC_RECORD_REVOKED, "-2 revoked");
    ok(bc_tokrec_draw_result(-3) == BC_RECORD_USED_UP, "-3 used up");
    ok(bc_tokrec_draw_result(-4) == BC_RECORD_UNKNOWN, "anything else negative: refused");
    is_str(bc_record_status_str(BC_RECORD_USED_UP), "downloads used up", "reason");

    kv[0] = "uses"; kv[1] = "3";
    kv[2] = "product"; kv[3] = "/album";
    kv[4] = "expires"; kv[5] = "1767225600";
    kv[6] = "b:/srv/a.flac"; kv[7] = "3377699720528872";   /* 2^51 + 2^50 + 1000: revoked */
    kv[8] = "left"; kv[9] = "1099511627779";
    kv[10] = "revoked"; kv[11] = "1";
    for (i = 0; i < 12; i++) {
        kvlen[i] = strlen(kv[i]);
    }
    ok(bc_tokrec_parse(&rec, kv, kvlen, 12, err, sizeof(err)), "parses");
    ok(rec.present && rec.revoked && rec.uses == 3 && rec.expires == 1767225600, "fields");
    ok(rec.product_len == 6 && memcmp(rec.product, "/album", 6) == 0, "product");
    ok(rec.nfiles == 1 && rec.files[0].drawn == 1000 && rec.files[0].name_len == 11
       && memcmp(rec.files[0].name, "/srv/a.flac", 11) == 0, "one file");
    ok(bc_tokrec_parse(&rec, kv + 2, kvlen + 2, 4, err, sizeof(err)) && !rec.present,
       "without uses: not a token's record");

    kv[1] = "-3"; kvlen[1] = 2;
    ok(!bc_tokrec_parse(&rec, kv, kvlen, 2, err, sizeof(err)), "negative uses refused: %s", err);
    kv[1] = "4294967296"; kvlen[1] = 10;
    ok(!bc_tokrec_parse(&rec, kv, kvlen, 2, err, sizeof(err)), "uses above 2^32-1 refused");
    kv[7] = "1e3"; kvlen[7] = 3;
    ok(!bc_tokrec_parse(&rec, kv + 6, kvlen + 6, 2, err, sizeof(err)), "a count not decimal: refused");
    kv[7] = "99999999999999999999"; kvlen[7] = 20;
    ok(!bc_tokrec_parse(&rec, kv + 6, kvlen + 6, 2, err, sizeof(err)), "a count past 2^63: refused");
    kv[7] = "1125899906842624"; kvlen[7] = 16;
    ok(bc_tokrec_parse(&rec, kv + 6, kvlen + 6, 2, err, sizeof(err)) && rec.files[0].drawn == 0,
       "LIVE: nothing drawn");
    kv[7] = "1125899906843624"; kvlen[7] = 16;
    ok(bc_tokrec_parse(&rec, kv + 6, kvlen + 6, 2, err, sizeof(err)) && rec.files[0].drawn == 1000,
       "LIVE + 1000");

    /* the hot path's HINCRBY answer */
    ok(bc_tokrec_fast_result(BC_TOKREC_LIVE + 3000, 3000) == BC_RECORD_ALLOW, "within the allowance");
    ok(bc_tokrec_fast_result(BC_TOKREC_LIVE + 3001, 3000) == BC_RECORD_ASK_SCRIPT, "past it: the script");
    ok(bc_tokrec_fast_result(BC_TOKREC_LIVE + 999999, 0) == BC_RECORD_ALLOW, "unlimited");
    ok(bc_tokrec_fast_result(4096, 3000) == BC_RECORD_ASK_SCRIPT, "no counter before: the script");
    ok(bc_tokrec_fast_result(0, 0) == BC_RECORD_ASK_SCRIPT, "no counter, unlimited: the script");
    ok(bc_tokrec_fast_result(-5, 3000) == BC_RECORD_ASK_SCRIPT, "negative: the script");
    ok(bc_tokrec_fast_result(BC_TOKREC_REVOKED_BAND + BC_TOKREC_LIVE, 0) == BC_RECORD_REVOKED, "revoked");
    ok(BC_TOKREC_REVOKED_BAND + BC_TOKREC_LIVE + BC_TOKREC_BYTES_MAX < (1LL << 53),
       "every counter stays exact in Lua");
    {
        bc_tokrec_seed_write sw;
        char field[2 + 8];

        bc_tokrec_seed(&sw, field, key, strlen(key), (const unsigned char *) "/f/a.bin", 8);
        ok(sw.argvlen[2] == 10 && memcmp(sw.argv[2], "b:/f/a.bin", 10) == 0, "seed field");
        is_str(sw.argv[0], "HSETNX", "HSETNX");
        is_str(sw.argv[3], "1125899906842624", "LIVE");
    }

    bc_script_sha1(sha, "return 1");
    is_str(sha, "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "SHA1 of a script, as Redis names it");
    return done_testing();
}
