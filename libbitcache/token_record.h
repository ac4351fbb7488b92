/* The Redis record of a token, <prefix>tok:<id hex>: its one definition
 * (key, fields, the argv and scripts that write it, the parser that reads
 * it), shared by the nginx module, `bitcache grant`, `bitcache revoke`,
 * `bitcache invoice show` and the watcher. docs/protocol.md describes it.
 *
 * Downloads are counted in bytes: a token allows `uses` x the size of each
 * file it covers (0 = unlimited). The field "b:<uri>" counts the bytes
 * drawn from that file's allowance, as BC_TOKREC_LIVE + bytes (plus
 * BC_TOKREC_REVOKED_BAND while the token is revoked). Every request draws
 * what it will send before sending it, with one plain HINCRBY on that
 * field whose answer says allowed, revoked, or "ask the script"
 * (bc_tokrec_fast_result); only then (a file not drawn from yet, a record
 * missing, an allowance spent) does BC_SCRIPT_TOKEN_DRAW decide, undoing
 * the increment. What a request did not send goes back when it ends
 * (BC_SCRIPT_TOKEN_REFUND). A record without "uses" is unknown: refused,
 * and removed again if an increment made it, so that losing or flushing
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
#define BC_TOKREC_FILE          "b:"        /* b:<uri>: LIVE + bytes drawn */
#define BC_TOKREC_CUT           "c:"        /* c:<uri>: "<start>-<end>" of a
                                               cut response (see DRAW) */
#define BC_TOKREC_RESENT        "s:"        /* s:<uri>: bytes sent again
                                               undrawn, at most RESENT_MAX */

/* A file's counter: LIVE + bytes drawn; revoking adds REVOKED_BAND to every
 * counter (restoring takes it off again), so that one HINCRBY tells a live
 * counter, a revoked one, and one that did not exist (below LIVE) apart.
 * The scripts spell them out: 2^50 = 1125899906842624, 2^51 =
 * 2251799813685248. */
#define BC_TOKREC_LIVE          (1LL << 50)
#define BC_TOKREC_REVOKED_BAND  (1LL << 51)
#define BC_TOKREC_RESEND_MAX    16777216    /* the most a resume gets again
                                               undrawn (in DRAW's text) */
#define BC_TOKREC_RESENT_MAX    67108864    /* the most a file is sent again
                                               undrawn in all (DRAW's text) */

/* Allowances stay below 2^50 (1 PiB a file), so that every counter,
 * revoked ones too, stays below 2^53, where Lua's numbers are exact. */
#define BC_TOKREC_BYTES_MAX     ((1LL << 50) - 1)

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

/* The argv of "HSETNX <key> b:<product> LIVE" (4 strings): the counter of
 * the file named like the product, ready for the hot path's HINCRBY, and
 * never reset by a later poll. field must hold 2 + product_len bytes. */
typedef struct {
    const char  *argv[4];
    size_t       argvlen[4];
    char         live[21];
} bc_tokrec_seed_write;

void bc_tokrec_seed(bc_tokrec_seed_write *w, char *field, const char *key,
    size_t keylen, const unsigned char *product, size_t product_len);

/* What BC_SCRIPT_TOKEN_DRAW answered. */
typedef enum {
    BC_RECORD_ALLOW = 0,
    BC_RECORD_USED_UP,     /* not that many bytes left */
    BC_RECORD_UNKNOWN,     /* no record: never minted, expired, or Redis lost it */
    BC_RECORD_REVOKED,
    BC_RECORD_ASK_SCRIPT   /* the HINCRBY cannot tell: run the script */
} bc_record_status;

/* Classifies the reply of HINCRBY <key> b:<uri> <bytes>, the hot path's one
 * command: allowed (the counter stays within allowance, 0 = unlimited),
 * revoked (give the bytes back), or ask the script (which undoes the
 * increment): the counter did not exist, or the allowance is spent (a
 * resume's credit may still cover it). */
bc_record_status bc_tokrec_fast_result(long long reply, int64_t allowance);

bc_record_status bc_tokrec_draw_result(long long reply);
const char *bc_record_status_str(bc_record_status st);

/* A record as HGETALL gives it, for operators (`bitcache invoice show`). */
typedef struct {
    const char  *name;          /* the file's URI, after "b:" (not NUL-terminated) */
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

/* KEYS[1] = <prefix>tok:<id hex>; ARGV[1] = "b:<uri>", ARGV[2] = bytes to
 * send (>= 0), ARGV[3] = the file's allowance (bc_tokrec_allowance; 0 =
 * unlimited), ARGV[4] = where a one-part body starts in the file (-1 for
 * none), ARGV[5] = "c:<uri>", ARGV[6] = what the HINCRBY before it added
 * (undone here). Run when that HINCRBY could not decide.
 *
 * Bytes of a cut response were drawn, but the client may not have them
 * (they sat in socket buffers when it went away): the refund leaves the
 * drawn part that went out as "c:<uri>" = "<start>-<end>", and a one-part
 * response that starts inside it and finds the allowance spent sends up to
 * 16 MiB of it again without drawing it, once. So a download cut and
 * resumed costs one file whatever the buffers held; bytes sent again
 * undrawn make no new credit. "s:<uri>" counts the bytes sent again: at
 * most 64 MiB per file in all, however many times a download is cut (a
 * chain of cuts and resumes, each credit used, gave up to twice the
 * allowance of a file of any size).
 *
 * A counter below LIVE (the file's first draw) holds only the increments
 * of racing requests whose scripts have not run yet: they count as drawn
 * (each script undoes its own), so that racing first draws never all pass.
 *
 * Returns -1 unknown (and removes what the HINCRBY made), -2 revoked, -3
 * not enough left, else the bytes taken from the credit (the draw is
 * ARGV[2] minus those). A counter that is not a number makes it fail: the
 * caller answers 503, never the file. */
#define BC_SCRIPT_TOKEN_DRAW                                                  \
    "local sf = 's:' .. string.sub(ARGV[5], 3)\n"                             \
    "local r = redis.call('HMGET', KEYS[1], 'uses', 'revoked', ARGV[1],"      \
    " ARGV[5], sf)\n"                                                         \
    "if not r[1] then redis.call('DEL', KEYS[1]) return -1 end\n"             \
    "local n, max, s = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])\n" \
    "local v = tonumber(r[3] or '0') - tonumber(ARGV[6])\n"                   \
    "if r[2] or v >= 2251799813685248 then\n"                              \
    "  if r[3] then redis.call('HSET', KEYS[1], ARGV[1], v) end\n"            \
    "  return -2\n"                                                           \
    "end\n"                                                                   \
    "if v < 1125899906842624 then v = 1125899906842624 + math.max(v, 0) end\n" \
    "local free = 0\n"                                                        \
    "if r[4] and s >= 0 and n > 0 then\n"                                     \
    "  local a, b = string.match(r[4], '^(%d+)-(%d+)$')\n"                    \
    "  a, b = tonumber(a), tonumber(b)\n"                                     \
    "  local left = 67108864 - (tonumber(r[5] or '0') or 0)\n"               \
    "  if a and s >= a and s < b and left > 0 then\n"                         \
    "    free = math.min(b - s, n, 16777216, left)\n"                         \
    "  end\n"                                                                 \
    "end\n"                                                                   \
    "if max > 0 and n > free and v - 1125899906842624 + n - free > max then\n" \
    "  redis.call('HSET', KEYS[1], ARGV[1], v)\n"                             \
    "  return -3\n"                                                           \
    "end\n"                                                                   \
    "if free > 0 then\n"                                                      \
    "  redis.call('HDEL', KEYS[1], ARGV[5])\n"                                \
    "  redis.call('HINCRBY', KEYS[1], sf, free)\n"                            \
    "end\n"                                                                   \
    "redis.call('HSET', KEYS[1], ARGV[1], v + n - free)\n"                    \
    "return free\n"

/* KEYS[1] = <prefix>tok:<id hex>; ARGV[1] = "b:<uri>", ARGV[2] = bytes
 * drawn and not sent, ARGV[3] = "c:<uri>", ARGV[4] = "<start>-<end>" of a
 * cut one-part response, or "". Gives the bytes back and leaves the credit
 * (see DRAW), fire and forget when a request ends. A record or counter
 * that is gone stays gone, and a count never goes below 0. */
#define BC_SCRIPT_TOKEN_REFUND                                                \
    "if redis.call('HEXISTS', KEYS[1], 'uses') == 0 then return 0 end\n"      \
    "local d = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0') or 0\n"  \
    "local n = math.min(d - 1125899906842624, tonumber(ARGV[2]))\n"          \
    "if n > 0 then redis.call('HINCRBY', KEYS[1], ARGV[1], -n) end\n"         \
    "if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], ARGV[3], ARGV[4]) end\n" \
    "return n\n"

/* KEYS[1] = <prefix>tok:<id hex>; ARGV = (ignored: kept so that callers of
 * the download-count era still fit), allowed uses, product, expires (unix
 * seconds). Creates the record of a newly minted token, living as long as
 * the token, with the counter of the file named like the product (the
 * default product is $uri) ready. Returns 1, or 0 if the id is taken. */
#define BC_SCRIPT_TOKEN_CREATE                                                \
    "if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end\n"               \
    "redis.call('HSET', KEYS[1], 'uses', ARGV[2],"                            \
    " 'product', ARGV[3], 'expires', ARGV[4],"                                \
    " 'b:' .. ARGV[3], '1125899906842624')\n"                                \
    "redis.call('EXPIREAT', KEYS[1], ARGV[4])\n"                              \
    "return 1\n"

/* KEYS[1] = <prefix>tok:<id hex>. Returns 1
 * if revoked now or before, 0 if there is no such token. Every counter
 * moves into the revoked band, keeping the bytes drawn. */
#define BC_SCRIPT_TOKEN_REVOKE                                                \
    "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end\n"               \
    "if redis.call('HSETNX', KEYS[1], 'revoked', 1) == 0 then return 1 end\n" \
    "for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do\n"                   \
    "  if string.sub(f, 1, 2) == 'b:' then\n"                                 \
    "    redis.call('HINCRBY', KEYS[1], f, '2251799813685248')\n"          \
    "  end\n"                                                                 \
    "end\n"                                                                   \
    "return 1\n"

/* KEYS[1] = <prefix>tok:<id hex>. Undoes a
 * revocation (the watcher's, after a reorg, once the invoice is paid
 * again): the token has the bytes it had left, not its whole allowance
 * again. A record that does not exist stays absent. */
#define BC_SCRIPT_TOKEN_RESTORE                                               \
    "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end\n"               \
    "if redis.call('HDEL', KEYS[1], 'revoked') == 0 then return 1 end\n"      \
    "for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do\n"                   \
    "  if string.sub(f, 1, 2) == 'b:' and tonumber(redis.call('HGET',"        \
    " KEYS[1], f)) >= 2251799813685248 then\n"                             \
    "    redis.call('HINCRBY', KEYS[1], f, '-2251799813685248')\n"         \
    "  end\n"                                                                 \
    "end\n"                                                                   \
    "return 1\n"


/* SHA1 of a script as 40 hex digits and a NUL, for EVALSHA. */
void bc_script_sha1(char out[41], const char *script);

#endif
