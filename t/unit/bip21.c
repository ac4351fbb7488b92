/* BIP21 URIs and BTC amounts from integer satoshis. */
#include "tap.h"

#include "bip21.h"

int
main(void)
{
    static const struct { unsigned long long sats; const char *btc; } amounts[] = {
        { 0, "0" }, { 1, "0.00000001" }, { 12345, "0.00012345" }, { 100000000, "1" },
        { 150000000, "1.5" }, { 2100000000000000ULL, "21000000" },
        { 123456789, "1.23456789" }, { 10, "0.0000001" }, { 18446744073709551615ULL, "184467440737.09551615" },
    };
    char out[BC_BTC_AMOUNT_MAX], uri[256];
    size_t i;

    for (i = 0; i < sizeof(amounts) / sizeof(amounts[0]); i++) {
        bc_format_btc(out, amounts[i].sats);
        is_str(out, amounts[i].btc, "%llu sats", amounts[i].sats);
    }
    ok(bc_bip21_uri(uri, sizeof(uri), "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu", 12345,
                    "Luke-Jr", "Donation for project xyz"), "uri");
    is_str(uri, "bitcoin:bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu?amount=0.00012345"
           "&label=Luke-Jr&message=Donation%20for%20project%20xyz", "  amount, label, message");
    ok(bc_bip21_uri(uri, sizeof(uri), "175tWpb8K1S7NmH4Zx6rewF9WQrcZv245W", 0, NULL, NULL), "bare");
    is_str(uri, "bitcoin:175tWpb8K1S7NmH4Zx6rewF9WQrcZv245W", "  address only");
    ok(bc_bip21_uri(uri, sizeof(uri), "175tWpb8K1S7NmH4Zx6rewF9WQrcZv245W", 2000000000, "",
                    "a&b=c?d/é~_."), "reserved");
    is_str(uri, "bitcoin:175tWpb8K1S7NmH4Zx6rewF9WQrcZv245W?amount=20"
           "&message=a%26b%3Dc%3Fd%2F%C3%A9~_.", "  reserved characters and UTF-8 encoded");
    ok(!bc_bip21_uri(uri, 20, "175tWpb8K1S7NmH4Zx6rewF9WQrcZv245W", 1, NULL, NULL),
       "too small a buffer is refused");
    return done_testing();
}
