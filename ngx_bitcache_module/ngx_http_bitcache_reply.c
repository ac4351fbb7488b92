/*
 * Complete responses made by the module itself: the short 402 and 503
 * answers, and the sending of pages and JSON built elsewhere. Never
 * cached, never referring the token on to other sites.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "escape.h"
#include "request_origin.h"
#include "ngx_http_bitcache.h"


ngx_flag_t
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


ngx_table_elt_t *
ngx_http_bitcache_header(ngx_http_request_t *r, const char *name)
{
    size_t            len;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    len = ngx_strlen(name);

    for (part = &r->headers_in.headers.part; part; part = part->next) {
        h = part->elts;

        for (i = 0; i < part->nelts; i++) {
            if (h[i].key.len == len
                && ngx_strncasecmp(h[i].key.data, (u_char *) name, len) == 0)
            {
                return &h[i];
            }
        }
    }

    return NULL;
}


/* libbitcache's bc_request_cross_site on Origin, Sec-Fetch-Site and Host:
 * what a POST that spends something of the buyer's (a wallet's balance,
 * an address's free copy, an amount above the price) refuses. */
ngx_flag_t
ngx_http_bitcache_cross_site(ngx_http_request_t *r)
{
    int               tls;
    ngx_table_elt_t  *origin, *fetch, *host;

    origin = ngx_http_bitcache_header(r, "Origin");
    fetch = ngx_http_bitcache_header(r, "Sec-Fetch-Site");
    host = r->headers_in.host;

    tls = 0;
#if (NGX_HTTP_SSL)
    tls = r->connection->ssl != NULL;
#endif

    return bc_request_cross_site(
               origin ? (const char *) origin->value.data : NULL,
               origin ? origin->value.len : 0,
               fetch ? (const char *) fetch->value.data : NULL,
               fetch ? fetch->value.len : 0,
               host ? (const char *) host->value.data : NULL,
               host ? host->value.len : 0, tls);
}


/* For a JSON string, by libbitcache's bc_json_escape: " \ and controls
 * escaped, < > & ' as \u00XX so that the JSON is also safe inside HTML,
 * and invalid UTF-8 as \ufffd. dst needs room for 6 * src->len bytes. */
u_char *
ngx_http_bitcache_escape_json(u_char *dst, ngx_str_t *src)
{
    return dst + bc_json_escape((char *) dst, src->data, src->len);
}


/* Bytes from a request, Redis or an offer, made safe for the error log by
 * libbitcache's bc_log_escape: no line break or terminal escape, no '"';
 * at most NGX_HTTP_BITCACHE_LOG_MAX of them, then "..." (a server's error
 * may be as long as it likes). Never NULL: a placeholder when out of
 * memory. */
ngx_str_t *
ngx_http_bitcache_log_str(ngx_http_request_t *r, const void *data, size_t len)
{
    size_t      n;
    ngx_str_t  *s;

    static ngx_str_t  none = ngx_string("(out of memory)");

    s = ngx_palloc(r->pool, sizeof(ngx_str_t));
    if (s == NULL) {
        return &none;
    }

    n = ngx_min(len, NGX_HTTP_BITCACHE_LOG_MAX);

    s->data = ngx_pnalloc(r->pool, 4 * n + 3);
    if (s->data == NULL) {
        return &none;
    }

    s->len = bc_log_escape((char *) s->data, data, n);

    if (n < len) {
        s->data[s->len++] = '.';
        s->data[s->len++] = '.';
        s->data[s->len++] = '.';
    }

    return s;
}


u_char *
ngx_http_bitcache_escape_html(u_char *dst, ngx_str_t *src)
{
    u_char      c;
    ngx_uint_t  i;

    for (i = 0; i < src->len; i++) {
        c = src->data[i];

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


ngx_int_t
ngx_http_bitcache_add_header(ngx_http_request_t *r, const char *name,
    ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);
    h->value = *value;

    return NGX_OK;
}


ngx_int_t
ngx_http_bitcache_set_cookie(ngx_http_request_t *r, const char *name,
    const char *value, ngx_str_t *path, time_t max_age)
{
    u_char     *p;
    ngx_str_t   cookie;

    cookie.data = ngx_pnalloc(r->pool, 96 + ngx_strlen(name) + ngx_strlen(value)
                                       + path->len + NGX_TIME_T_LEN);
    if (cookie.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(cookie.data, "%s=%s; Path=%V; Max-Age=%T; HttpOnly; "
                    "SameSite=Lax", name, value, path, max_age);
#if (NGX_HTTP_SSL)
    if (r->connection->ssl) {
        p = ngx_sprintf(p, "; Secure");
    }
#endif
    cookie.len = p - cookie.data;

    return ngx_http_bitcache_add_header(r, "Set-Cookie", &cookie);
}


void
ngx_http_bitcache_send(ngx_http_request_t *r, ngx_uint_t status,
    const char *type, u_char *body, size_t len)
{
    ngx_buf_t    *b;
    ngx_int_t     rc;
    ngx_str_t     v;
    ngx_chain_t   out;

    static ngx_str_t  no_store = ngx_string("no-store");
    static ngx_str_t  vary = ngx_string("Accept");
    static ngx_str_t  no_referrer = ngx_string("no-referrer");
    static ngx_str_t  nosniff = ngx_string("nosniff");
    static ngx_str_t  retry = ngx_string(NGX_HTTP_BITCACHE_RETRY_AFTER);

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    b->pos = body;
    b->last = body + len;
    b->memory = len ? 1 : 0;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.status = status;
    r->headers_out.content_length_n = len;
    v.data = (u_char *) type;
    v.len = ngx_strlen(type);
    r->headers_out.content_type = v;
    r->headers_out.content_type_len = v.len;
    r->headers_out.content_type_lowcase = NULL;

    if (ngx_http_bitcache_add_header(r, "Cache-Control", &no_store) != NGX_OK
        || ngx_http_bitcache_add_header(r, "Vary", &vary) != NGX_OK
        || ngx_http_bitcache_add_header(r, "Referrer-Policy", &no_referrer)
           != NGX_OK
        || ngx_http_bitcache_add_header(r, "X-Content-Type-Options", &nosniff)
           != NGX_OK
        || (status == NGX_HTTP_SERVICE_UNAVAILABLE
            && ngx_http_bitcache_add_header(r, "Retry-After", &retry) != NGX_OK))
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    /* clear what the location may have set for the file */
    r->allow_ranges = 0;
    ngx_http_clear_accept_ranges(r);
    ngx_http_clear_last_modified(r);
    ngx_http_clear_etag(r);

    /* an answer of the module, never a 304 (If-None-Match: * would make
     * any 200 one: an invoice's token, a description) */
    r->disable_not_modified = 1;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        ngx_http_finalize_request(r, rc);
        return;
    }

    out.buf = b;
    out.next = NULL;

    ngx_http_finalize_request(r, ngx_http_output_filter(r, &out));
}


void
ngx_http_bitcache_send_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *error, const char *reason, ngx_str_t *extra)
{
    u_char     *body, *p;
    ngx_str_t   why;

    why.data = (u_char *) reason;
    why.len = ngx_strlen(reason);

    body = ngx_pnalloc(r->pool, 128 + ngx_strlen(error) + 6 * why.len
                                + (extra ? extra->len : 0));
    if (body == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    p = ngx_sprintf(body, "{\"status\":%ui,\"error\":\"%s\",\"reason\":\"",
                    status, error);
    p = ngx_http_bitcache_escape_json(p, &why);
    p = ngx_sprintf(p, "\"");
    if (extra != NULL) {
        p = ngx_sprintf(p, ",%V", extra);
    }
    p = ngx_sprintf(p, "}\n");

    ngx_http_bitcache_send(r, status, "application/json", body, p - body);
}


void
ngx_http_bitcache_reply(ngx_http_request_t *r, ngx_uint_t status,
    const char *reason, ngx_str_t *product)
{
    u_char      *body, *p;
    ngx_str_t    why;
    const char  *title;

    title = status == NGX_HTTP_PAYMENT_REQUIRED ? "Payment Required"
          : status == NGX_HTTP_SERVICE_UNAVAILABLE ? "Service Unavailable"
          : status == NGX_HTTP_CONFLICT ? "Invalid invoice"
          : "Error";
    why.data = (u_char *) reason;
    why.len = ngx_strlen(reason);

    /* worst case: every byte escaped as \u00XX */
    body = ngx_pnalloc(r->pool, 512 + 6 * (product->len + why.len));
    if (body == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (ngx_http_bitcache_wants_json(r)) {
        p = ngx_sprintf(body, "{\"status\":%ui,\"error\":\"%s\",\"reason\":\"",
                        status, status == NGX_HTTP_PAYMENT_REQUIRED
                                ? "payment_required"
                                : status == NGX_HTTP_SERVICE_UNAVAILABLE
                                ? "unavailable" : "bad_request");
        p = ngx_http_bitcache_escape_json(p, &why);
        p = ngx_sprintf(p, "\",\"product\":\"");
        p = ngx_http_bitcache_escape_json(p, product);
        p = ngx_sprintf(p, "\"}\n");

        ngx_http_bitcache_send(r, status, "application/json", body, p - body);
        return;
    }

    p = ngx_sprintf(body, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
                    "<meta charset=\"utf-8\"><meta name=\"viewport\" "
                    "content=\"width=device-width\"><title>%ui %s</title>"
                    "</head>\n<body><h1>%s</h1>\n<p>", status, title, title);
    p = ngx_http_bitcache_escape_html(p, product);
    p = ngx_sprintf(p, "%s (", status == NGX_HTTP_PAYMENT_REQUIRED
                    ? " is for sale: a paid download link is needed."
                    : status == NGX_HTTP_SERVICE_UNAVAILABLE
                    ? " cannot be checked right now, please retry."
                    : status == NGX_HTTP_CONFLICT
                    ? ": this invoice cannot be paid."
                    : ": the request cannot be answered.");
    p = ngx_http_bitcache_escape_html(p, &why);
    p = ngx_sprintf(p, ")</p>\n</body></html>\n");

    ngx_http_bitcache_send(r, status, "text/html; charset=utf-8", body,
                           p - body);
}


/* The request body in one buffer of the pool (empty: len 0). */
ngx_int_t
ngx_http_bitcache_read_body(ngx_http_request_t *r, size_t max,
    ngx_str_t *body)
{
    u_char       *p;
    size_t        len;
    ngx_chain_t  *cl;

    body->len = 0;
    body->data = NULL;

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_OK;
    }

    len = 0;
    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        if (cl->buf->in_file) {
            return NGX_DECLINED;
        }
        len += cl->buf->last - cl->buf->pos;
    }

    if (len > max) {
        return NGX_DECLINED;
    }

    body->data = ngx_pnalloc(r->pool, len + 1);
    if (body->data == NULL) {
        return NGX_ERROR;
    }

    p = body->data;
    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        p = ngx_cpymem(p, cl->buf->pos, cl->buf->last - cl->buf->pos);
    }
    body->len = len;

    return NGX_OK;
}


/* A script embedded at build time (button.js, open.js, open-sw.js): its
 * caching and who may load it are the caller's. */
ngx_int_t
ngx_http_bitcache_send_script(ngx_http_request_t *r, const char *src,
    size_t len, ngx_str_t *cache, ngx_str_t *corp)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    static ngx_str_t  type = ngx_string("text/javascript; charset=utf-8");
    static ngx_str_t  nosniff = ngx_string("nosniff");

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL
        || ngx_http_bitcache_add_header(r, "Cache-Control", cache) != NGX_OK
        || ngx_http_bitcache_add_header(r, "X-Content-Type-Options", &nosniff)
           != NGX_OK
        || ngx_http_bitcache_add_header(r, "Cross-Origin-Resource-Policy",
                                        corp) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = len;
    r->headers_out.content_type = type;
    r->headers_out.content_type_len = type.len;
    r->headers_out.content_type_lowcase = NULL;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    /* read only: nginx never writes into a memory buffer it sends */
    b->pos = (u_char *) src;
    b->last = b->pos + len;
    b->memory = 1;
    b->last_buf = 1;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}
