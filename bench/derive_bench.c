/* Addresses per second for one wallet on one core: what an invoice costs in
 * derivation. Usage: derive_bench KEY [SECONDS] -> "derive_per_sec=N". */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "address.h"
#include "wallet.h"

static double
now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
    bc_wallet w;
    const char *err = NULL;
    double seconds = argc > 2 ? atof(argv[2]) : 3.0, start, elapsed;
    unsigned long n = 0;
    unsigned char spk[BC_SPK_MAX];
    size_t spklen;
    char addr[BC_ADDRESS_MAX];

    if (argc < 2 || !bc_wallet_parse(&w, argv[1], -1, &err)) {
        fprintf(stderr, "usage: derive_bench KEY [SECONDS]%s%s\n", err ? ": " : "", err ? err : "");
        return 2;
    }
    start = now();
    do {
        int i;

        for (i = 0; i < 1000; i++, n++) {
            if (!bc_wallet_derive(addr, sizeof(addr), spk, &spklen, &w, 0, (uint32_t) n, &err)) {
                fprintf(stderr, "index %lu: %s\n", n, err);
            }
        }
        elapsed = now() - start;
    } while (elapsed < seconds);
    printf("derive_per_sec=%.0f\n", (double) n / elapsed);
    return 0;
}
