#include <stddef.h>

#include "commands.h"
#include "secrets.h"

int
secrets_load(cli_secrets *s, const char *cmd, const char *path, const char *old_path)
{
    char err[512];

    s->have_old = 0;
    if (!bc_secret_load(&s->cur, path, err, sizeof(err))) {
        return usage_error(cmd, "--secret: %s", err);
    }
    if (old_path == NULL) {
        return 0;
    }
    if (!bc_secret_load(&s->old, old_path, err, sizeof(err))) {
        bc_keys_clear(&s->cur);
        return usage_error(cmd, "--old-secret: %s", err);
    }
    s->have_old = 1;
    if (!bc_keys_rotate(&s->cur, &s->old)) {
        secrets_clear(s);
        return usage_error(cmd, "--secret and --old-secret hold the same secret");
    }
    return 0;
}

void
secrets_clear(cli_secrets *s)
{
    bc_keys_clear(&s->cur);
    if (s->have_old) {
        bc_keys_clear(&s->old);
    }
    s->have_old = 0;
}
