#include <openssl/rand.h>

#include "secp_context.h"

const secp256k1_context *
bc_secp_context(void)
{
    static secp256k1_context *ctx;
    unsigned char seed[32];

    if (ctx == NULL) {
        secp256k1_context *c = secp256k1_context_create(SECP256K1_CONTEXT_NONE);

        if (c == NULL) {
            return NULL;
        }
        /* blinding for signing (the watcher's key); public derivation
         * does not need it but it costs nothing afterwards */
        if (RAND_bytes(seed, sizeof(seed)) != 1 || !secp256k1_context_randomize(c, seed)) {
            secp256k1_context_destroy(c);
            return NULL;
        }
        ctx = c;
    }
    return ctx;
}
