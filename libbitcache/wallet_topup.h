/* Top-ups of a Bitcache wallet (docs/wallet.md, "Top up"): the invoice's
 * product "wallet:<wid hex>" that names the one wallet it may credit, the
 * limits a new top-up must keep, the wtop:<wid> values, the check that a
 * wallet's ledger (authenticated by the MAC'd state's head) does not
 * credit an invoice already, and the credit itself (entry and new state).
 * Plain logic: the module reads and writes Redis around it. */
#ifndef BITCACHE_WALLET_TOPUP_H
#define BITCACHE_WALLET_TOPUP_H

#include <stddef.h>
#include <stdint.h>

#include "invoice_record.h"
#include "wallet_record.h"

#define BC_TOPUP_PREFIX_LEN   (sizeof(BC_WALLET_TOPUP_PREFIX) - 1)
#define BC_TOPUP_PRODUCT_LEN  (BC_TOPUP_PREFIX_LEN + 2 * BC_WALLET_ID_LEN)
#define BC_TOPUP_TITLE        "Bitcache wallet top-up"
#define BC_TOPUP_PENDING_MAX  64     /* pending top-ups looked at a wallet */

/* "wallet:" + the wid in lower-case hex, and a NUL. */
void bc_topup_product(char out[BC_TOPUP_PRODUCT_LEN + 1],
    const unsigned char wid[BC_WALLET_ID_LEN]);

/* 1 if product starts with "wallet:": reserved for top-ups, never sold as
 * a file (so that no file product can pose as a top-up). */
int bc_topup_reserved(const char *product, size_t len);

/* 1 and the wid if product is exactly "wallet:" + 32 lower-case hex
 * digits, else 0. */
int bc_topup_product_wid(unsigned char wid[BC_WALLET_ID_LEN],
    const char *product, size_t len);

typedef enum {
    BC_TOPUP_OK = 0,
    BC_TOPUP_BELOW_MIN,          /* 400 */
    BC_TOPUP_ABOVE_MAX,          /* 400 */
    BC_TOPUP_OVER_BALANCE        /* 409: balance + pending + amount > max */
} bc_topup_verdict;

/* Whether a top-up of amount may be made: min <= amount <= max, and
 * balance + pending (the amounts of unpaid and uncredited top-ups) +
 * amount <= max_balance. The reason for the buyer goes into err. */
bc_topup_verdict bc_topup_allowed(uint64_t amount, uint64_t min, uint64_t max,
    uint64_t max_balance, uint64_t balance, uint64_t pending, char *err,
    size_t errlen);

/* A wtop:<wid> value: "0" (pending, *seq = 0) or the seq of the credit
 * entry (decimal, no leading zero). Returns 1, or 0 for anything else. */
int bc_topup_wtop_value(uint64_t *seq, const char *s, size_t len);

/* What an uncredited top-up of an invoice counts against max_balance:
 * nothing once it expired unpaid, what was received if more than asked. */
uint64_t bc_topup_pending_amount(const bc_invoice_record *rec, uint64_t now);

typedef enum {
    BC_CHAIN_OK = 0,             /* the ledger is the state's; no credit of
                                    the invoice in it */
    BC_CHAIN_BROKEN,             /* not the chain the state's head names */
    BC_CHAIN_CREDITED            /* an entry credits the invoice already */
} bc_chain_verdict;

/* Checks the ledger entries e[0..n) (LRANGE wled:<wid> 0 -1) against a
 * verified state s: n = s->seq, each entry's seq and prev, the SHA256 of
 * the last one = s->head. The MAC'd head thus authenticates every entry,
 * so that a credit cannot be hidden by deleting or rewriting entries.
 * When invoice is not NULL, a credit entry of it gives BC_CHAIN_CREDITED
 * (*seq its seq). err says what is wrong. */
bc_chain_verdict bc_ledger_chain_check(const bc_wallet_state *s,
    const char *const *e, const size_t *elen, size_t n,
    const unsigned char *invoice, uint64_t *seq, char *err, size_t errlen);

/* The credit of a settled top-up invoice (rec: MAC and attestation
 * verified, received >= amount) to the wallet in state cur: the entry's
 * text into out (BC_LEDGER_ENTRY_MAX), and the next state (seq + 1,
 * balance + received, head, MAC). Returns the entry's length, or 0 (the
 * balance would overflow, a field does not fit). */
size_t bc_topup_credit(char *out, size_t outlen, bc_wallet_state *next,
    const bc_wallet_state *cur, const bc_invoice_record *rec, uint64_t now,
    const bc_keys *keys);

#endif
