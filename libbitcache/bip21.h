/* BIP21 payment URIs: bitcoin:ADDRESS?amount=...&label=...&message=... */
#ifndef BITCACHE_BIP21_H
#define BITCACHE_BIP21_H

#include <stddef.h>
#include <stdint.h>

/* Largest amount text: "184467440737.09551615" and a NUL. */
#define BC_BTC_AMOUNT_MAX 24

/* Writes sats as a decimal BTC amount with no trailing zeros and no
 * floating point: 12345 -> "0.00012345", 100000000 -> "1", 150000000 -> "1.5". */
void bc_format_btc(char out[BC_BTC_AMOUNT_MAX], uint64_t sats);

/* The URI for address; sats == 0 leaves the amount out, and label and message
 * (NULL or "" to leave out) are percent-encoded, keeping only RFC 3986
 * unreserved characters. Returns 1, or 0 when outlen is too small. */
int bc_bip21_uri(char *out, size_t outlen, const char *address, uint64_t sats,
                 const char *label, const char *message);

#endif
