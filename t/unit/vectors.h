/* Reads the tab-separated vector files that t/vectors/extract.pl writes.
 * Tests run from the repository root (prove); BITCACHE_VECTORS overrides
 * the directory. */
#ifndef BITCACHE_TEST_VECTORS_H
#define BITCACHE_TEST_VECTORS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VEC_MAX_FIELDS 8

__attribute__((unused)) static FILE *
vec_open(const char *name)
{
    const char *dir = getenv("BITCACHE_VECTORS");
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir ? dir : "t/vectors", name);
    if ((f = fopen(path, "r")) == NULL) {
        printf("Bail out! cannot open %s (run from the repository root)\n", path);
        exit(1);
    }
    return f;
}

/* \xNN escapes back to bytes, in place */
__attribute__((unused)) static void
vec_unescape(char *s)
{
    char *w = s;

    while (*s) {
        if (s[0] == '\\' && s[1] == 'x' && s[2] && s[3]) {
            char hex[3] = { s[2], s[3], 0 };

            *w++ = (char) strtol(hex, NULL, 16);
            s += 4;
        } else {
            *w++ = *s++;
        }
    }
    *w = '\0';
}

/* Next data line split at tabs (sep, e.g. "\t" or ","); returns the field
 * count, 0 at the end. The fields point into a static line buffer. */
__attribute__((unused)) static int
vec_next(FILE *f, char **fields, const char *sep)
{
    static char line[4096];
    int n;

    for (;;) {
        char *p;

        if (fgets(line, sizeof(line), f) == NULL) {
            fclose(f);
            return 0;
        }
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0') {
            continue;
        }
        n = 0;
        p = line;
        fields[n++] = p;
        while (n < VEC_MAX_FIELDS && (p = strpbrk(p, sep)) != NULL) {
            *p++ = '\0';
            fields[n++] = p;
        }
        return n;
    }
}

#endif
