/* What a GET for a file sends, given its Range header: the arithmetic of
 * nginx's range filter (nginx 1.22, ngx_http_range_filter_module.c),
 * written again without nginx so that the access phase can draw the
 * bytes before the static handler runs, and so that it can be unit
 * tested and fuzzed.
 *
 * Only the header and the file's size are known in the access phase;
 * If-Range (compared with the response's ETag) is not looked at: a range
 * whose If-Range no longer matches is answered 200 by nginx, and the
 * module's header filter then sends no body (it would exceed the draw). */
#ifndef BITCACHE_RANGE_H
#define BITCACHE_RANGE_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int       status;   /* 200 (the whole file), 206 or 416 */
    unsigned  parts;    /* ranges sent: 1 for 200, 1.. for 206, 0 for 416 */
    int64_t   bytes;    /* bytes of the file in the body */
    int64_t   start;    /* where a one-part body starts in the file (0 for
                           200); -1 for multipart and 416 */
} bc_range_plan;

/* The plan for a GET of a file of size bytes (>= 0). range is the Range
 * header's value (NULL or len 0 when there is none; the value ends at len
 * or at a NUL, like nginx's NUL-terminated header); max_ranges is the
 * location's max_ranges (nginx's default is unlimited: pass UINT32_MAX). */
void bc_range_plan_get(bc_range_plan *p, const char *range, size_t len,
    int64_t size, uint32_t max_ranges);

#endif
