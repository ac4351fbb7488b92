/* QR codes as inline SVG, for the payment page's BIP21 link. */
#ifndef BITCACHE_QR_SVG_H
#define BITCACHE_QR_SVG_H

#include <stddef.h>

/* Writes the QR code of text (error correction level M, with a 4-module quiet
 * zone) as one compact <svg> element: a white background, the dark modules as
 * a single <path>, a viewBox in modules, width and height 100% (CSS sizes it),
 * shape-rendering="crispEdges", role="img" and an aria-label. Uses libqrencode.
 *
 * Like snprintf: writes at most outcap - 1 bytes and a NUL (out may be NULL
 * when outcap is 0) and returns the full length needed without the NUL; 0 if
 * text cannot be encoded (NULL, empty, or longer than a QR code holds). */
size_t bc_qr_svg(char *out, size_t outcap, const char *text);

#endif
