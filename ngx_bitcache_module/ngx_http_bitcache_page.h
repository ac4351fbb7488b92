/*
 * What is sold at a location (price, wallet, title; a creator's catalog
 * record overrides the directives) and the pages that sell it.
 */

#ifndef _NGX_HTTP_BITCACHE_PAGE_H_INCLUDED_
#define _NGX_HTTP_BITCACHE_PAGE_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/hiredis.h>

#include "invoice.h"
#include "template.h"
#include "ngx_http_bitcache.h"


typedef struct {
    ngx_str_t   product;
    ngx_str_t   title;
    ngx_str_t   wallet;
    uint64_t    price;          /* satoshis: the least a buyer pays */
    uint64_t    suggested;      /* 0: none; else > price (pay what you want) */
    uint32_t    free_total;     /* giveaway: free copies, 0: none */
    uint32_t    free_window;    /* seconds: one copy per address; 0: no limit */
} ngx_http_bitcache_sale_t;


/* NGX_OK: for sale; NGX_DECLINED: no price or wallet here (a plain 402);
 * NGX_ERROR: a price from a variable that is not a price (logged). */
ngx_int_t ngx_http_bitcache_sale_init(ngx_http_request_t *r,
    ngx_http_bitcache_loc_conf_t *blcf, ngx_str_t *product,
    ngx_http_bitcache_sale_t *sale);

/* The catalog record's part: ngx_http_bitcache_catalog.h. */

/* Copies the strings that point into a Redis reply into the pool. */
ngx_int_t ngx_http_bitcache_sale_copy(ngx_http_request_t *r,
    ngx_http_bitcache_sale_t *sale);

/* What the 402 page shows of the buyer's wallet (bitcache_wallets on):
 * NULL when the request carries none that loaded. */
typedef struct {
    uint64_t    balance;        /* satoshis, from the verified state */
    ngx_str_t   frozen;         /* why, or empty */
    unsigned    owned:1;        /* bought, not expired: no charge again */
    unsigned    again:1;        /* owned but used up: buy it anew */
} ngx_http_bitcache_wallet_view_t;

/* The offer of sale under blcf's terms, issued now (the 402's, and what
 * an auto-buy buys). The strings point into sale. */
void ngx_http_bitcache_sale_offer(ngx_http_bitcache_loc_conf_t *blcf,
    ngx_http_bitcache_sale_t *sale, bc_offer *o);

/* Sends the 402 payment page (or JSON) with a signed offer, and the
 * wallet's balance and "Buy" form when wv is set; finalizes r. */
void ngx_http_bitcache_offer_page(ngx_http_request_t *r,
    ngx_http_bitcache_loc_conf_t *blcf, ngx_http_bitcache_sale_t *sale,
    const char *reason, ngx_http_bitcache_wallet_view_t *wv);

/* The offer a POST body brings back (a form's offer=, a JSON "offer"),
 * read (at most NGX_HTTP_BITCACHE_BODY_MAX bytes into body) and checked
 * with blcf's keys into o, whose strings point into buf
 * (BC_OFFER_MAX_BYTES): NGX_OK; NGX_DECLINED with *why ("no offer in the
 * request body", or bc_offer_status_str's); NGX_ERROR. */
#define NGX_HTTP_BITCACHE_BODY_MAX  8192
ngx_int_t ngx_http_bitcache_body_offer(ngx_http_request_t *r,
    ngx_http_bitcache_loc_conf_t *blcf, ngx_str_t *body, bc_offer *o,
    unsigned char *buf, const char **why);

/* Renders blcf->page with vars (a nonce is added) and sends it. */
void ngx_http_bitcache_send_page(ngx_http_request_t *r,
    ngx_http_bitcache_loc_conf_t *blcf, ngx_uint_t status, bc_tvar *vars,
    size_t nvars);

/* The same with another template (the wallet page): same nonce and CSP. */
void ngx_http_bitcache_send_template(ngx_http_request_t *r, bc_template *page,
    ngx_uint_t status, bc_tvar *vars, size_t nvars);

/* The same with another CSP: policy is a format with one %s, the nonce
 * (the sealed files' opener adds its worker and its download frame). */
void ngx_http_bitcache_send_template_csp(ngx_http_request_t *r,
    bc_template *page, ngx_uint_t status, bc_tvar *vars, size_t nvars,
    const char *policy);

/* A NUL-terminated copy of s from the request's pool (NULL: no memory). */
char *ngx_http_bitcache_cstr(ngx_http_request_t *r, ngx_str_t *s);

/* Looks a field up in an HGETALL reply; NULL if absent. */
redisReply *ngx_http_bitcache_hash_field(redisReply *reply, const char *name);

#endif /* _NGX_HTTP_BITCACHE_PAGE_H_INCLUDED_ */
