/* bitcache keygen: the watcher's BIP340 key. The secret key goes to a new
 * file (mode 0600, never over an existing one); the x-only public key,
 * printed on stdout, is what nginx's bitcache_watcher_key takes. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "commands.h"
#include "hex.h"
#include "schnorr.h"
#include "secret.h"

int
cmd_keygen(int argc, char **argv)
{
    unsigned char sk[32], xonly[32];
    char hex[65];
    const char *path;
    int fd, ok, tries;
    size_t n;

    if (argc != 2 || argv[1][0] == '-') {
        return usage_error("keygen", "usage: bitcache keygen KEYFILE (writes the watcher's "
                           "secret key, prints its public key for bitcache_watcher_key)");
    }
    path = argv[1];
    for (tries = 0; ; tries++) {
        if (tries > 8 || RAND_bytes(sk, sizeof(sk)) != 1) {
            return run_error("keygen", "no randomness from RAND_bytes");
        }
        if (bc_xonly_from_seckey(xonly, sk)) {
            break;          /* 0 < sk < n: all but about 2^-128 of the draws */
        }
    }
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        bc_wipe(sk, sizeof(sk));
        if (errno == EEXIST) {
            return run_error("keygen", "%s exists; not overwriting a key", path);
        }
        return run_error("keygen", "%s: %s", path, strerror(errno));
    }
    bc_hex_encode(hex, sk, 32);
    hex[64] = '\n';
    n = 65;
    ok = write(fd, hex, n) == (ssize_t) n && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    bc_wipe(hex, sizeof(hex));
    bc_wipe(sk, sizeof(sk));
    if (!ok) {
        unlink(path);
        return run_error("keygen", "%s: cannot write: %s", path, strerror(errno));
    }
    bc_hex_encode(hex, xonly, 32);
    printf("%s\n", hex);
    return 0;
}
