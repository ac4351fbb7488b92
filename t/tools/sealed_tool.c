/* Test tool: libbitcache's sealed files (sealed.h, sealkey.h) for
 * t/93-sealed-vectors.t and bench/sealed.sh:
 *
 *   sealed_tool seal KEYHEX NONCEHEX CHUNK HOST PRODUCT TITLE < in > out
 *   sealed_tool open KEYHEX < in > out      (the reason on stderr)
 *   sealed_tool keyid KEYHEX                the key's id, hex
 *   sealed_tool sealkey SECRETHEX           seal_key, hex
 *   sealed_tool wrap SECRETHEX PRODUCT KEYHEX NONCEHEX    the wrapped key, hex
 *   sealed_tool unwrap SECRETHEX PRODUCT IDHEX WRAPPEDHEX the key, hex
 *
 * Exits 1 when refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hex.h"
#include "sealed.h"
#include "sealkey.h"
#include "secret.h"

static int
keys_of(bc_keys *keys, const char *hex)
{
    unsigned char secret[128];
    size_t n = strlen(hex) / 2;

    return strlen(hex) % 2 == 0 && n >= 32 && n <= sizeof(secret)
           && bc_hex_decode(secret, n, hex, 2 * n) && bc_keys_derive(keys, secret, n);
}

static int
hex_arg(unsigned char *out, size_t n, const char *s)
{
    return bc_hex_decode(out, n, s, strlen(s));
}

static int
to_stdout(void *arg, const unsigned char *p, size_t n)
{
    (void) arg;
    return fwrite(p, 1, n, stdout) == n;
}

static int
stream(int sealing, const unsigned char *key, bc_sealed_header *h)
{
    static unsigned char b[1 << 20];
    bc_sealer *s = NULL;
    bc_opener *o = NULL;
    char err[300];
    ssize_t n;
    int ok;

    ok = sealing ? (s = bc_sealer_new(key, h, to_stdout, NULL, err, sizeof(err))) != NULL
                 : (o = bc_opener_new(key, to_stdout, NULL)) != NULL;
    while (ok && (n = read(0, b, sizeof(b))) > 0) {
        ok = sealing ? bc_sealer_update(s, b, (size_t) n, err, sizeof(err))
                     : bc_opener_update(o, b, (size_t) n, err, sizeof(err));
    }
    ok = ok && (sealing ? bc_sealer_finish(s, err, sizeof(err))
                        : bc_opener_finish(o, err, sizeof(err)));
    bc_sealer_free(s);
    bc_opener_free(o);
    fflush(stdout);
    if (!ok) {
        fprintf(stderr, "%s\n", err);
    }
    return ok ? 0 : 1;
}

static int
text_arg(unsigned char *dst, size_t *len, const char *s)
{
    *len = strlen(s);
    if (*len > BC_SEALED_FIELD_MAX) return 0;
    memcpy(dst, s, *len);
    return 1;
}

int
main(int argc, char **argv)
{
    static bc_sealed_header h;
    unsigned char key[32], id[16], w[BC_SEALKEY_WRAPPED_LEN], nonce[12];
    char hex[2 * BC_SEALKEY_WRAPPED_LEN + 1];
    bc_keys keys;
    const char *cmd = argc > 1 ? argv[1] : "";

    if (strcmp(cmd, "seal") == 0 && argc == 8 && hex_arg(key, 32, argv[2])
        && hex_arg(h.nonce, 8, argv[3]) && text_arg(h.host, &h.host_len, argv[5])
        && text_arg(h.product, &h.product_len, argv[6])
        && text_arg(h.title, &h.title_len, argv[7]))
    {
        h.chunk_size = (uint32_t) strtoul(argv[4], NULL, 10);
        return stream(1, key, &h);
    }
    if (strcmp(cmd, "open") == 0 && argc == 3 && hex_arg(key, 32, argv[2])) {
        return stream(0, key, NULL);
    }
    if (strcmp(cmd, "keyid") == 0 && argc == 3 && hex_arg(key, 32, argv[2])
        && bc_sealed_key_id(id, key))
    {
        bc_hex_encode(hex, id, 16);
        printf("%s\n", hex);
        return 0;
    }
    if (strcmp(cmd, "sealkey") == 0 && argc == 3 && keys_of(&keys, argv[2])) {
        bc_hex_encode(hex, keys.seal_key, 32);
        printf("%s\n", hex);
        return 0;
    }
    if (strcmp(cmd, "wrap") == 0 && argc == 6 && keys_of(&keys, argv[2])
        && hex_arg(key, 32, argv[4]) && hex_arg(nonce, 12, argv[5]) && bc_sealed_key_id(id, key)
        && bc_sealkey_wrap(w, keys.seal_key, (const unsigned char *) argv[3], strlen(argv[3]),
                           id, key, nonce))
    {
        bc_hex_encode(hex, w, sizeof(w));
        printf("%s\n", hex);
        return 0;
    }
    if (strcmp(cmd, "unwrap") == 0 && argc == 6 && keys_of(&keys, argv[2])
        && hex_arg(id, 16, argv[4]) && hex_arg(w, sizeof(w), argv[5])
        && bc_sealkey_unwrap(key, keys.seal_key, (const unsigned char *) argv[3],
                             strlen(argv[3]), id, w))
    {
        bc_hex_encode(hex, key, 32);
        printf("%s\n", hex);
        return 0;
    }
    fprintf(stderr, "sealed_tool: refused or bad arguments\n");
    return 1;
}
