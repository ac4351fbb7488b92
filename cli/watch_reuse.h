/* bitcache watch: gap-safe address reuse (docs/protocol.md, "Derivation
 * indexes"). An invoice found expired with nothing ever received lists its
 * index in reuse:<wallet id>, to be handed out again once its grace is
 * over; an index whose invoice received anything is taken off the list. */
#ifndef BITCACHE_CLI_WATCH_REUSE_H
#define BITCACHE_CLI_WATCH_REUSE_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "index_record.h"
#include "invoice_record.h"
#include "settle.h"
#include "watcher.h"

/* What the evaluation of one invoice decided for its index. */
typedef struct {
    int       op;                       /* 0 nothing, 1 list it, 2 unlist it */
    char      wid[BC_WALLET_ID_HEX + 1];
    char      member[11];
    uint64_t  when;                     /* op 1: reusable from then */
} watch_reuse;

/* Decides for an invoice whose record parsed and whose MAC verified; s is the
 * new settlement, np the payments counted, inv the HGETALL reply. Sends
 * nothing: the evaluation may still be reading pages of payments. */
void watch_reuse_decide(const char *idhex, const bc_invoice_record *rec,
    const bc_settlement *s, size_t np, const redisReply *inv, uint64_t now,
    watch_reuse *out);

/* Appends the decided command to w->rc; returns how many (0 or 1). */
int watch_reuse_append(watcher *w, const watch_reuse *r);

#endif
