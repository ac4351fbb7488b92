#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "amount.h"
#include "api_request.h"
#include "base64url.h"
#include "hash.h"
#include "hex.h"
#include "wallet_record.h"

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

static bc_route
invoice_route(const char *rest, size_t len, unsigned char id[BC_INVOICE_ID_LEN])
{
    size_t i;
    char c;

    if (len == 0) {
        return BC_ROUTE_CREATE;
    }
    if (len != 1 + 2 * BC_INVOICE_ID_LEN || rest[0] != '/') {
        return BC_ROUTE_NONE;
    }
    for (i = 1; i < len; i++) {
        c = rest[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return BC_ROUTE_NONE;    /* lower case only: one spelling per id */
        }
    }
    return bc_hex_decode(id, BC_INVOICE_ID_LEN, rest + 1, 2 * BC_INVOICE_ID_LEN)
           ? BC_ROUTE_STATUS : BC_ROUTE_NONE;
}

bc_route
bc_api_route(const char *uri, size_t len, const char *api, size_t apilen,
    unsigned char id[BC_INVOICE_ID_LEN])
{
    static const struct {
        const char  *path;
        bc_route     route;
    } exact[] = {
        { "/wallets", BC_ROUTE_WALLETS },
        { "/wallet", BC_ROUTE_WALLET },
        { "/wallet/restore", BC_ROUTE_WALLET_RESTORE },
        { "/wallet/forget", BC_ROUTE_WALLET_FORGET },
        { "/wallet/history", BC_ROUTE_WALLET_HISTORY },
        { "/wallet/topups", BC_ROUTE_WALLET_TOPUPS },
        { "/wallet/buy", BC_ROUTE_WALLET_BUY },
        { "/wallet/settings", BC_ROUTE_WALLET_SETTINGS },
        { "/free", BC_ROUTE_FREE },
        { "/button.js", BC_ROUTE_BUTTON },
        { "/open", BC_ROUTE_OPEN },
        { "/open.js", BC_ROUTE_OPEN_JS },
        { "/open-sw.js", BC_ROUTE_OPEN_SW },
    };
    static const char inv[] = "/invoices";
    static const char prod[] = "/products/";
    static const char keys[] = "/keys/";
    const char *rest;
    size_t n, i;

    if (len < apilen || memcmp(uri, api, apilen) != 0) {
        return BC_ROUTE_NONE;
    }
    rest = uri + apilen;
    n = len - apilen;
    if (n >= sizeof(inv) - 1 && memcmp(rest, inv, sizeof(inv) - 1) == 0) {
        return invoice_route(rest + sizeof(inv) - 1, n - (sizeof(inv) - 1), id);
    }
    if (n >= sizeof(prod) - 1 && memcmp(rest, prod, sizeof(prod) - 1) == 0) {
        return BC_ROUTE_PRODUCT;        /* the path is checked by bc_api_product_path */
    }
    if (n >= sizeof(keys) - 1 && memcmp(rest, keys, sizeof(keys) - 1) == 0) {
        return BC_ROUTE_KEYS;           /* the path is checked by bc_api_keys_path */
    }
    for (i = 0; i < sizeof(exact) / sizeof(exact[0]); i++) {
        if (n == strlen(exact[i].path) && memcmp(rest, exact[i].path, n) == 0) {
            return exact[i].route;
        }
    }
    return BC_ROUTE_NONE;
}

/* The path after <api><route> ("/products", "/keys"), '/' included. */
static int
route_path(const char *uri, size_t len, const char *api, size_t apilen,
    const char *route, size_t route_len, const char **path, size_t *path_len)
{
    const char *p;
    size_t n, i, seg;

    if (len < apilen + route_len + 1 || memcmp(uri, api, apilen) != 0
        || memcmp(uri + apilen, route, route_len) != 0)
    {
        return 0;
    }
    p = uri + apilen + route_len;
    n = len - apilen - route_len;
    if (n < 2 || p[0] != '/') {
        return 0;
    }
    /* the internal redirect goes to exactly this path: nothing that nginx
     * would resolve to another one, nothing a header or log could split */
    for (i = 1, seg = 1; i <= n; i++) {
        if (i == n || p[i] == '/') {
            if ((i == seg && i != n) || (i - seg == 1 && p[seg] == '.')
                || (i - seg == 2 && p[seg] == '.' && p[seg + 1] == '.'))
            {
                return 0;
            }
            seg = i + 1;
        } else if ((unsigned char) p[i] < 0x20 || p[i] == 0x7f || p[i] == '?') {
            return 0;       /* '?': never a path that could be read as args */
        }
    }
    *path = p;
    *path_len = n;
    return 1;
}

int
bc_api_product_path(const char *uri, size_t len, const char *api, size_t apilen,
    const char **path, size_t *path_len)
{
    return route_path(uri, len, api, apilen, "/products", sizeof("/products") - 1,
                      path, path_len);
}

int
bc_api_keys_path(const char *uri, size_t len, const char *api, size_t apilen,
    const char **path, size_t *path_len)
{
    return route_path(uri, len, api, apilen, "/keys", sizeof("/keys") - 1,
                      path, path_len);
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

/* A JSON member's value as the text it is sent as: a string without
 * escapes (its inside), or a number, true or false. 0 for anything else
 * (an object, an array, null, a string with escapes, an empty string). */
static int
json_scalar(const char *s, size_t len, size_t v, int string_only, const char **value,
    size_t *value_len)
{
    size_t end, i;
    int esc;

    if (s[v] == '"') {
        if ((end = json_string_end(s, len, v, &esc)) == 0 || esc || end - v == 2) {
            return 0;
        }
        *value = s + v + 1;
        *value_len = end - v - 2;
        return 1;
    }
    if (string_only) {
        return 0;
    }
    end = v;
    if (s[v] >= 'a' && s[v] <= 'z') {
        while (end < len && s[end] >= 'a' && s[end] <= 'z') {
            end++;
        }
        if (!(end - v == 4 && memcmp(s + v, "true", 4) == 0)
            && !(end - v == 5 && memcmp(s + v, "false", 5) == 0))
        {
            return 0;                       /* null, or a word that is no value */
        }
    } else {
        while (end < len && ((s[end] >= '0' && s[end] <= '9') || s[end] == '-'
                             || s[end] == '+' || s[end] == '.' || s[end] == 'e'
                             || s[end] == 'E'))
        {
            end++;
        }
    }
    i = skip_ws(s, len, end);
    if (end == v || i >= len || (s[i] != ',' && s[i] != '}')) {
        return 0;
    }
    *value = s + v;
    *value_len = end - v;
    return 1;
}

static int
json_field(const char *s, size_t len, const char *name, size_t nlen, int string_only,
    const char **value, size_t *value_len)
{
    size_t i, k, kend, v;
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
        if (kend - 1 - k == nlen && !esc && memcmp(s + k, name, nlen) == 0) {
            return json_scalar(s, len, v, string_only, value, value_len);
        }
        if ((i = json_skip_value(s, len, v)) == 0 || i == v) {
            return 0;
        }
        i = skip_ws(s, len, i);
        if (i >= len || s[i] != ',') {
            return 0;                       /* '}' or junk: no such member */
        }
        i++;
    }
}

/* The first non-empty name=value; a value that would need decoding
 * ('%' or '+') is refused, not decoded (unless raw: bc_body_code decodes
 * it): no other field needs either. */
static int
form_field(const char *s, size_t len, const char *name, size_t nlen, int raw,
    const char **value, size_t *value_len)
{
    size_t i = 0, end, j;

    while (i < len) {
        for (end = i; end < len && s[end] != '&'; end++) { /* void */ }
        if (end - i > nlen + 1 && memcmp(s + i, name, nlen) == 0 && s[i + nlen] == '=') {
            for (j = i + nlen + 1; j < end && !raw; j++) {
                if (s[j] == '%' || s[j] == '+') {
                    return 0;
                }
            }
            *value = s + i + nlen + 1;
            *value_len = end - i - nlen - 1;
            return 1;
        }
        i = end + 1;
    }
    return 0;
}

static int
body_field(const char *body, size_t len, const char *name, int string_only,
    const char **value, size_t *value_len)
{
    size_t i = skip_ws(body, len, 0), nlen = strlen(name);

    if (nlen == 0) {
        return 0;
    }
    if (i < len && body[i] == '{') {
        return json_field(body, len, name, nlen, string_only, value, value_len);
    }
    return form_field(body, len, name, nlen, 0, value, value_len);
}

static int
hex_digit(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') {
        return (c | 0x20) - 'a' + 10;
    }
    return -1;
}

int
bc_body_code(const char *body, size_t len, char *out, size_t outlen, size_t *out_len)
{
    const char *v;
    size_t vlen, i, n = 0, start = skip_ws(body, len, 0);
    int hi, lo;

    if (start < len && body[start] == '{') {
        if (!bc_body_field(body, len, "code", &v, &vlen) || vlen > outlen) {
            return 0;
        }
        memcpy(out, v, vlen);
        *out_len = vlen;
        return 1;
    }
    if (!form_field(body, len, "code", 4, 1, &v, &vlen)) {
        return 0;
    }
    for (i = 0; i < vlen; i++) {
        if (n == outlen) {
            return 0;                       /* longer than any typed code */
        }
        if (v[i] == '+') {
            out[n++] = ' ';
        } else if (v[i] == '%') {
            if (i + 2 >= vlen) {
                return 0;                   /* a '%' without two digits */
            }
            hi = hex_digit(v[i + 1]);
            lo = hex_digit(v[i + 2]);
            if (hi < 0 || lo < 0) {
                return 0;
            }
            out[n++] = (char) (hi << 4 | lo);
            i += 2;
        } else {
            out[n++] = v[i];
        }
    }
    *out_len = n;
    return n > 0;
}

int
bc_body_field(const char *body, size_t len, const char *name,
    const char **value, size_t *value_len)
{
    return body_field(body, len, name, 0, value, value_len);
}

/* an offer is a JSON string: {"offer":1} is no offer */
int
bc_body_offer(const char *body, size_t len, const char **offer, size_t *offer_len)
{
    return body_field(body, len, "offer", 1, offer, offer_len);
}

int
bc_body_sats(const char *s, size_t len, uint64_t *sats)
{
    uint64_t v = 0;
    size_t i;

    if (len == 0 || len > 16 || s[0] == '0') {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
        v = v * 10 + (uint64_t) (s[i] - '0');       /* 16 digits: no overflow */
    }
    if (v > BC_MAX_SATS) {
        return 0;
    }
    *sats = v;
    return 1;
}

/* ---- the amount a buyer chose ---------------------------------------- */

uint64_t
bc_amount_max(uint64_t price, uint64_t suggested)
{
    uint64_t m = price > suggested ? price : suggested;

    return m > BC_MAX_SATS / BC_AMOUNT_MAX_FACTOR ? BC_MAX_SATS : m * BC_AMOUNT_MAX_FACTOR;
}

/* A field's sats: 0 or bc_body_sats's numbers; *big for digits beyond
 * 21 million BTC (too large, not malformed). */
static int
amount_value(const char *s, size_t len, uint64_t *sats, int *big)
{
    size_t i;

    *big = 0;
    if (len == 1 && s[0] == '0') {
        *sats = 0;
        return 1;
    }
    if (bc_body_sats(s, len, sats)) {
        return 1;
    }
    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
    }
    *big = len > 0 && s[0] != '0';
    return 0;
}

/* 1 if the body names the field at all, readable or not: a form's
 * "name=..." or "name" between '&', or a JSON "name" followed by ':'.
 * bc_body_field refuses what it cannot read as if it were absent; an
 * amount the buyer sent must never quietly become the price. */
static int
body_names(const char *body, size_t len, const char *name)
{
    size_t n = strlen(name), i, j, end;

    i = skip_ws(body, len, 0);
    if (i < len && body[i] == '{') {
        for (; i + n + 2 <= len; i++) {
            if (body[i] == '"' && memcmp(body + i + 1, name, n) == 0 && body[i + n + 1] == '"') {
                j = skip_ws(body, len, i + n + 2);
                if (j < len && body[j] == ':') {
                    return 1;
                }
            }
        }
        return 0;
    }
    for (i = 0; i < len; i = end + 1) {
        for (end = i; end < len && body[end] != '&'; end++) {
        }
        if (end - i >= n && memcmp(body + i, name, n) == 0
            && (end - i == n || body[i + n] == '='))
        {
            return 1;
        }
    }
    return 0;
}

bc_amount_choice
bc_body_amount(const char *body, size_t len, uint64_t price, uint64_t suggested,
    uint64_t *amount)
{
    const char *a, *t, *v;
    size_t alen, tlen, vlen;
    int has_a, has_t, big;
    uint64_t sats;

    has_a = bc_body_field(body, len, "amount", &a, &alen);
    has_t = bc_body_field(body, len, "tip", &t, &tlen);
    if ((!has_a && body_names(body, len, "amount")) || (!has_t && body_names(body, len, "tip"))
        || (has_a && has_t))
    {
        return BC_AMOUNT_BAD;
    }
    if (!has_a && !has_t) {
        *amount = price;
        return BC_AMOUNT_OK;
    }
    v = has_a ? a : t;
    vlen = has_a ? alen : tlen;
    if (vlen == 6 && memcmp(v, "custom", 6) == 0
        && !bc_body_field(body, len, "custom", &v, &vlen))
    {
        return BC_AMOUNT_BAD;
    }
    if (!amount_value(v, vlen, &sats, &big)) {
        return big ? BC_AMOUNT_TOO_LARGE : BC_AMOUNT_BAD;
    }
    if (has_t) {
        if (sats > UINT64_MAX - price) {
            return BC_AMOUNT_TOO_LARGE;     /* only for a price no offer has */
        }
        sats += price;
    }
    if (sats < price) {
        return BC_AMOUNT_BELOW_PRICE;
    }
    if (sats > bc_amount_max(price, suggested)) {
        return BC_AMOUNT_TOO_LARGE;
    }
    *amount = sats;
    return BC_AMOUNT_OK;
}

const char *
bc_amount_choice_str(bc_amount_choice c)
{
    switch (c) {
    case BC_AMOUNT_OK: return "ok";
    case BC_AMOUNT_BAD: return "bad_amount";
    case BC_AMOUNT_BELOW_PRICE: return "amount_below_price";
    case BC_AMOUNT_TOO_LARGE: return "amount_too_large";
    }
    return "bad_amount";
}

int
bc_auth_bitcache(const char *value, size_t len, const char **code, size_t *code_len)
{
    static const char scheme[] = BC_WALLET_AUTH_SCHEME;
    size_t n = sizeof(scheme) - 1, i, end;

    if (len < n || strncasecmp(value, scheme, n) != 0
        || (len > n && value[n] != ' ' && value[n] != '\t'))
    {
        return 0;
    }
    for (i = n; i < len && (value[i] == ' ' || value[i] == '\t'); i++) { /* void */ }
    for (end = len; end > i && (value[end - 1] == ' ' || value[end - 1] == '\t'); end--) {
        /* void */
    }
    *code = value + i;
    *code_len = end - i;
    return 1;
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
