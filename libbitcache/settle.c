#include <string.h>

#include "settle.h"

static uint32_t
confs(const bc_payment *p, uint32_t tip)
{
    if (p->height == 0 || p->height > tip) {
        return 0;
    }
    return tip - p->height + 1;
}

/* sats of the payments with at least c confirmations; *last the latest
 * seen_at among them */
static uint64_t
sum_from(const bc_payment *p, size_t n, uint32_t tip, uint32_t c, uint64_t *last)
{
    uint64_t sum = 0;
    size_t i;

    *last = 0;
    for (i = 0; i < n; i++) {
        if (confs(&p[i], tip) >= c) {
            sum += p[i].value;
            if (p[i].seen_at > *last) *last = p[i].seen_at;
        }
    }
    return sum;
}

void
bc_settle(bc_settlement *s, const bc_payment *p, size_t n, uint64_t amount,
    uint32_t required, uint32_t tip, uint64_t now, uint64_t expires)
{
    uint32_t c, best = 0, minc = UINT32_MAX;
    uint64_t sum, last, best_sum = 0, best_last = 0;
    int found = 0;
    size_t i;

    memset(s, 0, sizeof(*s));
    for (i = 0; i < n; i++) {
        s->total += p[i].value;
        c = confs(&p[i], tip);
        if (c < minc) minc = c;
    }
    if (n == 0) {
        s->state = now > expires ? BC_STATE_EXPIRED : BC_STATE_NEW;
        return;
    }
    s->over = s->total > amount ? s->total - amount : 0;
    /* the largest confirmation count that still covers the amount */
    for (i = 0; i < n; i++) {
        c = confs(&p[i], tip);
        sum = sum_from(p, n, tip, c, &last);
        if (sum >= amount && (!found || c > best)) {
            found = 1;
            best = c;
            best_sum = sum;
            best_last = last;
        }
    }
    if (!found) {
        s->state = now > expires ? BC_STATE_EXPIRED : BC_STATE_UNDERPAID;
        s->received = s->total;
        s->conf = minc;
        return;
    }
    s->received = best_sum;
    s->conf = best;
    if (best >= required) {
        s->state = BC_STATE_PAID;
        s->late = best_last > expires;
    } else {
        s->state = BC_STATE_SEEN;
    }
}
