/* The audit of a Bitcache wallet (`bitcache wallet audit|unfreeze|repair`,
 * docs/operations.md "Wallets"): its records as Redis gave them, all of
 * them outside input (Redis is not trusted), checked against the module's
 * MACs and the watcher's attestations. Nothing here talks to Redis: the
 * caller reads wal:<wid> (HGETALL), wled:<wid> (LRANGE 0 -1), wtop:<wid>
 * and wown:<wid> (HGETALL) and hands the strings over.
 *
 * What adds up: every entry parses, its MAC verifies, seq runs 1..n, prev
 * is the hash of the entry before (zeros for the first); each balance is
 * the previous one plus a credit or minus a debit, never below zero; each
 * credit's attestation verifies under the watcher key and credits at most
 * what was received; each top-up invoice is credited once and wtop says
 * so; each ownership record verifies and matches its debit; the state's
 * MAC verifies and its seq, balance and head are the ledger's end. */
#ifndef BITCACHE_WALLET_AUDIT_H
#define BITCACHE_WALLET_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "secret.h"
#include "wallet_record.h"

#define BC_AUDIT_WHAT_MAX  200    /* room for any problem's text */

/* Called once per problem: seq is the entry it is about, 0 for the
 * state, wtop and wown; what is a sentence without a final period. */
typedef void (*bc_audit_problem_pt)(void *arg, uint64_t seq, const char *what);

typedef struct {
    const unsigned char   *wid;             /* BC_WALLET_ID_LEN bytes */
    const bc_keys         *keys;
    const unsigned char   *watcher_key;     /* x-only; NULL: attestations
                                               not checked */
    const char *const     *state_kv;        /* HGETALL wal:<wid> */
    const size_t          *state_kvlen;
    size_t                 state_n;
    const char *const     *entries;         /* LRANGE wled:<wid> 0 -1 */
    const size_t          *entry_len;
    size_t                 nentries;
    const char *const     *wtop_kv;         /* HGETALL wtop:<wid> */
    const size_t          *wtop_kvlen;
    size_t                 wtop_n;
    const char *const     *wown_kv;         /* HGETALL wown:<wid> */
    const size_t          *wown_kvlen;
    size_t                 wown_n;
    bc_audit_problem_pt    problem;
    void                  *arg;
} bc_wallet_audit_in;

typedef struct {
    size_t          problems;
    int             state_parsed;       /* state holds the parsed record */
    int             state_ok;           /* ... and its MAC verifies */
    bc_wallet_state state;
    /* entries 1..good each verify and follow from the one before: what
     * `repair` keeps; balance and head after entry good */
    uint64_t        good;
    uint64_t        good_balance;
    unsigned char   good_head[32];
    int             good_network;       /* network of the prefix's credits,
                                           -1 if it has none */
    /* the whole ledger, counting only entries whose MAC verifies */
    uint64_t        credits, debits;
    uint64_t        credited, debited;  /* satoshis */
} bc_wallet_audit_out;

/* Runs every check and reports each problem to in->problem. Returns 1 if
 * nothing is wrong (out->problems == 0), else 0. */
int bc_wallet_audit(bc_wallet_audit_out *out, const bc_wallet_audit_in *in);

#endif
