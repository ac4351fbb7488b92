/* `bitcache open` through the host a sealed file names (docs/sealed.md,
 * "Selling a sealed file"): its key route, the invoice and wallet
 * purchases, in the CLI's blocking way. */
#ifndef BITCACHE_CLI_OPEN_HOST_H
#define BITCACHE_CLI_OPEN_HOST_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "sealed.h"
#include "sealed_url.h"
#include "token.h"

#define OPEN_TOKEN_MAX  BC_TOKEN_MAX_CHARS

typedef struct {
    const bc_sealed_header *h;
    char        api[BC_SEALED_API_MAX];                 /* the header's host */
    char        keys[BC_SEALED_KEYS_MAX];               /* its key route */
    char        id_hex[2 * BC_SEALED_ID_LEN + 1];       /* the header's key id */
    const char *file;                                   /* for the resume line */
    const char *out;
    long        timeout_ms;                             /* per request */
} open_host;

/* Sets o up for header h (bc_sealed_urls): 0 with the reason in err. */
int open_host_init(open_host *o, const bc_sealed_header *h, char *err, size_t errlen);

/* GET the key route without a token: the 402's offer (a new reference),
 * after checking its key_id against the header's. NULL with the reason. */
json_t *open_host_offer(open_host *o, char *err, size_t errlen);

/* Buys with a wallet's recovery code: token (OPEN_TOKEN_MAX + 1 bytes). */
int open_host_wallet_buy(open_host *o, json_t *offer, const char *code, char *token,
    char *err, size_t errlen);

/* A giveaway's free copy, when the offer shows copies left: 1 with the
 * token, -1 when there is none to have (then buy), 0 with an error. */
int open_host_free(open_host *o, json_t *offer, char *token, char *err, size_t errlen);

/* Creates an invoice for the offer (amount: 0 = the price), prints what
 * to pay and how to resume, and waits for it. */
int open_host_invoice(open_host *o, json_t *offer, uint64_t amount, uint64_t wait,
    char *token, char *err, size_t errlen);

/* Waits up to wait seconds for invoice id (claim) to carry its token. */
int open_host_wait(open_host *o, const char *id, const char *claim, uint64_t wait,
    char *token, char *err, size_t errlen);

/* GET the key with token; checks it against the header's key id. */
int open_host_key(open_host *o, const char *token, unsigned char key[BC_SEALED_KEY_LEN],
    char *err, size_t errlen);

#endif
