/* Output descriptors (BIP380-386) of the shapes Bitcache pays to:
 *   pkh(KEY/0/STAR)  sh(wpkh(KEY/0/STAR))  wpkh(KEY/0/STAR)  tr(KEY/0/STAR)
 * (STAR is the '*' wildcard) with KEY an xpub or tpub, optionally behind a
 * key origin [fingerprint/path], any non-hardened steps before the
 * wildcard, and an optional #checksum. */
#ifndef BITCACHE_DESCRIPTOR_H
#define BITCACHE_DESCRIPTOR_H

#include <stddef.h>
#include <stdint.h>

#include "extkey.h"
#include "script.h"

#define BC_DESC_MAX_STEPS 8
#define BC_DESC_MAX_LEN 512

typedef struct {
    bc_addr_type type;
    int has_origin;
    unsigned char origin_fingerprint[4];
    uint32_t origin_path[BC_DESC_MAX_STEPS];    /* BC_HARDENED bit for h or ' */
    size_t origin_steps;
    char key[BC_EXTKEY_STR_MAX];
    uint32_t path[BC_DESC_MAX_STEPS];           /* the steps between KEY and the wildcard */
    size_t steps;
    int has_checksum;
} bc_descriptor;

/* Writes the 8-character BIP380 checksum of desc[0..len) and a NUL to out.
 * Returns 1, or 0 if desc has a character outside the descriptor set. */
int bc_descriptor_checksum(char out[9], const char *desc, size_t len);

/* Checks the "#checksum" at the end of text when there is one (BIP380).
 * Returns 1 with *body the length before the '#' (or of all the text), or
 * 0 with *err: wrong length, wrong checksum, a character outside the set. */
int bc_descriptor_check(size_t *body, const char *text, const char **err);

/* Parses text; a checksum, when present, must be right. Returns 1, or 0
 * with *err naming what is wrong and at which character. The key is
 * copied as text and not decoded here. */
int bc_descriptor_parse(bc_descriptor *d, const char *text, const char **err);

/* Writes d in canonical form (h for hardened) with its checksum. */
int bc_descriptor_format(char *out, size_t outlen, const bc_descriptor *d);

/* 1 if text looks like a descriptor rather than a bare key. */
int bc_descriptor_is(const char *text);

#endif
