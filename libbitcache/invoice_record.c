#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "hex.h"
#include "giveaway.h"
#include "invoice_record.h"
#include "network.h"
#include "amount.h"
#include "schnorr.h"

static const char *const state_names[] = { "new", "seen", "paid", "underpaid", "expired" };

const char *
bc_invoice_state_str(bc_invoice_state st)
{
    return (unsigned) st < sizeof(state_names) / sizeof(state_names[0])
           ? state_names[st] : "unknown";
}

int
bc_invoice_state_parse(bc_invoice_state *st, const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++) {
        if (strlen(state_names[i]) == len && memcmp(state_names[i], s, len) == 0) {
            *st = (bc_invoice_state) i;
            return 1;
        }
    }
    return 0;
}

int
bc_parse_uint_n(uint64_t *out, const char *s, size_t len, uint64_t max)
{
    uint64_t v = 0;
    size_t i;

    if (len == 0) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9' || (uint64_t) (s[i] - '0') > max
            || v > (max - (uint64_t) (s[i] - '0')) / 10)
        {
            return 0;
        }
        v = v * 10 + (uint64_t) (s[i] - '0');
    }
    *out = v;
    return 1;
}

/* Reads the value of kv-style field `name` as text of at most
 * BC_OFFER_FIELD_MAX bytes. */
static int
take_text(const char **p, size_t *plen, const char *name, const char *value, size_t len,
    char *err, size_t errlen)
{
    if (len > BC_OFFER_FIELD_MAX) {
        snprintf(err, errlen, "field %s is longer than %d bytes", name, BC_OFFER_FIELD_MAX);
        return 0;
    }
    *p = value;
    *plen = len;
    return 1;
}

static int
take_hex(unsigned char *out, size_t outlen, const char *name, const char *value, size_t len,
    char *err, size_t errlen)
{
    if (len != 2 * outlen || !bc_hex_decode(out, outlen, value, len)) {
        snprintf(err, errlen, "field %s is not %u hex digits", name, (unsigned) (2 * outlen));
        return 0;
    }
    return 1;
}

/* ---- invoices ------------------------------------------------------------ */

static const struct {
    const char *name;
    uint64_t    max;        /* numbers: the largest value */
} inv_fields[BC_INV_NFIELDS] = {
    [BC_INV_V] = { "v", 255 },
    [BC_INV_PRODUCT] = { "product", 0 },
    [BC_INV_TITLE] = { "title", 0 },
    [BC_INV_WALLET] = { "wallet", 0 },
    [BC_INV_NETWORK] = { "network", 3 },
    [BC_INV_INDEX] = { "index", UINT32_MAX },
    [BC_INV_ADDRESS] = { "address", 0 },
    [BC_INV_SPK] = { "spk", 0 },
    [BC_INV_AMOUNT] = { "amount", UINT64_MAX },
    [BC_INV_LIST] = { "list", UINT64_MAX },
    [BC_INV_CONFIRMATIONS] = { "confirmations", UINT8_MAX },
    [BC_INV_CREATED] = { "created", UINT64_MAX },
    [BC_INV_EXPIRES] = { "expires", UINT64_MAX },
    [BC_INV_TOKEN_TTL] = { "token_ttl", UINT32_MAX },
    [BC_INV_MAX_DOWNLOADS] = { "max_downloads", UINT32_MAX },
    [BC_INV_CLAIM] = { "claim", 0 },
    [BC_INV_MAC] = { "mac", 0 },
    [BC_INV_STATE] = { "state", 0 },
    [BC_INV_RECEIVED] = { "received", UINT64_MAX },
    [BC_INV_CONF] = { "conf", UINT32_MAX },
    [BC_INV_PAID_AT] = { "paid_at", UINT64_MAX },
    [BC_INV_ATT] = { "att", 0 },
};

/* what the module writes and the MAC needs */
#define MODULE_FIELDS  ((1u << (BC_INV_MAC + 1)) - 1)
#define PAYMENT_FIELDS ((1u << BC_INV_RECEIVED) | (1u << BC_INV_CONF) | (1u << BC_INV_PAID_AT))

const char *
bc_invoice_field_name(bc_invoice_field f)
{
    return (unsigned) f < BC_INV_NFIELDS ? inv_fields[f].name : "";
}

void
bc_invoice_record_init(bc_invoice_record *rec, const unsigned char id[BC_INVOICE_ID_LEN])
{
    memset(rec, 0, sizeof(*rec));
    memcpy(rec->inv.id, id, BC_INVOICE_ID_LEN);
    rec->inv.product = rec->inv.wallet = rec->inv.address = rec->inv.title = "";
    rec->inv.spk = rec->spk;
    rec->state = BC_STATE_NEW;
}

int
bc_invoice_record_field(bc_invoice_record *rec, const char *name, size_t name_len,
    const char *value, size_t len, char *err, size_t errlen)
{
    bc_invoice *inv = &rec->inv;
    uint64_t n = 0;
    int f;

    for (f = 0; f < BC_INV_NFIELDS; f++) {
        if (strlen(inv_fields[f].name) == name_len
            && memcmp(inv_fields[f].name, name, name_len) == 0)
        {
            break;
        }
    }
    if (f == BC_INV_NFIELDS) {
        return 1;       /* not ours: ignored */
    }
    if (inv_fields[f].max != 0 && !bc_parse_uint_n(&n, value, len, inv_fields[f].max)) {
        snprintf(err, errlen, "field %s is not a number from 0 to %llu", inv_fields[f].name,
                 (unsigned long long) inv_fields[f].max);
        return 0;
    }
    rec->seen |= 1u << f;

    switch (f) {
    case BC_INV_V:
        if (n != 2 && n != 3) {
            snprintf(err, errlen, "field v is %u, not 2 or 3 (a record of another version)",
                     (unsigned) n);
            return 0;
        }
        inv->version = (uint8_t) n;
        return 1;
    case BC_INV_PRODUCT: return take_text(&inv->product, &inv->product_len, "product", value, len, err, errlen);
    case BC_INV_TITLE: return take_text(&inv->title, &inv->title_len, "title", value, len, err, errlen);
    case BC_INV_CLAIM:
        return take_hex(inv->claim_hash, sizeof(inv->claim_hash), "claim", value, len, err, errlen);
    case BC_INV_WALLET: return take_text(&inv->wallet, &inv->wallet_len, "wallet", value, len, err, errlen);
    case BC_INV_ADDRESS: return take_text(&inv->address, &inv->address_len, "address", value, len, err, errlen);
    case BC_INV_NETWORK: inv->network = (uint8_t) n; return 1;
    case BC_INV_INDEX: inv->index = (uint32_t) n; return 1;
    case BC_INV_AMOUNT: inv->amount = n; return 1;
    case BC_INV_LIST: inv->list = n; return 1;
    case BC_INV_CONFIRMATIONS: inv->confirmations = (uint8_t) n; return 1;
    case BC_INV_CREATED: inv->created = n; return 1;
    case BC_INV_EXPIRES: inv->expires = n; return 1;
    case BC_INV_TOKEN_TTL: inv->token_ttl = (uint32_t) n; return 1;
    case BC_INV_MAX_DOWNLOADS: inv->max_downloads = (uint32_t) n; return 1;
    case BC_INV_RECEIVED: rec->received = n; return 1;
    case BC_INV_CONF: rec->conf = (uint32_t) n; return 1;
    case BC_INV_PAID_AT: rec->paid_at = n; return 1;
    case BC_INV_SPK:
        if (len == 0 || len % 2 != 0 || len > 2 * BC_SPK_MAX
            || !bc_hex_decode(rec->spk, len / 2, value, len))
        {
            snprintf(err, errlen, "field spk is not a scriptPubKey in hex");
            return 0;
        }
        inv->spk_len = len / 2;
        return 1;
    case BC_INV_MAC:
        return take_hex(rec->mac, sizeof(rec->mac), "mac", value, len, err, errlen);
    case BC_INV_ATT:
        /* present but not a signature: refused by the attestation check */
        rec->has_att = 1;
        rec->att_malformed = len != 128 || !bc_hex_decode(rec->att, 64, value, len);
        return 1;
    case BC_INV_STATE:
        if (!bc_invoice_state_parse(&rec->state, value, len)) {
            snprintf(err, errlen, "field state is \"%.*s\"", len > 20 ? 20 : (int) len, value);
            return 0;
        }
        return 1;
    }
    return 1;
}

int
bc_invoice_record_done(bc_invoice_record *rec, char *err, size_t errlen)
{
    int f;

    if (rec->seen == 0) {
        snprintf(err, errlen, "no such invoice");
        return 0;
    }
    for (f = 0; f < BC_INV_NFIELDS; f++) {
        if ((MODULE_FIELDS & (1u << f)) && !(rec->seen & (1u << f))
            && !(f == BC_INV_LIST && rec->inv.version == 2))
        {
            snprintf(err, errlen, "no field %s", inv_fields[f].name);
            return 0;
        }
    }
    if (rec->inv.version == 2) {
        /* version 2 sold at its amount; a list field there is not MAC'd */
        rec->inv.list = rec->inv.amount;
    }
    rec->has_payment = (rec->seen & PAYMENT_FIELDS) == PAYMENT_FIELDS;
    return 1;
}

int
bc_invoice_record_parse(bc_invoice_record *rec, const unsigned char id[BC_INVOICE_ID_LEN],
    const char *const *kv, const size_t *kvlen, size_t n, char *err, size_t errlen)
{
    size_t i;

    bc_invoice_record_init(rec, id);
    if (n % 2 != 0) {
        snprintf(err, errlen, "odd number of field strings");
        return 0;
    }
    for (i = 0; i < n; i += 2) {
        if (!bc_invoice_record_field(rec, kv[i], kvlen[i], kv[i + 1], kvlen[i + 1], err, errlen)) {
            return 0;
        }
    }
    return bc_invoice_record_done(rec, err, errlen);
}

int
bc_invoice_record_argv(bc_invoice_argv *a, const bc_invoice *inv, const unsigned char mac[32])
{
    static const bc_invoice_field numbered[9] = {
        BC_INV_NETWORK, BC_INV_INDEX, BC_INV_AMOUNT, BC_INV_CONFIRMATIONS,
        BC_INV_CREATED, BC_INV_EXPIRES, BC_INV_TOKEN_TTL, BC_INV_MAX_DOWNLOADS,
        BC_INV_LIST
    };
    const uint64_t nums[9] = {
        inv->network, inv->index, inv->amount, inv->confirmations,
        inv->created, inv->expires, inv->token_ttl, inv->max_downloads, inv->list
    };
    unsigned version = inv->version ? inv->version : BC_INVOICE_VERSION;
    size_t i;

    if (inv->spk_len > BC_SPK_MAX || (version != 2 && version != 3)) {
        return 0;
    }
    a->n = 0;
#define PAIR(f, s, l) do {                                                 \
        a->argv[a->n] = inv_fields[f].name;                                 \
        a->argvlen[a->n] = strlen(inv_fields[f].name);                      \
        a->argv[a->n + 1] = (s);                                            \
        a->argvlen[a->n + 1] = (l);                                         \
        a->n += 2;                                                          \
    } while (0)
    snprintf(a->v, sizeof(a->v), "%u", version);
    PAIR(BC_INV_V, a->v, strlen(a->v));
    PAIR(BC_INV_STATE, "new", 3);
    PAIR(BC_INV_PRODUCT, inv->product, inv->product_len);
    PAIR(BC_INV_TITLE, inv->title ? inv->title : "", inv->title_len);
    PAIR(BC_INV_WALLET, inv->wallet, inv->wallet_len);
    PAIR(BC_INV_ADDRESS, inv->address, inv->address_len);
    bc_hex_encode(a->spkhex, inv->spk, inv->spk_len);
    PAIR(BC_INV_SPK, a->spkhex, 2 * inv->spk_len);
    for (i = 0; i < (version == 3 ? 9u : 8u); i++) {
        snprintf(a->nums[i], sizeof(a->nums[i]), "%llu", (unsigned long long) nums[i]);
        PAIR(numbered[i], a->nums[i], strlen(a->nums[i]));
    }
    bc_hex_encode(a->claimhex, inv->claim_hash, 32);
    PAIR(BC_INV_CLAIM, a->claimhex, 64);
    bc_hex_encode(a->machex, mac, 32);
    PAIR(BC_INV_MAC, a->machex, 64);
#undef PAIR
    return 1;
}

const bc_keys *
bc_invoice_record_keys(const bc_invoice_record *rec, const bc_keys *keys)
{
    unsigned char mac[32];

    /* the old secret's keys only when the current ones fail */
    for ( ; keys != NULL; keys = keys->old) {
        if (bc_invoice_mac(mac, &rec->inv, keys)
            && CRYPTO_memcmp(mac, rec->mac, 32) == 0)
        {
            return keys;
        }
    }
    return NULL;
}

int
bc_invoice_record_mac_ok(const bc_invoice_record *rec, const bc_keys *keys)
{
    return bc_invoice_record_keys(rec, keys) != NULL;
}

bc_invoice_check_result
bc_invoice_record_att_check(const bc_invoice_record *rec, const unsigned char watcher_xonly[32])
{
    unsigned char msg[32];

    if (!rec->has_att || !rec->has_payment) {
        return BC_INVOICE_NO_ATT;
    }
    if (rec->att_malformed
        || !bc_payment_msg(msg, bc_network_genesis(rec->inv.network), rec->inv.id,
                           rec->inv.spk, rec->inv.spk_len, rec->received, rec->conf,
                           rec->paid_at)
        || !bc_schnorr_verify(rec->att, msg, sizeof(msg), watcher_xonly))
    {
        return BC_INVOICE_BAD_ATT;
    }
    return BC_INVOICE_SETTLED;
}

bc_invoice_check_result
bc_invoice_check(const bc_invoice_record *rec, const bc_keys *keys,
    const unsigned char watcher_xonly[32], char *why, size_t whylen)
{
    return bc_invoice_check_either(rec, keys, watcher_xonly, NULL, why, whylen);
}

bc_invoice_check_result
bc_invoice_check_either(const bc_invoice_record *rec, const bc_keys *keys,
    const unsigned char watcher_xonly[32], const unsigned char *watcher_old,
    char *why, size_t whylen)
{
    bc_invoice_check_result r;

    if (!bc_invoice_record_mac_ok(rec, keys)) {
        snprintf(why, whylen, "invoice MAC does not verify");
        return BC_INVOICE_BAD_MAC;
    }
    if (rec->state != BC_STATE_PAID) {
        snprintf(why, whylen, "state is %s", bc_invoice_state_str(rec->state));
        return BC_INVOICE_NOT_PAID;
    }
    r = bc_invoice_record_att_check(rec, watcher_xonly);
    if (r == BC_INVOICE_BAD_ATT && watcher_old != NULL) {
        /* signed before the watcher moved to its new key */
        r = bc_invoice_record_att_check(rec, watcher_old);
    }
    if (r != BC_INVOICE_SETTLED) {
        snprintf(why, whylen, r == BC_INVOICE_NO_ATT ? "no watcher attestation"
                 : "attestation does not verify");
        return r;
    }
    if (rec->received < rec->inv.amount) {
        snprintf(why, whylen, "received %llu < amount %llu",
                 (unsigned long long) rec->received, (unsigned long long) rec->inv.amount);
        return BC_INVOICE_UNDERPAID;
    }
    if (rec->conf < rec->inv.confirmations) {
        snprintf(why, whylen, "%u of %u confirmations", (unsigned) rec->conf,
                 (unsigned) rec->inv.confirmations);
        return BC_INVOICE_UNCONFIRMED;
    }
    snprintf(why, whylen, "settled");
    return BC_INVOICE_SETTLED;
}

/* ---- catalog records -------------------------------------------------- */

int
bc_product_record_parse(bc_product_record *p, const char *const *kv, const size_t *kvlen,
    size_t n, char *err, size_t errlen)
{
    static const char *const names[] = {
        BC_PRODUCT_F_PRICE, BC_PRODUCT_F_WALLET, BC_PRODUCT_F_TITLE, BC_PRODUCT_F_MAC,
        BC_PRODUCT_F_SEQ, BC_PRODUCT_F_V, BC_PRODUCT_F_SUGGESTED, BC_PRODUCT_F_FREE,
        BC_PRODUCT_F_FREE_WINDOW
    };
    enum { NNAMES = sizeof(names) / sizeof(names[0]) };
    bc_product_terms *t = &p->terms;
    uint64_t v, num;
    unsigned seen = 0;
    size_t i, f;

    memset(p, 0, sizeof(*p));
    if (n == 0) {
        snprintf(err, errlen, "no such product");
        return 0;
    }
    if (n % 2 != 0) {
        snprintf(err, errlen, "odd number of field strings");
        return 0;
    }
    v = 0;
    for (i = 0; i < n; i += 2) {
        for (f = 0; f < NNAMES; f++) {
            if (strlen(names[f]) == kvlen[i] && memcmp(names[f], kv[i], kvlen[i]) == 0) {
                break;
            }
        }
        switch (f) {
        case 0:
            if (!bc_parse_uint_n(&t->price, kv[i + 1], kvlen[i + 1], BC_MAX_SATS)) {
                snprintf(err, errlen, "field price is not a number of satoshis "
                         "from 1 to %llu", (unsigned long long) BC_MAX_SATS);
                return 0;
            }
            break;
        case 1:
            if (!take_text(&t->wallet, &t->wallet_len, "wallet", kv[i + 1], kvlen[i + 1],
                           err, errlen))
            {
                return 0;
            }
            break;
        case 2:
            if (!take_text(&t->title, &t->title_len, "title", kv[i + 1], kvlen[i + 1],
                           err, errlen))
            {
                return 0;
            }
            break;
        case 3:
            if (!take_hex(p->mac, sizeof(p->mac), "mac", kv[i + 1], kvlen[i + 1], err, errlen)) {
                return 0;
            }
            break;
        case 4:
            if (!bc_parse_uint_n(&t->seq, kv[i + 1], kvlen[i + 1], UINT64_MAX) || t->seq == 0) {
                snprintf(err, errlen, "field seq is not a number from 1 to %llu",
                         (unsigned long long) UINT64_MAX);
                return 0;
            }
            break;
        case 5:
            if (!bc_parse_uint_n(&v, kv[i + 1], kvlen[i + 1], 3) || v != 3) {
                snprintf(err, errlen, "field v is not 3");
                return 0;
            }
            break;
        case 6:
            if (!bc_parse_uint_n(&t->suggested, kv[i + 1], kvlen[i + 1], BC_MAX_SATS)) {
                snprintf(err, errlen, "field suggested is not a number of satoshis "
                         "from 0 to %llu", (unsigned long long) BC_MAX_SATS);
                return 0;
            }
            break;
        case 7:
        case 8:
            if (!bc_parse_uint_n(&num, kv[i + 1], kvlen[i + 1],
                                 f == 7 ? BC_FREE_MAX : BC_FREE_WINDOW_MAX))
            {
                snprintf(err, errlen, "field %s is not a number from 0 to %u", names[f],
                         f == 7 ? BC_FREE_MAX : BC_FREE_WINDOW_MAX);
                return 0;
            }
            if (f == 7) {
                t->free = (uint32_t) num;
            } else {
                t->free_window = (uint32_t) num;
            }
            break;
        default:
            continue;
        }
        seen |= 1u << f;
    }
    t->version = (seen & (1u << 5)) ? 3 : (seen & (1u << 4)) ? 2 : 1;
    for (f = 0; f < (t->version == 3 ? NNAMES : 4); f++) {
        if (!(seen & (1u << f))) {
            snprintf(err, errlen, "no field %s", names[f]);
            return 0;
        }
    }
    if (t->version < 3) {
        /* fields of a newer version in an older record mean nothing */
        t->suggested = 0;
        t->free = 0;
        t->free_window = 0;
    }
    if (t->version == 1 && t->price == 0) {
        snprintf(err, errlen, "field price is not a number of satoshis "
                 "from 1 to %llu", (unsigned long long) BC_MAX_SATS);
        return 0;
    }
    return 1;
}

int
bc_product_record_mac_ok(const bc_product_record *p, const char *product, size_t product_len,
    const bc_keys *keys)
{
    unsigned char mac[32];

    for ( ; keys != NULL; keys = keys->old) {
        if (bc_product_mac(mac, &p->terms, product, product_len, keys)
            && CRYPTO_memcmp(mac, p->mac, 32) == 0)
        {
            return 1;
        }
    }
    return 0;
}

int
bc_product_record_sign(bc_product_record *p, const char *product, size_t product_len,
    const bc_keys *keys)
{
    return bc_product_mac(p->mac, &p->terms, product, product_len, keys);
}

size_t
bc_product_record_argv(const char *argv[], size_t lens[], bc_product_argv_buf *buf,
    const bc_product_record *p)
{
    const bc_product_terms *t = &p->terms;
    size_t n = 0, i;

    snprintf(buf->price, sizeof(buf->price), "%llu", (unsigned long long) t->price);
    snprintf(buf->seq, sizeof(buf->seq), "%llu", (unsigned long long) t->seq);
    snprintf(buf->v, sizeof(buf->v), "%u", t->version);
    snprintf(buf->suggested, sizeof(buf->suggested), "%llu",
             (unsigned long long) t->suggested);
    snprintf(buf->free, sizeof(buf->free), "%u", (unsigned) t->free);
    snprintf(buf->free_window, sizeof(buf->free_window), "%u", (unsigned) t->free_window);
    bc_hex_encode(buf->mac, p->mac, 32);
    if (t->version >= 3) {
        argv[n] = BC_PRODUCT_F_V;  lens[n++] = sizeof(BC_PRODUCT_F_V) - 1;
        argv[n] = buf->v;          lens[n++] = strlen(buf->v);
    }
    argv[n] = BC_PRODUCT_F_PRICE;  lens[n++] = sizeof(BC_PRODUCT_F_PRICE) - 1;
    argv[n] = buf->price;          lens[n++] = strlen(buf->price);
    argv[n] = BC_PRODUCT_F_WALLET; lens[n++] = sizeof(BC_PRODUCT_F_WALLET) - 1;
    argv[n] = t->wallet;           lens[n++] = t->wallet_len;
    argv[n] = BC_PRODUCT_F_TITLE;  lens[n++] = sizeof(BC_PRODUCT_F_TITLE) - 1;
    argv[n] = t->title;            lens[n++] = t->title_len;
    if (t->version >= 2) {
        argv[n] = BC_PRODUCT_F_SEQ; lens[n++] = sizeof(BC_PRODUCT_F_SEQ) - 1;
        argv[n] = buf->seq;         lens[n++] = strlen(buf->seq);
    }
    if (t->version >= 3) {
        argv[n] = BC_PRODUCT_F_SUGGESTED;   lens[n++] = sizeof(BC_PRODUCT_F_SUGGESTED) - 1;
        argv[n] = buf->suggested;           lens[n++] = strlen(buf->suggested);
        argv[n] = BC_PRODUCT_F_FREE;        lens[n++] = sizeof(BC_PRODUCT_F_FREE) - 1;
        argv[n] = buf->free;                lens[n++] = strlen(buf->free);
        argv[n] = BC_PRODUCT_F_FREE_WINDOW; lens[n++] = sizeof(BC_PRODUCT_F_FREE_WINDOW) - 1;
        argv[n] = buf->free_window;         lens[n++] = strlen(buf->free_window);
    }
    argv[n] = BC_PRODUCT_F_MAC;    lens[n++] = sizeof(BC_PRODUCT_F_MAC) - 1;
    argv[n] = buf->mac;            lens[n++] = 64;
    for (i = 0; i < n; i++) {
        if (argv[i] == NULL) {      /* an empty wallet or title */
            argv[i] = "";
        }
    }
    return n;
}

bc_catalog_verdict
bc_catalog_decide(const bc_product_record *rec, uint64_t *mark)
{
    if (rec == NULL) {
        /* gone, or rewritten without the secret: a rollback once a
         * record has been seen, since the directives may be cheaper */
        return *mark ? BC_CATALOG_ROLLED_BACK : BC_CATALOG_DIRECTIVES;
    }
    if (rec->terms.version < 2) {
        return *mark ? BC_CATALOG_ROLLED_BACK : BC_CATALOG_USE;
    }
    if (rec->terms.seq < *mark) {
        return BC_CATALOG_ROLLED_BACK;
    }
    *mark = rec->terms.seq;
    return rec->terms.price == 0 ? BC_CATALOG_DIRECTIVES : BC_CATALOG_USE;
}
