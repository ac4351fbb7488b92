/* The answer of a Redis Sentinel to SENTINEL get-master-addr-by-name: the
 * primary's address and port, two strings of a server that may lie or be
 * someone else's. Read by the module's workers (which must never resolve
 * a name: it would block) and by the CLI and watcher alike. */
#ifndef BITCACHE_SENTINEL_REPLY_H
#define BITCACHE_SENTINEL_REPLY_H

#include <stddef.h>

#define BC_SENTINEL_IP_MAX  45      /* INET6_ADDRSTRLEN - 1 */

/* 1 if ip[0..iplen) is a numeric IPv4 or IPv6 address (no name, no zone,
 * no brackets) and port[0..portlen) a decimal port 1..65535 without sign
 * or leading zero: the address is copied NUL-terminated into out and the
 * port into *port_out. Else 0 and a reason in err. */
int bc_sentinel_primary(const char *ip, size_t iplen, const char *port, size_t portlen,
    char out[BC_SENTINEL_IP_MAX + 1], unsigned *port_out, char *err, size_t errlen);

#endif
