/* Test tool: a payment record as the watcher with secret key SECKEYHEX
 * writes it (libbitcache/pay_record.h), for tests that plant one:
 *
 *   pay_record SECKEYHEX ID TXID:VOUT SATS HEIGHT BLOCKHEX SEEN_AT
 *
 * prints the value of field TXID:VOUT of pay:<ID>. Exits 0, or 2. */
#include <stdio.h>
#include <string.h>

#include "hex.h"
#include "hmac.h"
#include "invoice_record.h"
#include "pay_record.h"

int
main(int argc, char **argv)
{
    unsigned char seckey[32], key[32], id[16];
    char value[BC_PAY_VALUE_MAX];
    uint64_t n, height;
    bc_pay_record p;
    bc_hmac_key *k;

    memset(&p, 0, sizeof(p));
    if (argc != 8 || strlen(argv[1]) != 64 || !bc_hex_decode(seckey, 32, argv[1], 64)
        || strlen(argv[2]) != 32 || !bc_hex_decode(id, 16, argv[2], 32)
        || !bc_pay_field_parse(&p, argv[3], strlen(argv[3]))
        || !bc_parse_uint_n(&n, argv[4], strlen(argv[4]), UINT64_MAX)
        || !bc_parse_uint_n(&height, argv[5], strlen(argv[5]), UINT32_MAX)
        || strlen(argv[6]) != 64 || !bc_hex_decode(p.block, 32, argv[6], 64)
        || !bc_parse_uint_n(&p.seen_at, argv[7], strlen(argv[7]), UINT64_MAX))
    {
        fprintf(stderr, "usage: pay_record SECKEYHEX ID TXID:VOUT SATS HEIGHT BLOCKHEX SEEN_AT\n");
        return 2;
    }
    p.value = n;
    p.height = (uint32_t) height;
    if (!bc_pay_key_derive(key, seckey) || (k = bc_hmac_key_new(key, 32)) == NULL
        || !bc_pay_record_sign(&p, k, id))
    {
        return 2;
    }
    bc_pay_value_encode(value, &p);
    printf("%s\n", value);
    bc_hmac_key_free(k);
    return 0;
}
