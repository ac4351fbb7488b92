/*
 * Bitcache: a bitcoin paywall in front of files that nginx serves.
 * Shared declarations of the module's parts.
 */

#ifndef _NGX_HTTP_BITCACHE_H_INCLUDED_
#define _NGX_HTTP_BITCACHE_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "secret.h"
#include "template.h"
#include "ngx_http_bitcache_redis.h"


#define NGX_HTTP_PAYMENT_REQUIRED  402
#define NGX_HTTP_BITCACHE_RETRY_AFTER  "2"


typedef struct {
    ngx_http_bitcache_redis_conf_t   redis;
    bc_template                     *default_page;
    bc_template                     *wallet_page;      /* GET <api>/wallet */
    bc_template                     *open_page;        /* GET <api>/open */
    ngx_shm_zone_t                  *catalog_zone;     /* catalog marks */
} ngx_http_bitcache_main_conf_t;


typedef struct {
    ngx_flag_t                       enable;
    ngx_http_complex_value_t        *product;
    bc_keys                         *keys;
    time_t                           token_ttl;
    ngx_int_t                        max_downloads;

    /* selling: without a price and a wallet the 402 carries no offer */
    ngx_http_complex_value_t        *price;
    ngx_http_complex_value_t        *wallet;
    ngx_str_t                        wallet_file;      /* where it was set */
    ngx_uint_t                       wallet_line;
    ngx_int_t                        network;          /* bc_network */
    time_t                           invoice_ttl;
    ngx_int_t                        confirmations;
    bc_template                     *page;
    ngx_str_t                        api_url;          /* where bitcache_api is */
    u_char                          *watcher_key;      /* x-only, 32 bytes */
    u_char                          *watcher_key_old;  /* the one rotated
                                                          out, or NULL */
    ngx_flag_t                       api;              /* bitcache_api here */
    ngx_str_t                        api_location;     /* ... in this location */
    ngx_str_t                        api_file;         /* ... set there */
    ngx_uint_t                       api_line;

    /* the wallet (docs/wallet.md) */
    ngx_flag_t                       wallets;          /* bitcache_wallets */
    ngx_flag_t                       wallet_autobuy;
    ngx_str_t                        topup_wallet;     /* operator's key */
    ngx_str_t                        topup_file;       /* where it was set */
    ngx_uint_t                       topup_line;
    ngx_int_t                        wallet_max_balance;  /* sats */
    ngx_int_t                        wallet_max_topup;
    ngx_int_t                        wallet_min_topup;
    ngx_int_t                        wallet_restore_rate; /* a minute */

    /* creators (docs/creators.md) */
    ngx_http_complex_value_t        *suggested_price;  /* NULL: none */
    ngx_int_t                        free_first;       /* giveaway: N copies */
    time_t                           free_window;      /* per address; 0 */
    ngx_array_t                     *cors_origins;     /* of ngx_str_t; NULL:
                                                          off; "*": any */

    unsigned                         api_exact:1;
    unsigned                         api_unchecked:1;  /* regex, named */
} ngx_http_bitcache_loc_conf_t;


extern ngx_module_t  ngx_http_bitcache_module;


ngx_int_t ngx_http_bitcache_access_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_bitcache_api_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_bitcache_access_init(ngx_conf_t *cf);

/* The token of r: ?bitcache_token= (then hidden from the logs: the
 * request line and args overwritten with '*', *token a copy in the pool),
 * else the bitcache_token cookie. NGX_OK, NGX_DECLINED (none) or
 * NGX_ERROR. */
ngx_int_t ngx_http_bitcache_find_token(ngx_http_request_t *r,
    ngx_str_t *token);

/* The post-read handler that hides a ?bitcache_token= from the logs of
 * every request, before any other module may refuse or log it. */
ngx_int_t ngx_http_bitcache_token_find_init(ngx_conf_t *cf);

/* 1 if r's query carried a bitcache_token= (hidden since post-read) */
ngx_flag_t ngx_http_bitcache_token_in_query(ngx_http_request_t *r);

/* Sends a complete short response (HTML, or JSON for Accept:
 * application/json) with Cache-Control: no-store and finalizes r. */
void ngx_http_bitcache_reply(ngx_http_request_t *r, ngx_uint_t status,
    const char *reason, ngx_str_t *product);

/* Sends body with status and type (no-store, no referrer, nosniff,
 * Retry-After on 503) and finalizes r. */
void ngx_http_bitcache_send(ngx_http_request_t *r, ngx_uint_t status,
    const char *type, u_char *body, size_t len);

/* An API error as JSON: {"status","error","reason"} and extra members
 * (already JSON; NULL: none); finalizes r. */
void ngx_http_bitcache_send_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *error, const char *reason, ngx_str_t *extra);

ngx_int_t ngx_http_bitcache_add_header(ngx_http_request_t *r, const char *name,
    ngx_str_t *value);

/* 200 with a script embedded at build time, nosniff, the caller's
 * Cache-Control and Cross-Origin-Resource-Policy. */
ngx_int_t ngx_http_bitcache_send_script(ngx_http_request_t *r, const char *src,
    size_t len, ngx_str_t *cache, ngx_str_t *corp);
/* Set-Cookie: name=value for path, HttpOnly, SameSite=Lax, Secure on
 * TLS. The value and path must be safe already (base64url, escaped). */
ngx_int_t ngx_http_bitcache_set_cookie(ngx_http_request_t *r, const char *name,
    const char *value, ngx_str_t *path, time_t max_age);
ngx_flag_t ngx_http_bitcache_wants_json(ngx_http_request_t *r);
/* The request header name (case-insensitive; the first), or NULL. */
ngx_table_elt_t *ngx_http_bitcache_header(ngx_http_request_t *r,
    const char *name);
/* 1 if a browser sent r from another site (Origin, Sec-Fetch-Site). */
ngx_flag_t ngx_http_bitcache_cross_site(ngx_http_request_t *r);
/* The request body in one buffer of the pool (empty: len 0): NGX_OK,
 * NGX_DECLINED (larger than max, or buffered to a file), NGX_ERROR. */
ngx_int_t ngx_http_bitcache_read_body(ngx_http_request_t *r, size_t max,
    ngx_str_t *body);
u_char *ngx_http_bitcache_escape_json(u_char *dst, ngx_str_t *src);
/* & < > " ' as entities: dst needs room for 6 * src->len bytes. */
u_char *ngx_http_bitcache_escape_html(u_char *dst, ngx_str_t *src);
/* for the error log: escaped (bc_log_escape), at most
 * NGX_HTTP_BITCACHE_LOG_MAX bytes of data, then "..." */
#define NGX_HTTP_BITCACHE_LOG_MAX  1024
ngx_str_t *ngx_http_bitcache_log_str(ngx_http_request_t *r, const void *data,
    size_t len);

#endif /* _NGX_HTTP_BITCACHE_H_INCLUDED_ */
