/* The Redis record of a token, tok:<id hex>, and how one atomic command
 * on it answers "may this request download?" (docs/protocol.md).
 *
 * Field "left" holds BASE + the downloads still allowed, so that a plain
 * HINCRBY left -1 spends a use and says everything at once: a Lua script
 * would cost Redis several times the CPU, and Redis is shared by every
 * nginx host of a shop. Unlimited tokens start near 2^61, revoked ones
 * are set to -2^62, and a missing record shows as a value <= 0 (HINCRBY
 * creates the key, which the caller then deletes). */
#ifndef BITCACHE_TOKEN_RECORD_H
#define BITCACHE_TOKEN_RECORD_H

#include <stdint.h>

#define BC_LEFT_BASE        (1LL << 40)
#define BC_LEFT_UNLIMITED   (1LL << 61)
#define BC_LEFT_REVOKED     (-(1LL << 62))

#define BC_REDIS_DEFAULT_PREFIX "bitcache:"

typedef enum {
    BC_RECORD_ALLOW = 0,
    BC_RECORD_USED_UP,
    BC_RECORD_UNKNOWN,     /* no record: never minted, expired, or Redis lost it */
    BC_RECORD_REVOKED
} bc_record_status;

/* "left" of a new record for a token allowing `uses` downloads (0 = unlimited). */
long long bc_record_initial_left(uint32_t uses);

/* Classifies the reply of HINCRBY <key> left -1 (a download). */
bc_record_status bc_record_after_spend(long long left);

/* Classifies the reply of HGET <key> left (HEAD, resume: nothing spent);
 * present is 0 for a nil reply. A used-up token may still resume. */
bc_record_status bc_record_on_check(int present, long long left);

/* Downloads spent so far, for operators. */
long long bc_record_spent(uint32_t uses, long long left);

const char *bc_record_status_str(bc_record_status st);

/* KEYS[1] = <prefix>tok:<id hex>; ARGV = initial left, allowed uses,
 * product, expires (unix seconds). Creates the record of a newly minted
 * token, living as long as the token. Returns 1, or 0 if the id is taken. */
#define BC_SCRIPT_TOKEN_CREATE                                                \
    "if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end\n"               \
    "redis.call('HSET', KEYS[1], 'left', ARGV[1], 'uses', ARGV[2],"           \
    " 'product', ARGV[3], 'expires', ARGV[4])\n"                              \
    "redis.call('EXPIREAT', KEYS[1], ARGV[4])\n"                              \
    "return 1\n"

/* KEYS[1] = <prefix>tok:<id hex>; ARGV[1] = BC_LEFT_REVOKED. Returns 1 if
 * revoked now or before, 0 if there is no such token. */
#define BC_SCRIPT_TOKEN_REVOKE                                                \
    "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end\n"               \
    "redis.call('HSET', KEYS[1], 'left', ARGV[1], 'revoked', 1)\n"            \
    "return 1\n"

/* KEYS[1] = <prefix>tok:<id hex>; ARGV[1] = initial left. Undoes a
 * revocation (the watcher's, after a reorg, once the invoice is paid
 * again). A record that does not exist stays absent. */
#define BC_SCRIPT_TOKEN_RESTORE                                               \
    "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end\n"               \
    "redis.call('HSET', KEYS[1], 'left', ARGV[1])\n"                          \
    "redis.call('HDEL', KEYS[1], 'revoked')\n"                                \
    "return 1\n"

#endif
