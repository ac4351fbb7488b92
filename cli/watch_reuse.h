/* bitcache watch: gap-safe address reuse (docs/protocol.md, "Derivation
 * indexes"). An invoice found expired with nothing ever received lists its
 * index in reuse:<wallet id>, to be handed out again once its grace is
 * over; an index whose invoice received anything is taken off the list. */
#ifndef BITCACHE_CLI_WATCH_REUSE_H
#define BITCACHE_CLI_WATCH_REUSE_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "invoice_record.h"
#include "settle.h"
#include "watch.h"

/* Called for an invoice whose record parsed and whose MAC verified (a
 * watcher without --secret cannot verify it and lists nothing); s is the
 * new settlement, np the payments counted, inv the HGETALL reply. Appends
 * at most one command to w->rc and returns how many. */
int watch_reuse_note(watcher *w, const char *idhex, const bc_invoice_record *rec,
    const bc_settlement *s, size_t np, const redisReply *inv, uint64_t now);

#endif
