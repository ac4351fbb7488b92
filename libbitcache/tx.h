/* Raw bitcoin transactions and blocks, as a node's JSON-RPC gives them
 * (`getrawtransaction <txid> false`, `getblock <hash> false`): enough of
 * them for the watcher to find payments. Legacy and segwit (BIP144
 * marker/flag and witnesses) serializations, so taproot too.
 *
 * Nothing is copied: a parsed transaction points into the bytes it came
 * from. Every length and count is checked against the bytes left, so any
 * input, however broken, is refused without reading past its end. */
#ifndef BITCACHE_TX_H
#define BITCACHE_TX_H

#include <stddef.h>
#include <stdint.h>

#define BC_BLOCK_HEADER_LEN 80

typedef struct {
    unsigned char        txid[32];    /* hash256 of the non-witness serialization,
                                         internal byte order (hex shows it reversed) */
    uint32_t             version;
    uint32_t             locktime;
    int                  segwit;      /* 1 if serialized with marker, flag and witnesses */
    uint64_t             nin, nout;
    const unsigned char *outs;        /* the outputs, for bc_tx_output_next */
    size_t               outs_len;
    size_t               len;         /* bytes of the whole serialization */
} bc_tx;

typedef struct {
    uint64_t             value;       /* satoshis */
    const unsigned char *spk;
    size_t               spk_len;
} bc_txout;

/* Parses one transaction at the start of p[0..len) (trailing bytes are
 * left for the caller, tx->len says where it ended). Returns 1, or 0 for
 * anything malformed: truncated, a count larger than the bytes left, a
 * non-canonical compact size, a segwit flag other than 1, a segwit
 * serialization without inputs or whose witnesses are all empty. */
int bc_tx_parse(bc_tx *tx, const unsigned char *p, size_t len);

/* Walks the outputs of a parsed transaction: *pos starts at 0; returns 1
 * with *out filled, or 0 after the last. */
int bc_tx_output_next(const bc_tx *tx, size_t *pos, bc_txout *out);

typedef struct {
    unsigned char        hash[32];    /* hash256 of the header, internal order */
    unsigned char        prev[32];    /* the parent's hash, internal order */
    uint32_t             version, time, bits, nonce;
    uint64_t             ntx;
    const unsigned char *p;           /* the transactions, for bc_block_next_tx */
    size_t               len;
    size_t               pos;
    uint64_t             done;        /* transactions returned so far */
} bc_block;

/* Parses the header and the transaction count. Returns 1, or 0 if the
 * bytes cannot be a block (short, a count larger than the bytes can hold). */
int bc_block_parse(bc_block *b, const unsigned char *p, size_t len);

/* The next transaction: 1 with *tx, 0 after the last one when the bytes
 * ended exactly there, -1 for a malformed transaction or trailing bytes. */
int bc_block_next_tx(bc_block *b, bc_tx *tx);

/* 64 hex digits of a hash in display order (reversed), plus a NUL. */
void bc_hash_to_hex(char out[65], const unsigned char hash[32]);

/* Parses a hash in display order. Returns 1, or 0 if not 64 hex digits. */
int bc_hash_from_hex(unsigned char hash[32], const char *hex, size_t len);

#endif
