/* The watcher's metrics responder: its request line parser and what it
 * answers (libbitcache/http_request_line.c), and the Prometheus text it
 * writes (libbitcache/prom.c). */
#include <stdio.h>
#include <string.h>

#include "http_request_line.h"
#include "prom.h"
#include "tap.h"

static void
line_is(const char *in, int want_rc, int want_status)
{
    bc_http_request_line rl;
    size_t used;
    int rc = bc_http_request_line_parse(&rl, in, strlen(in), &used);
    int status = rc == 1 ? bc_http_metrics_status(&rl, "/metrics") : 0;

    char shown[48];
    size_t i;

    /* the name on one line: control bytes shown as '.' */
    for (i = 0; in[i] && i < sizeof(shown) - 1; i++) {
        shown[i] = (unsigned char) in[i] < 0x20 ? '.' : in[i];
    }
    shown[i] = '\0';
    ok(rc == want_rc && status == want_status, "\"%s\": %d, %d (got %d, %d)", shown,
       want_rc, want_status, rc, status);
}

int
main(void)
{
    bc_http_request_line rl;
    char big[BC_HTTP_LINE_MAX + 10], out[4096];
    bc_prom_hist h;
    bc_sbuf b;
    size_t used;

    line_is("GET /metrics HTTP/1.1\r\n", 1, 200);
    line_is("GET /metrics HTTP/1.0\n", 1, 200);                 /* a bare LF */
    line_is("GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\n\r\n", 1, 200);
    line_is("GET /metricsx HTTP/1.1\r\n", 1, 404);
    line_is("GET /metrics/ HTTP/1.1\r\n", 1, 404);
    line_is("GET / HTTP/1.1\r\n", 1, 404);
    line_is("POST /metrics HTTP/1.1\r\n", 1, 405);
    line_is("HEAD /metrics HTTP/1.1\r\n", 1, 405);
    line_is("GET /metrics HTTP/1.1", 0, 0);                     /* no end yet */
    line_is("", 0, 0);
    line_is("GET /metrics HTTP/2.0\r\n", -1, 0);
    line_is("GET /metrics HTTP/1.1 \r\n", -1, 0);
    line_is("GET  /metrics HTTP/1.1\r\n", -1, 0);
    line_is("get /metrics HTTP/1.1\r\n", -1, 0);
    line_is("GET metrics HTTP/1.1\r\n", -1, 0);                 /* not origin-form */
    line_is("GET http://a/metrics HTTP/1.1\r\n", -1, 0);
    line_is("GET /met\x01rics HTTP/1.1\r\n", -1, 0);
    line_is("GET /metrics\r\n", -1, 0);                         /* HTTP/0.9 */
    line_is("\r\n", -1, 0);
    line_is("ABCDEFGHIJKLMNOPQ /metrics HTTP/1.1\r\n", -1, 0);  /* method of 17 */

    ok(bc_http_request_line_parse(&rl, "GET /m?q HTTP/1.1\r\nX", 20, &used) == 1
       && used == 19 && rl.target_len == 4 && rl.path_len == 2 && rl.minor == 1,
       "used counts the CRLF; the path stops at '?'");
    memset(big, 'a', sizeof(big));
    memcpy(big, "GET /", 5);
    ok(bc_http_request_line_parse(&rl, big, BC_HTTP_LINE_MAX - 1, &used) == 0,
       "a long line without its end yet: read more");
    ok(bc_http_request_line_parse(&rl, big, sizeof(big), &used) == -1,
       "BC_HTTP_LINE_MAX bytes without a line end: refused");

    memset(&h, 0, sizeof(h));
    bc_prom_observe(&h, 0.0005);
    bc_prom_observe(&h, 0.003);
    bc_prom_observe(&h, 0.003);
    bc_prom_observe(&h, 60);
    bc_sbuf_init(&b, out, sizeof(out));
    bc_prom_family(&b, "x_total", "counter", "Things.");
    bc_prom_u64(&b, "x_total", "a=\"b\"", 7);
    bc_prom_hist_write(&b, "lat_seconds", "Latency.", &h);
    bc_sbuf_end(&b);
    ok(strstr(out, "# HELP x_total Things.\n# TYPE x_total counter\nx_total{a=\"b\"} 7\n")
       != NULL, "a counter's family and sample");
    ok(strstr(out, "lat_seconds_bucket{le=\"0.001\"} 1\n") != NULL
       && strstr(out, "lat_seconds_bucket{le=\"0.005\"} 3\n") != NULL
       && strstr(out, "lat_seconds_bucket{le=\"10\"} 3\n") != NULL
       && strstr(out, "lat_seconds_bucket{le=\"+Inf\"} 4\n") != NULL
       && strstr(out, "lat_seconds_count 4\n") != NULL
       && strstr(out, "lat_seconds_sum 60.006500\n") != NULL,
       "a histogram's buckets are cumulative, +Inf is the count, the sum in seconds");
    if (!strstr(out, "lat_seconds_count 4\n")) diag("%s", out);
    return done_testing();
}
