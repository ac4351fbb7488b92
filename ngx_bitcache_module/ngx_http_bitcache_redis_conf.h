/*
 * bitcache_redis as configured: where the worker's Redis connection goes
 * (ngx_http_bitcache_redis.c) and which sentinels name the primary
 * (ngx_http_bitcache_sentinel.c).
 */

#ifndef _NGX_HTTP_BITCACHE_REDIS_CONF_H_INCLUDED_
#define _NGX_HTTP_BITCACHE_REDIS_CONF_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>


typedef struct {
    ngx_str_t    text;        /* as written, for logs */
    ngx_str_t    host;        /* numeric IP, NUL-terminated */
    ngx_int_t    port;
} ngx_http_bitcache_redis_addr_t;


typedef struct {
    ngx_str_t    addr;        /* as written, for logs */
    ngx_str_t    host;        /* numeric IP (resolved at config time) or unix path */
    ngx_int_t    port;        /* 0 for a unix socket */
    ngx_str_t    user;        /* ACL user (Redis 6+), empty: AUTH password */
    ngx_str_t    password;
    ngx_int_t    db;
    ngx_msec_t   timeout;     /* connect and per-command */
    ngx_str_t    prefix;      /* key prefix, "bitcache:" by default */
    ngx_array_t *sentinels;   /* of ngx_http_bitcache_redis_addr_t, or NULL;
                                 then host and port are the primary's, as
                                 the sentinels last named it */
    ngx_str_t    master;      /* the name the sentinels monitor */
    ngx_str_t    sentinel_user;      /* the sentinels' own AUTH, if any */
    ngx_str_t    sentinel_password;
    unsigned     configured:1;
} ngx_http_bitcache_redis_conf_t;


#endif /* _NGX_HTTP_BITCACHE_REDIS_CONF_H_INCLUDED_ */
