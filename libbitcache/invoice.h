/* The selling flow's signed messages (docs/protocol.md, "Offers, invoices
 * and payments"): offers in 402 pages, the MAC of an invoice record, the
 * watcher's payment attestation, the token minted for a paid invoice and
 * the MAC of a creator's catalog record. */
#ifndef BITCACHE_INVOICE_H
#define BITCACHE_INVOICE_H

#include <stddef.h>
#include <stdint.h>

#include "secret.h"

#define BC_INVOICE_ID_LEN     16
#define BC_INVOICE_VERSION    3             /* the record's v and its MAC layout */
#define BC_OFFER_VERSION      2             /* what bc_offer_encode writes */
#define BC_AMOUNT_MAX_FACTOR  100           /* a chosen amount: at most this many
                                               times max(price, suggested) */
#define BC_OFFER_LIFETIME     3600          /* seconds an offer is accepted */
#define BC_OFFER_FIELD_MAX    1024          /* wallet, product, title */
#define BC_OFFER_MAX_BYTES    (1 + 8 + 8 + 8 + 1 + 4 + 4 + 4 + 1 + 4 + 4 + 3 * (2 + BC_OFFER_FIELD_MAX) + 32)
#define BC_OFFER_MAX_CHARS    (((BC_OFFER_MAX_BYTES) * 4 + 2) / 3)
#define BC_PAYMENT_TAG        "bitcache/v2/payment"

typedef struct {
    uint64_t     issued;          /* unix seconds */
    uint64_t     price;           /* satoshis: the least a buyer pays */
    uint64_t     suggested;       /* 0: none; else > price: pay what you want
                                     (docs/creators.md); version 2 */
    uint8_t      confirmations;
    uint32_t     invoice_ttl;     /* seconds */
    uint32_t     token_ttl;       /* seconds */
    uint32_t     max_downloads;   /* 0 = unlimited */
    uint8_t      network;         /* bc_network */
    uint32_t     free_total;      /* free copies of the giveaway, 0: none */
    uint32_t     free_window;     /* seconds: one free copy per address; 0 */
    const char  *wallet;   size_t wallet_len;
    const char  *product;  size_t product_len;
    const char  *title;    size_t title_len;
} bc_offer;

typedef enum {
    BC_OFFER_OK = 0,
    BC_OFFER_MALFORMED,
    BC_OFFER_BAD_MAC,
    BC_OFFER_EXPIRED
} bc_offer_status;

/* Writes the offer string into out (room for BC_OFFER_MAX_CHARS + 1).
 * Returns its length, or 0 if a field is too long. */
size_t bc_offer_encode(char *out, const bc_offer *o, const bc_keys *keys);

/* Checks and decodes version 2, or 1 (whose suggested and free fields
 * are 0: pages made before an upgrade still pay); buf (BC_OFFER_MAX_BYTES) receives the bytes that
 * o's strings point into (not NUL-terminated). */
bc_offer_status bc_offer_decode(bc_offer *o, unsigned char *buf, const char *s,
    size_t len, const bc_keys *keys, uint64_t now);

const char *bc_offer_status_str(bc_offer_status st);

typedef struct {
    uint8_t               version;  /* of the record: 2 or 3 (0: 3) */
    unsigned char         id[BC_INVOICE_ID_LEN];
    uint8_t               network;
    uint32_t              index;
    uint64_t              amount;   /* what the buyer chose to pay */
    uint64_t              list;     /* the offer's price (<= amount); version 3,
                                       version 2 reads it as amount */
    uint8_t               confirmations;
    uint64_t              created, expires;
    uint32_t              token_ttl, max_downloads;
    const char           *product;  size_t product_len;
    const char           *wallet;   size_t wallet_len;
    const char           *address;  size_t address_len;
    const unsigned char  *spk;      size_t spk_len;
    const char           *title;    size_t title_len;
    unsigned char         claim_hash[32];   /* SHA256 of the buyer's claim */
} bc_invoice;

/* The module's MAC over an invoice record (inv->version: 3 puts list after
 * amount, 2 has none; every field the module writes, the title and the
 * claim hash included).
 * Returns 1, or 0 if a field is too long. */
int bc_invoice_mac(unsigned char mac[32], const bc_invoice *inv, const bc_keys *keys);

/* The 32-byte message the watcher signs (BIP340) for a payment. genesis:
 * the hash of the invoice's network's genesis block (bc_network_genesis),
 * so that an attestation made on one chain settles nothing on another. */
int bc_payment_msg(unsigned char msg32[32], const unsigned char genesis[32],
    const unsigned char id[BC_INVOICE_ID_LEN],
    const unsigned char *spk, size_t spk_len, uint64_t received, uint32_t conf,
    uint64_t paid_at);

/* The id of the token minted for a paid invoice: the same on every poll. */
int bc_invoice_token_id(unsigned char tid[16], const unsigned char id[BC_INVOICE_ID_LEN],
    const bc_keys *keys);

/* The MAC of a creator's catalog record prod:<product> (docs/protocol.md,
 * "Catalog records"): version 1 has no seq (seq is ignored); version 2
 * puts seq inside the MAC, so that an older record cannot pass for a
 * newer one, and allows price 0 (withdrawn: the location's directives);
 * version 3 adds suggested, free and free_window (docs/creators.md), which
 * versions 1 and 2 ignore. */
typedef struct {
    unsigned      version;              /* 1, 2 or 3 */
    uint64_t      seq;                  /* 0 in version 1 */
    uint64_t      price;                /* 0: withdrawn (version 2 and 3) */
    uint64_t      suggested;            /* 0: none (version 3) */
    uint32_t      free;                 /* free copies, 0: none (version 3) */
    uint32_t      free_window;          /* seconds, 0: none (version 3) */
    const char   *wallet;  size_t wallet_len;
    const char   *title;   size_t title_len;
} bc_product_terms;

int bc_product_mac(unsigned char mac[32], const bc_product_terms *t,
    const char *product, size_t product_len, const bc_keys *keys);

/* The id of free copy n (1..) of a product's giveaway: the same for the
 * same n, so that a counter set back in Redis finds the copy's record
 * already there (docs/creators.md). */
int bc_free_token_id(unsigned char tid[16], const char *product, size_t product_len,
    uint64_t n, const bc_keys *keys);

/* First 8 bytes of SHA256(wallet text), hex: names idx:<...> counters. */
int bc_wallet_id(char out[17], const char *wallet, size_t len);

#endif
