/* What the API location reads from a request, all of it outside input:
 * the route (docs/protocol.md, "The API"), the offer in a POST body, the
 * buyer's claim secret from a cookie or header; and the checks on the
 * configured bitcache_api_url that make its value safe to put into
 * headers and links. */
#ifndef BITCACHE_API_REQUEST_H
#define BITCACHE_API_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "invoice.h"

#define BC_API_URL_MAX      256
#define BC_CLAIM_LEN        32                  /* random bytes */
#define BC_CLAIM_CHARS      43                  /* base64url, no padding */
#define BC_CLAIM_COOKIE     "bitcache_claim"
#define BC_CLAIM_HEADER     "X-Bitcache-Claim"

/* 1 if s[0..len) can be bitcache_api_url: '/' then path segments of
 * unreserved characters (A-Z a-z 0-9 - . _ ~), no empty, "." or ".."
 * segment, no trailing '/', at most BC_API_URL_MAX bytes. Otherwise 0 and
 * a reason in err. */
int bc_api_url_check(const char *s, size_t len, char *err, size_t errlen);

typedef enum {
    BC_ROUTE_NONE = 0,      /* 404 */
    BC_ROUTE_CREATE,        /* <api>/invoices */
    BC_ROUTE_STATUS,        /* <api>/invoices/<32 lowercase hex> */
    BC_ROUTE_WALLETS,       /* <api>/wallets (docs/wallet.md) */
    BC_ROUTE_WALLET,        /* <api>/wallet */
    BC_ROUTE_WALLET_RESTORE,  /* <api>/wallet/restore */
    BC_ROUTE_WALLET_FORGET,   /* <api>/wallet/forget */
    BC_ROUTE_WALLET_HISTORY,  /* <api>/wallet/history */
    BC_ROUTE_WALLET_TOPUPS,   /* <api>/wallet/topups */
    BC_ROUTE_WALLET_BUY,      /* <api>/wallet/buy */
    BC_ROUTE_WALLET_SETTINGS, /* <api>/wallet/settings */
    BC_ROUTE_FREE,            /* <api>/free (docs/creators.md) */
    BC_ROUTE_PRODUCT,         /* <api>/products/<path> */
    BC_ROUTE_BUTTON,          /* <api>/button.js */
    BC_ROUTE_KEYS,            /* <api>/keys/<product> (docs/sealed.md) */
    BC_ROUTE_OPEN,            /* <api>/open: the sealed files' opener page */
    BC_ROUTE_OPEN_JS,         /* <api>/open.js: its script */
    BC_ROUTE_OPEN_SW          /* <api>/open-sw.js: its service worker */
} bc_route;

/* Matches the whole (decoded) URI path against the API's routes under
 * api (a checked bitcache_api_url); for BC_ROUTE_STATUS, id receives the
 * invoice id. */
bc_route bc_api_route(const char *uri, size_t len, const char *api, size_t apilen,
    unsigned char id[BC_INVOICE_ID_LEN]);

/* For BC_ROUTE_PRODUCT: points *path at the file's path in uri, its '/'
 * included ("/films/night.mp4" of "<api>/products/films/night.mp4").
 * Returns 1, or 0 when it is not a path nginx could serve: empty, a
 * segment "." or "..", "//", a NUL or control byte; nor one with '?'
 * (a file name with it is rare; a path that could be split into args
 * never reaches the internal redirect). */
int bc_api_product_path(const char *uri, size_t len, const char *api, size_t apilen,
    const char **path, size_t *path_len);

/* For BC_ROUTE_KEYS: the same for "<api>/keys/<product>", the product
 * being the path of the location that sells it (docs/sealed.md). */
int bc_api_keys_path(const char *uri, size_t len, const char *api, size_t apilen,
    const char **path, size_t *path_len);

/* What a buyer chose to pay (docs/creators.md): the body's amount, or
 * tip, either possibly "custom" with the number in custom. */
typedef enum {
    BC_AMOUNT_OK = 0,             /* *amount set (the price when neither field) */
    BC_AMOUNT_BAD,                /* "bad_amount": not sats, both, custom empty */
    BC_AMOUNT_BELOW_PRICE,        /* "amount_below_price" */
    BC_AMOUNT_TOO_LARGE           /* "amount_too_large" */
} bc_amount_choice;

/* price and suggested (0: none) are the offer's. *amount is the total. */
bc_amount_choice bc_body_amount(const char *body, size_t len, uint64_t price,
    uint64_t suggested, uint64_t *amount);

/* The most a buyer may pay: BC_AMOUNT_MAX_FACTOR x max(price, suggested),
 * at most 21 million BTC. */
uint64_t bc_amount_max(uint64_t price, uint64_t suggested);

const char *bc_amount_choice_str(bc_amount_choice c);

/* The offer of a POST body: a JSON object with a string member "offer"
 * (the first non-space byte is '{'), or a form whose field offer= is
 * base64url. Returns 1 and points *offer into body, or 0. */
int bc_body_offer(const char *body, size_t len, const char **offer, size_t *offer_len);

/* Any field of a POST body: a JSON object's member name (a string, or a
 * number or true/false as its text; a string with escapes is refused), or
 * a form's name= (its value as sent: base64url, digits and the recovery
 * code's characters need no decoding; a value with '%' or '+' is
 * refused). Returns 1 and points *value into body, or 0. bc_body_offer is
 * this for "offer". */
int bc_body_field(const char *body, size_t len, const char *name,
    const char **value, size_t *value_len);

/* The recovery code of a POST body (the field "code"): a JSON string as
 * bc_body_field finds it, or a form's value decoded ('+' a space, %XX a
 * byte: a code typed in groups arrives so), copied into out. Returns 1
 * and *out_len (1..outlen), or 0: no field, a '%' without two hex digits,
 * or longer than outlen. Only this field is decoded; the others stay
 * strict. The code's reader skips the spaces and dashes. */
int bc_body_code(const char *body, size_t len, char *out, size_t outlen,
    size_t *out_len);

/* A decimal number of satoshis, 1..2100000000000000, no sign, no leading
 * zero: 1 and *sats, or 0. */
int bc_body_sats(const char *s, size_t len, uint64_t *sats);

/* The credential of an Authorization header value: the scheme "Bitcache"
 * (any case), spaces, then the rest (the code, trailing spaces cut).
 * Returns 1 and points *code into value (empty for the scheme alone: a
 * wrong code, not another scheme), or 0 for another scheme. */
int bc_auth_bitcache(const char *value, size_t len, const char **code,
    size_t *code_len);

/* Finds the next cookie called name in one Cookie header value, from *pos
 * on (start with 0); returns 1 with its value and moves *pos past it, or
 * 0 when there is none left. */
int bc_cookie_next(const char *hdr, size_t len, size_t *pos, const char *name,
    const char **value, size_t *value_len);

/* SHA256 of the claim bytes: what the invoice keeps. */
int bc_claim_hash(unsigned char hash[32], const unsigned char claim[BC_CLAIM_LEN]);

/* Writes the claim as BC_CLAIM_CHARS base64url characters and a NUL. */
void bc_claim_encode(char out[BC_CLAIM_CHARS + 1], const unsigned char claim[BC_CLAIM_LEN]);

/* 1 if s[0..len) is the encoding of a claim whose hash is hash (compared
 * in constant time), else 0. */
int bc_claim_matches(const unsigned char hash[32], const char *s, size_t len);

#endif
