/* The API's request parsers on any bytes: routes (under a fixed and under
 * an input-given API URL), bitcache_api_url checks, the offer and the
 * wallet's fields in a body (the code form-decoded), amounts in sats, the
 * amount a buyer chose, the products route's path, the Authorization header,
 * cookies and claims. Properties: a route that matches re-spells exactly
 * the input; a product's path lies inside it, starts with '/' and has no
 * empty, "." or ".." segment and no control byte; a chosen amount is
 * within price .. bc_amount_max and is the price when the body names
 * neither amount nor tip; an offer or field lies inside the body (a form value without
 * '%' or '+', a JSON string without escapes); sats are the decimal
 * spelling of a number in 1..21e6 BTC; a Bitcache credential follows the
 * scheme inside the header; a cookie value lies inside the header and
 * holds no ';'; an accepted API URL has only safe bytes. */
#include "fuzz.h"

#include <stdio.h>
#include <strings.h>

#include "amount.h"
#include "api_request.h"
#include "hex.h"
#include "wallet_record.h"

static void
check_route(const char *s, size_t n, const char *api, size_t apilen)
{
    unsigned char id[BC_INVOICE_ID_LEN];
    char again[BC_API_URL_MAX + 64], hex[2 * BC_INVOICE_ID_LEN + 1];
    bc_route r = bc_api_route(s, n, api, apilen, id);

    static const char *const wallet[] = {
        "/wallets", "/wallet", "/wallet/restore", "/wallet/forget", "/wallet/history",
        "/wallet/topups", "/wallet/buy", "/wallet/settings",
    };

    if (r >= BC_ROUTE_WALLETS && r <= BC_ROUTE_WALLET_SETTINGS) {
        const char *p = wallet[r - BC_ROUTE_WALLETS];

        FUZZ_ASSERT(n == apilen + strlen(p) && memcmp(s, api, apilen) == 0
                    && memcmp(s + apilen, p, strlen(p)) == 0);
    } else if (r == BC_ROUTE_FREE) {
        FUZZ_ASSERT(n == apilen + 5 && memcmp(s + apilen, "/free", 5) == 0);
    } else if (r == BC_ROUTE_BUTTON) {
        FUZZ_ASSERT(n == apilen + 10 && memcmp(s + apilen, "/button.js", 10) == 0);
    } else if (r == BC_ROUTE_PRODUCT) {
        FUZZ_ASSERT(n >= apilen + 10 && memcmp(s, api, apilen) == 0
                    && memcmp(s + apilen, "/products/", 10) == 0);
    } else if (r == BC_ROUTE_KEYS) {
        FUZZ_ASSERT(n >= apilen + 6 && memcmp(s, api, apilen) == 0
                    && memcmp(s + apilen, "/keys/", 6) == 0);
    } else if (r == BC_ROUTE_OPEN) {
        FUZZ_ASSERT(n == apilen + 5 && memcmp(s + apilen, "/open", 5) == 0);
    } else if (r == BC_ROUTE_OPEN_JS) {
        FUZZ_ASSERT(n == apilen + 8 && memcmp(s + apilen, "/open.js", 8) == 0);
    } else if (r == BC_ROUTE_OPEN_SW) {
        FUZZ_ASSERT(n == apilen + 11 && memcmp(s + apilen, "/open-sw.js", 11) == 0);
    } else if (r == BC_ROUTE_CREATE) {
        FUZZ_ASSERT(n == apilen + 9 && memcmp(s + apilen, "/invoices", 9) == 0);
    } else if (r == BC_ROUTE_STATUS) {
        bc_hex_encode(hex, id, sizeof(id));
        FUZZ_ASSERT(apilen + 10 + 32 < sizeof(again));
        memcpy(again, api, apilen);
        memcpy(again + apilen, "/invoices/", 10);
        memcpy(again + apilen + 10, hex, 32);
        FUZZ_ASSERT(n == apilen + 42 && memcmp(again, s, n) == 0);
    }
}

/* the products and keys routes' paths: what the internal redirect may
 * go to (route_len: "/products" or "/keys") */
static void
check_route_path(const char *s, size_t n, const char *api, size_t apilen,
    bc_route route)
{
    const char *p;
    size_t plen, i, route_len;
    int ok;

    if (route == BC_ROUTE_PRODUCT) {
        ok = bc_api_product_path(s, n, api, apilen, &p, &plen);
        route_len = 9;
    } else {
        ok = bc_api_keys_path(s, n, api, apilen, &p, &plen);
        route_len = 5;
    }
    if (!ok) {
        return;
    }
    {
        unsigned char id[BC_INVOICE_ID_LEN];

        FUZZ_ASSERT(bc_api_route(s, n, api, apilen, id) == route);
    }
    FUZZ_ASSERT(p == s + apilen + route_len && p + plen == s + n && plen >= 2
                && p[0] == '/');
    for (i = 0; i < plen; i++) {
        FUZZ_ASSERT((unsigned char) p[i] >= 0x20 && p[i] != 0x7f && p[i] != '?');
        FUZZ_ASSERT(!(p[i] == '/' && i + 1 < plen && p[i + 1] == '/'));
        if (p[i] == '/') {
            size_t e = i + 1;

            while (e < plen && p[e] != '/') {
                e++;
            }
            FUZZ_ASSERT(!(e - i - 1 == 1 && p[i + 1] == '.'));
            FUZZ_ASSERT(!(e - i - 1 == 2 && p[i + 1] == '.' && p[i + 2] == '.'));
        }
    }
}

static void
check_amount(const char *s, size_t n)
{
    static const uint64_t prices[][2] = {
        { 1, 0 }, { 5000, 0 }, { 5000, 12000 }, { 2100000000000000ull, 0 },
        { 21000000000000ull, 21000000000001ull },
        { UINT64_MAX, 0 },
    };
    const char *a, *t;
    size_t alen, tlen, i;
    uint64_t amount;
    bc_amount_choice c;

    for (i = 0; i < sizeof(prices) / sizeof(prices[0]); i++) {
        amount = 0;
        c = bc_body_amount(s, n, prices[i][0], prices[i][1], &amount);
        FUZZ_ASSERT(c == BC_AMOUNT_OK || c == BC_AMOUNT_BAD || c == BC_AMOUNT_BELOW_PRICE
                    || c == BC_AMOUNT_TOO_LARGE);
        FUZZ_ASSERT(strlen(bc_amount_choice_str(c)) > 0);
        if (c == BC_AMOUNT_OK) {
            /* the price itself when nothing was chosen (an offer's price
             * is at most 21 million BTC; UINT64_MAX tests the sums) */
            FUZZ_ASSERT(amount >= prices[i][0]);
            FUZZ_ASSERT(amount == prices[i][0]
                        || (amount <= bc_amount_max(prices[i][0], prices[i][1])
                            && amount <= BC_MAX_SATS));
            FUZZ_ASSERT(!(bc_body_field(s, n, "amount", &a, &alen)
                          && bc_body_field(s, n, "tip", &t, &tlen)));
        }
        FUZZ_ASSERT(bc_amount_max(prices[i][0], prices[i][1]) <= BC_MAX_SATS);
    }
}

static void
check_sats(const char *s, size_t n)
{
    uint64_t sats;
    char again[32];

    if (bc_body_sats(s, n, &sats)) {
        FUZZ_ASSERT(sats >= 1 && sats <= BC_MAX_SATS);
        snprintf(again, sizeof(again), "%llu", (unsigned long long) sats);
        FUZZ_ASSERT(strlen(again) == n && memcmp(again, s, n) == 0);
    }
}

static void
check_fields(const char *s, size_t n)
{
    static const char *const names[] = {
        "offer", "code", "amount", "key", "again", "max_auto_price", "tip", "custom",
    };
    const char *v, *o;
    size_t vlen, olen, i, k, start = 0;
    int json;

    while (start < n && memchr(" \t\r\n", s[start], 4) != NULL) {
        start++;
    }
    json = start < n && s[start] == '{';
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (!bc_body_field(s, n, names[i], &v, &vlen)) {
            continue;
        }
        FUZZ_ASSERT(v > s && v + vlen <= s + n && vlen > 0);
        for (k = 0; k < vlen; k++) {
            FUZZ_ASSERT(json ? v[k] != '\\' || v[-1] != '"' : v[k] != '%' && v[k] != '+'
                        && v[k] != '&');
        }
        if (!json) {
            FUZZ_ASSERT(v - s >= (ptrdiff_t) strlen(names[i]) + 1 && v[-1] == '='
                        && memcmp(v - 1 - strlen(names[i]), names[i], strlen(names[i])) == 0);
        }
        check_sats(v, vlen);
    }
    /* the code: decoded within its bound; a form value without '%' or
     * '+' is the field as bc_body_field finds it */
    {
        char out[BC_WALLET_CODE_INPUT_MAX + 1];
        size_t olen2 = 0;

        if (bc_body_code(s, n, out, sizeof(out), &olen2)) {
            FUZZ_ASSERT(olen2 >= 1 && olen2 <= sizeof(out));
            if (bc_body_field(s, n, "code", &v, &vlen)) {
                FUZZ_ASSERT(vlen == olen2 && memcmp(v, out, vlen) == 0);
            }
        }
    }
    /* the offer is the field "offer", a JSON string */
    if (bc_body_offer(s, n, &o, &olen)) {
        FUZZ_ASSERT(bc_body_field(s, n, "offer", &v, &vlen) && v == o && vlen == olen);
        FUZZ_ASSERT(!json || o[-1] == '"');
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[128];
    const char *v;
    size_t n, pos, i, vlen, cut;
    unsigned char hash[32] = { 0 };
    char *s = fuzz_string(data, size);

    if (s == NULL) {
        return 0;
    }
    n = size;
    check_route(s, n, "/bitcache", 9);
    check_route_path(s, n, "/bitcache", 9, BC_ROUTE_PRODUCT);
    check_route_path(s, n, "/bitcache", 9, BC_ROUTE_KEYS);
    check_amount(s, n);

    /* the first line as an API URL, the rest as a URI under it */
    for (cut = 0; cut < n && s[cut] != '\n'; cut++) { /* void */ }
    if (bc_api_url_check(s, cut, err, sizeof(err))) {
        FUZZ_ASSERT(cut >= 2 && cut <= BC_API_URL_MAX && s[0] == '/' && s[cut - 1] != '/');
        for (i = 0; i < cut; i++) {
            FUZZ_ASSERT(strchr("-._~/", s[i]) != NULL || (s[i] >= 'a' && s[i] <= 'z')
                        || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9'));
        }
        if (cut < n) {
            check_route(s + cut + 1, n - cut - 1, s, cut);
            check_route_path(s + cut + 1, n - cut - 1, s, cut, BC_ROUTE_PRODUCT);
            check_route_path(s + cut + 1, n - cut - 1, s, cut, BC_ROUTE_KEYS);
        }
    }

    if (bc_body_offer(s, n, &v, &vlen)) {
        FUZZ_ASSERT(v >= s && v + vlen <= s + n && vlen > 0);
    }

    check_fields(s, n);
    check_sats(s, n);
    if (bc_auth_bitcache(s, n, &v, &vlen)) {
        FUZZ_ASSERT(n >= 8 && strncasecmp(s, "Bitcache", 8) == 0 && v >= s + 8
                    && v + vlen <= s + n && (n == 8 || s[8] == ' ' || s[8] == '\t'));
        FUZZ_ASSERT(vlen == 0 || (v[0] != ' ' && v[0] != '\t' && v[vlen - 1] != ' '
                                  && v[vlen - 1] != '\t'));
    }

    pos = 0;
    while (bc_cookie_next(s, n, &pos, BC_CLAIM_COOKIE, &v, &vlen)) {
        FUZZ_ASSERT(v >= s && v + vlen <= s + n && pos <= n);
        FUZZ_ASSERT(memchr(v, ';', vlen) == NULL);
        (void) bc_claim_matches(hash, v, vlen);
    }
    (void) bc_claim_matches(hash, s, n);
    free(s);
    return 0;
}
