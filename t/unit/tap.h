/* Minimal TAP producer for the C unit tests, read by prove. */
#ifndef BITCACHE_TAP_H
#define BITCACHE_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

#define ok(cond, ...) do {                                              \
        int ok_ = (cond) ? 1 : 0;                                       \
        tap_n++;                                                        \
        if (!ok_) tap_failed++;                                         \
        printf("%sok %d - ", ok_ ? "" : "not ", tap_n);                 \
        printf(__VA_ARGS__);                                            \
        printf("\n");                                                   \
        if (!ok_) printf("#   failed at %s line %d\n", __FILE__, __LINE__); \
    } while (0)

#define is_str(got, want, ...) do {                                     \
        const char *g_ = (got), *w_ = (want);                           \
        int same_ = g_ != NULL && w_ != NULL && strcmp(g_, w_) == 0;    \
        ok(same_, __VA_ARGS__);                                         \
        if (!same_) printf("#   got:      '%s'\n#   expected: '%s'\n",  \
                           g_ ? g_ : "(null)", w_ ? w_ : "(null)");     \
    } while (0)

#define diag(...) do { printf("# "); printf(__VA_ARGS__); printf("\n"); } while (0)

static int
done_testing(void)
{
    printf("1..%d\n", tap_n);
    return tap_failed ? 1 : 0;
}

#endif
