/* table[w][v-1] = v * 256^w * G for the 32 bytes w of a scalar (w = 0 the
 * least significant) and v = 1..255, so that for t = sum t_w * 256^w,
 * t*G = sum table[w][t_w - 1] over the non-zero bytes. */
#include <stdlib.h>
#include <string.h>

#include "secp_context.h"
#include "tweak_table.h"

#define WINDOWS 32
#define VALUES 255

static secp256k1_pubkey (*table)[VALUES];

static int
add2(const secp256k1_context *ctx, secp256k1_pubkey *out, const secp256k1_pubkey *a,
     const secp256k1_pubkey *b)
{
    const secp256k1_pubkey *ins[2] = { a, b };

    return secp256k1_ec_pubkey_combine(ctx, out, ins, 2);
}

int
bc_tweak_table_init(void)
{
    const secp256k1_context *ctx = bc_secp_context();
    secp256k1_pubkey (*t)[VALUES];
    unsigned char one[32] = { 0 };
    int w, v;

    if (table != NULL) {
        return 1;
    }
    if (ctx == NULL || (t = malloc(sizeof(*t) * WINDOWS)) == NULL) {
        return 0;
    }
    one[31] = 1;
    if (!secp256k1_ec_pubkey_create(ctx, &t[0][0], one)) {
        free(t);
        return 0;
    }
    for (w = 0; w < WINDOWS; w++) {
        /* combine() doubles correctly when both inputs are the same point */
        for (v = 1; v < VALUES; v++) {
            if (!add2(ctx, &t[w][v], &t[w][v - 1], &t[w][0])) {
                free(t);
                return 0;
            }
        }
        /* 255 * 256^w * G + 256^w * G = 256^(w+1) * G */
        if (w + 1 < WINDOWS && !add2(ctx, &t[w + 1][0], &t[w][VALUES - 1], &t[w][0])) {
            free(t);
            return 0;
        }
    }
    table = t;
    return 1;
}

int
bc_pubkey_tweak_add(secp256k1_pubkey *out, const secp256k1_pubkey *base,
                    const unsigned char tweak[32])
{
    const secp256k1_context *ctx = bc_secp_context();
    const secp256k1_pubkey *ins[1 + WINDOWS];
    size_t n = 0;
    int w;

    if (ctx == NULL || !bc_tweak_table_init()) {
        return 0;
    }
    /* the same range rule as tweak_add: 0 <= tweak < n */
    for (w = 0; w < 32 && tweak[w] == 0; w++) {
    }
    if (w < 32 && !secp256k1_ec_seckey_verify(ctx, tweak)) {
        return 0;
    }
    ins[n++] = base;
    for (w = 0; w < WINDOWS; w++) {
        unsigned char byte = tweak[31 - w];

        if (byte != 0) {
            ins[n++] = &table[w][byte - 1];
        }
    }
    /* fails only when the sum is the point at infinity */
    return secp256k1_ec_pubkey_combine(ctx, out, ins, n);
}
