/* If-Match / If-None-Match lists (bc_etag_list_match): no crash and no read
 * outside the header, whatever it holds; the first line is the ETag. A
 * list that is exactly the ETag always matches. */
#include "fuzz.h"

#include "conditional.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_string(data, size), *nl, *etag, *list;
    size_t elen, llen;
    int weak;

    if (s == NULL) {
        return 0;
    }
    nl = memchr(s, '\n', size);
    elen = nl ? (size_t) (nl - s) : size;
    llen = nl ? size - elen - 1 : 0;
    /* exact-size copies, so that ASan sees any read past either */
    etag = malloc(elen ? elen : 1);
    list = malloc(llen ? llen : 1);
    memcpy(etag, s, elen);
    if (llen) {
        memcpy(list, nl + 1, llen);
    }
    for (weak = 0; weak < 2; weak++) {
        (void) bc_etag_list_match(list, llen, etag, elen, weak);
        (void) bc_etag_list_match(list, llen, NULL, 0, weak);
        if (elen > 0 && (elen != 1 || etag[0] != '*')) {
            FUZZ_ASSERT(bc_etag_list_match(etag, elen, etag, elen, weak) == 1
                        || memchr(etag, ',', elen) != NULL);
        }
    }
    free(etag);
    free(list);
    free(s);
    return 0;
}
