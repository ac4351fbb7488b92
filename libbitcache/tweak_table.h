/* Fast K + t*G for public derivation: a table of multiples of G, so that
 * each child key costs 32 point additions (libsecp256k1's
 * secp256k1_ec_pubkey_combine) instead of a full scalar multiplication. */
#ifndef BITCACHE_TWEAK_TABLE_H
#define BITCACHE_TWEAK_TABLE_H

#include <secp256k1.h>

/* Builds the table (32 x 255 points, 510 KiB, about 30 ms) if not built yet.
 * Call it before fork() (nginx: at configuration time) so that workers share
 * the pages. Returns 1, or 0 when memory or libsecp256k1 fails. */
int bc_tweak_table_init(void);

/* out = base + tweak*G, with the result and failures of
 * secp256k1_ec_pubkey_tweak_add: 0 when tweak >= n or the sum is the point
 * at infinity. Variable-time in tweak, as libsecp256k1's own tweak_add is:
 * tweaks here come from public data (xpub and index), never from a secret
 * key. */
int bc_pubkey_tweak_add(secp256k1_pubkey *out, const secp256k1_pubkey *base,
                        const unsigned char tweak[32]);

#endif
