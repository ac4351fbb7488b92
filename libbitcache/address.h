/* Addresses from scriptPubKeys, per network. */
#ifndef BITCACHE_ADDRESS_H
#define BITCACHE_ADDRESS_H

#include <stddef.h>

#include "network.h"

#define BC_ADDRESS_MAX 91   /* a 90-character bech32 address and its NUL */

/* The address of a standard scriptPubKey (P2PKH, P2SH, or a segwit
 * program of any version) on net. Returns 1, or 0 with *err for another
 * script or a small buffer. */
int bc_address_from_script(char *out, size_t outlen, const unsigned char *spk, size_t spklen,
                           bc_network net, const char **err);

/* The scriptPubKey (up to 42 bytes) that address pays to on net. Returns 1,
 * or 0 with *err (checksum, wrong network, unknown version, ...). */
int bc_script_from_address(unsigned char *spk, size_t *spklen, const char *address,
                           bc_network net, const char **err);

#endif
