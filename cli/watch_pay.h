/* bitcache watch: payment records (libbitcache/pay_record.h) written with
 * the watcher's MAC, read back and summed as far as they still count. */
#ifndef BITCACHE_CLI_WATCH_PAY_H
#define BITCACHE_CLI_WATCH_PAY_H

#include <stdint.h>

#include <hiredis/hiredis.h>

#include "pay_record.h"
#include "settle.h"
#include "watch_outs.h"
#include "watcher.h"

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

/* 1 if txid (display hex) was in the node's mempool this round. */
int in_pool(const watcher *w, const char *txid);

#endif
