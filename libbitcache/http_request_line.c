/* The request line of the watcher's metrics responder (http_request_line.h). */
#include <string.h>

#include "http_request_line.h"

/* a target's byte: visible ASCII (RFC 9112 leaves the rest to be refused) */
static int
target_byte(unsigned char c)
{
    return c > 0x20 && c < 0x7f;
}

static int
parse_line(bc_http_request_line *rl, const char *p, size_t n)
{
    size_t i = 0, start;

    while (i < n && p[i] >= 'A' && p[i] <= 'Z') i++;
    if (i == 0 || i > BC_HTTP_METHOD_MAX || i >= n || p[i] != ' ') return -1;
    rl->method = p;
    rl->method_len = i++;

    start = i;
    if (i >= n || p[i] != '/') return -1;
    while (i < n && target_byte((unsigned char) p[i])) i++;
    if (i >= n || p[i] != ' ') return -1;
    rl->target = p + start;
    rl->target_len = i - start;
    rl->path = rl->target;
    rl->path_len = rl->target_len;
    for (start = 0; start < rl->target_len; start++) {
        if (rl->target[start] == '?') {
            rl->path_len = start;
            break;
        }
    }
    i++;

    if (n - i != 8 || memcmp(p + i, "HTTP/1.", 7) != 0
        || (p[i + 7] != '0' && p[i + 7] != '1'))
    {
        return -1;
    }
    rl->minor = p[i + 7] - '0';
    return 1;
}

int
bc_http_request_line_parse(bc_http_request_line *rl, const char *buf, size_t len,
    size_t *used)
{
    const char *lf;
    size_t n;

    memset(rl, 0, sizeof(*rl));
    *used = 0;
    lf = memchr(buf, '\n', len < BC_HTTP_LINE_MAX ? len : BC_HTTP_LINE_MAX);
    if (lf == NULL) {
        return len < BC_HTTP_LINE_MAX ? 0 : -1;
    }
    n = (size_t) (lf - buf);
    if (n > 0 && buf[n - 1] == '\r') n--;
    if (parse_line(rl, buf, n) != 1) {
        memset(rl, 0, sizeof(*rl));
        return -1;
    }
    *used = (size_t) (lf - buf) + 1;
    return 1;
}

int
bc_http_metrics_status(const bc_http_request_line *rl, const char *want_path)
{
    size_t wl = strlen(want_path);

    if (rl->path_len != wl || memcmp(rl->path, want_path, wl) != 0) {
        return 404;
    }
    return rl->method_len == 3 && memcmp(rl->method, "GET", 3) == 0 ? 200 : 405;
}
