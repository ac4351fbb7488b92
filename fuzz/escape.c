/* Output escaping on any bytes: bc_json_escape stays within 6 bytes a
 * byte and gives valid UTF-8 with no quote, backslash (but escapes),
 * control byte or < > &; bc_path_escape stays within 3 bytes a byte
 * and gives only path characters, never starting with "//";
 * bc_log_escape stays within 4 bytes a byte and gives only printable
 * ASCII without '"'; bc_log_text stays in its buffer, whatever its size
 * (1 to 64), and gives the same text or its start and "..." ("" below 4). */
#include "fuzz.h"

#include "escape.h"

static int
valid_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0, k, len;
    unsigned char c;

    while (i < n) {
        c = s[i];
        len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (len == 0 || i + len > n || (len == 2 && c < 0xc2)) {
            return 0;
        }
        for (k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80) {
                return 0;
            }
        }
        i += len;
    }
    return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *out;
    size_t n, i;

    if (size > FUZZ_MAX_INPUT || (out = malloc(6 * size + 1)) == NULL) {
        return 0;
    }
    n = bc_json_escape(out, data, size);
    FUZZ_ASSERT(n <= 6 * size);
    FUZZ_ASSERT(valid_utf8((const unsigned char *) out, n));
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char) out[i];
        FUZZ_ASSERT(c >= 0x20 && c != 0x7f && c != '<' && c != '>' && c != '&' && c != '"');
        if (c == '\\') {
            FUZZ_ASSERT(i + 1 < n && strchr("\"\\u", out[i + 1]) != NULL);
            i++;
        }
    }
    n = bc_path_escape(out, data, size);
    FUZZ_ASSERT(n <= 3 * size);
    FUZZ_ASSERT(n < 2 || out[0] != '/' || out[1] != '/');
    for (i = 0; i < n; i++) {
        FUZZ_ASSERT(out[i] != 0 && strchr(" \t\r\n\";,'\\<>", out[i]) == NULL
                    && (unsigned char) out[i] > 0x20 && (unsigned char) out[i] < 0x7f);
    }
    n = bc_log_escape(out, data, size);
    FUZZ_ASSERT(n <= 4 * size);
    for (i = 0; i < n; i++) {
        FUZZ_ASSERT((unsigned char) out[i] >= 0x20 && (unsigned char) out[i] < 0x7f
                    && out[i] != '"');
    }
    {
        char buf[64];
        size_t cap = 1 + (size ? data[0] % sizeof(buf) : 0), len;

        memset(buf, 0x55, sizeof(buf));
        bc_log_text(buf, cap, data, size);
        len = strlen(buf);
        FUZZ_ASSERT(len < cap);
        for (i = cap; i < sizeof(buf); i++) {
            FUZZ_ASSERT(buf[i] == 0x55);
        }
        FUZZ_ASSERT(cap >= 4 || len == 0);
        FUZZ_ASSERT(cap < 4 || (len == n && memcmp(buf, out, n) == 0)
                    || (len >= 3 && len - 3 < n && memcmp(buf, out, len - 3) == 0
                        && memcmp(buf + len - 3, "...", 3) == 0));
        FUZZ_ASSERT(cap < 4 || len == n || n + 1 > cap);
    }
    free(out);
    return 0;
}
