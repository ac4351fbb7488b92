/* bitcache watch: the outputs of a transaction that could pay an invoice
 * (a script no longer than an invoice's, a value), each with the spk:<hex>
 * key that names its invoice. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "pay_record.h"
#include "watch_outs.h"

int
outs_add_tx(const watcher *w, outlist *l, const bc_tx *tx)
{
    char txid[65], hex[2 * SPK_KEY_MAX + 1];
    size_t pos = 0, cap;
    uint32_t vout = 0;
    bc_txout o;
    outref *nv;

    bc_hash_to_hex(txid, tx->txid);
    while (bc_tx_output_next(tx, &pos, &o)) {
        if (o.spk_len > 0 && o.spk_len <= SPK_KEY_MAX && o.value > 0) {
            if (l->n == l->cap) {
                cap = l->cap ? 2 * l->cap : 1024;
                if ((nv = realloc(l->v, cap * sizeof(*nv))) == NULL) {
                    return 0;
                }
                l->v = nv;
                l->cap = cap;
            }
            bc_hex_encode(hex, o.spk, o.spk_len);
            snprintf(l->v[l->n].key, sizeof(l->v[l->n].key), "%s" BC_KEY_SPK "%s", w->prefix,
                     hex);
            l->v[l->n].hex_at = strlen(w->prefix) + strlen(BC_KEY_SPK);
            memcpy(l->v[l->n].txid, txid, 65);
            l->v[l->n].vout = vout;
            l->v[l->n].value = o.value;
            l->n++;
        }
        vout++;
    }
    return 1;
}
