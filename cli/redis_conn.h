/* The CLI's Redis connection: blocking hiredis is right for a command. */
#ifndef BITCACHE_CLI_REDIS_CONN_H
#define BITCACHE_CLI_REDIS_CONN_H

#include <hiredis/hiredis.h>

typedef struct {
    const char *addr;       /* host:port or unix:/path */
    const char *sentinel;   /* host:port,... of Sentinels, or NULL */
    const char *master;     /* the name the sentinels monitor */
    const char *sentinel_user;      /* the sentinels' own AUTH, if any */
    const char *sentinel_password;
    const char *user;       /* ACL user (Redis 6+), NULL: AUTH password */
    const char *password;
    int         password_given;     /* by an option, not the environment */
    int         db;
    const char *prefix;     /* key prefix, "bitcache:" by default */
} redis_opts;

/* getopt_long entries and handling shared by the commands that talk to
 * Redis: --redis (or --redis-sentinel H:P,... --redis-master NAME), --redis-user, --redis-password, --redis-password-file,
 * --redis-db, --redis-prefix. Without either password option, the password is taken
 * from $BITCACHE_REDIS_PASSWORD if it is set. */
/* outside char range: no command's own short letter can collide */
#define REDIS_OPT_USER      0x152
#define REDIS_OPT_SENTINEL  0x153
#define REDIS_OPT_MASTER    0x154
#define REDIS_OPT_SUSER     0x155
#define REDIS_OPT_SPWFILE   0x156

#define REDIS_LONG_OPTIONS                                  \
    { "redis", required_argument, NULL, 'R' },              \
    { "redis-user", required_argument, NULL, REDIS_OPT_USER }, \
    { "redis-sentinel", required_argument, NULL, REDIS_OPT_SENTINEL }, \
    { "redis-master", required_argument, NULL, REDIS_OPT_MASTER }, \
    { "redis-sentinel-user", required_argument, NULL, REDIS_OPT_SUSER }, \
    { "redis-sentinel-password-file", required_argument, NULL, REDIS_OPT_SPWFILE }, \
    { "redis-password", required_argument, NULL, 'P' },     \
    { "redis-password-file", required_argument, NULL, 'Y' }, \
    { "redis-db", required_argument, NULL, 'D' },           \
    { "redis-prefix", required_argument, NULL, 'X' }

void redis_opts_init(redis_opts *o);

/* Takes option c if it is one of REDIS_LONG_OPTIONS: returns 1 if taken,
 * 0 if not one of them, -1 (after printing why) if its value is bad. */
int redis_opts_take(redis_opts *o, const char *cmd, int c, const char *arg);

/* Connects (5 s timeout; under Sentinel to the primary the first sentinel
 * that answers names), authenticates (AUTH user password with
 * --redis-user) and selects the db. Prints the
 * reason and returns NULL on failure. */
redisContext *redis_open(const redis_opts *o, const char *cmd);

/* Runs a command; prints Redis' error and returns NULL on failure. */
redisReply *redis_run(redisContext *c, const char *cmd, int argc,
    const char **argv, const size_t *argvlen);

#endif
