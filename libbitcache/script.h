/* scriptPubKeys for the single-key address types Bitcache hands out. */
#ifndef BITCACHE_SCRIPT_H
#define BITCACHE_SCRIPT_H

#include <stddef.h>

#include <secp256k1.h>

typedef enum {
    BC_P2PKH = 0,       /* BIP44 legacy */
    BC_P2SH_P2WPKH,     /* BIP49 nested segwit */
    BC_P2WPKH,          /* BIP84 native segwit v0 */
    BC_P2TR             /* BIP86 taproot, key path only */
} bc_addr_type;

#define BC_SPK_MAX 34       /* the longest: OP_1 <32> (P2TR), OP_0 <32> */

/* "p2pkh", "p2sh-p2wpkh", "p2wpkh", "p2tr". */
const char *bc_addr_type_name(bc_addr_type type);

/* Writes the scriptPubKey paying to pubkey as type into spk (BC_SPK_MAX
 * bytes) and its length. For P2TR, pubkey is the BIP86 internal key and
 * the output key is tweaked with TapTweak(x(P)) and no script tree.
 * Returns 1, or 0 if hashing or the tweak fails. */
int bc_script_for_pubkey(unsigned char *spk, size_t *spklen, bc_addr_type type,
                         const secp256k1_pubkey *pubkey);

/* BIP86: the x-only output key Q = P + H_TapTweak(x(P))G. */
int bc_taproot_output_key(unsigned char out32[32], const secp256k1_pubkey *internal);

#endif
