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

/* A property that must hold for every input: crash so libFuzzer keeps it. */
#define FUZZ_ASSERT(cond) do { if (!(cond)) abort(); } while (0)

#endif
