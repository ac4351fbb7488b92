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

/* Payments summed as they are read, in bounded memory whatever their
 * number: sats, count and latest seen_at by confirmation count, counts of
 * BC_SETTLE_CONF_CAP and more lumped together (an invoice requires at
 * most 255, so nothing that decides a state is lost; the attested conf
 * is at most the cap). Sums saturate at UINT64_MAX. */
#define BC_SETTLE_CONF_CAP 255

typedef struct {
    uint64_t sum[BC_SETTLE_CONF_CAP + 1];
    uint64_t last[BC_SETTLE_CONF_CAP + 1];
    uint32_t count[BC_SETTLE_CONF_CAP + 1];
    uint64_t total;
    uint64_t n;
} bc_pay_sum;

/* Confirmations of a payment at height (0: the mempool) with the node's
 * best block at tip: tip - height + 1, 0 for the mempool or a height above
 * tip. */
uint32_t bc_confirmations(uint32_t height, uint32_t tip);

void bc_pay_sum_init(bc_pay_sum *a);
void bc_pay_sum_add(bc_pay_sum *a, uint64_t value, uint32_t conf, uint64_t seen_at);

/* The settling rule of bc_settle over summed payments. */
void bc_settle_sum(bc_settlement *s, const bc_pay_sum *a, uint64_t amount, uint32_t required,
    uint64_t now, uint64_t expires);

/* tip: the height of the node's best block. A payment
 * at height h has tip - h + 1 confirmations (0 in the mempool). paid: some
 * c >= required has the payments with >= c confirmations summing to at
 * least amount (the largest such c is attested, with their sum); seen:
 * enough sats, not enough confirmations; underpaid: fewer sats than the
 * amount, expired instead once now > expires; new: no payment (expired
 * too once now > expires). */
void bc_settle(bc_settlement *s, const bc_payment *p, size_t n, uint64_t amount,
    uint32_t required, uint32_t tip, uint64_t now, uint64_t expires);

#endif
