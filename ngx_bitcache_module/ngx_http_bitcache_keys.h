/*
 * GET <api>/keys/<product> (docs/sealed.md, "Buying the key"): the content
 * key of a sealed file's product, released only for a valid token of that
 * product and counted like a download. The API location redirects
 * internally to the product's path, as the products route does, so that
 * the location that sells it decides: its product, its token check, its
 * offer for a buyer without a token (402 JSON with the offer and the
 * key's id).
 */

#ifndef _NGX_HTTP_BITCACHE_KEYS_H_INCLUDED_
#define _NGX_HTTP_BITCACHE_KEYS_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_bitcache.h"


/* The API's route <api>/keys/<product>: GET (and HEAD) take the token
 * (?bitcache_token= or the cookie), mark the request and redirect to the
 * product's path. */
ngx_int_t ngx_http_bitcache_keys(ngx_http_request_t *r,
    ngx_http_bitcache_loc_conf_t *blcf);

#endif /* _NGX_HTTP_BITCACHE_KEYS_H_INCLUDED_ */
