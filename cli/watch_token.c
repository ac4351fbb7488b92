/* bitcache watch: the token of an invoice whose payment left the chain is
 * revoked, and restored when the invoice is paid again (docs/watcher.md,
 * "Progress, crashes, reorgs"). */
#include "hex.h"
#include "invoice.h"
#include "token_record.h"
#include "watch_log.h"
#include "watch_token.h"

/* Appends the revocation of the token minted for invoice id (a record
 * that never existed stays absent: the script checks). Returns how many
 * commands it appended. */
int
revoke_token(watcher *w, const bc_keys *keys, const char *idhex,
    const unsigned char id[16])
{
    unsigned char tid[16];
    char thex[33], key[BC_TOKREC_KEY_MAX];

    if (!bc_invoice_token_id(tid, id, keys)
        || !bc_tokrec_key(key, sizeof(key), w->prefix, tid))
    {
        return 0;
    }
    bc_hex_encode(thex, tid, 16);
    redisAppendCommand(w->rc, "EVAL %s 1 %s", BC_SCRIPT_TOKEN_REVOKE, key);
    /* remembered, so that a new payment of the invoice gives it back */
    redisAppendCommand(w->rc, "HSET %sinv:%s token_revoked 1", w->prefix, idhex);
    wlog("invoice %s: token %s revoked (if it was minted)", idhex, thex);
    return 2;
}

/* The invoice is paid again after its payment vanished in a reorg: the
 * token the watcher revoked works again, with the bytes it had left. */
int
restore_token(watcher *w, const bc_keys *keys, const char *idhex,
    const unsigned char id[16])
{
    unsigned char tid[16];
    char thex[33], key[BC_TOKREC_KEY_MAX];

    if (!bc_invoice_token_id(tid, id, keys)
        || !bc_tokrec_key(key, sizeof(key), w->prefix, tid))
    {
        return 0;
    }
    bc_hex_encode(thex, tid, 16);
    redisAppendCommand(w->rc, "EVAL %s 1 %s", BC_SCRIPT_TOKEN_RESTORE, key);
    redisAppendCommand(w->rc, "HDEL %sinv:%s token_revoked", w->prefix, idhex);
    wlog("invoice %s: paid again, token %s restored", idhex, thex);
    return 2;
}
