/* Prices as people write them: "12345", "12345 sats", "0.0005 BTC".
 * Parsed in integers only: a float would round some prices. */
#ifndef BITCACHE_AMOUNT_H
#define BITCACHE_AMOUNT_H

#include <stddef.h>
#include <stdint.h>

#define BC_MAX_SATS  2100000000000000ULL      /* 21 million BTC */

/* Returns 1 and the amount in satoshis (1 .. 21e6 BTC), or 0 with *err
 * saying what is wrong (too many decimals, not a number, zero, ...). */
int bc_parse_amount(uint64_t *sats, const char *s, size_t len, const char **err);

#endif
