/* The watcher's metrics request line (libbitcache/http_request_line.c):
 * no read outside the input; a line that parses lies inside it, its parts
 * are what they claim (upper-case method, origin-form target of visible
 * bytes, HTTP/1.0 or 1.1) and spell the line back exactly; the answer is
 * one of 200, 404, 405. */
#include <stdio.h>

#include "fuzz.h"

#include "http_request_line.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bc_http_request_line rl;
    char *s, back[BC_HTTP_LINE_MAX + 64];
    size_t used, i, end;
    int rc, st;

    if ((s = fuzz_string(data, size)) == NULL) {
        return 0;
    }
    rc = bc_http_request_line_parse(&rl, s, size, &used);
    FUZZ_ASSERT(rc >= -1 && rc <= 1);
    if (rc == 0) {
        FUZZ_ASSERT(size < BC_HTTP_LINE_MAX && memchr(s, '\n', size) == NULL);
    }
    if (rc == 1) {
        FUZZ_ASSERT(used >= 1 && used <= size && s[used - 1] == '\n');
        FUZZ_ASSERT(rl.method == s && rl.method_len >= 1
                    && rl.method_len <= BC_HTTP_METHOD_MAX);
        for (i = 0; i < rl.method_len; i++) {
            FUZZ_ASSERT(rl.method[i] >= 'A' && rl.method[i] <= 'Z');
        }
        FUZZ_ASSERT(rl.target == s + rl.method_len + 1 && rl.target_len >= 1
                    && rl.target[0] == '/');
        for (i = 0; i < rl.target_len; i++) {
            FUZZ_ASSERT(rl.target[i] > 0x20 && rl.target[i] < 0x7f);
        }
        FUZZ_ASSERT(rl.path == rl.target && rl.path_len <= rl.target_len
                    && memchr(rl.path, '?', rl.path_len) == NULL);
        FUZZ_ASSERT(rl.minor == 0 || rl.minor == 1);
        end = (size_t) snprintf(back, sizeof(back), "%.*s %.*s HTTP/1.%d",
                                (int) rl.method_len, rl.method, (int) rl.target_len,
                                rl.target, rl.minor);
        FUZZ_ASSERT(end + 1 == used || (end + 2 == used && s[end] == '\r'));
        FUZZ_ASSERT(memcmp(back, s, end) == 0);
        st = bc_http_metrics_status(&rl, "/metrics");
        FUZZ_ASSERT(st == 200 || st == 404 || st == 405);
        FUZZ_ASSERT(st != 200 || (rl.path_len == 8 && memcmp(s, "GET ", 4) == 0));
    }
    free(s);
    return 0;
}
