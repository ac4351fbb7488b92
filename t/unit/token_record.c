/* The bands of a token record's "left" field (docs/protocol.md). */
#include "tap.h"
#include "token_record.h"

int
main(void)
{
    long long l;
    int i;

    ok(bc_record_initial_left(3) == BC_LEFT_BASE + 3, "3 uses");
    ok(bc_record_initial_left(0) == BC_LEFT_UNLIMITED, "unlimited");

    /* three downloads allowed, then refused however often it is retried */
    l = bc_record_initial_left(3);
    for (i = 0; i < 3; i++) {
        ok(bc_record_after_spend(--l) == BC_RECORD_ALLOW, "download %d allowed", i + 1);
    }
    ok(bc_record_spent(3, l) == 3, "3 spent");
    ok(bc_record_after_spend(--l) == BC_RECORD_USED_UP, "4th: used up");
    ok(bc_record_after_spend(1) == BC_RECORD_USED_UP, "still used up near the bottom of the band");
    ok(bc_record_on_check(1, l) == BC_RECORD_ALLOW, "a used-up token may still resume");

    ok(bc_record_after_spend(-1) == BC_RECORD_UNKNOWN, "HINCRBY on no record: unknown");
    ok(bc_record_after_spend(0) == BC_RECORD_UNKNOWN, "0: unknown");
    ok(bc_record_on_check(0, 0) == BC_RECORD_UNKNOWN, "HGET nil: unknown");
    ok(bc_record_on_check(1, -5) == BC_RECORD_UNKNOWN, "a stray negative record: unknown");

    ok(bc_record_after_spend(BC_LEFT_REVOKED - 1) == BC_RECORD_REVOKED, "revoked");
    ok(bc_record_after_spend(BC_LEFT_REVOKED - 1000000) == BC_RECORD_REVOKED, "revoked, retried");
    ok(bc_record_on_check(1, BC_LEFT_REVOKED) == BC_RECORD_REVOKED, "revoked: no resume");

    ok(bc_record_after_spend(BC_LEFT_UNLIMITED - 1) == BC_RECORD_ALLOW, "unlimited");
    ok(bc_record_spent(0, BC_LEFT_UNLIMITED - 42) == 42, "unlimited: 42 spent");
    ok(bc_record_initial_left(UINT32_MAX) < BC_LEFT_UNLIMITED, "the largest count stays below unlimited");
    return done_testing();
}
