/* bitcache watch: commands on the watcher's Redis connection, one at a
 * time or the replies of a pipeline. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "watch_log.h"
#include "watch_redis.h"

/* A failover under Sentinel: the old primary is now a replica (READONLY)
 * or a replica is loading; mark the connection broken so that the next
 * round reconnects, asking the sentinels for the new primary. */
static void
failover_check(watcher *w, const redisReply *r)
{
    if (r->type == REDIS_REPLY_ERROR
        && (strncmp(r->str, "READONLY", 8) == 0 || strncmp(r->str, "LOADING", 7) == 0)
        && w->rc && !w->rc->err) {
        w->rc->err = REDIS_ERR_OTHER;
        snprintf(w->rc->errstr, sizeof(w->rc->errstr), "not the primary (%.60s)", r->str);
    }
}

redisReply *
wcmd(watcher *w, const char *fmt, ...)
{
    redisReply *r;
    va_list ap;

    if (w->rc == NULL) {
        return NULL;
    }
    va_start(ap, fmt);
    r = redisvCommand(w->rc, fmt, ap);
    va_end(ap);
    if (r == NULL) {
        w->m.redis_errors++;
        wlog("redis: %s", w->rc->errstr);
        return NULL;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        w->m.redis_errors++;
        wlog("redis: %s", r->str);
        failover_check(w, r);
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

void
wbroken(watcher *w)
{
    if (w->rc && !w->rc->err) {
        w->rc->err = REDIS_ERR_OTHER;
        snprintf(w->rc->errstr, sizeof(w->rc->errstr), "a pipeline went wrong");
    }
}

int
drain(watcher *w, long n)
{
    redisReply *e;

    for (; n > 0; n--) {
        if (redisGetReply(w->rc, (void **) &e) != REDIS_OK) {
            w->m.redis_errors++;
            wlog("redis: %s", w->rc->errstr);
            return 0;
        }
        if (e->type == REDIS_REPLY_ERROR) {
            w->m.redis_errors++;
            wlog("redis: %s", e->str);
            failover_check(w, e);
        }
        freeReplyObject(e);
    }
    return 1;
}
