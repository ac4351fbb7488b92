/* Shared by the libFuzzer targets: the input as a NUL-terminated string. */
#ifndef BITCACHE_FUZZ_H
#define BITCACHE_FUZZ_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_MAX_INPUT 1024

/* A fresh heap copy, so that ASan sees reads past the end. NULL if too long. */
static char *
fuzz_string(const uint8_t *data, size_t size)
{
    char *s;

    if (size > FUZZ_MAX_INPUT || (s = malloc(size + 1)) == NULL) {
        return NULL;
    }
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* If text is a wallet, derive from it: a parsed wallet must not fail
 * anywhere later. Returns 1 if it parsed. */
#ifdef BITCACHE_WALLET_H
static int
fuzz_wallet(const char *text)
{
    char addr[BC_ADDRESS_MAX];
    unsigned char spk[BC_SPK_MAX];
    size_t spklen;
    const char *err = NULL;
    bc_wallet w;

    if (!bc_wallet_parse(&w, text, -1, &err)) {
        return 0;
    }
    (void) bc_wallet_derive(addr, sizeof(addr), spk, &spklen, &w, 1, 5, &err);
    return 1;
}
#endif

/* Splits s[0..size) at NUL bytes into field/value pairs as HGETALL gives
 * them (a Redis record, every byte a writer's); an odd last string is
 * dropped. Returns how many strings (even), at most max. */
static size_t
fuzz_split_kv(const char *s, size_t size, const char **kv, size_t *kvlen, size_t max)
{
    size_t i, n = 0, start = 0;

    for (i = 0; i <= size && n < max; i++) {
        if (i == size || s[i] == '\0') {
            kv[n] = s + start;
            kvlen[n] = i - start;
            n++;
            start = i + 1;
        }
    }
    return n & ~(size_t) 1;
}

/* A property that must hold for every input: crash so libFuzzer keeps it. */
#define FUZZ_ASSERT(cond) do { if (!(cond)) abort(); } while (0)

#endif
