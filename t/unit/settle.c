/* libbitcache/settle.c: the watcher's settling rule, case by case. */
#include <string.h>

#include "settle.h"
#include "tap.h"

#define P(v, h, t) { (v), (h), (t) }

int
main(void)
{
    bc_settlement s;
    const uint64_t exp = 1000, now = 500;

    bc_settle(&s, NULL, 0, 100, 1, 10, now, exp);
    ok(s.state == BC_STATE_NEW && s.received == 0, "no payment: new");
    bc_settle(&s, NULL, 0, 100, 1, 10, exp + 1, exp);
    ok(s.state == BC_STATE_EXPIRED && s.received == 0 && s.conf == 0,
       "no payment after expiry: expired");

    {
        bc_payment p[] = { P(100, 0, 400) };
        bc_settle(&s, p, 1, 100, 1, 10, now, exp);
        ok(s.state == BC_STATE_SEEN && s.received == 100 && s.conf == 0, "mempool, 1 required: seen");
        bc_settle(&s, p, 1, 100, 0, 10, now, exp);
        ok(s.state == BC_STATE_PAID && s.conf == 0 && !s.late, "mempool, 0 required: paid");
    }
    {
        bc_payment p[] = { P(100, 10, 400) };
        bc_settle(&s, p, 1, 100, 1, 10, now, exp);
        ok(s.state == BC_STATE_PAID && s.conf == 1, "in the tip block: 1 confirmation, paid");
        bc_settle(&s, p, 1, 100, 3, 11, now, exp);
        ok(s.state == BC_STATE_SEEN && s.conf == 2, "2 of 3: seen");
        bc_settle(&s, p, 1, 100, 3, 12, now, exp);
        ok(s.state == BC_STATE_PAID && s.conf == 3, "3 of 3: paid");
    }
    {
        bc_payment p[] = { P(60, 8, 400) };
        bc_settle(&s, p, 1, 100, 1, 10, now, exp);
        ok(s.state == BC_STATE_UNDERPAID && s.received == 60 && s.conf == 3, "60 of 100: underpaid");
        bc_settle(&s, p, 1, 100, 1, 10, exp + 1, exp);
        ok(s.state == BC_STATE_EXPIRED && s.received == 60, "underpaid after expiry: expired");
    }
    {
        bc_payment p[] = { P(60, 8, 400), P(40, 10, 450) };
        bc_settle(&s, p, 2, 100, 1, 10, now, exp);
        ok(s.state == BC_STATE_PAID && s.received == 100 && s.conf == 1, "topped up: paid, conf of the newest");
        bc_settle(&s, p, 2, 100, 2, 10, now, exp);
        ok(s.state == BC_STATE_SEEN && s.conf == 1, "top-up needs 2: seen");
    }
    {
        bc_payment p[] = { P(150, 5, 400), P(10, 0, 450) };
        bc_settle(&s, p, 2, 100, 1, 10, now, exp);
        ok(s.state == BC_STATE_PAID && s.conf == 6 && s.received == 150 && s.total == 160
           && s.over == 60, "over-paid: the best-confirmed sum is attested, the excess recorded");
    }
    {
        bc_payment p[] = { P(100, 10, exp + 5) };
        bc_settle(&s, p, 1, 100, 1, 10, exp + 10, exp);
        ok(s.state == BC_STATE_PAID && s.late, "paid after expiry: paid, late");
    }
    {
        bc_payment p[] = { P(100, 12, 400) };
        bc_settle(&s, p, 1, 100, 1, 10, now, exp);
        ok(s.state == BC_STATE_SEEN && s.conf == 0, "a height above the tip counts as unconfirmed");
    }
    {
        /* dust to a paid address: every payment counts, none is dropped */
        static bc_payment p[5001];
        size_t i;

        for (i = 0; i < 5000; i++) p[i] = (bc_payment) P(1, 0, 400);
        p[5000] = (bc_payment) P(100, 9, 300);
        bc_settle(&s, p, 5001, 100, 1, 10, now, exp);
        ok(s.state == BC_STATE_PAID && s.received == 100 && s.conf == 2 && s.total == 5100,
           "5,000 dust payments after the real one: still paid by it");
        p[5000].value = 50;
        bc_settle(&s, p, 5001, 100, 0, 10, now, exp);
        ok(s.state == BC_STATE_PAID && s.received == 5050 && s.conf == 0,
           "50 confirmed + 5,000 in the mempool: 0-conf paid by all of them");
    }
    {
        bc_pay_sum a;

        bc_pay_sum_init(&a);
        bc_pay_sum_add(&a, 100, 1000, 400);
        bc_settle_sum(&s, &a, 100, 6, now, exp);
        ok(s.state == BC_STATE_PAID && s.conf == BC_SETTLE_CONF_CAP,
           "1,000 confirmations attested as the cap (255)");
        bc_pay_sum_add(&a, UINT64_MAX, 3, 400);
        bc_settle_sum(&s, &a, 200, 1, now, exp);
        ok(s.total == UINT64_MAX && s.state == BC_STATE_PAID && s.received == UINT64_MAX
           && s.conf == 3, "sums saturate instead of wrapping");
    }
    ok(bc_confirmations(0, 10) == 0 && bc_confirmations(10, 10) == 1 && bc_confirmations(11, 10) == 0
       && bc_confirmations(1, 10) == 10, "confirmations from the node's height");
    return done_testing();
}
