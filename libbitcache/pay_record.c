#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "bytes.h"
#include "hash.h"
#include "hex.h"
#include "invoice_record.h"
#include "pay_record.h"

int
bc_pay_key_derive(unsigned char key[32], const unsigned char seckey[32])
{
    return bc_tagged_hash(key, BC_PAY_KEY_TAG, seckey, 32);
}

int
bc_pay_record_mac(unsigned char mac[32], bc_hmac_key *key,
    const unsigned char id[BC_INVOICE_ID_LEN], const bc_pay_record *p)
{
    unsigned char buf[8 + BC_INVOICE_ID_LEN + 32 + 4 + 8 + 4 + 32 + 8];
    bc_writer w;

    bc_writer_init(&w, buf, sizeof(buf));
    bc_put_bytes(&w, "payment", 8);           /* with its NUL */
    bc_put_bytes(&w, id, BC_INVOICE_ID_LEN);
    bc_put_bytes(&w, p->txid, 32);
    bc_put_uint(&w, p->vout, 4);
    bc_put_uint(&w, p->value, 8);
    bc_put_uint(&w, p->height, 4);
    bc_put_bytes(&w, p->block, 32);
    bc_put_uint(&w, p->seen_at, 8);
    return !w.overflow && bc_hmac_sha256(mac, key, w.p, w.len);
}

int
bc_pay_record_sign(bc_pay_record *p, bc_hmac_key *key,
    const unsigned char id[BC_INVOICE_ID_LEN])
{
    return bc_pay_record_mac(p->mac, key, id, p);
}

int
bc_pay_record_verify(const bc_pay_record *p, bc_hmac_key *key,
    const unsigned char id[BC_INVOICE_ID_LEN])
{
    unsigned char mac[32];

    return bc_pay_record_mac(mac, key, id, p) && CRYPTO_memcmp(mac, p->mac, 32) == 0;
}

size_t
bc_pay_field_encode(char out[BC_PAY_FIELD_MAX], const bc_pay_record *p)
{
    char txid[65];

    bc_hex_encode(txid, p->txid, 32);
    return (size_t) snprintf(out, BC_PAY_FIELD_MAX, "%s:%u", txid, p->vout);
}

size_t
bc_pay_value_encode(char out[BC_PAY_VALUE_MAX], const bc_pay_record *p)
{
    char block[65], mac[65];

    bc_hex_encode(block, p->block, 32);
    bc_hex_encode(mac, p->mac, 32);
    return (size_t) snprintf(out, BC_PAY_VALUE_MAX, "%llu %u %s %llu %s",
                             (unsigned long long) p->value, p->height, block,
                             (unsigned long long) p->seen_at, mac);
}

/* the next space-separated word of s[*pos..len) */
static int
word(const char *s, size_t len, size_t *pos, const char **w, size_t *wlen)
{
    size_t i = *pos;

    while (i < len && s[i] != ' ') i++;
    if (i == *pos) {
        return 0;
    }
    *w = s + *pos;
    *wlen = i - *pos;
    *pos = i < len ? i + 1 : i;
    return 1;
}

int
bc_pay_field_parse(bc_pay_record *p, const char *s, size_t len)
{
    uint64_t vout;
    size_t i;

    if (len < 66 || len > 64 + 1 + 10 || s[64] != ':') {
        return 0;
    }
    for (i = 0; i < 64; i++) {          /* lower case: one spelling */
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    }
    if (!bc_hex_decode(p->txid, 32, s, 64)
        || !bc_parse_uint_n(&vout, s + 65, len - 65, UINT32_MAX)
        || (len > 66 && s[65] == '0'))       /* one spelling per outpoint */
    {
        return 0;
    }
    p->vout = (uint32_t) vout;
    return 1;
}

int
bc_pay_record_parse(bc_pay_record *p, const char *field, size_t field_len,
    const char *value, size_t value_len)
{
    static const unsigned char zero[32];
    char again[BC_PAY_VALUE_MAX];
    const char *w[5];
    size_t wl[5], pos = 0, i;
    uint64_t n;

    memset(p, 0, sizeof(*p));
    if (!bc_pay_field_parse(p, field, field_len) || value_len >= BC_PAY_VALUE_MAX) {
        return 0;
    }
    for (i = 0; i < 5; i++) {
        if (!word(value, value_len, &pos, &w[i], &wl[i])) {
            return 0;
        }
    }
    if (pos != value_len
        || !bc_parse_uint_n(&p->value, w[0], wl[0], UINT64_MAX)
        || !bc_parse_uint_n(&n, w[1], wl[1], UINT32_MAX)
        || wl[2] != 64 || !bc_hex_decode(p->block, 32, w[2], 64)
        || !bc_parse_uint_n(&p->seen_at, w[3], wl[3], UINT64_MAX)
        || wl[4] != 64 || !bc_hex_decode(p->mac, 32, w[4], 64))
    {
        return 0;
    }
    p->height = (uint32_t) n;
    if ((p->height == 0) != (memcmp(p->block, zero, 32) == 0)) {
        return 0;
    }
    /* one spelling per record: no leading zeros, lower-case hex */
    return bc_pay_value_encode(again, p) == value_len && memcmp(again, value, value_len) == 0;
}

void
bc_pay_seen_init(bc_pay_seen *s)
{
    memset(s, 0, sizeof(*s));
}

/* open addressing; slot[i][0] says whether it is used */
static size_t
seen_slot(unsigned char (*slot)[37], size_t cap, const unsigned char key[37])
{
    size_t i, h = 0;

    for (i = 1; i < 37; i++) {
        h = h * 31 + key[i];
    }
    for (i = h & (cap - 1);; i = (i + 1) & (cap - 1)) {
        if (slot[i][0] == 0 || memcmp(slot[i], key, 37) == 0) {
            return i;
        }
    }
}

int
bc_pay_seen_add(bc_pay_seen *s, const bc_pay_record *p)
{
    unsigned char key[37], (*grown)[37];
    size_t i, cap;

    key[0] = 1;
    memcpy(key + 1, p->txid, 32);
    key[33] = (unsigned char) (p->vout >> 24);
    key[34] = (unsigned char) (p->vout >> 16);
    key[35] = (unsigned char) (p->vout >> 8);
    key[36] = (unsigned char) p->vout;

    if (2 * (s->n + 1) > s->cap) {          /* at most half full */
        cap = s->cap ? 2 * s->cap : 64;
        if ((grown = calloc(cap, 37)) == NULL) {
            return -1;
        }
        for (i = 0; i < s->cap; i++) {
            if (s->slot[i][0]) {
                memcpy(grown[seen_slot(grown, cap, s->slot[i])], s->slot[i], 37);
            }
        }
        free(s->slot);
        s->slot = grown;
        s->cap = cap;
    }
    i = seen_slot(s->slot, s->cap, key);
    if (s->slot[i][0]) {
        return 0;
    }
    memcpy(s->slot[i], key, 37);
    s->n++;
    return 1;
}

void
bc_pay_seen_free(bc_pay_seen *s)
{
    free(s->slot);
    bc_pay_seen_init(s);
}
