/* libbitcache/pay_record.c: the watcher's payment records: the text
 * round trip, what the parser refuses, and the MAC that only the watcher's
 * key can make. */
#include <stdio.h>
#include <string.h>

#include "hex.h"
#include "hmac.h"
#include "pay_record.h"
#include "tap.h"

static const char *F = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff:1";
static const char *V = "12345 7 0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"
                       " 1767225600 ";

static int
parses(const char *f, const char *v)
{
    bc_pay_record p;

    return bc_pay_record_parse(&p, f, strlen(f), v, strlen(v));
}

int
main(void)
{
    unsigned char seckey[32], key[32], id[16], other[16];
    char field[BC_PAY_FIELD_MAX], value[BC_PAY_VALUE_MAX], v[300], hex[65];
    bc_pay_record p, q;
    bc_hmac_key *k, *k2;

    memset(seckey, 0x11, 32);
    memset(id, 0xab, 16);
    memset(other, 0xac, 16);
    ok(bc_pay_key_derive(key, seckey), "pay key derived");
    bc_hex_encode(hex, key, 32);
    ok(strcmp(hex, "1111111111111111111111111111111111111111111111111111111111111111") != 0,
       "the pay key is not the secret key");
    k = bc_hmac_key_new(key, 32);
    memset(seckey, 0x12, 32);
    bc_pay_key_derive(key, seckey);
    k2 = bc_hmac_key_new(key, 32);

    snprintf(v, sizeof(v), "%s%s", V, "000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f");
    ok(parses(F, v), "a record parses");
    ok(bc_pay_record_parse(&p, F, strlen(F), v, strlen(v)) && p.value == 12345 && p.height == 7
       && p.vout == 1 && p.seen_at == 1767225600 && p.txid[0] == 0x00 && p.txid[31] == 0xff
       && p.block[0] == 0x0f, "its fields");
    ok(bc_pay_record_sign(&p, k, id), "signed");
    ok(bc_pay_record_verify(&p, k, id), "verifies under its key and invoice");
    ok(!bc_pay_record_verify(&p, k2, id), "not under another watcher's key");
    ok(!bc_pay_record_verify(&p, k, other), "not for another invoice");
    q = p; q.value++;
    ok(!bc_pay_record_verify(&q, k, id), "not with more sats");
    q = p; q.height++;
    ok(!bc_pay_record_verify(&q, k, id), "not at another height");
    q = p; q.block[5] ^= 1;
    ok(!bc_pay_record_verify(&q, k, id), "not in another block");
    q = p; q.vout = 0;
    ok(!bc_pay_record_verify(&q, k, id), "not for another output");
    q = p; q.seen_at--;
    ok(!bc_pay_record_verify(&q, k, id), "not seen at another time");

    bc_pay_field_encode(field, &p);
    bc_pay_value_encode(value, &p);
    ok(strcmp(field, F) == 0, "the field round-trips");
    ok(bc_pay_record_parse(&q, field, strlen(field), value, strlen(value))
       && memcmp(&q, &p, sizeof(p)) == 0 && bc_pay_record_verify(&q, k, id),
       "the value round-trips and still verifies");

    memset(&p, 0, sizeof(p));
    p.value = 5; p.seen_at = 9;
    bc_pay_value_encode(value, &p);
    ok(parses(F, value), "a mempool record: height 0, no block");
    p.height = 3;
    bc_pay_value_encode(value, &p);
    ok(!parses(F, value), "a height without a block is refused");

    ok(!parses(F, "12345 0"), "the old two-word record is refused");
    ok(!parses(F, "99999999 1"), "the issue's forged record is refused");
    snprintf(v, sizeof(v), " %s%s", V, "000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f");
    ok(!parses(F, v), "a leading space");
    snprintf(v, sizeof(v), "0%s%s", V, "000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f");
    ok(!parses(F, v), "a leading zero");
    snprintf(v, sizeof(v), "%s%s ", V, "000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f");
    ok(!parses(F, v), "a trailing space");
    snprintf(v, sizeof(v), "%s%s", V, "000102030405060708090A0B0C0D0E0F000102030405060708090a0b0c0d0e0f");
    ok(!parses(F, v), "upper-case hex");
    snprintf(v, sizeof(v), "%s%s", V, "000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e");
    ok(!parses(F, v), "a short MAC");
    snprintf(v, sizeof(v), "%s%s", V, "000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f");
    ok(!parses("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff:01", v),
       "a vout with a leading zero");
    ok(!parses("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff:4294967296", v),
       "a vout beyond 32 bits");
    ok(!parses("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", v), "no vout");
    ok(!parses("00112233445566778899aaBbccddeeff00112233445566778899aabbccddeeff:1", v),
       "an upper-case txid (found by fuzz/pay_record)");
    ok(!parses("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff:1:seen", v),
       "an old :seen field");
    ok(!parses(F, "18446744073709551616 7 0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206 1 "
                  "000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f"),
       "sats beyond 64 bits");

    /* HSCAN may return a field twice: each outpoint is summed once */
    {
        bc_pay_seen seen;
        bc_pay_record a;
        int fresh = 1, again = 1;
        unsigned i;

        bc_pay_seen_init(&seen);
        memset(&a, 0, sizeof(a));
        a.txid[0] = 7;
        ok(bc_pay_seen_add(&seen, &a) == 1, "an outpoint is new");
        ok(bc_pay_seen_add(&seen, &a) == 0, "the same outpoint again is not");
        a.value = 99; a.height = 4; a.seen_at = 1;
        ok(bc_pay_seen_add(&seen, &a) == 0, "nor with other sats, height or time");
        a.vout = 1;
        ok(bc_pay_seen_add(&seen, &a) == 1, "another output of the transaction is");
        for (i = 0; i < 5000; i++) {        /* through several growths */
            memset(&a, 0, sizeof(a));
            memcpy(a.txid + 8, &i, sizeof(i));
            a.vout = i % 3;
            fresh &= bc_pay_seen_add(&seen, &a) == 1;
        }
        for (i = 0; i < 5000; i++) {
            memset(&a, 0, sizeof(a));
            memcpy(a.txid + 8, &i, sizeof(i));
            a.vout = i % 3;
            again &= bc_pay_seen_add(&seen, &a) == 0;
        }
        ok(fresh && again && seen.n == 5002, "5,000 outpoints: each new once, then seen");
        bc_pay_seen_free(&seen);
    }

    bc_hmac_key_free(k);
    bc_hmac_key_free(k2);
    return done_testing();
}
