/*
 * High-water marks in a shared memory zone: the highest seq seen of a
 * record (a product's catalog record, a wallet's state), keyed by a
 * 32-byte hash, seen by every worker and kept across reloads, so that a
 * validly MAC'd record older than one already seen (written back by
 * whoever can write to Redis) is refused. The zone is bitcache_catalog_zone's;
 * its users keep their keys apart by hashing under their own tags.
 */

#ifndef _NGX_HTTP_BITCACHE_MARKS_H_INCLUDED_
#define _NGX_HTTP_BITCACHE_MARKS_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* Decides on a key's mark, under the zone's lock: *mark is the mark (0:
 * none) and may be raised; pin (32 bytes, zeros when none) is what the
 * caller keeps beside it and may change; returns what the caller gets
 * back. */
typedef ngx_int_t (*ngx_http_bitcache_marks_decide_pt)(void *data,
    uint64_t *mark, u_char *pin);


/* A zone of marks named name, size bytes (the caller checked them). */
ngx_shm_zone_t *ngx_http_bitcache_marks_add(ngx_conf_t *cf, ngx_str_t *name,
    size_t size);

/* Runs decide on key's mark under the zone's lock and stores the mark it
 * leaves (a new one only when not 0); *seen gets the mark as it was;
 * *full is set when the zone had no room for a new mark even after
 * forgetting the least recently used ones (the caller logs it). Returns
 * what decide returned. */
ngx_int_t ngx_http_bitcache_marks_update(ngx_shm_zone_t *zone,
    const u_char key[32], ngx_http_bitcache_marks_decide_pt decide,
    void *data, uint64_t *seen, ngx_flag_t *full);

#endif /* _NGX_HTTP_BITCACHE_MARKS_H_INCLUDED_ */
