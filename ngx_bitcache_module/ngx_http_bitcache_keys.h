/*
 * GET <api>/keys/<product> (docs/sealed.md, "Selling a sealed file"): the
 * content key of a sealed file's product, released only for a valid token
 * of that product and counted in the token's record. The API location
 * redirects internally to the product's path, as the products route does,
 * with a key mark (ngx_http_bitcache_describe.h), so that the location
 * that sells it decides: its product, its token check, its offer for a
 * buyer without a token (402 JSON with the offer and the key's id).
 */

#ifndef _NGX_HTTP_BITCACHE_KEYS_H_INCLUDED_
#define _NGX_HTTP_BITCACHE_KEYS_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "sealkey.h"
#include "ngx_http_bitcache.h"
#include "ngx_http_bitcache_ctx.h"
#include "ngx_http_bitcache_describe.h"


struct ngx_http_bitcache_keyfetch_s {
    ngx_str_t       record;                     /* <prefix>sealkey:<product> */
    ngx_uint_t      status;                     /* 0, or 404 not_sealed, 409
                                                   key_record_invalid */
    uint64_t        fetches;
    uint32_t        uses;                       /* the token's */
    u_char          id[BC_SEALED_ID_LEN];
    u_char          key[BC_SEALED_KEY_LEN];     /* once state is ALLOWED */
    ngx_str_t       tok;                        /* <prefix>tok:<id>, for
                                                   the refund */
    unsigned        id_read:1;                  /* id is the record's */
    unsigned        evaled:1;                   /* after NOSCRIPT */
    unsigned        counted:1;                  /* the script counted it */
    unsigned        sent:1;                     /* the key went out */
};


/* The API's route <api>/keys/<product>: GET takes the token
 * (?bitcache_token=, hidden from the logs, or the cookie), marks the
 * request and redirects to the product's path; anything else is 405. */
ngx_int_t ngx_http_bitcache_keys(ngx_http_request_t *r,
    ngx_http_bitcache_loc_conf_t *blcf);

/* The access handler's first step for a key mark, ctx->product set:
 * 404 not_for_sale (NGX_DONE, answered) unless the product is the path;
 * with a token of the product, the key fetch script; without one, the
 * key record's id. NGX_OK with ctx->state set (WAITING: parked), or
 * NGX_ERROR. */
ngx_int_t ngx_http_bitcache_keys_start(ngx_http_request_t *r,
    ngx_http_bitcache_ctx_t *ctx, ngx_http_bitcache_loc_conf_t *blcf,
    ngx_http_bitcache_route_mark_t *mark);

/* Whether a refused key fetch is answered now (NGX_DONE): a product
 * without a key record (404), an invalid one (409); else NGX_OK, and the
 * 402 follows once the sale is known. */
ngx_int_t ngx_http_bitcache_keys_refused(ngx_http_request_t *r,
    ngx_http_bitcache_ctx_t *ctx);

/* Answers the key mode by ctx->state: 200 with the key, 503, or the 402
 * JSON (the sale's description, the reason and the key's id). Finalizes
 * r. */
void ngx_http_bitcache_keys_answer(ngx_http_request_t *r,
    ngx_http_bitcache_ctx_t *ctx);

/* The content handler of a released key: the access handler sets it
 * (r->content_handler) and returns NGX_OK, so that the location's other
 * access checks (auth_basic, allow/deny, auth_request under `satisfy
 * all`) still run before the key goes out, as they do before the file. */
ngx_int_t ngx_http_bitcache_keys_content(ngx_http_request_t *r);

#endif /* _NGX_HTTP_BITCACHE_KEYS_H_INCLUDED_ */
