/* The Redis record of a token, <prefix>tok:<id hex>: its one definition
 * (key, fields, the argv and scripts that write it, the parser that reads
 * it), shared by the nginx module, `bitcache grant`, `bitcache revoke`,
 * `bitcache invoice show` and the watcher. docs/protocol.md describes it.
 *
 * Downloads are counted in bytes: a token allows `uses` x the size of each
 * file it covers (0 = unlimited). The field "b:<file>" holds the bytes
 * drawn from that file's allowance. Every request draws what it will send
 * before sending it (BC_SCRIPT_TOKEN_DRAW, atomic, never past the
 * allowance) and gives back what it did not send when it ends
 * (BC_SCRIPT_TOKEN_REFUND). A record without "uses" is unknown: refused,
 * and never created by a draw or a refund, so that losing or flushing
 * Redis can deny downloads but never reset a count. */
#ifndef BITCACHE_TOKEN_RECORD_H
#define BITCACHE_TOKEN_RECORD_H

#include <stddef.h>
#include <stdint.h>

#define BC_REDIS_DEFAULT_PREFIX "bitcache:"

#define BC_TOKREC_KIND          "tok:"
#define BC_TOKREC_USES          "uses"      /* allowed downloads; 0 = unlimited */
#define BC_TOKREC_PRODUCT       "product"   /* copy of the token's, for operators */
#define BC_TOKREC_EXPIRES       "expires"   /* copy of the token's, unix seconds */
#define BC_TOKREC_REVOKED       "revoked"   /* present: revoked */
#define BC_TOKREC_FILE          "b:"        /* b:<file path>: bytes drawn */
#define BC_TOKREC_CUT           "c:"        /* c:<file path>: "<start>-<end>" of
                                               a cut response (see DRAW) */
#define BC_TOKREC_RESEND_MAX    16777216    /* the most a resume gets again
                                               undrawn (in DRAW's text) */

/* Allowances stay below 2^53, where Lua's numbers are still exact. */
#define BC_TOKREC_BYTES_MAX     ((1LL << 53) - 1)

/* Longest key: prefix (at most 128 bytes) + "tok:" + 32 hex digits. */
#define BC_TOKREC_KEY_MAX       (128 + 4 + 32 + 1)

/* Writes <prefix>tok:<id hex> (NUL-terminated) to out; returns its length,
 * or 0 if it does not fit in outlen. */
size_t bc_tokrec_key(char *out, size_t outlen, const char *prefix,
    const unsigned char id[16]);

/* The bytes a token allowing uses downloads may draw from a file of size
 * bytes: uses x size, at most BC_TOKREC_BYTES_MAX; 0 means unlimited
 * (uses 0). An empty file gets 1, a limit that its draws of 0 never reach. */
int64_t bc_tokrec_allowance(uint32_t uses, int64_t size);

/* The argv of "HSET <key> uses U product P expires E" (8 strings), which
 * creates a minted token's record or rewrites it the same (a poll); the
 * caller adds EXPIREAT <key> <expires>. Strings point into w and its
 * arguments, which must outlive the argv. */
typedef struct {
    const char  *argv[8];
    size_t       argvlen[8];
    char         uses[12];
    char         expires[21];
} bc_tokrec_write;

void bc_tokrec_hset(bc_tokrec_write *w, const char *key, size_t keylen,
    uint32_t uses, const unsigned char *product, size_t product_len,
    uint64_t expires);

/* What BC_SCRIPT_TOKEN_DRAW answered. */
typedef enum {
    BC_RECORD_ALLOW = 0,
    BC_RECORD_USED_UP,     /* not that many bytes left */
    BC_RECORD_UNKNOWN,     /* no record: never minted, expired, or Redis lost it */
    BC_RECORD_REVOKED
} bc_record_status;

bc_record_status bc_tokrec_draw_result(long long reply);
const char *bc_record_status_str(bc_record_status st);

/* A record as HGETALL gives it, for operators (`bitcache invoice show`). */
typedef struct {
    const char  *name;          /* the file, after "b:" (not NUL-terminated) */
    size_t       name_len;
    int64_t      drawn;         /* bytes drawn */
} bc_tokrec_file;

#define BC_TOKREC_FILES_MAX  64

typedef struct {
    int             present;    /* has "uses": a token's record */
    int             revoked;
    uint32_t        uses;
    uint64_t        expires;
    const char     *product;    /* not NUL-terminated; NULL if absent */
    size_t          product_len;
    bc_tokrec_file  files[BC_TOKREC_FILES_MAX];
    size_t          nfiles;     /* those kept; more_files says how many more */
    size_t          more_files;
} bc_tokrec;

/* Parses the field/value list kv[0..n) (n even) of HGETALL tok:<id>.
 * Returns 1, or 0 with a reason in err when a field is malformed (a
 * record someone wrote by hand). Strings point into kv. */
int bc_tokrec_parse(bc_tokrec *rec, const char *const *kv, const size_t *kvlen,
    size_t n, char *err, size_t errlen);

/* KEYS[1] = <prefix>tok:<id hex>; ARGV[1] = "b:<file>", ARGV[2] = bytes to
 * send (>= 0), ARGV[3] = the file's allowance (bc_tokrec_allowance; 0 =
 * unlimited), ARGV[4] = where a one-part body starts in the file (-1 for
 * none), ARGV[5] = "c:<file>". The hot path's one command (EVALSHA).
 *
 * Bytes of a cut response were drawn, but the client may not have them
 * (they sat in socket buffers when it went away): the refund leaves the
 * drawn part that went out as "c:<file>" = "<start>-<end>", and the next
 * one-part response that starts inside it sends up to
 * BC_TOKREC_RESEND_MAX of it again without drawing it, once. So a
 * download cut and resumed costs one file whatever the buffers held; bytes
 * sent again undrawn never make a new credit, so a byte goes out at most
 * twice per time it is drawn, and a credit is never more than what socket
 * buffers can hold.
 *
 * Returns -1 unknown, -2 revoked, -3 not enough left, else the bytes taken
 * from the credit (the draw is ARGV[2] minus those). An unlimited token
 * draws nothing. A count that is not a number makes the script fail: the
 * caller answers 503, never the file. */
#define BC_SCRIPT_TOKEN_DRAW                                                  \
    "local r = redis.call('HMGET', KEYS[1], 'uses', 'revoked', ARGV[1],"      \
    " ARGV[5])\n"                                                             \
    "if not r[1] then return -1 end\n"                                        \
    "if r[2] then return -2 end\n"                                            \
    "local n, max, s = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])\n" \
    "if max == 0 then return 0 end\n"                                         \
    "local free = 0\n"                                                        \
    "if r[4] and s >= 0 and n > 0 then\n"                                     \
    "  local a, b = string.match(r[4], '^(%d+)-(%d+)$')\n"                    \
    "  a, b = tonumber(a), tonumber(b)\n"                                     \
    "  if a and s >= a and s < b then free = math.min(b - s, n, 16777216) end\n" \
    "end\n"                                                                   \
    "local drawn = tonumber(r[3] or '0')\n"                                   \
    "if n - free > 0 and drawn + n - free > max then return -3 end\n"         \
    "if free > 0 then redis.call('HDEL', KEYS[1], ARGV[5]) end\n"             \
    "if n - free > 0 then redis.call('HINCRBY', KEYS[1], ARGV[1], n - free) end\n" \
    "return free\n"

/* KEYS[1] = <prefix>tok:<id hex>; ARGV[1] = "b:<file>", ARGV[2] = bytes
 * drawn and not sent, ARGV[3] = "c:<file>", ARGV[4] = "<start>-<end>" of
 * a cut one-part response, or "". Gives the bytes back and leaves the
 * credit (see DRAW), fire and forget when a request ends. A record that is
 * gone stays gone, and a count never goes below 0. */
#define BC_SCRIPT_TOKEN_REFUND                                                \
    "if redis.call('HEXISTS', KEYS[1], 'uses') == 0 then return 0 end\n"      \
    "local d = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0') or 0\n"  \
    "local n = math.min(d, tonumber(ARGV[2]))\n"                              \
    "if n > 0 then redis.call('HINCRBY', KEYS[1], ARGV[1], -n) end\n"         \
    "if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], ARGV[3], ARGV[4]) end\n" \
    "return n\n"

/* KEYS[1] = <prefix>tok:<id hex>; ARGV = (ignored: kept so that callers of
 * the download-count era still fit), allowed uses, product, expires (unix
 * seconds). Creates the record of a newly minted token, living as long as
 * the token. Returns 1, or 0 if the id is taken. */
#define BC_SCRIPT_TOKEN_CREATE                                                \
    "if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end\n"               \
    "redis.call('HSET', KEYS[1], 'uses', ARGV[2],"                            \
    " 'product', ARGV[3], 'expires', ARGV[4])\n"                              \
    "redis.call('EXPIREAT', KEYS[1], ARGV[4])\n"                              \
    "return 1\n"

/* KEYS[1] = <prefix>tok:<id hex>; ARGV[1] ignored (see CREATE). Returns 1
 * if revoked now or before, 0 if there is no such token. The bytes drawn
 * stay as they are. */
#define BC_SCRIPT_TOKEN_REVOKE                                                \
    "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end\n"               \
    "redis.call('HSET', KEYS[1], 'revoked', 1)\n"                             \
    "return 1\n"

/* KEYS[1] = <prefix>tok:<id hex>; ARGV[1] ignored (see CREATE). Undoes a
 * revocation (the watcher's, after a reorg, once the invoice is paid
 * again): the token has the bytes it had left, not its whole allowance
 * again. A record that does not exist stays absent. */
#define BC_SCRIPT_TOKEN_RESTORE                                               \
    "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end\n"               \
    "redis.call('HDEL', KEYS[1], 'revoked')\n"                                \
    "return 1\n"

/* The first argument that callers of the older scripts pass (ignored). */
#define BC_LEFT_REVOKED     (-(1LL << 62))
long long bc_record_initial_left(uint32_t uses);

/* SHA1 of a script as 40 hex digits and a NUL, for EVALSHA. */
void bc_script_sha1(char out[41], const char *script);

#endif
