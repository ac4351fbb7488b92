/* The watcher's Redis records (docs/watcher.md), defined once: the key
 * names, the payment record and its MAC.
 *
 * A payment record is one field of the hash pay:<invoice id>:
 *     field  <txid>:<vout>                        (txid: 64 hex, display order)
 *     value  <sats> <height> <block> <seen_at> <mac>
 * height 0 and block 64 zeros while the transaction is in the mempool;
 * block is the hash of the block at height (display hex), seen_at the unix
 * time the watcher first saw the payment, mac 64 hex digits:
 *     HMAC-SHA256(pay_key, "payment" 0x00 | id[16] | txid[32] | u32 vout
 *                 | u64 sats | u32 height | block[32] | u64 seen_at)
 * with pay_key = TaggedHash("bitcache/v2/pay-key", watcher secret key), so
 * that only the watcher can write a record it will count: not a Redis
 * writer, not an nginx host (which holds only the public key). */
#ifndef BITCACHE_PAY_RECORD_H
#define BITCACHE_PAY_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "hmac.h"
#include "invoice.h"

/* key names under the prefix */
#define BC_KEY_PAY              "pay:"              /* + invoice id hex */
#define BC_KEY_SPK              "spk:"              /* + scriptPubKey hex */
#define BC_KEY_WATCHER_TIP      "watcher:tip"       /* hash: height, hash */
#define BC_KEY_WATCHER_BLOCKS   "watcher:blocks"    /* hash: height -> block hash */
#define BC_KEY_WATCHER_HEIGHT   "watcher:h:"        /* + height: set of invoice ids */
#define BC_KEY_WATCHER_OPEN     "watcher:open"
#define BC_KEY_WATCHER_DUE      "watcher:due"
#define BC_KEY_WATCHER_MEMPOOL  "watcher:mempool"
#define BC_KEY_WATCHER_LEASE    "watcher:lease"

#define BC_PAY_KEY_TAG          "bitcache/v2/pay-key"
#define BC_PAY_FIELD_MAX        (64 + 1 + 10 + 1)  /* with the NUL */
#define BC_PAY_VALUE_MAX        (20 + 1 + 10 + 1 + 64 + 1 + 20 + 1 + 64 + 1)

typedef struct {
    unsigned char txid[32];     /* display order, as the field spells it */
    uint32_t      vout;
    uint64_t      value;        /* satoshis */
    uint32_t      height;       /* 0: in the mempool */
    unsigned char block[32];    /* display order; zeros in the mempool */
    uint64_t      seen_at;
    unsigned char mac[32];
} bc_pay_record;

/* pay_key from the watcher's 32-byte secret key. Returns 1, or 0. */
int bc_pay_key_derive(unsigned char key[32], const unsigned char seckey[32]);

/* The record's MAC under pay_key (bc_hmac_key_new of it). */
int bc_pay_record_mac(unsigned char mac[32], bc_hmac_key *key,
    const unsigned char id[BC_INVOICE_ID_LEN], const bc_pay_record *p);

/* Sets p->mac. Returns 1, or 0. */
int bc_pay_record_sign(bc_pay_record *p, bc_hmac_key *key,
    const unsigned char id[BC_INVOICE_ID_LEN]);

/* 1 if p->mac is the record's MAC for invoice id (constant time). */
int bc_pay_record_verify(const bc_pay_record *p, bc_hmac_key *key,
    const unsigned char id[BC_INVOICE_ID_LEN]);

/* The field and the value as text (NUL-terminated, lower-case hex).
 * Return their lengths. */
size_t bc_pay_field_encode(char out[BC_PAY_FIELD_MAX], const bc_pay_record *p);
size_t bc_pay_value_encode(char out[BC_PAY_VALUE_MAX], const bc_pay_record *p);

/* Reads a field "<64 hex>:<vout>" into p->txid and p->vout. 1, or 0. */
int bc_pay_field_parse(bc_pay_record *p, const char *s, size_t len);

/* Reads a field and its value (neither need be NUL-terminated) exactly
 * as the encoders write them; anything else (another format, a sign, a
 * space too many, a height without a block or a block without a height)
 * returns 0 and leaves p undefined. The MAC is not checked here. */
int bc_pay_record_parse(bc_pay_record *p, const char *field, size_t field_len,
    const char *value, size_t value_len);

/* The outpoints already summed in one reading of pay:<id>. HSCAN may
 * return a field more than once (when the hash shrinks between pages, as
 * a Redis writer can make it do): each outpoint must count once. Holds
 * only records that counted (MAC'd by the watcher for real outputs), so
 * its size follows the payments, not what else is in the hash. */
typedef struct {
    unsigned char (*slot)[37];  /* used | txid | u32 vout */
    size_t        n, cap;
} bc_pay_seen;

void bc_pay_seen_init(bc_pay_seen *s);
/* 1 if p's outpoint is new (now remembered), 0 if seen already, -1 when
 * out of memory. */
int bc_pay_seen_add(bc_pay_seen *s, const bc_pay_record *p);
void bc_pay_seen_free(bc_pay_seen *s);

#endif
