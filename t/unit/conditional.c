/* If-Match / If-None-Match lists against an ETag, as nginx's not_modified
 * filter reads them (each case checked by hand against nginx 1.22's
 * ngx_http_test_if_match; t/15-bytes.t checks 304s through real nginx). */
#include <string.h>

#include "conditional.h"
#include "tap.h"

static void
match_is(const char *list, const char *etag, int weak, int want)
{
    ok(bc_etag_list_match(list, strlen(list), etag, etag ? strlen(etag) : 0, weak) == want,
       "%s %s %s: %d", list, weak ? "(weak)" : "", etag ? etag : "(none)", want);
}

int
main(void)
{
    const char *e = "\"5f3a-1000\"";

    match_is("*", NULL, 0, 1);
    match_is("*", e, 1, 1);
    match_is("\"5f3a-1000\"", NULL, 1, 0);
    match_is("\"5f3a-1000\"", e, 0, 1);
    match_is("\"5f3a-1000\"", e, 1, 1);
    match_is("\"x\", \"5f3a-1000\"", e, 1, 1);
    match_is("\"x\",\"5f3a-1000\"  ", e, 1, 1);
    match_is("\"5f3a-1000\" ,\"x\"", e, 1, 1);
    match_is("W/\"5f3a-1000\"", e, 1, 1);
    match_is("W/\"5f3a-1000\"", e, 0, 0);
    match_is("\"5f3a-1000\"", "W/\"5f3a-1000\"", 1, 1);
    match_is("\"5f3a-1000\"x", e, 1, 0);
    match_is("\"5f3a-100\"", e, 1, 0);
    match_is("\"5f3a-10000\"", e, 1, 0);
    match_is("", e, 1, 0);
    match_is(",,,", e, 1, 0);
    match_is("\"x\", *", e, 1, 0);          /* "*" only alone */
    match_is("\"5f3a", e, 1, 0);            /* shorter than the tag */
    return done_testing();
}
