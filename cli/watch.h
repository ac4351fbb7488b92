/* `bitcache watch`, the payment watcher: shared state of its parts.
 *   watch.c         options, the main loop, the leader lease, logging
 *   watch_chain.c   blocks and the mempool: matching outputs, reorgs
 *   watch_settle.c  invoices: state, attestation, events, revocation
 * Progress lives in Redis (docs/watcher.md lists the keys), so a watcher
 * killed at any moment resumes where it was and counts nothing twice. */
#ifndef BITCACHE_CLI_WATCH_H
#define BITCACHE_CLI_WATCH_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "network.h"
#include "redis_conn.h"
#include "rpc.h"
#include "schnorr.h"
#include "secret.h"

#define WATCH_KEEP_BLOCKS 144          /* block hashes kept for reorgs */
#define WATCH_GRACE       86400        /* late payments honored this long */

typedef struct {
    redis_opts     ro;
    redisContext  *rc;
    const char    *prefix;
    rpc_client    *rpc;
    unsigned char  seckey[32];
    unsigned char  xonly[32];
    bc_schnorr_signer signer;          /* seckey, ready to sign */
    bc_keys        keys;
    int            have_keys;          /* --secret: check invoice MACs, revoke tokens */
    int            have_net;
    bc_network     net;
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
} watcher;

/* One line on stderr: "2026-11-25T12:00:00Z bitcache watch: ...". */
void wlog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Runs a command (printf-like, hiredis' format); NULL after logging the
 * failure (connection errors leave w->rc for the loop to reconnect). */
redisReply *wcmd(watcher *w, const char *fmt, ...);

/* 1 while this watcher holds the lease; renews it. */
int lease_renew(watcher *w);

/* Follows the node from the last processed block to its tip, rolling back
 * disconnected blocks. Returns 1, or 0 on an error (logged). */
int chain_sync(watcher *w);

/* Looks at the mempool's new transactions. Returns 1, or 0 on an error. */
int mempool_scan(watcher *w);

/* Records a payment to invoice id (hex): txid:vout, value, height (0:
 * mempool); adds the invoice to the open set. Appends to the pipeline
 * (the caller reads the replies): returns how many commands it appended. */
int settle_record_payment(watcher *w, const char *id, const char *txid, uint32_t vout,
    uint64_t value, uint32_t height, uint64_t now);

/* Re-evaluates every open invoice against the tip at height tip. */
int settle_open(watcher *w, uint32_t tip);

/* The processed tip from Redis: 1 with height and hash hex, 0 if none, -1
 * on an error. */
int tip_get(watcher *w, uint32_t *height, char hash[65]);

#endif
