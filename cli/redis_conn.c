#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "args.h"
#include "commands.h"
#include "escape.h"
#include "redis_conn.h"
#include "sentinel_reply.h"
#include "token_record.h"

void
redis_opts_init(redis_opts *o)
{
    const char *env = getenv(ENV_REDIS_PASSWORD);

    memset(o, 0, sizeof(*o));
    o->prefix = BC_REDIS_DEFAULT_PREFIX;
    if (env && *env) o->password = env;
}

int
redis_opts_take(redis_opts *o, const char *cmd, int c, const char *arg)
{
    char *end, err[300];
    long v;

    switch (c) {
    case 'R':
        o->addr = arg;
        return 1;
    case REDIS_OPT_SENTINEL:
        /* messages name the sentinels where they would name --redis */
        if (o->addr == NULL) o->addr = arg;
        o->sentinel = arg;
        return 1;
    case REDIS_OPT_MASTER:
        o->master = arg;
        return 1;
    case REDIS_OPT_SUSER:
        o->sentinel_user = arg;
        return 1;
    case REDIS_OPT_SPWFILE:
        if ((o->sentinel_password = read_password_file(arg, err, sizeof(err))) == NULL) {
            usage_error(cmd, "--redis-sentinel-password-file: %s", err);
            return -1;
        }
        return 1;
    case REDIS_OPT_USER:
        if (*arg == '\0') {
            usage_error(cmd, "--redis-user: empty user name");
            return -1;
        }
        o->user = arg;
        return 1;
    case 'P':
    case 'Y':
        if (o->password_given) {
            usage_error(cmd, "give one of --redis-password and --redis-password-file");
            return -1;
        }
        o->password_given = 1;
        if (c == 'P') {
            o->password = arg;
            return 1;
        }
        if ((o->password = read_password_file(arg, err, sizeof(err))) == NULL) {
            usage_error(cmd, "--redis-password-file: %s", err);
            return -1;
        }
        return 1;
    case 'X':
        o->prefix = arg;
        return 1;
    case 'D':
        v = strtol(arg, &end, 10);
        if (*arg == '\0' || *end != '\0' || v < 0 || v > 1000000) {
            usage_error(cmd, "--redis-db: \"%s\" is not a database number", arg);
            return -1;
        }
        o->db = (int) v;
        return 1;
    }
    return 0;
}

/* host:port, [v6]:port or unix:/path; NULL (after saying why) on a bad port */
static redisContext *
connect_addr(const char *addr, size_t len, struct timeval tv, const char *cmd)
{
    char host[256];
    const char *colon = NULL, *p;
    char *end;
    long port = 6379;

    if (len >= sizeof(host)) len = sizeof(host) - 1;
    memcpy(host, addr, len);
    host[len] = '\0';
    if (strncmp(host, "unix:", 5) == 0) {
        return redisConnectUnixWithTimeout(host + 5, tv);
    }
    for (p = host; *p; p++) if (*p == ':') colon = p;
    if (colon != NULL) {
        port = strtol(colon + 1, &end, 10);
        if (colon[1] == '\0' || *end != '\0' || port <= 0 || port > 65535) {
            fprintf(stderr, "bitcache %s: bad port in redis address \"%s\"\n", cmd, host);
            return NULL;
        }
        host[colon - host] = '\0';
    }
    /* [::1]:6379 */
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        memmove(host, host + 1, strlen(host) - 2);
        host[strlen(host) - 2] = '\0';
    }
    return redisConnectWithTimeout(host, (int) port, tv);
}

/* Asks the sentinels in turn for the primary of o->master; the first
 * answer wins. Writes "ip:port" into out. */
static int
sentinel_primary(const redis_opts *o, const char *cmd, char *out, size_t outlen)
{
    struct timeval tv = { 2, 0 };
    const char *s = o->sentinel, *comma;
    char ip[BC_SENTINEL_IP_MAX + 1], why[64];
    redisContext *c;
    redisReply *r;
    unsigned port;
    size_t len;
    char said[512];

    while (*s) {
        comma = strchr(s, ',');
        len = comma ? (size_t) (comma - s) : strlen(s);
        c = connect_addr(s, len, tv, cmd);
        if (c != NULL && !c->err) {
            redisSetTimeout(c, tv);
            if (o->sentinel_password) {
                r = o->sentinel_user
                    ? redisCommand(c, "AUTH %s %s", o->sentinel_user, o->sentinel_password)
                    : redisCommand(c, "AUTH %s", o->sentinel_password);
                if (r == NULL || r->type == REDIS_REPLY_ERROR) {
                    /* the user, never the password: of the error only its
                     * first word (the rest may quote the password) */
                    fprintf(stderr, "bitcache %s: sentinel %.*s: AUTH as user \"%s\" failed: %s\n",
                            cmd, (int) len, s, o->sentinel_user ? o->sentinel_user : "default",
                            r ? bc_log_text(said, sizeof(said), r->str,
                                            bc_error_word_len(r->str, r->len))
                              : c->errstr);
                }
                if (r) freeReplyObject(r);
            }
            r = redisCommand(c, "SENTINEL get-master-addr-by-name %s", o->master);
            why[0] = '\0';
            if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2
                && r->element[0]->type == REDIS_REPLY_STRING
                && r->element[1]->type == REDIS_REPLY_STRING
                && bc_sentinel_primary(r->element[0]->str, r->element[0]->len,
                                       r->element[1]->str, r->element[1]->len,
                                       ip, &port, why, sizeof(why))) {
                snprintf(out, outlen, strchr(ip, ':') ? "[%s]:%u" : "%s:%u", ip, port);
                freeReplyObject(r);
                redisFree(c);
                return 1;
            }
            if (why[0]) {
                /* a name would be resolved (DNS, blocking the watcher) */
                fprintf(stderr, "bitcache %s: sentinel %.*s names the primary \"%s\" by "
                        "\"%s\": %s\n", cmd, (int) len, s, o->master,
                        bc_log_text(said, sizeof(said), r->element[0]->str,
                                    r->element[0]->len), why);
            } else {
                fprintf(stderr, "bitcache %s: sentinel %.*s does not know \"%s\": %s\n", cmd,
                        (int) len, s, o->master,
                        r == NULL ? c->errstr : r->type == REDIS_REPLY_ERROR
                        ? bc_log_text(said, sizeof(said), r->str, r->len) : "no address");
            }
            if (r) freeReplyObject(r);
        } else {
            fprintf(stderr, "bitcache %s: cannot connect to sentinel %.*s: %s\n", cmd,
                    (int) len, s, c ? c->errstr : "bad address");
        }
        if (c) redisFree(c);
        s += len;
        if (*s == ',') s++;
    }
    return 0;
}

redisContext *
redis_open(const redis_opts *o, const char *cmd)
{
    struct timeval tv = { 5, 0 };
    redisContext *c;
    redisReply *r;
    char primary[300], said[512];
    const char *addr = o->addr;

    if (o->sentinel) {
        if (o->addr != o->sentinel) {
            fprintf(stderr, "bitcache %s: give --redis or --redis-sentinel, not both\n", cmd);
            return NULL;
        }
        if (o->master == NULL) {
            fprintf(stderr, "bitcache %s: --redis-sentinel needs --redis-master NAME\n", cmd);
            return NULL;
        }
        if (o->sentinel_user && !o->sentinel_password) {
            fprintf(stderr, "bitcache %s: --redis-sentinel-user needs "
                    "--redis-sentinel-password-file\n", cmd);
            return NULL;
        }
        if (!sentinel_primary(o, cmd, primary, sizeof(primary))) {
            fprintf(stderr, "bitcache %s: no sentinel named the primary of \"%s\"\n", cmd,
                    o->master);
            return NULL;
        }
        addr = primary;
    } else if (o->master) {
        fprintf(stderr, "bitcache %s: --redis-master needs --redis-sentinel\n", cmd);
        return NULL;
    }

    c = connect_addr(addr, strlen(addr), tv, cmd);
    if (c == NULL || c->err) {
        fprintf(stderr, "bitcache %s: cannot connect to redis %s: %s\n", cmd,
                addr, c ? c->errstr : "bad address");
        if (c) redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv);

    if (o->user && !o->password) {
        fprintf(stderr, "bitcache %s: --redis-user %s needs a password "
                "(--redis-password-file or $%s)\n", cmd, o->user,
                ENV_REDIS_PASSWORD);
        redisFree(c);
        return NULL;
    }
    if (o->password) {
        if (o->user) {
            r = redisCommand(c, "AUTH %s %s", o->user, o->password);
        } else {
            r = redisCommand(c, "AUTH %s", o->password);
        }
        if (r == NULL || r->type == REDIS_REPLY_ERROR) {
            /* the user, never the password: of the error only its first
             * word (the rest may quote the password) */
            fprintf(stderr, "bitcache %s: redis AUTH as user \"%s\" failed: %s\n",
                    cmd, o->user ? o->user : "default",
                    r ? bc_log_text(said, sizeof(said), r->str, bc_error_word_len(r->str, r->len))
                      : c->errstr);
            if (r) freeReplyObject(r);
            redisFree(c);
            return NULL;
        }
        freeReplyObject(r);
    }
    if (o->db) {
        r = redisCommand(c, "SELECT %d", o->db);
        if (r == NULL || r->type == REDIS_REPLY_ERROR) {
            fprintf(stderr, "bitcache %s: redis SELECT %d failed: %s\n", cmd,
                    o->db, r ? bc_log_text(said, sizeof(said), r->str, r->len) : c->errstr);
            if (r) freeReplyObject(r);
            redisFree(c);
            return NULL;
        }
        freeReplyObject(r);
    }
    return c;
}

redisReply *
redis_run(redisContext *c, const char *cmd, int argc, const char **argv,
    const size_t *argvlen)
{
    redisReply *r;
    char said[512];

    r = redisCommandArgv(c, argc, argv, argvlen);
    if (r == NULL) {
        fprintf(stderr, "bitcache %s: redis: %s\n", cmd, c->errstr);
        return NULL;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        fprintf(stderr, "bitcache %s: redis %s: %s\n", cmd, argv[0],
                bc_log_text(said, sizeof(said), r->str, r->len));
        freeReplyObject(r);
        return NULL;
    }
    return r;
}
