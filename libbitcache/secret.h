/* The HMAC secret shared by the nginx hosts and the admin CLI.
 * The file holds at least 32 random bytes as hex (`bitcache secret`). */
#ifndef BITCACHE_SECRET_H
#define BITCACHE_SECRET_H

#include <stddef.h>

#include "hmac.h"

#define BC_SECRET_MIN   32
#define BC_SECRET_MAX   128
#define BC_KEY_LEN      32

typedef struct bc_keys_s bc_keys;

struct bc_keys_s {
    unsigned char token_key[BC_KEY_LEN];    /* MACs tokens */
    unsigned char invoice_key[BC_KEY_LEN];  /* MACs offers, invoices, catalog records */
    unsigned char seal_key[BC_KEY_LEN];     /* wraps sealed files' keys in Redis */
    bc_hmac_key  *token_hmac;               /* token_key, pads precomputed */
    bc_hmac_key  *invoice_hmac;             /* invoice_key, pads precomputed */
    const bc_keys *old;                     /* verify-only keys of the secret
                                               being rotated out, or NULL: every
                                               check tries them only when these
                                               fail; nothing signs with them
                                               but the token of a paid invoice
                                               only they verify (so that it
                                               stops with them; docs/
                                               operations.md, "Rotating the
                                               secret") */
};

/* Reads and checks the secret file: a regular file, not accessible by
 * "others" and not writable by its group, holding 64..256 hex digits.
 * On failure writes a reason ("is readable by others (mode 0644)...")
 * into err and returns 0. Derives the per-purpose keys on success. */
int bc_secret_load(bc_keys *keys, const char *path, char *err, size_t errlen);

/* Derives the per-purpose keys from raw secret bytes (see docs/protocol.md);
 * old is set to NULL. Returns 0 if memory for the precomputed MAC state is short. */
int bc_keys_derive(bc_keys *keys, const unsigned char *secret, size_t len);

/* Frees what bc_keys_derive/bc_secret_load allocated and wipes the keys. */
void bc_keys_clear(bc_keys *keys);

/* keys->old = old: old's keys verify (after keys') until it is dropped.
 * Returns 0, leaving keys as they were, if old holds the same secret as
 * keys (a rotation to the same secret is a mistake in the configuration). */
int bc_keys_rotate(bc_keys *keys, const bc_keys *old);

/* Fills out with 2*len hex digits of fresh randomness (RAND_bytes) + NUL. */
int bc_secret_generate(char *out, size_t len);

/* Overwrites memory holding key material in a way the compiler keeps. */
void bc_wipe(void *p, size_t len);

#endif
