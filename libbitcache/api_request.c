#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "api_request.h"
#include "base64url.h"
#include "hash.h"
#include "hex.h"

static int
unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
           || c == '-' || c == '.' || c == '_' || c == '~';
}

int
bc_api_url_check(const char *s, size_t len, char *err, size_t errlen)
{
    size_t i, seg;

    if (len == 0 || s[0] != '/') {
        snprintf(err, errlen, "does not start with \"/\"");
        return 0;
    }
    if (len > BC_API_URL_MAX) {
        snprintf(err, errlen, "is longer than %d bytes", BC_API_URL_MAX);
        return 0;
    }
    if (len == 1 || s[len - 1] == '/') {
        snprintf(err, errlen, "ends with \"/\" (write /bitcache, not /bitcache/)");
        return 0;
    }
    for (i = 1, seg = 1; i <= len; i++) {
        if (i == len || s[i] == '/') {
            /* nginx would normalize these away: the route could never match */
            if (i == seg || (i - seg == 1 && s[seg] == '.')
                || (i - seg == 2 && s[seg] == '.' && s[seg + 1] == '.'))
            {
                snprintf(err, errlen, "has an empty, \".\" or \"..\" segment");
                return 0;
            }
            seg = i + 1;
        } else if (!unreserved((unsigned char) s[i])) {
            snprintf(err, errlen, "has \"%c\" (byte 0x%02x): only letters, digits, "
                     "\"-._~\" and \"/\" are allowed", s[i] >= 0x21 && s[i] < 0x7f ? s[i] : '?',
                     (unsigned char) s[i]);
            return 0;
        }
    }
    return 1;
}

bc_route
bc_api_route(const char *uri, size_t len, const char *api, size_t apilen,
    unsigned char id[BC_INVOICE_ID_LEN])
{
    static const char inv[] = "/invoices";
    size_t base = apilen + sizeof(inv) - 1, i;
    char c;

    if (len < base || memcmp(uri, api, apilen) != 0
        || memcmp(uri + apilen, inv, sizeof(inv) - 1) != 0)
    {
        return BC_ROUTE_NONE;
    }
    if (len == base) {
        return BC_ROUTE_CREATE;
    }
    if (len != base + 1 + 2 * BC_INVOICE_ID_LEN || uri[base] != '/') {
        return BC_ROUTE_NONE;
    }
    for (i = base + 1; i < len; i++) {
        c = uri[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return BC_ROUTE_NONE;    /* lower case only: one spelling per id */
        }
    }
    return bc_hex_decode(id, BC_INVOICE_ID_LEN, uri + base + 1, 2 * BC_INVOICE_ID_LEN)
           ? BC_ROUTE_STATUS : BC_ROUTE_NONE;
}

/* ---- the offer in a body ------------------------------------------------ */

static size_t
skip_ws(const char *s, size_t len, size_t i)
{
    while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) {
        i++;
    }
    return i;
}

/* s[i] is '"': returns the index after the closing quote, or 0. *esc says
 * whether the string has a backslash escape. */
static size_t
json_string_end(const char *s, size_t len, size_t i, int *esc)
{
    *esc = 0;
    for (i++; i < len; i++) {
        if (s[i] == '\\') {
            *esc = 1;
            i++;
        } else if (s[i] == '"') {
            return i + 1;
        } else if ((unsigned char) s[i] < 0x20) {
            return 0;
        }
    }
    return 0;
}

/* Skips any JSON value at s[i]: returns the index after it, or 0. Only its
 * extent matters (nesting and strings), not its validity. */
static size_t
json_skip_value(const char *s, size_t len, size_t i)
{
    size_t depth = 0;
    int esc;

    while (i < len) {
        switch (s[i]) {
        case '"':
            if ((i = json_string_end(s, len, i, &esc)) == 0) {
                return 0;
            }
            if (depth == 0) {
                return i;
            }
            continue;
        case '{': case '[':
            if (++depth > 64) {
                return 0;
            }
            break;
        case '}': case ']':
            if (depth == 0) {
                return i;
            }
            if (--depth == 0) {
                return i + 1;
            }
            break;
        case ',':
            if (depth == 0) {
                return i;
            }
            break;
        }
        i++;
    }
    return 0;
}

static int
json_offer(const char *s, size_t len, const char **offer, size_t *offer_len)
{
    size_t i, k, kend, v, vend;
    int esc;

    i = skip_ws(s, len, 0) + 1;             /* past '{' */
    for (;;) {
        i = skip_ws(s, len, i);
        if (i >= len || s[i] != '"' || (kend = json_string_end(s, len, i, &esc)) == 0) {
            return 0;
        }
        k = i + 1;
        i = skip_ws(s, len, kend);
        if (i >= len || s[i] != ':') {
            return 0;
        }
        v = skip_ws(s, len, i + 1);
        if (v >= len) {
            return 0;
        }
        if (kend - 1 - k == 5 && !esc && memcmp(s + k, "offer", 5) == 0) {
            if (s[v] != '"' || (vend = json_string_end(s, len, v, &esc)) == 0 || esc
                || vend - v == 2)
            {
                return 0;                   /* an offer is base64url: no escapes */
            }
            *offer = s + v + 1;
            *offer_len = vend - v - 2;
            return 1;
        }
        if ((i = json_skip_value(s, len, v)) == 0 || i == v) {
            return 0;
        }
        i = skip_ws(s, len, i);
        if (i >= len || s[i] != ',') {
            return 0;                       /* '}' or junk: no offer */
        }
        i++;
    }
}

static int
form_offer(const char *s, size_t len, const char **offer, size_t *offer_len)
{
    size_t i = 0, end;

    while (i < len) {
        for (end = i; end < len && s[end] != '&'; end++) { /* void */ }
        if (end - i > 6 && memcmp(s + i, "offer=", 6) == 0) {
            *offer = s + i + 6;
            *offer_len = end - i - 6;
            return 1;
        }
        i = end + 1;
    }
    return 0;
}

int
bc_body_offer(const char *body, size_t len, const char **offer, size_t *offer_len)
{
    size_t i = skip_ws(body, len, 0);

    if (i < len && body[i] == '{') {
        return json_offer(body, len, offer, offer_len);
    }
    return form_offer(body, len, offer, offer_len);
}

/* ---- cookies and the claim ---------------------------------------------- */

int
bc_cookie_next(const char *hdr, size_t len, size_t *pos, const char *name,
    const char **value, size_t *value_len)
{
    size_t nlen = strlen(name), i = *pos, start, end, v;

    while (i < len) {
        while (i < len && (hdr[i] == ' ' || hdr[i] == '\t' || hdr[i] == ';')) {
            i++;
        }
        start = i;
        for (end = i; end < len && hdr[end] != ';'; end++) { /* void */ }
        i = end;
        if (end - start > nlen && memcmp(hdr + start, name, nlen) == 0
            && hdr[start + nlen] == '=')
        {
            v = start + nlen + 1;
            while (end > v && (hdr[end - 1] == ' ' || hdr[end - 1] == '\t')) {
                end--;
            }
            *value = hdr + v;
            *value_len = end - v;
            *pos = i;
            return 1;
        }
    }
    *pos = len;
    return 0;
}

int
bc_claim_hash(unsigned char hash[32], const unsigned char claim[BC_CLAIM_LEN])
{
    return bc_sha256(hash, claim, BC_CLAIM_LEN);
}

void
bc_claim_encode(char out[BC_CLAIM_CHARS + 1], const unsigned char claim[BC_CLAIM_LEN])
{
    bc_b64url_encode(out, claim, BC_CLAIM_LEN);
}

int
bc_claim_matches(const unsigned char hash[32], const char *s, size_t len)
{
    unsigned char claim[BC_CLAIM_LEN], h[32];
    size_t n;
    int ok;

    if (len != BC_CLAIM_CHARS || !bc_b64url_decode(claim, sizeof(claim), &n, s, len)
        || n != BC_CLAIM_LEN || !bc_claim_hash(h, claim))
    {
        return 0;
    }
    ok = CRYPTO_memcmp(h, hash, 32) == 0;
    OPENSSL_cleanse(claim, sizeof(claim));
    return ok;
}
