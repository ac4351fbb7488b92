/* The watcher's settling rule, without I/O: from the payments seen to an
 * invoice's address, its state, the sats and confirmations to attest, and
 * the over-payment and late flags (docs/watcher.md). */
#ifndef BITCACHE_SETTLE_H
#define BITCACHE_SETTLE_H

#include <stddef.h>
#include <stdint.h>

#include "invoice_record.h"

typedef struct {
    uint64_t value;      /* satoshis */
    uint32_t height;     /* of its block; 0 while in the mempool */
    uint64_t seen_at;    /* unix time the watcher first saw it */
} bc_payment;

typedef struct {
    bc_invoice_state state;
    uint64_t         received;   /* attested: sats with at least conf confirmations */
    uint32_t         conf;
    uint64_t         total;      /* all payments, confirmed or not */
    uint64_t         over;       /* total - amount when more was paid */
    int              late;       /* paid, but completed after expires */
} bc_settlement;

/* tip: the height of the best block the watcher has processed. A payment
 * at height h has tip - h + 1 confirmations (0 in the mempool). paid: some
 * c >= required has the payments with >= c confirmations summing to at
 * least amount (the largest such c is attested, with their sum); seen:
 * enough sats, not enough confirmations; underpaid: fewer sats than the
 * amount, expired instead once now > expires; new: no payment (expired
 * too once now > expires). */
void bc_settle(bc_settlement *s, const bc_payment *p, size_t n, uint64_t amount,
    uint32_t required, uint32_t tip, uint64_t now, uint64_t expires);

#endif
