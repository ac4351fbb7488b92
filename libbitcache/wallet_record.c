/* The wallet's Redis records (wallet_record.h, docs/protocol.md "Wallet
 * records"): the state, the ledger entries, the ownership values, their
 * MACs, and the scripts that change them by compare-and-set. */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "amount.h"
#include "base64url.h"
#include "bytes.h"
#include "hash.h"
#include "hex.h"
#include "network.h"
#include "sbuf.h"
#include "schnorr.h"
#include "wallet_record.h"

#define TAG_STATE  "bitcache/v1/wallet-state"
#define TAG_ENTRY  "bitcache/v1/wallet-entry"
#define TAG_OWN    "bitcache/v1/wallet-own"

#define STR_(x)    #x
#define STR(x)     STR_(x)

#define LABELED(w, tag) bc_put_bytes(w, tag, sizeof(tag))     /* with its NUL */

/* ---- text fields: one spelling each ---- */

/* A decimal without sign or leading zero ("0" itself is one), at most max. */
static int
dec_parse(const char *s, size_t len, uint64_t max, uint64_t *v)
{
    size_t i;
    uint64_t d;

    if (len == 0 || len > 20 || (len > 1 && s[0] == '0')) {
        return 0;
    }
    for (*v = 0, i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
        d = (uint64_t) (s[i] - '0');
        if (*v > (max - d) / 10) {
            return 0;
        }
        *v = *v * 10 + d;
    }
    return 1;
}

/* Exactly 2 * n lower-case hex digits. */
static int
hex_lower(unsigned char *out, size_t n, const char *s, size_t len)
{
    size_t i;

    if (len != 2 * n) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return 0;
        }
    }
    return bc_hex_decode(out, n, s, len);
}

static int
is_zero(const unsigned char *p, size_t n)
{
    unsigned char acc = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        acc |= p[i];
    }
    return acc == 0;
}

static void
put_dec(bc_sbuf *b, uint64_t v)
{
    char d[21];

    bc_sbuf_put(b, d, (size_t) snprintf(d, sizeof(d), "%llu", (unsigned long long) v));
}

static void
put_hex(bc_sbuf *b, const unsigned char *p, size_t n)
{
    char h[2 * 64 + 1];
    size_t i;

    for (i = 0; i < n; i += 64) {
        size_t k = n - i < 64 ? n - i : 64;

        bc_hex_encode(h, p + i, k);
        bc_sbuf_put(b, h, 2 * k);
    }
}

/* ---- wal:<wid> ---- */

int
bc_wallet_state_mac(unsigned char mac[32], const bc_wallet_state *s, const bc_keys *keys)
{
    unsigned char buf[sizeof(TAG_STATE) + BC_WALLET_ID_LEN + 1 + 8 * 4 + 32 + 8];
    bc_writer w;

    bc_writer_init(&w, buf, sizeof(buf));
    LABELED(&w, TAG_STATE);
    bc_put_bytes(&w, s->wid, BC_WALLET_ID_LEN);
    bc_put_uint(&w, s->network, 1);
    bc_put_uint(&w, s->created, 8);
    bc_put_uint(&w, s->seq, 8);
    bc_put_uint(&w, s->balance, 8);
    bc_put_bytes(&w, s->head, 32);
    bc_put_uint(&w, s->max_auto, 8);
    return !w.overflow && bc_hmac_sha256(mac, keys->invoice_hmac, w.p, w.len);
}

int
bc_wallet_state_ok(const bc_wallet_state *s, const bc_keys *keys)
{
    unsigned char mac[32];

    for ( ; keys != NULL; keys = keys->old) {
        if (bc_wallet_state_mac(mac, s, keys) && CRYPTO_memcmp(mac, s->mac, 32) == 0) {
            return 1;
        }
    }
    return 0;
}

static const char *const state_fields[8] = {
    "v", "net", "created", "seq", "bal", "head", "auto", "mac"
};

void
bc_wallet_state_argv_make(bc_wallet_state_argv *w, const bc_wallet_state *s)
{
    size_t i;

    snprintf(w->buf[0], sizeof(w->buf[0]), "%u", (unsigned) s->network);
    snprintf(w->buf[1], sizeof(w->buf[1]), "%llu", (unsigned long long) s->created);
    snprintf(w->buf[2], sizeof(w->buf[2]), "%llu", (unsigned long long) s->seq);
    snprintf(w->buf[3], sizeof(w->buf[3]), "%llu", (unsigned long long) s->balance);
    bc_hex_encode(w->buf[4], s->head, 32);
    snprintf(w->buf[5], sizeof(w->buf[5]), "%llu", (unsigned long long) s->max_auto);
    bc_hex_encode(w->buf[6], s->mac, 32);
    for (i = 0; i < 8; i++) {
        w->argv[2 * i] = state_fields[i];
        w->argvlen[2 * i] = strlen(state_fields[i]);
        w->argv[2 * i + 1] = i == 0 ? "1" : w->buf[i - 1];
        w->argvlen[2 * i + 1] = strlen(w->argv[2 * i + 1]);
    }
}

int
bc_wallet_state_parse(bc_wallet_state *s, const unsigned char wid[BC_WALLET_ID_LEN],
    const char *const *kv, const size_t *kvlen, size_t n, char *err, size_t errlen)
{
    unsigned seen = 0;
    size_t i, f;
    uint64_t v;
    int good;

    memset(s, 0, sizeof(*s));
    memcpy(s->wid, wid, BC_WALLET_ID_LEN);
    if (n == 0) {
        snprintf(err, errlen, "no such wallet");
        return 0;
    }
    if (n % 2 != 0) {
        snprintf(err, errlen, "odd number of field strings");
        return 0;
    }
    for (i = 0; i < n; i += 2) {
        const char *val = kv[i + 1];
        size_t vlen = kvlen[i + 1];

        if (kvlen[i] == 6 && memcmp(kv[i], "frozen", 6) == 0) {
            s->frozen = val;
            s->frozen_len = vlen;
            continue;
        }
        for (f = 0; f < 8; f++) {
            if (strlen(state_fields[f]) == kvlen[i]
                && memcmp(state_fields[f], kv[i], kvlen[i]) == 0)
            {
                break;
            }
        }
        switch (f) {
        case 0:
            good = dec_parse(val, vlen, 255, &v) && v == BC_WALLET_STATE_VERSION;
            break;
        case 1:
            good = dec_parse(val, vlen, 255, &v) && bc_network_genesis((unsigned) v) != NULL;
            s->network = good ? (uint8_t) v : 0;
            break;
        case 2:
            good = dec_parse(val, vlen, UINT64_MAX, &s->created);
            break;
        case 3:
            good = dec_parse(val, vlen, UINT64_MAX, &s->seq);
            break;
        case 4:
            good = dec_parse(val, vlen, BC_MAX_SATS, &s->balance);
            break;
        case 5:
            good = hex_lower(s->head, 32, val, vlen);
            break;
        case 6:
            good = dec_parse(val, vlen, BC_MAX_SATS, &s->max_auto);
            break;
        case 7:
            good = hex_lower(s->mac, 32, val, vlen);
            break;
        default:
            continue;                       /* not ours: not MAC'd, not read */
        }
        if (!good) {
            snprintf(err, errlen, "field %s is malformed", state_fields[f]);
            return 0;
        }
        seen |= 1u << f;
    }
    for (f = 0; f < 8; f++) {
        if (!(seen & (1u << f))) {
            snprintf(err, errlen, "field %s is missing", state_fields[f]);
            return 0;
        }
    }
    if (s->seq == 0 && !is_zero(s->head, 32)) {
        snprintf(err, errlen, "an empty ledger has a head");
        return 0;
    }
    return 1;
}

/* ---- wled:<wid> ---- */

static int
entry_mac(unsigned char mac[32], const char *text, size_t len,
    const unsigned char wid[BC_WALLET_ID_LEN], const bc_keys *keys)
{
    unsigned char buf[sizeof(TAG_ENTRY) + BC_WALLET_ID_LEN + BC_LEDGER_ENTRY_MAX];
    bc_writer w;

    bc_writer_init(&w, buf, sizeof(buf));
    LABELED(&w, TAG_ENTRY);
    bc_put_bytes(&w, wid, BC_WALLET_ID_LEN);
    bc_put_bytes(&w, text, len);
    return !w.overflow && bc_hmac_sha256(mac, keys->invoice_hmac, w.p, w.len);
}

/* What the parser accepts, so that encode never writes what it refuses. */
static int
entry_fields_ok(const bc_ledger_entry *e)
{
    if (e->seq == 0 || e->amount > BC_MAX_SATS || e->balance > BC_MAX_SATS
        || (e->seq == 1 && !is_zero(e->prev, 32)))
    {
        return 0;
    }
    if (e->kind == BC_ENTRY_CREDIT) {
        return e->amount == e->received && e->amount > 0
               && bc_network_genesis(e->network) != NULL
               && e->spk_len > 0 && e->spk_len <= BC_SPK_MAX;
    }
    return e->kind == BC_ENTRY_DEBIT && e->product != NULL && e->seller != NULL
           && e->product_len > 0 && e->product_len <= BC_OFFER_FIELD_MAX
           && e->seller_len > 0 && e->seller_len <= BC_OFFER_FIELD_MAX;
}

static void
put_b64(bc_sbuf *b, const char *p, size_t n)
{
    char enc[BC_B64URL_ENCODED_LEN(BC_OFFER_FIELD_MAX) + 1];

    bc_b64url_encode(enc, (const unsigned char *) p, n);
    bc_sbuf_put(b, enc, BC_B64URL_ENCODED_LEN(n));
}

size_t
bc_ledger_entry_encode(char *out, size_t outlen, bc_ledger_entry *e,
    const unsigned char wid[BC_WALLET_ID_LEN], const bc_keys *keys)
{
    bc_sbuf b;
    size_t len;

    if (!entry_fields_ok(e)) {
        return 0;
    }
    bc_sbuf_init(&b, out, outlen);
    bc_sbuf_puts(&b, BC_LEDGER_VERSION " ");
    put_dec(&b, e->seq);
    bc_sbuf_puts(&b, e->kind == BC_ENTRY_CREDIT ? " credit " : " debit ");
    put_dec(&b, e->amount);
    bc_sbuf_puts(&b, " ");
    put_dec(&b, e->balance);
    bc_sbuf_puts(&b, " ");
    put_dec(&b, e->time);
    bc_sbuf_puts(&b, " ");
    put_hex(&b, e->prev, 32);
    bc_sbuf_puts(&b, " ");
    if (e->kind == BC_ENTRY_CREDIT) {
        put_hex(&b, e->invoice, BC_INVOICE_ID_LEN);
        bc_sbuf_puts(&b, " ");
        put_dec(&b, e->network);
        bc_sbuf_puts(&b, " ");
        put_dec(&b, e->received);
        bc_sbuf_puts(&b, " ");
        put_dec(&b, e->conf);
        bc_sbuf_puts(&b, " ");
        put_dec(&b, e->paid_at);
        bc_sbuf_puts(&b, " ");
        put_hex(&b, e->spk, e->spk_len);
        bc_sbuf_puts(&b, " ");
        put_hex(&b, e->att, 64);
    } else {
        put_hex(&b, e->purchase, 16);
        bc_sbuf_puts(&b, " ");
        put_dec(&b, e->uses);
        bc_sbuf_puts(&b, " ");
        put_dec(&b, e->expires);
        bc_sbuf_puts(&b, " ");
        put_b64(&b, e->product, e->product_len);
        bc_sbuf_puts(&b, " ");
        put_b64(&b, e->seller, e->seller_len);
    }
    len = b.len;
    /* " " + 64 hex digits + NUL must fit too */
    if (len + 1 + 64 + 1 > outlen || len + 1 + 64 + 1 > BC_LEDGER_ENTRY_MAX
        || !entry_mac(e->mac, out, len, wid, keys))
    {
        return 0;
    }
    bc_sbuf_puts(&b, " ");
    put_hex(&b, e->mac, 32);
    return bc_sbuf_end(&b);
}

#define ENTRY_TOKENS_MAX 15

/* Splits at single spaces into at most max fields (empty ones included);
 * returns their number, or max + 1 when there are more (not stored). */
static size_t
split(const char *s, size_t len, const char **tok, size_t *toklen, size_t max)
{
    size_t n = 0, i, start = 0;

    for (i = 0; i <= len; i++) {
        if (i == len || s[i] == ' ') {
            if (n == max) {
                return max + 1;
            }
            tok[n] = s + start;
            toklen[n++] = i - start;
            start = i + 1;
        }
    }
    return n;
}

static int
b64_field(const char **out, size_t *outlen, unsigned char **buf, const char *s, size_t len)
{
    size_t n;

    if (len == 0 || len > BC_B64URL_ENCODED_LEN(BC_OFFER_FIELD_MAX)
        || !bc_b64url_decode(*buf, BC_OFFER_FIELD_MAX, &n, s, len) || n == 0)
    {
        return 0;
    }
    *out = (const char *) *buf;
    *outlen = n;
    *buf += n;
    return 1;
}

/* The fields after prev of a credit (t[7..13]); NULL, or the bad one. */
static const char *
parse_credit(bc_ledger_entry *e, const char **t, const size_t *tl)
{
    uint64_t v;

    if (!hex_lower(e->invoice, BC_INVOICE_ID_LEN, t[7], tl[7])) {
        return "invoice";
    }
    if (!dec_parse(t[8], tl[8], 255, &v) || bc_network_genesis((unsigned) v) == NULL) {
        return "network";
    }
    e->network = (uint8_t) v;
    /* what arrived is what is credited */
    if (!dec_parse(t[9], tl[9], BC_MAX_SATS, &e->received) || e->received == 0
        || e->received != e->amount)
    {
        return "received";
    }
    if (!dec_parse(t[10], tl[10], UINT32_MAX, &v)) {
        return "conf";
    }
    e->conf = (uint32_t) v;
    if (!dec_parse(t[11], tl[11], UINT64_MAX, &e->paid_at)) {
        return "paid_at";
    }
    if (tl[12] % 2 != 0 || tl[12] > 2 * BC_SPK_MAX
        || !hex_lower(e->spk, tl[12] / 2, t[12], tl[12]))
    {
        return "spk";
    }
    e->spk_len = tl[12] / 2;
    return hex_lower(e->att, 64, t[13], tl[13]) ? NULL : "att";
}

/* The fields after prev of a debit (t[7..11]); NULL, or the bad one. */
static const char *
parse_debit(bc_ledger_entry *e, unsigned char *buf, const char **t, const size_t *tl)
{
    uint64_t v;

    if (!hex_lower(e->purchase, 16, t[7], tl[7])) {
        return "purchase";
    }
    if (!dec_parse(t[8], tl[8], UINT32_MAX, &v)) {
        return "uses";
    }
    e->uses = (uint32_t) v;
    if (!dec_parse(t[9], tl[9], UINT64_MAX, &e->expires)) {
        return "expires";
    }
    if (!b64_field(&e->product, &e->product_len, &buf, t[10], tl[10])) {
        return "product";
    }
    return b64_field(&e->seller, &e->seller_len, &buf, t[11], tl[11]) ? NULL : "seller";
}

/* The fields every entry has (t[1], t[3..6]); NULL, or the bad one. */
static const char *
parse_common(bc_ledger_entry *e, const char **t, const size_t *tl)
{
    if (!dec_parse(t[1], tl[1], UINT64_MAX, &e->seq) || e->seq == 0) {
        return "seq";
    }
    if (!dec_parse(t[3], tl[3], BC_MAX_SATS, &e->amount)) {
        return "amount";
    }
    if (!dec_parse(t[4], tl[4], BC_MAX_SATS, &e->balance)) {
        return "balance";
    }
    if (!dec_parse(t[5], tl[5], UINT64_MAX, &e->time)) {
        return "time";
    }
    if (!hex_lower(e->prev, 32, t[6], tl[6]) || (e->seq == 1 && !is_zero(e->prev, 32))) {
        return "prev";
    }
    return NULL;
}

int
bc_ledger_entry_parse(bc_ledger_entry *e, unsigned char *buf, const char *s,
    size_t len, char *err, size_t errlen)
{
    const char *t[ENTRY_TOKENS_MAX], *bad;
    size_t tl[ENTRY_TOKENS_MAX], n, i;

    memset(e, 0, sizeof(*e));
    if (len >= BC_LEDGER_ENTRY_MAX) {
        snprintf(err, errlen, "entry is too long");
        return 0;
    }
    n = split(s, len, t, tl, ENTRY_TOKENS_MAX);
    if (n > ENTRY_TOKENS_MAX) {
        snprintf(err, errlen, "entry has too many fields");
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (tl[i] == 0) {
            snprintf(err, errlen, "entry has an empty field");
            return 0;
        }
    }
    if (n < 3 || tl[0] != 2 || memcmp(t[0], BC_LEDGER_VERSION, 2) != 0) {
        snprintf(err, errlen, "not a " BC_LEDGER_VERSION " entry");
        return 0;
    }
    if (tl[2] == 6 && memcmp(t[2], "credit", 6) == 0) {
        e->kind = BC_ENTRY_CREDIT;
    } else if (tl[2] == 5 && memcmp(t[2], "debit", 5) == 0) {
        e->kind = BC_ENTRY_DEBIT;
    } else {
        snprintf(err, errlen, "entry is neither credit nor debit");
        return 0;
    }
    if (n != (e->kind == BC_ENTRY_CREDIT ? 15 : 13)) {
        snprintf(err, errlen, e->kind == BC_ENTRY_CREDIT ? "a credit has 15 fields"
                 : "a debit has 13 fields");
        return 0;
    }
    bad = parse_common(e, t, tl);
    if (bad == NULL) {
        bad = e->kind == BC_ENTRY_CREDIT ? parse_credit(e, t, tl) : parse_debit(e, buf, t, tl);
    }
    if (bad == NULL && !hex_lower(e->mac, 32, t[n - 1], tl[n - 1])) {
        bad = "mac";
    }
    if (bad != NULL) {
        snprintf(err, errlen, "entry field %s is malformed", bad);
        return 0;
    }
    return 1;
}

int
bc_ledger_entry_ok(const char *s, size_t len, const unsigned char wid[BC_WALLET_ID_LEN],
    const bc_keys *keys)
{
    unsigned char want[32], mac[32];

    if (len < 1 + 64 || len >= BC_LEDGER_ENTRY_MAX || s[len - 65] != ' '
        || !hex_lower(want, 32, s + len - 64, 64))
    {
        return 0;
    }
    for ( ; keys != NULL; keys = keys->old) {
        if (entry_mac(mac, s, len - 65, wid, keys) && CRYPTO_memcmp(mac, want, 32) == 0) {
            return 1;
        }
    }
    return 0;
}

int
bc_ledger_entry_hash(unsigned char out[32], const char *s, size_t len)
{
    return bc_sha256(out, (const unsigned char *) s, len);
}

int
bc_ledger_credit_att_ok(const bc_ledger_entry *e, const unsigned char watcher_key[32])
{
    const unsigned char *genesis = bc_network_genesis(e->network);
    unsigned char msg[32];

    return e->kind == BC_ENTRY_CREDIT && genesis != NULL
           && bc_payment_msg(msg, genesis, e->invoice, e->spk, e->spk_len, e->received,
                             e->conf, e->paid_at)
           && bc_schnorr_verify(e->att, msg, sizeof(msg), watcher_key);
}

/* ---- wown:<wid> ---- */

static int
owned_mac(unsigned char mac[32], const bc_wallet_owned *o,
    const unsigned char wid[BC_WALLET_ID_LEN], const char *product, size_t product_len,
    const bc_keys *keys)
{
    unsigned char buf[sizeof(TAG_OWN) + BC_WALLET_ID_LEN + 16 + 4 + 8 + 8
                      + BC_OFFER_FIELD_MAX];
    bc_writer w;

    if (product_len == 0 || product_len > BC_OFFER_FIELD_MAX) {
        return 0;
    }
    bc_writer_init(&w, buf, sizeof(buf));
    LABELED(&w, TAG_OWN);
    bc_put_bytes(&w, wid, BC_WALLET_ID_LEN);
    bc_put_bytes(&w, o->purchase, 16);
    bc_put_uint(&w, o->uses, 4);
    bc_put_uint(&w, o->expires, 8);
    bc_put_uint(&w, o->seq, 8);
    bc_put_bytes(&w, product, product_len);
    return !w.overflow && bc_hmac_sha256(mac, keys->invoice_hmac, w.p, w.len);
}

size_t
bc_wallet_owned_encode(char *out, bc_wallet_owned *o, const unsigned char wid[BC_WALLET_ID_LEN],
    const char *product, size_t product_len, const bc_keys *keys)
{
    bc_sbuf b;

    if (o->seq == 0 || !owned_mac(o->mac, o, wid, product, product_len, keys)) {
        return 0;
    }
    bc_sbuf_init(&b, out, BC_OWNED_MAX);
    put_hex(&b, o->purchase, 16);
    bc_sbuf_puts(&b, " ");
    put_dec(&b, o->uses);
    bc_sbuf_puts(&b, " ");
    put_dec(&b, o->expires);
    bc_sbuf_puts(&b, " ");
    put_dec(&b, o->seq);
    bc_sbuf_puts(&b, " ");
    put_hex(&b, o->mac, 32);
    return b.len < BC_OWNED_MAX ? bc_sbuf_end(&b) : 0;
}

int
bc_wallet_owned_parse(bc_wallet_owned *o, const char *s, size_t len,
    const unsigned char wid[BC_WALLET_ID_LEN], const char *product, size_t product_len,
    const bc_keys *keys, char *err, size_t errlen)
{
    const char *t[5];
    size_t tl[5];
    uint64_t v;
    unsigned char mac[32];

    memset(o, 0, sizeof(*o));
    if (len >= BC_OWNED_MAX || split(s, len, t, tl, 5) != 5) {
        snprintf(err, errlen, "ownership is not 5 fields");
        return 0;
    }
    if (!hex_lower(o->purchase, 16, t[0], tl[0])
        || !dec_parse(t[1], tl[1], UINT32_MAX, &v)
        || (o->uses = (uint32_t) v, !dec_parse(t[2], tl[2], UINT64_MAX, &o->expires))
        || !dec_parse(t[3], tl[3], UINT64_MAX, &o->seq) || o->seq == 0
        || !hex_lower(o->mac, 32, t[4], tl[4]))
    {
        snprintf(err, errlen, "ownership is malformed");
        return 0;
    }
    for ( ; keys != NULL; keys = keys->old) {
        if (owned_mac(mac, o, wid, product, product_len, keys)
            && CRYPTO_memcmp(mac, o->mac, 32) == 0)
        {
            return 1;
        }
    }
    snprintf(err, errlen, "ownership MAC does not verify");
    return 0;
}

/* ---- requests ---- */

int
bc_wallet_idem_ok(const char *s, size_t len)
{
    size_t i;
    char c;

    if (len == 0 || len > BC_WALLET_IDEM_MAX) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
              || c == '_' || c == '-'))
        {
            return 0;
        }
    }
    return 1;
}

/* ---- scripts ----
 *
 * Every check comes before the first write, and every key written after
 * it is of a type its command takes (a Redis error in the middle of a
 * script keeps the writes before it): what a Redis writer put there makes
 * the script fail whole, never half. */

#define WLED_TYPE_CHECK                                                       \
    "local ty = redis.call('TYPE', KEYS[2]).ok\n"                             \
    "if ty ~= 'list' and ty ~= 'none' then\n"                                 \
    "  return redis.error_reply('wallet ledger is not a list')\n"             \
    "end\n"

/* The ledger holds exactly the entries of the state the module read (seq;
 * d = 1 when the new state adds one, 0 for settings): a state written
 * back over a longer ledger is refused, nothing written. After
 * WLED_TYPE_CHECK (LLEN of another type is an error). */
#define WLED_SEQ_CHECK(d)                                                     \
    "local nseq\n"                                                            \
    "for i = 2, 16, 2 do\n"                                                   \
    "  if ARGV[i] == 'seq' then nseq = tonumber(ARGV[i + 1]) end\n"           \
    "end\n"                                                                   \
    "if not nseq then return redis.error_reply('no seq in the new state') end\n" \
    "local len = redis.call('LLEN', KEYS[2])\n"                               \
    "if len + " #d " ~= nseq then return {'ledger', len} end\n"

const char bc_script_wallet_buy[] =
    "local fz = redis.call('HGET', KEYS[1], 'frozen')\n"
    "if fz then return {'frozen', fz} end\n"
    "if ARGV[23] ~= '' then\n"
    "  local p = redis.call('GET', KEYS[5])\n"
    "  if p == ARGV[19] then return {'replay'} end\n"
    "  if p then return {'key', p} end\n"
    "end\n"
    "local o = redis.call('HGET', KEYS[3], ARGV[19])\n"
    "if o and ARGV[24] ~= 'again' then return {'owned', o} end\n"
    "if redis.call('HGET', KEYS[1], 'mac') ~= ARGV[1] then\n"
    "  return {'changed', redis.call('HGETALL', KEYS[1]), o}\n"
    "end\n"
    WLED_TYPE_CHECK
    WLED_SEQ_CHECK(1)
    "redis.call('HSET', KEYS[1], unpack(ARGV, 2, 17))\n"
    "redis.call('RPUSH', KEYS[2], ARGV[18])\n"
    "redis.call('HSET', KEYS[3], ARGV[19], ARGV[20])\n"
    /* a fresh record under the module's random id: no counters carried over */
    "redis.call('DEL', KEYS[4])\n"
    "redis.call('HSET', KEYS[4], 'uses', ARGV[21], 'product', ARGV[19],"
    " 'expires', ARGV[22], 'b:' .. ARGV[19], '1125899906842624')\n"
    "redis.call('EXPIREAT', KEYS[4], ARGV[22])\n"
    "if ARGV[23] ~= '' then\n"
    "  redis.call('SET', KEYS[5], ARGV[19], 'EX', " STR(BC_WALLET_IDEM_TTL) ")\n"
    "end\n"
    "return {'ok'}\n";

const char bc_script_wallet_credit[] =
    "local t = redis.call('HGET', KEYS[3], ARGV[19])\n"
    "if not t then return {'unknown'} end\n"
    "if t ~= '0' then return {'done', t} end\n"
    "if redis.call('HGET', KEYS[1], 'mac') ~= ARGV[1] then\n"
    "  return {'changed', redis.call('HGETALL', KEYS[1])}\n"
    "end\n"
    "local seq\n"
    "for i = 2, 16, 2 do if ARGV[i] == 'seq' then seq = ARGV[i + 1] end end\n"
    "if not seq then return redis.error_reply('no seq in the new state') end\n"
    WLED_TYPE_CHECK
    WLED_SEQ_CHECK(1)
    "redis.call('HSET', KEYS[1], unpack(ARGV, 2, 17))\n"
    "redis.call('RPUSH', KEYS[2], ARGV[18])\n"
    "redis.call('HSET', KEYS[3], ARGV[19], seq)\n"
    "return {'ok'}\n";

const char bc_script_wallet_set[] =
    "if ARGV[1] == '' then\n"
    "  if redis.call('EXISTS', KEYS[1]) == 1 then return {'exists'} end\n"
    "elseif redis.call('HGET', KEYS[1], 'mac') ~= ARGV[1] then\n"
    "  return {'changed', redis.call('HGETALL', KEYS[1])}\n"
    "end\n"
    WLED_TYPE_CHECK
    WLED_SEQ_CHECK(0)
    "redis.call('HSET', KEYS[1], unpack(ARGV, 2, 17))\n"
    "return {'ok'}\n";
