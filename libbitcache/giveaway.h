/* Limited giveaways (docs/creators.md): the first N copies of a product
 * are free, counted by one script across every nginx host, at most one
 * per client address within a window. The Redis keys, the scripts and
 * the hash that keeps buyers' addresses out of Redis. */
#ifndef BITCACHE_GIVEAWAY_H
#define BITCACHE_GIVEAWAY_H

#include <stddef.h>
#include <stdint.h>

#include "secret.h"
#include "token_record.h"

#define BC_KEY_FREE         "free:"     /* free:<product>: copies given */
#define BC_KEY_FREE_ADDR    "freeip:"   /* freeip:<product>:<32 hex> */
#define BC_FREE_MAX         1000000000u /* the most copies a giveaway has */
#define BC_FREE_WINDOW_MAX  (366u * 86400u)

/* KEYS[1] free:<product>, KEYS[2] (only with a window) freeip:<...>,
 * KEYS[3] (only while the secret is rotated) the same address's
 * freeip:<...> under the old secret's hash, which only refuses;
 * ARGV[1] the giveaway's total N, ARGV[2] the window in seconds.
 * Answers {n, given}: n 1..N the copy claimed (given = n), 0 none left,
 * -1 this address had one within the window, -2 free:<product> is not a
 * count (written by someone else: the caller answers 503). The address
 * is checked before the count is raised, so a refused address costs no
 * copy. */
#define BC_SCRIPT_FREE_CLAIM                                                  \
    "local c = redis.call('GET', KEYS[1])\n"                                  \
    "local given = 0\n"                                                       \
    "if c then\n"                                                             \
    "  if #c > 15 or not string.match(c, '^%d+$') then return {-2, 0} end\n"  \
    "  given = tonumber(c)\n"                                                 \
    "end\n"                                                                   \
    "if given >= tonumber(ARGV[1]) then return {0, given} end\n"              \
    "if #KEYS > 2 and tonumber(ARGV[2]) > 0\n"                                \
    "   and redis.call('EXISTS', KEYS[3]) == 1 then\n"                        \
    "  return {-1, given}\n"                                                  \
    "end\n"                                                                   \
    "if #KEYS > 1 and tonumber(ARGV[2]) > 0 then\n"                           \
    "  if not redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[2]) then\n"    \
    "    return {-1, given}\n"                                                \
    "  end\n"                                                                 \
    "end\n"                                                                   \
    "given = redis.call('INCR', KEYS[1])\n"                                   \
    "return {given, given}\n"
extern const char bc_script_free_claim[];

/* KEYS[1] tok:<id>; ARGV as BC_SCRIPT_TOKEN_CREATE (libbitcache/
 * token_record.h: ARGV[1] ignored, uses, product, expires; the record
 * gets b:<product> = LIVE), which already creates only when tok:<id> does
 * not exist: answers 1 created, 0 it existed (a free copy given twice:
 * the counter was set back). */
#define BC_SCRIPT_TOKEN_CREATE_NEW BC_SCRIPT_TOKEN_CREATE
extern const char bc_script_token_create_new[];

/* hex of the first 16 bytes of HMAC(invoice_key, "free-address" 0x00 |
 * lp(product) | addr): out needs 33 bytes. Returns 1, or 0. */
int bc_free_address_hash(char out[33], const char *product, size_t product_len,
    const unsigned char *addr, size_t addr_len, const bc_keys *keys);

#endif
