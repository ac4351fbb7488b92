/* bitcache watch: the token minted for a paid invoice (derived from the
 * invoice id), revoked after a reorg and given back when paid again. */
#ifndef BITCACHE_CLI_WATCH_TOKEN_H
#define BITCACHE_CLI_WATCH_TOKEN_H

#include "watcher.h"

/* keys: those the invoice's record verified under (its token id's).
 * Appends the revocation of the token minted for invoice id (hex idhex),
 * and marks the invoice token_revoked. Returns how many commands it
 * appended. */
int revoke_token(watcher *w, const bc_keys *keys, const char *idhex,
    const unsigned char id[16]);

/* Appends what gives the revoked token of invoice id back (the bytes it
 * had left) and clears token_revoked. Returns how many commands. */
int restore_token(watcher *w, const bc_keys *keys, const char *idhex,
    const unsigned char id[16]);

#endif
