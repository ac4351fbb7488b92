/*
 * Downloads counted in bytes (docs/protocol.md, "What a request draws"):
 * what a response will carry (the file's size as the static handler will
 * learn it, nginx's range and not_modified arithmetic), drawn from the
 * token's record before it is sent with one HINCRBY (the script when that
 * cannot decide), and what was not sent given back when the request ends.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "conditional.h"
#include "escape.h"
#include "hex.h"
#include "range.h"
#include "token_record.h"
#include "ngx_http_bitcache_draw.h"


/* SHA1 of the scripts, for EVALSHA (computed once, at configuration) */
static char  ngx_http_bitcache_draw_sha[41];
static char  ngx_http_bitcache_refund_sha[41];


static void ngx_http_bitcache_draw_done(ngx_http_bitcache_call_t *call,
    redisReply *reply);


/*
 * Writes <kind><uri> to p (kind's length + uri->len at most), runs of '/'
 * as one: with merge_slashes off "/album//a.bin" is the file "/album/a.bin",
 * and must not get an allowance of its own.
 */
static size_t
ngx_http_bitcache_file_field(u_char *p, const char *kind, ngx_str_t *uri)
{
    u_char      *start;
    ngx_uint_t   i;

    start = p;
    p = ngx_cpymem(p, kind, ngx_strlen(kind));

    for (i = 0; i < uri->len; i++) {
        if (uri->data[i] == '/' && i > 0 && uri->data[i - 1] == '/') {
            continue;
        }

        *p++ = uri->data[i];
    }

    return p - start;
}


/*
 * The file the static handler will send, learnt the way it learns it
 * (the location's root/alias and open_file_cache settings; only stat()ed
 * when there is no cache, like try_files). NGX_DECLINED: no regular file
 * there (missing, a directory, forbidden): nothing to draw. Looked up
 * once a request: auto-buy asks before its purchase, the draw after it.
 */
ngx_int_t
ngx_http_bitcache_file(ngx_http_request_t *r, ngx_http_bitcache_ctx_t *ctx)
{
    u_char                    *last;
    size_t                     root;
    ngx_str_t                  path;
    ngx_open_file_info_t       of;
    ngx_http_core_loc_conf_t  *clcf;

    if (ctx->field.data != NULL) {
        return NGX_OK;          /* found before: size, mtime and fields set */
    }

    if (r->uri.len == 0 || r->uri.data[r->uri.len - 1] == '/') {
        return NGX_DECLINED;    /* the index module's: redirected, then drawn */
    }

    last = ngx_http_map_uri_to_path(r, &path, &root, 0);
    if (last == NULL) {
        return NGX_ERROR;
    }

    path.len = last - path.data;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    ngx_memzero(&of, sizeof(ngx_open_file_info_t));

    of.read_ahead = clcf->read_ahead;
    of.directio = clcf->directio;
    of.valid = clcf->open_file_cache_valid;
    of.min_uses = clcf->open_file_cache_min_uses;
    of.errors = clcf->open_file_cache_errors;
    of.events = clcf->open_file_cache_events;
    of.test_only = 1;

    if (ngx_http_set_disable_symlinks(r, clcf, &path, &of) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_open_cached_file(clcf->open_file_cache, &path, &of, r->pool)
        != NGX_OK)
    {
        if (of.err == 0) {
            return NGX_ERROR;
        }

        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, of.err,
                       "bitcache: %s \"%V\" failed: nothing to draw",
                       of.failed, &path);
        return NGX_DECLINED;
    }

    if (!of.is_file) {
        return NGX_DECLINED;
    }

    ctx->size = of.size;
    ctx->mtime = of.mtime;

    /* the fields that count this file: b:<uri>, c:<uri> (the URI, so that
     * a token minted for $uri finds its counter ready) */
    ctx->field.data = ngx_pnalloc(r->pool, sizeof(BC_TOKREC_FILE) - 1
                                           + sizeof(BC_TOKREC_CUT) - 1
                                           + 2 * r->uri.len);
    if (ctx->field.data == NULL) {
        return NGX_ERROR;
    }

    ctx->field.len = ngx_http_bitcache_file_field(ctx->field.data,
                                                  BC_TOKREC_FILE, &r->uri);
    ctx->cut_field.data = ctx->field.data + ctx->field.len;
    ctx->cut_field.len = ngx_http_bitcache_file_field(ctx->cut_field.data,
                                                      BC_TOKREC_CUT, &r->uri);

    return NGX_OK;
}


/*
 * Whether nginx's not_modified filter will answer 304 or 412 (no body) to
 * a GET of the file: its tests, on the Last-Modified and ETag that the
 * static handler will give (ngx_http_set_etag's "mtime-size" in hex). A
 * wrong guess costs nothing: the header filter cuts any body not drawn.
 */
static ngx_flag_t
ngx_http_bitcache_no_body(ngx_http_request_t *r, ngx_http_bitcache_ctx_t *ctx,
    ngx_http_core_loc_conf_t *clcf)
{
    u_char                  etag_buf[NGX_OFF_T_LEN + NGX_TIME_T_LEN + 3];
    time_t                  t;
    size_t                  etag_len;
    const char             *etag;
    ngx_table_elt_t        *h;
    ngx_http_headers_in_t  *in = &r->headers_in;

    if (r->disable_not_modified
        || (in->if_unmodified_since == NULL && in->if_match == NULL
            && in->if_modified_since == NULL && in->if_none_match == NULL))
    {
        return 0;               /* the usual GET: no ETag to make */
    }

    etag = NULL;
    etag_len = 0;

    if (clcf->etag) {
        etag = (const char *) etag_buf;
        etag_len = ngx_sprintf(etag_buf, "\"%xT-%xO\"", ctx->mtime, ctx->size)
                   - etag_buf;
    }

    if (in->if_unmodified_since) {
        h = in->if_unmodified_since;
        t = ngx_parse_http_time(h->value.data, h->value.len);
        if (t < ctx->mtime) {
            return 1;                                   /* 412 */
        }
    }

    if (in->if_match
        && !bc_etag_list_match((const char *) in->if_match->value.data,
                               in->if_match->value.len, etag, etag_len, 0))
    {
        return 1;                                       /* 412 */
    }

    if (in->if_modified_since == NULL && in->if_none_match == NULL) {
        return 0;
    }

    if (in->if_modified_since) {
        if (clcf->if_modified_since == NGX_HTTP_IMS_OFF) {
            return 0;
        }

        h = in->if_modified_since;
        t = ngx_parse_http_time(h->value.data, h->value.len);

        if (t != ctx->mtime
            && (clcf->if_modified_since == NGX_HTTP_IMS_EXACT
                || t < ctx->mtime))
        {
            return 0;                                   /* modified */
        }
    }

    if (in->if_none_match
        && !bc_etag_list_match((const char *) in->if_none_match->value.data,
                               in->if_none_match->value.len, etag, etag_len,
                               1))
    {
        return 0;
    }

    return 1;                                           /* 304 */
}


/* The file bytes this request's response will carry (docs/protocol.md). */
static void
ngx_http_bitcache_plan(ngx_http_request_t *r, ngx_http_bitcache_ctx_t *ctx)
{
    bc_range_plan              plan;
    ngx_table_elt_t           *range;
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (r->method != NGX_HTTP_GET || ngx_http_bitcache_no_body(r, ctx, clcf)) {
        /* HEAD, 304 and 412 have no body; POST and others get 405 */
        ctx->draw = 0;
        ctx->parts = 0;
        ctx->start = -1;
        return;
    }

    range = r->http_version >= NGX_HTTP_VERSION_10 ? r->headers_in.range : NULL;

    bc_range_plan_get(&plan,
                      range ? (const char *) range->value.data : NULL,
                      range ? range->value.len : 0,
                      ctx->size,
                      clcf->max_ranges > NGX_MAX_UINT32_VALUE
                          ? NGX_MAX_UINT32_VALUE : (uint32_t) clcf->max_ranges);

    ctx->draw = plan.bytes;
    ctx->parts = plan.parts;
    ctx->start = plan.start;
}


/* The hot path's one command: HINCRBY <key> b:<uri> <bytes> */
static ngx_int_t
ngx_http_bitcache_draw_fast(ngx_http_bitcache_ctx_t *ctx)
{
    u_char       added[NGX_OFF_T_LEN + 1];
    size_t       argvlen[4];
    const char  *argv[4];

    /* an unlimited token counts nothing: the command only checks */
    ctx->added = ctx->allowance ? ctx->draw : 0;

    argv[0] = "HINCRBY";
    argvlen[0] = 7;
    argv[1] = (const char *) ctx->key.data;
    argvlen[1] = ctx->key.len;
    argv[2] = (const char *) ctx->field.data;
    argvlen[2] = ctx->field.len;
    argv[3] = (const char *) added;
    argvlen[3] = ngx_sprintf(added, "%O", ctx->added) - added;

    return ngx_http_bitcache_call(&ctx->call, ctx->request,
                                  ngx_http_bitcache_draw_done, ctx, 4, argv,
                                  argvlen);
}


/* When HINCRBY cannot decide: EVALSHA <sha> 1 <key> b:<uri> <bytes>
 * <allowance> <start> c:<uri> <added>; EVAL after NOSCRIPT */
static ngx_int_t
ngx_http_bitcache_draw_script(ngx_http_bitcache_ctx_t *ctx)
{
    u_char       draw[NGX_OFF_T_LEN + 1], allowance[NGX_OFF_T_LEN + 1];
    u_char       start[NGX_OFF_T_LEN + 1], added[NGX_OFF_T_LEN + 1];
    size_t       argvlen[10];
    const char  *argv[10];

    ctx->script = 1;

    argv[0] = ctx->evaled ? "EVAL" : "EVALSHA";
    argv[1] = ctx->evaled ? BC_SCRIPT_TOKEN_DRAW : ngx_http_bitcache_draw_sha;
    argv[2] = "1";
    argv[3] = (const char *) ctx->key.data;
    argvlen[3] = ctx->key.len;
    argv[4] = (const char *) ctx->field.data;
    argvlen[4] = ctx->field.len;
    argv[5] = (const char *) draw;
    argvlen[5] = ngx_sprintf(draw, "%O", ctx->draw) - draw;
    argv[6] = (const char *) allowance;
    argvlen[6] = ngx_sprintf(allowance, "%O", ctx->allowance) - allowance;
    argv[7] = (const char *) start;
    argvlen[7] = ngx_sprintf(start, "%O", ctx->start) - start;
    argv[8] = (const char *) ctx->cut_field.data;
    argvlen[8] = ctx->cut_field.len;
    argv[9] = (const char *) added;
    argvlen[9] = ngx_sprintf(added, "%O", ctx->added) - added;

    argvlen[0] = ngx_strlen(argv[0]);
    argvlen[1] = ngx_strlen(argv[1]);
    argvlen[2] = 1;

    return ngx_http_bitcache_call(&ctx->call, ctx->request,
                                  ngx_http_bitcache_draw_done, ctx, 10, argv,
                                  argvlen);
}


/* Sends the next command of the draw; on failure answers 503. */
static void
ngx_http_bitcache_draw_next(ngx_http_bitcache_ctx_t *ctx)
{
    ngx_int_t  rc;

    rc = ngx_http_bitcache_draw_script(ctx);

    if (rc == NGX_OK) {
        return;
    }

    ctx->state = NGX_HTTP_BITCACHE_UNAVAILABLE;
    ctx->reason = rc == NGX_DECLINED ? ctx->call.failure : "out of memory";
    ngx_http_bitcache_call_resume(ctx->request);
}


static void
ngx_http_bitcache_draw_done(ngx_http_bitcache_call_t *call, redisReply *reply)
{
    bc_record_status          st;
    ngx_http_bitcache_ctx_t  *ctx = call->data;

    static ngx_str_t  not_a_number = ngx_string("not a number");

    if (reply == NULL) {
        ctx->state = NGX_HTTP_BITCACHE_UNAVAILABLE;
        ctx->reason = call->failure;
        ngx_http_bitcache_call_resume(ctx->request);
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR && ctx->script && !ctx->evaled
        && ngx_strncmp(reply->str, "NOSCRIPT", 8) == 0)
    {
        /* a new or flushed Redis: EVAL runs it and caches it again */
        ctx->evaled = 1;
        ngx_http_bitcache_draw_next(ctx);
        return;
    }

    if (reply->type != REDIS_REPLY_INTEGER) {
        ngx_log_error(NGX_LOG_ERR, ctx->request->connection->log, 0,
                      "bitcache: unexpected redis reply: %V",
                      reply->type == REDIS_REPLY_ERROR
                      ? ngx_http_bitcache_log_str(ctx->request, reply->str,
                                                  reply->len)
                      : &not_a_number);
        ctx->state = NGX_HTTP_BITCACHE_UNAVAILABLE;
        ctx->reason = "redis error";
        ngx_http_bitcache_call_resume(ctx->request);
        return;
    }

    if (!ctx->script) {
        st = bc_tokrec_fast_result(reply->integer, ctx->allowance);

        if (st == BC_RECORD_ASK_SCRIPT) {
            /* a file not drawn from yet, no record, or the allowance
             * spent: the script decides, and undoes the increment */
            ngx_http_bitcache_draw_next(ctx);
            return;
        }

        /* allowed: all added is drawn; revoked: it goes back at the end */
        ctx->reserved = ctx->added;

        /* the counter is LIVE + all drawn from the file, this draw too */
        ctx->left = ctx->allowance - (reply->integer - BC_TOKREC_LIVE);
        ctx->left_known = st == BC_RECORD_ALLOW && ctx->allowance != 0;

    } else {
        st = bc_tokrec_draw_result(reply->integer);

        if (st == BC_RECORD_ALLOW) {
            ctx->credit = ngx_min(reply->integer, ctx->draw);
            ctx->reserved = ctx->allowance ? ctx->draw - ctx->credit : 0;
        }
    }

    if (st == BC_RECORD_ALLOW) {
        ctx->state = NGX_HTTP_BITCACHE_ALLOWED;
        ctx->unlimited = ctx->allowance == 0;

        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, ctx->request->connection->log, 0,
                       "bitcache: drew %O bytes of \"%V\" (%O sent again)",
                       ctx->reserved, &ctx->field, ctx->credit);

    } else {
        ctx->state = NGX_HTTP_BITCACHE_DENIED;
        ctx->reason = bc_record_status_str(st);
    }

    ngx_http_bitcache_call_resume(ctx->request);
}


ngx_int_t
ngx_http_bitcache_draw_start(ngx_http_request_t *r,
    ngx_http_bitcache_ctx_t *ctx, bc_token *t)
{
    char       idhex[2 * BC_TOKEN_ID_LEN + 1];
    ngx_int_t  rc;

    rc = ngx_http_bitcache_file(r, ctx);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_DECLINED) {
        /* no file: nothing drawn, and no body of 200/206 may go out */
        ctx->state = NGX_HTTP_BITCACHE_ALLOWED;
        return NGX_OK;
    }

    ngx_http_bitcache_plan(r, ctx);
    ctx->allowance = bc_tokrec_allowance(t->uses, ctx->size);

    bc_hex_encode(idhex, t->id, BC_TOKEN_ID_LEN);
    if (ngx_http_bitcache_key(r, &ctx->key, BC_TOKREC_KIND, (u_char *) idhex,
                              2 * BC_TOKEN_ID_LEN)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* the hot path's one atomic command */
    rc = ngx_http_bitcache_draw_fast(ctx);

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


/*
 * Giving back what was drawn and not sent, when the request ends (its
 * pool is destroyed: finished, failed, or the client went away), and
 * leaving what a cut response sent as a credit for its resume (see
 * BC_SCRIPT_TOKEN_DRAW). Fire and forget: nobody waits for it; only
 * NOSCRIPT (Redis restarted while the file was sent) makes it send the
 * script itself.
 */
typedef struct {
    size_t   len[4];
    u_char  *arg[4];            /* key, b:field, bytes, c:field; then window */
    u_char  *window;
    size_t   window_len;
} ngx_http_bitcache_refund_t;


static ngx_int_t ngx_http_bitcache_refund_send(ngx_http_bitcache_refund_t *rf,
    ngx_flag_t eval);


static void
ngx_http_bitcache_refund_done(void *data, redisReply *reply)
{
    char                         said[512];
    ngx_http_bitcache_refund_t  *rf = data;

    if (reply != NULL && reply->type == REDIS_REPLY_ERROR) {
        if (ngx_strncmp(reply->str, "NOSCRIPT", 8) == 0) {
            (void) ngx_http_bitcache_refund_send(rf, 1);

        } else {
            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "bitcache: giving back %*s bytes failed: %s",
                          rf->len[2], rf->arg[2],
                          bc_log_text(said, sizeof(said), reply->str,
                                      reply->len));
        }
    }

    ngx_free(rf);
}


static ngx_int_t
ngx_http_bitcache_refund_send(ngx_http_bitcache_refund_t *rf, ngx_flag_t eval)
{
    size_t       argvlen[8];
    const char  *argv[8];

    argv[0] = eval ? "EVAL" : "EVALSHA";
    argv[1] = eval ? BC_SCRIPT_TOKEN_REFUND : ngx_http_bitcache_refund_sha;
    argv[2] = "1";
    argvlen[0] = ngx_strlen(argv[0]);
    argvlen[1] = ngx_strlen(argv[1]);
    argvlen[2] = 1;
    argv[3] = (const char *) rf->arg[0];
    argvlen[3] = rf->len[0];
    argv[4] = (const char *) rf->arg[1];
    argvlen[4] = rf->len[1];
    argv[5] = (const char *) rf->arg[2];
    argvlen[5] = rf->len[2];
    argv[6] = (const char *) rf->arg[3];
    argvlen[6] = rf->len[3];
    argv[7] = (const char *) rf->window;
    argvlen[7] = rf->window_len;

    if (eval) {
        /* the copy is freed after this reply: nobody waits for the next */
        return ngx_http_bitcache_redis_command(NULL, NULL, 8, argv, argvlen)
               ? NGX_OK : NGX_ERROR;
    }

    return ngx_http_bitcache_redis_command(ngx_http_bitcache_refund_done, rf,
                                           8, argv, argvlen)
           ? NGX_OK : NGX_ERROR;
}


/* The body's bytes that left nginx for the client ($body_bytes_sent). */
static off_t
ngx_http_bitcache_body_sent(ngx_http_bitcache_ctx_t *ctx)
{
    off_t                sent;
    ngx_http_request_t  *r = ctx->request;

    sent = r->connection->sent - (off_t) r->header_size;

    return sent < 0 ? 0 : sent;
}


void
ngx_http_bitcache_draw_cleanup(void *data)
{
    u_char                      *p;
    off_t                        sent, charged, back, from, end;
    ngx_http_bitcache_ctx_t     *ctx = data;
    ngx_http_bitcache_refund_t  *rf;

    if (ctx->unlimited || ctx->field.len == 0 || ctx->keyfetch != NULL) {
        return;                 /* nothing counted (a key draws nothing) */
    }

    sent = 0;
    from = 0;
    end = -1;

    if (!ctx->body) {
        charged = 0;            /* 304, 416, an error, or no header sent */

    } else if (ctx->charge_all) {
        charged = ctx->reserved;  /* transformed on the way: count it all */

    } else {
        /* a multipart body's boundaries count too: a little more, never less */
        sent = ngx_http_bitcache_body_sent(ctx);
        charged = sent > ctx->credit ? sent - ctx->credit : 0;
        charged = ngx_min(charged, ctx->reserved);

        if (ctx->parts == 1 && ctx->start >= 0 && sent < ctx->draw
            && sent > ctx->credit)
        {
            /* cut: the drawn bytes that went out may be sent again once
             * (those sent again undrawn make no new credit) */
            from = ctx->start + ctx->credit;
            end = ctx->start + sent;
        }
    }

    back = ctx->reserved - charged;

    if (back <= 0 && end < 0) {
        return;
    }

    rf = ngx_alloc(sizeof(ngx_http_bitcache_refund_t) + ctx->key.len
                   + ctx->field.len + ctx->cut_field.len + 3 * NGX_OFF_T_LEN,
                   ngx_cycle->log);
    if (rf == NULL) {
        return;
    }

    p = (u_char *) (rf + 1);
    rf->arg[0] = p;
    rf->len[0] = ctx->key.len;
    p = ngx_cpymem(p, ctx->key.data, ctx->key.len);
    rf->arg[1] = p;
    rf->len[1] = ctx->field.len;
    p = ngx_cpymem(p, ctx->field.data, ctx->field.len);
    rf->arg[3] = p;
    rf->len[3] = ctx->cut_field.len;
    p = ngx_cpymem(p, ctx->cut_field.data, ctx->cut_field.len);
    rf->arg[2] = p;
    p = ngx_sprintf(p, "%O", back > 0 ? back : 0);
    rf->len[2] = p - rf->arg[2];
    rf->window = p;
    rf->window_len = end > from
                     ? (size_t) (ngx_sprintf(p, "%O-%O", from, end) - p)
                     : 0;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "bitcache: %O bytes sent, %O of %O given back",
                   sent, back, ctx->reserved);

    if (ngx_http_bitcache_refund_send(rf, 0) != NGX_OK) {
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "bitcache: %O bytes not sent could not be given back "
                      "(no redis)", back);
        ngx_free(rf);
    }
}


ngx_int_t
ngx_http_bitcache_draw_init(void)
{
    bc_script_sha1(ngx_http_bitcache_draw_sha, BC_SCRIPT_TOKEN_DRAW);
    bc_script_sha1(ngx_http_bitcache_refund_sha, BC_SCRIPT_TOKEN_REFUND);

    if (ngx_http_bitcache_draw_sha[0] == '\0'
        || ngx_http_bitcache_refund_sha[0] == '\0')
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_bitcache_draw_wait(ngx_http_request_t *r,
    ngx_http_bitcache_ctx_t *ctx)
{
    if (ctx->state == NGX_HTTP_BITCACHE_WAITING) {
        r->main->count++;
        r->write_event_handler = ngx_http_request_empty_handler;
        return NGX_DONE;
    }

    if (ctx->state == NGX_HTTP_BITCACHE_UNAVAILABLE) {
        ngx_http_bitcache_reply(r, NGX_HTTP_SERVICE_UNAVAILABLE, ctx->reason,
                                &ctx->product);
        return NGX_DONE;
    }

    return NGX_OK;
}
