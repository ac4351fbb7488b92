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


/* the query's token as it came, kept by the post-read handler (found,
 * like the outcome's note, by its cleanup's handler) */
static void
ngx_http_bitcache_saved_cleanup(void *data)
{
    /* nothing to free: ngx_http_bitcache_saved() finds it by it */
}


static ngx_str_t *
ngx_http_bitcache_saved(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t  *cln;

    for (cln = r->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_http_bitcache_saved_cleanup) {
            return cln->data;
        }
    }

    return NULL;
}


/*
 * Every request, as soon as its head is read: a ?bitcache_token= is
 * hidden at once, so that a request refused before the access phase
 * (limit_req, limit_conn, a return in a server's rewrite phase) or
 * answered by a location without the module logs no token either.
 */
static ngx_int_t
ngx_http_bitcache_post_read_handler(ngx_http_request_t *r)
{
    ngx_str_t           token, *saved;
    ngx_pool_cleanup_t  *cln;

    if (r != r->main || r->args.len == 0
        || ngx_http_arg(r, ngx_http_bitcache_token_name.data,
                        ngx_http_bitcache_token_name.len, &token)
           != NGX_OK
        || ngx_http_bitcache_saved(r) != NULL)
    {
        return NGX_DECLINED;
    }

    cln = ngx_pool_cleanup_add(r->pool, sizeof(ngx_str_t));
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    saved = cln->data;
    saved->len = 0;
    saved->data = NULL;
    cln->handler = ngx_http_bitcache_saved_cleanup;

    if (ngx_http_bitcache_hide_token(r, &token) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    *saved = token;

    return NGX_DECLINED;
}


ngx_flag_t
ngx_http_bitcache_token_in_query(ngx_http_request_t *r)
{
    return ngx_http_bitcache_saved(r) != NULL;
}


ngx_int_t
ngx_http_bitcache_token_find_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_POST_READ_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_bitcache_post_read_handler;

    return NGX_OK;
}


ngx_int_t
ngx_http_bitcache_find_token(ngx_http_request_t *r, ngx_str_t *token)
{
    size_t      i;
    ngx_str_t  *saved;

    if (r->args.len
        && ngx_http_arg(r, ngx_http_bitcache_token_name.data,
                        ngx_http_bitcache_token_name.len, token)
           == NGX_OK)
    {
        /* hidden already by the post-read handler: the copy it kept */
        saved = ngx_http_bitcache_saved(r);

        if (saved != NULL && saved->len == token->len) {
            for (i = 0; i < token->len && token->data[i] == '*'; i++) {
                /* void */
            }

            if (i == token->len) {
                *token = *saved;
                return NGX_OK;
            }
        }

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
