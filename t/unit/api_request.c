/* The API's request parsing (libbitcache/api_request.c) and output
 * escaping (libbitcache/escape.c): exact routes, bitcache_api_url checks,
 * the offer in JSON and form bodies, cookies, claims, JSON and path
 * escaping; every crash the fuzz targets found is a case here. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "api_request.h"
#include "escape.h"
#include "tap.h"

static const char *ID = "00112233445566778899aabbccddeeff";

static bc_route
route(const char *uri, const char *api)
{
    unsigned char id[BC_INVOICE_ID_LEN];

    return bc_api_route(uri, strlen(uri), api, strlen(api), id);
}

static void
test_routes(void)
{
    char uri[256];
    unsigned char id[BC_INVOICE_ID_LEN];

    ok(route("/bitcache/invoices", "/bitcache") == BC_ROUTE_CREATE, "create");
    snprintf(uri, sizeof(uri), "/bitcache/invoices/%s", ID);
    ok(bc_api_route(uri, strlen(uri), "/bitcache", 9, id) == BC_ROUTE_STATUS
       && id[0] == 0x00 && id[15] == 0xff, "status, with the id");
    ok(route("/shop/api/invoices", "/shop/api") == BC_ROUTE_CREATE, "a deeper API URL");
    static const char *const none[] = {
        "/bitcache/x/invoices", "/bitcache/invoices/", "/bitcache/invoices/x",
        "/bitcache/invoicesx", "/bitcache//invoices", "/x/bitcache/invoices",
        "/bitcache/invoices/00112233445566778899AABBCCDDEEFF",
        "/bitcache/invoices/00112233445566778899aabbccddeeff/",
        "/bitcache/invoices/00112233445566778899aabbccddeeff0",
        "/bitcache/invoices/00112233445566778899aabbccddeef",
        "/bitcache/invoices/00112233445566778899aabbccddeeff/invoices",
        "/bitcache/invoices/g0112233445566778899aabbccddeeff",
        "/bitcache\r\nX-Injected: 1/invoices", "/bitcache", "/", "",
    };
    size_t i;
    for (i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
        ok(route(none[i], "/bitcache") == BC_ROUTE_NONE, "404: \"%s\"", none[i]);
    }
    ok(bc_api_route("/bitcache/invoices\0", 19, "/bitcache", 9, id) == BC_ROUTE_NONE,
       "a NUL after /invoices");

    static const struct { const char *uri; bc_route r; } wr[] = {
        { "/bitcache/wallets", BC_ROUTE_WALLETS },
        { "/bitcache/wallet", BC_ROUTE_WALLET },
        { "/bitcache/wallet/restore", BC_ROUTE_WALLET_RESTORE },
        { "/bitcache/wallet/forget", BC_ROUTE_WALLET_FORGET },
        { "/bitcache/wallet/history", BC_ROUTE_WALLET_HISTORY },
        { "/bitcache/wallet/topups", BC_ROUTE_WALLET_TOPUPS },
        { "/bitcache/wallet/buy", BC_ROUTE_WALLET_BUY },
        { "/bitcache/wallet/settings", BC_ROUTE_WALLET_SETTINGS },
        { "/shop/api/wallet/buy", BC_ROUTE_NONE },
        { "/bitcache/wallet/", BC_ROUTE_NONE },
        { "/bitcache/wallets/", BC_ROUTE_NONE },
        { "/bitcache/wallet/buy/", BC_ROUTE_NONE },
        { "/bitcache/wallet/Buy", BC_ROUTE_NONE },
        { "/bitcache/wallet/buyx", BC_ROUTE_NONE },
        { "/bitcache/walletx", BC_ROUTE_NONE },
        { "/bitcache/wallet//buy", BC_ROUTE_NONE },
        { "/bitcache/wallet/restore/x", BC_ROUTE_NONE },
        { "/bitcachewallet", BC_ROUTE_NONE },
        { "/bitcache/x/wallet", BC_ROUTE_NONE },
    };
    for (i = 0; i < sizeof(wr) / sizeof(wr[0]); i++) {
        ok(route(wr[i].uri, "/bitcache") == wr[i].r, "wallet route %s", wr[i].uri);
    }
    ok(route("/shop/api/wallet/buy", "/shop/api") == BC_ROUTE_WALLET_BUY, "under a deeper API URL");
    ok(bc_api_route("/bitcache/wallet\0", 17, "/bitcache", 9, id) == BC_ROUTE_NONE,
       "a NUL after /wallet");
}

static void
test_api_url(void)
{
    char err[128];
    static const char *const good[] = { "/bitcache", "/a", "/shop/api-v1/_x.~y", "/.well-known" };
    static const char *const bad[] = {
        "", "bitcache", "/", "/bitcache/", "/bit cache", "/bit\"cache", "/bit%41", "/a//b",
        "/a/./b", "/a/../b", "/..", "/a?b", "/a#b", "/a;b", "/a\r\nb", "/\xc3\xbc",
    };
    size_t i;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        ok(bc_api_url_check(good[i], strlen(good[i]), err, sizeof(err)), "api url %s", good[i]);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        ok(!bc_api_url_check(bad[i], strlen(bad[i]), err, sizeof(err)) && err[0],
           "api url refused (%s)", err);
    }
    memset(err, 'a', sizeof(err));
    err[0] = '/';
    ok(!bc_api_url_check(err, BC_API_URL_MAX + 1, err + 100, 20), "too long");
}

static int
offer(const char *body, const char *want)
{
    const char *o = NULL;
    size_t n = 0;
    int got = bc_body_offer(body, strlen(body), &o, &n);

    if (want == NULL) {
        return !got;
    }
    return got && n == strlen(want) && memcmp(o, want, n) == 0;
}

static void
test_offer(void)
{
    ok(offer("{\"offer\":\"AbC-_\"}", "AbC-_"), "JSON");
    ok(offer(" {\n \"a\" : [1, {\"offer\":\"no\"}, \"]\\\"\"], \"offer\" : \"X\" }", "X"),
       "JSON: nested values and strings skipped");
    ok(offer("{\"x\":{\"offer\":\"inner\"}}", NULL), "JSON: a nested offer is not the offer");
    ok(offer("{\"offer\":\"a\\\"b\"}", NULL), "JSON: escapes refused");
    ok(offer("{\"offer\":\"\"}", NULL), "JSON: empty refused");
    ok(offer("{\"offer\":1}", NULL), "JSON: not a string");
    ok(offer("{\"offer\":\"abc", NULL), "JSON: unterminated");
    ok(offer("{\"of\\u0066er\":\"x\"}", NULL), "JSON: escaped key not matched");
    ok(offer("{", NULL) && offer("{}", NULL) && offer("", NULL), "JSON: empty");
    ok(offer("offer=abc", "abc"), "form");
    ok(offer("x=1&offer=abc&y=2", "abc"), "form, among others");
    ok(offer("xoffer=abc", NULL), "form: another field");
    ok(offer("offer=", NULL), "form: empty");
}

static int
field(const char *body, const char *name, const char *want)
{
    const char *v = NULL;
    size_t n = 0;
    int got = bc_body_field(body, strlen(body), name, &v, &n);

    if (want == NULL) {
        return !got;
    }
    return got && n == strlen(want) && memcmp(v, want, n) == 0;
}

static int
code(const char *body, size_t max, const char *want)
{
    char out[160];
    size_t n = 0;
    int got = bc_body_code(body, strlen(body), out, max, &n);

    if (want == NULL) {
        return !got;
    }
    return got && n == strlen(want) && memcmp(out, want, n) == 0;
}

static void
test_code(void)
{
    ok(code("code=bcw1+qqqq-zzzz", 128, "bcw1 qqqq-zzzz"), "form: '+' is a space");
    ok(code("code=bcw1%20qqqq%2Dzz%2dzz", 128, "bcw1 qqqq-zz-zz"), "form: %%20, %%2D, %%2d");
    ok(code("x=1&code=a+b&y=2", 128, "a b"), "form: among others");
    ok(code("code=bcw1abc", 128, "bcw1abc"), "form: as sent when nothing to decode");
    ok(code("code=a%2", 128, NULL) && code("code=a%", 128, NULL), "form: '%%' without two digits");
    ok(code("code=a%zz", 128, NULL), "form: '%%' with no hex digits");
    ok(code("code=abcdef", 6, "abcdef") && code("code=abcdefg", 6, NULL), "form: at most max bytes");
    ok(code("code=a+b+c", 4, NULL), "form: decoded, still at most max");
    ok(code("code=", 128, NULL) && code("", 128, NULL) && code("xcode=a", 128, NULL), "form: none");
    ok(code("{\"code\":\"bcw1 qq-zz\"}", 128, "bcw1 qq-zz"), "JSON: as sent");
    ok(code("{\"code\":\"a+b%20\"}", 128, "a+b%20"), "JSON: not form-decoded");
    ok(code("{\"code\":\"abcdefg\"}", 6, NULL), "JSON: at most max bytes");
    ok(field("code=a+b", "code", NULL) && field("offer=a+b", "offer", NULL),
       "bc_body_field stays strict");
}

static void
test_field(void)
{
    ok(field("{\"amount\": 5000 }", "amount", "5000"), "JSON number as its text");
    ok(field("{\"amount\":\"5000\"}", "amount", "5000"), "JSON string");
    ok(field("{\"again\":true,\"x\":1}", "again", "true"), "JSON true");
    ok(field("{\"again\":false}", "again", "false"), "JSON false");
    ok(field("{\"again\":null}", "again", NULL), "JSON null refused");
    ok(field("{\"again\":nope}", "again", NULL), "JSON bare word refused");
    ok(field("{\"amount\":12 34}", "amount", NULL), "JSON junk after a number");
    ok(field("{\"amount\":[1]}", "amount", NULL), "JSON array refused");
    ok(field("{\"amount\":{\"a\":1}}", "amount", NULL), "JSON object refused");
    ok(field("{\"code\":\"bcw1\\u0041\"}", "code", NULL), "JSON escapes refused");
    ok(field("{\"a\":{\"code\":\"x\"},\"code\":\"y\"}", "code", "y"), "JSON top level only");
    ok(field("{\"code\":\"x\",\"code\":\"y\"}", "code", "x"), "JSON: the first one");
    ok(field("{\"amount\":-1}", "amount", "-1"), "JSON negative number as text (bc_body_sats refuses)");
    ok(field("{\"amount\":1", "amount", NULL), "JSON unterminated");
    ok(field("amount=5000&key=k1", "key", "k1") && field("amount=5000&key=k1", "amount", "5000"),
       "form fields");
    ok(field("code=bcw1-abc def", "code", "bcw1-abc def"), "form value as sent");
    ok(field("code=a%20b", "code", NULL) && field("code=a+b", "code", NULL), "form: '%%', '+' refused");
    ok(field("code=&code=x", "code", "x"), "form: an empty value is skipped");
    ok(field("xcode=1&codex=2", "code", NULL), "form: other names");
    ok(field("code", "code", NULL) && field("", "code", NULL), "form: no value");
    ok(field("a=1", "", NULL), "empty name");
}

static void
test_sats(void)
{
    uint64_t v = 0;
    static const char *const bad[] = {
        "", "0", "01", "-1", "+1", " 1", "1 ", "1.5", "1e3", "2100000000000001",
        "99999999999999999999999", "18446744073709551617", "abc",
    };
    size_t i;

    ok(bc_body_sats("1", 1, &v) && v == 1, "1 sat");
    ok(bc_body_sats("2100000000000000", 16, &v) && v == 2100000000000000ULL, "21e6 BTC");
    ok(bc_body_sats("5000", 4, &v) && v == 5000, "5000");
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ok(!bc_body_sats(bad[i], strlen(bad[i]), &v), "sats refused: \"%s\"", bad[i]);
    }
    ok(!bc_body_sats("1\0", 2, &v), "a NUL");
}

static int
auth(const char *h, const char *want)
{
    const char *c = NULL;
    size_t n = 0;
    int got = bc_auth_bitcache(h, strlen(h), &c, &n);

    if (want == NULL) {
        return !got;
    }
    return got && n == strlen(want) && memcmp(c, want, n) == 0;
}

static void
test_auth(void)
{
    ok(auth("Bitcache bcw1abc", "bcw1abc"), "Bitcache <code>");
    ok(auth("bitcache   bcw1abc  ", "bcw1abc"), "any case, spaces");
    ok(auth("BITCACHE\tbcw1 abc", "bcw1 abc"), "tab; the rest as it is");
    ok(auth("Bitcache", ""), "the scheme alone: an empty code (401, not another scheme)");
    ok(auth("Bearer xyz", NULL) && auth("Basic Yml0Y2FjaGU=", NULL), "other schemes");
    ok(auth("Bitcachex bcw1", NULL) && auth("Bitcach", NULL) && auth("", NULL), "not the scheme");
    ok(auth(" Bitcache bcw1", NULL), "a leading space");
}

static void
test_cookies(void)
{
    const char *h = "a=1; bitcache_claim=XYZ ;bitcache_claim2=no; bitcache_claim=second";
    const char *v;
    size_t pos = 0, n;

    ok(bc_cookie_next(h, strlen(h), &pos, "bitcache_claim", &v, &n) && n == 3
       && memcmp(v, "XYZ", 3) == 0, "first cookie, trimmed");
    ok(bc_cookie_next(h, strlen(h), &pos, "bitcache_claim", &v, &n) && n == 6
       && memcmp(v, "second", 6) == 0, "second one");
    ok(!bc_cookie_next(h, strlen(h), &pos, "bitcache_claim", &v, &n), "no more");
    pos = 0;
    ok(!bc_cookie_next("xbitcache_claim=1", 17, &pos, "bitcache_claim", &v, &n), "prefix");
    pos = 0;
    ok(bc_cookie_next("bitcache_claim=", 15, &pos, "bitcache_claim", &v, &n) && n == 0, "empty");
}

static void
test_escape(void)
{
    char out[256];
    size_t n;

    n = bc_json_escape(out, (const unsigned char *) "a\"b\\c\r\n</x>&'", 13);
    out[n] = '\0';
    is_str(out, "a\\\"b\\\\c\\u000d\\u000a\\u003c/x\\u003e\\u0026'", "JSON escapes");
    n = bc_json_escape(out, (const unsigned char *) "\xc3\xbc\xff\xc3\xe2\x80\xa8\xed\xa0\x80", 10);
    out[n] = '\0';
    is_str(out, "\xc3\xbc\\ufffd\\ufffd\\u2028\\ufffd\\ufffd\\ufffd",
           "valid UTF-8 kept, invalid bytes and surrogates replaced, U+2028 escaped");
    n = bc_path_escape(out, (const unsigned char *) "/files/a b;c,d\"e'%\r\n\xc3\xbc.pdf", 26);
    out[n] = '\0';
    is_str(out, "/files/a%20b%3Bc%2Cd%22e%27%25%0D%0A%C3%BC.pdf", "path escape");
    n = bc_path_escape(out, (const unsigned char *) "//evil.example//x", 17);
    out[n] = '\0';
    is_str(out, "/%2Fevil.example//x", "a path never starts with \"//\" (another host)");
    n = bc_log_escape(out, (const unsigned char *) "/x\n2026 [alert] \"\\\x1b[31m\xc3\xbc", 25);
    out[n] = '\0';
    is_str(out, "/x\\x0a2026 [alert] \\x22\\x5c\\x1b[31m\\xc3\\xbc",
           "log escape: no line break, quote, backslash or terminal escape");
}

/* bc_log_text: a server's words in a fixed buffer (sentinel and Redis
 * errors, the host's answers to `bitcache open`) */
static void
test_log_text(void)
{
    char buf[16], big[64];

    is_str(bc_log_text(buf, sizeof(buf), "ERR x", 5), "ERR x", "log text: short words as they are");
    is_str(bc_log_text(buf, sizeof(buf), "a\nb", 3), "a\\x0ab", "log text: a newline escaped");
    is_str(bc_log_text(buf, sizeof(buf), NULL, 7), "", "log text: no words");
    is_str(bc_log_text(buf, sizeof(buf), "abcdefghijklmnop", 16), "abcdefghijkl...",
           "log text: cut with ... where the rest would not fit");
    is_str(bc_log_text(big, sizeof(big), "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n"
                       "\r\n\r\n\r\n\r\n\r\n\r\n", 32),
           "\\x0d\\x0a\\x0d\\x0a\\x0d\\x0a\\x0d\\x0a\\x0d\\x0a\\x0d\\x0a\\x0d\\x0a\\x0d...",
           "log text: control bytes never overflow the buffer, none reaches the line whole");
    ok(strlen(big) < sizeof(big), "log text: NUL-terminated inside the buffer");
    memset(buf, 'x', sizeof(buf));
    is_str(bc_log_text(buf, 3, "ab", 2), "", "log text: a buffer under 4 bytes gets \"\"");
    ok(buf[1] == 'x' && buf[2] == 'x', "... and nothing past its NUL");
    is_str(bc_log_text(buf, 8, "abcdefg", 7), "abcdefg", "log text: 7 bytes fit 8 whole");
    is_str(bc_log_text(buf, 8, "abcdefgh", 8), "abcd...", "log text: 8 do not");
    ok(bc_error_word_len("ERR unknown command 'AUTH', with args beginning with: 'pw'", 58) == 3,
       "error word: ERR, not the quoted arguments");
    ok(bc_error_word_len("WRONGPASS", 9) == 9 && bc_error_word_len(NULL, 5) == 0,
       "error word: a single word, or none");
}

static void
test_claim(void)
{
    unsigned char claim[BC_CLAIM_LEN], hash[32];
    char enc[BC_CLAIM_CHARS + 1];

    memset(claim, 0x5a, sizeof(claim));
    ok(bc_claim_hash(hash, claim), "hash");
    bc_claim_encode(enc, claim);
    ok(strlen(enc) == BC_CLAIM_CHARS, "43 characters");
    ok(bc_claim_matches(hash, enc, strlen(enc)), "matches");
    enc[5] ^= 1;
    ok(!bc_claim_matches(hash, enc, strlen(enc)), "one character off: no");
    ok(!bc_claim_matches(hash, enc, 42), "short: no");
    ok(!bc_claim_matches(hash, "", 0), "empty: no");
}

/* docs/creators.md: the giveaway, the products route and the button */
static void
test_creator_routes(void)
{
    static const struct { const char *uri; bc_route r; } rt[] = {
        { "/bitcache/free", BC_ROUTE_FREE },
        { "/bitcache/button.js", BC_ROUTE_BUTTON },
        { "/bitcache/products/films/night.mp4", BC_ROUTE_PRODUCT },
        { "/bitcache/products/x", BC_ROUTE_PRODUCT },
        { "/bitcache/products/", BC_ROUTE_PRODUCT },        /* refused by the path check */
        { "/bitcache/products", BC_ROUTE_NONE },
        { "/bitcache/productsx/a", BC_ROUTE_NONE },
        { "/bitcache/free/", BC_ROUTE_NONE },
        { "/bitcache/freex", BC_ROUTE_NONE },
        { "/bitcache/button.jsx", BC_ROUTE_NONE },
        { "/bitcache/button", BC_ROUTE_NONE },
        { "/bitcache/Button.js", BC_ROUTE_NONE },
        { "/other/products/a", BC_ROUTE_NONE },
        { "/bitcache/x/products/a", BC_ROUTE_NONE },
    };
    size_t i;

    for (i = 0; i < sizeof(rt) / sizeof(rt[0]); i++) {
        ok(route(rt[i].uri, "/bitcache") == rt[i].r, "%s: route %d", rt[i].uri, (int) rt[i].r);
    }
    ok(route("/shop/api/products/a.pdf", "/shop/api") == BC_ROUTE_PRODUCT, "a deeper API URL");
}

static int
ppath(const char *uri, const char **p, size_t *plen)
{
    return bc_api_product_path(uri, strlen(uri), "/bitcache", 9, p, plen);
}

static void
test_product_path(void)
{
    static const char *const bad[] = {
        "/bitcache/products/", "/bitcache/products", "/bitcache/products//a",
        "/bitcache/products/a//b", "/bitcache/products/.", "/bitcache/products/..",
        "/bitcache/products/../etc/passwd", "/bitcache/products/a/../b",
        "/bitcache/products/a/./b", "/bitcache/products/a/..", "/bitcache/products/a/.",
        "/bitcache/products/a\rb", "/bitcache/products/a\nX-Injected: 1",
        "/bitcache/products/a\tb", "/bitcache/products/a\x7f", "/bitcache/productsa",
        "/other/products/a", "/bitcache/invoices/a", "/bitcache/products/a?bitcache_describe=1",
        "/bitcache/products/?", "/bitcache/products/a/%3F/?x",
    };
    const char *p;
    size_t plen, i;

    ok(ppath("/bitcache/products/films/night.mp4", &p, &plen) && plen == 16
       && memcmp(p, "/films/night.mp4", 16) == 0, "the file's path, its '/' included");
    ok(ppath("/bitcache/products/a", &p, &plen) && plen == 2 && memcmp(p, "/a", 2) == 0,
       "one letter");
    ok(ppath("/bitcache/products/.well/..a/a..", &p, &plen) && plen == 14,
       "dots inside names are names");
    ok(ppath("/bitcache/products/films/", &p, &plen) && plen == 7, "a directory");
    ok(ppath("/bitcache/products/caf\xc3\xa9 noir.pdf", &p, &plen) && plen == 15,
       "UTF-8 and spaces (decoded by nginx)");
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ok(!ppath(bad[i], &p, &plen), "refused: \"%s\"", bad[i]);
    }
    ok(!bc_api_product_path("/bitcache/products/a\0b", 21, "/bitcache", 9, &p, &plen),
       "a NUL");
}

/* docs/sealed.md: the key route and the opener's three paths */
static void
test_sealed_routes(void)
{
    static const struct { const char *uri; bc_route r; } rt[] = {
        { "/bitcache/keys/films/a.mp4", BC_ROUTE_KEYS },
        { "/bitcache/keys/", BC_ROUTE_KEYS },           /* refused by the path check */
        { "/bitcache/keys", BC_ROUTE_NONE },
        { "/bitcache/keysx/a", BC_ROUTE_NONE },
        { "/bitcache/open", BC_ROUTE_OPEN },
        { "/bitcache/open.js", BC_ROUTE_OPEN_JS },
        { "/bitcache/open-sw.js", BC_ROUTE_OPEN_SW },
        { "/bitcache/open/", BC_ROUTE_NONE },
        { "/bitcache/open/save/1/a.mp4", BC_ROUTE_NONE },   /* the worker's, never nginx's */
        { "/bitcache/Open", BC_ROUTE_NONE },
        { "/bitcache/open.jsx", BC_ROUTE_NONE },
        { "/other/keys/a", BC_ROUTE_NONE },
    };
    static const char *const bad[] = {
        "/bitcache/keys/", "/bitcache/keys//a", "/bitcache/keys/a/../b", "/bitcache/keys/..",
        "/bitcache/keys/a?x", "/bitcache/keys/a\nb", "/bitcache/products/a",
    };
    const char *p;
    size_t plen, i;

    for (i = 0; i < sizeof(rt) / sizeof(rt[0]); i++) {
        ok(route(rt[i].uri, "/bitcache") == rt[i].r, "%s: route %d", rt[i].uri, (int) rt[i].r);
    }
    ok(bc_api_keys_path("/bitcache/keys/films/a.mp4", 26, "/bitcache", 9, &p, &plen)
       && plen == 12 && memcmp(p, "/films/a.mp4", 12) == 0,
       "keys: the product's path, its '/' included");
    ok(bc_api_keys_path("/shop/api/keys/x", 16, "/shop/api", 9, &p, &plen) && plen == 2,
       "keys: a deeper API URL");
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ok(!bc_api_keys_path(bad[i], strlen(bad[i]), "/bitcache", 9, &p, &plen),
           "keys: refused \"%s\"", bad[i]);
    }
    ok(!bc_api_keys_path("/bitcache/keys/a\0b", 17, "/bitcache", 9, &p, &plen), "keys: a NUL");
}

static bc_amount_choice
amount(const char *body, uint64_t price, uint64_t suggested, uint64_t *out)
{
    *out = 424242;
    return bc_body_amount(body, strlen(body), price, suggested, out);
}

static void
test_amount(void)
{
    static const struct {
        const char *body;
        uint64_t price, suggested;
        bc_amount_choice want;
        uint64_t amount;
    } cases[] = {
        { "offer=abc", 5000, 0, BC_AMOUNT_OK, 5000 },
        { "{\"offer\":\"abc\"}", 5000, 12000, BC_AMOUNT_OK, 5000 },
        { "offer=abc&amount=12000", 5000, 12000, BC_AMOUNT_OK, 12000 },
        { "offer=abc&amount=5000", 5000, 12000, BC_AMOUNT_OK, 5000 },
        { "offer=abc&amount=4999", 5000, 12000, BC_AMOUNT_BELOW_PRICE, 0 },
        { "offer=abc&amount=0", 5000, 12000, BC_AMOUNT_BELOW_PRICE, 0 },
        { "offer=abc&amount=1200000", 5000, 12000, BC_AMOUNT_OK, 1200000 },
        { "offer=abc&amount=1200001", 5000, 12000, BC_AMOUNT_TOO_LARGE, 0 },
        { "offer=abc&amount=500001", 5000, 0, BC_AMOUNT_TOO_LARGE, 0 },
        { "offer=abc&amount=99999999999999999999999", 5000, 0, BC_AMOUNT_TOO_LARGE, 0 },
        { "offer=abc&amount=-1", 5000, 0, BC_AMOUNT_BAD, 0 },
        { "offer=abc&amount=", 5000, 0, BC_AMOUNT_BAD, 0 },
        { "offer=abc&amount=5e3", 5000, 0, BC_AMOUNT_BAD, 0 },
        { "offer=abc&amount=05000", 5000, 0, BC_AMOUNT_BAD, 0 },
        { "offer=abc&amount=5000.0", 5000, 0, BC_AMOUNT_BAD, 0 },
        { "offer=abc&amount=+5000", 5000, 0, BC_AMOUNT_BAD, 0 },
        { "offer=abc&amount=custom&custom=7000", 5000, 12000, BC_AMOUNT_OK, 7000 },
        { "offer=abc&amount=custom&custom=", 5000, 12000, BC_AMOUNT_BAD, 0 },
        { "offer=abc&amount=custom", 5000, 12000, BC_AMOUNT_BAD, 0 },
        { "offer=abc&amount=custom&custom=custom", 5000, 12000, BC_AMOUNT_BAD, 0 },
        { "offer=abc&amount=custom&custom=100", 5000, 12000, BC_AMOUNT_BELOW_PRICE, 0 },
        { "offer=abc&amount=12000&custom=1", 5000, 12000, BC_AMOUNT_OK, 12000 },
        { "offer=abc&tip=500", 5000, 0, BC_AMOUNT_OK, 5500 },
        { "offer=abc&tip=0", 5000, 0, BC_AMOUNT_OK, 5000 },
        { "offer=abc&tip=495000", 5000, 0, BC_AMOUNT_OK, 500000 },
        { "offer=abc&tip=495001", 5000, 0, BC_AMOUNT_TOO_LARGE, 0 },
        { "offer=abc&tip=2100000000000000", 5000, 0, BC_AMOUNT_TOO_LARGE, 0 },
        { "offer=abc&tip=custom&custom=1250", 5000, 0, BC_AMOUNT_OK, 6250 },
        { "offer=abc&tip=custom&custom=x", 5000, 0, BC_AMOUNT_BAD, 0 },
        { "offer=abc&tip=-100", 5000, 0, BC_AMOUNT_BAD, 0 },
        { "offer=abc&amount=6000&tip=100", 5000, 0, BC_AMOUNT_BAD, 0 },
        { "offer=abc&amount=6000&tip=", 5000, 0, BC_AMOUNT_BAD, 0 },
        { "{\"offer\":\"abc\",\"amount\":7000}", 5000, 0, BC_AMOUNT_OK, 7000 },
        { "{\"offer\":\"abc\",\"amount\":\"7000\"}", 5000, 0, BC_AMOUNT_OK, 7000 },
        { "{\"offer\":\"abc\",\"tip\":250}", 5000, 0, BC_AMOUNT_OK, 5250 },
        { "{\"offer\":\"abc\",\"amount\":7000.5}", 5000, 0, BC_AMOUNT_BAD, 0 },
        { "{\"offer\":\"abc\",\"amount\":-7000}", 5000, 0, BC_AMOUNT_BAD, 0 },
        { "{\"offer\":\"abc\",\"amount\":true}", 5000, 0, BC_AMOUNT_BAD, 0 },
        { "{\"offer\":\"abc\",\"amount\":\"custom\",\"custom\":8000}", 5000, 0,
          BC_AMOUNT_OK, 8000 },
        { "{\"offer\":\"abc\",\"amount\":7000,\"tip\":1}", 5000, 0, BC_AMOUNT_BAD, 0 },
        { "{\"offer\":\"abc\",\"amount\":\"7\\u0030\"}", 5000, 0, BC_AMOUNT_BAD, 0 },
        { "{\"offer\":\"abc\",\"tip\" : null}", 5000, 0, BC_AMOUNT_BAD, 0 },
        { "{\"offer\":\"abc\",\"x\":\"amount\"}", 5000, 0, BC_AMOUNT_OK, 5000 },
        { "offer=abc&amountx=1&xtip=2", 5000, 0, BC_AMOUNT_OK, 5000 },
        { "offer=abc&amount", 5000, 0, BC_AMOUNT_BAD, 0 },
        { "offer=abc&amount=%37000", 5000, 0, BC_AMOUNT_BAD, 0 },
        /* the largest prices: no overflow, at most 21 million BTC */
        { "offer=abc&tip=2100000000000000", 2100000000000000, 0, BC_AMOUNT_TOO_LARGE, 0 },
        { "offer=abc&tip=0", 2100000000000000, 0, BC_AMOUNT_OK, 2100000000000000 },
        { "offer=abc&tip=2100000000000000", UINT64_MAX - 5, 0, BC_AMOUNT_TOO_LARGE, 0 },
        { "offer=abc&tip=1", UINT64_MAX, 0, BC_AMOUNT_TOO_LARGE, 0 },
        { "offer=abc&amount=2100000000000000", 1, 0, BC_AMOUNT_TOO_LARGE, 0 },
        { "offer=abc&amount=2100000000000000", 21000000000000, 0, BC_AMOUNT_OK,
          2100000000000000 },
        { "offer=abc&amount=2100000000000000", 21000000000001, 0, BC_AMOUNT_OK,
          2100000000000000 },
    };
    uint64_t got;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bc_amount_choice c = amount(cases[i].body, cases[i].price, cases[i].suggested, &got);

        ok(c == cases[i].want && (c != BC_AMOUNT_OK || got == cases[i].amount),
           "%s (price %llu, suggested %llu): %s %llu", cases[i].body,
           (unsigned long long) cases[i].price, (unsigned long long) cases[i].suggested,
           bc_amount_choice_str(c), (unsigned long long) got);
    }
    ok(bc_amount_max(5000, 0) == 500000, "max: 100 x price");
    ok(bc_amount_max(5000, 12000) == 1200000, "max: 100 x suggested");
    ok(bc_amount_max(12000, 5000) == 1200000, "max: the larger");
    ok(bc_amount_max(2100000000000000, 0) == 2100000000000000, "max: 21 million BTC");
    ok(bc_amount_max(UINT64_MAX, UINT64_MAX) == 2100000000000000, "max: no overflow");
    ok(bc_amount_max(21000000000000, 0) == 2100000000000000, "max: exactly 21 million BTC");
    is_str(bc_amount_choice_str(BC_AMOUNT_BAD), "bad_amount", "bad_amount");
    is_str(bc_amount_choice_str(BC_AMOUNT_BELOW_PRICE), "amount_below_price",
           "amount_below_price");
    is_str(bc_amount_choice_str(BC_AMOUNT_TOO_LARGE), "amount_too_large", "amount_too_large");
}

int
main(void)
{
    test_routes();
    test_creator_routes();
    test_product_path();
    test_sealed_routes();
    test_amount();
    test_api_url();
    test_offer();
    test_field();
    test_code();
    test_sats();
    test_auth();
    test_cookies();
    test_escape();
    test_log_text();
    test_claim();
    return done_testing();
}
