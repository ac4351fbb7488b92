/* bc_cors_origin_check: the origins bitcache_cors_origins accepts, written
 * as browsers send them in Origin (RFC 6454 section 6.1). */
#include <string.h>

#include "tap.h"
#include "cors.h"

#define S(x) (x), strlen(x)

static int
good(const char *s)
{
    char err[128] = "";

    return bc_cors_origin_check(S(s), err, sizeof(err)) == 1 && err[0] == '\0';
}

static int
bad(const char *s, const char *why)
{
    char err[128] = "";

    return bc_cors_origin_check(S(s), err, sizeof(err)) == 0
           && strstr(err, why) != NULL;
}

int
main(void)
{
    char err[4];

    ok(good("https://creator.example"), "https and a name");
    ok(good("http://creator.example"), "http");
    ok(good("https://shop.example:8443"), "a port");
    ok(good("http://127.0.0.1:8080"), "an IPv4 literal and a port");
    ok(good("http://[::1]:8080"), "an IPv6 literal in brackets");
    ok(good("https://[2001:db8::1]"), "an IPv6 literal, no port");
    ok(good("https://xn--bcher-kva.example"), "a punycode name (as browsers send it)");
    ok(good("https://a:65535"), "the highest port");
    ok(good("https://a:1"), "the lowest port");

    ok(bad("ftp://creator.example", "http://"), "another scheme");
    ok(bad("HTTPS://creator.example", "http://"), "an upper-case scheme");
    ok(bad("https:/creator.example", "http://"), "one slash");
    ok(bad("creator.example", "http://"), "no scheme");
    ok(bad("null", "http://"), "null");
    ok(bad("", "http://"), "empty");
    ok(bad("https://", "no host"), "no host");
    ok(bad("https://Creator.example", "no host"), "an upper-case host");
    ok(bad("https://creator.example/", "after the host"), "a trailing slash");
    ok(bad("https://creator.example/shop", "after the host"), "a path");
    ok(bad("https://creator.example?x", "after the host"), "a query");
    ok(bad("https://creator.example#x", "after the host"), "a fragment");
    ok(bad("https://user@creator.example", "after the host"), "user info");
    ok(bad("https://.creator.example", "no host"), "a leading dot");
    ok(bad("https://creator.example.", "no host"), "a trailing dot");
    ok(bad("https://-creator.example", "no host"), "a leading dash");
    ok(bad("https://creator example", "after the host"), "a space");
    ok(bad("https://creator.example:", "port"), "an empty port");
    ok(bad("https://creator.example:0", "port"), "port 0");
    ok(bad("https://creator.example:080", "port"), "a leading zero");
    ok(bad("https://creator.example:65536", "port"), "a port above 65535");
    ok(bad("https://creator.example:123456", "port"), "six digits");
    ok(bad("https://creator.example:8a", "port"), "a letter in the port");
    ok(bad("https://creator.example:+80", "port"), "a sign");
    ok(bad("https://[]", "IPv6"), "empty brackets");
    ok(bad("https://[::1", "IPv6"), "an open bracket");
    ok(bad("https://[::G]", "IPv6"), "a bad byte in brackets");
    ok(bad("https://[::1]x", "after the host"), "something after the brackets");

    /* a NUL inside is a byte like any other: never accepted */
    ok(bc_cors_origin_check("https://a\0b", 11, NULL, 0) == 0, "a NUL inside");
    ok(bc_cors_origin_check("https://ab", 9, NULL, 0) == 1,
       "only len bytes are read");

    /* the reason fits any buffer, and none at all */
    ok(bc_cors_origin_check(S("x"), NULL, 0) == 0, "no buffer for the reason");
    memset(err, 'x', sizeof(err));
    ok(bc_cors_origin_check(S("x"), err, sizeof(err)) == 0
       && err[sizeof(err) - 1] == '\0', "a short buffer: cut, terminated");

    return done_testing();
}
