/* The API's request parsers on any bytes: routes (under a fixed and under
 * an input-given API URL), bitcache_api_url checks, the offer in a body,
 * cookies and claims. Properties: a route that matches re-spells exactly
 * the input; an offer lies inside the body; a cookie value lies inside the
 * header and holds no ';'; an accepted API URL has only safe bytes. */
#include "fuzz.h"

#include "api_request.h"
#include "hex.h"

static void
check_route(const char *s, size_t n, const char *api, size_t apilen)
{
    unsigned char id[BC_INVOICE_ID_LEN];
    char again[BC_API_URL_MAX + 64], hex[2 * BC_INVOICE_ID_LEN + 1];
    bc_route r = bc_api_route(s, n, api, apilen, id);

    if (r == BC_ROUTE_CREATE) {
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
        }
    }

    if (bc_body_offer(s, n, &v, &vlen)) {
        FUZZ_ASSERT(v >= s && v + vlen <= s + n && vlen > 0);
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
