/* bc_sealed_urls on any host and product (split at the input's first NUL
 * byte): what it accepts is an http(s) URL whose authority has no '@', the
 * key route is the API followed by "/keys/" and only printable ASCII with
 * no query, fragment, quote or space: nothing in a header can make the CLI
 * ask another host or path. */
#include "fuzz.h"

#include "sealed_url.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char api[BC_SEALED_API_MAX], keys[BC_SEALED_KEYS_MAX];
    const uint8_t *nul = memchr(data, 0, size);
    bc_sealed_header h;
    size_t hl = nul ? (size_t) (nul - data) : size, pl = nul ? size - hl - 1 : 0, i, n, s;
    char err[200];
    const char *slash;

    if (hl > BC_SEALED_FIELD_MAX || pl > BC_SEALED_FIELD_MAX) {
        return 0;
    }
    memset(&h, 0, sizeof(h));
    memcpy(h.host, data, hl);
    h.host_len = hl;
    if (nul) {
        memcpy(h.product, nul + 1, pl);
    }
    h.product_len = pl;
    if (!bc_sealed_urls(&h, api, keys, err, sizeof(err))) {
        FUZZ_ASSERT(err[0] != '\0');
        return 0;
    }
    n = strlen(api);
    FUZZ_ASSERT(n <= hl && memcmp(api, data, n) == 0);
    s = strncmp(api, "https://", 8) == 0 ? 8 : 7;
    FUZZ_ASSERT(strncmp(api, "http://", 7) == 0 || s == 8);
    FUZZ_ASSERT(n > s && api[s] != '/');
    slash = strchr(api + s, '/');
    FUZZ_ASSERT(memchr(api + s, '@', slash ? (size_t) (slash - api - s) : n - s) == NULL);
    FUZZ_ASSERT(strncmp(keys, api, n) == 0 && strncmp(keys + n, "/keys/", 6) == 0);
    FUZZ_ASSERT(strncmp(keys + n + 5, "//", 2) != 0);
    for (i = 0; keys[i]; i++) {
        unsigned char c = (unsigned char) keys[i];
        FUZZ_ASSERT(c > 0x20 && c < 0x7f && strchr("?#\" \\<>`{}|^", c) == NULL);
        FUZZ_ASSERT(i < n || c != '\'');       /* the product's quotes are encoded */
    }
    FUZZ_ASSERT(pl > 0 && h.product[0] == '/');
    return 0;
}
