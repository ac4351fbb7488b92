/*
 * Redis Sentinel: the worker asks "SENTINEL get-master-addr-by-name" each
 * time it (re)connects, so that after a failover it lands on the new
 * primary. One question at a time, on an async connection of its own
 * driven by the same nginx adapter as the data connection; a sentinel
 * that refuses, fails or stays silent for the timeout passes the turn to
 * the next one. Only a numeric address is accepted in the answer: a name
 * would make hiredis resolve it with a blocking getaddrinfo().
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "escape.h"
#include "sentinel_reply.h"
#include "ngx_http_bitcache_sentinel.h"


static void ngx_http_bitcache_sentinel_next(void);
static void ngx_http_bitcache_sentinel_finish(ngx_int_t rc, const char *why);


static ngx_str_t  bs_default_user = ngx_string("default");

static ngx_http_bitcache_redis_conf_t        *bs_rcf;
static ngx_log_t                             *bs_log;
static ngx_http_bitcache_sentinel_attach_pt   bs_attach;
static ngx_http_bitcache_sentinel_pt          bs_done;
static redisAsyncContext                     *bs_ac;    /* the question's */
static ngx_uint_t                             bs_next;  /* sentinel to ask */
static ngx_uint_t                             bs_asked; /* this round */
static ngx_event_t                            bs_timeout_ev;


char *
ngx_http_bitcache_sentinel_parse(ngx_conf_t *cf,
    ngx_http_bitcache_redis_conf_t *rcf, ngx_str_t *list)
{
    u_char                          *p, *end, *comma;
    ngx_url_t                        u;
    ngx_http_bitcache_redis_addr_t  *sa;

    rcf->sentinels = ngx_array_create(cf->pool, 3,
                                      sizeof(ngx_http_bitcache_redis_addr_t));
    if (rcf->sentinels == NULL) {
        return NGX_CONF_ERROR;
    }

    p = list->data;
    end = list->data + list->len;

    while (p < end) {
        comma = ngx_strlchr(p, end, ',');
        if (comma == NULL) {
            comma = end;
        }

        ngx_memzero(&u, sizeof(ngx_url_t));
        u.url.data = p;
        u.url.len = comma - p;
        u.default_port = 26379;

        if (u.url.len == 0 || ngx_parse_url(cf->pool, &u) != NGX_OK
            || u.naddrs == 0 || u.uri.len)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"bitcache_redis\": invalid sentinel \"%V\": "
                               "%s", &u.url,
                               u.err ? u.err : "expected host:port");
            return NGX_CONF_ERROR;
        }

        sa = ngx_array_push(rcf->sentinels);
        if (sa == NULL) {
            return NGX_CONF_ERROR;
        }

        sa->text = u.url;
        sa->host.data = ngx_pnalloc(cf->pool, NGX_SOCKADDR_STRLEN + 1);
        if (sa->host.data == NULL) {
            return NGX_CONF_ERROR;
        }
        sa->host.len = ngx_sock_ntop(u.addrs[0].sockaddr, u.addrs[0].socklen,
                                     sa->host.data, NGX_SOCKADDR_STRLEN, 0);
        sa->host.data[sa->host.len] = '\0';
        sa->port = u.port;

        p = comma + 1;
    }

    if (rcf->sentinels->nelts == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"bitcache_redis\": \"sentinel=\" needs at least "
                           "one host:port");
        return NGX_CONF_ERROR;
    }

    /* the primary's address is written here by each answer */
    rcf->host.data = ngx_pnalloc(cf->pool, NGX_SOCKADDR_STRLEN + 1);
    if (rcf->host.data == NULL) {
        return NGX_CONF_ERROR;
    }
    rcf->host.len = 0;

    return NGX_CONF_OK;
}


static void
ngx_http_bitcache_sentinel_reply(redisAsyncContext *ac, void *r,
    void *privdata)
{
    char                             addr[BC_SENTINEL_IP_MAX + 1], why[64];
    char                             b1[512], b2[32];
    size_t                           len;
    unsigned                         n;
    redisReply                      *reply = r, *ip, *port;
    ngx_http_bitcache_redis_addr_t  *sa = privdata;

    if (reply == NULL || ac != bs_ac) {
        /* a dropped question: its timeout or disconnect moves on */
        return;
    }

    if (bs_timeout_ev.timer_set) {
        ngx_del_timer(&bs_timeout_ev);
    }

    /* hiredis closes it once this callback returns */
    bs_ac = NULL;
    redisAsyncDisconnect(ac);

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2
        || reply->element[0]->type != REDIS_REPLY_STRING
        || reply->element[1]->type != REDIS_REPLY_STRING)
    {
        ngx_log_error(NGX_LOG_ERR, bs_log, 0,
                      "bitcache: sentinel %V does not know the primary "
                      "\"%V\": %s", &sa->text, &bs_rcf->master,
                      reply->type == REDIS_REPLY_ERROR
                      ? bc_log_text(b1, sizeof(b1), reply->str, reply->len)
                      : "no address");
        ngx_http_bitcache_sentinel_next();
        return;
    }

    ip = reply->element[0];
    port = reply->element[1];

    if (!bc_sentinel_primary(ip->str, ip->len, port->str, port->len, addr, &n,
                             why, sizeof(why)))
    {
        ngx_log_error(NGX_LOG_ERR, bs_log, 0,
                      "bitcache: sentinel %V names the primary \"%V\" by "
                      "\"%s:%s\": %s", &sa->text, &bs_rcf->master,
                      bc_log_text(b1, sizeof(b1), ip->str, ip->len),
                      bc_log_text(b2, sizeof(b2), port->str, port->len),
                      why);
        ngx_http_bitcache_sentinel_next();
        return;
    }

    len = ngx_strlen(addr);

    if (bs_rcf->port != (ngx_int_t) n || bs_rcf->host.len != len
        || ngx_strncmp(bs_rcf->host.data, addr, len) != 0)
    {
        ngx_log_error(NGX_LOG_NOTICE, bs_log, 0,
                      "bitcache: sentinel %V: the primary \"%V\" is "
                      "%s:%ui", &sa->text, &bs_rcf->master, addr,
                      (ngx_uint_t) n);
    }

    ngx_memcpy(bs_rcf->host.data, addr, len + 1);
    bs_rcf->host.len = len;
    bs_rcf->port = n;

    ngx_http_bitcache_sentinel_finish(NGX_OK, NULL);
}


/* A refused AUTH is logged here; the question behind it then fails with
 * NOAUTH and the next sentinel is asked. */
static void
ngx_http_bitcache_sentinel_auth_reply(redisAsyncContext *ac, void *r,
    void *privdata)
{
    char                             b[512];
    redisReply                      *reply = r;
    ngx_http_bitcache_redis_addr_t  *sa = privdata;

    if (reply != NULL && reply->type == REDIS_REPLY_ERROR) {
        /* the user, never the password */
        ngx_log_error(NGX_LOG_ERR, bs_log, 0,
                      "bitcache: sentinel %V: AUTH as user \"%V\" failed: %s",
                      &sa->text,
                      bs_rcf->sentinel_user.len ? &bs_rcf->sentinel_user
                                                : &bs_default_user,
                      bc_log_text(b, sizeof(b), reply->str,
                                  bc_error_word_len(reply->str, reply->len)));
    }
}


static void
ngx_http_bitcache_sentinel_on_connect(const redisAsyncContext *ac, int status)
{
    if (ac != bs_ac || status == REDIS_OK) {
        return;
    }

    /* hiredis frees the context right after this callback */
    ngx_log_error(NGX_LOG_ERR, bs_log, 0,
                  "bitcache: sentinel %V: %s",
                  &((ngx_http_bitcache_redis_addr_t *) ac->data)->text,
                  ac->errstr);

    if (bs_timeout_ev.timer_set) {
        ngx_del_timer(&bs_timeout_ev);
    }

    bs_ac = NULL;
    ngx_http_bitcache_sentinel_next();
}


static void
ngx_http_bitcache_sentinel_on_disconnect(const redisAsyncContext *ac,
    int status)
{
    if (ac != bs_ac) {
        return;
    }

    if (bs_timeout_ev.timer_set) {
        ngx_del_timer(&bs_timeout_ev);
    }

    bs_ac = NULL;
    ngx_http_bitcache_sentinel_next();
}


static void
ngx_http_bitcache_sentinel_timeout_handler(ngx_event_t *ev)
{
    redisAsyncContext  *ac = bs_ac;

    if (ac == NULL) {
        return;
    }

    ngx_log_error(NGX_LOG_ERR, bs_log, 0,
                  "bitcache: sentinel %V did not answer within %Mms",
                  &((ngx_http_bitcache_redis_addr_t *) ac->data)->text,
                  bs_rcf->timeout);

    bs_ac = NULL;
    redisAsyncFree(ac);

    ngx_http_bitcache_sentinel_next();
}


static void
ngx_http_bitcache_sentinel_next(void)
{
    redisAsyncContext               *ac;
    ngx_http_bitcache_redis_addr_t  *sa;

    for ( ;; ) {
        if (bs_asked == bs_rcf->sentinels->nelts) {
            ngx_http_bitcache_sentinel_finish(NGX_ERROR,
                                              "no sentinel named the primary");
            return;
        }

        sa = bs_rcf->sentinels->elts;
        sa = &sa[bs_next];
        bs_next = (bs_next + 1) % bs_rcf->sentinels->nelts;
        bs_asked++;

        ac = redisAsyncConnect((char *) sa->host.data, (int) sa->port);
        if (ac == NULL) {
            continue;
        }

        if (ac->err || bs_attach(ac) != NGX_OK) {
            ngx_log_error(NGX_LOG_ERR, bs_log, 0, "bitcache: sentinel %V: %s",
                          &sa->text, ac->err ? ac->errstr
                                             : "no free connection");
            redisAsyncFree(ac);
            continue;
        }

        ac->data = sa;
        bs_ac = ac;
        redisAsyncSetConnectCallback(ac,
                                     ngx_http_bitcache_sentinel_on_connect);
        redisAsyncSetDisconnectCallback(ac,
                                      ngx_http_bitcache_sentinel_on_disconnect);

        if (bs_rcf->sentinel_user.len) {
            redisAsyncCommand(ac, ngx_http_bitcache_sentinel_auth_reply, sa,
                              "AUTH %b %b", bs_rcf->sentinel_user.data,
                              bs_rcf->sentinel_user.len,
                              bs_rcf->sentinel_password.data,
                              bs_rcf->sentinel_password.len);

        } else if (bs_rcf->sentinel_password.len) {
            redisAsyncCommand(ac, ngx_http_bitcache_sentinel_auth_reply, sa,
                              "AUTH %b", bs_rcf->sentinel_password.data,
                              bs_rcf->sentinel_password.len);
        }

        redisAsyncCommand(ac, ngx_http_bitcache_sentinel_reply, sa,
                          "SENTINEL get-master-addr-by-name %b",
                          bs_rcf->master.data, bs_rcf->master.len);

        ngx_add_timer(&bs_timeout_ev, bs_rcf->timeout);
        return;
    }
}


static void
ngx_http_bitcache_sentinel_finish(ngx_int_t rc, const char *why)
{
    ngx_http_bitcache_sentinel_pt  done = bs_done;

    bs_done = NULL;

    if (rc == NGX_OK) {
        /* the one that answered is asked first next time */
        bs_next = (bs_next + bs_rcf->sentinels->nelts - 1)
                  % bs_rcf->sentinels->nelts;
    }

    if (done) {
        done(rc, why);
    }
}


void
ngx_http_bitcache_sentinel_ask(ngx_http_bitcache_redis_conf_t *rcf,
    ngx_log_t *log, ngx_http_bitcache_sentinel_attach_pt attach,
    ngx_http_bitcache_sentinel_pt done)
{
    if (bs_done != NULL) {
        return;
    }

    bs_rcf = rcf;
    bs_log = log;
    bs_attach = attach;
    bs_done = done;
    bs_asked = 0;

    bs_timeout_ev.handler = ngx_http_bitcache_sentinel_timeout_handler;
    bs_timeout_ev.log = log;
    bs_timeout_ev.data = rcf;
    bs_timeout_ev.cancelable = 1;

    ngx_http_bitcache_sentinel_next();
}


void
ngx_http_bitcache_sentinel_stop(void)
{
    redisAsyncContext  *ac = bs_ac;

    bs_done = NULL;

    if (bs_timeout_ev.timer_set) {
        ngx_del_timer(&bs_timeout_ev);
    }

    if (ac != NULL) {
        bs_ac = NULL;
        redisAsyncFree(ac);
    }
}
