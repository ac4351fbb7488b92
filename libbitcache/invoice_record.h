/* The selling flow's Redis records read back and checked: invoices
 * (inv:<id>) and creators' catalog records (prod:<product>), given as the
 * field/value strings that HGETALL returns (docs/protocol.md). The status
 * endpoint of the module and `bitcache invoice show` / `product list` share
 * these checks, so that they always agree on what settles an invoice.
 *
 * Parsed records point into the strings they were given (which need not be
 * NUL-terminated): keep those alive while the record is used. */
#ifndef BITCACHE_INVOICE_RECORD_H
#define BITCACHE_INVOICE_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "invoice.h"
#include "script.h"
#include "secret.h"

#define BC_INVOICE_WHY_MAX 128    /* room for any reason string below */

typedef enum {
    BC_STATE_NEW = 0,
    BC_STATE_SEEN,
    BC_STATE_PAID,
    BC_STATE_UNDERPAID,
    BC_STATE_EXPIRED
} bc_invoice_state;

/* The fields of inv:<id>, in the order `bitcache invoice show` lists
 * them: the module writes v .. mac (bc_invoice_record_argv; list only in
 * version 3), the watcher state .. att. */
typedef enum {
    BC_INV_V = 0, BC_INV_PRODUCT, BC_INV_TITLE, BC_INV_WALLET, BC_INV_NETWORK,
    BC_INV_INDEX, BC_INV_ADDRESS, BC_INV_SPK, BC_INV_AMOUNT, BC_INV_LIST, BC_INV_CONFIRMATIONS,
    BC_INV_CREATED, BC_INV_EXPIRES, BC_INV_TOKEN_TTL, BC_INV_MAX_DOWNLOADS,
    BC_INV_CLAIM, BC_INV_MAC,
    BC_INV_STATE, BC_INV_RECEIVED, BC_INV_CONF, BC_INV_PAID_AT, BC_INV_ATT,
    BC_INV_NFIELDS
} bc_invoice_field;

/* sold:<id>: the watcher's copy of inv:<id> (every field, no TTL), made
 * when it attests the invoice paid and again at each later change of its
 * settlement, so that `bitcache sales` can count a sale after the invoice
 * record expired. Read like inv:<id>, and believed only as far as its MAC
 * and attestation verify. */
#define BC_KEY_SOLD "sold:"

/* The field's name in Redis ("amount", ...). */
const char *bc_invoice_field_name(bc_invoice_field f);

typedef struct {
    bc_invoice        inv;            /* the MAC'd fields; inv.spk points at spk */
    unsigned char     mac[32];
    unsigned char     spk[BC_SPK_MAX];
    bc_invoice_state  state;          /* BC_STATE_NEW when the field is absent */
    int               has_payment;    /* received, conf and paid_at all present */
    uint64_t          received;       /* satoshis */
    uint32_t          conf;
    uint64_t          paid_at;
    int               has_att;        /* the field is there ... */
    int               att_malformed;  /* ... but is not 128 hex digits */
    unsigned char     att[64];
    unsigned          seen;           /* internal: which fields were given */
} bc_invoice_record;

typedef enum {
    BC_INVOICE_SETTLED = 0,           /* every check holds: mint the token */
    BC_INVOICE_BAD_MAC,               /* "invoice MAC does not verify" */
    BC_INVOICE_NOT_PAID,              /* "state is seen" (new, underpaid, expired) */
    BC_INVOICE_NO_ATT,                /* "no watcher attestation" */
    BC_INVOICE_BAD_ATT,               /* "attestation does not verify" */
    BC_INVOICE_UNDERPAID,             /* "received 100 < amount 200" */
    BC_INVOICE_UNCONFIRMED            /* "1 of 2 confirmations" */
} bc_invoice_check_result;

/* "new", "seen", "paid", "underpaid", "expired". */
const char *bc_invoice_state_str(bc_invoice_state st);
/* Returns 1 and sets *st for one of those names, else 0. */
int bc_invoice_state_parse(bc_invoice_state *st, const char *s, size_t len);

/* Parses an invoice record: kv[0..n) alternates field names and values
 * (kvlen their lengths), as HGETALL returns them; id is the invoice id of
 * the key inv:<id hex>. Unknown fields are ignored. Returns 1, or 0 with a
 * reason in err ("no field amount", "field conf is not a number",
 * "field state is \"x\"", ...). A record with no fields at all says
 * "no such invoice". */
int bc_invoice_record_parse(bc_invoice_record *rec, const unsigned char id[BC_INVOICE_ID_LEN],
    const char *const *kv, const size_t *kvlen, size_t n, char *err, size_t errlen);

/* The same one field at a time: init, then field() for each pair, then
 * done() (which checks that every module field was there). field() returns
 * 0 with err for a value it cannot read. */
void bc_invoice_record_init(bc_invoice_record *rec, const unsigned char id[BC_INVOICE_ID_LEN]);
int bc_invoice_record_field(bc_invoice_record *rec, const char *name, size_t name_len,
    const char *value, size_t value_len, char *err, size_t errlen);
int bc_invoice_record_done(bc_invoice_record *rec, char *err, size_t errlen);

/* The module's part of a new invoice record, as HSET field/value pairs:
 * v, state new, then every field of inv and its mac. argv[0..n) point
 * into inv and into the struct itself. */
#define BC_INVOICE_MODULE_PAIRS 18     /* version 3; 17 in version 2 */
typedef struct {
    const char   *argv[2 * BC_INVOICE_MODULE_PAIRS];
    size_t        argvlen[2 * BC_INVOICE_MODULE_PAIRS];
    size_t        n;
    char          v[4];
    char          nums[9][24];
    char          spkhex[2 * BC_SPK_MAX + 1];
    char          claimhex[65];
    char          machex[65];
} bc_invoice_argv;

/* Fills a for inv->version (0: BC_INVOICE_VERSION); returns 1, or 0 if
 * the spk is too long or the version is neither 2 nor 3. */
int bc_invoice_record_argv(bc_invoice_argv *a, const bc_invoice *inv,
    const unsigned char mac[32]);

/* 1 if the record's mac is the module's MAC over its fields, under keys
 * or else keys->old (the secret being rotated out). */
int bc_invoice_record_mac_ok(const bc_invoice_record *rec, const bc_keys *keys);

/* The keys of keys, keys->old under which the record's MAC verifies, or
 * NULL: the secret it was made under derives its token id, so that the
 * id stays the same across a rotation (docs/operations.md, "Rotating the
 * secret"). */
const bc_keys *bc_invoice_record_keys(const bc_invoice_record *rec,
    const bc_keys *keys);

/* BC_INVOICE_SETTLED if att is the watcher's BIP340 signature over the
 * recorded received, conf and paid_at, on the invoice's network (its
 * genesis block hash is in the message); BC_INVOICE_NO_ATT if the record has
 * no att (or no received/conf/paid_at); BC_INVOICE_BAD_ATT otherwise. */
bc_invoice_check_result bc_invoice_record_att_check(const bc_invoice_record *rec,
    const unsigned char watcher_xonly[32]);

/* Everything that must hold before a token is minted, in the order of
 * docs/protocol.md ("Settling and the token"): the MAC, state paid, the
 * attestation, received >= amount, conf >= confirmations. Returns the
 * first failure and writes its reason (see bc_invoice_check_result) into
 * why (BC_INVOICE_WHY_MAX bytes is enough), or BC_INVOICE_SETTLED and
 * "settled". */
bc_invoice_check_result bc_invoice_check(const bc_invoice_record *rec, const bc_keys *keys,
    const unsigned char watcher_xonly[32], char *why, size_t whylen);

/* bc_invoice_check, where an attestation that does not verify under
 * watcher_xonly is tried under watcher_old (32 bytes, or NULL: none), the
 * key being rotated out (docs/operations.md, "Rotating the watcher key"). */
bc_invoice_check_result bc_invoice_check_either(const bc_invoice_record *rec,
    const bc_keys *keys, const unsigned char watcher_xonly[32],
    const unsigned char *watcher_old, char *why, size_t whylen);

/* A creator's catalog record prod:<product> (docs/protocol.md, "Catalog
 * records"): price (decimal satoshis), wallet (empty: the location's),
 * title, mac, and from version 2 on seq, the record's number (inside the
 * MAC: a record written back never passes for a newer one). Version 2's
 * price 0 withdraws the product from the catalog (`bitcache product rm`). */
#define BC_PRODUCT_F_PRICE   "price"
#define BC_PRODUCT_F_WALLET  "wallet"
#define BC_PRODUCT_F_TITLE   "title"
#define BC_PRODUCT_F_SEQ     "seq"
#define BC_PRODUCT_F_MAC     "mac"
#define BC_PRODUCT_F_V       "v"          /* "3"; absent in versions 1, 2 */
#define BC_PRODUCT_F_SUGGESTED "suggested"
#define BC_PRODUCT_F_FREE    "free"
#define BC_PRODUCT_F_FREE_WINDOW "free_window"
#define BC_PRODUCT_VERSION   3          /* what `bitcache product set` and `rm` write */

/* How many of HGETALL's strings of prod:<product> a reader looks at:
 * version 3 has 18 (9 fields); room for a few fields of later versions. */
#define BC_PRODUCT_KV_MAX    32

/* terms.version: 1 (no seq field), 2 (seq, no v), 3 (v = 3: every field
 * of bc_product_terms, each required). */
typedef struct {
    bc_product_terms  terms;
    unsigned char     mac[32];
} bc_product_record;

/* Parses HGETALL's field/value list like bc_invoice_record_parse. A record
 * with a seq field is version 2 (seq 1 .. 2^64-1, price 0 .. 2.1e15),
 * one without is version 1 (price 1 .. 2.1e15). Refuses a missing field,
 * fields longer than BC_OFFER_FIELD_MAX and a mac that is not 64 hex
 * digits; other fields are ignored. */
int bc_product_record_parse(bc_product_record *p, const char *const *kv, const size_t *kvlen,
    size_t n, char *err, size_t errlen);

/* 1 if the record's mac is bc_product_mac over product and its fields. */
int bc_product_record_mac_ok(const bc_product_record *p, const char *product,
    size_t product_len, const bc_keys *keys);

/* Computes p->mac for product (p->version, seq, price, wallet, title set).
 * Returns 1, or 0. */
int bc_product_record_sign(bc_product_record *p, const char *product, size_t product_len,
    const bc_keys *keys);

/* The HSET arguments after the key that write p whole (one command, so
 * that no reader sees a new price with an old MAC): field/value pairs into
 * argv/lens (room for BC_PRODUCT_ARGV_MAX), the numbers and the MAC's hex
 * formatted into buf. Returns the number of strings. */
#define BC_PRODUCT_ARGV_MAX 18
typedef struct {
    char v[4], price[24], seq[24], suggested[24], free[12], free_window[12], mac[65];
} bc_product_argv_buf;
size_t bc_product_record_argv(const char *argv[], size_t lens[], bc_product_argv_buf *buf,
    const bc_product_record *p);

/* What the module does with prod:<product> given the highest seq it has
 * seen of that product (mark, 0: none). rec is the record if it parsed
 * and its MAC verifies, else NULL (missing, malformed, forged). */
typedef enum {
    BC_CATALOG_USE = 0,         /* sell at the record's price, wallet, title */
    BC_CATALOG_DIRECTIVES,      /* no record (or withdrawn): the location's */
    BC_CATALOG_ROLLED_BACK      /* older than the mark, or gone: refuse (503) */
} bc_catalog_verdict;

/* Decides, and sets *mark to the record's seq when that raises it. A v1
 * record, a missing or forged one, counts as rolled back once a mark
 * exists; otherwise they behave as before version 2. */
bc_catalog_verdict bc_catalog_decide(const bc_product_record *rec, uint64_t *mark);

/* Reads a decimal number of at most max from s[0..len) (digits only, no
 * sign or space). Returns 1, or 0. */
int bc_parse_uint_n(uint64_t *out, const char *s, size_t len, uint64_t max);

#endif
