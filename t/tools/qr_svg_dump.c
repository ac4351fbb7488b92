/* Test tool: prints bc_qr_svg(argv[1]), the inline SVG QR code of a text
 * (t/31-qr.t renders it with rsvg-convert and decodes it with zbarimg). */
#include <stdio.h>
#include <stdlib.h>

#include "qr_svg.h"

int
main(int argc, char **argv)
{
    size_t n;
    char *svg;

    if (argc != 2) {
        fprintf(stderr, "usage: qr_svg_dump TEXT\n");
        return 2;
    }
    n = bc_qr_svg(NULL, 0, argv[1]);
    if (n == 0 || (svg = malloc(n + 1)) == NULL) {
        fprintf(stderr, "qr_svg_dump: cannot encode that text\n");
        return 1;
    }
    bc_qr_svg(svg, n + 1, argv[1]);
    fwrite(svg, 1, n, stdout);
    putchar('\n');
    free(svg);
    return 0;
}
