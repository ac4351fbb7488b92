/* The records that hand out derivation indexes (docs/protocol.md,
 * "Derivation indexes"): one definition for the module, the watcher and
 * `bitcache invoice gap`.
 *
 *   index:<wallet id>   counter: indexes handed out (the next is its value)
 *   reuse:<wallet id>   sorted set: member an index as 10 decimal digits,
 *                       score the unix time from which it may be handed
 *                       out again
 *   spk:<spk hex>       the invoice id that holds the address, claimed
 *                       with SET NX: one live invoice per address
 *   idx:<legacy id>     the counter of earlier versions, keyed by the
 *                       wallet's text (bc_wallet_id in invoice.h); read
 *                       once, when index: is created
 *
 * The wallet id comes from the parsed wallet, not its text, so that every
 * spelling of a key (vpub or descriptor, with or without checksum, other
 * case of hex) shares one counter and never hands out an address twice. */
#ifndef BITCACHE_INDEX_RECORD_H
#define BITCACHE_INDEX_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "wallet.h"

#define BC_KEY_INDEX        "index:"
#define BC_KEY_REUSE        "reuse:"
#define BC_KEY_SPK          "spk:"
#define BC_KEY_LEGACY_INDEX "idx:"

#define BC_WALLET_ID_HEX    16

/* How long invoice records (and the spk: claim) outlive expiry: late
 * payments count this long (the watcher's WATCH_GRACE). */
#define BC_INVOICE_GRACE    86400
/* An index becomes reusable this long after its claim lapsed, so that a
 * Redis clock a little behind nginx's never refuses the claim. */
#define BC_REUSE_SLACK      300
/* Claims tried per invoice before the API gives up (503). */
#define BC_INDEX_TRIES      8

/* SHA256 tagged "bitcache/v1/wallet-id" over the address type, the
 * compressed public key and the chain code of the receive chain's parent
 * (the derivation point: KEY/0 of a bare key, the descriptor's path
 * otherwise), first 8 bytes in hex. Returns 1, or 0 if hashing fails. */
int bc_wallet_key_id(char out[BC_WALLET_ID_HEX + 1], const bc_wallet *w);

/* The time from which an index whose invoice expired unpaid at expires may
 * be handed out again. */
uint64_t bc_reuse_after(uint64_t expires);

/* A reuse: member: exactly 10 decimal digits, "0000000000" ..
 * "2147483647": one spelling per index, so that ZADD never lists an index
 * twice, and members of one score sort (by bytes) in index order. Returns
 * 1, or 0 for anything else. */
int bc_reuse_member_parse(uint32_t *index, const char *s, size_t len);

/* The member for index (10 digits and a NUL). */
void bc_reuse_member(char out[11], uint32_t index);

/* KEYS[1] = reuse:<id>, KEYS[2] = index:<id>, KEYS[3] = idx:<legacy id>;
 * ARGV[1] = now. Takes a reusable index whose time has come, the lowest
 * of the first 64 due (so that payments stay near the start of the
 * wallet), as a bulk string (the member; one that is not a number is
 * handed back as it is, one at or above the counter, never handed out, as
 * "above:" and the member, for the caller to refuse, and so leaves the
 * set: an index far past the gap limit would hide a payment from the
 * creator's wallet);
 * or else the next one, as an integer (the counter after INCR: the index
 * is one less). A counter created here starts where the legacy counter
 * stands, so that an upgrade hands out no index in use. */
#define BC_SCRIPT_INDEX_TAKE                                                  \
    "local r = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1],"         \
    " 'LIMIT', 0, 64)\n"                                                      \
    "local best, low = r[1], nil\n"                                           \
    "local top = tonumber(redis.call('GET', KEYS[2]) or '0') or 0\n"         \
    "for _, m in ipairs(r) do\n"                                              \
    "  local n = tonumber(m)\n"                                               \
    "  if n == nil then best = m break end\n"                                 \
    "  if n >= top then\n"                                                    \
    "    redis.call('ZREM', KEYS[1], m)\n"                                    \
    "    return 'above:' .. m\n"                                              \
    "  end\n"                                                                 \
    "  if low == nil or n < low then best, low = m, n end\n"                  \
    "end\n"                                                                   \
    "if best then\n"                                                          \
    "  redis.call('ZREM', KEYS[1], best)\n"                                   \
    "  return best\n"                                                         \
    "end\n"                                                                   \
    "if redis.call('EXISTS', KEYS[2]) == 0 then\n"                            \
    "  local old = redis.call('GET', KEYS[3])\n"                              \
    "  if old then redis.call('SET', KEYS[2], old) end\n"                     \
    "end\n"                                                                   \
    "return redis.call('INCR', KEYS[2])\n"

typedef enum {
    BC_INDEX_REPLY_NEW = 0,     /* from the counter */
    BC_INDEX_REPLY_REUSED,      /* from the reuse set */
    BC_INDEX_REPLY_BAD          /* out of range, not a number: Redis was written to */
} bc_index_reply;

/* The script's reply: is_string and s/len for a bulk string, else the
 * integer. Sets *index for NEW and REUSED. */
bc_index_reply bc_index_reply_parse(uint32_t *index, int is_string, const char *s,
    size_t len, long long integer);

#endif
