/*
 * A giveaway on the 402 page (docs/creators.md): how many free copies are
 * left, read from free:<product>, and the mark in bitcache_catalog_zone of
 * a giveaway this host saw run out, so that a counter set back in Redis
 * gives no more copies here.
 */

#ifndef _NGX_HTTP_BITCACHE_FREE_COUNT_H_INCLUDED_
#define _NGX_HTTP_BITCACHE_FREE_COUNT_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "template.h"
#include "ngx_http_bitcache.h"
#include "ngx_http_bitcache_ctx.h"
#include "ngx_http_bitcache_page.h"


/* 1 if the giveaway of total N of product is over on this host (the mark
 * in bitcache_catalog_zone is the largest N seen run out), after marking
 * it so with set. The zone full or a hash failing: 0 when reading (Redis's
 * counter decides), logged when setting. */
ngx_flag_t ngx_http_bitcache_free_mark(ngx_http_request_t *r,
    ngx_str_t *product, uint64_t total, ngx_flag_t set);

/* 1 if r's URI names a regular file (ngx_http_bitcache_file: as the
 * static handler finds it, once a request) and has no "//"
 * (merge_slashes off): a giveaway is offered only then. NGX_ERROR: no
 * memory. */
ngx_int_t ngx_http_bitcache_free_file(ngx_http_request_t *r,
    ngx_http_bitcache_ctx_t *ctx);

/* For the 402 of a product with a giveaway (ctx->sale.free_total > 0):
 * reads free:<product> into ctx->free_given (ctx->state WAITING: the
 * reply resumes r), or takes it from the zone's mark when the giveaway
 * ran out (no Redis call). Sets ctx->free_read. NGX_ERROR: no memory. */
ngx_int_t ngx_http_bitcache_free_read(ngx_http_request_t *r,
    ngx_http_bitcache_ctx_t *ctx);

/* Copies left of sale's giveaway as the 402 of r read them; 0 when the
 * product has none, or when they were not read. */
uint64_t ngx_http_bitcache_free_left(ngx_http_request_t *r,
    ngx_http_bitcache_sale_t *sale);

/* The page's variables of the giveaway ("free", "free_left",
 * "free_total"): at most 3 added at vars[*n]. NGX_ERROR: no memory. */
ngx_int_t ngx_http_bitcache_free_vars(ngx_http_request_t *r,
    ngx_http_bitcache_sale_t *sale, bc_tvar *vars, size_t *n);

/* The 402 JSON's fields of the giveaway (",\"free_total\":...") at p;
 * room: NGX_HTTP_BITCACHE_FREE_JSON_LEN + 6 x the api URL's length. */
#define NGX_HTTP_BITCACHE_FREE_JSON_LEN  96
u_char *ngx_http_bitcache_free_json(ngx_http_request_t *r, u_char *p,
    ngx_http_bitcache_loc_conf_t *blcf, ngx_http_bitcache_sale_t *sale);

#endif /* _NGX_HTTP_BITCACHE_FREE_COUNT_H_INCLUDED_ */
