/*
 * The worker's Redis connection: hiredis' async API on nginx's event loop.
 *
 * hiredis has no nginx adapter, so this file is one: the context's socket
 * gets an nginx connection whose events call redisAsyncHandleRead/Write.
 * Events are level-triggered because hiredis reads at most 16 KiB per
 * call; with epoll's edge-triggered mode the rest could sit unread.
 *
 * hiredis frees the context itself after a failed connect and after a
 * disconnect; both paths end in this file's callbacks, which forget the
 * context and schedule a reconnect with backoff. Pending commands are
 * then answered with a NULL reply, which callers turn into 503.
 *
 * Under Sentinel each (re)connect first asks where the primary is
 * (ngx_http_bitcache_sentinel.c), and a READONLY or LOADING answer drops
 * the connection so that the next one asks again.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include <hiredis/async.h>

#include "escape.h"
#include "ngx_http_bitcache_redis.h"
#include "ngx_http_bitcache_metrics.h"
#include "ngx_http_bitcache_sentinel.h"


#define NGX_HTTP_BITCACHE_BACKOFF_MIN  50
#define NGX_HTTP_BITCACHE_BACKOFF_MAX  2000


struct ngx_http_bitcache_redis_req_s {
    ngx_http_bitcache_redis_handler_pt   handler;
    void                                *data;    /* NULL once cancelled */
    uint64_t                             sent;    /* for the latency */
};


static void ngx_http_bitcache_redis_connect(void);
static void ngx_http_bitcache_redis_connect_to(void);
static void ngx_http_bitcache_redis_schedule(void);
static void ngx_http_bitcache_redis_lost(const char *why);
static void ngx_http_bitcache_redis_drop(const char *why);


static ngx_str_t  bc_default_user = ngx_string("default");

static ngx_http_bitcache_redis_conf_t  *bc_rcf;
static ngx_log_t                       *bc_log;
static redisAsyncContext               *bc_ac;
static ngx_flag_t                       bc_connected;
static ngx_msec_t                       bc_backoff;
static ngx_msec_t                       bc_last_answer;
static ngx_uint_t                       bc_outstanding;
static ngx_event_t                      bc_reconnect_ev;
static ngx_event_t                      bc_connect_timeout_ev;
static ngx_event_t                      bc_flush_ev;
static ngx_flag_t                       bc_flushing;
static ngx_flag_t                       bc_asking;    /* the sentinels */


/* adapter: hiredis asks for events, nginx delivers them */

static void
ngx_http_bitcache_redis_read_handler(ngx_event_t *ev)
{
    ngx_connection_t  *c = ev->data;

    redisAsyncHandleRead(c->data);
}


static void
ngx_http_bitcache_redis_flush_handler(ngx_event_t *ev)
{
    if (bc_ac == NULL) {
        return;
    }

    bc_flushing = 1;
    redisAsyncHandleWrite(bc_ac);
    bc_flushing = 0;
}


static void
ngx_http_bitcache_redis_write_handler(ngx_event_t *ev)
{
    ngx_connection_t  *c = ev->data;

    redisAsyncHandleWrite(c->data);
}


static void
ngx_http_bitcache_redis_add_read(void *privdata)
{
    ngx_connection_t  *c = privdata;

    if (!c->read->active) {
        if (ngx_add_event(c->read, NGX_READ_EVENT, NGX_LEVEL_EVENT) != NGX_OK) {
            ngx_log_error(NGX_LOG_ALERT, bc_log, 0,
                          "bitcache: redis %V: adding read event failed",
                          &bc_rcf->addr);
        }
    }
}


static void
ngx_http_bitcache_redis_del_read(void *privdata)
{
    ngx_connection_t  *c = privdata;

    if (c->read->active) {
        (void) ngx_del_event(c->read, NGX_READ_EVENT, 0);
    }
}


/*
 * Commands queued while nginx handles this round of events are written
 * together at its end (a posted event), without a trip through epoll;
 * only a socket that cannot take everything gets a real write event.
 * Until the connect completes, writability is what tells hiredis so.
 */
static void
ngx_http_bitcache_redis_add_write(void *privdata)
{
    ngx_connection_t  *c = privdata;

    if (bc_connected && !bc_flushing && !c->write->active) {
        if (!bc_flush_ev.posted) {
            ngx_post_event(&bc_flush_ev, &ngx_posted_events);
        }
        return;
    }

    if (!c->write->active) {
        if (ngx_add_event(c->write, NGX_WRITE_EVENT, NGX_LEVEL_EVENT) != NGX_OK) {
            ngx_log_error(NGX_LOG_ALERT, bc_log, 0,
                          "bitcache: redis %V: adding write event failed",
                          &bc_rcf->addr);
        }
    }
}


static void
ngx_http_bitcache_redis_del_write(void *privdata)
{
    ngx_connection_t  *c = privdata;

    if (c->write->active) {
        (void) ngx_del_event(c->write, NGX_WRITE_EVENT, 0);
    }
}


/*
 * hiredis is about to free the context and close the socket: detach the
 * nginx connection while the descriptor is still ours (a new connection
 * may soon reuse the same number), without closing it.
 */
static void
ngx_http_bitcache_redis_cleanup(void *privdata)
{
    ngx_connection_t  *c = privdata;

    ngx_http_bitcache_redis_del_read(c);
    ngx_http_bitcache_redis_del_write(c);

    if (bc_flush_ev.posted) {
        ngx_delete_posted_event(&bc_flush_ev);
    }

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }
    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    c->fd = (ngx_socket_t) -1;
    ngx_free_connection(c);
}


ngx_int_t
ngx_http_bitcache_redis_attach(redisAsyncContext *ac)
{
    ngx_connection_t  *c;

    c = ngx_get_connection(ac->c.fd, bc_log);
    if (c == NULL) {
        return NGX_ERROR;
    }

    c->data = ac;
    c->read->handler = ngx_http_bitcache_redis_read_handler;
    c->write->handler = ngx_http_bitcache_redis_write_handler;
    c->read->log = bc_log;
    c->write->log = bc_log;

    ac->ev.data = c;
    ac->ev.addRead = ngx_http_bitcache_redis_add_read;
    ac->ev.delRead = ngx_http_bitcache_redis_del_read;
    ac->ev.addWrite = ngx_http_bitcache_redis_add_write;
    ac->ev.delWrite = ngx_http_bitcache_redis_del_write;
    ac->ev.cleanup = ngx_http_bitcache_redis_cleanup;

    return NGX_OK;
}


/* connection life cycle */

static void
ngx_http_bitcache_redis_on_connect(const redisAsyncContext *ac, int status)
{
    if (ac != bc_ac) {
        return;
    }

    if (bc_connect_timeout_ev.timer_set) {
        ngx_del_timer(&bc_connect_timeout_ev);
    }

    if (status != REDIS_OK) {
        /* hiredis frees the context right after this callback */
        bc_ac = NULL;
        ngx_http_bitcache_redis_lost(ac->errstr);
        return;
    }

    if (bc_rcf->sentinels) {
        ngx_log_error(NGX_LOG_INFO, bc_log, 0,
                      "bitcache: connected to redis %V at %V:%i",
                      &bc_rcf->addr, &bc_rcf->host, bc_rcf->port);

    } else {
        ngx_log_error(NGX_LOG_INFO, bc_log, 0,
                      "bitcache: connected to redis %V", &bc_rcf->addr);
    }

    ngx_http_bitcache_count(NGX_HTTP_BITCACHE_M_REDIS_CONNECTS, 1);

    bc_connected = 1;
    bc_backoff = NGX_HTTP_BITCACHE_BACKOFF_MIN;
    bc_last_answer = ngx_current_msec;
}


static void
ngx_http_bitcache_redis_on_disconnect(const redisAsyncContext *ac, int status)
{
    if (ac != bc_ac) {
        return;
    }

    bc_ac = NULL;
    ngx_http_bitcache_redis_lost(status == REDIS_OK ? "closed" : ac->errstr);
}


static void
ngx_http_bitcache_redis_lost(const char *why)
{
    bc_connected = 0;
    bc_outstanding = 0;

    ngx_http_bitcache_count(NGX_HTTP_BITCACHE_M_REDIS_RECONNECTS, 1);

    ngx_log_error(NGX_LOG_ERR, bc_log, 0,
                  "bitcache: redis %V unavailable: %s, retrying in %Mms",
                  &bc_rcf->addr, why ? why : "error", bc_backoff);

    ngx_http_bitcache_redis_schedule();
}


/* Frees a context that hiredis still owns (connect timeout, dead peer). */
static void
ngx_http_bitcache_redis_drop(const char *why)
{
    redisAsyncContext  *ac = bc_ac;

    if (ac == NULL) {
        return;
    }

    bc_ac = NULL;

    if (bc_connect_timeout_ev.timer_set) {
        ngx_del_timer(&bc_connect_timeout_ev);
    }

    /* runs pending callbacks with NULL, then the cleanup hook */
    redisAsyncFree(ac);

    ngx_http_bitcache_redis_lost(why);
}


static void
ngx_http_bitcache_redis_schedule(void)
{
    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    if (!bc_reconnect_ev.timer_set) {
        ngx_add_timer(&bc_reconnect_ev, bc_backoff);
    }

    bc_backoff *= 2;
    if (bc_backoff > NGX_HTTP_BITCACHE_BACKOFF_MAX) {
        bc_backoff = NGX_HTTP_BITCACHE_BACKOFF_MAX;
    }
}


/*
 * An ACL that lacks a command or a key shows as an error reply to each
 * caller, which answers 503; this line tells the operator which user to
 * fix. Redis' message names the command, never a value.
 */
static void
ngx_http_bitcache_redis_noperm(redisReply *reply)
{
    char  said[512];

    if (reply->type == REDIS_REPLY_ERROR && reply->len >= 6
        && ngx_strncmp(reply->str, "NOPERM", 6) == 0)
    {
        ngx_log_error(NGX_LOG_ERR, bc_log, 0,
                      "bitcache: redis %V: user \"%V\" is not allowed: %s",
                      &bc_rcf->addr,
                      bc_rcf->user.len ? &bc_rcf->user : &bc_default_user,
                      bc_log_text(said, sizeof(said), reply->str, reply->len));
    }
}


/*
 * Under Sentinel, a server that says READONLY was demoted to a replica
 * (the old primary back after a failover) and one that says LOADING is
 * not ready: the connection is dropped (commands behind this one are
 * answered with NULL, 503) and the next one asks the sentinels again.
 */
static void
ngx_http_bitcache_redis_failover(redisAsyncContext *ac, redisReply *reply)
{
    if (bc_rcf->sentinels == NULL || ac != bc_ac || reply == NULL
        || reply->type != REDIS_REPLY_ERROR)
    {
        return;
    }

    if ((reply->len >= 8 && ngx_strncmp(reply->str, "READONLY", 8) == 0)
        || (reply->len >= 7 && ngx_strncmp(reply->str, "LOADING", 7) == 0))
    {
        ngx_http_bitcache_redis_drop("not the primary any more");
    }
}


static void
ngx_http_bitcache_redis_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    redisReply                     *reply = r;
    ngx_http_bitcache_redis_req_t  *req = privdata;

    ngx_http_bitcache_count_redis_reply(req->sent, reply);

    if (reply != NULL) {
        bc_last_answer = ngx_current_msec;
        if (bc_outstanding) {
            bc_outstanding--;
        }

        ngx_http_bitcache_redis_noperm(reply);
    }

    if (req->data) {
        req->handler(req->data, reply);
    }

    ngx_free(req);

    ngx_http_bitcache_redis_failover(ac, reply);
}


static void
ngx_http_bitcache_redis_setup_reply(redisAsyncContext *ac, void *r,
    void *privdata)
{
    char         said[512];
    redisReply  *reply = r;

    if (reply == NULL) {
        return;
    }

    bc_last_answer = ngx_current_msec;

    if (reply->type != REDIS_REPLY_ERROR) {
        return;
    }

    /* never log the password: privdata names the command, and of an AUTH
     * error only its first word (the rest may quote the password). The
     * words escaped: under Sentinel the server may be one that a lying
     * sentinel named, and a newline would forge a log line */
    ngx_log_error(NGX_LOG_ERR, bc_log, 0,
                  "bitcache: redis %V: %s as user \"%V\" failed: %s",
                  &bc_rcf->addr, (char *) privdata,
                  bc_rcf->user.len ? &bc_rcf->user : &bc_default_user,
                  bc_log_text(said, sizeof(said), reply->str,
                              ngx_strcmp((char *) privdata, "AUTH") == 0
                              ? bc_error_word_len(reply->str, reply->len)
                              : reply->len));

    /*
     * Commands pipelined behind a refused AUTH would run as whoever the
     * connection is now (Redis' default user): drop it, so that they are
     * answered with NULL (503), and try again after the backoff.
     */
    if (ac == bc_ac && ngx_strcmp((char *) privdata, "AUTH") == 0) {
        ngx_http_bitcache_redis_drop("AUTH refused");
    }
}


static void
ngx_http_bitcache_redis_primary(ngx_int_t rc, const char *why)
{
    bc_asking = 0;

    if (rc != NGX_OK) {
        ngx_http_bitcache_redis_lost(why);
        return;
    }

    ngx_http_bitcache_redis_connect_to();
}


/* Under Sentinel, every (re)connect first asks where the primary is. */
static void
ngx_http_bitcache_redis_connect(void)
{
    if (bc_rcf->sentinels == NULL) {
        ngx_http_bitcache_redis_connect_to();
        return;
    }

    if (!bc_asking) {
        bc_asking = 1;
        ngx_http_bitcache_sentinel_ask(bc_rcf, bc_log,
                                       ngx_http_bitcache_redis_attach,
                                       ngx_http_bitcache_redis_primary);
    }
}


static void
ngx_http_bitcache_redis_connect_to(void)
{
    redisAsyncContext  *ac;
    char                db[NGX_INT_T_LEN + 1];

    if (bc_rcf->port) {
        ac = redisAsyncConnect((char *) bc_rcf->host.data, (int) bc_rcf->port);
    } else {
        ac = redisAsyncConnectUnix((char *) bc_rcf->host.data);
    }

    if (ac == NULL) {
        ngx_http_bitcache_redis_lost("out of memory");
        return;
    }

    if (ac->err) {
        ngx_http_bitcache_redis_lost(ac->errstr);
        redisAsyncFree(ac);
        return;
    }

    if (ngx_http_bitcache_redis_attach(ac) != NGX_OK) {
        redisAsyncFree(ac);
        ngx_http_bitcache_redis_lost("no free connection");
        return;
    }

    bc_ac = ac;
    redisAsyncSetConnectCallback(ac, ngx_http_bitcache_redis_on_connect);
    redisAsyncSetDisconnectCallback(ac, ngx_http_bitcache_redis_on_disconnect);

    /* queued now, sent first once the socket connects */
    if (bc_rcf->user.len) {
        redisAsyncCommand(ac, ngx_http_bitcache_redis_setup_reply, "AUTH",
                          "AUTH %b %b", bc_rcf->user.data, bc_rcf->user.len,
                          bc_rcf->password.data, bc_rcf->password.len);

    } else if (bc_rcf->password.len) {
        redisAsyncCommand(ac, ngx_http_bitcache_redis_setup_reply, "AUTH",
                          "AUTH %b", bc_rcf->password.data,
                          bc_rcf->password.len);
    }

    if (bc_rcf->db) {
        ngx_sprintf((u_char *) db, "%i%Z", bc_rcf->db);
        redisAsyncCommand(ac, ngx_http_bitcache_redis_setup_reply, "SELECT",
                          "SELECT %s", db);
    }

    /* also makes hiredis wait for writability, i.e. the connect */
    redisAsyncCommand(ac, ngx_http_bitcache_redis_setup_reply, "PING", "PING");

    ngx_add_timer(&bc_connect_timeout_ev, bc_rcf->timeout);
}


static void
ngx_http_bitcache_redis_reconnect_handler(ngx_event_t *ev)
{
    if (bc_ac == NULL && !bc_asking) {
        ngx_http_bitcache_redis_connect();
    }
}


static void
ngx_http_bitcache_redis_connect_timeout_handler(ngx_event_t *ev)
{
    if (bc_ac != NULL && !bc_connected) {
        ngx_http_bitcache_redis_drop("connect timed out");
    }
}


ngx_int_t
ngx_http_bitcache_redis_init_worker(ngx_cycle_t *cycle,
    ngx_http_bitcache_redis_conf_t *rcf)
{
    bc_rcf = rcf;
    bc_log = cycle->log;
    bc_backoff = NGX_HTTP_BITCACHE_BACKOFF_MIN;

    bc_reconnect_ev.handler = ngx_http_bitcache_redis_reconnect_handler;
    bc_reconnect_ev.log = cycle->log;
    bc_reconnect_ev.data = rcf;
    bc_reconnect_ev.cancelable = 1;

    bc_connect_timeout_ev.handler =
                               ngx_http_bitcache_redis_connect_timeout_handler;
    bc_connect_timeout_ev.log = cycle->log;
    bc_connect_timeout_ev.data = rcf;
    bc_connect_timeout_ev.cancelable = 1;

    bc_flush_ev.handler = ngx_http_bitcache_redis_flush_handler;
    bc_flush_ev.log = cycle->log;
    bc_flush_ev.data = rcf;

    ngx_http_bitcache_redis_connect();

    return NGX_OK;
}


void
ngx_http_bitcache_redis_exit_worker(void)
{
    redisAsyncContext  *ac = bc_ac;

    if (bc_reconnect_ev.timer_set) {
        ngx_del_timer(&bc_reconnect_ev);
    }
    if (bc_connect_timeout_ev.timer_set) {
        ngx_del_timer(&bc_connect_timeout_ev);
    }

    if (ac != NULL) {
        bc_ac = NULL;
        redisAsyncFree(ac);
    }

    ngx_http_bitcache_sentinel_stop();
    bc_asking = 0;
}


static ngx_int_t
ngx_http_bitcache_redis_send(ngx_http_bitcache_redis_req_t *req, int argc,
    const char **argv, const size_t *argvlen)
{
    if (bc_ac == NULL) {
        /* a request after a long quiet spell need not wait for the timer */
        if (bc_rcf == NULL || bc_reconnect_ev.timer_set || bc_asking) {
            return NGX_ERROR;
        }
        ngx_http_bitcache_redis_connect();
        if (bc_ac == NULL) {
            return NGX_ERROR;
        }
    }

    if (redisAsyncCommandArgv(bc_ac, ngx_http_bitcache_redis_reply, req,
                              argc, argv, argvlen)
        != REDIS_OK)
    {
        return NGX_ERROR;
    }

    req->sent = ngx_http_bitcache_count_redis_sent();

    if (bc_outstanding++ == 0) {
        /* the silence clock starts with the first unanswered command */
        bc_last_answer = ngx_current_msec;
    }

    return NGX_OK;
}


ngx_http_bitcache_redis_req_t *
ngx_http_bitcache_redis_command(ngx_http_bitcache_redis_handler_pt handler,
    void *data, int argc, const char **argv, const size_t *argvlen)
{
    ngx_http_bitcache_redis_req_t  *req;

    req = ngx_alloc(sizeof(ngx_http_bitcache_redis_req_t), bc_log);
    if (req == NULL) {
        return NULL;
    }

    req->handler = handler;
    req->data = data;

    if (ngx_http_bitcache_redis_send(req, argc, argv, argvlen) != NGX_OK) {
        ngx_http_bitcache_count_redis_unsent();
        ngx_free(req);
        return NULL;
    }

    return req;
}


void
ngx_http_bitcache_redis_cancel(ngx_http_bitcache_redis_req_t *req)
{
    /* hiredis still owns it and frees it through the reply callback */
    req->data = NULL;
}


void
ngx_http_bitcache_redis_timed_out(void)
{
    if (bc_ac != NULL && bc_outstanding
        && ngx_current_msec - bc_last_answer >= bc_rcf->timeout)
    {
        ngx_http_bitcache_redis_drop("no answer within timeout");
    }
}
