/* bc_request_cross_site: what the wallet's cookie POSTs refuse. */
#include <string.h>

#include "tap.h"
#include "request_origin.h"

#define S(x) (x), strlen(x)

int
main(void)
{
    ok(!bc_request_cross_site(NULL, 0, NULL, 0, S("shop.example"), 0),
       "no Origin, no Sec-Fetch-Site: not cross-site (scripts)");
    ok(!bc_request_cross_site(S("http://shop.example"), NULL, 0, S("shop.example"), 0),
       "Origin of this host");
    ok(!bc_request_cross_site(S("http://SHOP.example:8080"), S("same-origin"), S("shop.example:8080"), 0),
       "host compared without case, port included");
    ok(!bc_request_cross_site(S("https://shop.example"), NULL, 0, S("shop.example"), 1),
       "https on TLS");
    ok(bc_request_cross_site(S("http://shop.example"), NULL, 0, S("shop.example"), 1),
       "http Origin on a TLS request");
    ok(!bc_request_cross_site(S("https://shop.example"), NULL, 0, S("shop.example"), 0),
       "https Origin on plain HTTP (TLS ended by a proxy): same site");
    ok(bc_request_cross_site(S("https://evil.example"), NULL, 0, S("shop.example"), 0),
       "https Origin of another host on plain HTTP");
    ok(bc_request_cross_site(S("http://evil.example"), NULL, 0, S("shop.example"), 0),
       "another host");
    ok(bc_request_cross_site(S("http://shop.example.evil"), NULL, 0, S("shop.example"), 0),
       "a host that starts like this one");
    ok(bc_request_cross_site(S("http://shop.exampl"), NULL, 0, S("shop.example"), 0),
       "a prefix of this host");
    ok(bc_request_cross_site(S("null"), NULL, 0, S("shop.example"), 0), "Origin: null");
    ok(bc_request_cross_site(S("http://"), NULL, 0, S(""), 0), "empty host");
    ok(bc_request_cross_site(S("http://shop.example"), NULL, 0, NULL, 0, 0), "no Host");
    ok(bc_request_cross_site(NULL, 0, S("Cross-Site"), S("shop.example"), 0),
       "Sec-Fetch-Site: cross-site, any case");
    ok(!bc_request_cross_site(NULL, 0, S("same-site"), S("shop.example"), 0),
       "Sec-Fetch-Site: same-site");
    return done_testing();
}
