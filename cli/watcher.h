/* `bitcache watch`, the payment watcher: the state its parts share. Each
 * file calls only files below it (docs/watcher.md, "The watcher's files"):
 *   watch.c         options, the main loop
 *   watch_metrics.c --metrics: the counters below, served over HTTP while
 *                   the loop sleeps
 *   watch_chain.c   following the chain: progress, reorgs
 *   watch_mempool.c the mempool: new payments, evicted ones
 *   watch_fetch.c   blocks from the node, parsed; the fetcher thread
 *   watch_match.c   outputs -> invoices (checked against their MAC'd spk)
 *   watch_settle.c  invoices: state, attestation, events, expiry
 *   watch_sign.c    attestations signed on several threads
 *   watch_pay.c     payment records: written with the watcher's MAC, read
 *                   back, verified against the node, summed
 *   watch_reuse.c   gap-safe address reuse
 *   watch_token.c   a token revoked after a reorg, restored when paid again
 *   watch_outs.c    the outputs of a block or the mempool to look up
 *   watch_lease.c   the leader lease
 *   watch_node.c    what the node says: its height, its block hashes
 *   watch_redis.c   commands on the Redis connection
 *   watch_log.c     the log
 * Threads: the fetcher touches only its own node connection and the block
 * it parses; the signers only the read-only key and their verdicts. Redis,
 * the HMAC keys and libbitcache's error messages stay on the main thread.
 * Progress lives in Redis (docs/watcher.md lists the keys), so a watcher
 * killed at any moment resumes where it was and counts nothing twice. */
#ifndef BITCACHE_CLI_WATCHER_H
#define BITCACHE_CLI_WATCHER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "hmac.h"
#include "network.h"
#include "redis_conn.h"
#include "rpc.h"
#include "schnorr.h"
#include "secret.h"

#define WATCH_KEEP_BLOCKS 144          /* block hashes kept for reorgs */
#define WATCH_GRACE       86400        /* late payments honored this long */
#define WATCH_DUE_BATCH   1000         /* expiring invoices looked at a round */
#define WATCH_HASH_CACHE  1024         /* node block hashes cached a round */

/* What --metrics serves (watch_metrics.c); the main thread's but rpc, which
 * the fetcher thread counts into too (atomics, rpc.h). */
typedef struct {
    uint32_t       tip;                /* the last block processed */
    int            have_tip;
    time_t         caught_up_at;       /* when tip last was the node's */
    uint64_t       open;               /* the open set's size, each round */
    uint64_t       settled;            /* invoices that became paid */
    uint64_t       pay_mempool, pay_block;  /* payment records written */
    uint64_t       reorgs, reorg_blocks;
    uint64_t       redis_errors;
    rpc_stats      rpc;
} watch_counters;

/* The node's block hashes by height, asked once a round (getblockhash). */
typedef struct {
    uint32_t       height;
    unsigned long  round;              /* valid in this round only */
    char           hash[65];
} hash_slot;

typedef struct {
    redis_opts     ro;
    redisContext  *rc;
    const char    *prefix;
    rpc_client    *rpc;
    rpc_client    *fetch_rpc;          /* the block fetcher's own connection */
    int            sign_threads;       /* attestations signed in parallel */
    unsigned char  seckey[32];
    unsigned char  xonly[32];
    bc_schnorr_signer signer;          /* seckey, ready to sign */
    bc_hmac_key   *pay_key;            /* MACs its payment records (pay_record.h) */
    bc_keys        keys;               /* --secret: invoice MACs, token ids;
                                          keys.old is &old_keys */
    bc_keys        old_keys;           /* --old-secret: verifies only */
    int            have_old_secret;
    unsigned char  old_xonly[32];      /* --old-key: its earlier attestations */
    bc_hmac_key   *old_pay_key;        /* --old-key: its earlier payment
                                          records; NULL without */
    int            have_net;           /* --network given */
    bc_network     net;                /* the node's chain, from its genesis block */
    int            chain_known;        /* net and genesis checked against the node */
    unsigned char  genesis[32];
    uint32_t       node_tip;           /* the node's height this round */
    unsigned long  round;
    hash_slot      hashes[WATCH_HASH_CACHE];
    /* the node's mempool at the start of the round (sorted display hex):
     * a mempool payment counts only while its transaction is there */
    char         (*pool)[65];
    size_t         npool;
    long           poll_ms, lease_ms;
    long long      from_height;        /* where to start without progress; -1: the tip */
    char           owner[96];          /* this watcher's lease value */
    int            leader;
    int            node_down;
    unsigned long  blocks_done;        /* blocks processed since the start */
    size_t         settled;            /* invoices evaluated in the last settle_open */
    /* the mempool transactions already looked at, sorted (display hex) */
    char         (*mempool)[65];
    size_t         nmempool;
    int            metrics_fd;         /* --metrics' listener; -1: none */
    watch_counters m;
} watcher;

#endif
