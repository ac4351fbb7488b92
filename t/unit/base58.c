/* Base58 and Base58Check. */
#include "tap.h"

#include "base58.h"
#include "hex.h"

int
main(void)
{
    /* leading zeros, a known P2PKH payload, and random-looking bytes */
    static const struct { const char *hex, *b58; } cases[] = {
        { "", "" },
        { "00", "1" },
        { "0000", "11" },
        { "61", "2g" },
        { "626262", "a3gV" },
        { "00eb15231dfceb60925886b67d065299925915aeb172c06647", "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L" },
        { "516b6fcd0f", "ABnLTmg" },
        { "ecac89cad93923c02321", "EJDM8drfXA6uyA" },
        { "000111d38e5fc9071ffcd20b4a763cc9ae4f252bb4e48fd66a835e252ada93ff480d6dd43dc62a641155a5", "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz" },
    };
    unsigned char bin[128];
    char out[200], hex[256];
    size_t i, n;
    const char *err = NULL;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len = strlen(cases[i].hex) / 2;

        bc_hex_decode(bin, len, cases[i].hex, 2 * len);
        ok(bc_base58_encode(out, sizeof(out), bin, len), "encode %s", cases[i].hex);
        is_str(out, cases[i].b58, "  base58");
        if (len == 0) {
            continue;
        }
        n = sizeof(bin);
        ok(bc_base58_decode(bin, &n, cases[i].b58, strlen(cases[i].b58), &err) && n == len,
           "decode %s", cases[i].b58);
        bc_hex_encode(hex, bin, n);
        is_str(hex, cases[i].hex, "  bytes");
    }
    n = sizeof(bin);
    /* SLIP-132's P2PKH example */
    ok(bc_base58check_decode(bin, &n, "1LqBGSKuX5yYUonjxT5qGfpUsXKYYWeabA", 34, &err) && n == 21
       && bin[0] == 0, "base58check: address payload is 21 bytes, version 0");
    ok(bc_base58check_encode(out, sizeof(out), bin, n)
       && strcmp(out, "1LqBGSKuX5yYUonjxT5qGfpUsXKYYWeabA") == 0, "  and encodes back");
    n = sizeof(bin);
    ok(!bc_base58check_decode(bin, &n, "1LqBGSKuX5yYUonjxT5qGfpUsXKYYWeabB", 34, &err)
       && strstr(err, "checksum"), "bad checksum: %s", err);
    n = sizeof(bin);
    ok(!bc_base58_decode(bin, &n, "1NS17iag0jJ", 11, &err) && strstr(err, "'0' at position 9"),
       "bad character: %s", err);
    n = sizeof(bin);
    ok(!bc_base58_decode(bin, &n, "abc\x01", 4, &err) && strstr(err, "0x01"),
       "control character: %s", err);
    n = 2;
    ok(!bc_base58_decode(bin, &n, "a3gV", 4, &err), "output too small: %s", err);
    n = sizeof(bin);
    ok(!bc_base58check_decode(bin, &n, "2g", 2, &err), "too short for a checksum: %s", err);
    ok(!bc_base58_encode(out, 3, (const unsigned char *) "bbb", 3), "encode into a small buffer");
    return done_testing();
}
