/*
 * Where a request carries its token: ?bitcache_token= (hidden from every
 * log as soon as it is read), else the bitcache_token cookie. For
 * downloads, the key route and any API path.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_bitcache.h"


static ngx_str_t  ngx_http_bitcache_token_name = ngx_string("bitcache_token");


static ngx_int_t ngx_http_bitcache_hide_token(ngx_http_request_t *r,
    ngx_str_t *token);
static void ngx_http_bitcache_hide_all(u_char *p, u_char *last);


ngx_int_t
ngx_http_bitcache_find_token(ngx_http_request_t *r, ngx_str_t *token)
{
    if (r->args.len
        && ngx_http_arg(r, ngx_http_bitcache_token_name.data,
                        ngx_http_bitcache_token_name.len, token)
           == NGX_OK)
    {
        return ngx_http_bitcache_hide_token(r, token);
    }

    if (ngx_http_parse_multi_header_lines(&r->headers_in.cookies,
                                          &ngx_http_bitcache_token_name, token)
        != NGX_DECLINED)
    {
        return NGX_OK;
    }

    return NGX_DECLINED;
}


/*
 * Keep a token given in the query out of every log: copy it, then
 * overwrite it with '*' where it stands in the arguments and in the
 * request line ($request, $request_uri, the error log's context).
 */
static ngx_int_t
ngx_http_bitcache_hide_token(ngx_http_request_t *r, ngx_str_t *token)
{
    u_char  *copy, *line, *last;

    copy = ngx_pnalloc(r->pool, token->len);
    if (copy == NULL) {
        return NGX_ERROR;
    }
    ngx_memcpy(copy, token->data, token->len);

    line = r->request_line.data;
    last = line + r->request_line.len;

    if (token->len && (token->data < line || token->data >= last)) {
        /* the arguments were rewritten: find it in the original line */
        line = ngx_strlcasestrn(line, last, copy, token->len - 1);
        if (line != NULL) {
            ngx_memset(line, '*', token->len);
        }
    }

    ngx_memset(token->data, '*', token->len);

    /* any other bitcache_token= (ngx_http_arg found the first; a query
     * may repeat the name, in any case): masked too */
    ngx_http_bitcache_hide_all(r->args.data, r->args.data + r->args.len);
    line = ngx_strlchr(r->request_line.data,
                       r->request_line.data + r->request_line.len, '?');
    if (line != NULL) {
        ngx_http_bitcache_hide_all(line + 1, last);
    }

    token->data = copy;
    return NGX_OK;
}


/* '*' over the value of each bitcache_token= argument in p..last (a
 * query: arguments split by '&', ended by a space in a request line) */
static void
ngx_http_bitcache_hide_all(u_char *p, u_char *last)
{
    size_t   len;
    u_char  *arg;

    len = ngx_http_bitcache_token_name.len;

    for (arg = p; arg < last; /* void */) {

        if ((size_t) (last - arg) > len && arg[len] == '='
            && ngx_strncasecmp(arg, ngx_http_bitcache_token_name.data, len)
               == 0)
        {
            for (p = arg + len + 1; p < last && *p != '&' && *p != ' '; p++) {
                *p = '*';
            }
        }

        while (arg < last && *arg != '&' && *arg != ' ') {
            arg++;
        }

        if (arg == last || *arg == ' ') {
            break;
        }

        arg++;                                          /* '&' */
    }
}
