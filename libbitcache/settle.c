#include <string.h>

#include "settle.h"

uint32_t
bc_confirmations(uint32_t height, uint32_t tip)
{
    if (height == 0 || height > tip) {
        return 0;
    }
    return tip - height + 1;
}

static uint64_t
add_sat(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

void
bc_pay_sum_init(bc_pay_sum *a)
{
    memset(a, 0, sizeof(*a));
}

void
bc_pay_sum_add(bc_pay_sum *a, uint64_t value, uint32_t conf, uint64_t seen_at)
{
    uint32_t c = conf < BC_SETTLE_CONF_CAP ? conf : BC_SETTLE_CONF_CAP;

    a->sum[c] = add_sat(a->sum[c], value);
    if (a->count[c] < UINT32_MAX) a->count[c]++;
    if (seen_at > a->last[c]) a->last[c] = seen_at;
    a->total = add_sat(a->total, value);
    a->n++;
}

void
bc_settle_sum(bc_settlement *s, const bc_pay_sum *a, uint64_t amount, uint32_t required,
    uint64_t now, uint64_t expires)
{
    uint64_t cum = 0, last = 0;
    uint32_t c, minc = 0;
    int found = 0;

    memset(s, 0, sizeof(*s));
    s->total = a->total;
    if (a->n == 0) {
        s->state = now > expires ? BC_STATE_EXPIRED : BC_STATE_NEW;
        return;
    }
    s->over = a->total > amount ? a->total - amount : 0;
    /* from the best-confirmed down: the first count whose payments (and
     * all better-confirmed ones) cover the amount is the largest such */
    for (c = BC_SETTLE_CONF_CAP + 1; c-- > 0;) {
        if (a->count[c] == 0) continue;
        minc = c;
        cum = add_sat(cum, a->sum[c]);
        if (a->last[c] > last) last = a->last[c];
        if (!found && cum >= amount) {
            found = 1;
            s->received = cum;
            s->conf = c;
            s->late = last > expires;
        }
    }
    if (!found) {
        s->state = now > expires ? BC_STATE_EXPIRED : BC_STATE_UNDERPAID;
        s->received = a->total;
        s->conf = minc;
        s->late = 0;
        return;
    }
    if (s->conf >= required) {
        s->state = BC_STATE_PAID;
    } else {
        s->state = BC_STATE_SEEN;
        s->late = 0;
    }
}

void
bc_settle(bc_settlement *s, const bc_payment *p, size_t n, uint64_t amount,
    uint32_t required, uint32_t tip, uint64_t now, uint64_t expires)
{
    bc_pay_sum a;
    size_t i;

    bc_pay_sum_init(&a);
    for (i = 0; i < n; i++) {
        bc_pay_sum_add(&a, p[i].value, bc_confirmations(p[i].height, tip), p[i].seen_at);
    }
    bc_settle_sum(s, &a, amount, required, now, expires);
}
