/* Lua run by Redis so that each check-and-spend is one atomic round trip.
 * Shared by the nginx module and the CLI; keys are documented in
 * docs/protocol.md. */
#ifndef BITCACHE_REDIS_SCRIPTS_H
#define BITCACHE_REDIS_SCRIPTS_H

/* KEYS[1] = <prefix>tok:<id hex>
 * ARGV[1] = "1" to spend one use, "0" to only check (HEAD, resume)
 * ARGV[2] = allowed uses from the token, "0" = unlimited
 * Returns uses spent so far (>= 0), or
 *   -1 revoked, -2 no such token record, -3 every use spent. */
#define BC_SCRIPT_TOKEN_USE                                                   \
    "local t = redis.call('HMGET', KEYS[1], 'used', 'revoked')\n"             \
    "if not t[1] then return -2 end\n"                                         \
    "if t[2] then return -1 end\n"                                             \
    "local used = tonumber(t[1])\n"                                            \
    "if ARGV[1] == '0' then return used end\n"                                 \
    "local max = tonumber(ARGV[2])\n"                                          \
    "if max > 0 and used >= max then return -3 end\n"                          \
    "return redis.call('HINCRBY', KEYS[1], 'used', 1)\n"

/* KEYS[1] = <prefix>tok:<id hex>
 * ARGV = allowed uses, product, expires (unix seconds)
 * Creates the record of a newly minted token; it lives as long as the
 * token does. Returns 1, or 0 if the id is already taken. */
#define BC_SCRIPT_TOKEN_CREATE                                                \
    "if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end\n"               \
    "redis.call('HSET', KEYS[1], 'used', 0, 'uses', ARGV[1],"                 \
    " 'product', ARGV[2], 'expires', ARGV[3])\n"                              \
    "redis.call('EXPIREAT', KEYS[1], ARGV[3])\n"                              \
    "return 1\n"

/* KEYS[1] = <prefix>tok:<id hex>. Returns 1 if revoked now or before,
 * 0 if there is no such token (expired or never minted). */
#define BC_SCRIPT_TOKEN_REVOKE                                                \
    "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end\n"               \
    "redis.call('HSET', KEYS[1], 'revoked', 1)\n"                             \
    "return 1\n"

#define BC_TOKEN_USE_REVOKED   -1
#define BC_TOKEN_USE_UNKNOWN   -2
#define BC_TOKEN_USE_SPENT     -3

#define BC_REDIS_DEFAULT_PREFIX "bitcache:"

#include <stddef.h>

/* The name Redis gives a script for EVALSHA: SHA1 of its text, in hex. */
int bc_script_sha1(char out[41], const char *script, size_t len);

#endif
