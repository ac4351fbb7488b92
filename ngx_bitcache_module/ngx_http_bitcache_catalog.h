/*
 * Creators' catalog records (prod:<product>) and the highest seq seen of
 * each product, kept in a shared memory zone that every worker sees and
 * that survives a reload: a validly MAC'd record older than one already
 * seen (written back by whoever can write to Redis) is refused, never
 * sold, and neither is a missing or forged one once a record was seen.
 */

#ifndef _NGX_HTTP_BITCACHE_CATALOG_H_INCLUDED_
#define _NGX_HTTP_BITCACHE_CATALOG_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/hiredis.h>

#include "ngx_http_bitcache.h"
#include "ngx_http_bitcache_page.h"


#define NGX_HTTP_BITCACHE_CATALOG_ZONE  "bitcache_catalog"
#define NGX_HTTP_BITCACHE_CATALOG_SIZE  (1024 * 1024)


/* bitcache_catalog_zone name:size; */
char *ngx_http_bitcache_catalog_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* The zone of bitcache_catalog_zone, or the default one when none is
 * configured (init main conf). */
char *ngx_http_bitcache_catalog_init_conf(ngx_conf_t *cf,
    ngx_http_bitcache_main_conf_t *bmcf);

/* Applies an HGETALL reply of prod:<product> to sale when its MAC verifies
 * and it is not older than the newest seen. NGX_OK: sale decided (the
 * record's, or the directives'); NGX_DECLINED: the record was rolled back
 * (logged at warn): the caller answers 503. */
ngx_int_t ngx_http_bitcache_sale_catalog(ngx_http_request_t *r,
    ngx_http_bitcache_loc_conf_t *blcf, ngx_http_bitcache_sale_t *sale,
    redisReply *reply);

#endif /* _NGX_HTTP_BITCACHE_CATALOG_H_INCLUDED_ */
