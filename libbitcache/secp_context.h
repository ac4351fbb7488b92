/* The one libsecp256k1 context of the process. */
#ifndef BITCACHE_SECP_CONTEXT_H
#define BITCACHE_SECP_CONTEXT_H

#include <secp256k1.h>

/* Created and randomized on first use, then kept for the life of the
 * process (creating one costs far more than a derivation). NULL only
 * when memory or the system's randomness is unavailable. */
const secp256k1_context *bc_secp_context(void);

#endif
