#include <string.h>

#include <openssl/evp.h>

#include "hash.h"
#include "hex.h"
#include "tx.h"

typedef struct {
    const unsigned char *p;
    size_t               len, pos;
} rd;

static int
rd_bytes(rd *r, size_t n)
{
    if (r->len - r->pos < n) {
        return 0;
    }
    r->pos += n;
    return 1;
}

static int
rd_u32(rd *r, uint32_t *v)
{
    const unsigned char *q = r->p + r->pos;

    if (!rd_bytes(r, 4)) {
        return 0;
    }
    *v = (uint32_t) q[0] | (uint32_t) q[1] << 8 | (uint32_t) q[2] << 16 | (uint32_t) q[3] << 24;
    return 1;
}

static int
rd_u64(rd *r, uint64_t *v)
{
    uint32_t lo, hi;

    if (!rd_u32(r, &lo) || !rd_u32(r, &hi)) {
        return 0;
    }
    *v = (uint64_t) hi << 32 | lo;
    return 1;
}

/* Bitcoin's CompactSize, canonical only, and at most what the bytes left
 * could hold if each item took at least min bytes. */
static int
rd_count(rd *r, uint64_t *v, size_t min)
{
    const unsigned char *q = r->p + r->pos;
    uint64_t n;
    uint32_t lo;

    if (!rd_bytes(r, 1)) {
        return 0;
    }
    if (q[0] < 0xfd) {
        n = q[0];
    } else if (q[0] == 0xfd) {
        if (!rd_bytes(r, 2)) return 0;
        n = (uint64_t) q[1] | (uint64_t) q[2] << 8;
        if (n < 0xfd) return 0;
    } else if (q[0] == 0xfe) {
        if (!rd_u32(r, &lo)) return 0;
        n = lo;
        if (n <= 0xffff) return 0;
    } else {
        if (!rd_u64(r, &n)) return 0;
        if (n <= 0xffffffffULL) return 0;
    }
    if (min > 0 && n > (r->len - r->pos) / min) {
        return 0;
    }
    *v = n;
    return 1;
}

/* a length-prefixed byte string */
static int
rd_var(rd *r)
{
    uint64_t n;

    return rd_count(r, &n, 1) && rd_bytes(r, (size_t) n);
}

int
bc_tx_parse(bc_tx *tx, const unsigned char *p, size_t len)
{
    rd r = { p, len, 0 };
    size_t ins_start, body_end, lock_start;
    uint64_t i, nwit, j;
    int any_witness = 0;
    unsigned char h1[32];
    unsigned int hlen;
    EVP_MD_CTX *ctx;
    int ok;

    memset(tx, 0, sizeof(*tx));
    if (!rd_u32(&r, &tx->version)) {
        return 0;
    }
    if (r.pos + 2 <= len && p[r.pos] == 0x00) {
        if (p[r.pos + 1] != 0x01) {
            return 0;
        }
        tx->segwit = 1;
        r.pos += 2;
    }
    ins_start = r.pos;
    /* an input: 32 + 4 + script length (>= 1 byte) + 4 */
    if (!rd_count(&r, &tx->nin, 41)) {
        return 0;
    }
    if (tx->nin == 0) {
        return 0;
    }
    for (i = 0; i < tx->nin; i++) {
        if (!rd_bytes(&r, 36) || !rd_var(&r) || !rd_bytes(&r, 4)) {
            return 0;
        }
    }
    /* an output: 8 + script length (>= 1 byte) */
    if (!rd_count(&r, &tx->nout, 9)) {
        return 0;
    }
    tx->outs = p + r.pos;
    for (i = 0; i < tx->nout; i++) {
        if (!rd_bytes(&r, 8) || !rd_var(&r)) {
            return 0;
        }
    }
    tx->outs_len = (size_t) (p + r.pos - tx->outs);
    body_end = r.pos;
    if (tx->segwit) {
        for (i = 0; i < tx->nin; i++) {
            if (!rd_count(&r, &nwit, 1)) {
                return 0;
            }
            any_witness |= nwit != 0;
            for (j = 0; j < nwit; j++) {
                if (!rd_var(&r)) {
                    return 0;
                }
            }
        }
        if (!any_witness) {
            return 0;           /* BIP144: superfluous witness record */
        }
    }
    lock_start = r.pos;
    if (!rd_u32(&r, &tx->locktime)) {
        return 0;
    }
    tx->len = r.pos;

    if (!tx->segwit) {
        return bc_hash256(tx->txid, p, tx->len);
    }
    /* txid: version | inputs | outputs | locktime, without marker, flag, witnesses */
    if ((ctx = EVP_MD_CTX_new()) == NULL) {
        return 0;
    }
    ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)
         && EVP_DigestUpdate(ctx, p, 4)
         && EVP_DigestUpdate(ctx, p + ins_start, body_end - ins_start)
         && EVP_DigestUpdate(ctx, p + lock_start, 4)
         && EVP_DigestFinal_ex(ctx, h1, &hlen);
    EVP_MD_CTX_free(ctx);
    return ok && bc_sha256(tx->txid, h1, 32);
}

int
bc_tx_output_next(const bc_tx *tx, size_t *pos, bc_txout *out)
{
    rd r = { tx->outs, tx->outs_len, *pos };
    uint64_t n;
    size_t start;

    if (*pos >= tx->outs_len || !rd_u64(&r, &out->value)) {
        return 0;
    }
    if (!rd_count(&r, &n, 1)) {
        return 0;
    }
    start = r.pos;
    if (!rd_bytes(&r, (size_t) n)) {
        return 0;
    }
    out->spk = tx->outs + start;
    out->spk_len = (size_t) n;
    *pos = r.pos;
    return 1;
}

int
bc_block_parse(bc_block *b, const unsigned char *p, size_t len)
{
    rd r = { p, len, 0 };

    memset(b, 0, sizeof(*b));
    if (len < BC_BLOCK_HEADER_LEN || !bc_hash256(b->hash, p, BC_BLOCK_HEADER_LEN)) {
        return 0;
    }
    rd_u32(&r, &b->version);
    memcpy(b->prev, p + 4, 32);
    r.pos = 68;
    rd_u32(&r, &b->time);
    rd_u32(&r, &b->bits);
    rd_u32(&r, &b->nonce);
    /* the smallest transaction: 4 + 1 + 41 + 1 + 9 + 4 = 60 bytes */
    if (!rd_count(&r, &b->ntx, 60)) {
        return 0;
    }
    b->p = p;
    b->len = len;
    b->pos = r.pos;
    return 1;
}

int
bc_block_next_tx(bc_block *b, bc_tx *tx)
{
    if (b->done == b->ntx) {
        return b->pos == b->len ? 0 : -1;
    }
    if (!bc_tx_parse(tx, b->p + b->pos, b->len - b->pos)) {
        return -1;
    }
    b->pos += tx->len;
    b->done++;
    return 1;
}

void
bc_hash_to_hex(char out[65], const unsigned char hash[32])
{
    unsigned char rev[32];
    int i;

    for (i = 0; i < 32; i++) {
        rev[i] = hash[31 - i];
    }
    bc_hex_encode(out, rev, 32);
}

int
bc_hash_from_hex(unsigned char hash[32], const char *hex, size_t len)
{
    unsigned char rev[32];
    int i;

    if (len != 64 || !bc_hex_decode(rev, 32, hex, len)) {
        return 0;
    }
    for (i = 0; i < 32; i++) {
        hash[i] = rev[31 - i];
    }
    return 1;
}
