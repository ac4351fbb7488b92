/* The watcher's payment records (libbitcache/pay_record.c), read back from
 * Redis where anyone with write access may have put anything: input is
 * "<field>\n<value>". No crash or over-read; a record that parses is
 * written back byte for byte the same (one spelling per record, so that
 * what the MAC covers is what the text says); a MAC over it under a fixed
 * key never verifies unless the input carried exactly that MAC. */
#include "fuzz.h"

#include <openssl/crypto.h>

#include "hmac.h"
#include "pay_record.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bc_hmac_key *key;
    static const unsigned char id[16] = { 1, 2, 3 };
    char field[BC_PAY_FIELD_MAX], value[BC_PAY_VALUE_MAX], *s, *nl;
    unsigned char mac[32];
    bc_pay_record p;
    size_t flen, vlen;

    if (key == NULL) {
        static const unsigned char k[32] = { 7 };
        key = bc_hmac_key_new(k, sizeof(k));
    }
    if ((s = fuzz_string(data, size)) == NULL) {
        return 0;
    }
    nl = memchr(s, '\n', size);
    flen = nl ? (size_t) (nl - s) : size;
    vlen = nl ? size - flen - 1 : 0;
    /* not NUL-terminated where the parser reads: copies of the exact size */
    {
        char *f = malloc(flen ? flen : 1), *v = malloc(vlen ? vlen : 1);

        if (f && v) {
            memcpy(f, s, flen);
            if (vlen) memcpy(v, nl + 1, vlen);
            if (bc_pay_record_parse(&p, f, flen, v, vlen)) {
                FUZZ_ASSERT(bc_pay_field_encode(field, &p) == flen
                            && memcmp(field, f, flen) == 0);
                FUZZ_ASSERT(bc_pay_value_encode(value, &p) == vlen
                            && memcmp(value, v, vlen) == 0);
                FUZZ_ASSERT((p.height == 0) == (p.block[0] == 0 && p.block[31] == 0
                            && memcmp(p.block, p.block + 1, 31) == 0));
                FUZZ_ASSERT(bc_pay_record_mac(mac, key, id, &p));
                FUZZ_ASSERT(bc_pay_record_verify(&p, key, id)
                            == (CRYPTO_memcmp(mac, p.mac, 32) == 0));
            }
            if (bc_pay_field_parse(&p, f, flen)) {
                FUZZ_ASSERT(bc_pay_field_encode(field, &p) == flen);
            }
        }
        free(f);
        free(v);
    }
    free(s);
    return 0;
}
