/*
 * Bitcache: directives, configuration and the worker's Redis connection.
 *
 *   bitcache on;                        sell every file in this location
 *   bitcache_redis 127.0.0.1:6379 timeout=500ms;     (http level)
 *   bitcache_secret /etc/nginx/bitcache.secret;
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_bitcache.h"
#include "token_record.h"


#define NGX_HTTP_BITCACHE_DEFAULT_TIMEOUT    1000
#define NGX_HTTP_BITCACHE_DEFAULT_TOKEN_TTL  86400
#define NGX_HTTP_BITCACHE_DEFAULT_DOWNLOADS  5


static void *ngx_http_bitcache_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_bitcache_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_bitcache_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_bitcache_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_bitcache_postconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_bitcache_init_process(ngx_cycle_t *cycle);
static void ngx_http_bitcache_exit_process(ngx_cycle_t *cycle);

static char *ngx_http_bitcache_redis(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_bitcache_secret(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_bitcache_ttl(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_bitcache_count(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


static ngx_command_t  ngx_http_bitcache_commands[] = {

    { ngx_string("bitcache"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_bitcache_loc_conf_t, enable),
      NULL },

    { ngx_string("bitcache_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_bitcache_redis,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("bitcache_secret"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_bitcache_secret,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("bitcache_product"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_bitcache_loc_conf_t, product),
      NULL },

    { ngx_string("bitcache_token_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_bitcache_ttl,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_bitcache_loc_conf_t, token_ttl),
      NULL },

    { ngx_string("bitcache_max_downloads"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_bitcache_count,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_bitcache_loc_conf_t, max_downloads),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_bitcache_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_bitcache_postconfiguration,   /* postconfiguration */

    ngx_http_bitcache_create_main_conf,    /* create main configuration */
    ngx_http_bitcache_init_main_conf,      /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_bitcache_create_loc_conf,     /* create location configuration */
    ngx_http_bitcache_merge_loc_conf       /* merge location configuration */
};


ngx_module_t  ngx_http_bitcache_module = {
    NGX_MODULE_V1,
    &ngx_http_bitcache_module_ctx,         /* module context */
    ngx_http_bitcache_commands,            /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_bitcache_init_process,        /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_bitcache_exit_process,        /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static void *
ngx_http_bitcache_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_bitcache_main_conf_t  *bmcf;

    bmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_bitcache_main_conf_t));
    if (bmcf == NULL) {
        return NULL;
    }

    return bmcf;
}


static char *
ngx_http_bitcache_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_bitcache_main_conf_t  *bmcf = conf;

    if (bmcf->redis.timeout == 0) {
        bmcf->redis.timeout = NGX_HTTP_BITCACHE_DEFAULT_TIMEOUT;
    }

    if (bmcf->redis.prefix.data == NULL) {
        ngx_str_set(&bmcf->redis.prefix, BC_REDIS_DEFAULT_PREFIX);
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_bitcache_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_bitcache_loc_conf_t  *blcf;

    blcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_bitcache_loc_conf_t));
    if (blcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     blcf->product = NULL;
     *     blcf->keys = NULL;
     */

    blcf->enable = NGX_CONF_UNSET;
    blcf->token_ttl = NGX_CONF_UNSET;
    blcf->max_downloads = NGX_CONF_UNSET;

    return blcf;
}


static char *
ngx_http_bitcache_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_bitcache_loc_conf_t  *prev = parent;
    ngx_http_bitcache_loc_conf_t  *conf = child;

    ngx_http_bitcache_main_conf_t     *bmcf;
    ngx_http_compile_complex_value_t   ccv;

    static ngx_str_t  uri = ngx_string("$uri");

    ngx_conf_merge_value(conf->enable, prev->enable, 0);
    ngx_conf_merge_value(conf->token_ttl, prev->token_ttl,
                         NGX_HTTP_BITCACHE_DEFAULT_TOKEN_TTL);
    ngx_conf_merge_value(conf->max_downloads, prev->max_downloads,
                         NGX_HTTP_BITCACHE_DEFAULT_DOWNLOADS);

    if (conf->keys == NULL) {
        conf->keys = prev->keys;
    }

    if (conf->product == NULL) {
        conf->product = prev->product;
    }

    if (conf->product == NULL) {
        conf->product = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
        if (conf->product == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));
        ccv.cf = cf;
        ccv.value = &uri;
        ccv.complex_value = conf->product;

        if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    if (!conf->enable) {
        return NGX_CONF_OK;
    }

    if (conf->keys == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"bitcache on\" needs \"bitcache_secret\" "
                           "in the same or an enclosing block");
        return NGX_CONF_ERROR;
    }

    bmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_bitcache_module);

    if (!bmcf->redis.configured) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"bitcache on\" needs \"bitcache_redis\" "
                           "in the http block");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_bitcache_postconfiguration(ngx_conf_t *cf)
{
    return ngx_http_bitcache_access_init(cf);
}


static ngx_int_t
ngx_http_bitcache_init_process(ngx_cycle_t *cycle)
{
    ngx_http_bitcache_main_conf_t  *bmcf;

    bmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_bitcache_module);

    if (bmcf == NULL || !bmcf->redis.configured) {
        return NGX_OK;
    }

    return ngx_http_bitcache_redis_init_worker(cycle, &bmcf->redis);
}


static void
ngx_http_bitcache_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_bitcache_redis_exit_worker();
}


/* "unix:/path" or "host[:port]"; a host name is resolved here, once,
 * because hiredis would resolve it with a blocking getaddrinfo(). */
static char *
ngx_http_bitcache_redis_addr(ngx_conf_t *cf, ngx_http_bitcache_redis_conf_t *rcf,
    ngx_str_t *addr)
{
    u_char     *p;
    ngx_url_t   u;

    rcf->addr = *addr;

    if (addr->len > 5 && ngx_strncmp(addr->data, "unix:", 5) == 0) {
        if (addr->data[5] != '/' || addr->len - 5 >= 108) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"bitcache_redis\": \"%V\" must be "
                               "unix:/absolute/path (under 108 bytes)", addr);
            return NGX_CONF_ERROR;
        }

        rcf->host.len = addr->len - 5;
        rcf->host.data = ngx_pnalloc(cf->pool, rcf->host.len + 1);
        if (rcf->host.data == NULL) {
            return NGX_CONF_ERROR;
        }
        ngx_cpystrn(rcf->host.data, addr->data + 5, rcf->host.len + 1);
        rcf->port = 0;
        return NGX_CONF_OK;
    }

    ngx_memzero(&u, sizeof(ngx_url_t));
    u.url = *addr;
    u.default_port = 6379;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.naddrs == 0 || u.uri.len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"bitcache_redis\": invalid address \"%V\": %s",
                           addr, u.err ? u.err : "expected host:port or "
                                                 "unix:/path");
        return NGX_CONF_ERROR;
    }

    p = ngx_pnalloc(cf->pool, NGX_SOCKADDR_STRLEN + 1);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    rcf->host.data = p;
    rcf->host.len = ngx_sock_ntop(u.addrs[0].sockaddr, u.addrs[0].socklen,
                                  p, NGX_SOCKADDR_STRLEN, 0);
    p[rcf->host.len] = '\0';
    rcf->port = u.port;

    return NGX_CONF_OK;
}


static char *
ngx_http_bitcache_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_bitcache_main_conf_t  *bmcf = conf;

    ngx_str_t                       *value, s;
    ngx_uint_t                       i;
    ngx_http_bitcache_redis_conf_t  *rcf;

    rcf = &bmcf->redis;

    if (rcf->configured) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_http_bitcache_redis_addr(cf, rcf, &value[1]) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "timeout=", 8) == 0) {
            s.data = value[i].data + 8;
            s.len = value[i].len - 8;

            rcf->timeout = ngx_parse_time(&s, 0);
            if (rcf->timeout == (ngx_msec_t) NGX_ERROR || rcf->timeout == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"bitcache_redis\": invalid timeout "
                                   "\"%V\", expected a time such as 500ms "
                                   "or 2s", &s);
                return NGX_CONF_ERROR;
            }

        } else if (ngx_strncmp(value[i].data, "password=", 9) == 0) {
            rcf->password.data = value[i].data + 9;
            rcf->password.len = value[i].len - 9;

        } else if (ngx_strncmp(value[i].data, "db=", 3) == 0) {
            rcf->db = ngx_atoi(value[i].data + 3, value[i].len - 3);
            if (rcf->db == NGX_ERROR) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"bitcache_redis\": invalid \"%V\", "
                                   "db must be a number >= 0", &value[i]);
                return NGX_CONF_ERROR;
            }

        } else if (ngx_strncmp(value[i].data, "prefix=", 7) == 0) {
            rcf->prefix.data = value[i].data + 7;
            rcf->prefix.len = value[i].len - 7;
            if (rcf->prefix.len > NGX_HTTP_BITCACHE_PREFIX_MAX) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"bitcache_redis\": prefix is longer "
                                   "than %d bytes", NGX_HTTP_BITCACHE_PREFIX_MAX);
                return NGX_CONF_ERROR;
            }

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"bitcache_redis\": unknown parameter \"%V\", "
                               "expected timeout=, password=, db= or prefix=",
                               &value[i]);
            return NGX_CONF_ERROR;
        }
    }

    rcf->configured = 1;

    return NGX_CONF_OK;
}


static void
ngx_http_bitcache_keys_cleanup(void *data)
{
    bc_keys_clear(data);
}


static char *
ngx_http_bitcache_secret(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_bitcache_loc_conf_t  *blcf = conf;

    char                 err[512];
    ngx_str_t           *value, path;
    ngx_pool_cleanup_t  *cln;

    if (blcf->keys != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;
    path = value[1];

    if (ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    blcf->keys = ngx_palloc(cf->pool, sizeof(bc_keys));
    if (blcf->keys == NULL) {
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    if (!bc_secret_load(blcf->keys, (const char *) path.data, err,
                        sizeof(err)))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"bitcache_secret\": %s", err);
        return NGX_CONF_ERROR;
    }

    /* the key material lives as long as the configuration */
    cln->handler = ngx_http_bitcache_keys_cleanup;
    cln->data = blcf->keys;

    return NGX_CONF_OK;
}


static char *
ngx_http_bitcache_ttl(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    time_t     *ttl;
    ngx_str_t  *value;

    ttl = (time_t *) ((char *) conf + cmd->offset);

    if (*ttl != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    *ttl = ngx_parse_time(&value[1], 1);

    if (*ttl == (time_t) NGX_ERROR || *ttl <= 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": invalid time \"%V\", expected a positive "
                           "time such as 30m, 12h or 7d", &cmd->name,
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_bitcache_count(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_int_t  *n;
    ngx_str_t  *value;

    n = (ngx_int_t *) ((char *) conf + cmd->offset);

    if (*n != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    *n = ngx_atoi(value[1].data, value[1].len);

    if (*n == NGX_ERROR || *n > 0x7fffffff) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": invalid number \"%V\", expected a whole "
                           "number >= 0 (0 = unlimited)", &cmd->name,
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}
