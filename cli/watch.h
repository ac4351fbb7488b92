/* `bitcache watch`: what its parts offer each other (watcher.h: the state
 * they share). */
#ifndef BITCACHE_CLI_WATCH_H
#define BITCACHE_CLI_WATCH_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "pay_record.h"
#include "settle.h"
#include "tx.h"
#include "watch_lease.h"
#include "watch_log.h"
#include "watch_node.h"
#include "watch_redis.h"
#include "watcher.h"

/* A block's or the mempool's outputs that could pay an invoice, with
 * their spk:<hex> keys ready for MGET. */
#define SPK_KEY_MAX 64      /* longer scripts cannot be an invoice's */

typedef struct {
    char     key[300];      /* <prefix>spk:<hex> */
    size_t   hex_at;        /* where <hex> starts in key */
    char     txid[65];
    uint32_t vout;
    uint64_t value;
} outref;

typedef struct {
    outref  *v;
    size_t   n, cap;
} outlist;

/* Adds tx's outputs to l. 0 when out of memory. Thread-safe. */
int outs_add_tx(const watcher *w, outlist *l, const bc_tx *tx);

/* A block fetched from the node and parsed (watch_fetch.c). */
typedef struct {
    uint32_t     height;
    char         hash[65];
    char         prev[65];      /* its parent, display hex */
    uint64_t     ntx;
    outlist      outs;
    double       fetch_ms;
    int          ok;            /* 0: what failed and why in err */
    int          node_error;    /* 1: the node failed; 0: the block is malformed */
    const char  *what;
    char         err[256];
} fetched_block;

/* Fetches block h (by hash, or the node's at h if hash is NULL) over rpc
 * and parses it into b. Returns b->ok. Thread-safe. */
int fetch_block(const watcher *w, rpc_client *rpc, uint32_t h, const char *hash,
    fetched_block *b);
void fetched_block_free(fetched_block *b);

/* Blocks from..to fetched ahead by a thread, in order. */
typedef struct fetcher fetcher;
fetcher *fetcher_start(watcher *w, uint32_t from, uint32_t to);
/* The next block (moved into b; a failed one has b->ok == 0). */
void fetcher_next(fetcher *f, fetched_block *b);
void fetcher_stop(fetcher *f);

/* Follows the node from the last processed block to its tip, rolling back
 * disconnected blocks. Returns 1, or 0 on an error (logged). */
int chain_sync(watcher *w);

/* Looks every output up in spk:; an output whose script is the MAC'd spk
 * of the invoice named there is a payment, recorded (height 0, block NULL:
 * the mempool), and the invoices paid are settled against tip. Returns how many
 * payments, or -1 on a Redis error. */
long outs_match(watcher *w, const outlist *l, uint32_t height, const char *block,
    uint32_t tip);

/* Sorts invoice ids and drops repeats; returns how many are left. */
size_t ids_unique(char (*ids)[33], size_t n);

/* Looks at the mempool's new transactions; settles what they pay against
 * tip. Returns 1, or 0 on an error. */
int mempool_scan(watcher *w, uint32_t tip);

/* Records a payment to invoice id (hex) with the watcher's MAC: o's
 * outpoint and value, height and block (display hex, NULL: the mempool),
 * seen_at. Appends to the pipeline (the caller reads the replies): returns
 * how many commands it appended. */
int pay_record_write(watcher *w, const char *id, const outref *o, uint32_t height,
    const char *block, uint64_t seen_at);

/* What a payment record is worth now: 1 if it counts (its MAC is the
 * watcher's, and its block is the node's at its height, or its
 * transaction is in the node's mempool), 0 if not, with the reason in why
 * (NULL when there is nothing worth logging), -1 when the node did not
 * answer (nothing can be said: the invoice is evaluated again later). */
int pay_record_counts(watcher *w, const unsigned char id[16], const bc_pay_record *p,
    const char **why);

/* Adds the records of one HSCAN page of pay:<id> (the reply's element 1)
 * that count to a, each outpoint once (seen: HSCAN may return a field
 * twice), logging those that do not (the first few: *refused counts
 * them). Returns the next cursor ("0": done), or NULL for a malformed
 * reply, when out of memory, or when the node did not answer (then
 * *node_down is set). */
const char *pay_sum_page(watcher *w, const char *idhex, const unsigned char id[16],
    const redisReply *page, bc_pay_sum *a, bc_pay_seen *seen, unsigned long *refused,
    int *node_down);

/* 1 if r (an HGET reply of the outpoint's field) is a record the
 * watcher wrote for this invoice and output, read into p. */
int pay_existing(watcher *w, const unsigned char id[16], const outref *o, const redisReply *r,
    bc_pay_record *p);

/* The node's mempool, once a round before its height (so that a
 * transaction mined meanwhile is in a block the round reads). */
int mempool_snapshot(watcher *w);
/* 1 if txid (display hex) was in the node's mempool this round. */
int in_pool(const watcher *w, const char *txid);

/* Re-evaluates every open invoice against the tip at height tip. */
int settle_open(watcher *w, uint32_t tip);

/* Evaluates the invoices whose expiry has come (watcher:due, written by
 * nginx with each invoice): those never paid become expired. */
int settle_due(watcher *w, uint32_t tip);

/* Evaluates the invoices ids[0..n) against tip: those not settled join
 * the open set. pending: how many replies to the caller's own pipelined
 * commands come first (read and dropped here). 1, or 0 on a Redis error. */
int settle_ids(watcher *w, char (*ids)[33], size_t n, uint32_t tip, long pending);

/* The processed tip from Redis: 1 with height and hash hex, 0 if none, -1
 * on an error. Progress only: never the height confirmations are counted
 * from (that is the node's, w->node_tip). */
int tip_get(watcher *w, uint32_t *height, char hash[65]);

/* Checks once that the node's chain is one Bitcache knows (its genesis
 * block) and the one --network names. 1, 0 to retry, -1 fatal (logged). */
int chain_check(watcher *w);

#endif
