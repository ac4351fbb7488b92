/* QR code SVG: see qr_svg.h. */
#include "qr_svg.h"

#include <stdio.h>
#include <qrencode.h>

#include "sbuf.h"

#define QUIET 4

static void
put_fmt(bc_sbuf *b, const char *fmt, int a, int c)
{
    char tmp[128];
    int n = snprintf(tmp, sizeof(tmp), fmt, a, c);

    if (n > 0 && (size_t) n < sizeof(tmp))
        bc_sbuf_put(b, tmp, (size_t) n);
}

size_t
bc_qr_svg(char *out, size_t outcap, const char *text)
{
    bc_sbuf b;
    QRcode *qr;
    int w, size;

    bc_sbuf_init(&b, out, outcap);
    if (text == NULL || text[0] == '\0') {
        bc_sbuf_end(&b);
        return 0;
    }
    /* QR_MODE_8 with case kept: libqrencode still packs runs of digits and
     * of upper-case alphanumerics in their denser modes */
    qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (qr == NULL) {
        bc_sbuf_end(&b);
        return 0;
    }
    w = qr->width;
    size = w + 2 * QUIET;

    put_fmt(&b, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\"", size, size);
    bc_sbuf_puts(&b, " width=\"100%\" height=\"100%\" shape-rendering=\"crispEdges\""
                     " role=\"img\" aria-label=\"QR code\">");
    put_fmt(&b, "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><path fill=\"#000\" d=\"",
            size, size);
    /* each run of dark modules is a 1-high rectangle; after "z" the pen is
     * back at the run's start, so the next run in the row is a relative "m" */
    for (int y = 0; y < w; y++) {
        const unsigned char *row = qr->data + (size_t) y * (size_t) w;
        int prev = -1;
        for (int x = 0; x < w;) {
            int n = 0;
            if (!(row[x] & 1)) {
                x++;
                continue;
            }
            while (x + n < w && (row[x + n] & 1))
                n++;
            if (prev < 0)
                put_fmt(&b, "M%d %d", x + QUIET, y + QUIET);
            else
                put_fmt(&b, "m%d 0", x - prev, 0);
            put_fmt(&b, "h%dv1h-%dz", n, n);
            prev = x;
            x += n;
        }
    }
    bc_sbuf_puts(&b, "\"/></svg>");
    QRcode_free(qr);
    return bc_sbuf_end(&b);
}
