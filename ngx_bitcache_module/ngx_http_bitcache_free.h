/*
 * Limited giveaways (docs/creators.md): the first N copies of a product
 * are free. POST <api>/free claims one (BC_SCRIPT_FREE_CLAIM, exactly N
 * across every nginx host on one Redis). The 402's count and the mark of
 * a giveaway run out: ngx_http_bitcache_free_count.h.
 */

#ifndef _NGX_HTTP_BITCACHE_FREE_H_INCLUDED_
#define _NGX_HTTP_BITCACHE_FREE_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_bitcache.h"


/* POST <api>/free (the route's method not yet checked). Returns NGX_DONE,
 * or an HTTP status. */
ngx_int_t ngx_http_bitcache_free_post(ngx_http_request_t *r);

#endif /* _NGX_HTTP_BITCACHE_FREE_H_INCLUDED_ */
