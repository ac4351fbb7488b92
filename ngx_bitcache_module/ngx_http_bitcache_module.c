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
#include "ngx_http_bitcache_creator_conf.h"
#include "ngx_http_bitcache_catalog.h"
#include "ngx_http_bitcache_metrics.h"
#include "ngx_http_bitcache_outcome.h"
#include "ngx_http_bitcache_variables.h"
#include "ngx_http_bitcache_sentinel.h"
#include "api_request.h"
#include "token_record.h"
#include "amount.h"
#include "network.h"
#include "schnorr.h"
#include "tweak_table.h"
#include "wallet.h"
#include "giveaway.h"
#include "page_default.h"
#include "wallet_default.h"
#include "open_default.h"


#define NGX_HTTP_BITCACHE_DEFAULT_TIMEOUT    1000
#define NGX_HTTP_BITCACHE_DEFAULT_TOKEN_TTL  86400
#define NGX_HTTP_BITCACHE_DEFAULT_DOWNLOADS  5
#define NGX_HTTP_BITCACHE_DEFAULT_INVOICE_TTL 3600
#define NGX_HTTP_BITCACHE_DEFAULT_CONFS      1
#define NGX_HTTP_BITCACHE_DEFAULT_API        "/bitcache"
#define NGX_HTTP_BITCACHE_DEFAULT_MAX_BALANCE 10000000
#define NGX_HTTP_BITCACHE_DEFAULT_MAX_TOPUP  1000000
#define NGX_HTTP_BITCACHE_DEFAULT_MIN_TOPUP  1000
#define NGX_HTTP_BITCACHE_DEFAULT_RESTORES   10


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
static char *ngx_http_bitcache_price(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_bitcache_network(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_bitcache_wallet(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_bitcache_page(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_bitcache_api_url(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_bitcache_check_api(ngx_conf_t *cf,
    ngx_http_bitcache_loc_conf_t *conf);
static char *ngx_http_bitcache_api(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_bitcache_watcher_key(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_bitcache_check_wallet(ngx_conf_t *cf,
    ngx_http_bitcache_loc_conf_t *conf);
static char *ngx_http_bitcache_number(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_bitcache_topup_wallet(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_bitcache_merge_wallets(ngx_conf_t *cf,
    ngx_http_bitcache_loc_conf_t *prev, ngx_http_bitcache_loc_conf_t *conf);


static ngx_conf_num_bounds_t  ngx_http_bitcache_downloads_bounds = {
    ngx_conf_check_num_bounds, 0, 0x7fffffff
};

static ngx_conf_num_bounds_t  ngx_http_bitcache_confirmations_bounds = {
    ngx_conf_check_num_bounds, 0, 100
};

/* satoshis: at most all there will ever be */
static ngx_conf_num_bounds_t  ngx_http_bitcache_sats_bounds = {
    ngx_conf_check_num_bounds, 1, 2100000000000000LL
};

static ngx_conf_num_bounds_t  ngx_http_bitcache_free_bounds = {
    ngx_conf_check_num_bounds, 0, BC_FREE_MAX
};

static ngx_conf_num_bounds_t  ngx_http_bitcache_restore_bounds = {
    ngx_conf_check_num_bounds, 1, 1000000
};


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

    { ngx_string("bitcache_metrics"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_bitcache_metrics_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("bitcache_catalog_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_bitcache_catalog_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("bitcache_secret"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
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
      ngx_http_bitcache_number,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_bitcache_loc_conf_t, max_downloads),
      &ngx_http_bitcache_downloads_bounds },

    { ngx_string("bitcache_price"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_bitcache_price,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_bitcache_loc_conf_t, price),
      NULL },

    { ngx_string("bitcache_suggested_price"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_bitcache_price,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_bitcache_loc_conf_t, suggested_price),
      NULL },

    { ngx_string("bitcache_free_first"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_bitcache_number,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_bitcache_loc_conf_t, free_first),
      &ngx_http_bitcache_free_bounds },

    { ngx_string("bitcache_free_per_address"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_bitcache_free_window,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_bitcache_loc_conf_t, free_window),
      NULL },

    { ngx_string("bitcache_cors_origins"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_bitcache_cors_origins,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("bitcache_wallet"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_bitcache_wallet,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_bitcache_loc_conf_t, wallet),
      NULL },

    { ngx_string("bitcache_network"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_bitcache_network,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_bitcache_loc_conf_t, network),
      NULL },

    { ngx_string("bitcache_invoice_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_bitcache_ttl,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_bitcache_loc_conf_t, invoice_ttl),
      NULL },

    { ngx_string("bitcache_confirmations"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_bitcache_number,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_bitcache_loc_conf_t, confirmations),
      &ngx_http_bitcache_confirmations_bounds },

    { ngx_string("bitcache_page"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_bitcache_page,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("bitcache_api"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_bitcache_api,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("bitcache_api_url"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_bitcache_api_url,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_bitcache_loc_conf_t, api_url),
      NULL },

    { ngx_string("bitcache_watcher_key"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_bitcache_watcher_key,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    /* the wallet (docs/wallet.md) */
    { ngx_string("bitcache_wallets"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_bitcache_loc_conf_t, wallets),
      NULL },

    { ngx_string("bitcache_wallet_autobuy"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_bitcache_loc_conf_t, wallet_autobuy),
      NULL },

    { ngx_string("bitcache_topup_wallet"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_bitcache_topup_wallet,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("bitcache_wallet_max_balance"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_bitcache_number,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_bitcache_loc_conf_t, wallet_max_balance),
      &ngx_http_bitcache_sats_bounds },

    { ngx_string("bitcache_wallet_max_topup"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_bitcache_number,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_bitcache_loc_conf_t, wallet_max_topup),
      &ngx_http_bitcache_sats_bounds },

    { ngx_string("bitcache_wallet_min_topup"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_bitcache_number,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_bitcache_loc_conf_t, wallet_min_topup),
      &ngx_http_bitcache_sats_bounds },

    { ngx_string("bitcache_wallet_restore_rate"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_bitcache_number,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_bitcache_loc_conf_t, wallet_restore_rate),
      &ngx_http_bitcache_restore_bounds },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_bitcache_module_ctx = {
    ngx_http_bitcache_add_variables,       /* preconfiguration */
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


static void
ngx_http_bitcache_template_cleanup(void *data)
{
    bc_template_free(data);
}


/* Compiles a page template; its memory lives as long as the configuration. */
static bc_template *
ngx_http_bitcache_compile_page(ngx_conf_t *cf, const char *text, size_t len,
    char *err, size_t errlen)
{
    bc_template         *t;
    ngx_pool_cleanup_t  *cln;

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    t = bc_template_compile(text, len, err, errlen);
    if (t == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_bitcache_template_cleanup;
    cln->data = t;

    return t;
}


static char *
ngx_http_bitcache_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_bitcache_main_conf_t  *bmcf = conf;

    char  err[256];

    bmcf->default_page = ngx_http_bitcache_compile_page(cf,
                             ngx_http_bitcache_page_default,
                             sizeof(ngx_http_bitcache_page_default) - 1,
                             err, sizeof(err));
    if (bmcf->default_page == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "bitcache: the built-in page does not compile: %s",
                           err);
        return NGX_CONF_ERROR;
    }

    bmcf->wallet_page = ngx_http_bitcache_compile_page(cf,
                            ngx_http_bitcache_wallet_default,
                            sizeof(ngx_http_bitcache_wallet_default) - 1,
                            err, sizeof(err));
    if (bmcf->wallet_page == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "bitcache: the built-in wallet page does not "
                           "compile: %s", err);
        return NGX_CONF_ERROR;
    }

    bmcf->open_page = ngx_http_bitcache_compile_page(cf,
                          ngx_http_bitcache_open_default,
                          sizeof(ngx_http_bitcache_open_default) - 1,
                          err, sizeof(err));
    if (bmcf->open_page == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "bitcache: the built-in opener page does not "
                           "compile: %s", err);
        return NGX_CONF_ERROR;
    }

    if (bmcf->redis.timeout == 0) {
        bmcf->redis.timeout = NGX_HTTP_BITCACHE_DEFAULT_TIMEOUT;
    }

    if (bmcf->redis.prefix.data == NULL) {
        ngx_str_set(&bmcf->redis.prefix, BC_REDIS_DEFAULT_PREFIX);
    }

    return ngx_http_bitcache_catalog_init_conf(cf, bmcf);
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
    blcf->network = NGX_CONF_UNSET;
    blcf->invoice_ttl = NGX_CONF_UNSET;
    blcf->confirmations = NGX_CONF_UNSET;
    blcf->wallets = NGX_CONF_UNSET;
    blcf->wallet_autobuy = NGX_CONF_UNSET;
    blcf->wallet_max_balance = NGX_CONF_UNSET;
    blcf->wallet_max_topup = NGX_CONF_UNSET;
    blcf->wallet_min_topup = NGX_CONF_UNSET;
    blcf->wallet_restore_rate = NGX_CONF_UNSET;
    blcf->free_first = NGX_CONF_UNSET;
    blcf->free_window = NGX_CONF_UNSET;
    blcf->cors_origins = NGX_CONF_UNSET_PTR;

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

    ngx_conf_merge_value(conf->network, prev->network, BC_MAINNET);
    ngx_conf_merge_value(conf->invoice_ttl, prev->invoice_ttl,
                         NGX_HTTP_BITCACHE_DEFAULT_INVOICE_TTL);
    ngx_conf_merge_value(conf->confirmations, prev->confirmations,
                         NGX_HTTP_BITCACHE_DEFAULT_CONFS);
    ngx_conf_merge_str_value(conf->api_url, prev->api_url,
                             NGX_HTTP_BITCACHE_DEFAULT_API);

    if (conf->suggested_price == NULL) {
        conf->suggested_price = prev->suggested_price;
    }
    ngx_conf_merge_value(conf->free_first, prev->free_first, 0);
    ngx_conf_merge_value(conf->free_window, prev->free_window, 0);
    ngx_conf_merge_ptr_value(conf->cors_origins, prev->cors_origins, NULL);

    if (conf->keys == NULL) {
        conf->keys = prev->keys;
    }

    if (conf->price == NULL) {
        conf->price = prev->price;
    }

    if (conf->wallet == NULL) {
        conf->wallet = prev->wallet;
        conf->wallet_file = prev->wallet_file;
        conf->wallet_line = prev->wallet_line;
    }

    if (conf->page == NULL) {
        conf->page = prev->page;
    }

    if (conf->page == NULL) {
        bmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_bitcache_module);
        conf->page = bmcf->default_page;
    }

    if (conf->watcher_key == NULL) {
        conf->watcher_key = prev->watcher_key;
        conf->watcher_key_old = prev->watcher_key_old;
    }

    if (ngx_http_bitcache_check_wallet(cf, conf) != NGX_CONF_OK
        || ngx_http_bitcache_merge_wallets(cf, prev, conf) != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
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

    if (conf->api) {
        bmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_bitcache_module);

        if (conf->keys == NULL || conf->watcher_key == NULL
            || !bmcf->redis.configured)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"bitcache_api\" needs \"bitcache_secret\", "
                               "\"bitcache_watcher_key\" and \"bitcache_redis\"");
            return NGX_CONF_ERROR;
        }

        if (ngx_http_bitcache_check_api(cf, conf) != NGX_CONF_OK) {
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
    /* before fork, so that the workers share the table */
    if (!bc_tweak_table_init()) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "bitcache: no memory for the derivation table");
        return NGX_ERROR;
    }

    if (ngx_http_bitcache_metrics_init(cf) != NGX_OK
        || ngx_http_bitcache_outcome_init(cf) != NGX_OK
        || ngx_http_bitcache_token_find_init(cf) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_bitcache_access_init(cf);
}


/*
 * A wallet written in the configuration is checked here, so that a typo,
 * a private key or a key of the wrong network stops nginx -t; one that
 * comes from a variable is checked when an invoice is made.
 */
static char *
ngx_http_bitcache_check_wallet(ngx_conf_t *cf,
    ngx_http_bitcache_loc_conf_t *conf)
{
    u_char      *text;
    bc_wallet    w;
    const char  *err;

    if (conf->wallet == NULL || conf->wallet->lengths != NULL) {
        return NGX_CONF_OK;
    }

    text = ngx_pnalloc(cf->temp_pool, conf->wallet->value.len + 1);
    if (text == NULL) {
        return NGX_CONF_ERROR;
    }
    ngx_cpystrn(text, conf->wallet->value.data, conf->wallet->value.len + 1);

    if (!bc_wallet_parse(&w, (const char *) text, (int) conf->network, &err)) {
        /* the network may come after the wallet: name the wallet's line */
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"bitcache_wallet\": \"%V\" is not usable on %s: %s "
                      "in %V:%ui", &conf->wallet->value,
                      bc_network_get((bc_network) conf->network)->name, err,
                      &conf->wallet_file, conf->wallet_line);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * The wallet's directives: defaults, the top-up limits that must make
 * sense together, and the operator's key, parsed here so that a typo, a
 * private key or a key of another network stops nginx -t.
 */
static char *
ngx_http_bitcache_merge_wallets(ngx_conf_t *cf,
    ngx_http_bitcache_loc_conf_t *prev, ngx_http_bitcache_loc_conf_t *conf)
{
    u_char      *text;
    bc_wallet    w;
    const char  *err;

    ngx_conf_merge_value(conf->wallets, prev->wallets, 0);
    ngx_conf_merge_value(conf->wallet_autobuy, prev->wallet_autobuy, 0);
    ngx_conf_merge_value(conf->wallet_max_balance, prev->wallet_max_balance,
                         NGX_HTTP_BITCACHE_DEFAULT_MAX_BALANCE);
    ngx_conf_merge_value(conf->wallet_max_topup, prev->wallet_max_topup,
                         NGX_HTTP_BITCACHE_DEFAULT_MAX_TOPUP);
    ngx_conf_merge_value(conf->wallet_min_topup, prev->wallet_min_topup,
                         NGX_HTTP_BITCACHE_DEFAULT_MIN_TOPUP);
    ngx_conf_merge_value(conf->wallet_restore_rate, prev->wallet_restore_rate,
                         NGX_HTTP_BITCACHE_DEFAULT_RESTORES);

    if (conf->topup_wallet.data == NULL) {
        conf->topup_wallet = prev->topup_wallet;
        conf->topup_file = prev->topup_file;
        conf->topup_line = prev->topup_line;
    }

    if (conf->wallet_min_topup > conf->wallet_max_topup
        || conf->wallet_max_topup > conf->wallet_max_balance)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "bitcache: the wallet limits do not fit together: "
                           "\"bitcache_wallet_min_topup\" %i <= "
                           "\"bitcache_wallet_max_topup\" %i <= "
                           "\"bitcache_wallet_max_balance\" %i is needed",
                           conf->wallet_min_topup, conf->wallet_max_topup,
                           conf->wallet_max_balance);
        return NGX_CONF_ERROR;
    }

    if (conf->topup_wallet.data != NULL) {
        text = ngx_pnalloc(cf->temp_pool, conf->topup_wallet.len + 1);
        if (text == NULL) {
            return NGX_CONF_ERROR;
        }
        ngx_cpystrn(text, conf->topup_wallet.data, conf->topup_wallet.len + 1);

        if (!bc_wallet_parse(&w, (const char *) text, (int) conf->network,
                             &err))
        {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "\"bitcache_topup_wallet\": \"%V\" is not usable "
                          "on %s: %s in %V:%ui", &conf->topup_wallet,
                          bc_network_get((bc_network) conf->network)->name,
                          err, &conf->topup_file, conf->topup_line);
            return NGX_CONF_ERROR;
        }
    }

    if (conf->api && conf->wallets && conf->topup_wallet.data == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"bitcache_wallets on\" in the \"bitcache_api\" "
                      "location needs \"bitcache_topup_wallet\" (the "
                      "operator's key that top-ups pay to) in %V:%ui",
                      &conf->api_file, conf->api_line);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_bitcache_topup_wallet(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_bitcache_loc_conf_t  *blcf = conf;

    ngx_str_t  *value;

    if (blcf->topup_wallet.data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0 || ngx_strlchr(value[1].data,
                                         value[1].data + value[1].len, '$'))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"bitcache_topup_wallet\": \"%V\": an extended "
                           "public key or descriptor is needed (no variables)",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    /* parsed once the location's network is known (merge) */
    blcf->topup_wallet = value[1];
    blcf->topup_file = cf->conf_file->file.name;
    blcf->topup_line = cf->conf_file->line;

    return NGX_CONF_OK;
}


/* A whole number (satoshis, a count) within the directive's bounds. */
static char *
ngx_http_bitcache_number(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_int_t              *n;
    ngx_str_t              *value;
    ngx_conf_num_bounds_t  *bounds;

    n = (ngx_int_t *) ((char *) conf + cmd->offset);

    if (*n != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;
    bounds = cmd->post;

    *n = ngx_atoi(value[1].data, value[1].len);

    if (*n == NGX_ERROR || *n < bounds->low || *n > bounds->high) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": invalid number \"%V\", expected a whole "
                           "number from %i to %i%s", &cmd->name, &value[1],
                           bounds->low, bounds->high,
                           cmd->offset == offsetof(ngx_http_bitcache_loc_conf_t,
                                                   max_downloads)
                           ? " (0 = unlimited)" : "");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
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
    i = 1;

    /* an address, or sentinel= master= in its place */
    if (ngx_strlchr(value[1].data, value[1].data + value[1].len, '=') == NULL
        || ngx_strncmp(value[1].data, "unix:", 5) == 0)
    {
        if (ngx_http_bitcache_redis_addr(cf, rcf, &value[1]) != NGX_CONF_OK) {
            return NGX_CONF_ERROR;
        }
        i = 2;
    }

    for ( /* void */ ; i < cf->args->nelts; i++) {

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

        } else if (ngx_strncmp(value[i].data, "sentinel=", 9) == 0) {
            if (rcf->addr.len || rcf->sentinels) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"bitcache_redis\": give an address or "
                                   "one \"sentinel=\", not both");
                return NGX_CONF_ERROR;
            }
            s.data = value[i].data + 9;
            s.len = value[i].len - 9;
            if (ngx_http_bitcache_sentinel_parse(cf, rcf, &s) != NGX_CONF_OK) {
                return NGX_CONF_ERROR;
            }

        } else if (ngx_strncmp(value[i].data, "sentinel_user=", 14) == 0) {
            rcf->sentinel_user.data = value[i].data + 14;
            rcf->sentinel_user.len = value[i].len - 14;

        } else if (ngx_strncmp(value[i].data, "sentinel_password=", 18) == 0) {
            rcf->sentinel_password.data = value[i].data + 18;
            rcf->sentinel_password.len = value[i].len - 18;

        } else if (ngx_strncmp(value[i].data, "master=", 7) == 0) {
            rcf->master.data = value[i].data + 7;
            rcf->master.len = value[i].len - 7;

        } else if (ngx_strncmp(value[i].data, "user=", 5) == 0) {
            rcf->user.data = value[i].data + 5;
            rcf->user.len = value[i].len - 5;

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
                               "expected timeout=, user=, password=, db=, "
                               "prefix=, sentinel=, master=, sentinel_user= "
                               "or sentinel_password=", &value[i]);
            return NGX_CONF_ERROR;
        }
    }

    if (rcf->sentinels == NULL && rcf->addr.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"bitcache_redis\" needs an address "
                           "(host:port or unix:/path) or \"sentinel=\"");
        return NGX_CONF_ERROR;
    }

    if ((rcf->sentinels != NULL) != (rcf->master.len != 0)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"bitcache_redis\": \"sentinel=\" and "
                           "\"master=NAME\" go together");
        return NGX_CONF_ERROR;
    }

    if ((rcf->sentinel_user.len || rcf->sentinel_password.len)
        && rcf->sentinels == NULL)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"bitcache_redis\": \"sentinel_user=\" and "
                           "\"sentinel_password=\" need \"sentinel=\"");
        return NGX_CONF_ERROR;
    }

    if (rcf->sentinel_user.len && rcf->sentinel_password.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"bitcache_redis\": \"sentinel_user=%V\" needs "
                           "sentinel_password=", &rcf->sentinel_user);
        return NGX_CONF_ERROR;
    }

    if (rcf->sentinels) {
        /* how logs name it until a sentinel answers */
        rcf->addr.len = sizeof("master \"\"") - 1 + rcf->master.len;
        rcf->addr.data = ngx_pnalloc(cf->pool, rcf->addr.len);
        if (rcf->addr.data == NULL) {
            return NGX_CONF_ERROR;
        }
        ngx_sprintf(rcf->addr.data, "master \"%V\"", &rcf->master);
    }

    /* AUTH with a user always takes its password (Redis 6 ACL) */
    if (rcf->user.len && rcf->password.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"bitcache_redis\": \"user=%V\" needs password=",
                           &rcf->user);
        return NGX_CONF_ERROR;
    }

    rcf->configured = 1;

    return NGX_CONF_OK;
}


static void
ngx_http_bitcache_keys_cleanup(void *data)
{
    bc_keys_clear(data);
}


/* Loads one secret file into keys allocated from cf's pool, wiped with
 * the configuration. */
static bc_keys *
ngx_http_bitcache_secret_load(ngx_conf_t *cf, ngx_str_t *name)
{
    char                 err[512];
    bc_keys             *keys;
    ngx_str_t            path;
    ngx_pool_cleanup_t  *cln;

    path = *name;

    if (ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK) {
        return NULL;
    }

    keys = ngx_palloc(cf->pool, sizeof(bc_keys));
    if (keys == NULL) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    if (!bc_secret_load(keys, (const char *) path.data, err, sizeof(err))) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"bitcache_secret\": %s",
                           err);
        return NULL;
    }

    /* the key material lives as long as the configuration */
    cln->handler = ngx_http_bitcache_keys_cleanup;
    cln->data = keys;

    return keys;
}


/* bitcache_secret FILE [OLD]: FILE signs and verifies, OLD (the secret
 * being rotated out) only verifies, tried when FILE's keys fail. */
static char *
ngx_http_bitcache_secret(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_bitcache_loc_conf_t  *blcf = conf;

    bc_keys    *old;
    ngx_str_t  *value;

    if (blcf->keys != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    blcf->keys = ngx_http_bitcache_secret_load(cf, &value[1]);
    if (blcf->keys == NULL) {
        return NGX_CONF_ERROR;
    }

    if (cf->args->nelts == 2) {
        return NGX_CONF_OK;
    }

    old = ngx_http_bitcache_secret_load(cf, &value[2]);
    if (old == NULL) {
        return NGX_CONF_ERROR;
    }

    if (!bc_keys_rotate(blcf->keys, old)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"bitcache_secret\": \"%V\" and \"%V\" hold the "
                           "same secret; the second is the old one while "
                           "rotating (docs/operations.md, \"Rotating the "
                           "secret\")", &value[1], &value[2]);
        return NGX_CONF_ERROR;
    }

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


/* A price in the configuration is checked now; one from a variable is
 * checked on each request (and a bad one logged, never sold). */
static char *
ngx_http_bitcache_price(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char                      *rv;
    uint64_t                   sats;
    const char                *err;
    ngx_str_t                 *value;
    ngx_http_complex_value_t  **cv;

    rv = ngx_http_set_complex_value_slot(cf, cmd, conf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    cv = (ngx_http_complex_value_t **) ((char *) conf + cmd->offset);
    value = cf->args->elts;

    /* bitcache_suggested_price 0: none (drops an inherited one) */
    if ((*cv)->lengths == NULL
        && !(cmd->offset == offsetof(ngx_http_bitcache_loc_conf_t,
                                     suggested_price)
             && value[1].len == 1 && value[1].data[0] == '0')
        && !bc_parse_amount(&sats, (const char *) value[1].data, value[1].len,
                            &err))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": \"%V\" %s", &cmd->name, &value[1], err);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_bitcache_network(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_bitcache_loc_conf_t  *blcf = conf;

    bc_network   net;
    ngx_str_t   *value;

    if (blcf->network != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (!bc_network_parse(&net, (const char *) value[1].data)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"bitcache_network\": unknown network \"%V\", "
                           "expected mainnet, testnet, signet or regtest",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    blcf->network = net;

    return NGX_CONF_OK;
}


/* The operator's own page template, read and compiled at start. */
static char *
ngx_http_bitcache_page(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_bitcache_loc_conf_t  *blcf = conf;

    char             err[256];
    ssize_t          n;
    ngx_str_t       *value, path;
    ngx_file_t       file;
    ngx_file_info_t  fi;
    u_char          *text;

    if (blcf->page != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;
    path = value[1];

    if (ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&file, sizeof(ngx_file_t));
    file.name = path;
    file.log = cf->log;

    file.fd = ngx_open_file(path.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (file.fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "\"bitcache_page\": cannot open \"%V\"", &path);
        return NGX_CONF_ERROR;
    }

    if (ngx_fd_info(file.fd, &fi) == NGX_FILE_ERROR
        || ngx_file_size(&fi) > 1024 * 1024)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"bitcache_page\": \"%V\" is not a file of at "
                           "most 1 MiB", &path);
        ngx_close_file(file.fd);
        return NGX_CONF_ERROR;
    }

    text = ngx_pnalloc(cf->temp_pool, (size_t) ngx_file_size(&fi) + 1);
    if (text == NULL) {
        ngx_close_file(file.fd);
        return NGX_CONF_ERROR;
    }

    n = ngx_read_file(&file, text, (size_t) ngx_file_size(&fi), 0);
    ngx_close_file(file.fd);

    if (n != (ssize_t) ngx_file_size(&fi)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"bitcache_page\": cannot read \"%V\"", &path);
        return NGX_CONF_ERROR;
    }

    blcf->page = ngx_http_bitcache_compile_page(cf, (const char *) text,
                                                (size_t) n, err, sizeof(err));
    if (blcf->page == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"bitcache_page\": \"%V\": %s", &path, err);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_bitcache_api(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_bitcache_loc_conf_t  *blcf = conf;

    ngx_http_core_loc_conf_t  *clcf;

    if (blcf->api) {
        return "is duplicate";
    }

    blcf->api = 1;
    blcf->api_file = cf->conf_file->file.name;
    blcf->api_line = cf->conf_file->line;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_bitcache_api_handler;

    /* checked against the merged bitcache_api_url once it is known */
    blcf->api_location = clcf->name;
    blcf->api_exact = clcf->exact_match;
    blcf->api_unchecked = clcf->named || clcf->noname
#if (NGX_PCRE)
                          || clcf->regex != NULL
#endif
                          ;

    return NGX_CONF_OK;
}


/* bitcache_api_url goes into Location headers, cookies and links: only
 * a plain path is accepted. */
static char *
ngx_http_bitcache_api_url(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_bitcache_loc_conf_t  *blcf = conf;

    char        err[128];
    ngx_str_t  *value;

    if (blcf->api_url.data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (!bc_api_url_check((const char *) value[1].data, value[1].len, err,
                          sizeof(err)))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"bitcache_api_url\": \"%V\" %s", &value[1], err);
        return NGX_CONF_ERROR;
    }

    blcf->api_url = value[1];

    return NGX_CONF_OK;
}


/* 1 if the location of bitcache_api receives <api><suffix>: = that
 * route, a prefix of it, or (for the invoices) one under it. */
static ngx_flag_t
ngx_http_bitcache_api_receives(ngx_conf_t *cf,
    ngx_http_bitcache_loc_conf_t *conf, const char *suffix, ngx_str_t *route)
{
    u_char     *p;
    size_t      n;
    ngx_str_t   loc;

    loc = conf->api_location;
    n = ngx_strlen(suffix);

    route->len = conf->api_url.len + n;
    route->data = ngx_pnalloc(cf->pool, route->len);
    if (route->data == NULL) {
        return 0;
    }
    p = ngx_cpymem(route->data, conf->api_url.data, conf->api_url.len);
    ngx_memcpy(p, suffix, n);

    if (conf->api_exact
        ? (loc.len == route->len
           && ngx_strncmp(loc.data, route->data, route->len) == 0)
        : (loc.len <= route->len
           && ngx_strncmp(loc.data, route->data, loc.len) == 0))
    {
        return 1;
    }

    return loc.len > route->len
           && ngx_strncmp(loc.data, route->data, route->len) == 0
           && loc.data[route->len] == '/';
}


/*
 * The location of bitcache_api must receive <api>/invoices (and the
 * status URLs under it) for the bitcache_api_url that applies there, and
 * with bitcache_wallets on the wallet's routes too: otherwise every page
 * would send buyers to a URL that this location never answers, or the API
 * would answer at a URL no page names.
 */
static char *
ngx_http_bitcache_check_api(ngx_conf_t *cf, ngx_http_bitcache_loc_conf_t *conf)
{
    ngx_str_t    route;
    ngx_uint_t   i;

    static const char  *routes[] = {
        "/invoices", "/wallets", "/wallet", "/wallet/buy", "/wallet/restore",
        NULL
    };

    if (conf->api_unchecked) {
        return NGX_CONF_OK;     /* regex or named: cannot tell, see docs */
    }

    for (i = 0; routes[i]; i++) {
        if (i > 0 && !conf->wallets) {
            break;
        }

        if (ngx_http_bitcache_api_receives(cf, conf, routes[i], &route)) {
            continue;
        }

        if (route.data == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"bitcache_api\" in location \"%s%V\" never receives "
                      "\"%V\", where bitcache_api_url \"%V\" sends buyers: "
                      "set \"bitcache_api_url\" to this location's path (in "
                      "it or in the server) in %V:%ui",
                      conf->api_exact ? "= " : "", &conf->api_location, &route,
                      &conf->api_url, &conf->api_file, conf->api_line);

        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_bitcache_watcher_key(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_bitcache_loc_conf_t  *blcf = conf;

    u_char      *key;
    ngx_str_t   *value;
    ngx_uint_t   i;
    const char  *err;

    if (blcf->watcher_key != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    /* KEY [OLD]: the second verifies attestations signed before the
     * watcher moved to the first (docs/operations.md) */
    key = ngx_palloc(cf->pool, 32 * (cf->args->nelts - 1));
    if (key == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 1; i < cf->args->nelts; i++) {
        if (!bc_xonly_from_hex(key + 32 * (i - 1),
                               (const char *) value[i].data, &err))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"bitcache_watcher_key\": \"%V\" is not an "
                               "x-only public key: %s (`bitcache keygen` "
                               "prints one)", &value[i], err);
            return NGX_CONF_ERROR;
        }
    }

    if (cf->args->nelts == 3) {
        if (ngx_memcmp(key, key + 32, 32) == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"bitcache_watcher_key\": the same key twice; "
                               "the second is the old one while rotating "
                               "(docs/operations.md, \"Rotating the watcher "
                               "key\")");
            return NGX_CONF_ERROR;
        }

        blcf->watcher_key_old = key + 32;
    }

    blcf->watcher_key = key;

    return NGX_CONF_OK;
}


static char *
ngx_http_bitcache_wallet(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_bitcache_loc_conf_t  *blcf = conf;

    blcf->wallet_file = cf->conf_file->file.name;
    blcf->wallet_line = cf->conf_file->line;

    return ngx_http_set_complex_value_slot(cf, cmd, conf);
}
