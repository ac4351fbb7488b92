/* bitcache_cors_origins' values (libbitcache/cors.c): origins exactly as
 * browsers send them, and every near miss refused with a reason. */
#include <stdio.h>
#include <string.h>

#include "cors.h"
#include "tap.h"

static int
check(const char *s, char *err, size_t errlen)
{
    err[0] = '\0';
    return bc_cors_origin_check(s, strlen(s), err, errlen);
}

int
main(void)
{
    static const char *const good[] = {
        "https://creator.example", "http://creator.example", "https://shop.example:8443",
        "http://127.0.0.1", "http://127.0.0.1:8080", "https://[::1]", "https://[::1]:443",
        "https://[2001:db8::1]:65535", "https://a", "https://xn--caf-dma.example",
        "https://a-b.c-d.example", "http://localhost:1",
    };
    static const struct { const char *s, *err; } bad[] = {
        { "", "must start with http:// or https://" },
        { "*", "must start with http:// or https://" },
        { "creator.example", "must start with http:// or https://" },
        { "ftp://creator.example", "must start with http:// or https://" },
        { "HTTPS://creator.example", "must start with http:// or https://" },
        { "https:/creator.example", "must start with http:// or https://" },
        { "null", "must start with http:// or https://" },
        { "https://", "has no host, or a host that is not lower-case letters, digits, '-' and '.'" },
        { "https://.example", "has no host, or a host that is not lower-case letters, digits, '-' and '.'" },
        { "https://example.", "has no host, or a host that is not lower-case letters, digits, '-' and '.'" },
        { "https://-example", "has no host, or a host that is not lower-case letters, digits, '-' and '.'" },
        { "https://Creator.example", "has no host, or a host that is not lower-case letters, digits, '-' and '.'" },
        { "https://creator.example/", "has something after the host: no path, no trailing '/', lower-case host" },
        { "https://creator.example/shop", "has something after the host: no path, no trailing '/', lower-case host" },
        { "https://creAtor.example", "has something after the host: no path, no trailing '/', lower-case host" },
        { "https://user@creator.example", "has something after the host: no path, no trailing '/', lower-case host" },
        { "https://creator.example?x", "has something after the host: no path, no trailing '/', lower-case host" },
        { "https://creator.example\r\nX: 1", "has something after the host: no path, no trailing '/', lower-case host" },
        { "https://creator.example:", "has a bad port" },
        { "https://creator.example:0", "has a bad port" },
        { "https://creator.example:080", "has a bad port" },
        { "https://creator.example:65536", "has a bad port" },
        { "https://creator.example:123456", "has a bad port" },
        { "https://creator.example:80a", "has a bad port" },
        { "https://creator.example:-1", "has a bad port" },
        { "https://[]", "has a bad IPv6 literal" },
        { "https://[::1", "has a bad IPv6 literal" },
        { "https://[::g]", "has a bad IPv6 literal" },
        { "https://[::1]x", "has something after the host: no path, no trailing '/', lower-case host" },
    };
    char err[160];
    size_t i;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        ok(check(good[i], err, sizeof(err)), "accepted: %s (%s)", good[i], err);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ok(!check(bad[i].s, err, sizeof(err)), "refused: \"%s\"", bad[i].s);
        is_str(err, bad[i].err, "  says \"%s\"", bad[i].err);
    }
    ok(!bc_cors_origin_check("https://a\0b", 11, err, sizeof(err)), "a NUL in the host");
    ok(!bc_cors_origin_check("ftp://x", 7, err, 0), "refused with no room for a reason");
    ok(bc_cors_origin_check("https://creator.example/", 23, err, sizeof(err)),
       "the length given decides (no trailing '/')");
    return done_testing();
}
