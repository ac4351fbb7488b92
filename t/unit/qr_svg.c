/* libbitcache/qr_svg.c: structure of the SVG, and its path read back into
 * modules equals libqrencode's matrix (t/31-qr.t decodes real renderings). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qrencode.h>

#include "tap.h"
#include "qr_svg.h"

/* Reads the path's "M x y h n v1 h-n z" / "m dx 0 h n v1 h-n z" runs into a
 * size x size grid; returns 0 on anything unexpected. */
static int
path_to_grid(const char *d, unsigned char *grid, int size)
{
    int x = 0, y = 0, n, k, used;

    while (*d != '"') {
        if (sscanf(d, "M%d %d%n", &x, &y, &used) == 2) {
            d += used;
        } else if (sscanf(d, "m%d 0%n", &k, &used) == 1 && k > 0) {
            x += k;
            d += used;
        } else {
            return 0;
        }
        if (sscanf(d, "h%dv1h-%dz%n", &n, &k, &used) != 2 || n != k || n <= 0)
            return 0;
        d += used;
        if (x < 0 || y < 0 || x + n > size || y >= size)
            return 0;
        for (int i = 0; i < n; i++) {
            if (grid[y * size + x + i])
                return 0;       /* overlapping runs */
            grid[y * size + x + i] = 1;
        }
    }
    return 1;
}

static void
check(const char *text, const char *what)
{
    size_t need = bc_qr_svg(NULL, 0, text);
    char *svg = malloc(need + 1);
    QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    int size = qr->width + 8, same = 1, quiet = 1, vb = 0;
    unsigned char *grid = calloc((size_t) (size * size), 1);
    char want[128];
    const char *d;

    ok(need > 0 && bc_qr_svg(svg, need + 1, text) == need && strlen(svg) == need,
       "%s: %zu bytes", what, need);
    snprintf(want, sizeof(want), "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\"",
             size, size);
    ok(strncmp(svg, want, strlen(want)) == 0, "%s: viewBox of %d modules", what, size);
    ok(strstr(svg, " width=\"100%\" height=\"100%\"") && strstr(svg, " shape-rendering=\"crispEdges\"")
       && strstr(svg, " role=\"img\"") && strstr(svg, " aria-label=\""), "%s: attributes", what);
    snprintf(want, sizeof(want), "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>", size, size);
    ok(strstr(svg, want) != NULL, "%s: white background", what);
    d = strstr(svg, "<path fill=\"#000\" d=\"");
    ok(d && !strstr(d + 1, "<path") && strcmp(svg + need - 9, "\"/></svg>") == 0,
       "%s: one path, then the end", what);
    ok(!strchr(svg, '\n') && !strstr(svg, "<script") && !strstr(svg, "href"),
       "%s: one line, no script or links", what);
    vb = d && path_to_grid(d + strlen("<path fill=\"#000\" d=\""), grid, size);
    ok(vb, "%s: path parses", what);
    for (int y = 0; y < size; y++)
        for (int x = 0; x < size; x++) {
            int inside = x >= 4 && y >= 4 && x < size - 4 && y < size - 4;
            if (!inside && grid[y * size + x])
                quiet = 0;
            if (inside && grid[y * size + x] != (qr->data[(y - 4) * qr->width + x - 4] & 1))
                same = 0;
        }
    ok(quiet, "%s: 4-module quiet zone", what);
    ok(same, "%s: modules equal libqrencode's matrix (version %d)", what, qr->version);
    QRcode_free(qr);
    free(grid);
    free(svg);
}

int
main(void)
{
    char buf[64], *big;

    check("bitcoin:bcrt1q6rz28mcfaxtmd6v789l9rrlrusdprr9pz3cppk?amount=0.00012345",
          "regtest BIP21");
    check("bitcoin:bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297"
          "?amount=1.5&label=Caf%C3%A9%20%26%20Co&message=%3Cscript%3E%22x%22",
          "taproot, label and message");
    check("BITCOIN:BCRT1Q6RZ28MCFAXTMD6V789L9RRLRUSDPRR9PZ3CPPK?AMOUNT=0.001", "upper case");
    check("1", "one digit");

    ok(bc_qr_svg(NULL, 0, "x") > 300, "NULL, 0 returns the length needed");
    memset(buf, 'Z', sizeof(buf));
    ok(bc_qr_svg(buf, sizeof(buf), "x") > sizeof(buf) && strlen(buf) == sizeof(buf) - 1
       && strncmp(buf, "<svg ", 5) == 0, "cut output NUL-terminated");
    buf[0] = 'Z';
    ok(bc_qr_svg(buf, sizeof(buf), NULL) == 0 && buf[0] == '\0', "NULL text: 0 and \"\"");
    buf[0] = 'Z';
    ok(bc_qr_svg(buf, sizeof(buf), "") == 0 && buf[0] == '\0', "empty text: 0 and \"\"");
    big = malloc(3001);
    memset(big, 'a', 3000);
    big[3000] = '\0';
    buf[0] = 'Z';
    ok(bc_qr_svg(buf, sizeof(buf), big) == 0 && buf[0] == '\0',
       "3000 bytes (more than level M holds): 0");
    big[2000] = '\0';
    ok(bc_qr_svg(NULL, 0, big) > 0, "2000 bytes fit");
    free(big);
    return done_testing();
}
