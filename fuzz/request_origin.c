/* libFuzzer target: bc_request_cross_site on Origin / Sec-Fetch-Site /
 * Host values split from the input at NUL bytes (a missing part: absent). */
#include "fuzz.h"
#include "request_origin.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s, *part[3] = { NULL, NULL, NULL };
    size_t len[3] = { 0, 0, 0 }, i, n = 0, start = 0;
    int r1, r2;

    if ((s = fuzz_string(data, size)) == NULL) {
        return 0;
    }
    for (i = 0; i <= size && n < 3; i++) {
        if (i == size || s[i] == '\0') {
            /* each part its own heap copy: reads past it are caught */
            part[n] = malloc(i - start + 1);
            memcpy(part[n], s + start, i - start);
            part[n][i - start] = '\0';
            len[n++] = i - start;
            start = i + 1;
        }
    }
    r1 = bc_request_cross_site(part[0], len[0], part[1], len[1], part[2], len[2], 0);
    r2 = bc_request_cross_site(part[0], len[0], part[1], len[1], part[2], len[2], 1);
    /* a request without either header is never cross-site */
    if ((r1 != 0 && r1 != 1) || (r2 != 0 && r2 != 1)
        || bc_request_cross_site(NULL, 0, NULL, 0, part[2], len[2], 0) != 0)
    {
        abort();
    }
    for (i = 0; i < n; i++) {
        free(part[i]);
    }
    free(s);
    return 0;
}
