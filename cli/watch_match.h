/* bitcache watch: outputs matched to the invoices they pay. */
#ifndef BITCACHE_CLI_WATCH_MATCH_H
#define BITCACHE_CLI_WATCH_MATCH_H

#include <stdint.h>

#include "watch_outs.h"
#include "watcher.h"

/* Looks every output up in spk:; an output whose script is the MAC'd spk
 * of the invoice named there is a payment, recorded (height 0, block NULL:
 * the mempool), and the invoices paid are settled against tip. Returns how many
 * payments, or -1 on a Redis error. */
long outs_match(watcher *w, const outlist *l, uint32_t height, const char *block,
    uint32_t tip);

#endif
