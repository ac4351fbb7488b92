#include <stdio.h>
#include <string.h>

#include "bip21.h"

#define SATS_PER_BTC 100000000u

void
bc_format_btc(char out[BC_BTC_AMOUNT_MAX], uint64_t sats)
{
    char frac[9];
    int n;

    snprintf(frac, sizeof(frac), "%08u", (unsigned) (sats % SATS_PER_BTC));
    for (n = 8; n > 0 && frac[n - 1] == '0'; n--) {
        frac[n - 1] = '\0';
    }
    snprintf(out, BC_BTC_AMOUNT_MAX, "%llu%s%s", (unsigned long long) (sats / SATS_PER_BTC),
             n > 0 ? "." : "", frac);
}

static int
unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
           || c == '-' || c == '.' || c == '_' || c == '~';
}

/* Appends "sep name=value" with value percent-encoded; 0 when out is full. */
static int
add_param(char *out, size_t outlen, size_t *n, char *sep, const char *name, const char *value,
          int encode)
{
    static const char hexdig[] = "0123456789ABCDEF";
    size_t need = strlen(name) + 2;
    const unsigned char *p;

    if (*n + need >= outlen) {
        return 0;
    }
    *n += (size_t) snprintf(out + *n, outlen - *n, "%c%s=", *sep, name);
    *sep = '&';
    for (p = (const unsigned char *) value; *p; p++) {
        if (!encode || unreserved(*p)) {
            if (*n + 1 >= outlen) {
                return 0;
            }
            out[(*n)++] = (char) *p;
        } else {
            if (*n + 3 >= outlen) {
                return 0;
            }
            out[(*n)++] = '%';
            out[(*n)++] = hexdig[*p >> 4];
            out[(*n)++] = hexdig[*p & 15];
        }
    }
    out[*n] = '\0';
    return 1;
}

int
bc_bip21_uri(char *out, size_t outlen, const char *address, uint64_t sats,
             const char *label, const char *message)
{
    char amount[BC_BTC_AMOUNT_MAX], sep = '?';
    int r = snprintf(out, outlen, "bitcoin:%s", address);
    size_t n;

    if (r < 0 || (size_t) r >= outlen) {
        return 0;
    }
    n = (size_t) r;
    if (sats > 0) {
        bc_format_btc(amount, sats);
        if (!add_param(out, outlen, &n, &sep, "amount", amount, 0)) {
            return 0;
        }
    }
    if (label != NULL && *label && !add_param(out, outlen, &n, &sep, "label", label, 1)) {
        return 0;
    }
    if (message != NULL && *message
        && !add_param(out, outlen, &n, &sep, "message", message, 1))
    {
        return 0;
    }
    return 1;
}
