/* bc_sealed_urls: the API and key route a sealed header names, and what
 * it refuses to turn into a URL. */
#include <string.h>

#include "sealed_url.h"
#include "tap.h"

static int
urls(const char *host, const char *product, char *api, char *keys, char *err)
{
    bc_sealed_header h;

    memset(&h, 0, sizeof(h));
    h.host_len = strlen(host);
    memcpy(h.host, host, h.host_len);
    h.product_len = strlen(product);
    memcpy(h.product, product, h.product_len);
    return bc_sealed_urls(&h, api, keys, err, 200);
}

int
main(void)
{
    static char api[BC_SEALED_API_MAX], keys[BC_SEALED_KEYS_MAX], big[1100];
    char err[200];
    static const char *bad_hosts[] = {
        "ftp://files.example/bitcache", "files.example/bitcache", "https://",
        "https:///bitcache", "https://user@evil.example/bitcache",
        "https://evil.example@files.example", "https://files.example/bitcache?x=1",
        "https://files.example/bitcache#frag", "https://files.example\\@evil/",
        "https://files.example/bit cache", "https://files.example/bit\x7f", "HTTP://x/",
        "https://files.example/a\"b", "https://files.example/<b>", "https://h/{x}",
    };
    size_t i;

    ok(urls("https://files.example/bitcache", "/films/a.mp4", api, keys, err), "a plain host");
    is_str(api, "https://files.example/bitcache", "its API");
    is_str(keys, "https://files.example/bitcache/keys/films/a.mp4", "its key route");

    ok(urls("http://[::1]:8080/shop/bitcache/", "/a b/%?#\"x\xc3\xa9", api, keys, err),
       "an IPv6 host with a port and a trailing '/'");
    is_str(api, "http://[::1]:8080/shop/bitcache", "the '/' dropped");
    is_str(keys, "http://[::1]:8080/shop/bitcache/keys/a%20b/%25%3F%23%22x%C3%A9",
           "the product percent-encoded: no query or fragment from it");

    ok(urls("http://h", "//evil.example/x", api, keys, err), "a product starting with //");
    is_str(keys, "http://h/keys/%2Fevil.example/x", "... stays a path on that host");
    ok(urls("http://h/path@at", "/x", api, keys, err), "'@' in the path is no user info");
    /* fuzz/sealed_url found: a quote is a URL character in the host (kept),
     * and encoded in the product */
    ok(urls("https://felis.examp'e/b", "/film,/a'", api, keys, err), "a quote in the host");
    is_str(keys, "https://felis.examp'e/b/keys/film%2C/a%27", "... the product's encoded");

    for (i = 0; i < sizeof(bad_hosts) / sizeof(bad_hosts[0]); i++) {
        ok(!urls(bad_hosts[i], "/x", api, keys, err), "refused host %zu: %s", i, err);
    }
    ok(!urls("https://files.example", "films/a.mp4", api, keys, err)
       && strstr(err, "not a path") != NULL, "a product that is not a path: %s", err);
    ok(!urls("https://files.example", "", api, keys, err), "an empty product");

    /* the longest fields fit */
    memset(big, '%', 1024);
    big[0] = '/';
    big[1024] = '\0';
    ok(urls("http://h", big, api, keys, err), "a 1024-byte product");
    ok(strlen(keys) == strlen("http://h/keys") + 1 + 3 * 1023, "... every byte encoded");
    memcpy(big, "http://", 7);
    memset(big + 7, 'a', 1017);
    ok(urls(big, big + 1000, api, keys, err) == 0, "(a product not starting with '/')");
    ok(urls(big, "/x", api, keys, err) && strlen(api) == 1024, "a 1024-byte host");
    return done_testing();
}
