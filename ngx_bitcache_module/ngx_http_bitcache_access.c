/*
 * Access phase: a request for a file in a `bitcache on` location goes on to
 * the static handler only with a valid, paid token.
 *
 * The token's MAC, expiry and product are checked locally first, so
 * garbage never costs a Redis round trip. Then one atomic script on the
 * worker's Redis connection checks revocation and spends a use. While it
 * runs the request is parked (NGX_DONE, r->main->count held); the reply
 * or a timer resumes the phases.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "hex.h"
#include "token.h"
#include "token_record.h"
#include "ngx_http_bitcache.h"
#include "ngx_http_bitcache_call.h"
#include "ngx_http_bitcache_page.h"


typedef enum {
    NGX_HTTP_BITCACHE_WAITING = 1,
    NGX_HTTP_BITCACHE_ALLOWED,
    NGX_HTTP_BITCACHE_DENIED,
    NGX_HTTP_BITCACHE_UNAVAILABLE
} ngx_http_bitcache_state_e;


typedef struct {
    ngx_http_request_t               *request;
    ngx_http_bitcache_state_e         state;
    const char                       *reason;
    ngx_str_t                         product;
    ngx_http_bitcache_call_t          call;
    ngx_str_t                         key;          /* <prefix>tok:<id hex> */
    ngx_http_bitcache_sale_t          sale;
    redisReply                       *catalog;      /* copy kept in the pool */
    unsigned                          partial_only:1;
    unsigned                          for_sale:1;
    unsigned                          catalog_done:1;
} ngx_http_bitcache_ctx_t;


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


static ngx_str_t  ngx_http_bitcache_token_name = ngx_string("bitcache_token");


static ngx_int_t ngx_http_bitcache_hide_token(ngx_http_request_t *r,
    ngx_str_t *token);


static ngx_int_t
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
 * Whether the request can only ever get a part of the file that does not
 * start at byte 0 (a resume, a segment of a download manager) or no body
 * at all (HEAD). Those spend no use. Only one plain "bytes=N-[M]" range
 * with N > 0 qualifies: suffix and multiple ranges may add up to the
 * whole file. The body filter below enforces the rest.
 */
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

    token->data = copy;
    return NGX_OK;
}


static ngx_flag_t
ngx_http_bitcache_partial_only(ngx_http_request_t *r)
{
    u_char     *p, *last;
    off_t       start, end;
    ngx_uint_t  digits;

    if (r->method == NGX_HTTP_HEAD) {
        return 1;
    }

    if (r->headers_in.range == NULL) {
        return 0;
    }

    p = r->headers_in.range->value.data;
    last = p + r->headers_in.range->value.len;

    if (last - p < 6 || ngx_strncasecmp(p, (u_char *) "bytes=", 6) != 0) {
        return 0;
    }

    for (p += 6; p < last && *p == ' '; p++) { /* void */ }

    start = 0;
    for (digits = 0; p < last && *p >= '0' && *p <= '9'; p++, digits++) {
        if (start >= NGX_MAX_OFF_T_VALUE / 10) {
            return 0;
        }
        start = start * 10 + (*p - '0');
    }

    if (digits == 0 || start == 0) {
        return 0;
    }

    for ( /* void */ ; p < last && *p == ' '; p++) { /* void */ }

    if (p == last || *p++ != '-') {
        return 0;
    }

    for ( /* void */ ; p < last && *p == ' '; p++) { /* void */ }

    end = 0;
    for (digits = 0; p < last && *p >= '0' && *p <= '9'; p++, digits++) {
        if (end >= NGX_MAX_OFF_T_VALUE / 10) {
            return 0;
        }
        end = end * 10 + (*p - '0');
    }

    for ( /* void */ ; p < last && *p == ' '; p++) { /* void */ }

    return p == last && (digits == 0 || end >= start);
}


static void
ngx_http_bitcache_resume(ngx_http_bitcache_ctx_t *ctx)
{
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = ctx->request;
    c = r->connection;

    r->main->count--;
    r->write_event_handler = ngx_http_core_run_phases;
    ngx_http_core_run_phases(r);
    ngx_http_run_posted_requests(c);
}


/* "left" from an integer (HINCRBY) or bulk string (HGET) reply */
static ngx_int_t
ngx_http_bitcache_reply_left(redisReply *reply, ngx_flag_t *present,
    long long *left)
{
    char  *end;

    *present = 1;

    switch (reply->type) {

    case REDIS_REPLY_INTEGER:
        *left = reply->integer;
        return NGX_OK;

    case REDIS_REPLY_NIL:
        *present = 0;
        *left = 0;
        return NGX_OK;

    case REDIS_REPLY_STRING:
        *left = strtoll(reply->str, &end, 10);
        return (end != reply->str && *end == '\0') ? NGX_OK : NGX_ERROR;
    }

    return NGX_ERROR;
}


static void
ngx_http_bitcache_redis_done(ngx_http_bitcache_call_t *call, redisReply *reply)
{
    long long                 left;
    ngx_flag_t                present;
    bc_record_status          st;
    ngx_http_bitcache_ctx_t  *ctx = call->data;
    const char               *del[2];
    size_t                    dellen[2];

    if (reply == NULL) {
        ctx->state = NGX_HTTP_BITCACHE_UNAVAILABLE;
        ctx->reason = call->failure;
        ngx_http_bitcache_resume(ctx);
        return;
    }

    if (ngx_http_bitcache_reply_left(reply, &present, &left) != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, ctx->request->connection->log, 0,
                      "bitcache: unexpected redis reply: %s",
                      reply->type == REDIS_REPLY_ERROR ? reply->str
                                                        : "not a number");
        ctx->state = NGX_HTTP_BITCACHE_UNAVAILABLE;
        ctx->reason = "redis error";
        ngx_http_bitcache_resume(ctx);
        return;
    }

    st = ctx->partial_only ? bc_record_on_check(present, left)
                           : bc_record_after_spend(left);

    if (st == BC_RECORD_ALLOW) {
        ctx->state = NGX_HTTP_BITCACHE_ALLOWED;

    } else {
        ctx->state = NGX_HTTP_BITCACHE_DENIED;
        ctx->reason = bc_record_status_str(st);

        if (st == BC_RECORD_UNKNOWN && !ctx->partial_only) {
            /* HINCRBY made a key for a token Redis did not know: drop it */
            del[0] = "DEL";
            dellen[0] = 3;
            del[1] = (const char *) ctx->key.data;
            dellen[1] = ctx->key.len;
            (void) ngx_http_bitcache_redis_command(NULL, NULL, 2, del, dellen);
        }
    }

    ngx_http_bitcache_resume(ctx);
}


static ngx_int_t
ngx_http_bitcache_check(ngx_http_request_t *r, ngx_http_bitcache_ctx_t *ctx,
    ngx_str_t *token, ngx_http_bitcache_loc_conf_t *blcf)
{
    char                            idhex[2 * BC_TOKEN_ID_LEN + 1];
    unsigned char                   buf[BC_TOKEN_MAX_BYTES];
    const char                     *argv[4];
    size_t                          argvlen[4];
    bc_token                        t;
    bc_token_status                 st;
    ngx_int_t                       rc;

    st = bc_token_verify(&t, buf, (const char *) token->data, token->len,
                         blcf->keys, (uint64_t) ngx_time(),
                         ctx->product.data, ctx->product.len);

    if (st != BC_TOKEN_OK) {
        ctx->state = NGX_HTTP_BITCACHE_DENIED;
        ctx->reason = bc_token_status_str(st);
        return NGX_OK;
    }

    bc_hex_encode(idhex, t.id, BC_TOKEN_ID_LEN);
    if (ngx_http_bitcache_key(r, &ctx->key, "tok:", (u_char *) idhex,
                              2 * BC_TOKEN_ID_LEN)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ctx->partial_only = ngx_http_bitcache_partial_only(r);

    /* one atomic command: a download spends a use (HINCRBY key left -1),
     * a resume only looks (HGET key left) */
    argv[0] = ctx->partial_only ? "HGET" : "HINCRBY";
    argvlen[0] = ngx_strlen(argv[0]);
    argv[1] = (const char *) ctx->key.data;
    argvlen[1] = ctx->key.len;
    argv[2] = "left";
    argvlen[2] = 4;
    argv[3] = "-1";
    argvlen[3] = 2;

    rc = ngx_http_bitcache_call(&ctx->call, r, ngx_http_bitcache_redis_done, ctx,
                                ctx->partial_only ? 3 : 4, argv, argvlen);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_DECLINED) {
        ctx->state = NGX_HTTP_BITCACHE_UNAVAILABLE;
        ctx->reason = ctx->call.failure;
        return NGX_OK;
    }

    ctx->state = NGX_HTTP_BITCACHE_WAITING;
    return NGX_OK;
}


static void
ngx_http_bitcache_catalog_done(ngx_http_bitcache_call_t *call,
    redisReply *reply)
{
    ngx_http_bitcache_ctx_t       *ctx = call->data;
    ngx_http_bitcache_loc_conf_t  *blcf;

    ctx->catalog_done = 1;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
        ctx->state = NGX_HTTP_BITCACHE_UNAVAILABLE;
        ctx->reason = reply ? "redis error" : call->failure;

    } else {
        /* the reply is freed after this callback: apply it now, copying */
        blcf = ngx_http_get_module_loc_conf(ctx->request,
                                            ngx_http_bitcache_module);
        ngx_http_bitcache_sale_catalog(ctx->request, blcf, &ctx->sale, reply);

        if (ngx_http_bitcache_sale_copy(ctx->request, &ctx->sale) != NGX_OK) {
            ctx->state = NGX_HTTP_BITCACHE_UNAVAILABLE;
            ctx->reason = "out of memory";
        } else {
            ctx->state = NGX_HTTP_BITCACHE_DENIED;
        }
    }

    ngx_http_bitcache_resume(ctx);
}


/* No access: look up the creator's catalog record, then offer the file. */
static ngx_int_t
ngx_http_bitcache_start_sale(ngx_http_request_t *r,
    ngx_http_bitcache_ctx_t *ctx, ngx_http_bitcache_loc_conf_t *blcf)
{
    ngx_int_t  rc;
    ngx_str_t  args[2];

    rc = ngx_http_bitcache_sale_init(r, blcf, &ctx->product, &ctx->sale);
    if (rc != NGX_OK) {
        return rc;      /* NGX_DECLINED: a plain 402 */
    }

    ctx->for_sale = 1;

    ngx_str_set(&args[0], "HGETALL");
    if (ngx_http_bitcache_key(r, &args[1], "prod:", ctx->product.data,
                              ctx->product.len)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    rc = ngx_http_bitcache_callv(&ctx->call, r, ngx_http_bitcache_catalog_done,
                                 ctx, 2, args);
    if (rc == NGX_DECLINED) {
        ctx->state = NGX_HTTP_BITCACHE_UNAVAILABLE;
        ctx->reason = ctx->call.failure;
        return NGX_OK;
    }
    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    ctx->state = NGX_HTTP_BITCACHE_WAITING;
    return NGX_OK;
}


ngx_int_t
ngx_http_bitcache_access_handler(ngx_http_request_t *r)
{
    ngx_int_t                      rc;
    ngx_str_t                      token;
    ngx_http_bitcache_ctx_t       *ctx;
    ngx_http_bitcache_loc_conf_t  *blcf;

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bitcache_module);

    if (!blcf->enable || r != r->main) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_bitcache_module);

    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_bitcache_ctx_t));
        if (ctx == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ctx->request = r;
        ngx_http_set_ctx(r, ctx, ngx_http_bitcache_module);

        if (ngx_http_complex_value(r, blcf->product, &ctx->product) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        rc = ngx_http_bitcache_find_token(r, &token);

        if (rc == NGX_ERROR) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;

        } else if (rc == NGX_DECLINED) {
            ctx->state = NGX_HTTP_BITCACHE_DENIED;
            ctx->reason = "no token";

        } else if (ngx_http_bitcache_check(r, ctx, &token, blcf) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (ctx->state == NGX_HTTP_BITCACHE_WAITING) {
            r->main->count++;
            r->write_event_handler = ngx_http_request_empty_handler;
            return NGX_DONE;
        }
    }

    switch (ctx->state) {

    case NGX_HTTP_BITCACHE_ALLOWED:
        return NGX_OK;

    case NGX_HTTP_BITCACHE_WAITING:
        return NGX_AGAIN;

    case NGX_HTTP_BITCACHE_UNAVAILABLE:
        ngx_http_bitcache_reply(r, NGX_HTTP_SERVICE_UNAVAILABLE, ctx->reason,
                                &ctx->product);
        return NGX_DONE;

    default: /* NGX_HTTP_BITCACHE_DENIED */
        break;
    }

    if (!ctx->catalog_done && !ctx->for_sale) {
        rc = ngx_http_bitcache_start_sale(r, ctx, blcf);

        if (rc == NGX_ERROR) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (ctx->state == NGX_HTTP_BITCACHE_WAITING) {
            r->main->count++;
            r->write_event_handler = ngx_http_request_empty_handler;
            return NGX_DONE;
        }

        if (ctx->state == NGX_HTTP_BITCACHE_UNAVAILABLE) {
            ngx_http_bitcache_reply(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    ctx->reason, &ctx->product);
            return NGX_DONE;
        }
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "bitcache: 402 for \"%V\": %s", &ctx->product, ctx->reason);

    if (ctx->for_sale) {
        ngx_http_bitcache_offer_page(r, blcf, &ctx->sale, ctx->reason);
    } else {
        ngx_http_bitcache_reply(r, NGX_HTTP_PAYMENT_REQUIRED, ctx->reason,
                                &ctx->product);
    }

    return NGX_DONE;
}


/*
 * A use was not spent because the request asked for a part after byte 0.
 * If anything downstream (an If-Range mismatch, gzip, max_ranges 0, a
 * third-party filter) turned it into the whole file, send no body.
 */
static ngx_int_t
ngx_http_bitcache_header_filter(ngx_http_request_t *r)
{
    ngx_int_t                 rc;
    ngx_http_bitcache_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_bitcache_module);

    rc = ngx_http_next_header_filter(r);

    if (ctx != NULL && ctx->partial_only && !r->header_only
        && r->headers_out.status == NGX_HTTP_OK)
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "bitcache: whole \"%V\" refused to a request that "
                      "spent no download", &ctx->product);
        return NGX_ERROR;
    }

    return rc;
}


static ngx_int_t
ngx_http_bitcache_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_http_bitcache_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_bitcache_module);

    if (ctx != NULL && ctx->partial_only && !r->header_only
        && r->headers_out.status == NGX_HTTP_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_next_body_filter(r, in);
}


ngx_int_t
ngx_http_bitcache_access_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_bitcache_access_handler;

    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_bitcache_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_bitcache_body_filter;

    return NGX_OK;
}
