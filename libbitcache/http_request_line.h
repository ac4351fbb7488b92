/* The request line of a minimal HTTP/1.x responder (the watcher's metrics
 * endpoint): "METHOD SP target SP HTTP/1.d" ended by CRLF or a bare LF.
 * Outside input: the parser reads only buf[0..len), keeps nothing, and
 * refuses anything but that shape. */
#ifndef BITCACHE_HTTP_REQUEST_LINE_H
#define BITCACHE_HTTP_REQUEST_LINE_H

#include <stddef.h>

#define BC_HTTP_LINE_MAX   2048     /* longer without a line end: refused */
#define BC_HTTP_METHOD_MAX 16

typedef struct {
    const char *method;             /* inside buf, not NUL-terminated */
    size_t      method_len;
    const char *target;             /* origin-form: starts with '/' */
    size_t      target_len;
    const char *path;               /* target up to '?' */
    size_t      path_len;
    int         minor;              /* HTTP/1.minor: 0 or 1 */
} bc_http_request_line;

/* 1: a whole, valid line (its length with the line end in *used); 0: no
 * line end yet in fewer than BC_HTTP_LINE_MAX bytes, read more; -1: not a
 * request line (or too long). */
int bc_http_request_line_parse(bc_http_request_line *rl, const char *buf, size_t len,
    size_t *used);

/* The metrics responder's answer to a parsed line: 200 for GET of
 * want_path (any query), 405 for another method on it, 404 otherwise. */
int bc_http_metrics_status(const bc_http_request_line *rl, const char *want_path);

#endif
