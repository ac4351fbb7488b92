#include <string.h>

#include <openssl/crypto.h>

#include "base64url.h"
#include "bytes.h"
#include "hash.h"
#include "hex.h"
#include "invoice.h"

#define LABELED(w, label) bc_put_bytes(w, label, sizeof(label))   /* with its NUL */

static int
mac_of(unsigned char mac[32], bc_writer *w, bc_hmac_key *key)
{
    return !w->overflow && bc_hmac_sha256(mac, key, w->p, w->len);
}

/* Version 2 (docs/protocol.md); only version 1's reader is kept, for the
 * pages made before an upgrade. */
static void
offer_body(bc_writer *w, const bc_offer *o)
{
    bc_put_uint(w, BC_OFFER_VERSION, 1);
    bc_put_uint(w, o->issued, 8);
    bc_put_uint(w, o->price, 8);
    bc_put_uint(w, o->suggested, 8);
    bc_put_uint(w, o->confirmations, 1);
    bc_put_uint(w, o->invoice_ttl, 4);
    bc_put_uint(w, o->token_ttl, 4);
    bc_put_uint(w, o->max_downloads, 4);
    bc_put_uint(w, o->network, 1);
    bc_put_uint(w, o->free_total, 4);
    bc_put_uint(w, o->free_window, 4);
    bc_put_lp(w, o->wallet, o->wallet_len);
    bc_put_lp(w, o->product, o->product_len);
    bc_put_lp(w, o->title, o->title_len);
}

size_t
bc_offer_encode(char *out, const bc_offer *o, const bc_keys *keys)
{
    unsigned char buf[6 + BC_OFFER_MAX_BYTES], mac[32];
    bc_writer w;

    if (o->wallet_len > BC_OFFER_FIELD_MAX || o->product_len > BC_OFFER_FIELD_MAX
        || o->title_len > BC_OFFER_FIELD_MAX)
    {
        return 0;
    }
    bc_writer_init(&w, buf, sizeof(buf));
    LABELED(&w, "offer");
    offer_body(&w, o);
    if (!mac_of(mac, &w, keys->invoice_hmac)) {
        return 0;
    }
    bc_put_bytes(&w, mac, sizeof(mac));
    if (w.overflow) {
        return 0;
    }
    /* the label is MAC'd, not sent */
    bc_b64url_encode(out, buf + 6, w.len - 6);
    return BC_B64URL_ENCODED_LEN(w.len - 6);
}

bc_offer_status
bc_offer_decode(bc_offer *o, unsigned char *buf, const char *s, size_t len,
    const bc_keys *keys, uint64_t now)
{
    unsigned char msg[6 + BC_OFFER_MAX_BYTES], mac[32];
    const unsigned char *f;
    uint64_t version;
    size_t n;
    bc_reader r;

    if (len > BC_OFFER_MAX_CHARS
        || !bc_b64url_decode(buf, BC_OFFER_MAX_BYTES, &n, s, len) || n < 32 + 1)
    {
        return BC_OFFER_MALFORMED;
    }
    memcpy(msg, "offer", 6);
    memcpy(msg + 6, buf, n - 32);
    /* the old secret's keys only when the current ones fail */
    for ( ;; ) {
        if (bc_hmac_sha256(mac, keys->invoice_hmac, msg, 6 + n - 32)
            && CRYPTO_memcmp(mac, buf + n - 32, 32) == 0)
        {
            break;
        }
        keys = keys->old;
        if (keys == NULL) {
            return buf[0] == 1 || buf[0] == 2 ? BC_OFFER_BAD_MAC
                                               : BC_OFFER_MALFORMED;
        }
    }

    bc_reader_init(&r, buf, n - 32);
    version = bc_get_uint(&r, 1);
    if (version != 1 && version != 2) {
        return BC_OFFER_MALFORMED;
    }
    o->issued = bc_get_uint(&r, 8);
    o->price = bc_get_uint(&r, 8);
    o->suggested = version == 2 ? bc_get_uint(&r, 8) : 0;
    o->confirmations = (uint8_t) bc_get_uint(&r, 1);
    o->invoice_ttl = (uint32_t) bc_get_uint(&r, 4);
    o->token_ttl = (uint32_t) bc_get_uint(&r, 4);
    o->max_downloads = (uint32_t) bc_get_uint(&r, 4);
    o->network = (uint8_t) bc_get_uint(&r, 1);
    o->free_total = version == 2 ? (uint32_t) bc_get_uint(&r, 4) : 0;
    o->free_window = version == 2 ? (uint32_t) bc_get_uint(&r, 4) : 0;
    o->wallet_len = bc_get_lp(&r, &f);
    o->wallet = (const char *) f;
    o->product_len = bc_get_lp(&r, &f);
    o->product = (const char *) f;
    o->title_len = bc_get_lp(&r, &f);
    o->title = (const char *) f;
    if (r.bad || r.pos != r.len) {
        return BC_OFFER_MALFORMED;
    }
    if (now > o->issued + BC_OFFER_LIFETIME || o->issued > now + 300) {
        return BC_OFFER_EXPIRED;
    }
    return BC_OFFER_OK;
}

const char *
bc_offer_status_str(bc_offer_status st)
{
    switch (st) {
    case BC_OFFER_OK: return "valid";
    case BC_OFFER_MALFORMED: return "malformed offer";
    case BC_OFFER_BAD_MAC: return "bad offer MAC";
    case BC_OFFER_EXPIRED: return "offer expired, reload the page";
    }
    return "invalid offer";
}

int
bc_invoice_mac(unsigned char mac[32], const bc_invoice *inv, const bc_keys *keys)
{
    unsigned char buf[8 + 1 + BC_INVOICE_ID_LEN + 72 + 5 * (2 + BC_OFFER_FIELD_MAX) + 32];
    unsigned version = inv->version ? inv->version : BC_INVOICE_VERSION;
    bc_writer w;

    if (version != 2 && version != 3) {
        return 0;
    }
    bc_writer_init(&w, buf, sizeof(buf));
    LABELED(&w, "invoice");
    bc_put_uint(&w, version, 1);
    bc_put_bytes(&w, inv->id, BC_INVOICE_ID_LEN);
    bc_put_uint(&w, inv->network, 1);
    bc_put_uint(&w, inv->index, 4);
    bc_put_uint(&w, inv->amount, 8);
    if (version == 3) {
        bc_put_uint(&w, inv->list, 8);      /* the price: tips are above it */
    }
    bc_put_uint(&w, inv->confirmations, 1);
    bc_put_uint(&w, inv->created, 8);
    bc_put_uint(&w, inv->expires, 8);
    bc_put_uint(&w, inv->token_ttl, 4);
    bc_put_uint(&w, inv->max_downloads, 4);
    bc_put_lp(&w, inv->product, inv->product_len);
    bc_put_lp(&w, inv->wallet, inv->wallet_len);
    bc_put_lp(&w, inv->address, inv->address_len);
    bc_put_lp(&w, inv->spk, inv->spk_len);
    bc_put_lp(&w, inv->title, inv->title_len);
    bc_put_bytes(&w, inv->claim_hash, sizeof(inv->claim_hash));
    return mac_of(mac, &w, keys->invoice_hmac);
}

int
bc_payment_msg(unsigned char msg32[32], const unsigned char genesis[32],
    const unsigned char id[BC_INVOICE_ID_LEN], const unsigned char *spk, size_t spk_len,
    uint64_t received, uint32_t conf, uint64_t paid_at)
{
    unsigned char buf[32 + BC_INVOICE_ID_LEN + 2 + 128 + 20];
    bc_writer w;

    if (genesis == NULL) {
        return 0;
    }
    bc_writer_init(&w, buf, sizeof(buf));
    bc_put_bytes(&w, genesis, 32);
    bc_put_bytes(&w, id, BC_INVOICE_ID_LEN);
    bc_put_lp(&w, spk, spk_len);
    bc_put_uint(&w, received, 8);
    bc_put_uint(&w, conf, 4);
    bc_put_uint(&w, paid_at, 8);
    return !w.overflow && bc_tagged_hash(msg32, BC_PAYMENT_TAG, buf, w.len);
}

int
bc_invoice_token_id(unsigned char tid[16], const unsigned char id[BC_INVOICE_ID_LEN],
    const bc_keys *keys)
{
    unsigned char buf[9 + BC_INVOICE_ID_LEN], mac[32];
    bc_writer w;

    bc_writer_init(&w, buf, sizeof(buf));
    LABELED(&w, "token-id");
    bc_put_bytes(&w, id, BC_INVOICE_ID_LEN);
    if (!mac_of(mac, &w, keys->token_hmac)) {
        return 0;
    }
    memcpy(tid, mac, 16);
    return 1;
}

int
bc_product_mac(unsigned char mac[32], const bc_product_terms *t, const char *product,
    size_t product_len, const bc_keys *keys)
{
    unsigned char buf[9 + 8 + 8 + 8 + 4 + 4 + 3 * (2 + BC_OFFER_FIELD_MAX)];
    bc_writer w;

    bc_writer_init(&w, buf, sizeof(buf));
    if (t->version == 3) {
        LABELED(&w, "product3");
        bc_put_lp(&w, product, product_len);
        bc_put_uint(&w, t->seq, 8);
    } else if (t->version == 2) {
        LABELED(&w, "product2");
        bc_put_lp(&w, product, product_len);
        bc_put_uint(&w, t->seq, 8);
    } else if (t->version == 1) {
        LABELED(&w, "product");
        bc_put_lp(&w, product, product_len);
    } else {
        return 0;
    }
    bc_put_uint(&w, t->price, 8);
    if (t->version == 3) {
        bc_put_uint(&w, t->suggested, 8);
        bc_put_uint(&w, t->free, 4);
        bc_put_uint(&w, t->free_window, 4);
    }
    bc_put_lp(&w, t->wallet, t->wallet_len);
    bc_put_lp(&w, t->title, t->title_len);
    return mac_of(mac, &w, keys->invoice_hmac);
}

int
bc_free_token_id(unsigned char tid[16], const char *product, size_t product_len, uint64_t n,
    const bc_keys *keys)
{
    unsigned char buf[10 + 2 + BC_OFFER_FIELD_MAX + 8], mac[32];
    bc_writer w;

    if (product_len > BC_OFFER_FIELD_MAX) {
        return 0;
    }
    bc_writer_init(&w, buf, sizeof(buf));
    LABELED(&w, "free-copy");
    bc_put_lp(&w, product, product_len);
    bc_put_uint(&w, n, 8);
    if (!mac_of(mac, &w, keys->token_hmac)) {
        return 0;
    }
    memcpy(tid, mac, 16);
    return 1;
}

int
bc_wallet_id(char out[17], const char *wallet, size_t len)
{
    unsigned char h[32];

    if (!bc_sha256(h, (const unsigned char *) wallet, len)) {
        return 0;
    }
    bc_hex_encode(out, h, 8);
    return 1;
}
