/* The Range arithmetic of the access phase: what nginx's range filter
 * sends for a header and a file size (each case checked by hand against
 * nginx 1.22's range filter; t/15-bytes.t checks some through real nginx). */
#include <stdint.h>
#include <string.h>

#include "range.h"
#include "tap.h"

#define ALL UINT32_MAX

static void
plan_is(const char *hdr, int64_t size, uint32_t max, int status, unsigned parts,
    int64_t bytes)
{
    bc_range_plan p;

    bc_range_plan_get(&p, hdr, hdr ? strlen(hdr) : 0, size, max);
    ok(p.status == status && p.parts == parts && p.bytes == bytes,
       "\"%s\" of %lld (max %u): %d, %u parts, %lld bytes (got %d, %u, %lld)",
       hdr ? hdr : "(none)", (long long) size, (unsigned) max, status, parts,
       (long long) bytes, p.status, p.parts, (long long) p.bytes);
}

int
main(void)
{
    bc_range_plan p;

    /* no range, or not a byte range: the whole file */
    plan_is(NULL, 1000, ALL, 200, 1, 1000);
    plan_is("", 1000, ALL, 200, 1, 1000);
    plan_is("bytes=", 1000, ALL, 200, 1, 1000);          /* shorter than 7 */
    plan_is("items=0-1", 1000, ALL, 200, 1, 1000);
    plan_is("bytes\x1d" "0-1", 1000, ALL, 200, 1, 1000); /* '=' only as '=' */
    plan_is("BYTES=0-9", 1000, ALL, 206, 1, 10);         /* case-insensitive */

    /* one range */
    plan_is("bytes=0-", 1000, ALL, 206, 1, 1000);
    plan_is("bytes=1-", 1000, ALL, 206, 1, 999);
    plan_is("bytes=0-0", 1000, ALL, 206, 1, 1);
    plan_is("bytes=100-199", 1000, ALL, 206, 1, 100);
    plan_is("bytes=900-5000", 1000, ALL, 206, 1, 100);   /* end clipped */
    plan_is("bytes=-100", 1000, ALL, 206, 1, 100);
    plan_is("bytes=-5000", 1000, ALL, 206, 1, 1000);
    plan_is("bytes= 5 - 9 ", 1000, ALL, 206, 1, 5);      /* spaces allowed */
    plan_is("bytes=999-", 1000, ALL, 206, 1, 1);

    /* unsatisfiable: nothing sent */
    plan_is("bytes=1000-", 1000, ALL, 416, 0, 0);
    plan_is("bytes=10-5", 1000, ALL, 416, 0, 0);
    plan_is("bytes=-0", 1000, ALL, 416, 0, 0);
    plan_is("bytes=abc", 1000, ALL, 416, 0, 0);
    plan_is("bytes=5", 1000, ALL, 416, 0, 0);
    plan_is("bytes=1-2x", 1000, ALL, 416, 0, 0);
    plan_is("bytes=--1", 1000, ALL, 416, 0, 0);
    plan_is("bytes=1-,", 1000, ALL, 416, 0, 0);          /* empty second range */
    plan_is("bytes=99999999999999999999-", 1000, ALL, 416, 0, 0);   /* overflow */
    plan_is("bytes=0-99999999999999999999", 1000, ALL, 416, 0, 0);
    plan_is("bytes=9223372036854775807-", 1000, ALL, 416, 0, 0);

    /* several ranges: their sum, unless they add up past the file */
    plan_is("bytes=0-9,20-29", 1000, ALL, 206, 2, 20);
    plan_is("bytes=0-9, 20-29 ,-5", 1000, ALL, 206, 3, 25);
    plan_is("bytes=0-499,500-", 1000, ALL, 206, 2, 1000);
    plan_is("bytes=0-999,0-", 1000, ALL, 200, 1, 1000);  /* overlap: the file */
    plan_is("bytes=1-,1-", 1000, ALL, 200, 1, 1000);
    plan_is("bytes=5000-,0-9", 1000, ALL, 206, 1, 10);   /* unsatisfiable part dropped */
    plan_is("bytes=10-5,0-9", 1000, ALL, 206, 1, 10);
    plan_is("bytes=0-9,x", 1000, ALL, 416, 0, 0);        /* any bad part: 416 */

    /* max_ranges */
    plan_is("bytes=0-9", 1000, 0, 200, 1, 1000);          /* max_ranges 0: no ranges */
    plan_is("bytes=0-9,20-29", 1000, 1, 200, 1, 1000);    /* one too many: the file */
    plan_is("bytes=0-9,20-29", 1000, 2, 206, 2, 20);
    plan_is("bytes=0-9,20-29,40-49", 1000, 2, 200, 1, 1000);

    /* an empty file: nginx declines ranges from 0 */
    plan_is("bytes=0-", 0, ALL, 200, 1, 0);
    plan_is("bytes=-5", 0, ALL, 200, 1, 0);
    plan_is("bytes=5-", 0, ALL, 416, 0, 0);

    /* the header ends at len, or at a NUL like nginx's */
    bc_range_plan_get(&p, "bytes=0-9,20-29", 9, 1000, ALL);
    ok(p.status == 206 && p.bytes == 10 && p.start == 0, "ends at len");
    bc_range_plan_get(&p, "bytes=0-9\0,20-29", 16, 1000, ALL);
    ok(p.status == 206 && p.bytes == 10, "ends at a NUL");
    /* found by fuzz/range.c: a NUL right after "bytes=" makes it too short */
    bc_range_plan_get(&p, "bytes=\0\0\x13\x88\xff" "bytes1\0\0x", 16, 5000, ALL);
    ok(p.status == 200 && p.bytes == 5000, "\"bytes=\" then NUL: the whole file");

    /* the largest sizes do not overflow */
    plan_is("bytes=0-", INT64_MAX, ALL, 206, 1, INT64_MAX);
    plan_is("bytes=0-,1-", INT64_MAX, ALL, 416, 0, 0);    /* the sum overflows */
    /* where a one-part body starts */
    bc_range_plan_get(&p, "bytes=100-199", 13, 1000, ALL);
    ok(p.start == 100, "a range starts at its first byte");
    bc_range_plan_get(&p, "bytes=-10", 9, 1000, ALL);
    ok(p.start == 990, "a suffix range at size - N");
    bc_range_plan_get(&p, "bytes=5000-,20-29", 17, 1000, ALL);
    ok(p.start == 20, "the one satisfiable part");
    bc_range_plan_get(&p, NULL, 0, 1000, ALL);
    ok(p.start == 0, "the whole file from 0");
    bc_range_plan_get(&p, "bytes=0-9,20-29", 15, 1000, ALL);
    ok(p.start == -1, "multipart: -1");
    return done_testing();
}
