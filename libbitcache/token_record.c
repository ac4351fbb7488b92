#include "token_record.h"

/* a revoked record stays below this however often it is decremented */
#define REVOKED_ABOVE  (BC_LEFT_REVOKED / 2)

long long
bc_record_initial_left(uint32_t uses)
{
    return uses == 0 ? BC_LEFT_UNLIMITED : BC_LEFT_BASE + (long long) uses;
}

bc_record_status
bc_record_after_spend(long long left)
{
    if (left >= BC_LEFT_BASE) {
        return BC_RECORD_ALLOW;
    }
    if (left > 0) {
        return BC_RECORD_USED_UP;
    }
    if (left > REVOKED_ABOVE) {
        return BC_RECORD_UNKNOWN;
    }
    return BC_RECORD_REVOKED;
}

bc_record_status
bc_record_on_check(int present, long long left)
{
    if (!present || (left <= 0 && left > REVOKED_ABOVE)) {
        return BC_RECORD_UNKNOWN;
    }
    return left <= REVOKED_ABOVE ? BC_RECORD_REVOKED : BC_RECORD_ALLOW;
}

long long
bc_record_spent(uint32_t uses, long long left)
{
    if (left <= 0) {
        return -1;
    }
    if (uses == 0) {
        return BC_LEFT_UNLIMITED - left;
    }
    return BC_LEFT_BASE + (long long) uses - left;
}

const char *
bc_record_status_str(bc_record_status st)
{
    switch (st) {
    case BC_RECORD_ALLOW: return "allowed";
    case BC_RECORD_USED_UP: return "downloads used up";
    case BC_RECORD_UNKNOWN: return "unknown token";
    case BC_RECORD_REVOKED: return "token revoked";
    }
    return "?";
}
