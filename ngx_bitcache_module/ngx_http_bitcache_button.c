/*
 * GET/HEAD <api>/button.js: the pay button's script (button.js beside this
 * file, embedded at build time like the default page). Creators load it
 * from their own sites with <script src>, so it may be cached and read by
 * any origin; it carries nothing of the request.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "button_js.h"
#include "ngx_http_bitcache.h"
#include "ngx_http_bitcache_button.h"


ngx_int_t
ngx_http_bitcache_button_js(ngx_http_request_t *r)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    static ngx_str_t  type = ngx_string("text/javascript; charset=utf-8");
    static ngx_str_t  cache = ngx_string("public, max-age=3600");
    static ngx_str_t  nosniff = ngx_string("nosniff");
    static ngx_str_t  corp = ngx_string("cross-origin");

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL
        || ngx_http_bitcache_add_header(r, "Cache-Control", &cache) != NGX_OK
        || ngx_http_bitcache_add_header(r, "X-Content-Type-Options", &nosniff)
           != NGX_OK
        || ngx_http_bitcache_add_header(r, "Cross-Origin-Resource-Policy",
                                        &corp) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = sizeof(ngx_http_bitcache_button_src) - 1;
    r->headers_out.content_type = type;
    r->headers_out.content_type_len = type.len;
    r->headers_out.content_type_lowcase = NULL;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    /* read only: nginx never writes into a memory buffer it sends */
    b->pos = (u_char *) ngx_http_bitcache_button_src;
    b->last = b->pos + sizeof(ngx_http_bitcache_button_src) - 1;
    b->memory = 1;
    b->last_buf = 1;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}
