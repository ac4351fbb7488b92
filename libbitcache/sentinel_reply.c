#include "sentinel_reply.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

int
bc_sentinel_primary(const char *ip, size_t iplen, const char *port, size_t portlen,
    char out[BC_SENTINEL_IP_MAX + 1], unsigned *port_out, char *err, size_t errlen)
{
    unsigned char a[16];
    unsigned long n = 0;
    size_t i;

    if (iplen == 0 || iplen > BC_SENTINEL_IP_MAX || memchr(ip, '\0', iplen) != NULL) {
        snprintf(err, errlen, "not a numeric address");
        return 0;
    }
    memcpy(out, ip, iplen);
    out[iplen] = '\0';
    /* inet_pton: numeric only; a name would need a resolver, which blocks */
    if (inet_pton(AF_INET, out, a) != 1 && inet_pton(AF_INET6, out, a) != 1) {
        out[0] = '\0';
        snprintf(err, errlen, "not a numeric address");
        return 0;
    }
    if (portlen == 0 || portlen > 5 || port[0] == '0') {
        out[0] = '\0';
        snprintf(err, errlen, "not a port");
        return 0;
    }
    for (i = 0; i < portlen; i++) {
        if (port[i] < '0' || port[i] > '9') {
            out[0] = '\0';
            snprintf(err, errlen, "not a port");
            return 0;
        }
        n = n * 10 + (unsigned long) (port[i] - '0');
    }
    if (n > 65535) {
        out[0] = '\0';
        snprintf(err, errlen, "not a port");
        return 0;
    }
    *port_out = (unsigned) n;
    return 1;
}
