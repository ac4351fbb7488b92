/*
 * Making an invoice, shared by POST <api>/invoices (an offer from a 402
 * page) and POST <api>/wallet/topups (an offer the top-up builds).
 */

#ifndef _NGX_HTTP_BITCACHE_INVOICE_CREATE_H_INCLUDED_
#define _NGX_HTTP_BITCACHE_INVOICE_CREATE_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "invoice.h"


/* POST <api>/invoices (the route's method not yet checked): reads the
 * body's offer, then creates. Returns NGX_DONE, or an HTTP status. */
ngx_int_t ngx_http_bitcache_invoice_post(ngx_http_request_t *r);

/* Creates an invoice for offer (verified, or built by the module; its
 * strings must live as long as r) and answers r as POST <api>/invoices
 * does: 201 JSON with the claim, or 303 to the invoice's page. topups,
 * when not NULL, is the key of a wallet's wtop:<wid>: the invoice is
 * listed there as pending ("0") in the MULTI that stores it. r is
 * finalized (its count held by the body reading). */
void ngx_http_bitcache_invoice_create(ngx_http_request_t *r,
    const bc_offer *offer, ngx_str_t *topups);

#endif /* _NGX_HTTP_BITCACHE_INVOICE_CREATE_H_INCLUDED_ */
