/* bitcache watch: what the evaluation of an invoice decided (watch_settle.c),
 * its attestation signed (watch_sign.c), then written. */
#ifndef BITCACHE_CLI_WATCH_VERDICT_H
#define BITCACHE_CLI_WATCH_VERDICT_H

#include <stdint.h>

#include "invoice_record.h"
#include "settle.h"
#include "watch_reuse.h"

/* What the evaluation of one invoice decided, to be signed and written. */
typedef struct {
    const char        *idhex;
    unsigned char      id[16];
    int                drop;        /* no longer watched */
    int                changed;     /* a new state to attest and write */
    int                over_changed; /* only over differs (more was paid) */
    int                revoke, restore;
    int                signed_ok;
    const bc_keys     *keys;        /* the secret the record verified under:
                                       its token id's */
    watch_reuse        reuse;       /* the index's fate (watch_reuse.h) */
    bc_invoice_state   from;
    bc_settlement      s;
    uint64_t           paid_at, amount;
    uint32_t           required;
    unsigned char      msg[32], sig[64];
} watch_verdict;

#endif
