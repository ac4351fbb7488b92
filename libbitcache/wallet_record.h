/* The Bitcache wallet's records (docs/wallet.md, docs/protocol.md "Wallet
 * records"): one definition for the nginx module, `bitcache wallet` and
 * `bitcache sales`.
 *
 *   wal:<wid>          hash: the wallet's state (v, net, created, seq, bal,
 *                      head, auto, mac; frozen when an audit failed)
 *   wled:<wid>         list: the ledger, entry seq at index seq - 1
 *   wown:<wid>         hash: product -> ownership (the purchase's token)
 *   wtop:<wid>         hash: top-up invoice id -> "0" pending, or the seq
 *                      of the credit entry that credited it
 *   widem:<wid>:<key>  string: the product an idempotency key bought
 *   wrl:<address>      counter: restore attempts of a client this minute
 *
 * The buyer holds a 20-byte secret, written as a recovery code (bech32m,
 * hrp "bcw"); the wallet id is a tagged hash of it, so the server keeps
 * nothing but a hash of the secret. Every state, entry and ownership
 * record carries the module's MAC (the invoice key, each under its own
 * tag); state and ledger are chained: the state's head is the SHA256 of
 * the last entry, each entry names the SHA256 of the one before. Writers
 * change the state only by compare-and-set on its MAC
 * (BC_SCRIPT_WALLET_BUY, _CREDIT, _SET), so that racing purchases are
 * serialized by Redis and each one is computed and signed by the module
 * from a state it verified.
 *
 * Parsed records point into the strings they were given: keep those
 * alive while the record is used. */
#ifndef BITCACHE_WALLET_RECORD_H
#define BITCACHE_WALLET_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "invoice.h"
#include "script.h"
#include "secret.h"

#define BC_WALLET_SECRET_LEN     20
#define BC_WALLET_ID_LEN         16
#define BC_WALLET_HRP            "bcw"
#define BC_WALLET_CODE_CHARS     42        /* "bcw1" + 32 data + 6 checksum */
#define BC_WALLET_CODE_INPUT_MAX 128       /* a typed code: spaces, dashes */
#define BC_WALLET_COOKIE         "bitcache_wallet"
#define BC_WALLET_AUTH_SCHEME    "Bitcache"
#define BC_WALLET_TOPUP_PREFIX   "wallet:"  /* product of a top-up invoice:
                                               "wallet:" + wid hex */
#define BC_WALLET_IDEM_MAX       64        /* [A-Za-z0-9_-]{1,64} */
#define BC_WALLET_IDEM_TTL       86400

#define BC_KEY_WALLET            "wal:"
#define BC_KEY_LEDGER            "wled:"
#define BC_KEY_OWNED             "wown:"
#define BC_KEY_TOPUPS            "wtop:"
#define BC_KEY_IDEM              "widem:"
#define BC_KEY_RESTORE_RATE      "wrl:"

#define BC_WALLET_STATE_VERSION  1
#define BC_LEDGER_VERSION        "w1"
#define BC_LEDGER_ENTRY_MAX      (2400 + 2 * BC_SPK_MAX)   /* text, NUL included */
#define BC_OWNED_MAX             (32 + 1 + 10 + 1 + 20 + 1 + 20 + 1 + 64 + 1)

/* ---- The buyer's secret ---- */

/* Fresh random secret (RAND_bytes). Returns 1, or 0. */
int bc_wallet_secret_new(unsigned char secret[BC_WALLET_SECRET_LEN]);

/* The recovery code: bech32m("bcw", secret), lower case, 42 characters
 * and a NUL. */
void bc_wallet_code_encode(char out[BC_WALLET_CODE_CHARS + 1],
    const unsigned char secret[BC_WALLET_SECRET_LEN]);

/* Reads a code as typed or sent (cookie, Authorization, form): spaces,
 * tabs and '-' are skipped, upper case is accepted. Returns 1 with the
 * secret, or 0 with a reason for the buyer in err ("not a recovery code:
 * check it for typos" for a bad checksum, ...). */
int bc_wallet_code_decode(unsigned char secret[BC_WALLET_SECRET_LEN],
    const char *s, size_t len, char *err, size_t errlen);

/* The wallet id: the first 16 bytes of SHA256 tagged
 * "bitcache/v1/wallet-id" over the secret. */
int bc_wallet_id_of(unsigned char wid[BC_WALLET_ID_LEN],
    const unsigned char secret[BC_WALLET_SECRET_LEN]);

/* ---- wal:<wid>, the state ---- */

typedef struct {
    unsigned char  wid[BC_WALLET_ID_LEN];
    uint8_t        network;        /* bc_network of its top-ups */
    uint64_t       created;        /* unix seconds */
    uint64_t       seq;            /* ledger entries */
    uint64_t       balance;        /* satoshis */
    unsigned char  head[32];       /* SHA256 of entry seq; zeros when seq 0 */
    uint64_t       max_auto;       /* max_auto_price, sats; 0: no auto-buy */
    unsigned char  mac[32];
    const char    *frozen;         /* the reason, or NULL (not MAC'd) */
    size_t         frozen_len;
} bc_wallet_state;

/* HMAC-SHA256(invoice key, "bitcache/v1/wallet-state" 0x00 | wid | net u8 |
 * created u64be | seq u64be | bal u64be | head | auto u64be). */
int bc_wallet_state_mac(unsigned char mac[32], const bc_wallet_state *s,
    const bc_keys *keys);

/* The field/value argv of HSET wal:<wid> for s (its mac included):
 * v net created seq bal head auto mac, 16 strings that point into w. */
typedef struct {
    const char  *argv[16];
    size_t       argvlen[16];
    char         buf[7][72];
} bc_wallet_state_argv;

void bc_wallet_state_argv_make(bc_wallet_state_argv *w, const bc_wallet_state *s);

/* Parses HGETALL wal:<wid> (n strings, field/value pairs) for wallet wid.
 * Returns 1, or 0 with a reason in err (a field missing or malformed).
 * The MAC is not checked here: bc_wallet_state_ok. */
int bc_wallet_state_parse(bc_wallet_state *s, const unsigned char wid[BC_WALLET_ID_LEN],
    const char *const *kv, const size_t *kvlen, size_t n, char *err, size_t errlen);

/* 1 if s->mac is the MAC of s (constant time). */
int bc_wallet_state_ok(const bc_wallet_state *s, const bc_keys *keys);

/* ---- wled:<wid>, the ledger ---- */

typedef enum {
    BC_ENTRY_CREDIT = 1,           /* a top-up the watcher attested */
    BC_ENTRY_DEBIT                 /* a purchase */
} bc_entry_kind;

/* An entry's text (docs/protocol.md):
 *   w1 <seq> credit <amount> <bal> <time> <prev> <invoice> <network>
 *      <received> <conf> <paid_at> <spk hex> <att hex> <mac>
 *   w1 <seq> debit <amount> <bal> <time> <prev> <purchase> <uses>
 *      <expires> <product b64url> <seller wallet b64url> <mac>
 * numbers in decimal without leading zeros, hashes and ids in lower-case
 * hex; bal is the balance after the entry; mac = HMAC-SHA256(invoice key,
 * "bitcache/v1/wallet-entry" 0x00 | wid | the text before " <mac>"). */
typedef struct {
    bc_entry_kind         kind;
    uint64_t              seq;
    uint64_t              amount;          /* credited (= received) or paid */
    uint64_t              balance;         /* after this entry */
    uint64_t              time;
    unsigned char         prev[32];        /* SHA256 of entry seq - 1 */
    /* credit */
    unsigned char         invoice[BC_INVOICE_ID_LEN];
    uint8_t               network;
    uint64_t              received;
    uint32_t              conf;
    uint64_t              paid_at;
    unsigned char         spk[BC_SPK_MAX];
    size_t                spk_len;
    unsigned char         att[64];         /* the watcher's BIP340 signature */
    /* debit */
    unsigned char         purchase[16];    /* the token's id */
    uint32_t              uses;
    uint64_t              expires;         /* of the token */
    const char           *product;   size_t product_len;
    const char           *seller;    size_t seller_len;   /* the offer's wallet */
    unsigned char         mac[32];
} bc_ledger_entry;

/* Writes e's text, its MAC computed under keys for wallet wid (e->mac is
 * set too), into out. Returns the length, or 0 if it does not fit. */
size_t bc_ledger_entry_encode(char *out, size_t outlen, bc_ledger_entry *e,
    const unsigned char wid[BC_WALLET_ID_LEN], const bc_keys *keys);

/* Parses an entry's text (from LRANGE). product and seller point into a
 * decoding buffer buf of at least len bytes. Returns 1, or 0 with a reason
 * in err. The MAC is not checked here. */
int bc_ledger_entry_parse(bc_ledger_entry *e, unsigned char *buf, const char *s,
    size_t len, char *err, size_t errlen);

/* 1 if the entry's MAC verifies for wallet wid (s is its whole text). */
int bc_ledger_entry_ok(const char *s, size_t len,
    const unsigned char wid[BC_WALLET_ID_LEN], const bc_keys *keys);

/* SHA256 of an entry's whole text: the next entry's prev, the state's head. */
int bc_ledger_entry_hash(unsigned char out[32], const char *s, size_t len);

/* The credit's attestation, checked as the status endpoint checks a paid
 * invoice's (bc_payment_msg over the network's genesis, BIP340 under the
 * watcher key; received >= the top-up's amount is the caller's check).
 * Returns 1 if it verifies. */
int bc_ledger_credit_att_ok(const bc_ledger_entry *e,
    const unsigned char watcher_key[32]);

/* ---- wown:<wid> <product>, what a wallet owns ---- */

/* "<purchase hex> <uses> <expires> <seq> <mac hex>", mac =
 * HMAC-SHA256(invoice key, "bitcache/v1/wallet-own" 0x00 | wid | purchase |
 * uses u32be | expires u64be | seq u64be | product). */
typedef struct {
    unsigned char  purchase[16];
    uint32_t       uses;
    uint64_t       expires;
    uint64_t       seq;            /* of the debit entry */
    unsigned char  mac[32];
} bc_wallet_owned;

/* Writes the value (mac computed) into out (BC_OWNED_MAX). Returns its
 * length, or 0. */
size_t bc_wallet_owned_encode(char *out, bc_wallet_owned *o,
    const unsigned char wid[BC_WALLET_ID_LEN], const char *product,
    size_t product_len, const bc_keys *keys);

/* Parses a value and checks its MAC for (wid, product). Returns 1, or 0
 * with a reason in err. */
int bc_wallet_owned_parse(bc_wallet_owned *o, const char *s, size_t len,
    const unsigned char wid[BC_WALLET_ID_LEN], const char *product,
    size_t product_len, const bc_keys *keys, char *err, size_t errlen);

/* ---- requests ---- */

/* 1 if s[0..len) is an idempotency key: 1..64 of [A-Za-z0-9_-]. */
int bc_wallet_idem_ok(const char *s, size_t len);

/* ---- scripts ---- */

/* KEYS[1] = wal:<wid>, KEYS[2] = wled:<wid>, KEYS[3] = wown:<wid>,
 * KEYS[4] = tok:<purchase hex>, KEYS[5] = widem:<wid>:<key> (the key "-"
 * given as widem:<wid>:- when there is none).
 * ARGV[1] = the mac of the state the module read (hex), ARGV[2..17] = the
 * new state's 16 field/value strings (bc_wallet_state_argv), ARGV[18] =
 * the entry, ARGV[19] = product, ARGV[20] = ownership value, ARGV[21] =
 * token uses, ARGV[22] = token expires (unix seconds), ARGV[23] = the
 * idempotency key or "", ARGV[24] = "again" to buy an owned product anew,
 * else "" (the module also passes "again" when the ownership it read has
 * expired or does not verify: the script does not read the value).
 *
 * All or nothing: answers
 *   {"frozen", reason}                 the wallet is frozen: nothing done
 *   {"key", product}                   the key bought another product
 *   {"replay"}                         the key bought this product: nothing
 *                                      done (the module re-mints from wown)
 *   {"ledger", <LLEN wled>}            the ledger does not hold exactly the
 *                                      read state's seq entries (the new
 *                                      state's seq - 1): a state written
 *                                      back (rolled back): nothing done
 *   {"changed", <HGETALL wal>, owned}  the state moved on (or is gone): the
 *                                      module verifies it and tries again;
 *                                      owned is HGET wown product or false
 *   {"owned", value}                   owned and not "again": no charge
 *   {"ok"}                             state written, entry appended,
 *                                      ownership set, token record created
 *                                      (as BC_SCRIPT_TOKEN_CREATE), key set
 *                                      with EX BC_WALLET_IDEM_TTL */
extern const char bc_script_wallet_buy[];

/* KEYS[1] = wal:<wid>, KEYS[2] = wled:<wid>, KEYS[3] = wtop:<wid>.
 * ARGV[1] = mac read (hex), ARGV[2..17] = new state, ARGV[18] = the credit
 * entry, ARGV[19] = the invoice id hex. Answers {"done", seq} if wtop says
 * it was credited (nothing written), {"unknown"} if the invoice is not a
 * top-up of this wallet, {"changed", <HGETALL wal>}, {"ledger", <LLEN>}
 * (as BUY's: LLEN wled is not the new state's seq - 1), or {"ok"}. A frozen
 * wallet is still credited: money received is never refused.
 * wtop is not authenticated: a Redis writer can set an invoice back to
 * "0". Before crediting, the caller makes sure that no credit entry of
 * the ledger (verified as a chain up to the state's head) names the
 * invoice. */
extern const char bc_script_wallet_credit[];

/* KEYS[1] = wal:<wid>, KEYS[2] = wled:<wid>. ARGV[1] = mac read (hex) or
 * "" to create (only if the key does not exist), ARGV[2..17] = the new
 * state (its seq the one read). Settings changes (max_auto_price) and
 * creation. Answers {"ok"}, {"exists"}, {"changed", <HGETALL wal>} or
 * {"ledger", <LLEN>} (LLEN wled is not the state's seq: nothing written).
 *
 * The scripts check everything before they write anything. */
extern const char bc_script_wallet_set[];

#endif
