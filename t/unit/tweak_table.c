/* bc_pubkey_tweak_add must agree with secp256k1_ec_pubkey_tweak_add on
 * random tweaks and at the edges of the scalar range. */
#include <openssl/rand.h>

#include "tap.h"

#include "secp_context.h"
#include "tweak_table.h"

static const unsigned char order[32] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41
};

static int
same_as_libsecp(const secp256k1_pubkey *base, const unsigned char tweak[32], int *result)
{
    const secp256k1_context *ctx = bc_secp_context();
    secp256k1_pubkey a, b = *base;
    unsigned char sa[33], sb[33];
    size_t la = 33, lb = 33;
    int ra = bc_pubkey_tweak_add(&a, base, tweak);
    int rb = secp256k1_ec_pubkey_tweak_add(ctx, &b, tweak);

    *result = ra;
    if (ra != rb) {
        return 0;
    }
    if (!ra) {
        return 1;
    }
    return secp256k1_ec_pubkey_serialize(ctx, sa, &la, &a, SECP256K1_EC_COMPRESSED)
           && secp256k1_ec_pubkey_serialize(ctx, sb, &lb, &b, SECP256K1_EC_COMPRESSED)
           && memcmp(sa, sb, 33) == 0;
}

int
main(void)
{
    const secp256k1_context *ctx = bc_secp_context();
    secp256k1_pubkey base;
    unsigned char sk[32], t[32];
    int i, r, bad = 0;

    ok(bc_tweak_table_init(), "table built");
    RAND_bytes(sk, 32);
    sk[0] &= 0x7f;
    ok(secp256k1_ec_pubkey_create(ctx, &base, sk), "random base point");

    for (i = 0; i < 2000; i++) {
        RAND_bytes(t, 32);
        /* some tweaks with many zero bytes, to hit skipped windows */
        if (i % 4 == 1) memset(t, 0, 16);
        if (i % 4 == 2) memset(t + 16, 0, 16);
        if (i % 4 == 3) { memset(t, 0, 31); }
        if (!same_as_libsecp(&base, t, &r)) bad++;
    }
    ok(bad == 0, "2000 random tweaks agree with secp256k1_ec_pubkey_tweak_add (%d differ)", bad);

    memset(t, 0, 32);
    ok(same_as_libsecp(&base, t, &r) && r, "tweak 0");
    memcpy(t, order, 32);
    t[31] -= 1;
    ok(same_as_libsecp(&base, t, &r) && r, "tweak n-1");
    memcpy(t, order, 32);
    ok(same_as_libsecp(&base, t, &r) && !r, "tweak n refused");
    memset(t, 0xff, 32);
    ok(same_as_libsecp(&base, t, &r) && !r, "tweak 2^256-1 refused");

    /* base = -t*G: the sum is the point at infinity */
    memcpy(t, sk, 32);
    ok(secp256k1_ec_seckey_negate(ctx, t), "negated secret");
    ok(same_as_libsecp(&base, t, &r) && !r, "sum at infinity refused");
    return done_testing();
}
