/* Offers as the API receives them (bc_offer_decode): the POST body's
 * "offer", every byte the client's. Input: a first byte choosing the mode,
 * then either the offer text as sent, or an offer body that this target
 * MACs under its key (so that the fields past the MAC are reached).
 * No crash, no read outside the input; the strings of a decoded offer lie
 * in the caller's buffer; version 1 has no suggested price and no
 * giveaway; a version 2 offer is written back by bc_offer_encode to the
 * same text, and any decoded offer re-encodes to one that decodes to the
 * same fields. */
#include "fuzz.h"

#include "base64url.h"
#include "hmac.h"
#include "invoice.h"

static bc_keys keys;

static int
inside(const char *p, size_t len, const unsigned char *buf)
{
    return len == 0 || ((const unsigned char *) p >= buf
                        && (const unsigned char *) p + len <= buf + BC_OFFER_MAX_BYTES);
}

static void
check(const char *s, size_t len, uint64_t now)
{
    unsigned char buf[BC_OFFER_MAX_BYTES], buf2[BC_OFFER_MAX_BYTES];
    char out[BC_OFFER_MAX_CHARS + 1];
    bc_offer o, d;
    bc_offer_status st;
    size_t n;

    st = bc_offer_decode(&o, buf, s, len, &keys, now);
    FUZZ_ASSERT(strlen(bc_offer_status_str(st)) > 0);
    if (st != BC_OFFER_OK) {
        return;
    }
    FUZZ_ASSERT(inside(o.wallet, o.wallet_len, buf) && inside(o.product, o.product_len, buf)
                && inside(o.title, o.title_len, buf));
    FUZZ_ASSERT(o.wallet_len <= BC_OFFER_FIELD_MAX && o.product_len <= BC_OFFER_FIELD_MAX
                && o.title_len <= BC_OFFER_FIELD_MAX);
    FUZZ_ASSERT(now <= o.issued + BC_OFFER_LIFETIME && o.issued <= now + 300);
    if (buf[0] == 1) {
        FUZZ_ASSERT(o.suggested == 0 && o.free_total == 0 && o.free_window == 0);
    }
    n = bc_offer_encode(out, &o, &keys);
    FUZZ_ASSERT(n > 0 && n <= BC_OFFER_MAX_CHARS);
    if (buf[0] == 2) {
        FUZZ_ASSERT(n == len && memcmp(out, s, n) == 0);
    }
    FUZZ_ASSERT(bc_offer_decode(&d, buf2, out, n, &keys, now) == BC_OFFER_OK);
    FUZZ_ASSERT(d.issued == o.issued && d.price == o.price && d.suggested == o.suggested
                && d.confirmations == o.confirmations && d.invoice_ttl == o.invoice_ttl
                && d.token_ttl == o.token_ttl && d.max_downloads == o.max_downloads
                && d.network == o.network && d.free_total == o.free_total
                && d.free_window == o.free_window && d.wallet_len == o.wallet_len
                && d.product_len == o.product_len && d.title_len == o.title_len
                && memcmp(d.wallet, o.wallet, o.wallet_len) == 0
                && memcmp(d.product, o.product, o.product_len) == 0
                && memcmp(d.title, o.title, o.title_len) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char msg[6 + BC_OFFER_MAX_BYTES], mac[32];
    char *text;
    uint64_t issued = 0;
    size_t i, body;

    if (keys.invoice_hmac == NULL) {
        unsigned char secret[32];       /* t/vectors/selling.txt's: its offers decode */

        for (i = 0; i < sizeof(secret); i++) {
            secret[i] = (unsigned char) i;
        }
        FUZZ_ASSERT(bc_keys_derive(&keys, secret, sizeof(secret)));
    }
    if (size == 0 || size > 6 + BC_OFFER_MAX_BYTES) {
        return 0;
    }
    if (data[0] & 1) {
        /* the text as a client sends it */
        if ((text = fuzz_string(data + 1, size - 1)) == NULL) {
            return 0;
        }
        check(text, size - 1, 1767225600);
        free(text);
        return 0;
    }
    /* a body MAC'd by the module's key: reaches the field parser */
    body = size - 1;
    if (body + 32 > BC_OFFER_MAX_BYTES) {
        return 0;
    }
    memcpy(msg, "offer", 6);
    memcpy(msg + 6, data + 1, body);
    FUZZ_ASSERT(bc_hmac_sha256(mac, keys.invoice_hmac, msg, 6 + body));
    memcpy(msg + 6 + body, mac, 32);
    for (i = 0; i < 8 && 1 + i < body; i++) {
        issued = issued << 8 | data[2 + i];
    }
    text = malloc(BC_B64URL_ENCODED_LEN(body + 32) + 1);
    if (text == NULL) {
        return 0;
    }
    bc_b64url_encode(text, msg + 6, body + 32);
    check(text, BC_B64URL_ENCODED_LEN(body + 32), issued);
    free(text);
    return 0;
}
