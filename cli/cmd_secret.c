/* bitcache secret: a new HMAC secret for bitcache_secret, as hex. */
#include <stdio.h>

#include "commands.h"
#include "secret.h"

int
cmd_secret(int argc, char **argv)
{
    char hex[2 * BC_SECRET_MIN + 1];

    if (argc > 1) {
        return usage_error("secret", "takes no arguments, got \"%s\" "
                           "(usage: bitcache secret > FILE)", argv[1]);
    }
    if (!bc_secret_generate(hex, BC_SECRET_MIN)) {
        return run_error("secret", "no randomness from RAND_bytes");
    }
    printf("%s\n", hex);
    bc_wipe(hex, sizeof(hex));
    return 0;
}
