/*
 * Short complete responses: 402 (no valid token) and 503 (Redis down).
 * HTML for browsers, JSON for Accept: application/json; never cached.
 * The full payment page replaces the 402 body in its own part.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_bitcache.h"


static ngx_flag_t
ngx_http_bitcache_wants_json(ngx_http_request_t *r)
{
#if (NGX_HTTP_HEADERS)
    ngx_table_elt_t  *accept = r->headers_in.accept;

    return accept != NULL
           && ngx_strlcasestrn(accept->value.data,
                               accept->value.data + accept->value.len,
                               (u_char *) "application/json", 16 - 1)
              != NULL;
#else
    return 0;
#endif
}


/* Escapes for both an HTML text node and a JSON string: "<>&'\ and controls. */
static u_char *
ngx_http_bitcache_escape(u_char *dst, ngx_str_t *src, ngx_flag_t json)
{
    u_char      c;
    ngx_uint_t  i;

    for (i = 0; i < src->len; i++) {
        c = src->data[i];

        if (json) {
            if (c == '"' || c == '\\') {
                *dst++ = '\\';
                *dst++ = c;
            } else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
                dst = ngx_sprintf(dst, "\\u%04xi", (ngx_int_t) c);
            } else {
                *dst++ = c;
            }
            continue;
        }

        switch (c) {
        case '<': dst = ngx_cpymem(dst, "&lt;", 4); break;
        case '>': dst = ngx_cpymem(dst, "&gt;", 4); break;
        case '&': dst = ngx_cpymem(dst, "&amp;", 5); break;
        case '"': dst = ngx_cpymem(dst, "&quot;", 6); break;
        case '\'': dst = ngx_cpymem(dst, "&#39;", 5); break;
        default: *dst++ = c;
        }
    }

    return dst;
}


static ngx_int_t
ngx_http_bitcache_add_header(ngx_http_request_t *r, const char *name,
    const char *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);
    h->value.data = (u_char *) value;
    h->value.len = ngx_strlen(value);

    return NGX_OK;
}


void
ngx_http_bitcache_reply(ngx_http_request_t *r, ngx_uint_t status,
    const char *reason, ngx_str_t *product)
{
    u_char       *p;
    size_t        len;
    ngx_buf_t    *b;
    ngx_int_t     rc;
    ngx_str_t     why;
    ngx_flag_t    json;
    ngx_chain_t   out;
    const char   *title;

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    json = ngx_http_bitcache_wants_json(r);
    title = status == NGX_HTTP_PAYMENT_REQUIRED ? "Payment Required"
                                                : "Service Unavailable";
    why.data = (u_char *) reason;
    why.len = ngx_strlen(reason);

    /* worst case: every byte escaped as \u00XX */
    len = 512 + 6 * (product->len + why.len);

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    p = b->last;

    if (json) {
        p = ngx_sprintf(p, "{\"status\":%ui,\"error\":\"%s\",\"reason\":\"",
                        status, status == NGX_HTTP_PAYMENT_REQUIRED
                                ? "payment_required" : "unavailable");
        p = ngx_http_bitcache_escape(p, &why, 1);
        p = ngx_sprintf(p, "\",\"product\":\"");
        p = ngx_http_bitcache_escape(p, product, 1);
        p = ngx_sprintf(p, "\"}\n");

    } else {
        p = ngx_sprintf(p, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
                        "<meta charset=\"utf-8\"><meta name=\"viewport\" "
                        "content=\"width=device-width\"><title>%ui %s</title>"
                        "</head>\n<body><h1>%s</h1>\n<p>", status, title, title);
        p = ngx_http_bitcache_escape(p, product, 0);
        p = ngx_sprintf(p, "%s (", status == NGX_HTTP_PAYMENT_REQUIRED
                        ? " is for sale: a paid download link is needed."
                        : " cannot be checked right now, please retry.");
        p = ngx_http_bitcache_escape(p, &why, 0);
        p = ngx_sprintf(p, ")</p>\n</body></html>\n");
    }

    b->last = p;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.status = status;
    r->headers_out.content_length_n = b->last - b->pos;
    if (json) {
        ngx_str_set(&r->headers_out.content_type, "application/json");
    } else {
        ngx_str_set(&r->headers_out.content_type, "text/html; charset=utf-8");
    }
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    if (ngx_http_bitcache_add_header(r, "Cache-Control", "no-store") != NGX_OK
        || ngx_http_bitcache_add_header(r, "Vary", "Accept") != NGX_OK
        || (status == NGX_HTTP_SERVICE_UNAVAILABLE
            && ngx_http_bitcache_add_header(r, "Retry-After",
                                            NGX_HTTP_BITCACHE_RETRY_AFTER)
               != NGX_OK))
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    /* clear what the location may have set for the file */
    r->allow_ranges = 0;
    ngx_http_clear_accept_ranges(r);
    ngx_http_clear_last_modified(r);
    ngx_http_clear_etag(r);

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        ngx_http_finalize_request(r, rc);
        return;
    }

    out.buf = b;
    out.next = NULL;

    ngx_http_finalize_request(r, ngx_http_output_filter(r, &out));
}
