/* bc_sentinel_primary: what a sentinel may name as the primary. */
#include <stdio.h>
#include <string.h>

#include "sentinel_reply.h"
#include "tap.h"

static int
primary(const char *ip, const char *port, char out[BC_SENTINEL_IP_MAX + 1], unsigned *p)
{
    char err[64];

    return bc_sentinel_primary(ip, strlen(ip), port, strlen(port), out, p, err, sizeof(err));
}

int
main(void)
{
    static const char *const bad_ip[] = {
        "", "redis.example", "localhost", "[::1]", "::1%eth0", "127.0.0.1 ", " 127.0.0.1",
        "127.0.0.1:6379", "256.1.1.1", "1.2.3", "0x7f.0.0.1",
        "1234:5678:9abc:def0:1234:5678:9abc:def0:1", "127.0.0.1\n",
        "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.2555",
    };
    static const char *const bad_port[] = {
        "", "0", "06379", "65536", "99999", "-1", "+6379", "6379 ", "63a9", "123456",
    };
    char out[BC_SENTINEL_IP_MAX + 1], err[64];
    unsigned port = 0;
    size_t i;

    ok(primary("127.0.0.1", "6379", out, &port) && strcmp(out, "127.0.0.1") == 0
       && port == 6379, "IPv4 and a port");
    ok(primary("::1", "1", out, &port) && strcmp(out, "::1") == 0 && port == 1, "IPv6, port 1");
    ok(primary("2001:db8::ffff:10.0.0.1", "65535", out, &port) && port == 65535,
       "IPv6 with a dotted tail, port 65535");
    ok(primary("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", "80", out, &port)
       && strlen(out) == 45, "the longest IPv6 spelling fits");
    for (i = 0; i < sizeof(bad_ip) / sizeof(bad_ip[0]); i++) {
        ok(!primary(bad_ip[i], "6379", out, &port), "refused address \"%s\"", bad_ip[i]);
    }
    for (i = 0; i < sizeof(bad_port) / sizeof(bad_port[0]); i++) {
        ok(!primary("10.0.0.1", bad_port[i], out, &port), "refused port \"%s\"", bad_port[i]);
    }
    ok(!bc_sentinel_primary("10.0.0.1\0x", 10, "6379", 4, out, &port, err, sizeof(err)),
       "a NUL inside the address");
    return done_testing();
}
