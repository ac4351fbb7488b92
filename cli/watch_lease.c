/* bitcache watch: the leader lease (docs/watcher.md, "Two watchers"):
 * taken with SET NX PX, renewed and released only by its holder. */
#include <stdio.h>

#include "pay_record.h"
#include "watch_lease.h"
#include "watch_log.h"
#include "watch_redis.h"

#define LEASE_RENEW_SCRIPT \
    "if redis.call('GET', KEYS[1]) == ARGV[1] then " \
    "return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end"
#define LEASE_RELEASE_SCRIPT \
    "if redis.call('GET', KEYS[1]) == ARGV[1] then " \
    "return redis.call('DEL', KEYS[1]) else return 0 end"

int
lease_renew(watcher *w)
{
    redisReply *r;
    char key[256], ms[24];
    int held;

    snprintf(key, sizeof(key), "%s" BC_KEY_WATCHER_LEASE, w->prefix);
    snprintf(ms, sizeof(ms), "%ld", w->lease_ms);
    if (w->leader) {
        r = wcmd(w, "EVAL %s 1 %s %s %s", LEASE_RENEW_SCRIPT, key, w->owner, ms);
        held = r && r->type == REDIS_REPLY_INTEGER && r->integer == 1;
        if (r) freeReplyObject(r);
        if (!held) {
            w->leader = 0;
            wlog("lost the lease %s; standing by", key);
        }
        return held;
    }
    r = wcmd(w, "SET %s %s NX PX %s", key, w->owner, ms);
    held = r && r->type == REDIS_REPLY_STATUS;
    if (r) freeReplyObject(r);
    if (held) {
        w->leader = 1;
        wlog("leader (lease %s, %ld ms)", key, w->lease_ms);
    }
    return held;
}

void
lease_release(watcher *w)
{
    redisReply *r;
    char key[256];

    if (!w->leader || w->rc == NULL) return;
    snprintf(key, sizeof(key), "%s" BC_KEY_WATCHER_LEASE, w->prefix);
    r = wcmd(w, "EVAL %s 1 %s %s", LEASE_RELEASE_SCRIPT, key, w->owner);
    if (r) freeReplyObject(r);
    w->leader = 0;
}
