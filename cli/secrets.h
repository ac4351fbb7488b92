/* --secret FILE and --old-secret FILE: the keys a command signs and
 * verifies with, and those of the secret being rotated out, which only
 * verify (docs/operations.md, "Rotating the secret"). */
#ifndef BITCACHE_CLI_SECRETS_H
#define BITCACHE_CLI_SECRETS_H

#include "secret.h"

typedef struct {
    bc_keys  cur;       /* --secret; cur.old is &old when --old-secret */
    bc_keys  old;
    int      have_old;
} cli_secrets;

/* Loads path, and old_path unless it is NULL, into s (which must not be
 * copied afterwards: s->cur points into it). 0, or EXIT_USAGE after
 * printing what is wrong with which option. */
int secrets_load(cli_secrets *s, const char *cmd, const char *path,
    const char *old_path);

/* Wipes what secrets_load loaded. */
void secrets_clear(cli_secrets *s);

#endif
