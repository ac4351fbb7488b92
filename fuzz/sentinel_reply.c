/* A sentinel's answer for the primary (bc_sentinel_primary): the input's
 * first NUL separates the address from the port, as the two strings of
 * the reply. No crash; an accepted address is numeric, reads back the
 * same and fits; a port is 1..65535 and spelt as sent. */
#include "fuzz.h"

#include <arpa/inet.h>

#include "sentinel_reply.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *) data, *nul;
    size_t iplen, portlen;
    char out[BC_SENTINEL_IP_MAX + 1], err[64], again[8];
    unsigned char a[16];
    unsigned port = 0;

    nul = memchr(s, '\0', size);
    iplen = nul ? (size_t) (nul - s) : size;
    portlen = nul ? size - iplen - 1 : 0;

    if (bc_sentinel_primary(s, iplen, nul ? nul + 1 : "", portlen, out, &port, err,
                            sizeof(err)))
    {
        FUZZ_ASSERT(strlen(out) == iplen && memcmp(out, s, iplen) == 0);
        FUZZ_ASSERT(inet_pton(AF_INET, out, a) == 1 || inet_pton(AF_INET6, out, a) == 1);
        FUZZ_ASSERT(port >= 1 && port <= 65535);
        snprintf(again, sizeof(again), "%u", port);
        FUZZ_ASSERT(strlen(again) == portlen && memcmp(again, nul + 1, portlen) == 0);
    } else {
        FUZZ_ASSERT(strlen(err) > 0);
    }
    return 0;
}
