#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "args.h"
#include "commands.h"
#include "redis_conn.h"
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

redisContext *
redis_open(const redis_opts *o, const char *cmd)
{
    struct timeval tv = { 5, 0 };
    redisContext *c;
    redisReply *r;
    char host[256];
    const char *colon;
    char *end;
    long port;

    if (strncmp(o->addr, "unix:", 5) == 0) {
        c = redisConnectUnixWithTimeout(o->addr + 5, tv);
    } else {
        colon = strrchr(o->addr, ':');
        port = 6379;
        if (colon != NULL) {
            port = strtol(colon + 1, &end, 10);
            if (colon[1] == '\0' || *end != '\0' || port <= 0 || port > 65535) {
                fprintf(stderr, "bitcache %s: --redis: bad port in \"%s\"\n",
                        cmd, o->addr);
                return NULL;
            }
        }
        snprintf(host, sizeof(host), "%.*s",
                 (int) (colon ? (size_t) (colon - o->addr) : strlen(o->addr)),
                 o->addr);
        /* [::1]:6379 */
        if (host[0] == '[' && host[strlen(host) - 1] == ']') {
            memmove(host, host + 1, strlen(host) - 2);
            host[strlen(host) - 2] = '\0';
        }
        c = redisConnectWithTimeout(host, (int) port, tv);
    }

    if (c == NULL || c->err) {
        fprintf(stderr, "bitcache %s: cannot connect to redis %s: %s\n", cmd,
                o->addr, c ? c->errstr : "out of memory");
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
            /* the user, never the password */
            fprintf(stderr, "bitcache %s: redis AUTH as user \"%s\" failed: %s\n",
                    cmd, o->user ? o->user : "default", r ? r->str : c->errstr);
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
                    o->db, r ? r->str : c->errstr);
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

    r = redisCommandArgv(c, argc, argv, argvlen);
    if (r == NULL) {
        fprintf(stderr, "bitcache %s: redis: %s\n", cmd, c->errstr);
        return NULL;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        fprintf(stderr, "bitcache %s: redis %s: %s\n", cmd, argv[0], r->str);
        freeReplyObject(r);
        return NULL;
    }
    return r;
}
